//! Thin kernel part: hands a rendered ruleset to `nft` as one transaction and reports `nft`'s own
//! error text when the kernel refuses it.

use std::io::Write;
use std::process::{Command, Stdio};

use crate::nft::{FAMILY, TABLE};
use crate::render::Ruleset;

#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    #[error("cannot run `nft`: {0} (is the nftables package installed?)")]
    Spawn(std::io::Error),
    #[error("nft refused the ruleset (nothing was changed): {stderr}")]
    Refused { stderr: String },
}

/// Run `nft -j -f -` (or `nft -c -j -f -` to only check) with `json` on standard input.
fn run_nft(json: &str, check_only: bool) -> Result<(), ApplyError> {
    let mut cmd = Command::new("nft");
    if check_only {
        cmd.arg("-c");
    }
    let mut child = cmd
        .args(["-j", "-f", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(ApplyError::Spawn)?;
    if let Some(mut stdin) = child.stdin.take() {
        stdin
            .write_all(json.as_bytes())
            .map_err(ApplyError::Spawn)?;
    }
    let out = child.wait_with_output().map_err(ApplyError::Spawn)?;
    if out.status.success() {
        Ok(())
    } else {
        Err(ApplyError::Refused {
            stderr: String::from_utf8_lossy(&out.stderr).trim().to_string(),
        })
    }
}

/// Replace the edgeward table atomically with `ruleset`.
pub fn apply(ruleset: &Ruleset) -> Result<(), ApplyError> {
    let _span = tracing::info_span!("nft_apply", objects = ruleset.objects.len()).entered();
    run_nft(&ruleset.to_json(), false)
}

/// Ask the kernel whether it would accept `ruleset`, without changing anything.
pub fn check(ruleset: &Ruleset) -> Result<(), ApplyError> {
    run_nft(&ruleset.to_json(), true)
}

/// The live edgeward table as `nft` prints it (text), or `None` if it does not exist.
pub fn current_text() -> Result<Option<String>, ApplyError> {
    let family = match FAMILY {
        nftables::types::NfFamily::INet => "inet",
        _ => "inet",
    };
    let out = Command::new("nft")
        .args(["list", "table", family, TABLE])
        .output()
        .map_err(ApplyError::Spawn)?;
    if out.status.success() {
        Ok(Some(String::from_utf8_lossy(&out.stdout).into_owned()))
    } else {
        Ok(None)
    }
}
