//! Parsers of anything from the wire or the SOC, fed arbitrary bytes: never a panic.

use std::sync::Arc;

use edgeward_ids::app::{dns::DnsMessage, http::HttpState, tls::TlsState};
use edgeward_ids::rule::parse::Names;
use edgeward_ids::rule::parse_rule;
use edgeward_ids::vars::Vars;
use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn rule_parser(text in "(alert|drop) (tcp|http|dns|ip) [a-z$\\[\\]!,0-9./ ]{0,20} (->|<>) [a-z$0-9 ]{0,12} \\(([a-z_.]{1,12}(:[ -~]{0,20})?; ?){0,8}\\)") {
        let file: Arc<str> = Arc::from("p.rules");
        let _ = parse_rule(&text, &file, 1, &Vars::default(), &mut Names::default());
    }

    #[test]
    fn rule_parser_on_mutated_real_rules(cut in 0usize..400, junk in "[ -~]{0,8}") {
        let base = r#"alert http $HOME_NET any -> $EXTERNAL_NET any (msg:"x"; flow:established,to_server; http.method; content:"POST"; http.uri; content:"/a|2e|php"; fast_pattern; pcre:"/\/a\.php$/U"; byte_test:2,>,5,0,relative; isdataat:!1,relative; threshold:type limit, track by_src, count 1, seconds 60; flowbits:set,a; sid:1; rev:1;)"#;
        let cut = cut.min(base.len());
        let text = format!("{}{}{}", &base[..cut], junk, &base[cut..]);
        let file: Arc<str> = Arc::from("p.rules");
        let _ = parse_rule(&text, &file, 1, &Vars::default(), &mut Names::default());
    }

    #[test]
    fn app_parsers(chunks in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..300), 0..8), dir in any::<bool>()) {
        let mut http = HttpState::default();
        let mut tls = TlsState::default();
        let mut dns = DnsMessage::default();
        let (mut he, mut te) = (Vec::new(), Vec::new());
        let mut prefix = b"GET / HTTP/1.1\r\nContent-Length: 5\r\n".to_vec();
        for c in &chunks {
            prefix.extend_from_slice(c);
            http.feed(dir, c, &mut he);
            http.feed(!dir, c, &mut he);
            tls.feed(dir, c, &mut te);
            let _ = dns.parse(c);
        }
        http.feed(true, &prefix, &mut he);
        http.close(&mut he);
    }

    #[test]
    fn decoder(frame in proptest::collection::vec(any::<u8>(), 0..200)) {
        let _ = edgeward_ids::decode::decode(&frame, edgeward_ids::decode::Link::Ethernet);
        let _ = edgeward_ids::decode::decode(&frame, edgeward_ids::decode::Link::RawIp);
    }
}
