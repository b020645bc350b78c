//! Any frame through the decoder and then the whole engine (IP defragmentation, flow table,
//! reassembly, protocol detection, HTTP/DNS/TLS parsers, detection with a small ruleset): never
//! a panic. Seeds include the evasion capture's fragments and segment streams.
#![no_main]

use std::sync::{Arc, OnceLock};

use edgeward_ids::decode::Link;
use edgeward_ids::engine::{Engine, EngineConfig};
use edgeward_ids::loader::LoadedRules;
use edgeward_ids::ruleset::RuleSet;
use edgeward_ids::vars::Vars;
use libfuzzer_sys::fuzz_target;

const RULES: &str = r#"
alert http any any -> any any (msg:"uri"; flow:established,to_server; http.uri; content:"/a"; sid:1;)
alert http any any -> any any (msg:"body"; flow:to_client; file.data; content:"PK"; flowbits:set,x; sid:2;)
alert tls any any -> any any (msg:"sni"; tls.sni; content:"evil"; sid:3;)
alert dns any any -> any any (msg:"dns"; dns.query; content:".su"; dotprefix; endswith; sid:4;)
alert tcp any any -> any any (msg:"raw"; content:"uid=0"; byte_test:1,>,0,0,relative; pcre:"/root/R"; sid:5;)
alert http any any -> any any (msg:"cert"; flowbits:isset,x; http.header; content:"a"; sid:6;)
alert tls any any -> any any (msg:"subj"; tls.cert_subject; content:"CN="; sid:7;)
"#;

fn rules() -> Arc<RuleSet> {
    static SET: OnceLock<Arc<RuleSet>> = OnceLock::new();
    SET.get_or_init(|| {
        let mut loaded = LoadedRules::default();
        loaded.add_text("fuzz.rules", RULES, &Vars::default(), &mut Default::default());
        Arc::new(RuleSet::compile(loaded))
    })
    .clone()
}

fuzz_target!(|data: &[u8]| {
    let _ = edgeward_ids::decode::decode(data, Link::Ethernet);
    let _ = edgeward_ids::decode::decode(data, Link::RawIp);
    // Split the input into frames at 0xfe bytes and feed them as one conversation.
    // Checksums and TTLs are not checked: random frames would mostly stop there, and the
    // point is to reach defragmentation, reassembly and the parsers.
    let config = EngineConfig {
        checksums: edgeward_ids::engine::ChecksumMode::Ignore,
        min_ttl: 0,
        ..EngineConfig::default()
    };
    let mut engine = Engine::new(rules(), config);
    let mut alerts = Vec::new();
    for (i, frame) in data.split(|&b| b == 0xfe).enumerate() {
        engine.process(i as f64, frame, Link::RawIp, &mut alerts);
    }
    engine.finish(1e6, &mut alerts);
});
