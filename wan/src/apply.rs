//! Thin kernel part: makes the running network layer match a [`NetPlan`], through iproute2
//! (`ip -j` to read, `ip -batch` to change) and `/proc/sys`. Idempotent: a second run changes
//! nothing. Only edgeward's own routes (protocol [`ROUTE_PROTO`]) are ever removed.

use std::collections::HashSet;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use ipnetwork::IpNetwork;
use serde::Deserialize;

use crate::plan::{MAIN_TABLE, NetPlan, ROUTE_PROTO, RULE_PRIORITIES};

#[derive(Debug, thiserror::Error)]
pub enum NetError {
    #[error("cannot run `ip`: {0} (is iproute2 installed?)")]
    Spawn(std::io::Error),
    #[error("`ip {args}` failed: {stderr}")]
    Ip { args: String, stderr: String },
    #[error("cannot set {key}: {source}")]
    Sysctl { key: String, source: std::io::Error },
    #[error("`ip` printed JSON we cannot read: {0}")]
    Json(#[from] serde_json::Error),
}

/// What an apply did and what it could not do (missing interfaces do not stop the rest).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ApplyReport {
    pub missing_interfaces: Vec<String>,
    pub addresses_added: usize,
    pub addresses_removed: usize,
    pub routes_replaced: usize,
    pub routes_removed: usize,
    pub rules_changed: usize,
}

fn ip(args: &[&str]) -> Result<Vec<u8>, NetError> {
    let out = Command::new("ip")
        .args(args)
        .output()
        .map_err(NetError::Spawn)?;
    if !out.status.success() {
        return Err(NetError::Ip {
            args: args.join(" "),
            stderr: String::from_utf8_lossy(&out.stderr).trim().to_string(),
        });
    }
    Ok(out.stdout)
}

