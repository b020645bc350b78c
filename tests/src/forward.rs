//! A TCP forwarder from the host into a lab namespace: `edgeward-lab up` publishes the admin UI
//! on `https://localhost:8443` this way. Each connection is opened from inside the admin
//! workstation's namespace, so the gateway sees — and its firewall treats — it exactly like the
//! admin workstation. A tool for people at the lab, not part of the appliance.

use std::io;
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::time::Duration;

use crate::netns;

/// Accept on `listen` (in the host's namespace) and relay each connection to `to`, connecting
/// from inside namespace `ns`. Runs until the process is stopped.
pub fn serve(listen: SocketAddr, ns: &str, to: SocketAddr) -> io::Result<()> {
    let listener = TcpListener::bind(listen)?;
    for client in listener.incoming().flatten() {
        let ns = ns.to_string();
        std::thread::spawn(move || {
            let upstream = netns::within(&ns, move || {
                TcpStream::connect_timeout(&to, Duration::from_secs(5))
            });
            match upstream {
                Ok(Ok(upstream)) => relay(client, upstream),
                Ok(Err(e)) => eprintln!("connecting to {to} from {ns}: {e}"),
                Err(e) => eprintln!("{e:#}"),
            }
        });
    }
    Ok(())
}

/// Copy both ways until either side closes.
fn relay(client: TcpStream, upstream: TcpStream) {
    let (Ok(mut client_r), Ok(mut upstream_w)) = (client.try_clone(), upstream.try_clone()) else {
        return;
    };
    let up = std::thread::spawn(move || {
        let _ = io::copy(&mut client_r, &mut upstream_w);
        let _ = upstream_w.shutdown(Shutdown::Write);
    });
    let (mut upstream_r, mut client_w) = (upstream, client);
    let _ = io::copy(&mut upstream_r, &mut client_w);
    let _ = client_w.shutdown(Shutdown::Write);
    let _ = up.join();
}
