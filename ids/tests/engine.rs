//! The engine end to end on generated captures: what fires and what must not, flowbits,
//! thresholds, reassembly, reload.

mod common;

use std::net::Ipv4Addr;
use std::sync::Arc;

use common::*;
use edgeward_ids::engine::{Engine, EngineConfig};
use edgeward_ids::reload::SharedRules;
use edgeward_ids::vars::Vars;
use edgeward_traffic::{Capture, Msg, trigger_capture};

const LAN: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 5);
const WEB: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 9);

#[test]
fn et_open_loads_and_the_trigger_capture_raises_exactly_the_expected_sids() {
    let dir = et_open();
    let loaded = edgeward_ids::loader::LoadedRules::load(&dir, &Vars::default()).unwrap();
    let r = &loaded.report;
    assert!(r.errors.is_empty(), "{}", r.table());
    assert!(r.loaded * 100 >= r.total * 90, "{}", r.table());
    let set = Arc::new(edgeward_ids::ruleset::RuleSet::compile(loaded));
    let alerts = run(&set, &trigger_capture(7));
    let mut got = sids(&alerts);
    // `.top` lookups: three within 30 s alert once, the fourth after 31 s again (threshold limit).
    assert_eq!(got.iter().filter(|s| **s == 2023883).count(), 2);
    got.dedup();
    let expected = [
        2011540, 2014169, 2014473, 2017096, 2017365, 2017639, 2017760, 2017814, 2019401, 2023883,
        2025531, 2028834, 2029569, 2029748, 2030666, 2031615, 2033900, 2033967, 2034098, 2034831,
        2034899, 2036289, 2038967, 2039621, 2043093, 2100498, 2403300,
    ];
    assert_eq!(got, expected);
    // The browser fetching the same JAR has no Java-client flowbit: 2017760 fires once, for the
    // Java client's flow only.
    let java: Vec<_> = alerts.iter().filter(|a| a.sid == 2017760).collect();
    assert_eq!(java.len(), 1);
    assert_eq!(
        java[0].dst,
        "10.10.0.153".parse::<std::net::IpAddr>().unwrap()
    );
}

#[test]
fn http_split_and_reordered_across_segments_is_reassembled() {
    let rules = ruleset_from_text(
        r#"alert http any any -> any any (msg:"uri"; flow:established,to_server; http.uri; content:"/very/long/path"; http.user_agent; content:"Tester"; sid:1;)
alert http any any -> any any (msg:"body"; flow:established,to_client; file.data; content:"needle"; sid:2;)"#,
    );
    let mut cap = Capture::new(1);
    let mut body = vec![b'x'; 5000];
    body.extend_from_slice(b"needle");
    let mut resp =
        format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n", body.len()).into_bytes();
    resp.extend(body);
    cap.tcp(
        (LAN, 40000),
        (WEB, 80),
        &[
            Msg::Client(
                b"GET /very/long/path HTTP/1.1\r\nHost: a\r\nUser-Agent: Tester\r\n\r\n".to_vec(),
            ),
            Msg::Server(resp),
        ],
    );
    // Swap two data segments of the response (out-of-order delivery).
    let data_idx: Vec<usize> = (0..cap.frames.len())
        .filter(|&i| cap.frames[i].1.len() > 1000)
        .collect();
    assert!(data_idx.len() >= 3);
    cap.frames.swap(data_idx[0], data_idx[1]);
    assert_eq!(sids(&run(&rules, &cap)), vec![1, 2]);
}

#[test]
fn flow_direction_established_and_negation_are_respected() {
    let rules = ruleset_from_text(
        r#"alert tcp any any -> any 80 (msg:"to server only"; flow:established,to_server; content:"ping"; sid:10;)
alert tcp any any -> any any (msg:"to client only"; flow:to_client; content:"ping"; sid:11;)
alert tcp any any -> any any (msg:"not established"; flow:not_established; content:"ping"; sid:12;)
alert tcp any any -> any any (msg:"negated"; content:"ping"; content:!"pong"; sid:13;)
alert tcp any any -> any any (msg:"dsize"; dsize:4; content:"ping"; sid:14;)"#,
    );
    let mut cap = Capture::new(2);
    cap.tcp(
        (LAN, 40001),
        (WEB, 80),
        &[Msg::Client(b"ping".to_vec()), Msg::Server(b"pong".to_vec())],
    );
    assert_eq!(sids(&run(&rules, &cap)), vec![10, 13, 14]);
}

