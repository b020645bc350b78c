//! Address and port lists of rule headers: `any`, CIDRs, ranges, `[a,b]` groups, `!` negation and
//! variables, resolved into sorted interval sets that answer "does this set hold X" by binary search.

use std::net::IpAddr;

use crate::vars::Vars;

/// A set of IPv4 and IPv6 addresses as sorted, disjoint, inclusive ranges.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct IpSet {
    v4: Vec<(u32, u32)>,
    v6: Vec<(u128, u128)>,
}

/// A set of ports as sorted, disjoint, inclusive ranges.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortSet {
    ranges: Vec<(u16, u16)>,
}

fn normalize<T: Copy + Ord + num_step::Step>(mut r: Vec<(T, T)>) -> Vec<(T, T)> {
    r.sort();
    let mut out: Vec<(T, T)> = Vec::with_capacity(r.len());
    for (a, b) in r {
        if let Some(last) = out.last_mut()
            && (a <= last.1 || T::succ(last.1) == Some(a))
        {
            if b > last.1 {
                last.1 = b;
            }
            continue;
        }
        out.push((a, b));
    }
    out
}

fn complement<T: Copy + Ord + num_step::Step>(r: &[(T, T)]) -> Vec<(T, T)> {
    let mut out = Vec::new();
    let mut next = Some(T::MIN);
    for &(a, b) in r {
        if let Some(n) = next
            && n < a
        {
            out.push((n, T::pred(a).unwrap_or(T::MIN)));
        }
        next = T::succ(b);
    }
    if let Some(n) = next {
        out.push((n, T::MAX));
    }
    out
}

fn intersect<T: Copy + Ord + num_step::Step>(a: &[(T, T)], b: &[(T, T)]) -> Vec<(T, T)> {
    let mut out = Vec::new();
    for &(x1, y1) in a {
        for &(x2, y2) in b {
            let lo = x1.max(x2);
            let hi = y1.min(y2);
            if lo <= hi {
                out.push((lo, hi));
            }
        }
    }
    normalize(out)
}

fn contains<T: Copy + Ord>(r: &[(T, T)], x: T) -> bool {
    r.binary_search_by(|&(a, b)| {
        if b < x {
            std::cmp::Ordering::Less
        } else if a > x {
            std::cmp::Ordering::Greater
        } else {
            std::cmp::Ordering::Equal
        }
    })
    .is_ok()
}

mod num_step {
    /// Integer successor/predecessor for interval arithmetic.
    pub trait Step: Sized {
        const MIN: Self;
        const MAX: Self;
        fn succ(x: Self) -> Option<Self>;
        fn pred(x: Self) -> Option<Self>;
    }
    macro_rules! step {
        ($t:ty) => {
            impl Step for $t {
                const MIN: Self = <$t>::MIN;
                const MAX: Self = <$t>::MAX;
                fn succ(x: Self) -> Option<Self> {
                    x.checked_add(1)
                }
                fn pred(x: Self) -> Option<Self> {
                    x.checked_sub(1)
                }
            }
        };
    }
    step!(u16);
    step!(u32);
    step!(u128);
}

impl IpSet {
    pub fn any() -> Self {
        IpSet {
            v4: vec![(0, u32::MAX)],
            v6: vec![(0, u128::MAX)],
        }
    }
    pub fn is_any(&self) -> bool {
        self.v4 == [(0, u32::MAX)] && self.v6 == [(0, u128::MAX)]
    }
    pub fn is_empty(&self) -> bool {
        self.v4.is_empty() && self.v6.is_empty()
    }
    pub fn contains(&self, ip: IpAddr) -> bool {
        match ip {
            IpAddr::V4(a) => contains(&self.v4, u32::from(a)),
            IpAddr::V6(a) => contains(&self.v6, u128::from(a)),
        }
    }
    fn complement(&self) -> Self {
        IpSet {
            v4: complement(&self.v4),
            v6: complement(&self.v6),
        }
    }
    fn union(mut self, other: IpSet) -> Self {
        self.v4.extend(other.v4);
        self.v6.extend(other.v6);
        IpSet {
            v4: normalize(self.v4),
            v6: normalize(self.v6),
        }
    }
    fn intersect(&self, other: &IpSet) -> Self {
        IpSet {
            v4: intersect(&self.v4, &other.v4),
            v6: intersect(&self.v6, &other.v6),
        }
    }
    /// The v4 ranges (for IP-only lookup tables).
    pub fn v4_ranges(&self) -> &[(u32, u32)] {
        &self.v4
    }
    pub fn v6_ranges(&self) -> &[(u128, u128)] {
        &self.v6
    }

    /// Parse a header address field, e.g. `$HOME_NET`, `![1.2.3.4,10.0.0.0/8]`, `any`.
    pub fn parse(text: &str, vars: &Vars) -> Result<IpSet, String> {
        parse_list(text, vars, 0, &|item, vars, depth| {
            parse_ip_item(item, vars, depth)
        })
    }
}

