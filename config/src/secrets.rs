//! Secret values in configuration texts (Wi-Fi passphrases): hiding them from views, diffs and
//! audit events, and putting the running value back when a hidden text comes back for applying.
//!
//! A text that parses as TOML is redacted on its parsed document, so every spelling of a key
//! (`passphrase`, `"passphrase"`, `'passphrase'`, escapes) is found; a fragment that does not
//! parse (a unified diff) falls back to matching the key's usual spellings in the text. Diffs of
//! two configurations are made from the redacted texts ([`redacted_diff`]), where a secret that
//! changed reads differently from one that did not, so a diff shows *that* it changed.

use toml_edit::{DocumentMut, Item, Value};

use crate::Config;

/// Keys whose values are secrets wherever they appear.
pub const SECRET_KEYS: &[&str] = &["passphrase"];

/// What a hidden value reads as. Not ASCII, so it can never be a valid WPA passphrase; the
/// validator names it when it is submitted where no running value can replace it.
pub const HIDDEN: &str = "••••••••";
/// What a hidden value that differs from the other side of a diff reads as.
pub const HIDDEN_CHANGED: &str = "•••••••• (changed)";

fn is_key_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '-'
}

/// The length of the value that starts `rest` (a TOML string literal, or up to the end of the
/// line for anything else), so it can be replaced.
fn value_len(rest: &str) -> usize {
    let line_end = rest.find('\n').unwrap_or(rest.len());
    for delim in ["\"\"\"", "'''"] {
        if let Some(body) = rest.strip_prefix(delim) {
            return body.find(delim).map_or(rest.len(), |i| i + 2 * delim.len());
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
            .map_or(line_end, |(i, _)| i + 1),
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
    let (quote, rest) = if let Some(r) = rest.strip_prefix('"') {
        ("\"", r)
    } else if let Some(r) = rest.strip_prefix('\'') {
        ("'", r)
    } else {
        ("", rest)
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

/// `text` with the value of every secret key replaced by `"••••••••"`: on the parsed document
/// when `text` is TOML, else on the text (see the module documentation).
pub fn redact(text: &str) -> String {
    match crate::tomldoc::document_mut(text) {
        Some(mut doc) => {
            for_each_secret(&mut doc, |_, value| hide(value, HIDDEN));
            // The document's own spellings are covered; the text pass is a second net. The
            // serialiser ends the last line; a text that did not end it keeps it open, so that
            // redacting twice gives what redacting once gave.
            let mut shown = doc.to_string();
            if !text.ends_with('\n') && shown.ends_with('\n') {
                shown.pop();
            }
            redact_text(&shown)
        }
        None => redact_text(text),
    }
}

/// A unified diff of two configuration texts that shows no secret value: both sides are
/// redacted first, and a secret whose value differs from the old side's (same place, same
/// SSID) reads `•••••••• (changed)` on the new side; a new one reads `••••••••`.
pub fn redacted_diff(old: &str, new: &str, old_name: &str, new_name: &str) -> String {
    let (old_shown, new_shown) = match (
        crate::tomldoc::document_mut(old),
        crate::tomldoc::document_mut(new),
    ) {
        (Some(mut old_doc), Some(mut new_doc)) => {
            let mut before = std::collections::HashMap::new();
            for_each_secret(&mut old_doc, |place, value| {
                before.insert(place.to_string(), value.as_str().map(str::to_string));
                hide(value, HIDDEN);
            });
            for_each_secret(&mut new_doc, |place, value| {
                // A secret new in this place shows as set (its `+` line); one that replaced
                // another value says so.
                let changed = before
                    .get(place)
                    .is_some_and(|b| b.as_deref() != value.as_str());
                hide(value, if changed { HIDDEN_CHANGED } else { HIDDEN });
            });
            (
                redact_text(&old_doc.to_string()),
                redact_text(&new_doc.to_string()),
            )
        }
        _ => (redact(old), redact(new)),
    };
    let diff = crate::history::unified_diff(&old_shown, &new_shown, old_name, new_name);
    redact_text(&diff)
}

/// Replace a secret value, keeping its surrounding whitespace and comments.
fn hide(value: &mut Value, shown: &str) {
    let decor = value.decor().clone();
    *value = Value::from(shown);
    *value.decor_mut() = decor;
}

/// Call `f` with every secret value of the document and a name for its place: the path of
/// keys, with an array element named by its `ssid` when it has one (else by its index).
fn for_each_secret(doc: &mut DocumentMut, mut f: impl FnMut(&str, &mut Value)) {
    fn element_name(ssid: Option<&str>, index: usize) -> String {
        match ssid {
            Some(s) => format!("[ssid={s}]"),
            None => format!("[{index}]"),
        }
    }
    fn table(t: &mut toml_edit::Table, place: &str, f: &mut dyn FnMut(&str, &mut Value)) {
        for (key, item) in t.iter_mut() {
            let here = format!("{place}.{}", key.get());
            if SECRET_KEYS.contains(&key.get()) {
                if let Some(v) = item.as_value_mut() {
                    f(&here, v);
                    continue;
                }
            }
            match item {
                Item::Table(t) => table(t, &here, f),
                Item::ArrayOfTables(a) => {
                    for (i, t) in a.iter_mut().enumerate() {
                        let ssid = t.get("ssid").and_then(Item::as_str).map(str::to_string);
                        table(t, &format!("{here}{}", element_name(ssid.as_deref(), i)), f);
                    }
                }
                Item::Value(v) => value(v, &here, f),
                Item::None => {}
            }
        }
    }
    fn value(v: &mut Value, place: &str, f: &mut dyn FnMut(&str, &mut Value)) {
        match v {
            Value::InlineTable(t) => {
                for (key, v) in t.iter_mut() {
                    let here = format!("{place}.{}", key.get());
                    if SECRET_KEYS.contains(&key.get()) {
                        f(&here, v);
                    } else {
                        value(v, &here, f);
                    }
                }
            }
            Value::Array(a) => {
                for (i, v) in a.iter_mut().enumerate() {
                    let ssid = v
                        .as_inline_table()
                        .and_then(|t| t.get("ssid"))
                        .and_then(Value::as_str)
                        .map(str::to_string);
                    value(
                        v,
                        &format!("{place}{}", element_name(ssid.as_deref(), i)),
                        f,
                    );
                }
            }
            _ => {}
        }
    }
    table(doc.as_table_mut(), "", &mut f);
}

/// The text pass: the value after each usual spelling of a secret key (bare, `"…"` or `'…'`
/// quoted) replaced by `"••••••••"`. Works on fragments and diffs.
pub fn redact_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    let mut i = 0;
    while i < text.len() {
        if let Some((start, end)) = secret_value_at(text, i) {
            if text[start..end] == format!("\"{HIDDEN_CHANGED}\"") {
                i = end;
                continue;
            }
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
    let (Some(running), Some(mut doc)) = (running, crate::tomldoc::document_mut(candidate)) else {
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

    /// A role that may not see passphrases cannot read one by spelling the key differently in
    /// a candidate it sends back (the running value is restored into that spelling).
    #[test]
    fn every_key_spelling_is_hidden_in_texts_and_diffs() {
        let base = crate::AGENCY_DEFAULT_PROFILE.to_string()
            + "\n[[wifi]]\nssid = \"Khach\"\nzone = \"guest\"\nsecurity = \"wpa2-wpa3\"\npassphrase = \"mot-hai-ba-bon\"\npassphrase_changed = \"2026-11-01\"\n";
        let running = crate::parse(&base, "t", crate::today()).unwrap();
        for spelling in [
            "'passphrase'",
            "\"passphrase\"",
            "\"pass\\u0070hrase\"",
            "\"pass\\u0070hrase\"   ",
        ] {
            let sent = redact(&base).replace("passphrase = ", &format!("{spelling} = "));
            let restored = restore(&sent, Some(&running));
            assert!(restored.contains("mot-hai-ba-bon"), "{spelling}: restored");
            let shown = redact(&restored);
            assert!(!shown.contains("mot-hai-ba-bon"), "{spelling}: {shown}");
            let diff = redacted_diff(&base, &restored, "running", "candidate");
            assert!(!diff.contains("mot-hai-ba-bon"), "{spelling}: {diff}");
        }
        let changed = base.replace("mot-hai-ba-bon", "nam-sau-bay-tam");
        let diff = redacted_diff(&base, &changed, "a", "b");
        assert!(
            !diff.contains("nam-sau") && !diff.contains("mot-hai"),
            "{diff}"
        );
        assert!(
            diff.contains(HIDDEN_CHANGED),
            "a change still shows: {diff}"
        );
        assert!(!redacted_diff(&base, &base, "a", "b").contains(HIDDEN_CHANGED));
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

#[cfg(test)]
mod idempotence {
    /// Found by `admin_api::never_panics::redacted_candidates`: a text that only becomes valid
    /// TOML once redacted must not change on a second redaction.
    #[test]
    fn redacting_twice_is_redacting_once_even_without_a_final_newline() {
        for text in [
            "passphrase==",
            "passphrase=\"x\"",
            "[[wifi]]\npassphrase = 'y'",
        ] {
            let once = super::redact(text);
            assert_eq!(super::redact(&once), once, "{text:?}");
        }
    }
}