#[test]
fn reload_swaps_atomically_and_a_broken_ruleset_keeps_the_old_one() {
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("local.rules");
    std::fs::write(
        &rules,
        "alert tls any any -> any any (msg:\"a\"; tls.sni; content:\"one.example\"; sid:1;)\n",
    )
    .unwrap();
    let shared = Arc::new(SharedRules::new(
        SharedRules::compile(&rules, &Vars::default()).unwrap(),
    ));
    let mut engine = Engine::new(shared.current(), EngineConfig::default());
    let cert = edgeward_traffic::certificate("x", None);
    let mut cap = Capture::new(3);
    cap.tls((LAN, 40002), (WEB, 443), "one.example", &cert, 100);
    cap.tls((LAN, 40003), (WEB, 443), "two.example", &cert, 100);
    let replay = |engine: &mut Engine| {
        let mut alerts = Vec::new();
        for (t, f) in &cap.frames {
            engine.process(*t, f, edgeward_ids::decode::Link::Ethernet, &mut alerts);
        }
        engine.finish(0.0, &mut alerts);
        sids(&alerts)
    };
    assert_eq!(replay(&mut engine), vec![1]);
    // A malformed rule: refused, with the place named; the running ruleset stays.
    std::fs::write(
        &rules,
        "alert tls any any -> any any (msg:\"b\"; tls.sni; content:\"|zz|\"; sid:2;)\n",
    )
    .unwrap();
    let err = shared
        .reload(rules.clone(), Vars::default())
        .finish()
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("local.rules:1") && err.contains("content"),
        "{err}"
    );
    assert!(!engine.refresh(&shared));
    assert_eq!(replay(&mut engine), vec![1]);
    // A good one: compiled in the background, picked up between batches.
    std::fs::write(
        &rules,
        "alert tls any any -> any any (msg:\"c\"; tls.sni; content:\"two.example\"; sid:3;)\n",
    )
    .unwrap();
    let report = shared
        .reload(rules.clone(), Vars::default())
        .finish()
        .unwrap();
    let builtin = edgeward_ids::builtin::RULES
        .lines()
        .filter(|l| !l.trim().is_empty())
        .count();
    assert_eq!(report.loaded, 1 + builtin, "the rule and the built-in ones");
    assert!(engine.refresh(&shared));
    assert_eq!(replay(&mut engine), vec![3]);
}

#[test]
fn inline_mode_drops_the_matching_packet_and_the_rest_of_its_flow() {
    let rules = ruleset_from_text(
        r#"drop tcp any any -> any any (msg:"block"; flow:established,to_server; content:"EVIL"; sid:20;)"#,
    );
    let mut engine = Engine::new(
        rules,
        EngineConfig {
            inline: true,
            ..EngineConfig::default()
        },
    );
    let mut cap = Capture::new(4);
    cap.tcp(
        (LAN, 40004),
        (WEB, 8080),
        &[
            Msg::Client(b"hello".to_vec()),
            Msg::Client(b"EVIL".to_vec()),
            Msg::Server(b"ok".to_vec()),
        ],
    );
    let mut alerts = Vec::new();
    let verdicts: Vec<_> = cap
        .frames
        .iter()
        .map(|(t, f)| engine.process(*t, f, edgeward_ids::decode::Link::Ethernet, &mut alerts))
        .collect();
    let first_drop = verdicts
        .iter()
        .position(|v| *v == edgeward_ids::engine::Verdict::Drop)
        .unwrap();
    assert!(
        verdicts[first_drop..]
            .iter()
            .all(|v| *v == edgeward_ids::engine::Verdict::Drop)
    );
    assert!(
        verdicts[..first_drop]
            .iter()
            .all(|v| *v == edgeward_ids::engine::Verdict::Accept)
    );
    assert_eq!(alerts.len(), 1);
    assert!(alerts[0].blocked);
}

