//! Rule text → [`Rule`]: header, then options in order, with Suricata's meaning of sticky
//! buffers, legacy content modifiers and relative matches. A rule using a keyword the engine does
//! not implement is *skipped* with the keyword named; a rule that is wrong is an *error* naming
//! the option and why.

use std::collections::HashMap;
use std::sync::Arc;

use super::content::{decode_pattern, decode_text, unquote};
use super::{
    Action, Buffer, ByteJump, ByteOp, ByteTest, Cmp, Content, FlagsMatch, FlowMatch, Flowbit,
    FlowbitOp, Item, List, NumEncoding, Pcre, Proto, Rule, Threshold, ThresholdKind, Track,
    Transforms,
};
use crate::addr::{IpSet, PortSet};
use crate::syntax::split_options;
use crate::vars::Vars;

/// A rule that could not be parsed: where, which option, why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}:{line}: sid {sid}: option `{option}`: {message}")]
pub struct RuleError {
    pub file: String,
    pub line: usize,
    /// 0 when the sid is not known yet.
    pub sid: u32,
    pub option: String,
    pub message: String,
}

/// The result of parsing one rule that is not an error.
#[derive(Debug)]
pub enum ParseOutcome {
    Loaded(Box<Rule>),
    /// Valid Suricata, but it needs something this engine does not implement.
    Skipped {
        sid: u32,
        reason: String,
    },
}

/// Flowbit names → small integers shared by all rules of a ruleset.
#[derive(Debug, Default, Clone)]
pub struct Names {
    map: HashMap<String, u32>,
}

impl Names {
    pub fn intern(&mut self, name: &str) -> u32 {
        let n = self.map.len() as u32;
        *self.map.entry(name.to_string()).or_insert(n)
    }
    pub fn len(&self) -> usize {
        self.map.len()
    }
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }
}

/// Keywords that only describe a rule or tune output; accepted and ignored by detection.
const DESCRIPTIVE: &[&str] = &["reference", "metadata", "target", "tag", "rawbytes"];

/// Legacy content modifiers: they move the preceding content into a buffer.
fn legacy_modifier(key: &str) -> Option<Buffer> {
    Some(match key {
        "http_uri" => Buffer::HttpUri,
        "http_raw_uri" => Buffer::HttpUriRaw,
        "http_header" => Buffer::HttpHeader,
        "http_raw_header" => Buffer::HttpHeaderRaw,
        "http_cookie" => Buffer::HttpCookie,
        "http_method" => Buffer::HttpMethod,
        "http_client_body" => Buffer::HttpRequestBody,
        "http_server_body" => Buffer::HttpResponseBody,
        "http_stat_code" => Buffer::HttpStatCode,
        "http_stat_msg" => Buffer::HttpStatMsg,
        "http_user_agent" => Buffer::HttpUserAgent,
        "http_host" => Buffer::HttpHost,
        "http_raw_host" => Buffer::HttpHostRaw,
        _ => return None,
    })
}

/// Sticky buffer keywords, current and legacy spellings.
fn sticky_buffer(key: &str) -> Option<Buffer> {
    if let Some(b) = Buffer::from_name(key) {
        return Some(b);
    }
    Some(match key {
        "file_data" => Buffer::FileData,
        "dns_query" => Buffer::DnsQuery,
        "tls_sni" => Buffer::TlsSni,
        "tls_cert_subject" => Buffer::TlsCertSubject,
        "tls_cert_issuer" => Buffer::TlsCertIssuer,
        "ja3_hash" => Buffer::Ja3Hash,
        "ja3_string" => Buffer::Ja3String,
        "ja3s_hash" => Buffer::Ja3sHash,
        "http_content_type" => Buffer::HttpContentType,
        "http_header_names" => Buffer::HttpHeaderNames,
        "http_request_line" => Buffer::HttpRequestLine,
        "http_response_line" => Buffer::HttpResponseLine,
        "http_start" => Buffer::HttpStart,
        "http_accept" => Buffer::HttpAccept,
        "http_accept_enc" => Buffer::HttpAcceptEnc,
        "http_accept_lang" => Buffer::HttpAcceptLang,
        "http_connection" => Buffer::HttpConnection,
        "http_content_len" => Buffer::HttpContentLen,
        "http_referer" => Buffer::HttpReferer,
        "http_location" => Buffer::HttpLocation,
        "http_server" => Buffer::HttpServer,
        "http_protocol" => Buffer::HttpProtocol,
        "http_response_body" => Buffer::HttpResponseBody,
        "http_request_body" => Buffer::HttpRequestBody,
        _ => return None,
    })
}

