//! Verifying a rule's items against one buffer: contents with absolute and relative windows,
//! negation, `endswith`, pcre, isdataat, byte_test, byte_jump and sizes — with Suricata's
//! backtracking (a later relative item that fails makes the earlier content retry further on).

use crate::rule::{ByteJump, ByteOp, ByteTest, Content, Item, NumEncoding};

/// Upper bound on backtracking steps for one list (Suricata bounds its recursion likewise).
const MAX_STEPS: u32 = 3000;

/// Whether `items` all match in `buf`.
pub fn inspect(items: &[Item], buf: &[u8]) -> bool {
    let mut steps = 0;
    match_from(items, 0, buf, 0, &mut steps)
}

fn next_relative(items: &[Item], idx: usize) -> bool {
    match items.get(idx + 1) {
        Some(Item::Content(c)) => c.is_relative(),
        Some(Item::Pcre(p)) => p.relative,
        Some(Item::IsDataAt { relative, .. }) => *relative,
        Some(Item::ByteTest(t)) => t.relative,
        Some(Item::ByteJump(j)) => j.relative,
        _ => false,
    }
}

/// The search window `[start, end)` of a content given the end of the previous match.
fn window(c: &Content, len: usize, prev_end: usize) -> Option<(usize, usize)> {
    let (start, mut end) = if c.is_relative() {
        let d = i64::from(c.distance.unwrap_or(0));
        let start = (prev_end as i64 + d).max(0) as usize;
        let end = match c.within {
            Some(w) => (prev_end as i64 + d + i64::from(w)).max(0) as usize,
            None => len,
        };
        (start, end)
    } else {
        let start = c.offset.unwrap_or(0) as usize;
        let end = match c.depth {
            Some(d) => start + d as usize,
            None => len,
        };
        (start, end)
    };
    end = end.min(len);
    if start >= end || end - start < c.pattern.len() {
        return None;
    }
    Some((start, end))
}

/// First position `>= from` where the content occurs entirely inside `[from, end)`.
pub fn find(c: &Content, buf: &[u8], from: usize, end: usize) -> Option<usize> {
    let pat = &c.pattern;
    if end < from || end - from < pat.len() {
        return None;
    }
    if c.endswith {
        let pos = buf.len().checked_sub(pat.len())?;
        if pos < from || buf.len() > end {
            return None;
        }
        let hay = &buf[pos..];
        let ok = if c.nocase {
            hay.eq_ignore_ascii_case(pat)
        } else {
            hay == &pat[..]
        };
        return ok.then_some(pos);
    }
    let hay = &buf[from..end];
    let found = if c.nocase {
        find_nocase(hay, pat)
    } else {
        memchr::memmem::find(hay, pat)
    };
    found.map(|p| p + from)
}

fn find_nocase(hay: &[u8], pat: &[u8]) -> Option<usize> {
    let first = pat[0];
    let (lo, up) = (first.to_ascii_lowercase(), first.to_ascii_uppercase());
    let last_start = hay.len().checked_sub(pat.len())?;
    let mut i = 0;
    while i <= last_start {
        let rel = memchr::memchr2(lo, up, &hay[i..=last_start])?;
        let p = i + rel;
        if hay[p..p + pat.len()].eq_ignore_ascii_case(pat) {
            return Some(p);
        }
        i = p + 1;
    }
    None
}