#[test]
fn a_capture_cut_short_is_inspected_up_to_the_cut_and_says_so() {
    let rules = ruleset_from_text(
        r#"alert dns any any -> any any (msg:"su"; dns.query; content:".su"; dotprefix; endswith; sid:30;)"#,
    );
    let mut cap = Capture::new(5);
    cap.dns(LAN, WEB, "a.evil.su");
    cap.dns(LAN, WEB, "b.evil.su");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cut.pcap");
    cap.write(&path).unwrap();
    let bytes = std::fs::read(&path).unwrap();
    std::fs::write(&path, &bytes[..bytes.len() - 10]).unwrap();
    let mut engine = Engine::new(rules, EngineConfig::default());
    let mut alerts = 0;
    let stats = edgeward_ids::offline::run_file(&mut engine, &path, |_| alerts += 1).unwrap();
    assert_eq!(stats.packets, 3);
    assert_eq!(alerts, 2);
    assert!(
        stats
            .truncated
            .as_deref()
            .is_some_and(|t| t.contains("record 4")),
        "{:?}",
        stats.truncated
    );
    // Not a pcap at all: an error naming the file.
    std::fs::write(&path, b"not a capture").unwrap();
    let err = edgeward_ids::offline::run_file(&mut engine, &path, |_| {})
        .err()
        .unwrap()
        .to_string();
    assert!(err.contains("cut.pcap"), "{err}");
}

/// A request cut into segments as an evader would: `split` gives the segment lengths (the rest
/// is one last segment); `order` the sending order.
fn split_request(request: &[u8], split: &[usize]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut at = 0;
    for &n in split {
        let end = (at + n).min(request.len());
        out.push(request[at..end].to_vec());
        at = end;
    }
    if at < request.len() {
        out.push(request[at..].to_vec());
    }
    out
}

const EVASION_RULES: &str = r#"alert http any any -> any any (msg:"curl ua"; flow:established,to_server; http.user_agent; content:"curl/"; startswith; sid:101;)
alert tcp any any -> any 80 (msg:"raw marker"; flow:established,to_server; content:"X-Marker|3a| evil-payload-0042"; sid:102;)
alert tcp any any -> any 80 (msg:"anchored"; flow:established,to_server; content:"GET"; depth:3; sid:103;)"#;

const EVASION_REQUEST: &[u8] =
    b"GET /x HTTP/1.1\r\nHost: example.org\r\nUser-Agent: curl/8.5.0\r\nX-Marker: evil-payload-0042\r\n\r\n";

fn evasion_alerts(segments: &[Vec<u8>], order: &[usize]) -> Vec<u32> {
    let rules = ruleset_from_text(EVASION_RULES);
    let mut cap = Capture::new(4);
    cap.tcp_segments(
        (LAN, 40100),
        (WEB, 80),
        segments,
        order,
        b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
    );
    let mut s = sids(&run(&rules, &cap));
    s.dedup();
    s
}

/// Issue 21 / 003 §30.8.e: a first segment shorter than any method (`GE`, then `T /x …`) is
/// still recognised as HTTP, so HTTP rules fire as on the unsplit request.
#[test]
fn a_tiny_first_segment_does_not_hide_http() {
    for first in 1..4 {
        let segs = split_request(EVASION_REQUEST, &[first]);
        let order: Vec<usize> = (0..segs.len()).collect();
        let got = evasion_alerts(&segs, &order);
        assert!(
            got.contains(&101),
            "first segment of {first} bytes: {got:?}"
        );
        assert!(
            got.contains(&102),
            "first segment of {first} bytes: {got:?}"
        );
    }
}

/// One byte per segment, in order and shuffled: the HTTP rule and the raw content rule (whose
/// pattern spans 26 segments) both fire; each rule alerts once.
#[test]
fn one_byte_segments_in_order_or_shuffled_are_reassembled_and_matched() {
    let segs = split_request(EVASION_REQUEST, &vec![1; EVASION_REQUEST.len()]);
    let in_order: Vec<usize> = (0..segs.len()).collect();
    let mut shuffled = in_order.clone();
    let mut rng = edgeward_traffic::Rng::new(9);
    for i in (1..shuffled.len()).rev() {
        shuffled.swap(i, rng.below(i as u64 + 1) as usize);
    }
    for order in [&in_order, &shuffled] {
        let rules = ruleset_from_text(EVASION_RULES);
        let mut cap = Capture::new(4);
        cap.tcp_segments(
            (LAN, 40100),
            (WEB, 80),
            &segs,
            order,
            b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
        );
        let all = sids(&run(&rules, &cap));
        assert_eq!(all.iter().filter(|s| **s == 101).count(), 1, "{all:?}");
        assert_eq!(all.iter().filter(|s| **s == 102).count(), 1, "{all:?}");
    }
}