struct Builder<'a> {
    file: &'a str,
    line: usize,
    sid: u32,
    lists: Vec<List>,
    /// The list new items go to (index into `lists`), `None` = payload.
    current: Option<usize>,
    /// (list index, item index) of the last content, for its modifiers.
    last_content: Option<(usize, usize)>,
}

impl Builder<'_> {
    fn err(&self, option: &str, message: impl Into<String>) -> RuleError {
        RuleError {
            file: self.file.to_string(),
            line: self.line,
            sid: self.sid,
            option: option.to_string(),
            message: message.into(),
        }
    }

    fn list_for(&mut self, buffer: Buffer) -> usize {
        if let Some(i) = self.lists.iter().position(|l| l.buffer == buffer) {
            return i;
        }
        self.lists.push(List {
            buffer,
            transforms: Transforms::default(),
            items: Vec::new(),
        });
        self.lists.len() - 1
    }

    fn current_list(&mut self) -> usize {
        match self.current {
            Some(i) => i,
            None => self.list_for(Buffer::Payload),
        }
    }

    fn push(&mut self, list: usize, item: Item) -> (usize, usize) {
        self.lists[list].items.push(item);
        (list, self.lists[list].items.len() - 1)
    }

    fn content_mut(&mut self, option: &str) -> Result<&mut Content, RuleError> {
        let (l, i) = self
            .last_content
            .ok_or_else(|| self.err(option, "modifier without a preceding content"))?;
        let err = self.err(option, "modifier without a preceding content");
        match &mut self.lists[l].items[i] {
            Item::Content(c) => Ok(c),
            _ => Err(err),
        }
    }
}

fn parse_u64(s: &str) -> Result<u64, String> {
    let s = s.trim();
    if let Some(h) = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        u64::from_str_radix(h, 16).map_err(|_| format!("`{s}` is not a number"))
    } else {
        s.parse::<u64>()
            .map_err(|_| format!("`{s}` is not a number"))
    }
}

fn parse_i64(s: &str) -> Result<i64, String> {
    s.trim()
        .parse::<i64>()
        .map_err(|_| format!("`{}` is not a number", s.trim()))
}

/// `>5`, `<5`, `5`, `!5`, `>=5`, `<=5`, `2<>8`, `2-8`.
pub fn parse_cmp(v: &str) -> Result<Cmp, String> {
    let v = v.trim();
    if let Some((a, b)) = v.split_once("<>") {
        let (a, b) = (parse_u64(a)?, parse_u64(b)?);
        if a >= b {
            return Err(format!("range `{v}` is empty"));
        }
        return Ok(Cmp::Between(a, b));
    }
    Ok(if let Some(r) = v.strip_prefix(">=") {
        Cmp::Ge(parse_u64(r)?)
    } else if let Some(r) = v.strip_prefix("<=") {
        Cmp::Le(parse_u64(r)?)
    } else if let Some(r) = v.strip_prefix('>') {
        Cmp::Gt(parse_u64(r)?)
    } else if let Some(r) = v.strip_prefix('<') {
        Cmp::Lt(parse_u64(r)?)
    } else if let Some(r) = v.strip_prefix('!') {
        Cmp::Ne(parse_u64(r)?)
    } else if let Some(r) = v.strip_prefix('=') {
        Cmp::Eq(parse_u64(r)?)
    } else {
        Cmp::Eq(parse_u64(v)?)
    })
}

#[allow(clippy::unnecessary_wraps)] // one signature for every keyword parser
fn parse_encoding(words: &[&str]) -> Result<NumEncoding, String> {
    let mut enc = NumEncoding::Big;
    let mut string = false;
    let mut base = 10;
    for w in words {
        match *w {
            "big" => enc = NumEncoding::Big,
            "little" => enc = NumEncoding::Little,
            "string" => string = true,
            "hex" => base = 16,
            "dec" => base = 10,
            "oct" => base = 8,
            _ => {}
        }
    }
    Ok(if string {
        NumEncoding::String(base)
    } else {
        enc
    })
}