fn match_from(items: &[Item], idx: usize, buf: &[u8], prev_end: usize, steps: &mut u32) -> bool {
    *steps += 1;
    if *steps > MAX_STEPS {
        return false;
    }
    let Some(item) = items.get(idx) else {
        return true;
    };
    match item {
        Item::Content(c) => {
            let Some((start, end)) = window(c, buf.len(), prev_end) else {
                return c.negated && match_from(items, idx + 1, buf, prev_end, steps);
            };
            if c.negated {
                return find(c, buf, start, end).is_none()
                    && match_from(items, idx + 1, buf, prev_end, steps);
            }
            let mut from = start;
            while let Some(pos) = find(c, buf, from, end) {
                if match_from(items, idx + 1, buf, pos + c.pattern.len(), steps) {
                    return true;
                }
                if !next_relative(items, idx) || *steps > MAX_STEPS {
                    return false;
                }
                from = pos + 1;
            }
            false
        }
        Item::Pcre(p) => {
            let base = if p.relative {
                prev_end.min(buf.len())
            } else {
                0
            };
            let subject = &buf[base..];
            let found = match p.regex.find(subject) {
                Ok(m) => m.map(|m| (m.start(), m.end())),
                Err(_) => None,
            };
            if p.negated {
                return found.is_none() && match_from(items, idx + 1, buf, prev_end, steps);
            }
            match found {
                Some((_, e)) => match_from(items, idx + 1, buf, base + e, steps),
                None => false,
            }
        }
        Item::IsDataAt {
            at,
            relative,
            negated,
        } => {
            let base = if *relative { prev_end } else { 0 };
            let has = buf.len() > base + *at as usize;
            has != *negated && match_from(items, idx + 1, buf, prev_end, steps)
        }
        Item::ByteTest(t) => {
            byte_test(t, buf, prev_end) && match_from(items, idx + 1, buf, prev_end, steps)
        }
        Item::ByteJump(j) => match byte_jump(j, buf, prev_end) {
            Some(pos) => match_from(items, idx + 1, buf, pos, steps),
            None => false,
        },
        Item::Size(cmp) => {
            cmp.matches(buf.len() as u64) && match_from(items, idx + 1, buf, prev_end, steps)
        }
    }
}

/// Read `bytes` bytes at `pos` with the given encoding.
fn read_number(buf: &[u8], pos: usize, bytes: u8, enc: NumEncoding) -> Option<u64> {
    let data = if bytes == 0 {
        buf.get(pos..)?
    } else {
        buf.get(pos..pos.checked_add(bytes as usize)?)?
    };
    match enc {
        NumEncoding::Big => Some(data.iter().fold(0u64, |a, &b| (a << 8) | u64::from(b))),
        NumEncoding::Little => Some(
            data.iter()
                .rev()
                .fold(0u64, |a, &b| (a << 8) | u64::from(b)),
        ),
        NumEncoding::String(base) => {
            let s = std::str::from_utf8(data).ok()?;
            let s = s.trim_start();
            // strtoull reads the longest valid prefix.
            let digits: String = s.chars().take_while(|c| c.is_digit(base)).collect();
            if digits.is_empty() {
                return None;
            }
            u64::from_str_radix(&digits, base).ok()
        }
    }
}

fn apply_mask(v: u64, mask: Option<u64>) -> u64 {
    match mask {
        Some(m) if m != 0 => (v & m) >> m.trailing_zeros(),
        _ => v,
    }
}

fn byte_test(t: &ByteTest, buf: &[u8], prev_end: usize) -> bool {
    let base = if t.relative { prev_end as i64 } else { 0 };
    let pos = base + i64::from(t.offset);
    if pos < 0 {
        return false;
    }
    let Some(v) = read_number(buf, pos as usize, t.bytes, t.encoding) else {
        return false;
    };
    let v = apply_mask(v, t.bitmask);
    let r = match t.op {
        ByteOp::Lt => v < t.value,
        ByteOp::Gt => v > t.value,
        ByteOp::Le => v <= t.value,
        ByteOp::Ge => v >= t.value,
        ByteOp::Eq => v == t.value,
        ByteOp::And => v & t.value != 0,
        ByteOp::Xor => v ^ t.value != 0,
    };
    r != t.negated
}