/// Raw content split across two segments anywhere is matched once; content matched within one
/// segment is not reported again through the stream window.
#[test]
fn raw_content_across_a_segment_boundary_alerts_once() {
    let marker = EVASION_REQUEST
        .windows(5)
        .position(|w| w == b"evil-")
        .unwrap();
    for cut in [marker - 3, marker + 2, marker + 9] {
        let segs = split_request(EVASION_REQUEST, &[cut]);
        let got = sids(&run(&ruleset_from_text(EVASION_RULES), &{
            let mut cap = Capture::new(5);
            cap.tcp_segments((LAN, 40100), (WEB, 80), &segs, &[0, 1], b"");
            cap
        }));
        assert_eq!(
            got.iter().filter(|s| **s == 102).count(),
            1,
            "cut at {cut}: {got:?}"
        );
        // `depth:3` is about a packet's start: it fires on the first segment only.
        assert_eq!(
            got.iter().filter(|s| **s == 103).count(),
            1,
            "cut at {cut}: {got:?}"
        );
    }
}

/// Issue 21: a retransmission that changes bytes already delivered is an evasion signal: the
/// first copy is kept (the rules still fire on it) and the change is reported as an anomaly.
#[test]
fn a_retransmission_with_changed_bytes_is_reported_and_the_first_copy_kept() {
    use edgeward_traffic::Tweak;
    let req = EVASION_REQUEST;
    let junk: Vec<u8> = req
        .iter()
        .map(|b| if b.is_ascii_alphabetic() { b'q' } else { *b })
        .collect();
    let mut cap = Capture::new(6);
    cap.tcp_pieces(
        (LAN, 40200),
        (WEB, 80),
        &[
            (0, req.to_vec(), Tweak::default()),
            (10, junk[10..60].to_vec(), Tweak::default()),
        ],
        req.len(),
        b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
    );
    let rules = ruleset_from_text(EVASION_RULES);
    let mut engine = Engine::new(rules, EngineConfig::default());
    let capture = edgeward_ids::offline::Capture {
        link: edgeward_ids::decode::Link::Ethernet,
        frames: cap.frames.clone(),
        bytes: 0,
    };
    let mut alerts = Vec::new();
    edgeward_ids::offline::run(&mut engine, &capture, |a| alerts.push(a.sid));
    alerts.sort_unstable();
    alerts.dedup();
    assert_eq!(alerts, vec![101, 102, 103]);
    assert_eq!(engine.counters.stream_overlap_different, 1);
    assert!(
        engine
            .anomalies
            .iter()
            .any(|a| a.kind == edgeward_ids::defrag::AnomalyKind::StreamOverlapDifferentData)
    );
}

/// A capture taken where checksum offload leaves checksums unset still gets inspected (`auto`
/// turns validation off once most checksums are wrong), while a stray bad segment in a normal
/// capture is not inspected.
#[test]
fn checksum_validation_auto_tells_offload_from_insertion() {
    let rules = ruleset_from_text(EVASION_RULES);
    let mut cap = Capture::new(8);
    for i in 0..40u16 {
        cap.tcp(
            (LAN, 41000 + i),
            (WEB, 80),
            &[Msg::Client(EVASION_REQUEST.to_vec())],
        );
    }
    // Offload: every TCP checksum wrong.
    let mut broken = cap.frames.clone();
    for (_, f) in &mut broken {
        if f.len() > 14 + 20 + 17 && f[23] == 6 {
            f[14 + 20 + 16] ^= 0x5a;
        }
    }
    let run_frames = |frames: Vec<(f64, Vec<u8>)>| {
        let mut engine = Engine::new(rules.clone(), EngineConfig::default());
        let capture = edgeward_ids::offline::Capture {
            link: edgeward_ids::decode::Link::Ethernet,
            frames,
            bytes: 0,
        };
        let mut n = 0;
        edgeward_ids::offline::run(&mut engine, &capture, |a| n += usize::from(a.sid == 102));
        (n, engine.counters.checksum_validation_off)
    };
    let (alerts, off) = run_frames(broken);
    assert!(off, "validation switched off for an offload capture");
    assert!(
        alerts >= 30,
        "most requests inspected after the switch: {alerts}"
    );
    let (alerts, off) = run_frames(cap.frames.clone());
    assert!(!off);
    assert_eq!(alerts, 40);
}

