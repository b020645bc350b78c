//! Flushing the connections of a dead uplink from conntrack (conntrack-tools), so clients whose
//! flows were NATed on it get a reset at once and reconnect through a working uplink, instead of
//! waiting for their own timeouts.

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
