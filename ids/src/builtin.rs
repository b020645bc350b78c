//! Signatures every live ruleset carries, whatever the SOC or the admin loads: crypto-mining
//! pools spoken to from inside (the stratum protocol's JSON-RPC: `mining.subscribe`,
//! `mining.authorize`, and Monero's `login` with a miner agent) — sids 9,000,101 and up,
//! classtype `coin-mining`. (The network-layer detections, 9,000,001–9,000,007, are in
//! [`crate::scan`]; the SOC's indicator lists become rules in the 9,100,000 range.)

use crate::loader::LoadedRules;
use crate::vars::Vars;

/// The built-in rules' text.
pub const RULES: &str = r#"alert tcp $HOME_NET any -> $EXTERNAL_NET any (msg:"EDGEWARD MINING stratum mining.subscribe (crypto-mining pool contacted from inside)"; flow:established,to_server; content:"|22|method|22|"; content:"mining.subscribe"; distance:0; within:40; classtype:coin-mining; sid:9000101; rev:1;)
alert tcp $HOME_NET any -> $EXTERNAL_NET any (msg:"EDGEWARD MINING stratum mining.authorize (crypto-mining pool login)"; flow:established,to_server; content:"|22|method|22|"; content:"mining.authorize"; distance:0; within:40; classtype:coin-mining; sid:9000102; rev:1;)
alert tcp $HOME_NET any -> $EXTERNAL_NET any (msg:"EDGEWARD MINING Monero stratum login with a miner agent (XMRig and similar)"; flow:established,to_server; content:"|22|method|22|"; content:"|22|login|22|"; distance:0; within:20; content:"|22|agent|22|"; distance:0; classtype:coin-mining; sid:9000103; rev:1;)
"#;

/// The standard classtypes (Suricata's `classification.config`, as ET Open ships it): the
/// severities of rules whose own directory has none (a SOC bundle holds only `*.rules`).
pub const CLASSIFICATION: &str = include_str!("classification.config");

/// Add the built-in rules, and every standard classtype the ruleset does not define itself.
pub fn add(loaded: &mut LoadedRules, vars: &Vars) {
    for (name, class) in crate::loader::parse_classifications(CLASSIFICATION) {
        loaded.classes.entry(name).or_insert(class);
    }
    let mut seen = loaded.rules.iter().map(|r| (r.gid, r.sid)).collect();
    loaded.add_text("edgeward-builtin.rules", RULES, vars, &mut seen);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_builtin_rules_load_without_error() {
        let mut l = LoadedRules::default();
        add(&mut l, &Vars::default());
        assert!(l.report.errors.is_empty(), "{}", l.report.table());
        assert_eq!(l.rules.len(), 3);
        // Twice: no duplicate sids.
        add(&mut l, &Vars::default());
        assert_eq!(l.rules.len(), 3);
        assert_eq!(l.classes["trojan-activity"].priority, 1);
        assert_eq!(l.classes["coin-mining"].priority, 2);
    }
}