/// 003 §30.8.e, 000 §5.10.b (machines must not scan ports): a SYN scan of 60 ports on one host
/// raises the built-in vertical-scan alert once, in EVE shape with its own sid and message.
#[test]
fn a_syn_scan_raises_the_builtin_scan_alert_once() {
    let rules = ruleset_from_text(EVASION_RULES);
    let mut cap = Capture::new(9);
    for port in 1..=60u16 {
        let b = etherparse::PacketBuilder::ethernet2([2, 0, 0, 0, 0, 1], [2, 0, 0, 0, 0, 2])
            .ipv4(LAN.octets(), WEB.octets(), 64)
            .tcp(45000, port, 1000, 1024)
            .syn();
        let mut f = Vec::new();
        b.write(&mut f, &[]).unwrap();
        cap.push_frame(f);
    }
    let alerts = run(&rules, &cap);
    let scans: Vec<_> = alerts.iter().filter(|a| a.sid == 9_000_001).collect();
    assert_eq!(scans.len(), 1, "{:?}", sids(&alerts));
    let eve = edgeward_ids::offline::eve_alert(&rules, scans[0]);
    assert!(
        eve.alert.signature.contains("vertical port scan"),
        "{}",
        eve.alert.signature
    );
    assert_eq!(eve.src_ip, std::net::IpAddr::V4(LAN));
}

/// Run a capture inline with flow bypass on; per frame, whether the engine said "bypass".
fn bypass_outcomes(cap: &Capture, rules: Arc<edgeward_ids::ruleset::RuleSet>) -> Vec<bool> {
    let mut engine = Engine::new(
        rules,
        EngineConfig {
            inline: true,
            bypass: true,
            ..EngineConfig::default()
        },
    );
    let mut alerts = Vec::new();
    cap.frames
        .iter()
        .map(|(t, f)| {
            engine.process(*t, f, edgeward_ids::decode::Link::Ethernet, &mut alerts);
            engine.last_outcome().bypass
        })
        .collect()
}

