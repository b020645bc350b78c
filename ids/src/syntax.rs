//! Structural check of Suricata/Snort rule files: every enabled rule has an action, a header of
//! protocol, addresses, ports and direction, and a parenthesised option list of `key` or
//! `key:value;` items, including a quoted `msg` and a numeric `sid`. This is what a pushed rule
//! bundle must pass before it is staged; the detection engine's full parser (keywords and their
//! semantics) builds on the same splitting.

const ACTIONS: &[&str] = &[
    "alert",
    "drop",
    "pass",
    "reject",
    "rejectsrc",
    "rejectdst",
    "rejectboth",
    "config",
];

/// A rule that does not parse, with its place.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}:{line}: {message}")]
pub struct SyntaxError {
    pub file: String,
    pub line: usize,
    pub message: String,
}

/// Every enabled rule's text and the line it starts on (continuation lines joined).
pub fn enabled_rules(text: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let mut current: Option<(usize, String)> = None;
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim_end();
        if let Some((_, acc)) = current.as_mut() {
            acc.push_str(line.trim_start());
        } else {
            let t = line.trim_start();
            if t.is_empty() || t.starts_with('#') {
                continue;
            }
            current = Some((i + 1, t.to_string()));
        }
        if let Some((start, acc)) = current.as_mut() {
            if acc.ends_with('\\') {
                acc.pop();
                continue;
            }
            out.push((*start, std::mem::take(acc)));
            current = None;
        }
    }
    if let Some(c) = current {
        out.push(c);
    }
    out
}

/// Split an option list `k1:v1; k2; k3:"a\;b";` into (key, value) pairs. As in Suricata, an
/// option ends at the next `;` that is not escaped with a backslash; quotes do not protect a `;`
/// (a value such as `pcre:"/^["']?post/Ri"` contains a bare quote).
pub fn split_options(body: &str) -> Result<Vec<(String, Option<String>)>, String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut escaped = false;
    for c in body.chars() {
        if escaped {
            cur.push(c);
            escaped = false;
            continue;
        }
        match c {
            '\\' => {
                cur.push(c);
                escaped = true;
            }
            ';' => {
                let item = cur.trim();
                if !item.is_empty() {
                    out.push(match item.split_once(':') {
                        Some((k, v)) => (k.trim().to_string(), Some(v.trim().to_string())),
                        None => (item.to_string(), None),
                    });
                }
                cur.clear();
            }
            _ => cur.push(c),
        }
    }
    if !cur.trim().is_empty() {
        return Err(format!("option `{}` is not terminated by `;`", cur.trim()));
    }
    Ok(out)
}

/// Check one rule; the message names what is wrong.
pub fn check_rule(rule: &str) -> Result<(), String> {
    let open = rule.find('(').ok_or("no option list `( … )`")?;
    if !rule.trim_end().ends_with(')') {
        return Err("the option list does not end with `)`".into());
    }
    let header: Vec<&str> = rule[..open].split_whitespace().collect();
    let action = header.first().copied().unwrap_or_default();
    if !ACTIONS.contains(&action) {
        return Err(format!("unknown action `{action}`"));
    }
    if header.len() != 7 {
        return Err(format!(
            "the header has {} fields; expected `action proto src sport -> dst dport`",
            header.len()
        ));
    }
    if !matches!(header[4], "->" | "<>" | "=>" | "<-") {
        return Err(format!("`{}` is not a direction (`->` or `<>`)", header[4]));
    }
    let body = &rule[open + 1..rule.trim_end().len() - 1];
    let opts = split_options(body)?;
    match opts.iter().find(|(k, _)| k == "msg") {
        None => return Err("no `msg` option".into()),
        Some((_, v)) => {
            let v = v.as_deref().unwrap_or("");
            if v.len() < 2 || !v.starts_with('"') || !v.ends_with('"') {
                return Err(format!("msg `{v}` is not a quoted string"));
            }
        }
    }
    match opts.iter().find(|(k, _)| k == "sid") {
        None => return Err("no `sid` option".into()),
        Some((_, v)) => {
            v.as_deref()
                .unwrap_or("")
                .parse::<u32>()
                .map_err(|_| format!("sid `{}` is not a number", v.as_deref().unwrap_or("")))?;
        }
    }
    Ok(())
}

/// Check every enabled rule of a file; returns how many there are, or the first error.
pub fn check_file(name: &str, text: &str) -> Result<usize, SyntaxError> {
    let rules = enabled_rules(text);
    for (line, rule) in &rules {
        check_rule(rule).map_err(|message| SyntaxError {
            file: name.to_string(),
            line: *line,
            message,
        })?;
    }
    Ok(rules.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_real_rules_and_names_what_is_wrong() {
        let ok = r#"alert http $HOME_NET any -> $EXTERNAL_NET any (msg:"ET POLICY curl User-Agent"; flow:established,to_server; http.user_agent; content:"curl/"; startswith; sid:2013028; rev:7;)"#;
        assert_eq!(check_rule(ok), Ok(()));
        let bare_quote =
            r#"alert http any any -> any any (msg:"m"; pcre:"/^["']?post/Ri"; sid:2029732;)"#;
        assert_eq!(check_rule(bare_quote), Ok(()));
        assert_eq!(
            check_rule(r#"alert tcp any any -> any any (msg:"a\;b"; sid:3;)"#),
            Ok(())
        );
        assert!(
            check_rule("alert tcp any any -> any any (sid:1;)")
                .unwrap_err()
                .contains("msg")
        );
        assert!(
            check_rule(r#"alert tcp any any -> any any (msg:"x"; sid:1"#)
                .unwrap_err()
                .contains(')')
        );
        assert!(
            check_rule(r#"alrt tcp any any -> any any (msg:"x"; sid:1;)"#)
                .unwrap_err()
                .contains("alrt")
        );
        assert!(
            check_rule(r#"alert tcp any any any any (msg:"x"; sid:1;)"#)
                .unwrap_err()
                .contains("header")
        );
        assert!(
            check_rule(r#"alert tcp any any -> any any (msg:"x; sid:1;)"#)
                .unwrap_err()
                .contains("quoted")
        );
        assert!(
            check_rule(r#"alert tcp any any -> any any (msg:"x"; sid:one;)"#)
                .unwrap_err()
                .contains("sid")
        );
        let file = "# comment\n\nalert tcp any any -> any any (msg:\"a\"; \\\n sid:1;)\nalert tcp any any -> any any (msg:\"b\" sid:2;)\n";
        let err = check_file("x.rules", file).unwrap_err();
        assert_eq!(err.line, 5);
        assert!(err.to_string().starts_with("x.rules:5:"));
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_text_never_panics(text in "\\PC{0,300}") {
            let _ = check_file("f", &text);
        }
    }
}