impl PortSet {
    pub fn any() -> Self {
        PortSet {
            ranges: vec![(0, u16::MAX)],
        }
    }
    pub fn is_any(&self) -> bool {
        self.ranges == [(0, u16::MAX)]
    }
    /// The inclusive ranges, sorted and merged.
    pub fn ranges(&self) -> &[(u16, u16)] {
        &self.ranges
    }
    pub fn contains(&self, port: u16) -> bool {
        contains(&self.ranges, port)
    }
    /// Parse a header port field, e.g. `any`, `80`, `[80,443,8000:8100]`, `!$HTTP_PORTS`, `1024:`.
    pub fn parse(text: &str, vars: &Vars) -> Result<PortSet, String> {
        let set: IpSetLike = parse_list(text, vars, 0, &|item, vars, depth| {
            parse_port_item(item, vars, depth)
        })?;
        Ok(PortSet { ranges: set.0 })
    }
}

/// Port ranges behaving like a set for the shared list parser.
#[derive(Debug, Clone, Default)]
struct IpSetLike(Vec<(u16, u16)>);

trait SetOps: Sized + Clone {
    fn all() -> Self;
    fn empty() -> Self;
    fn union(self, o: Self) -> Self;
    fn complement(&self) -> Self;
    fn intersect(&self, o: &Self) -> Self;
    fn is_empty(&self) -> bool;
}

impl SetOps for IpSet {
    fn all() -> Self {
        IpSet::any()
    }
    fn empty() -> Self {
        IpSet::default()
    }
    fn union(self, o: Self) -> Self {
        IpSet::union(self, o)
    }
    fn complement(&self) -> Self {
        IpSet::complement(self)
    }
    fn intersect(&self, o: &Self) -> Self {
        IpSet::intersect(self, o)
    }
    fn is_empty(&self) -> bool {
        IpSet::is_empty(self)
    }
}

