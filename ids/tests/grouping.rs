//! Grouping never loses (or invents) a match: rules compiled together — sorted into transport
//! and app-layer groups, prefiltered by one matcher per buffer — raise exactly the alerts the
//! same rules raise one by one, on random rules and random conversations.

mod common;

use std::collections::BTreeSet;
use std::net::Ipv4Addr;

use common::*;
use edgeward_traffic::{Capture, Msg};
use proptest::prelude::*;

const CLIENT: Ipv4Addr = Ipv4Addr::new(10, 10, 0, 20);
const SERVER: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 7);

/// One random rule over a small alphabet, so that contents actually occur in the traffic.
fn rule() -> impl Strategy<Value = String> {
    let proto = prop_oneof![Just("tcp"), Just("udp"), Just("http"), Just("ip")];
    let ports = prop_oneof![
        Just("any -> any any"),
        Just("any -> any 80"),
        Just("any -> any 8080"),
        Just("80 -> any any"),
        Just("any -> any [80,8080]"),
        Just("any -> any !80"),
        Just("any -> any 53"),
    ];
    // Empty: a rule without a fast pattern (checked on every packet its ports allow).
    let content = "[abAB/ .]{0,4}";
    let buffer = prop_oneof![
        Just(""),
        Just("http.uri; "),
        Just("http.method; "),
        Just("file.data; "),
        Just("http.header; ")
    ];
    let flow = prop_oneof![
        Just(""),
        Just("flow:to_server; "),
        Just("flow:to_client; "),
        Just("flow:established; ")
    ];
    let nocase = prop_oneof![Just(""), Just(" nocase;")];
    (proto, ports, buffer, content, nocase, flow).prop_map(
        |(proto, ports, buffer, content, nocase, flow)| {
            // App buffers only on http rules; a port-less proto takes any ports.
            let (proto, buffer) = if buffer.is_empty() || proto == "http" {
                (proto, buffer)
            } else {
                ("http", buffer)
            };
            let ports = if proto == "ip" { "any -> any any" } else { ports };
            let content = content.replace('"', "");
            if content.is_empty() {
                let check = if proto == "tcp" { "flags:S;" } else { "dsize:>0;" };
                let proto = if proto == "http" { "tcp" } else { proto };
                return format!("alert {proto} any {ports} (msg:\"r\"; {flow}{check} SID;)");
            }
            format!("alert {proto} any {ports} (msg:\"r\"; {flow}{buffer}content:\"{content}\";{nocase} SID;)")
        },
    )
}

fn capture(request: &str, response: &str, port: u16, datagram: &str) -> Capture {
    let mut cap = Capture::new(3);
    let req = format!("GET /{request} HTTP/1.1\r\nHost: {request}.vn\r\n\r\n");
    let resp = format!(
        "HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n{response}",
        response.len()
    );
    cap.tcp(
        (CLIENT, 40_000),
        (SERVER, port),
        &[
            Msg::Client(req.into_bytes()),
            Msg::Server(resp.into_bytes()),
        ],
    );
    cap.udp((CLIENT, 40_001), (SERVER, 53), datagram.as_bytes());
    cap
}

fn alerts(text: &str, cap: &Capture) -> BTreeSet<(u32, u16, u16)> {
    let rules = ruleset_from_text(text);
    run(&rules, cap)
        .iter()
        .map(|a| (a.sid, a.sport, a.dport))
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn rules_together_raise_what_each_raises_alone(
        rules in proptest::collection::vec(rule(), 2..10),
        request in "[abAB/.]{0,12}",
        response in "[abAB/ .]{0,40}",
        port in prop_oneof![Just(80u16), Just(8080u16), Just(8443u16)],
        datagram in "[abAB .]{1,20}",
    ) {
        let rules: Vec<String> = rules
            .iter()
            .enumerate()
            .map(|(i, r)| r.replace("SID", &format!("sid:{}", i + 1)))
            .collect();
        let cap = capture(&request, &response, port, &datagram);
        let together = alerts(&rules.join("\n"), &cap);
        let mut alone = BTreeSet::new();
        for r in &rules {
            alone.extend(alerts(r, &cap));
        }
        prop_assert_eq!(together, alone, "rules:\n{}", rules.join("\n"));
    }
}

/// The harness above is not vacuous: its kind of rules and traffic do raise alerts, in every
/// group (packet payload, HTTP request and response buffers, UDP).
#[test]
fn the_generated_shapes_raise_alerts_in_every_group() {
    let rules = [
        "alert tcp any any -> any 80 (msg:\"r\"; content:\"ab\"; sid:1;)",
        "alert http any any -> any any (msg:\"r\"; http.uri; content:\"/ab\"; sid:2;)",
        "alert http any any -> any any (msg:\"r\"; file.data; content:\"b.a\"; sid:3;)",
        "alert udp any any -> any 53 (msg:\"r\"; content:\"A b\"; nocase; sid:4;)",
        "alert tcp any any -> any 8080 (msg:\"r\"; content:\"ab\"; sid:5;)",
    ];
    let cap = capture("ab", "xb.ax", 80, "a B");
    let sids: BTreeSet<u32> = alerts(&rules.join("\n"), &cap)
        .into_iter()
        .map(|(sid, _, _)| sid)
        .collect();
    assert_eq!(sids, BTreeSet::from([1, 2, 3, 4]));
}