/// Run several `ip` commands in one process (`ip -batch -`); `-force` goes on after an error and
/// the error text names the failing line.
fn ip_batch(family: Option<&str>, lines: &[String]) -> Result<(), NetError> {
    if lines.is_empty() {
        return Ok(());
    }
    let mut cmd = Command::new("ip");
    if let Some(f) = family {
        cmd.arg(f);
    }
    let mut child = cmd
        .args(["-force", "-batch", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(NetError::Spawn)?;
    if let Some(mut stdin) = child.stdin.take() {
        stdin
            .write_all(lines.join("\n").as_bytes())
            .map_err(NetError::Spawn)?;
    }
    let out = child.wait_with_output().map_err(NetError::Spawn)?;
    if !out.status.success() {
        return Err(NetError::Ip {
            args: format!("-batch ({} commands)", lines.len()),
            stderr: String::from_utf8_lossy(&out.stderr).trim().to_string(),
        });
    }
    Ok(())
}

#[derive(Deserialize)]
struct IpAddrInfo {
    #[serde(default)]
    addr_info: Vec<AddrInfo>,
}

#[derive(Deserialize)]
struct AddrInfo {
    local: String,
    prefixlen: u8,
    #[serde(default)]
    scope: String,
}

fn current_addresses(dev: &str) -> Result<Vec<IpNetwork>, NetError> {
    let raw = ip(&["-j", "addr", "show", "dev", dev])?;
    let links: Vec<IpAddrInfo> = serde_json::from_slice(&raw)?;
    Ok(links
        .into_iter()
        .flat_map(|l| l.addr_info)
        .filter(|a| a.scope == "global")
        .filter_map(|a| {
            let ip = a.local.parse().ok()?;
            IpNetwork::new(ip, a.prefixlen).ok()
        })
        .collect())
}

#[derive(Deserialize)]
struct RouteInfo {
    dst: String,
    #[serde(default)]
    metric: Option<u32>,
    #[serde(rename = "type", default)]
    kind: Option<String>,
    /// Absent for the main table; a number or a name otherwise.
    #[serde(default)]
    table: Option<serde_json::Value>,
}

impl RouteInfo {
    fn table_id(&self) -> u32 {
        match &self.table {
            None => MAIN_TABLE,
            Some(serde_json::Value::Number(n)) => n.as_u64().unwrap_or(0) as u32,
            Some(serde_json::Value::String(s)) if s == "main" => MAIN_TABLE,
            Some(serde_json::Value::String(s)) => s.parse().unwrap_or(0),
            Some(_) => 0,
        }
    }
}

#[derive(Deserialize)]
struct RuleInfo {
    priority: u32,
}

fn write_sysctl(key: &str, value: &str) -> Result<(), NetError> {
    let path = Path::new("/proc/sys").join(key.replace('.', "/"));
    std::fs::write(&path, value).map_err(|source| NetError::Sysctl {
        key: key.to_string(),
        source,
    })
}

/// Make the kernel match `plan`.
pub fn apply(plan: &NetPlan) -> Result<ApplyReport, NetError> {
    let _span = tracing::info_span!(
        "net_apply",
        links = plan.links.len(),
        routes = plan.routes.len()
    )
    .entered();
    let mut report = ApplyReport::default();
    for (k, v) in &plan.sysctls {
        // Per-interface settings of an interface that is missing are reported with it below.
        let per_missing_interface = k.starts_with("net.ipv4.conf.")
            && !Path::new("/proc/sys").join(k.replace('.', "/")).exists();
        if !per_missing_interface {
            write_sysctl(k, v)?;
        }
    }

    let mut link_cmds = Vec::new();
    for link in &plan.links {
        if !Path::new("/sys/class/net").join(&link.name).exists() {
            report.missing_interfaces.push(link.name.clone());
            continue;
        }
        if let Some(mtu) = link.mtu {
            link_cmds.push(format!("link set dev {} mtu {mtu}", link.name));
        }
        link_cmds.push(format!("link set dev {} up", link.name));
        let have: HashSet<IpNetwork> = current_addresses(&link.name)?.into_iter().collect();
        let want: HashSet<IpNetwork> = link.addresses.iter().copied().collect();
        for a in want.difference(&have) {
            // nodad: an appliance's static addresses are usable at once.
            let extra = if a.is_ipv6() { " nodad" } else { "" };
            link_cmds.push(format!("addr replace {a} dev {}{extra}", link.name));
            report.addresses_added += 1;
        }
        for a in have.difference(&want) {
            link_cmds.push(format!("addr del {a} dev {}", link.name));
            report.addresses_removed += 1;
        }
    }
    ip_batch(None, &link_cmds)?;

    for v6 in [false, true] {
        let fam = if v6 { "-6" } else { "-4" };
        let wanted: Vec<_> = plan.routes.iter().filter(|r| r.is_v6() == v6).collect();
        let lines: Vec<String> = wanted
            .iter()
            .filter(|r| {
                // A route through a missing interface cannot be installed; skip it, keep the rest.
                match &r.kind {
                    crate::plan::RouteKind::Unicast(h) => h
                        .iter()
                        .all(|h| !report.missing_interfaces.contains(&h.dev)),
                    crate::plan::RouteKind::Unreachable => true,
                }
            })
            .map(|r| format!("route replace {}", r.ip_args()))
            .collect();
        report.routes_replaced += lines.len();
        ip_batch(Some(fam), &lines)?;

        // Remove edgeward routes (in any table) that are no longer wanted.
        let proto = ROUTE_PROTO.to_string();
        let raw = ip(&[fam, "-j", "route", "show", "table", "all", "proto", &proto])?;
        let mut present: Vec<RouteInfo> = serde_json::from_slice(&raw)?;
        let raw = ip(&[
            fam,
            "-j",
            "route",
            "show",
            "table",
            "all",
            "type",
            "unreachable",
            "proto",
            &proto,
        ])?;
        present.extend(serde_json::from_slice::<Vec<RouteInfo>>(&raw)?);
        let mut stale = Vec::new();
        for r in present {
            let is_default = r.dst == "default";
            let unreachable = r.kind.as_deref() == Some("unreachable");
            let keep = wanted.iter().any(|w| {
                let dst_match = if is_default {
                    w.dst.prefix() == 0
                } else {
                    w.dst.to_string() == r.dst || w.dst.ip().to_string() == r.dst
                };
                let kind_match =
                    unreachable == matches!(w.kind, crate::plan::RouteKind::Unreachable);
                dst_match
                    && kind_match
                    && r.metric.unwrap_or(0) == w.metric
                    && r.table_id() == w.table
            });
            if !keep {
                let prefix = if unreachable { "unreachable " } else { "" };
                stale.push(format!(
                    "route del {prefix}{} table {} metric {} proto {ROUTE_PROTO}",
                    r.dst,
                    r.table_id(),
                    r.metric.unwrap_or(0)
                ));
            }
        }
        report.routes_removed += stale.len();
        ip_batch(Some(fam), &stale)?;

        // Policy rules in edgeward's priority range: exactly the planned ones.
        let raw = ip(&[fam, "-j", "rule", "show"])?;
        let present: Vec<RuleInfo> = serde_json::from_slice(&raw)?;
        let wanted_rules: Vec<_> = plan.rules.iter().filter(|r| r.v6 == v6).collect();
        let mut rule_cmds: Vec<String> = present
            .iter()
            .filter(|r| RULE_PRIORITIES.contains(&r.priority))
            .map(|r| format!("rule del priority {}", r.priority))
            .collect();
        rule_cmds.extend(
            wanted_rules
                .iter()
                .map(|r| format!("rule add {}", r.ip_args())),
        );
        // Re-adding identical rules is needed only when something differs.
        let present_set: Vec<u32> = present
            .iter()
            .filter(|r| RULE_PRIORITIES.contains(&r.priority))
            .map(|r| r.priority)
            .collect();
        let mut wanted_prios: Vec<u32> = wanted_rules.iter().map(|r| r.priority).collect();
        wanted_prios.sort_unstable();
        let mut sorted_present = present_set.clone();
        sorted_present.sort_unstable();
        if sorted_present != wanted_prios || rules_differ(fam, &wanted_rules)? {
            report.rules_changed += rule_cmds.len();
            ip_batch(Some(fam), &rule_cmds)?;
        }
    }
    tracing::debug!(?report, "network layer applied");
    Ok(report)
}

/// Whether the live rules at the planned priorities differ from the plan (compared as `ip rule`
/// prints them).
fn rules_differ(fam: &str, wanted: &[&crate::plan::RuleSpec]) -> Result<bool, NetError> {
    let raw = ip(&[fam, "rule", "show"])?;
    let text = String::from_utf8_lossy(&raw);
    for w in wanted {
        let line = text
            .lines()
            .find(|l| l.starts_with(&format!("{}:", w.priority)));
        let ok = match (line, w.fwmark) {
            (Some(l), Some((mark, mask, table))) => {
                l.contains(&format!("fwmark {mark:#x}/{mask:#x}"))
                    && l.contains(&format!("lookup {table}"))
            }
            (Some(l), None) => l.contains("lookup main") && l.contains("suppress_prefixlength 0"),
            (None, _) => false,
        };
        if !ok {
            return Ok(true);
        }
    }
    Ok(false)
}
