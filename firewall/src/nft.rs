//! Small constructors over the `nftables` crate's JSON schema types, so the renderer reads like
//! the nft rules it produces.

use std::borrow::Cow;
use std::collections::HashSet;

use ipnetwork::IpNetwork;
use nftables::expr::{self, Expression, Meta, MetaKey, NamedExpression, Payload, PayloadField};
use nftables::schema::{Chain, NfListObject, Rule, Set, SetFlag, SetType, SetTypeValue};
use nftables::stmt::{self, Match, Operator, Statement};
use nftables::types::{NfChainPolicy, NfChainType, NfFamily, NfHook};

/// The table edgeward owns; nothing else in the kernel ruleset is touched.
pub const TABLE: &str = "edgeward";
pub const FAMILY: NfFamily = NfFamily::INet;

pub type Expr = Expression<'static>;
pub type Stmt = Statement<'static>;

pub fn s(text: impl Into<String>) -> Expr {
    Expression::String(Cow::Owned(text.into()))
}

pub fn num(n: u32) -> Expr {
    Expression::Number(n)
}

pub fn meta(key: MetaKey) -> Expr {
    Expression::Named(NamedExpression::Meta(Meta { key }))
}

pub fn payload(protocol: &str, field: &str) -> Expr {
    Expression::Named(NamedExpression::Payload(Payload::PayloadField(
        PayloadField {
            protocol: Cow::Owned(protocol.into()),
            field: Cow::Owned(field.into()),
        },
    )))
}

pub fn ct(key: &str) -> Expr {
    Expression::Named(NamedExpression::CT(expr::CT {
        key: Cow::Owned(key.into()),
        family: None,
        dir: None,
    }))
}

/// A reference to a named set, `@name`.
pub fn set_ref(name: &str) -> Expr {
    s(format!("@{name}"))
}

/// An anonymous set `{ a, b, c }`.
pub fn anon_set(items: Vec<Expr>) -> Expr {
    Expression::Named(NamedExpression::Set(
        items.into_iter().map(expr::SetItem::Element).collect(),
    ))
}

pub fn prefix(net: &IpNetwork) -> Expr {
    if net.prefix() == max_prefix(net) {
        return s(net.ip().to_string());
    }
    Expression::Named(NamedExpression::Prefix(expr::Prefix {
        addr: Box::new(s(net.network().to_string())),
        len: u32::from(net.prefix()),
    }))
}

/// A prefix written literally, e.g. `raw_prefix("fe80::", 10)`.
pub fn raw_prefix(network: &str, len: u32) -> Expr {
    Expression::Named(NamedExpression::Prefix(expr::Prefix {
        addr: Box::new(s(network)),
        len,
    }))
}

fn max_prefix(net: &IpNetwork) -> u8 {
    match net {
        IpNetwork::V4(_) => 32,
        IpNetwork::V6(_) => 128,
    }
}

pub fn range(first: u16, last: u16) -> Expr {
    if first == last {
        return num(u32::from(first));
    }
    Expression::Range(Box::new(expr::Range {
        range: [num(u32::from(first)), num(u32::from(last))],
    }))
}

pub fn matches(left: Expr, op: Operator, right: Expr) -> Stmt {
    Statement::Match(Match { left, right, op })
}

pub fn eq(left: Expr, right: Expr) -> Stmt {
    matches(left, Operator::EQ, right)
}

pub fn ne(left: Expr, right: Expr) -> Stmt {
    matches(left, Operator::NEQ, right)
}

pub fn is_in(left: Expr, right: Expr) -> Stmt {
    matches(left, Operator::IN, right)
}

pub fn accept() -> Stmt {
    Statement::Accept(None)
}

pub fn drop() -> Stmt {
    Statement::Drop(None)
}

pub fn jump(chain: &str) -> Stmt {
    Statement::Jump(stmt::JumpTarget {
        target: Cow::Owned(chain.into()),
    })
}

