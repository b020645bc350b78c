//! Starting a set of worker threads that each open their own kernel endpoint first (a ring, a
//! queue) — in a given network namespace if asked — and only then run: the caller learns of the
//! first endpoint that failed, and nothing is left running in that case.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;

/// Move the calling thread into the network namespace at `path`.
pub(crate) fn enter_netns(path: &PathBuf) -> std::io::Result<()> {
    use std::os::fd::AsRawFd;
    let f = std::fs::File::open(path)?;
    // SAFETY: setns on a namespace file descriptor, for the calling thread only.
    if unsafe { libc::setns(f.as_raw_fd(), libc::CLONE_NEWNET) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(())
}

/// Start `count` threads named `name-N`. Each enters `netns` (if any), runs `open(N)`, reports,
/// then runs `run(N, opened)` until `stop` is set. Returns once every thread has opened; on the
/// first failure `stop` is set, the others end, and the error is returned.
pub(crate) fn start<T, E, O, R>(
    count: usize,
    name: &str,
    netns: Option<&PathBuf>,
    stop: &Arc<AtomicBool>,
    open: O,
    run: R,
) -> Result<Vec<JoinHandle<()>>, E>
where
    T: 'static,
    E: From<std::io::Error> + Send + 'static,
    O: Fn(usize) -> Result<T, E> + Send + Sync + 'static,
    R: Fn(usize, T) + Send + Sync + 'static,
{
    let open = Arc::new(open);
    let run = Arc::new(run);
    let (ready_tx, ready_rx) = std::sync::mpsc::channel::<Result<(), E>>();
    let mut threads = Vec::new();
    for i in 0..count.max(1) {
        let (open, run, ready, netns) = (
            Arc::clone(&open),
            Arc::clone(&run),
            ready_tx.clone(),
            netns.cloned(),
        );
        let spawned = std::thread::Builder::new()
            .name(format!("{name}-{i}"))
            .spawn(move || {
                if let Some(ns) = &netns
                    && let Err(e) = enter_netns(ns)
                {
                    let _ = ready.send(Err(E::from(e)));
                    return;
                }
                match open(i) {
                    Ok(opened) => {
                        let _ = ready.send(Ok(()));
                        run(i, opened);
                    }
                    Err(e) => {
                        let _ = ready.send(Err(e));
                    }
                }
            });
        match spawned {
            Ok(t) => threads.push(t),
            Err(e) => {
                stop.store(true, Ordering::Relaxed);
                return Err(E::from(e));
            }
        }
    }
    drop(ready_tx);
    for _ in 0..threads.len() {
        match ready_rx.recv() {
            Ok(Ok(())) => {}
            Ok(Err(e)) => {
                stop.store(true, Ordering::Relaxed);
                return Err(e);
            }
            Err(_) => break,
        }
    }
    Ok(threads)
}
