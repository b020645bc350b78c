//! The rule model: what a parsed Suricata rule means, independent of how it is matched.

pub mod content;
pub mod parse;

use std::sync::Arc;

use crate::addr::{IpSet, PortSet};
pub use parse::{ParseOutcome, RuleError, parse_rule};

/// What a rule does when it matches. Offline and in IDS mode every action alerts; `drop` and the
/// `reject` family block in IPS mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Alert,
    Drop,
    Reject,
    Pass,
}

/// The protocol field of a rule header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Proto {
    Ip,
    Tcp,
    Udp,
    Icmp,
    Http,
    Dns,
    Tls,
}

impl Proto {
    pub fn app(self) -> Option<AppProto> {
        match self {
            Proto::Http => Some(AppProto::Http),
            Proto::Dns => Some(AppProto::Dns),
            Proto::Tls => Some(AppProto::Tls),
            _ => None,
        }
    }
}

/// Application protocols the engine parses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AppProto {
    Http,
    Dns,
    Tls,
}

impl AppProto {
    pub fn name(self) -> &'static str {
        match self {
            AppProto::Http => "http",
            AppProto::Dns => "dns",
            AppProto::Tls => "tls",
        }
    }
}

/// Which side of a transaction a buffer comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Request,
    Response,
    /// Exists on both sides (headers, content type…); the rule's direction picks one.
    Either,
}

macro_rules! buffers {
    ($($variant:ident => $name:literal, $app:ident, $side:ident, $multi:literal;)*) => {
        /// A sticky buffer a content can be matched in (or the raw packet payload).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Buffer { Payload, $($variant,)* }

        impl Buffer {
            /// Every buffer, payload first.
            pub const ALL: &'static [Buffer] = &[Buffer::Payload, $(Buffer::$variant,)*];
            /// The keyword that selects it (`pkt_data` for the payload).
            pub fn name(self) -> &'static str {
                match self { Buffer::Payload => "pkt_data", $(Buffer::$variant => $name,)* }
            }
            pub fn from_name(name: &str) -> Option<Buffer> {
                match name { $($name => Some(Buffer::$variant),)* _ => None }
            }
            /// The application protocol that fills it (`None` for the payload).
            pub fn app(self) -> Option<AppProto> {
                match self { Buffer::Payload => None, $(Buffer::$variant => Some(AppProto::$app),)* }
            }
            pub fn side(self) -> Side {
                match self { Buffer::Payload => Side::Either, $(Buffer::$variant => Side::$side,)* }
            }
            /// A multi-buffer holds several values (one per query, one per certificate); a list
            /// matches when it matches any one of them.
            pub fn is_multi(self) -> bool {
                match self { Buffer::Payload => false, $(Buffer::$variant => $multi,)* }
            }
            pub fn index(self) -> usize { self as usize }
        }
    };
}

buffers! {
    HttpUri => "http.uri", Http, Request, false;
    HttpUriRaw => "http.uri.raw", Http, Request, false;
    HttpMethod => "http.method", Http, Request, false;
    HttpHost => "http.host", Http, Request, false;
    HttpHostRaw => "http.host.raw", Http, Request, false;
    HttpUserAgent => "http.user_agent", Http, Request, false;
    HttpReferer => "http.referer", Http, Request, false;
    HttpAccept => "http.accept", Http, Request, false;
    HttpAcceptEnc => "http.accept_enc", Http, Request, false;
    HttpAcceptLang => "http.accept_lang", Http, Request, false;
    HttpRequestLine => "http.request_line", Http, Request, false;
    HttpRequestBody => "http.request_body", Http, Request, false;
    HttpStatCode => "http.stat_code", Http, Response, false;
    HttpStatMsg => "http.stat_msg", Http, Response, false;
    HttpResponseLine => "http.response_line", Http, Response, false;
    HttpLocation => "http.location", Http, Response, false;
    HttpServer => "http.server", Http, Response, false;
    HttpResponseBody => "http.response_body", Http, Response, false;
    HttpHeader => "http.header", Http, Either, false;
    HttpHeaderRaw => "http.header.raw", Http, Either, false;
    HttpHeaderNames => "http.header_names", Http, Either, false;
    HttpCookie => "http.cookie", Http, Either, false;
    HttpContentType => "http.content_type", Http, Either, false;
    HttpContentLen => "http.content_len", Http, Either, false;
    HttpConnection => "http.connection", Http, Either, false;
    HttpProtocol => "http.protocol", Http, Either, false;
    HttpStart => "http.start", Http, Either, false;
    FileData => "file.data", Http, Either, false;
    DnsQuery => "dns.query", Dns, Request, true;
    TlsSni => "tls.sni", Tls, Request, false;
    Ja3Hash => "ja3.hash", Tls, Request, false;
    Ja3String => "ja3.string", Tls, Request, false;
    Ja3sHash => "ja3s.hash", Tls, Response, false;
    TlsCerts => "tls.certs", Tls, Response, true;
    TlsCertSubject => "tls.cert_subject", Tls, Response, false;
    TlsCertIssuer => "tls.cert_issuer", Tls, Response, false;
}

