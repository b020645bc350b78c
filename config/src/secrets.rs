//! Secret values in configuration texts (Wi-Fi passphrases): hiding them from views, diffs and
//! audit events, and putting the running value back when a hidden text comes back for applying.
//!
//! Redaction works on text, so it applies equally to a whole configuration, a section or a
//! unified diff (whose `-`/`+` lines keep showing *that* a secret changed, never its value).

use toml_edit::{DocumentMut, Item, Value};

use crate::Config;

/// Keys whose values are secrets wherever they appear.
pub const SECRET_KEYS: &[&str] = &["passphrase"];

/// What a hidden value reads as. Not ASCII, so it can never be a valid WPA passphrase; the
/// validator names it when it is submitted where no running value can replace it.
pub const HIDDEN: &str = "••••••••";

fn is_key_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '-'
}

/// The length of the value that starts `rest` (a TOML string literal, or up to the end of the
/// line for anything else), so it can be replaced.
fn value_len(rest: &str) -> usize {
    let line_end = rest.find('\n').unwrap_or(rest.len());
    for delim in ["\"\"\"", "'''"] {
        if let Some(body) = rest.strip_prefix(delim) {
            return body
                .find(delim)
                .map(|i| i + 2 * delim.len())
                .unwrap_or(rest.len());
        }
    }
    let mut chars = rest[..line_end].char_indices();
    match chars.next() {
        Some((_, '"')) => {
            let mut escaped = false;
            for (i, c) in chars {
                match c {
                    '\\' if !escaped => escaped = true,
                    '"' if !escaped => return i + 1,
                    _ => escaped = false,
                }
            }
            line_end
        }
        Some((_, '\'')) => chars
            .find(|&(_, c)| c == '\'')
            .map(|(i, _)| i + 1)
            .unwrap_or(line_end),
        _ => line_end,
    }
}

/// If a secret key's assignment starts at byte `at` of `text`, the byte range of its value.
fn secret_value_at(text: &str, at: usize) -> Option<(usize, usize)> {
    let before = text[..at].chars().next_back();
    if before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_') {
        return None;
    }
    let rest = &text[at..];
    let (quote, rest) = match rest.strip_prefix('"') {
        Some(r) => ("\"", r),
        None => ("", rest),
    };
    let key = SECRET_KEYS.iter().find(|k| rest.starts_with(*k))?;
    let mut after = &rest[key.len()..];
    if !quote.is_empty() {
        after = after.strip_prefix(quote)?;
    } else if after.chars().next().is_some_and(is_key_char) {
        return None;
    }
    let after_key = after.trim_start_matches([' ', '\t']);
    let after_eq = after_key.strip_prefix('=')?;
    let value = after_eq.trim_start_matches([' ', '\t']);
    if value.starts_with(['\n', '\r']) || value.is_empty() {
        return None;
    }
    let start = text.len() - value.len();
    Some((start, start + value_len(value)))
}

/// `text` with the value of every secret key replaced by `"••••••••"`.
pub fn redact(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    let mut i = 0;
    while i < text.len() {
        if let Some((start, end)) = secret_value_at(text, i) {
            out.push_str(&text[copied..start]);
            out.push('"');
            out.push_str(HIDDEN);
            out.push('"');
            copied = end;
            i = end;
            continue;
        }
        i += text[i..].chars().next().map_or(1, char::len_utf8);
    }
    out.push_str(&text[copied..]);
    out
}