#[test]
fn flows_are_bypassed_once_encrypted_or_past_the_depth_in_both_directions_and_not_before() {
    let rules = ruleset_from_text(
        r#"alert tcp any any -> any any (msg:"x"; content:"never-there"; sid:30;)"#,
    );
    // TLS: after the handshake, encrypted application data.
    let mut tls = Capture::new(5);
    let cert = edgeward_traffic::certificate("example.org", None);
    tls.tls((LAN, 40010), (WEB, 443), "example.org", &cert, 40_000);
    let out = bypass_outcomes(&tls, Arc::clone(&rules));
    let first = out
        .iter()
        .position(|b| *b)
        .expect("the TLS flow is bypassed");
    assert!(first > 6, "not during the handshake (frame {first})");
    // Plain HTTP, small: never.
    let mut small = Capture::new(6);
    small.tcp(
        (LAN, 40011),
        (WEB, 80),
        &[
            Msg::Client(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n".to_vec()),
            Msg::Server(vec![b'a'; 200_000]),
        ],
    );
    assert!(!bypass_outcomes(&small, Arc::clone(&rules)).contains(&true));
    // Plain bytes past the reassembly depth in one direction only: still inspected (the other
    // direction may yet carry something); past it in both: bypassed.
    let big = vec![b'b'; 1_200_000];
    let mut one_way = Capture::new(7);
    one_way.tcp(
        (LAN, 40012),
        (WEB, 9000),
        &[Msg::Client(b"hi".to_vec()), Msg::Server(big.clone())],
    );
    assert!(!bypass_outcomes(&one_way, Arc::clone(&rules)).contains(&true));
    let mut both = Capture::new(8);
    both.tcp(
        (LAN, 40013),
        (WEB, 9000),
        &[Msg::Client(big.clone()), Msg::Server(big)],
    );
    assert!(bypass_outcomes(&both, rules).contains(&true));
}

#[test]
fn a_reject_rule_asks_for_a_reset_and_a_drop_rule_does_not() {
    for (action, reset) in [("reject", true), ("drop", false)] {
        let rules = ruleset_from_text(&format!(
            r#"{action} tcp any any -> any any (msg:"block"; flow:established,to_server; content:"EVIL"; sid:21;)"#
        ));
        let mut engine = Engine::new(
            rules,
            EngineConfig {
                inline: true,
                ..EngineConfig::default()
            },
        );
        let mut cap = Capture::new(9);
        cap.tcp(
            (LAN, 40020),
            (WEB, 8080),
            &[Msg::Client(b"EVIL".to_vec()), Msg::Server(b"ok".to_vec())],
        );
        let mut alerts = Vec::new();
        let mut resets = Vec::new();
        for (t, f) in &cap.frames {
            let v = engine.process(*t, f, edgeward_ids::decode::Link::Ethernet, &mut alerts);
            if v == edgeward_ids::engine::Verdict::Drop {
                resets.push(engine.last_outcome().reject);
            }
        }
        assert!(!resets.is_empty(), "{action}: dropped");
        assert!(resets.iter().all(|r| *r == reset), "{action}: {resets:?}");
    }
}

/// 004 §8.4 (crypto-mining is malware's business model): a stratum session to a mining pool
/// from inside raises the built-in mining alerts; an ordinary JSON-RPC call does not.
#[test]
fn stratum_mining_sessions_raise_the_builtin_alerts() {
    let rules = ruleset_from_text(edgeward_ids::builtin::RULES);
    let mut cap = Capture::new(11);
    cap.tcp(
        (LAN, 40100),
        (WEB, 3333),
        &[
            Msg::Client(br#"{"id": 1, "method": "mining.subscribe", "params": ["cpuminer/2.5.1"]}
"#.to_vec()),
            Msg::Server(br#"{"id":1,"result":[["mining.notify","ae6812eb4cd7735a302a8a9dd95cf71f"],"08000002",4],"error":null}
"#.to_vec()),
            Msg::Client(br#"{"params": ["wallet.worker1", "x"], "id": 2, "method": "mining.authorize"}
"#.to_vec()),
        ],
    );
    cap.tcp(
        (LAN, 40101),
        (WEB, 443),
        &[Msg::Client(br#"{"id":1,"jsonrpc":"2.0","method":"login","params":{"login":"4AdUndX","pass":"x","agent":"XMRig/6.21.0 (Linux x86_64) libuv/1.44.2 gcc/12.2.0"}}
"#.to_vec())],
    );
    cap.tcp(
        (LAN, 40102),
        (WEB, 8545),
        &[Msg::Client(
            br#"{"jsonrpc":"2.0","method":"eth_blockNumber","params":[],"id":1}"#.to_vec(),
        )],
    );
    let mut got = sids(&run(&rules, &cap));
    got.sort_unstable();
    assert_eq!(got, vec![9_000_101, 9_000_102, 9_000_103]);
}

/// Allow-listed traffic: a `pass` rule passes the rest of its flow (as in Suricata) — no later
/// alert from it, and inline the kernel may stop queueing it.
#[test]
fn a_pass_rule_passes_the_rest_of_the_flow() {
    let rules = ruleset_from_text(
        r#"pass tcp any any -> any 8443 (msg:"backup server allowed"; flow:established,to_server; content:"BACKUP"; sid:40;)
alert tcp any any -> any any (msg:"secret"; content:"SECRET"; sid:41;)"#,
    );
    let mut cap = Capture::new(12);
    cap.tcp(
        (LAN, 40200),
        (WEB, 8443),
        &[
            Msg::Client(b"BACKUP start".to_vec()),
            Msg::Client(b"SECRET data".to_vec()),
        ],
    );
    cap.tcp(
        (LAN, 40201),
        (WEB, 8444),
        &[Msg::Client(b"SECRET data".to_vec())],
    );
    let got = sids(&run(&rules, &cap));
    assert_eq!(got, vec![41], "only the flow that was not passed alerts");
    let out = bypass_outcomes(&cap, rules);
    assert!(out.contains(&true), "the passed flow is handed back");
}