impl SetOps for IpSetLike {
    fn all() -> Self {
        IpSetLike(vec![(0, u16::MAX)])
    }
    fn empty() -> Self {
        IpSetLike(Vec::new())
    }
    fn union(mut self, o: Self) -> Self {
        self.0.extend(o.0);
        IpSetLike(normalize(self.0))
    }
    fn complement(&self) -> Self {
        IpSetLike(complement(&self.0))
    }
    fn intersect(&self, o: &Self) -> Self {
        IpSetLike(intersect(&self.0, &o.0))
    }
    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

type ItemParser<S> = dyn Fn(&str, &Vars, usize) -> Result<S, String>;

/// Split a `[a,b,[c,d]]` list at its top-level commas.
fn split_top(inner: &str) -> Result<Vec<&str>, String> {
    let mut out = Vec::new();
    let mut depth = 0i32;
    let mut start = 0;
    for (i, c) in inner.char_indices() {
        match c {
            '[' => depth += 1,
            ']' => {
                depth -= 1;
                if depth < 0 {
                    return Err("unbalanced ']'".into());
                }
            }
            ',' if depth == 0 => {
                out.push(inner[start..i].trim());
                start = i + 1;
            }
            _ => {}
        }
    }
    if depth != 0 {
        return Err("unbalanced '['".into());
    }
    out.push(inner[start..].trim());
    Ok(out)
}

/// The set a list denotes: the union of its positive items minus its negated ones (a list of
/// only negations means "everything but these").
fn parse_list<S: SetOps>(
    text: &str,
    vars: &Vars,
    depth: usize,
    item: &ItemParser<S>,
) -> Result<S, String> {
    if depth > 16 {
        return Err("variables nest too deeply (a cycle?)".into());
    }
    let text = text.trim();
    if text.is_empty() {
        return Err("empty address or port".into());
    }
    if let Some(rest) = text.strip_prefix('!') {
        return Ok(parse_list(rest, vars, depth + 1, item)?.complement());
    }
    if let Some(inner) = text.strip_prefix('[') {
        let inner = inner
            .strip_suffix(']')
            .ok_or_else(|| format!("list `{text}` has no closing ']'"))?;
        let mut positive: Option<S> = None;
        let mut negative = S::empty();
        for part in split_top(inner)? {
            if part.is_empty() {
                return Err(format!("empty element in `{text}`"));
            }
            if let Some(neg) = part.strip_prefix('!') {
                negative = negative.union(parse_list(neg, vars, depth + 1, item)?);
            } else {
                let s = parse_list(part, vars, depth + 1, item)?;
                positive = Some(match positive {
                    Some(p) => p.union(s),
                    None => s,
                });
            }
        }
        let base = positive.unwrap_or_else(S::all);
        let result = base.intersect(&negative.complement());
        if result.is_empty() {
            return Err(format!("`{text}` matches nothing"));
        }
        return Ok(result);
    }
    item(text, vars, depth)
}

fn parse_ip_item(text: &str, vars: &Vars, depth: usize) -> Result<IpSet, String> {
    if text.eq_ignore_ascii_case("any") {
        return Ok(IpSet::any());
    }
    if let Some(name) = text.strip_prefix('$') {
        let value = vars
            .addresses
            .get(name)
            .ok_or_else(|| format!("unknown address variable ${name}"))?;
        return parse_list(value, vars, depth + 1, &|i, v, d| parse_ip_item(i, v, d));
    }
    if let Some((a, b)) = text.split_once('-') {
        let a: IpAddr = a.trim().parse().map_err(|_| format!("bad address `{a}`"))?;
        let b: IpAddr = b.trim().parse().map_err(|_| format!("bad address `{b}`"))?;
        return match (a, b) {
            (IpAddr::V4(a), IpAddr::V4(b)) if a <= b => Ok(IpSet {
                v4: vec![(a.into(), b.into())],
                v6: vec![],
            }),
            (IpAddr::V6(a), IpAddr::V6(b)) if a <= b => Ok(IpSet {
                v4: vec![],
                v6: vec![(a.into(), b.into())],
            }),
            _ => Err(format!("bad address range `{text}`")),
        };
    }
    let net: ipnetwork::IpNetwork = if let Some((ip, mask)) = text.split_once('/')
        && mask.contains('.')
    {
        // 10.0.0.0/255.0.0.0
        let ip: std::net::Ipv4Addr = ip.parse().map_err(|_| format!("bad address `{text}`"))?;
        let mask: std::net::Ipv4Addr = mask.parse().map_err(|_| format!("bad netmask `{text}`"))?;
        ipnetwork::Ipv4Network::with_netmask(ip, mask)
            .map_err(|e| format!("bad netmask `{text}`: {e}"))?
            .into()
    } else {
        text.parse().map_err(|_| format!("bad address `{text}`"))?
    };
    Ok(match net {
        ipnetwork::IpNetwork::V4(n) => {
            let lo = u32::from(n.network());
            let hi = u32::from(n.broadcast());
            IpSet {
                v4: vec![(lo, hi)],
                v6: vec![],
            }
        }
        ipnetwork::IpNetwork::V6(n) => {
            let lo = u128::from(n.network());
            let bits = 128 - u32::from(n.prefix());
            let hi = if bits == 128 {
                u128::MAX
            } else {
                lo | ((1u128 << bits) - 1)
            };
            IpSet {
                v4: vec![],
                v6: vec![(lo, hi)],
            }
        }
    })
}

fn parse_port_item(text: &str, vars: &Vars, depth: usize) -> Result<IpSetLike, String> {
    if text.eq_ignore_ascii_case("any") {
        return Ok(IpSetLike::all());
    }
    if let Some(name) = text.strip_prefix('$') {
        let value = vars
            .ports
            .get(name)
            .ok_or_else(|| format!("unknown port variable ${name}"))?;
        return parse_list(value, vars, depth + 1, &|i, v, d| parse_port_item(i, v, d));
    }
    let port = |s: &str| -> Result<u16, String> {
        s.trim()
            .parse::<u16>()
            .map_err(|_| format!("bad port `{s}`"))
    };
    if let Some((a, b)) = text.split_once(':') {
        let lo = if a.trim().is_empty() { 0 } else { port(a)? };
        let hi = if b.trim().is_empty() {
            u16::MAX
        } else {
            port(b)?
        };
        if lo > hi {
            return Err(format!("bad port range `{text}`"));
        }
        return Ok(IpSetLike(vec![(lo, hi)]));
    }
    let p = port(text)?;
    Ok(IpSetLike(vec![(p, p)]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn home_and_external_are_complements() {
        let vars = Vars::default();
        let home = IpSet::parse("$HOME_NET", &vars).unwrap();
        let ext = IpSet::parse("$EXTERNAL_NET", &vars).unwrap();
        for ip in [
            "10.1.2.3",
            "192.168.9.9",
            "172.20.0.1",
            "8.8.8.8",
            "2001:db8::1",
        ] {
            let ip: IpAddr = ip.parse().unwrap();
            assert_ne!(home.contains(ip), ext.contains(ip), "{ip}");
        }
    }

    #[test]
    fn lists_ranges_and_negation() {
        let vars = Vars::default();
        let s = IpSet::parse("[10.0.0.0/8,!10.1.0.0/16,1.2.3.4]", &vars).unwrap();
        assert!(s.contains("10.2.0.1".parse().unwrap()));
        assert!(!s.contains("10.1.0.1".parse().unwrap()));
        assert!(s.contains("1.2.3.4".parse().unwrap()));
        let p = PortSet::parse("[80,443,8000:8100,!8080]", &vars).unwrap();
        assert!(p.contains(80) && p.contains(8001) && !p.contains(8080) && !p.contains(81));
        let p = PortSet::parse("!$HTTP_PORTS", &vars).unwrap();
        assert!(!p.contains(80) && p.contains(81));
        assert!(PortSet::parse("1024:", &vars).unwrap().contains(65535));
        assert!(PortSet::parse("[80", &vars).is_err());
        assert!(IpSet::parse("$NOPE", &vars).is_err());
    }
}