fn byte_jump(j: &ByteJump, buf: &[u8], prev_end: usize) -> Option<usize> {
    let base = if j.relative { prev_end as i64 } else { 0 };
    let pos = base + i64::from(j.offset);
    if pos < 0 {
        return None;
    }
    let v = apply_mask(
        read_number(buf, pos as usize, j.bytes, j.encoding)?,
        j.bitmask,
    );
    let mut jump = v.checked_mul(j.multiplier)? as i64;
    if j.align && jump % 4 != 0 {
        jump += 4 - jump % 4;
    }
    let origin = if j.from_beginning {
        0
    } else if j.from_end {
        buf.len() as i64
    } else {
        pos + i64::from(j.bytes)
    };
    let target = origin + jump + j.post_offset;
    if target < 0 || target as usize > buf.len() {
        return None;
    }
    Some(target as usize)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rule::parse::Names;
    use crate::rule::{ParseOutcome, parse_rule};
    use crate::vars::Vars;
    use std::sync::Arc;

    fn items(opts: &str) -> Vec<Item> {
        let text = format!("alert tcp any any -> any any (msg:\"t\"; {opts} sid:1;)");
        let file: Arc<str> = Arc::from("t");
        match parse_rule(&text, &file, 1, &Vars::default(), &mut Names::default()).unwrap() {
            ParseOutcome::Loaded(r) => r.lists[0].items.clone(),
            o => panic!("{o:?}"),
        }
    }

    #[test]
    fn relative_contents_backtrack() {
        let it = items(r#"content:"a"; content:"b"; within:2;"#);
        assert!(inspect(&it, b"a..a b"));
        assert!(!inspect(&it, b"a..a..b"));
        let it = items(r#"content:"GET"; depth:3; content:"x"; distance:2; within:1;"#);
        assert!(inspect(&it, b"GET .x"));
        assert!(!inspect(&it, b"GET ..x"));
        assert!(!inspect(&it, b" GET .x"));
    }

    #[test]
    fn offsets_negation_endswith_nocase() {
        assert!(inspect(&items(r#"content:"b"; offset:1; depth:1;"#), b"ab"));
        assert!(!inspect(
            &items(r#"content:"b"; offset:1; depth:1;"#),
            b"abb"[..1].as_ref()
        ));
        assert!(inspect(&items(r#"content:".com"; endswith;"#), b"x.com"));
        assert!(!inspect(&items(r#"content:".com"; endswith;"#), b"x.com."));
        assert!(inspect(
            &items(r#"content:"EvIl"; nocase;"#),
            b"an evil one"
        ));
        assert!(!inspect(&items(r#"content:"EvIl";"#), b"an evil one"));
        assert!(inspect(
            &items(r#"content:"a"; content:!"b"; distance:0;"#),
            b"a c"
        ));
        assert!(!inspect(
            &items(r#"content:"a"; content:!"b"; distance:0;"#),
            b"a b"
        ));
    }

    #[test]
    fn pcre_isdataat_byte_ops() {
        assert!(inspect(
            &items(r#"content:"id="; pcre:"/^\d{3}&/R";"#),
            b"x id=123&"
        ));
        assert!(!inspect(
            &items(r#"content:"id="; pcre:"/^\d{3}&/R";"#),
            b"x id=12&"
        ));
        assert!(inspect(
            &items(r#"content:"a"; isdataat:2,relative;"#),
            b"abcd"
        ));
        assert!(!inspect(
            &items(r#"content:"a"; isdataat:!1,relative;"#),
            b"abcd"
        ));
        assert!(inspect(&items("byte_test:2,>,256,0;"), &[0x01, 0x02]));
        assert!(inspect(&items("byte_test:1,&,0x80,0;"), &[0x81]));
        assert!(inspect(&items(r"byte_test:3,=,123,0,string,dec;"), b"123"));
        // Jump over a 2-byte length, then look for the next content right there.
        let it = items(r#"byte_jump:1,0; content:"Z"; within:1;"#);
        assert!(inspect(&it, b"\x02abZ"));
        assert!(!inspect(&it, b"\x01abZ"));
    }
}