pub fn counter() -> Stmt {
    Statement::Counter(stmt::Counter::Anonymous(None))
}

pub fn masquerade() -> Stmt {
    Statement::Masquerade(None)
}

/// `meta nfproto ipv4|ipv6`.
pub fn nfproto(v6: bool) -> Stmt {
    eq(meta(MetaKey::Nfproto), s(if v6 { "ipv6" } else { "ipv4" }))
}

/// `ip saddr` / `ip6 daddr` for a family.
pub fn addr(v6: bool, field: &str) -> Expr {
    payload(if v6 { "ip6" } else { "ip" }, field)
}

pub fn table_obj() -> NfListObject<'static> {
    NfListObject::Table(table_obj_inner())
}

pub fn table_obj_inner() -> nftables::schema::Table<'static> {
    nftables::schema::Table {
        family: FAMILY,
        name: Cow::Borrowed(TABLE),
        handle: None,
    }
}

/// A base chain hooked into netfilter.
pub fn base_chain(
    name: &str,
    kind: NfChainType,
    hook: NfHook,
    prio: i32,
    policy: NfChainPolicy,
) -> NfListObject<'static> {
    NfListObject::Chain(Chain {
        family: FAMILY,
        table: Cow::Borrowed(TABLE),
        name: Cow::Owned(name.into()),
        _type: Some(kind),
        hook: Some(hook),
        prio: Some(prio),
        policy: Some(policy),
        ..Chain::default()
    })
}

/// A regular chain, reached by jumps.
pub fn chain(name: &str) -> NfListObject<'static> {
    NfListObject::Chain(Chain {
        family: FAMILY,
        table: Cow::Borrowed(TABLE),
        name: Cow::Owned(name.into()),
        ..Chain::default()
    })
}

pub fn rule(chain: &str, stmts: Vec<Stmt>, comment: Option<String>) -> NfListObject<'static> {
    NfListObject::Rule(Rule {
        family: FAMILY,
        table: Cow::Borrowed(TABLE),
        chain: Cow::Owned(chain.into()),
        expr: Cow::Owned(stmts),
        comment: comment.map(Cow::Owned),
        ..Rule::default()
    })
}

/// The members of one family with duplicates and prefixes inside other members removed: an
/// interval set refuses overlapping elements.
pub fn minimal_cover(members: &[IpNetwork], v6: bool) -> Vec<IpNetwork> {
    let mut list: Vec<IpNetwork> = members
        .iter()
        .filter(|n| n.is_ipv6() == v6)
        .copied()
        .collect();
    list.sort_by_key(|n| (n.prefix(), n.network()));
    let mut out: Vec<IpNetwork> = Vec::new();
    for n in list {
        let covered = out
            .iter()
            .any(|o| o.prefix() <= n.prefix() && o.contains(n.network()));
        if !covered {
            out.push(n);
        }
    }
    out.sort_by_key(ipnetwork::IpNetwork::network);
    out
}

/// A named interval set of addresses (prefixes) of one family.
pub fn address_set(name: &str, v6: bool, members: &[IpNetwork]) -> NfListObject<'static> {
    typed_address_set(name, v6, members, true)
}

/// A named hash set of single host addresses of one family: updates need no interval
/// bookkeeping, so changing one member of thousands stays cheap.
pub fn host_set(name: &str, v6: bool, members: &[IpNetwork]) -> NfListObject<'static> {
    typed_address_set(name, v6, members, false)
}

fn typed_address_set(
    name: &str,
    v6: bool,
    members: &[IpNetwork],
    interval: bool,
) -> NfListObject<'static> {
    let mut flags = HashSet::new();
    if interval {
        flags.insert(SetFlag::Interval);
    }
    let elems: Vec<Expr> = minimal_cover(members, v6).iter().map(prefix).collect();
    NfListObject::Set(Box::new(Set {
        family: FAMILY,
        table: Cow::Borrowed(TABLE),
        name: Cow::Owned(name.into()),
        set_type: SetTypeValue::Single(if v6 {
            SetType::Ipv6Addr
        } else {
            SetType::Ipv4Addr
        }),
        flags: (!flags.is_empty()).then_some(flags),
        elem: if elems.is_empty() {
            None
        } else {
            Some(Cow::Owned(elems))
        },
        ..Set::default()
    }))
}

