//! SSH to the appliance in the lab (003 §20.2.b, 000 §8.1.đ, §8.4): off by default (nothing on
//! port 22, not even from the management LAN); when the model turns it on, the listed key logs
//! in from the management LAN, a password never does, another key does not, and nothing answers
//! from the staff LAN. Logins and refusals are audit events.

use std::time::Duration;

use edgeward_config::AGENCY_DEFAULT_PROFILE;
use edgeward_lab::{Lab, read_events, test_lab, wait_until};

fn ssh(lab: &Lab, role: &str, key: &std::path::Path, extra: &[&str]) -> (bool, String) {
    let mut args = vec![
        "-i",
        key.to_str().unwrap(),
        "-o",
        "StrictHostKeyChecking=no",
        "-o",
        "UserKnownHostsFile=/dev/null",
        "-o",
        "BatchMode=yes",
        "-o",
        "ConnectTimeout=4",
        "-o",
        "IdentitiesOnly=yes",
    ];
    args.extend_from_slice(extra);
    args.extend_from_slice(&["root@10.10.99.1", "echo", "edgeward-ssh-ok"]);
    let out = lab.exec(role, "ssh", &args).unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (text.contains("edgeward-ssh-ok"), text)
}

fn keygen(path: &std::path::Path) -> String {
    let ok = std::process::Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-f"])
        .arg(path)
        .status()
        .unwrap();
    assert!(ok.success());
    std::fs::read_to_string(path.with_extension("pub"))
        .unwrap()
        .trim()
        .to_string()
}

/// 003 §20.2.b: SSH off by default, then keys only and from the admin zone only.
#[test]
fn ssh_is_off_by_default_and_takes_only_the_listed_keys_from_the_management_lan() {
    let Some(lab) = test_lab("ssh", AGENCY_DEFAULT_PROFILE) else {
        return;
    };
    let admin_key = lab.dir.join("admin_key");
    let admin_pub = keygen(&admin_key);
    let other_key = lab.dir.join("other_key");
    keygen(&other_key);
    assert!(
        !lab.can_connect("admin-1", "10.10.99.1", 22, 2),
        "SSH answers although it is off"
    );

    let text = AGENCY_DEFAULT_PROFILE.replace(
        "metrics_port = 9108\n",
        &format!(
            "metrics_port = 9108\nssh = {{ enabled = true, authorized_keys = [\"{admin_pub}\"] }}\n"
        ),
    );
    lab.apply_config(&text, "ssh on");
    assert!(
        wait_until(Duration::from_secs(20), || lab.can_connect(
            "admin-1",
            "10.10.99.1",
            22,
            1
        )),
        "SSH did not come up; log {}",
        lab.log_tail(20)
    );
    let (ok, text) = ssh(&lab, "admin-1", &admin_key, &[]);
    assert!(ok, "the listed key logs in from the management LAN: {text}");
    let (ok, text) = ssh(&lab, "admin-1", &other_key, &[]);
    assert!(
        !ok && text.contains("Permission denied"),
        "another key is refused: {text}"
    );
    let (ok, text) = ssh(
        &lab,
        "admin-1",
        &other_key,
        &[
            "-o",
            "PreferredAuthentications=password,keyboard-interactive",
            "-o",
            "PubkeyAuthentication=no",
        ],
    );
    assert!(
        !ok && text.contains("Permission denied (publickey)"),
        "no password method is offered: {text}"
    );
    assert!(
        !lab.can_connect("staff-1", "10.10.0.1", 22, 2)
            && !lab.can_connect("staff-1", "10.10.99.1", 22, 2),
        "SSH answers from the staff LAN"
    );
    assert!(
        wait_until(Duration::from_secs(10), || {
            let events = read_events(&lab);
            let ssh = |o: &str| {
                events
                    .iter()
                    .any(|e| e["action"] == "auth.ssh" && e["outcome"] == o)
            };
            ssh("success") && ssh("failure")
        }),
        "SSH logins and refusals are audit events"
    );
}
