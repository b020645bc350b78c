//! A helper program the daemon supervises (dnsmasq, chronyd, sshd): shared between the
//! subsystem that starts and stops it and the task that watches it and starts it again.

use std::process::{Child, ExitStatus};
use std::sync::{Arc, Mutex};

/// The running child, replaced when it is started again.
#[derive(Clone)]
pub struct Supervised(Arc<Mutex<Child>>);

impl Supervised {
    pub fn new(child: Child) -> Supervised {
        Supervised(Arc::new(Mutex::new(child)))
    }

    /// If it has exited: how, and what it wrote on stderr (when stderr was piped).
    pub fn exited(&self) -> Option<(ExitStatus, String)> {
        let mut child = self.0.lock().ok()?;
        let status = child.try_wait().ok().flatten()?;
        let text = child
            .stderr
            .take()
            .and_then(|mut e| {
                use std::io::Read;
                let mut s = String::new();
                e.read_to_string(&mut s).ok().map(|_| s)
            })
            .unwrap_or_default();
        Some((status, text))
    }

    /// Its process id.
    pub fn id(&self) -> Option<u32> {
        self.0.lock().ok().map(|c| c.id())
    }

    /// Take its stderr to read it as it comes.
    pub fn take_stderr(&self) -> Option<std::process::ChildStderr> {
        self.0.lock().ok().and_then(|mut c| c.stderr.take())
    }

    /// Take its stdout to read it as it comes.
    pub fn take_stdout(&self) -> Option<std::process::ChildStdout> {
        self.0.lock().ok().and_then(|mut c| c.stdout.take())
    }

    /// Wait for it to exit.
    pub fn wait(&self) -> Option<ExitStatus> {
        self.0.lock().ok().and_then(|mut c| c.wait().ok())
    }

    /// Put a newly started child in its place.
    pub fn replace(&self, child: Child) {
        if let Ok(mut held) = self.0.lock() {
            *held = child;
        }
    }

    /// Kill it and reap it.
    pub fn stop(&self) {
        if let Ok(mut c) = self.0.lock() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}
