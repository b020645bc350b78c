//! Conntrack through conntrack-tools: flushing the connections of a dead uplink, so clients whose
//! flows were NATed on it get a reset at once and reconnect through a working uplink, instead of
//! waiting for their own timeouts; and finding the internal host behind a NATed connection (an
//! alert seen on an uplink names the gateway's own address).

use std::net::IpAddr;
use std::process::Command;

#[derive(Debug, thiserror::Error)]
pub enum FlushError {
    #[error("cannot run `conntrack`: {0} (is the conntrack package installed?)")]
    Spawn(std::io::Error),
    #[error("`conntrack {args}` failed: {stderr}")]
    Failed { args: String, stderr: String },
}

/// Number of entries a `conntrack -D` reports deleted ("N flow entries have been deleted").
fn deleted_count(stderr: &str) -> u64 {
    stderr
        .lines()
        .find_map(|l| {
            l.split_once(" flow entries have been deleted")
                .and_then(|(n, _)| n.trim().rsplit(' ').next()?.parse().ok())
        })
        .unwrap_or(0)
}

fn delete(args: &[String]) -> Result<u64, FlushError> {
    let out = Command::new("conntrack")
        .arg("-D")
        .args(args)
        .output()
        .map_err(FlushError::Spawn)?;
    let stderr = String::from_utf8_lossy(&out.stderr);
    // conntrack exits 1 when nothing matched; that is not a failure.
    let n = deleted_count(&stderr);
    if out.status.success() || n == 0 && stderr.contains("0 flow entries") {
        return Ok(n);
    }
    Err(FlushError::Failed {
        args: args.join(" "),
        stderr: stderr.trim().to_string(),
    })
}

/// Delete every connection marked for the uplink (`mark`) or NATed to one of its addresses.
/// Returns how many entries were removed.
pub fn flush_uplink(mark: u32, nat_addresses: &[IpAddr]) -> Result<u64, FlushError> {
    let mut total = delete(&["--mark".into(), format!("{mark}/0xff")])?;
    for a in nat_addresses {
        let family = if a.is_ipv6() { "ipv6" } else { "ipv4" };
        total += delete(&[
            "-f".into(),
            family.into(),
            "--reply-dst".into(),
            a.to_string(),
        ])?;
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_deleted_count() {
        assert_eq!(
            deleted_count(
                "conntrack v1.4.7 (conntrack-tools): 12 flow entries have been deleted.\n"
            ),
            12
        );
        assert_eq!(
            deleted_count(
                "conntrack v1.4.7 (conntrack-tools): 0 flow entries have been deleted.\n"
            ),
            0
        );
        assert_eq!(deleted_count("garbage"), 0);
    }
}

/// The original source of the connection whose reply direction is `src:sport → dst:dport`
/// (`dst` being the gateway's NAT address): the internal host behind the translation. None
/// when conntrack has no such entry (it ended long ago) or cannot be run.
pub fn original_source(
    proto: &str,
    src: IpAddr,
    sport: u16,
    dst: IpAddr,
    dport: u16,
) -> Option<IpAddr> {
    let family = if src.is_ipv6() { "ipv6" } else { "ipv4" };
    let out = Command::new("conntrack")
        .args(["-L", "-f", family, "-p", proto])
        .args([
            "--reply-src",
            &src.to_string(),
            "--reply-dst",
            &dst.to_string(),
        ])
        .args([
            "--reply-port-src",
            &sport.to_string(),
            "--reply-port-dst",
            &dport.to_string(),
        ])
        .output()
        .ok()?;
    first_original_source(&String::from_utf8_lossy(&out.stdout))
}

/// The first `src=` of the first entry in `conntrack -L` output (the original direction's).
fn first_original_source(listing: &str) -> Option<IpAddr> {
    listing.lines().find_map(|l| {
        l.split_whitespace()
            .find_map(|w| w.strip_prefix("src=")?.parse().ok())
    })
}

#[cfg(test)]
mod original_source_tests {
    use super::*;

    #[test]
    fn the_original_direction_names_the_internal_host() {
        let listing = "tcp      6 118 TIME_WAIT src=10.10.0.11 dst=192.0.2.81 sport=51234 dport=443 src=192.0.2.81 dst=203.0.113.2 sport=443 dport=40328 [ASSURED] mark=1 use=1\n";
        assert_eq!(
            first_original_source(listing),
            Some("10.10.0.11".parse().unwrap())
        );
        assert_eq!(first_original_source(""), None);
        assert_eq!(first_original_source("garbage src=nope\n"), None);
    }
}