/// `candidate` with each hidden Wi-Fi passphrase replaced by the running passphrase of the
/// network with the same SSID, so a text read from a redacted view can be edited and applied.
/// A hidden value without a running network to take it from stays hidden, and validation then
/// refuses it at its line. The text is returned unchanged when it hides nothing.
pub fn restore(candidate: &str, running: Option<&Config>) -> String {
    if !candidate.contains(HIDDEN) {
        return candidate.to_string();
    }
    let (Some(running), Ok(mut doc)) = (running, candidate.parse::<DocumentMut>()) else {
        return candidate.to_string();
    };
    let running_passphrase = |ssid: Option<&str>| {
        let ssid = ssid?;
        running
            .wifi
            .iter()
            .find(|w| w.ssid == ssid)
            .map(|w| w.passphrase.clone())
    };
    let mut changed = false;
    match doc.get_mut("wifi") {
        Some(Item::ArrayOfTables(networks)) => {
            for net in networks.iter_mut() {
                let hidden = net.get("passphrase").and_then(Item::as_str) == Some(HIDDEN);
                let ssid = net.get("ssid").and_then(Item::as_str);
                if let (true, Some(p)) = (hidden, running_passphrase(ssid)) {
                    net["passphrase"] = toml_edit::value(p);
                    changed = true;
                }
            }
        }
        Some(Item::Value(Value::Array(networks))) => {
            for net in networks.iter_mut() {
                let Some(net) = net.as_inline_table_mut() else {
                    continue;
                };
                let hidden = net.get("passphrase").and_then(Value::as_str) == Some(HIDDEN);
                let ssid = net.get("ssid").and_then(Value::as_str);
                if let (true, Some(p)) = (hidden, running_passphrase(ssid)) {
                    net.insert("passphrase", Value::from(p));
                    changed = true;
                }
            }
        }
        _ => {}
    }
    if changed {
        doc.to_string()
    } else {
        candidate.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn hides_every_form_of_the_value() {
        let text = "[[wifi]]\nssid = \"Khach\"\npassphrase = \"s3cr3t \\\" pass\" # note\npassphrase_changed = \"2026-11-01\"\n\
                    \"passphrase\"='lit'\nwifi = [{ ssid = \"A\", passphrase = \"inline\" }]\npassphrase = \"\"\"multi\nline\"\"\"\n";
        let r = redact(text);
        for secret in ["s3cr3t", "lit", "inline", "multi", "line\""] {
            assert!(!r.contains(secret), "{secret} in {r}");
        }
        assert!(r.contains("passphrase = \"••••••••\" # note"), "{r}");
        assert!(r.contains("passphrase_changed = \"2026-11-01\""), "{r}");
        assert!(
            r.contains("ssid = \"A\", passphrase = \"••••••••\" }"),
            "{r}"
        );
    }

    #[test]
    fn diff_lines_still_show_a_change() {
        let diff =
            "@@ -1,2 +1,2 @@\n-passphrase = \"old-one-123\"\n+passphrase = \"new-one-456\"\n";
        let r = redact(diff);
        assert_eq!(
            r,
            "@@ -1,2 +1,2 @@\n-passphrase = \"••••••••\"\n+passphrase = \"••••••••\"\n"
        );
    }

    #[test]
    fn leaves_other_keys_alone() {
        let text = "wifi_passphrase = \"x\"\nmypassphrase = 1\npassphrase_changed = \"d\"\n";
        assert_eq!(redact(text), text);
    }

    #[test]
    fn restores_the_running_value_by_ssid() {
        let base = crate::AGENCY_DEFAULT_PROFILE.to_string()
            + "\n[[wifi]]\nssid = \"Khach\"\nzone = \"guest\"\nsecurity = \"wpa2-wpa3\"\npassphrase = \"mot-hai-ba-bon\"\npassphrase_changed = \"2026-11-01\"\n";
        let running = crate::parse(&base, "t", crate::today()).unwrap();
        let hidden = redact(&base);
        assert!(!hidden.contains("mot-hai-ba-bon"));
        let back = restore(&hidden, Some(&running));
        assert_eq!(crate::parse(&back, "t", crate::today()).unwrap(), running);
        // A hidden value for a network the running configuration lacks is refused.
        let renamed = hidden.replace("ssid = \"Khach\"", "ssid = \"Moi\"");
        let problems =
            crate::parse(&restore(&renamed, Some(&running)), "t", crate::today()).unwrap_err();
        assert!(
            problems
                .problems
                .iter()
                .any(|p| p.path.to_string() == "wifi[0].passphrase"),
            "{problems}"
        );
    }

    proptest! {
        #[test]
        fn redaction_never_panics_and_never_keeps_a_quoted_secret(
            prefix in "[ -~\n]{0,40}", secret in "[a-zA-Z0-9]{6,20}", suffix in "[ -~\n]{0,40}"
        ) {
            let text = format!("{prefix}\npassphrase = \"{secret}\"\n{suffix}");
            let r = redact(&text);
            let tail = format!("passphrase = \"{secret}\"");
            prop_assert!(!r.contains(&tail));
            let _ = redact(&prefix);
        }
    }
}
