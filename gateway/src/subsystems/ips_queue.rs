//! Which forwarded packets the inline IPS judges, as kernel rules: traffic in and out of the
//! watched uplinks (and the interfaces of the zones `ids.zones` names) goes to NFQUEUE, in one
//! queue range per failure policy (fail-open ranges are bypassed by the kernel when nobody reads
//! or the queue is full; fail-closed ones are not). Flows the engine handed back carry the
//! bypass bit in their conntrack mark and are not queued again. Traffic *to* the gateway (the
//! admin UI, SSH) is never queued: only the forward hook is used.
//!
//! Two renderings of the same plan: nft's `queue` statement (`flags bypass,fanout`), used where
//! the kernel has it (the appliance's), and `iptables-nft … -j NFQUEUE --queue-balance a:b
//! --queue-bypass` where it does not (CONFIG_NFT_QUEUE off).

use std::fmt::Write as _;

/// The bit of the packet/conntrack mark that says "this flow is bypassed" (the uplink marks
/// use the low byte).
pub const BYPASS_MARK: u32 = 0x4000_0000;
/// The iptables chain holding the queue rules (jumped to from FORWARD).
const CHAIN: &str = "EDGEWARD-IPS";
/// The nft table of the `queue` rendering.
const NFT_TABLE: &str = "edgeward_ips";

/// Interfaces judged by one queue range.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueGroup {
    /// Interfaces whose forwarded traffic (in or out) goes to this range.
    pub interfaces: Vec<String>,
    /// First queue number.
    pub first: u16,
    /// Queues (one inline worker each).
    pub count: u16,
    /// The kernel lets packets pass when nobody reads or the queue is full.
    pub fail_open: bool,
}

impl QueueGroup {
    fn last(&self) -> u16 {
        self.first + self.count.max(1) - 1
    }
}

/// Everything queued.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct QueuePlan {
    /// One group per failure policy in use.
    pub groups: Vec<QueueGroup>,
    /// Skip flows whose conntrack mark has [`BYPASS_MARK`].
    pub bypass: bool,
}

/// How the plan reaches the kernel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// nft `queue` statement.
    NftQueue,
    /// iptables-nft `NFQUEUE` target.
    Iptables,
}

/// The nft script for the plan (replaces the table; an empty plan only deletes it). With
/// `queue` false only the bypass bookkeeping is rendered (the iptables backend queues).
pub fn nft_script(plan: &QueuePlan, queue: bool) -> String {
    let mut t = format!("table inet {NFT_TABLE}\ndelete table inet {NFT_TABLE}\n");
    if plan.groups.is_empty() || (!queue && !plan.bypass) {
        return t;
    }
    let _ = writeln!(t, "table inet {NFT_TABLE} {{");
    if !queue {
        bypass_save(&mut t);
        t.push_str("}\n");
        return t;
    }
    // Before the firewall's forward chain (priority 0): a dropped packet costs it nothing.
    t.push_str("  chain forward {\n    type filter hook forward priority -10; policy accept;\n");
    if plan.bypass {
        let _ = writeln!(
            t,
            "    ct mark & {BYPASS_MARK:#x} == {BYPASS_MARK:#x} accept"
        );
    }
    for g in &plan.groups {
        let set = g
            .interfaces
            .iter()
            .map(|i| format!("\"{i}\""))
            .collect::<Vec<_>>()
            .join(", ");
        let flags = if g.fail_open {
            "bypass,fanout"
        } else {
            "fanout"
        };
        for dir in ["iifname", "oifname"] {
            let _ = writeln!(
                t,
                "    {dir} {{ {set} }} queue flags {flags} to {}-{}",
                g.first,
                g.last()
            );
        }
    }
    t.push_str("  }\n");
    if plan.bypass {
        bypass_save(&mut t);
    }
    t.push_str("}\n");
    t
}

/// The chain that keeps a verdict's bypass bit in the connection's mark (other bits — the
/// uplink marks — untouched).
fn bypass_save(t: &mut String) {
    t.push_str(
        "  chain postrouting {\n    type filter hook postrouting priority 0; policy accept;\n",
    );
    let _ = writeln!(
        t,
        "    meta mark & {BYPASS_MARK:#x} == {BYPASS_MARK:#x} ct mark set ct mark | {BYPASS_MARK:#x}"
    );
    t.push_str("  }\n");
}

/// The iptables-nft commands for the plan, for one family's tool (each an argument list).
pub fn iptables_commands(plan: &QueuePlan) -> Vec<Vec<String>> {
    let mut cmds: Vec<Vec<String>> = Vec::new();
    let mut c = |args: &[&str]| cmds.push(args.iter().map(ToString::to_string).collect());
    c(&["-F", CHAIN]);
    if plan.bypass && !plan.groups.is_empty() {
        let mark = format!("{BYPASS_MARK:#x}/{BYPASS_MARK:#x}");
        c(&[
            "-A", CHAIN, "-m", "connmark", "--mark", &mark, "-j", "RETURN",
        ]);
    }
    for g in &plan.groups {
        let balance = format!("{}:{}", g.first, g.last());
        for i in &g.interfaces {
            for dir in ["-i", "-o"] {
                let mut args = vec![
                    "-A",
                    CHAIN,
                    dir,
                    i,
                    "-j",
                    "NFQUEUE",
                    "--queue-balance",
                    &balance,
                ];
                if g.fail_open {
                    args.push("--queue-bypass");
                }
                c(&args);
            }
        }
    }
    cmds
}