fn parse_byte_test(v: &str) -> Result<ByteTest, String> {
    let parts: Vec<&str> = v.split(',').map(str::trim).collect();
    if parts.len() < 4 {
        return Err("expected bytes, operator, value, offset".into());
    }
    let bytes = parse_u64(parts[0])?.min(255) as u8;
    let string = parts[4..].contains(&"string");
    // With `string`, 0 bytes means "the rest of the buffer" (Suricata 7).
    if (bytes == 0 && !string) || bytes > if string { 20 } else { 8 } {
        return Err(format!(
            "byte count {bytes} is outside 1..8 (1..20 or 0 with `string`)"
        ));
    }
    let (negated, op) = match parts[1].strip_prefix('!') {
        Some(o) => (true, o),
        None => (false, parts[1]),
    };
    let op = match op {
        "<" => ByteOp::Lt,
        ">" => ByteOp::Gt,
        "<=" => ByteOp::Le,
        ">=" => ByteOp::Ge,
        "=" => ByteOp::Eq,
        "&" => ByteOp::And,
        "^" => ByteOp::Xor,
        "" if negated => ByteOp::Eq,
        o => return Err(format!("unknown operator `{o}`")),
    };
    let value = parse_u64(parts[2])?;
    let offset = parse_i64(parts[3])? as i32;
    let rest = &parts[4..];
    let mut bitmask = None;
    for (i, w) in rest.iter().enumerate() {
        if let Some(m) = w.strip_prefix("bitmask") {
            bitmask = Some(parse_u64(m.trim()).or_else(|_| {
                rest.get(i + 1)
                    .map_or(Err("no bitmask".into()), |x| parse_u64(x))
            })?);
        } else if !matches!(
            *w,
            "relative" | "big" | "little" | "string" | "hex" | "dec" | "oct" | "dce"
        ) {
            return Err(format!("unknown byte_test option `{w}`"));
        }
    }
    Ok(ByteTest {
        bytes,
        op,
        negated,
        value,
        offset,
        relative: rest.contains(&"relative"),
        encoding: parse_encoding(rest)?,
        bitmask,
    })
}

fn parse_byte_jump(v: &str) -> Result<ByteJump, String> {
    let parts: Vec<&str> = v.split(',').map(str::trim).collect();
    if parts.len() < 2 {
        return Err("expected bytes, offset".into());
    }
    let bytes = parse_u64(parts[0])?.min(255) as u8;
    let string = parts[2..].contains(&"string");
    if bytes == 0 || bytes > if string { 20 } else { 8 } {
        return Err(format!(
            "byte count {bytes} is outside 1..8 (1..20 with `string`)"
        ));
    }
    let offset = parse_i64(parts[1])? as i32;
    let rest = &parts[2..];
    let mut j = ByteJump {
        bytes,
        offset,
        relative: false,
        encoding: parse_encoding(rest)?,
        multiplier: 1,
        align: false,
        from_beginning: false,
        from_end: false,
        post_offset: 0,
        bitmask: None,
    };
    for w in rest {
        let (k, arg) = match w.split_once(' ') {
            Some((k, a)) => (k, Some(a.trim())),
            None => (*w, None),
        };
        match k {
            "relative" => j.relative = true,
            "align" => j.align = true,
            "from_beginning" => j.from_beginning = true,
            "from_end" => j.from_end = true,
            "multiplier" => j.multiplier = parse_u64(arg.unwrap_or(""))?,
            "post_offset" => j.post_offset = parse_i64(arg.unwrap_or(""))?,
            "bitmask" => j.bitmask = Some(parse_u64(arg.unwrap_or(""))?),
            "big" | "little" | "string" | "hex" | "dec" | "oct" | "dce" => {}
            other => return Err(format!("unknown byte_jump option `{other}`")),
        }
    }
    Ok(j)
}

