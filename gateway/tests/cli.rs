//! The CLI's contract: exit codes that mean something, errors that name file and line.

use std::process::Command;

fn edgeward() -> Command {
    Command::new(env!("CARGO_BIN_EXE_edgeward"))
}

const PROFILE: &str = "../profiles/agency-default.toml";

#[test]
fn config_check_accepts_the_default_profile() {
    let out = edgeward()
        .args(["config", "check", PROFILE])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("valid"));
}

#[test]
fn config_check_reports_file_line_and_hint() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.toml");
    let text = std::fs::read_to_string(PROFILE)
        .unwrap()
        .replace("weight = 3", "weight = 0");
    std::fs::write(&bad, &text).unwrap();
    let out = edgeward()
        .args(["config", "check"])
        .arg(&bad)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    let line = text.lines().position(|l| l.contains("weight = 0")).unwrap() + 1;
    assert!(err.contains(&format!("bad.toml:{line}:")), "{err}");
    assert!(err.contains("hint:"), "{err}");
}

#[test]
fn run_refuses_an_invalid_config_with_exit_code_78() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("edgeward.toml");
    std::fs::write(&cfg, "[gateway]\nhost_id = \"Not Valid\"\n").unwrap();
    let out = edgeward()
        .arg("--config")
        .arg(&cfg)
        .arg("--state-dir")
        .arg(dir.path().join("state"))
        .arg("run")
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(78),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("host_id"));
}

#[test]
fn run_refuses_a_missing_config_with_exit_code_78() {
    let dir = tempfile::tempdir().unwrap();
    let out = edgeward()
        .arg("--config")
        .arg(dir.path().join("nope.toml"))
        .arg("--state-dir")
        .arg(dir.path().join("state"))
        .arg("run")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(78));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot read"));
}
