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
    NfListObject::Table(nftables::schema::Table {
        family: FAMILY,
        name: Cow::Borrowed(TABLE),
        handle: None,
    })
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

/// A named interval set of addresses of one family.
pub fn address_set(name: &str, v6: bool, members: &[IpNetwork]) -> NfListObject<'static> {
    let mut flags = HashSet::new();
    flags.insert(SetFlag::Interval);
    let elems: Vec<Expr> = members
        .iter()
        .filter(|n| n.is_ipv6() == v6)
        .map(prefix)
        .collect();
    NfListObject::Set(Box::new(Set {
        family: FAMILY,
        table: Cow::Borrowed(TABLE),
        name: Cow::Owned(name.into()),
        set_type: SetTypeValue::Single(if v6 {
            SetType::Ipv6Addr
        } else {
            SetType::Ipv4Addr
        }),
        flags: Some(flags),
        elem: if elems.is_empty() {
            None
        } else {
            Some(Cow::Owned(elems))
        },
        ..Set::default()
    }))
}