fn parse_threshold(v: &str, detection_filter: bool) -> Result<Threshold, String> {
    let mut kind = if detection_filter {
        Some(ThresholdKind::DetectionFilter)
    } else {
        None
    };
    let mut track = None;
    let mut count = None;
    let mut seconds = None;
    for part in v.split(',') {
        let mut it = part.split_whitespace();
        let (Some(k), Some(val)) = (it.next(), it.next()) else {
            return Err(format!("`{}` is not `name value`", part.trim()));
        };
        match k {
            "type" => {
                kind = Some(match val {
                    "limit" => ThresholdKind::Limit,
                    "threshold" => ThresholdKind::Threshold,
                    "both" => ThresholdKind::Both,
                    o => return Err(format!("unknown threshold type `{o}`")),
                });
            }
            "track" => {
                track = Some(match val {
                    "by_src" => Track::BySrc,
                    "by_dst" => Track::ByDst,
                    "by_rule" => Track::ByRule,
                    "by_both" => Track::ByBoth,
                    o => return Err(format!("unknown track `{o}`")),
                });
            }
            "count" => count = Some(parse_u64(val)? as u32),
            "seconds" => seconds = Some(parse_u64(val)? as u32),
            o => return Err(format!("unknown threshold setting `{o}`")),
        }
    }
    Ok(Threshold {
        kind: kind.ok_or("missing `type`")?,
        track: track.ok_or("missing `track`")?,
        count: count.ok_or("missing `count`")?,
        seconds: seconds.ok_or("missing `seconds`")?,
    })
}

fn parse_flags(v: &str) -> Result<FlagsMatch, String> {
    let (spec, mask) = match v.split_once(',') {
        Some((s, m)) => (s.trim(), m.trim()),
        None => (v.trim(), ""),
    };
    let bits = |s: &str| -> Result<u8, String> {
        let mut b = 0u8;
        for c in s.chars() {
            b |= match c {
                'F' | 'f' => 0x01,
                'S' | 's' => 0x02,
                'R' | 'r' => 0x04,
                'P' | 'p' => 0x08,
                'A' | 'a' => 0x10,
                'U' | 'u' => 0x20,
                'E' | 'e' | '2' => 0x40,
                'C' | 'c' | '1' => 0x80,
                '0' => 0,
                o => return Err(format!("unknown TCP flag `{o}`")),
            };
        }
        Ok(b)
    };
    let (modifier, spec) = match spec.chars().next() {
        Some(c @ ('+' | '*' | '!')) => (Some(c), &spec[1..]),
        _ => (None, spec),
    };
    Ok(FlagsMatch {
        flags: bits(spec)?,
        mask: bits(mask)?,
        modifier,
    })
}

fn parse_flow(v: &str) -> Result<Result<FlowMatch, String>, String> {
    let mut f = FlowMatch::default();
    for w in v.split(',').map(str::trim) {
        match w {
            "to_server" | "from_client" => f.to_server = Some(true),
            "to_client" | "from_server" => f.to_server = Some(false),
            "established" => f.established = Some(true),
            "not_established" => f.established = Some(false),
            "stateless" => f.stateless = true,
            "only_stream" => f.stream = Some(true),
            "no_stream" => f.stream = Some(false),
            "only_frag" | "no_frag" => return Ok(Err(format!("flow:{w}"))),
            o => return Err(format!("unknown flow option `{o}`")),
        }
    }
    Ok(Ok(f))
}