fn run(tool: &str, args: &[String]) -> Result<(), String> {
    let out = std::process::Command::new(tool)
        .args(args)
        .output()
        .map_err(|e| format!("{tool}: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{tool} {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

fn nft(script: &str, check_only: bool) -> Result<(), String> {
    edgeward_firewall::apply::nft_script(script, check_only).map_err(|e| e.to_string())
}

/// Whether this kernel has nft's `queue` statement (a check-only transaction with one).
pub fn detect_backend() -> Backend {
    let probe = QueuePlan {
        groups: vec![QueueGroup {
            interfaces: vec!["lo".into()],
            first: 100,
            count: 1,
            fail_open: true,
        }],
        bypass: false,
    };
    if nft(&nft_script(&probe, true), true).is_ok() {
        Backend::NftQueue
    } else {
        Backend::Iptables
    }
}

/// Put the plan in place with `backend` (an empty plan removes every queue rule of both).
pub fn apply(plan: &QueuePlan, backend: Backend) -> Result<(), String> {
    match backend {
        Backend::NftQueue => {
            clear_iptables();
            nft(&nft_script(plan, true), false)
        }
        Backend::Iptables => {
            nft(&nft_script(plan, false), false)?;
            for tool in ["iptables-nft", "ip6tables-nft"] {
                let _ = run(tool, &["-N".into(), CHAIN.into()]);
                let jump = |table: &str, from: &str, to: &str| -> Result<(), String> {
                    let base = ["-t", table];
                    let check: Vec<String> = base
                        .iter()
                        .chain(&["-C", from, "-j", to])
                        .map(ToString::to_string)
                        .collect();
                    if run(tool, &check).is_err() {
                        let insert: Vec<String> = base
                            .iter()
                            .chain(&["-I", from, "-j", to])
                            .map(ToString::to_string)
                            .collect();
                        run(tool, &insert)?;
                    }
                    Ok(())
                };
                jump("filter", "FORWARD", CHAIN)?;
                for args in iptables_commands(plan) {
                    run(tool, &args)?;
                }
            }
            Ok(())
        }
    }
}

/// Empty the iptables chains (they may hold a previous run's rules).
fn clear_iptables() {
    for tool in ["iptables-nft", "ip6tables-nft"] {
        let _ = run(tool, &["-F".into(), CHAIN.into()]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan() -> QueuePlan {
        QueuePlan {
            groups: vec![
                QueueGroup {
                    interfaces: vec!["wan1".into(), "wan2".into()],
                    first: 100,
                    count: 2,
                    fail_open: true,
                },
                QueueGroup {
                    interfaces: vec!["tslcd0".into()],
                    first: 200,
                    count: 2,
                    fail_open: false,
                },
            ],
            bypass: true,
        }
    }

    #[test]
    fn nft_rendering_queues_each_policy_to_its_range_and_skips_bypassed_flows() {
        let t = nft_script(&plan(), true);
        assert!(
            t.contains("ct mark & 0x40000000 == 0x40000000 accept"),
            "{t}"
        );
        assert!(
            t.contains(r#"iifname { "wan1", "wan2" } queue flags bypass,fanout to 100-101"#),
            "{t}"
        );
        assert!(
            t.contains(r#"oifname { "tslcd0" } queue flags fanout to 200-201"#),
            "{t}"
        );
        assert!(t.contains("ct mark set ct mark | 0x40000000"), "{t}");
        assert!(
            !t.contains("hook input"),
            "traffic to the gateway is never queued"
        );
        // The iptables backend: only the bypass bookkeeping in nft.
        let t = nft_script(&plan(), false);
        assert!(
            t.contains("ct mark set ct mark | 0x40000000") && !t.contains("queue"),
            "{t}"
        );
    }

    #[test]
    fn iptables_rendering_has_the_same_policy_per_range() {
        let cmds: Vec<String> = iptables_commands(&plan())
            .iter()
            .map(|c| c.join(" "))
            .collect();
        assert!(
            cmds.iter().any(|c| c
                == "-A EDGEWARD-IPS -i wan2 -j NFQUEUE --queue-balance 100:101 --queue-bypass"),
            "{cmds:?}"
        );
        assert!(
            cmds.iter()
                .any(|c| c == "-A EDGEWARD-IPS -o tslcd0 -j NFQUEUE --queue-balance 200:201"),
            "{cmds:?}"
        );
        assert_eq!(
            cmds[1], "-A EDGEWARD-IPS -m connmark --mark 0x40000000/0x40000000 -j RETURN",
            "the bypass check comes before any queue rule"
        );
        let empty: Vec<String> = iptables_commands(&QueuePlan::default())
            .iter()
            .map(|c| c.join(" "))
            .collect();
        assert_eq!(empty, ["-F EDGEWARD-IPS"]);
    }
}