/// Number of distinct buffers.
pub const BUFFER_COUNT: usize = Buffer::ALL.len();

/// An integer comparison (`dsize:>100`, `bsize:10<>20`, `urilen:5`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cmp {
    Eq(u64),
    Ne(u64),
    Lt(u64),
    Le(u64),
    Gt(u64),
    Ge(u64),
    /// Exclusive range `a<>b`.
    Between(u64, u64),
}

impl Cmp {
    pub fn matches(self, v: u64) -> bool {
        match self {
            Cmp::Eq(x) => v == x,
            Cmp::Ne(x) => v != x,
            Cmp::Lt(x) => v < x,
            Cmp::Le(x) => v <= x,
            Cmp::Gt(x) => v > x,
            Cmp::Ge(x) => v >= x,
            Cmp::Between(a, b) => v > a && v < b,
        }
    }
}

/// A `content` with its modifiers.
#[derive(Debug, Clone)]
pub struct Content {
    pub pattern: Vec<u8>,
    pub nocase: bool,
    pub negated: bool,
    pub offset: Option<u32>,
    pub depth: Option<u32>,
    pub distance: Option<i32>,
    pub within: Option<u32>,
    pub endswith: bool,
    pub fast_pattern: bool,
}

impl Content {
    pub fn is_relative(&self) -> bool {
        self.distance.is_some() || self.within.is_some()
    }
}

/// A compiled `pcre`.
#[derive(Debug, Clone)]
pub struct Pcre {
    pub regex: Arc<pcre2::bytes::Regex>,
    pub negated: bool,
    pub relative: bool,
    pub source: String,
}

/// Number encoding for byte_test / byte_jump.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NumEncoding {
    Big,
    Little,
    String(u32),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ByteOp {
    Lt,
    Gt,
    Le,
    Ge,
    Eq,
    And,
    Xor,
}

#[derive(Debug, Clone)]
pub struct ByteTest {
    pub bytes: u8,
    pub op: ByteOp,
    pub negated: bool,
    pub value: u64,
    pub offset: i32,
    pub relative: bool,
    pub encoding: NumEncoding,
    pub bitmask: Option<u64>,
}

#[derive(Debug, Clone)]
pub struct ByteJump {
    pub bytes: u8,
    pub offset: i32,
    pub relative: bool,
    pub encoding: NumEncoding,
    pub multiplier: u64,
    pub align: bool,
    pub from_beginning: bool,
    pub from_end: bool,
    pub post_offset: i64,
    pub bitmask: Option<u64>,
}

/// One step of a buffer inspection, in rule order.
#[derive(Debug, Clone)]
pub enum Item {
    Content(Content),
    Pcre(Pcre),
    IsDataAt {
        at: u32,
        relative: bool,
        negated: bool,
    },
    ByteTest(ByteTest),
    ByteJump(ByteJump),
    /// `bsize` or `urilen`: the buffer's length.
    Size(Cmp),
}

/// A transform applied to a buffer before inspection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Transforms {
    pub dotprefix: bool,
}

/// Everything a rule inspects in one buffer.
#[derive(Debug, Clone)]
pub struct List {
    pub buffer: Buffer,
    pub transforms: Transforms,
    pub items: Vec<Item>,
}