/// Compile a `pcre` value; returns (pcre, buffer named by a legacy flag).
fn parse_pcre(v: &str) -> Result<(Pcre, Option<Buffer>), String> {
    let (negated, inner) = unquote(v)?;
    let body = inner
        .strip_prefix('/')
        .ok_or("a pcre must start with `/`")?;
    let end = body.rfind('/').ok_or("a pcre must end with `/flags`")?;
    let (pattern, flags) = (&body[..end], &body[end + 1..]);
    let mut b = pcre2::bytes::RegexBuilder::new();
    b.jit_if_available(true);
    let mut relative = false;
    let mut anchored = false;
    let mut ungreedy = false;
    let mut buffer = None;
    for f in flags.chars() {
        match f {
            'i' => {
                b.caseless(true);
            }
            's' => {
                b.dotall(true);
            }
            'm' => {
                b.multi_line(true);
            }
            'x' => {
                b.extended(true);
            }
            'A' => anchored = true,
            'E' | 'B' | 'O' => {}
            'G' => ungreedy = true,
            'R' => relative = true,
            'U' => buffer = Some(Buffer::HttpUri),
            'I' => buffer = Some(Buffer::HttpUriRaw),
            'P' => buffer = Some(Buffer::HttpRequestBody),
            'Q' => buffer = Some(Buffer::FileData),
            'H' => buffer = Some(Buffer::HttpHeader),
            'D' => buffer = Some(Buffer::HttpHeaderRaw),
            'M' => buffer = Some(Buffer::HttpMethod),
            'C' => buffer = Some(Buffer::HttpCookie),
            'S' => buffer = Some(Buffer::HttpStatCode),
            'Y' => buffer = Some(Buffer::HttpStatMsg),
            'V' => buffer = Some(Buffer::HttpUserAgent),
            'W' => buffer = Some(Buffer::HttpHost),
            'Z' => buffer = Some(Buffer::HttpHostRaw),
            o => return Err(format!("unknown pcre flag `{o}`")),
        }
    }
    // The rule text escapes `;` and `"` for the rule language; PCRE sees them bare.
    let pattern = pattern.replace("\\;", ";");
    let mut full = String::new();
    if ungreedy {
        full.push_str("(?U)");
    }
    if anchored {
        full.push_str("\\A(?:");
        full.push_str(&pattern);
        full.push(')');
    } else {
        full.push_str(&pattern);
    }
    let regex = b
        .build(&full)
        .map_err(|e| format!("regex does not compile: {e}"))?;
    Ok((
        Pcre {
            regex: Arc::new(regex),
            negated,
            relative,
            source: inner.to_string(),
        },
        buffer,
    ))
}

