//! Which rules a group verifies on every packet (no fast pattern): `cargo run --release -p edgeward-ids --example group_report -- DIR`.
fn main() {
    let dir = std::env::args().nth(1).expect("usage: group_report DIR");
    let loaded = edgeward_ids::loader::LoadedRules::load(std::path::Path::new(&dir), &edgeward_ids::vars::Vars::default()).expect("load");
    let set = edgeward_ids::ruleset::RuleSet::compile(loaded);
    let mut kinds = std::collections::BTreeMap::<String, usize>::new();
    for &r in &set.packet[0].always {
        let rule = &set.rules[r as usize];
        let items: Vec<String> = rule.lists.iter().flat_map(|l| l.items.iter().map(|i| format!("{}", match i { edgeward_ids::rule::Item::Content(c) => if c.negated {"!content"} else {"content"}, edgeward_ids::rule::Item::Pcre(_) => "pcre", edgeward_ids::rule::Item::IsDataAt{..} => "isdataat", edgeward_ids::rule::Item::ByteTest(_) => "byte_test", edgeward_ids::rule::Item::ByteJump(_) => "byte_jump", edgeward_ids::rule::Item::Size(_) => "size" }))).collect();
        let k = format!("{:?} dports_any={} flowbits={} dsize={} flags={} items={:?}", rule.proto, rule.dst_ports.is_any(), !rule.flowbits.is_empty(), rule.dsize.is_some(), rule.tcp_flags.is_some(), items);
        *kinds.entry(k).or_default() += 1;
    }
    let mut v: Vec<_> = kinds.into_iter().collect();
    v.sort_by(|a, b| b.1.cmp(&a.1));
    for (k, n) in v.iter().take(25) { println!("{n:5} {k}"); }
}