/// Direction and state constraints from `flow:`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FlowMatch {
    /// `Some(true)` to_server, `Some(false)` to_client.
    pub to_server: Option<bool>,
    pub established: Option<bool>,
    pub stateless: bool,
    /// `only_stream` / `no_stream` (packet vs reassembled data); recorded, both inspect payload.
    pub stream: Option<bool>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlowbitOp {
    Set,
    Unset,
    Toggle,
    IsSet,
    IsNotSet,
}

/// One `flowbits:` command; `names` are OR-ed (`a|b`) or AND-ed (`a&b`) for checks.
#[derive(Debug, Clone)]
pub struct Flowbit {
    pub op: FlowbitOp,
    pub names: Vec<u32>,
    pub any: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ThresholdKind {
    Limit,
    Threshold,
    Both,
    /// `detection_filter`: alert on every match after `count` within `seconds`.
    DetectionFilter,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Track {
    BySrc,
    ByDst,
    ByRule,
    ByBoth,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Threshold {
    pub kind: ThresholdKind,
    pub track: Track,
    pub count: u32,
    pub seconds: u32,
}

/// TCP flag test (`flags:SA,12`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FlagsMatch {
    pub flags: u8,
    pub mask: u8,
    /// `None` exact, `Some('+')` all of these plus any, `Some('*')` any of these, `Some('!')` none.
    pub modifier: Option<char>,
}

impl FlagsMatch {
    pub fn matches(&self, tcp_flags: u8) -> bool {
        let f = tcp_flags & !self.mask;
        match self.modifier {
            None => f == self.flags,
            Some('+') => f & self.flags == self.flags,
            Some('*') => f & self.flags != 0,
            Some('!') => f & self.flags != self.flags,
            Some(_) => false,
        }
    }
}

/// A loaded rule.
#[derive(Debug, Clone)]
pub struct Rule {
    pub action: Action,
    pub proto: Proto,
    pub src: IpSet,
    pub src_ports: PortSet,
    pub dst: IpSet,
    pub dst_ports: PortSet,
    pub bidirectional: bool,
    pub gid: u32,
    pub sid: u32,
    pub rev: u32,
    pub msg: String,
    pub classtype: Option<String>,
    pub priority: Option<u8>,
    pub flow: FlowMatch,
    pub lists: Vec<List>,
    pub dsize: Option<Cmp>,
    pub itype: Option<Cmp>,
    pub icode: Option<Cmp>,
    pub tcp_flags: Option<FlagsMatch>,
    pub flowbits: Vec<Flowbit>,
    pub noalert: bool,
    pub threshold: Option<Threshold>,
    pub file: Arc<str>,
    pub line: usize,
}

impl Rule {
    /// The app-layer protocol the rule needs: from its header or from its buffers.
    pub fn app(&self) -> Option<AppProto> {
        self.proto
            .app()
            .or_else(|| self.lists.iter().find_map(|l| l.buffer.app()))
    }

    /// Whether the rule looks at nothing but protocol, addresses and ports (Suricata's
    /// "IP-only"); it may set flowbits. Such rules are matched once per flow direction through
    /// an address table instead of per packet.
    pub fn is_ip_only(&self) -> bool {
        matches!(
            self.proto,
            Proto::Ip | Proto::Tcp | Proto::Udp | Proto::Icmp
        ) && self.lists.is_empty()
            && self.flow == FlowMatch::default()
            && self.dsize.is_none()
            && self.itype.is_none()
            && self.icode.is_none()
            && self.tcp_flags.is_none()
            && !self
                .flowbits
                .iter()
                .any(|f| matches!(f.op, FlowbitOp::IsSet | FlowbitOp::IsNotSet))
    }

    /// The side of the transaction the rule is inspected on: its `flow` direction, else the side
    /// of its buffers; `None` means both.
    pub fn side(&self) -> Option<bool> {
        if let Some(d) = self.flow.to_server {
            return Some(d);
        }
        for l in &self.lists {
            match l.buffer.side() {
                Side::Request => return Some(true),
                Side::Response => return Some(false),
                Side::Either => {}
            }
        }
        None
    }

    /// Whether the rule reads or writes flowbits (sets go first within one packet).
    pub fn sets_flowbits(&self) -> bool {
        self.flowbits
            .iter()
            .any(|f| matches!(f.op, FlowbitOp::Set | FlowbitOp::Unset | FlowbitOp::Toggle))
    }
}