/// Parse one rule. `file`/`line` are for messages; `names` interns flowbit names.
pub fn parse_rule(
    text: &str,
    file: &Arc<str>,
    line: usize,
    vars: &Vars,
    names: &mut Names,
) -> Result<ParseOutcome, RuleError> {
    let mut b = Builder {
        file,
        line,
        sid: 0,
        lists: Vec::new(),
        current: None,
        last_content: None,
    };
    let text = text.trim();
    let open = text
        .find('(')
        .ok_or_else(|| b.err("header", "no `(` opens the options"))?;
    if !text.ends_with(')') {
        return Err(b.err("options", "the rule does not end with `)`"));
    }
    let header = &text[..open];
    let body = &text[open + 1..text.len() - 1];
    let options = split_options(body).map_err(|m| b.err("options", m))?;
    // sid first, so every later message can name it.
    if let Some((_, Some(v))) = options.iter().find(|(k, _)| k == "sid") {
        b.sid = parse_u64(v).map_err(|m| b.err("sid", m))? as u32;
    } else {
        return Err(b.err("sid", "every rule needs a sid"));
    }

    // Header: action proto src sp dir dst dp. Lists may contain spaces after commas only inside
    // brackets, so tokenise by whitespace outside brackets.
    let mut fields: Vec<String> = Vec::new();
    let mut depth = 0i32;
    let mut cur = String::new();
    for c in header.chars() {
        match c {
            '[' => depth += 1,
            ']' => depth -= 1,
            _ => {}
        }
        if c.is_whitespace() && depth <= 0 {
            if !cur.is_empty() {
                fields.push(std::mem::take(&mut cur));
            }
        } else {
            cur.push(c);
        }
    }
    if !cur.is_empty() {
        fields.push(cur);
    }
    if fields.len() != 7 {
        return Err(b.err(
            "header",
            format!(
                "expected `action proto src sport -> dst dport`, found {} fields",
                fields.len()
            ),
        ));
    }
    let action = match fields[0].as_str() {
        "alert" => Action::Alert,
        "drop" => Action::Drop,
        "reject" | "rejectsrc" | "rejectdst" | "rejectboth" => Action::Reject,
        "pass" => Action::Pass,
        o => return Err(b.err("action", format!("unknown action `{o}`"))),
    };
    let proto = match fields[1].to_ascii_lowercase().as_str() {
        "ip" | "pkthdr" => Proto::Ip,
        "tcp" | "tcp-pkt" | "tcp-stream" => Proto::Tcp,
        "udp" => Proto::Udp,
        "icmp" | "icmpv4" | "icmpv6" => Proto::Icmp,
        "http" | "http1" => Proto::Http,
        "dns" => Proto::Dns,
        "tls" | "ssl" => Proto::Tls,
        other @ ("smtp" | "ftp" | "ftp-data" | "smb" | "ssh" | "dcerpc" | "dhcp" | "nfs"
        | "krb5" | "ikev2" | "ike" | "snmp" | "sip" | "rdp" | "mqtt" | "http2"
        | "modbus" | "dnp3" | "enip" | "ntp" | "tftp" | "imap" | "pop3" | "rfb"
        | "quic" | "sctp" | "pgsql" | "telnet" | "bittorrent-dht" | "irc") => {
            return Ok(ParseOutcome::Skipped {
                sid: b.sid,
                reason: format!("protocol {other}"),
            });
        }
        o => return Err(b.err("protocol", format!("unknown protocol `{o}`"))),
    };
    let src = IpSet::parse(&fields[2], vars).map_err(|m| b.err("source address", m))?;
    let src_ports = PortSet::parse(&fields[3], vars).map_err(|m| b.err("source port", m))?;
    let bidirectional = match fields[4].as_str() {
        "->" => false,
        "<>" => true,
        o => return Err(b.err("direction", format!("`{o}` is neither `->` nor `<>`"))),
    };
    let dst = IpSet::parse(&fields[5], vars).map_err(|m| b.err("destination address", m))?;
    let dst_ports = PortSet::parse(&fields[6], vars).map_err(|m| b.err("destination port", m))?;

    let mut rule = Rule {
        action,
        proto,
        src,
        src_ports,
        dst,
        dst_ports,
        bidirectional,
        gid: 1,
        sid: b.sid,
        rev: 0,
        msg: String::new(),
        classtype: None,
        priority: None,
        flow: FlowMatch::default(),
        lists: Vec::new(),
        dsize: None,
        itype: None,
        icode: None,
        tcp_flags: None,
        flowbits: Vec::new(),
        noalert: false,
        threshold: None,
        file: file.clone(),
        line,
    };

    for (key, value) in &options {
        let key = key.as_str();
        let val = value.as_deref().unwrap_or("");
        let need = |b: &Builder| -> Result<(), RuleError> {
            if value.is_none() {
                Err(b.err(key, "needs a value"))
            } else {
                Ok(())
            }
        };
        if DESCRIPTIVE.contains(&key) {
            continue;
        }
        if let Some(buffer) = sticky_buffer(key) {
            let i = b.list_for(buffer);
            b.current = Some(i);
            continue;
        }
        if let Some(buffer) = legacy_modifier(key) {
            let (l, i) = b
                .last_content
                .ok_or_else(|| b.err(key, "content modifier without a preceding content"))?;
            if b.lists[l].buffer != buffer {
                let item = b.lists[l].items.remove(i);
                let target = b.list_for(buffer);
                let pos = b.push(target, item);
                b.last_content = Some(pos);
            }
            continue;
        }
        match key {
            "msg" => {
                need(&b)?;
                rule.msg = decode_text(val).map_err(|m| b.err(key, m))?;
            }
            "sid" => {}
            "rev" => rule.rev = parse_u64(val).map_err(|m| b.err(key, m))? as u32,
            "gid" => rule.gid = parse_u64(val).map_err(|m| b.err(key, m))? as u32,
            "classtype" => rule.classtype = Some(val.trim().to_string()),
            "priority" => rule.priority = Some(parse_u64(val).map_err(|m| b.err(key, m))? as u8),
            "pkt_data" => b.current = None,
            "content" => {
                need(&b)?;
                let (negated, inner) = unquote(val).map_err(|m| b.err(key, m))?;
                let pattern = decode_pattern(inner).map_err(|m| b.err(key, m))?;
                let list = b.current_list();
                let pos = b.push(
                    list,
                    Item::Content(Content {
                        pattern,
                        nocase: false,
                        negated,
                        offset: None,
                        depth: None,
                        distance: None,
                        within: None,
                        endswith: false,
                        fast_pattern: false,
                    }),
                );
                b.last_content = Some(pos);
            }
            "nocase" => b.content_mut(key)?.nocase = true,
            "fast_pattern" => b.content_mut(key)?.fast_pattern = true,
            "startswith" => {
                let c = b.content_mut(key)?;
                c.depth = Some(c.pattern.len() as u32);
                c.offset = Some(0);
            }
            "endswith" => b.content_mut(key)?.endswith = true,
            "depth" | "offset" | "within" => {
                let n = parse_u64(val).map_err(|m| b.err(key, m))?;
                let n = u32::try_from(n).map_err(|_| b.err(key, "too large"))?;
                let c = b.content_mut(key)?;
                let len = c.pattern.len() as u32;
                match key {
                    "depth" => c.depth = Some(n),
                    "offset" => c.offset = Some(n),
                    _ => c.within = Some(n),
                }
                if key != "offset" && n < len {
                    return Err(b.err(
                        key,
                        format!("{n} is shorter than the pattern ({len} bytes)"),
                    ));
                }
            }
            "distance" => {
                let n = parse_i64(val).map_err(|m| b.err(key, m))?;
                b.content_mut(key)?.distance = Some(n as i32);
            }
            "pcre" => {
                need(&b)?;
                let (pcre, buffer) = parse_pcre(val).map_err(|m| b.err(key, m))?;
                let list = match buffer {
                    Some(buf) => b.list_for(buf),
                    None => b.current_list(),
                };
                b.push(list, Item::Pcre(pcre));
            }
            "isdataat" => {
                let (negated, v) = match val.trim().strip_prefix('!') {
                    Some(r) => (true, r),
                    None => (false, val.trim()),
                };
                let mut parts = v.split(',').map(str::trim);
                let at = parse_u64(parts.next().unwrap_or("")).map_err(|m| b.err(key, m))? as u32;
                let mut relative = false;
                for p in parts {
                    match p {
                        "relative" => relative = true,
                        "rawbytes" => {}
                        o => return Err(b.err(key, format!("unknown isdataat option `{o}`"))),
                    }
                }
                let list = b.current_list();
                b.push(
                    list,
                    Item::IsDataAt {
                        at,
                        relative,
                        negated,
                    },
                );
            }
            "byte_test" => {
                let t = parse_byte_test(val).map_err(|m| b.err(key, m))?;
                let list = b.current_list();
                b.push(list, Item::ByteTest(t));
            }
            "byte_jump" => {
                let j = parse_byte_jump(val).map_err(|m| b.err(key, m))?;
                let list = b.current_list();
                b.push(list, Item::ByteJump(j));
            }
            "bsize" => {
                let c = parse_cmp(val).map_err(|m| b.err(key, m))?;
                let Some(list) = b.current else {
                    return Err(b.err(key, "bsize needs a sticky buffer before it"));
                };
                b.push(list, Item::Size(c));
            }
            "urilen" => {
                let (spec, raw) = match val.split_once(',') {
                    Some((s, m)) => (s, m.trim() == "raw"),
                    None => (val, false),
                };
                let c = parse_cmp(spec).map_err(|m| b.err(key, m))?;
                let list = b.list_for(if raw {
                    Buffer::HttpUriRaw
                } else {
                    Buffer::HttpUri
                });
                b.lists[list].items.insert(0, Item::Size(c));
                // The last content of this list moved by one.
                if let Some(pos) = b.last_content.as_mut()
                    && pos.0 == list
                {
                    pos.1 += 1;
                }
            }
            "dsize" => rule.dsize = Some(parse_cmp(val).map_err(|m| b.err(key, m))?),
            "itype" => rule.itype = Some(parse_cmp(val).map_err(|m| b.err(key, m))?),
            "icode" => rule.icode = Some(parse_cmp(val).map_err(|m| b.err(key, m))?),
            "flags" => rule.tcp_flags = Some(parse_flags(val).map_err(|m| b.err(key, m))?),
            "flow" => match parse_flow(val).map_err(|m| b.err(key, m))? {
                Ok(f) => rule.flow = f,
                Err(unsupported) => {
                    return Ok(ParseOutcome::Skipped {
                        sid: b.sid,
                        reason: unsupported,
                    });
                }
            },
            "dotprefix" => {
                let Some(list) = b.current else {
                    return Err(b.err(key, "a transform needs a sticky buffer before it"));
                };
                b.lists[list].transforms.dotprefix = true;
            }
            "noalert" => rule.noalert = true,
            "flowbits" => {
                let mut parts = val.splitn(2, ',').map(str::trim);
                let op = parts.next().unwrap_or("");
                let name = parts.next();
                let op = match op {
                    "noalert" => {
                        rule.noalert = true;
                        continue;
                    }
                    "set" => FlowbitOp::Set,
                    "unset" => FlowbitOp::Unset,
                    "toggle" => FlowbitOp::Toggle,
                    "isset" => FlowbitOp::IsSet,
                    "isnotset" => FlowbitOp::IsNotSet,
                    o => return Err(b.err(key, format!("unknown flowbits command `{o}`"))),
                };
                let name = name.ok_or_else(|| b.err(key, "needs a flowbit name"))?;
                let any = name.contains('|');
                let names_v: Vec<u32> = name
                    .split(['|', '&'])
                    .map(|n| names.intern(n.trim()))
                    .collect();
                rule.flowbits.push(Flowbit {
                    op,
                    names: names_v,
                    any,
                });
            }
            "threshold" | "detection_filter" => {
                let t =
                    parse_threshold(val, key == "detection_filter").map_err(|m| b.err(key, m))?;
                rule.threshold = Some(t);
            }
            other => {
                return Ok(ParseOutcome::Skipped {
                    sid: b.sid,
                    reason: format!("keyword {other}"),
                });
            }
        }
    }
    if rule.msg.is_empty() {
        return Err(b.err("msg", "every rule needs a msg"));
    }
    rule.lists = b
        .lists
        .into_iter()
        .filter(|l| !l.items.is_empty() || l.transforms.dotprefix)
        .collect();
    if let Some(app) = rule.proto.app()
        && let Some(l) = rule
            .lists
            .iter()
            .find(|l| l.buffer.app().is_some_and(|a| a != app))
    {
        return Err(RuleError {
            file: file.to_string(),
            line,
            sid: rule.sid,
            option: l.buffer.name().to_string(),
            message: format!("buffer of another protocol in a `{}` rule", app.name()),
        });
    }
    Ok(ParseOutcome::Loaded(Box::new(rule)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<ParseOutcome, RuleError> {
        let file: Arc<str> = Arc::from("t.rules");
        parse_rule(text, &file, 7, &Vars::default(), &mut Names::default())
    }

    fn loaded(text: &str) -> Rule {
        match parse(text) {
            Ok(ParseOutcome::Loaded(r)) => *r,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn sticky_and_legacy_buffers() {
        let r = loaded(
            r#"alert http $HOME_NET any -> $EXTERNAL_NET any (msg:"x"; flow:established,to_server; content:"GET"; http_method; content:"/a"; http_uri; content:"b"; distance:0; http_uri; http.host; content:"evil.com"; endswith; sid:1; rev:2;)"#,
        );
        assert_eq!(r.lists.len(), 3);
        assert_eq!(r.lists[0].buffer, Buffer::HttpMethod);
        assert_eq!(r.lists[1].buffer, Buffer::HttpUri);
        assert_eq!(r.lists[1].items.len(), 2);
        assert_eq!(r.lists[2].buffer, Buffer::HttpHost);
        assert_eq!(r.flow.to_server, Some(true));
        assert_eq!(r.rev, 2);
    }

    #[test]
    fn errors_name_the_option() {
        let e =
            parse(r#"alert tcp any any -> any any (msg:"x"; content:"|4|"; sid:5;)"#).unwrap_err();
        assert_eq!((e.sid, e.option.as_str(), e.line), (5, "content", 7));
        let e = parse(r#"alert tcp any any -> any any (msg:"x"; pcre:"/(/"; sid:6;)"#).unwrap_err();
        assert_eq!(e.option, "pcre");
        let e = parse(r#"alert tcp any any -> any any (msg:"x"; depth:3; sid:8;)"#).unwrap_err();
        assert_eq!(e.option, "depth");
        let e = parse(r#"alert tcp any any -> [1.2.3.4 any (msg:"x"; sid:9;)"#).unwrap_err();
        assert_eq!(e.option, "header");
    }

    #[test]
    fn unsupported_keywords_are_skipped_with_a_reason() {
        match parse(r#"alert tcp any any -> any any (msg:"x"; xbits:set,a,track ip_src; sid:3;)"#) {
            Ok(ParseOutcome::Skipped { sid: 3, reason }) => assert_eq!(reason, "keyword xbits"),
            o => panic!("{o:?}"),
        }
        match parse(r#"alert smtp any any -> any any (msg:"x"; sid:4;)"#) {
            Ok(ParseOutcome::Skipped { reason, .. }) => assert_eq!(reason, "protocol smtp"),
            o => panic!("{o:?}"),
        }
    }
}
