//! Literal values in rule options: quoted strings with `\"`-style escapes and `|41 42|` hex runs.

/// Strip surrounding double quotes (if any) and an optional leading `!` (returned separately).
pub fn unquote(value: &str) -> Result<(bool, &str), String> {
    let v = value.trim();
    let (negated, v) = match v.strip_prefix('!') {
        Some(rest) => (true, rest.trim_start()),
        None => (false, v),
    };
    if let Some(inner) = v.strip_prefix('"') {
        let inner = inner
            .strip_suffix('"')
            .ok_or_else(|| "missing closing quote".to_string())?;
        Ok((negated, inner))
    } else {
        Ok((negated, v))
    }
}

/// Decode a content pattern: `abc|0d 0a|def`, with `\"`, `\;`, `\\`, `\:` escapes.
pub fn decode_pattern(text: &str) -> Result<Vec<u8>, String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    let mut in_hex = false;
    let mut nibble: Option<u8> = None;
    while i < bytes.len() {
        let c = bytes[i];
        if in_hex {
            match c {
                b'|' => {
                    if nibble.is_some() {
                        return Err(format!("odd number of hex digits before byte {i}"));
                    }
                    in_hex = false;
                }
                b' ' | b'\t' => {
                    if nibble.is_some() {
                        return Err(format!("split hex byte at byte {i}"));
                    }
                }
                _ => {
                    let d = (c as char)
                        .to_digit(16)
                        .ok_or_else(|| format!("`{}` is not a hex digit", c as char))?
                        as u8;
                    match nibble.take() {
                        Some(h) => out.push(h << 4 | d),
                        None => nibble = Some(d),
                    }
                }
            }
            i += 1;
            continue;
        }
        match c {
            b'|' => in_hex = true,
            b'\\' => {
                let n = *bytes
                    .get(i + 1)
                    .ok_or_else(|| "pattern ends with a lone backslash".to_string())?;
                match n {
                    b'"' | b';' | b'\\' | b':' | b'|' => out.push(n),
                    _ => return Err(format!("unknown escape `\\{}`", n as char)),
                }
                i += 1;
            }
            b'"' => return Err("unescaped quote inside the pattern".into()),
            _ => out.push(c),
        }
        i += 1;
    }
    if in_hex {
        return Err("hex run `|…` is not closed".into());
    }
    if out.is_empty() {
        return Err("empty pattern".into());
    }
    Ok(out)
}

/// Decode a quoted message (`msg`), keeping its text readable.
pub fn decode_text(value: &str) -> Result<String, String> {
    let (_, inner) = unquote(value)?;
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            if let Some(n) = chars.next() {
                out.push(n);
            }
        } else {
            out.push(c);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_and_escapes() {
        assert_eq!(decode_pattern("GET |2f 0d0a|x").unwrap(), b"GET /\r\nx");
        assert_eq!(decode_pattern(r#"a\"b\;c\\"#).unwrap(), b"a\"b;c\\");
        assert!(decode_pattern("|4").is_err());
        assert!(decode_pattern("|4 1|").is_err());
        assert!(decode_pattern("|zz|").is_err());
        assert!(decode_pattern("").is_err());
        assert_eq!(unquote("!\"abc\"").unwrap(), (true, "abc"));
    }
}