/// `limit rate [over] N/second burst B packets`.
pub fn limit(rate: u32, burst: u32, over: bool) -> Stmt {
    Statement::Limit(stmt::Limit {
        rate,
        rate_unit: Some(Cow::Borrowed("packets")),
        per: Some(Cow::Borrowed("second")),
        burst: Some(burst),
        burst_unit: None,
        inv: over.then_some(true),
    })
}

/// `log group G prefix "P"` (NFLOG, read by the daemon).
pub fn nflog(group: u32, prefix: &str) -> Stmt {
    let mut log = stmt::Log::new(Some(group));
    log.prefix = Some(Cow::Owned(prefix.to_string()));
    Statement::Log(Some(log))
}

/// `meter NAME { KEY limit rate over N/second burst B packets }`: a per-key rate limit.
pub fn meter_over(name: &str, key: Expr, rate: u32, burst: u32) -> Stmt {
    Statement::Meter(stmt::Meter {
        name: Cow::Owned(name.to_string()),
        key,
        stmt: Box::new(limit(rate, burst, true)),
    })
}

/// `tcp flags & (syn|rst) == syn` — the first packet of a TCP handshake.
pub fn tcp_syn() -> Stmt {
    eq(
        Expression::BinaryOperation(Box::new(expr::BinaryOperation::AND(
            payload("tcp", "flags"),
            Expression::List(vec![s("syn"), s("rst")]),
        ))),
        s("syn"),
    )
}

/// `tcp flags & (syn|ack) == syn` — a connection attempt (a SYN, not a SYN-ACK answering one).
pub fn tcp_syn_only() -> Stmt {
    eq(
        Expression::BinaryOperation(Box::new(expr::BinaryOperation::AND(
            payload("tcp", "flags"),
            Expression::List(vec![s("syn"), s("ack")]),
        ))),
        s("syn"),
    )
}

/// `tcp option maxseg size set rt mtu`.
pub fn clamp_mss() -> Stmt {
    Statement::Mangle(stmt::Mangle {
        key: Expression::Named(NamedExpression::TcpOption(expr::TcpOption {
            name: Cow::Borrowed("maxseg"),
            field: Some(Cow::Borrowed("size")),
        })),
        value: Expression::Named(NamedExpression::RT(expr::RT {
            key: expr::RTKey::MTU,
            family: None,
        })),
    })
}

/// `fib saddr . iif oif missing`: no route back out of the ingress interface.
pub fn fib_reverse_path_missing() -> Stmt {
    let mut flags = HashSet::new();
    flags.insert(expr::FibFlag::Saddr);
    flags.insert(expr::FibFlag::Iif);
    eq(
        Expression::Named(NamedExpression::Fib(expr::Fib {
            result: expr::FibResult::Oif,
            flags,
        })),
        Expression::Boolean(false),
    )
}

/// A named set of Ethernet addresses.
pub fn mac_set(name: &str, macs: &[String]) -> NfListObject<'static> {
    let elems: Vec<Expr> = macs.iter().map(|m| s(m.clone())).collect();
    NfListObject::Set(Box::new(Set {
        family: FAMILY,
        table: Cow::Borrowed(TABLE),
        name: Cow::Owned(name.into()),
        set_type: SetTypeValue::Single(SetType::EtherAddr),
        elem: if elems.is_empty() {
            None
        } else {
            Some(Cow::Owned(elems))
        },
        ..Set::default()
    }))
}

/// `KEY set VALUE`, e.g. `meta mark set ct mark`.
pub fn mangle(key: Expr, value: Expr) -> Stmt {
    Statement::Mangle(stmt::Mangle { key, value })
}
