//! An in-memory zone: a [`Resolver`] for tests, examples and offline use.

use super::{LookupError, LookupResult, Mx, Resolver, TxtRecord, reverse_name};
use crate::hash::Fx;
use crate::name::{fits_dns, get_normal, normalize};
use async_trait::async_trait;
use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;
use std::hash::BuildHasherDefault;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::str::FromStr;
use std::sync::atomic::{AtomicUsize, Ordering};

/// The most CNAMEs followed for one query before the zone answers with a server failure.
const MAX_CNAME_CHAIN: usize = 8;

/// A record type of the zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RecordType {
    /// TXT (also written `SPF` in the zone text, served as TXT).
    Txt,
    /// A.
    A,
    /// AAAA.
    Aaaa,
    /// MX.
    Mx,
    /// PTR.
    Ptr,
    /// CNAME.
    Cname,
}

impl FromStr for RecordType {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        Ok(match s.to_ascii_uppercase().as_str() {
            "TXT" | "SPF" => RecordType::Txt,
            "A" => RecordType::A,
            "AAAA" => RecordType::Aaaa,
            "MX" => RecordType::Mx,
            "PTR" => RecordType::Ptr,
            "CNAME" => RecordType::Cname,
            _ => return Err(()),
        })
    }
}

/// A failure the zone simulates for a name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Fault {
    /// The query times out ([`LookupError::Timeout`]).
    Timeout,
    /// The server fails ([`LookupError::ServerFailure`]).
    ServerFailure,
    /// The server refuses the query (REFUSED; a [`LookupError::ServerFailure`] too).
    Refused,
}

impl Fault {
    fn error(self) -> LookupError {
        match self {
            Fault::Timeout => LookupError::Timeout,
            Fault::ServerFailure => LookupError::ServerFailure("SERVFAIL (simulated)".into()),
            Fault::Refused => LookupError::ServerFailure("REFUSED (simulated)".into()),
        }
    }
}

#[derive(Debug, Clone, Default)]
struct Node {
    txt: Vec<TxtRecord>,
    a: Vec<Ipv4Addr>,
    aaaa: Vec<Ipv6Addr>,
    mx: Vec<Mx>,
    ptr: Vec<String>,
    cname: Option<String>,
    /// Faults for one type.
    faults: Vec<(RecordType, Fault)>,
    /// A fault for every type that has no records at this name.
    fault_other: Option<Fault>,
}

/// An error in zone text: the line (1-based) and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("zone line {line}: {message}")]
pub struct ZoneError {
    /// The 1-based line number.
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

/// One record of zone text, or a fault to simulate, as parsed by [`parse_zone`].
///
/// Names inside records (MX exchanges, PTR and CNAME targets) are normalised: lower-case, without a
/// trailing dot; a null MX (`.`) has an empty exchange.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ZoneRecord {
    /// A TXT record (also from an `SPF` line), its character-strings exactly as written.
    Txt(TxtRecord),
    /// An A record.
    A(Ipv4Addr),
    /// An AAAA record.
    Aaaa(Ipv6Addr),
    /// An MX record.
    Mx(Mx),
    /// A PTR record: the target name.
    Ptr(String),
    /// A CNAME record: the target name.
    Cname(String),
    /// A `TIMEOUT`, `SERVFAIL` or `REFUSED` line: queries of that type (or, for `None`, of every
    /// type the name has no records of) fail this way.
    Fault(Option<RecordType>, Fault),
}

impl ZoneRecord {
    /// The type of the record; `None` for a [`ZoneRecord::Fault`].
    ///
    /// ```
    /// use sender_identity::dns::{RecordType, ZoneRecord};
    /// assert_eq!(ZoneRecord::Cname("example.com".into()).record_type(), Some(RecordType::Cname));
    /// ```
    pub fn record_type(&self) -> Option<RecordType> {
        Some(match self {
            ZoneRecord::Txt(_) => RecordType::Txt,
            ZoneRecord::A(_) => RecordType::A,
            ZoneRecord::Aaaa(_) => RecordType::Aaaa,
            ZoneRecord::Mx(_) => RecordType::Mx,
            ZoneRecord::Ptr(_) => RecordType::Ptr,
            ZoneRecord::Cname(_) => RecordType::Cname,
            ZoneRecord::Fault(..) => return None,
        })
    }
}

/// Parses zone text (the format described on [`ZoneResolver`]) into `(owner, record)` pairs, in the
/// order written.
///
/// Owners are normalised (lower-case, no trailing dot); a PTR owner written as an IP address becomes
/// its reverse name ([`reverse_name`]). This is the one parser of the format: [`ZoneResolver`] uses
/// it, and so can anything else that wants to serve the same zone (a test DNS server, for one).
///
/// ```
/// use sender_identity::dns::{parse_zone, ZoneRecord};
/// let records = parse_zone("Example.COM. A 192.0.2.1\n192.0.2.1 PTR Example.com.").unwrap();
/// assert_eq!(records[0], ("example.com".to_string(), ZoneRecord::A("192.0.2.1".parse().unwrap())));
/// assert_eq!(records[1].0, "1.2.0.192.in-addr.arpa");
/// assert_eq!(records[1].1, ZoneRecord::Ptr("example.com".into()));
/// ```
pub fn parse_zone(text: &str) -> Result<Vec<(String, ZoneRecord)>, ZoneError> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let parsed = parse_line(line).map_err(|message| ZoneError {
            line: i + 1,
            message,
        })?;
        out.extend(parsed);
    }
    Ok(out)
}

/// Parses one line of zone text: `None` for a blank or comment line.
fn parse_line(line: &str) -> Result<Option<(String, ZoneRecord)>, String> {
    let tokens = tokenize(line)?;
    let mut it = tokens.into_iter();
    let Some(owner) = it.next() else {
        return Ok(None);
    };
    let owner = String::from_utf8(owner).map_err(|_| "owner name is not UTF-8".to_string())?;
    let rtype = it.next().map(String::from_utf8);
    if let Some(what) = bind_syntax(&owner, rtype.as_ref().and_then(|t| t.as_deref().ok())) {
        return Err(format!(
            "{what}: this is not a BIND zone file. The zone text read here has one record per \
             line, `NAME TYPE DATA`, with absolute names and no TTL, class, `$` directives, `@` or \
             SOA/NS records (see sender_identity::dns::ZoneResolver)"
        ));
    }
    let rtype = rtype
        .ok_or_else(|| format!("missing record type after {owner:?}"))?
        .map_err(|_| "bad record type".to_string())?;
    let rest: Vec<Vec<u8>> = it.collect();
    let text =
        |v: &[u8]| String::from_utf8(v.to_vec()).map_err(|_| "data is not UTF-8".to_string());
    let one = |rest: &[Vec<u8>], what: &str| -> Result<String, String> {
        match rest {
            [one] => text(one),
            _ => Err(format!("{rtype} takes one {what}")),
        }
    };
    let mut owner = normalize(&owner).into_owned();
    let record = match rtype.to_ascii_uppercase().as_str() {
        "A" | "AAAA" => {
            let s = one(&rest, "address")?;
            let ip: IpAddr = s.parse().map_err(|_| format!("bad address {s:?}"))?;
            match (ip, rtype.eq_ignore_ascii_case("A")) {
                (IpAddr::V4(v4), true) => ZoneRecord::A(v4),
                (IpAddr::V6(v6), false) => ZoneRecord::Aaaa(v6),
                _ => return Err(format!("{s} is the wrong family for {rtype}")),
            }
        }
        "MX" => {
            let [pref, exch] = rest.as_slice() else {
                return Err("MX takes a preference and an exchange".into());
            };
            let preference: u16 = text(pref)?
                .parse()
                .map_err(|_| "bad MX preference".to_string())?;
            ZoneRecord::Mx(Mx {
                preference,
                exchange: normalize(&text(exch)?).into_owned(),
            })
        }
        "TXT" | "SPF" => ZoneRecord::Txt(TxtRecord::new(rest)),
        "PTR" => {
            let target = one(&rest, "name")?;
            if let Ok(ip) = owner.parse::<IpAddr>() {
                owner = reverse_name(ip);
            }
            ZoneRecord::Ptr(normalize(&target).into_owned())
        }
        "CNAME" => ZoneRecord::Cname(normalize(&one(&rest, "name")?).into_owned()),
        "TIMEOUT" | "SERVFAIL" | "REFUSED" => {
            let fault = match rtype.to_ascii_uppercase().as_str() {
                "TIMEOUT" => Fault::Timeout,
                "SERVFAIL" => Fault::ServerFailure,
                _ => Fault::Refused,
            };
            let t = match rest.as_slice() {
                [] => None,
                [t] => Some(
                    text(t)?
                        .parse::<RecordType>()
                        .map_err(|_| "unknown record type".to_string())?,
                ),
                _ => return Err(format!("{rtype} takes at most one record type")),
            };
            ZoneRecord::Fault(t, fault)
        }
        other => return Err(format!("unknown record type {other:?}")),
    };
    Ok(Some((owner, record)))
}

/// What marks a line as written for a BIND-style master file (RFC 1035 §5) rather than this format,
/// if anything: such a file would otherwise fail with a puzzling "unknown record type" (its TTL or
/// class stands where the type belongs here) or, worse, have its relative names read as absolute.
fn bind_syntax(owner: &str, rtype: Option<&str>) -> Option<String> {
    if owner.starts_with('$') {
        return Some(format!("{owner} is a BIND directive"));
    }
    if owner == "@" {
        return Some("@ (the origin) is BIND syntax".into());
    }
    let rtype = rtype?;
    if !rtype.is_empty() && rtype.bytes().all(|b| b.is_ascii_digit()) {
        return Some(format!("{rtype:?} after the name looks like a BIND TTL"));
    }
    let upper = rtype.to_ascii_uppercase();
    match upper.as_str() {
        "IN" | "CH" | "HS" | "CS" => Some(format!("{rtype:?} after the name is a BIND class")),
        "SOA" | "NS" => Some(format!("{upper} records are not served by this zone")),
        _ => None,
    }
}

/// An in-memory DNS zone implementing [`Resolver`]. Names are case-insensitive; a trailing dot is
/// optional. A name with records of other types answers NODATA, an absent name NXDOMAIN, CNAMEs are
/// followed (at most 8), and a name can be made to time out or fail, for one type or all.
///
/// # Zone text
/// One record per line: `NAME TYPE DATA`. `#` or `;` starts a comment outside quotes; blank lines are
/// ignored. It is not a BIND master file: names are absolute (a trailing dot is optional), and there
/// is no TTL or class column, no `$ORIGIN`/`$TTL` and no `@`; a file written that way is refused
/// with an error that says so. Types and their data:
///
/// | type | data |
/// |---|---|
/// | `A`, `AAAA` | an address |
/// | `MX` | `PREFERENCE EXCHANGE` |
/// | `TXT` (or `SPF`) | one or more character-strings: `"quoted"` (with `\"`, `\\` and `\DDD` escapes) or bare words; `TXT` with no data is a record of zero strings |
/// | `PTR` | a name; the owner may be written as an IP address instead of its `in-addr.arpa` name |
/// | `CNAME` | a name |
/// | `TIMEOUT`, `SERVFAIL`, `REFUSED` | optional type: that type at NAME times out / fails / is refused; without one, every type NAME has no records for |
///
/// [`parse_zone`] parses this format into typed [`ZoneRecord`]s; [`ZoneResolver::add_record`] adds
/// one.
///
/// ```
/// use sender_identity::dns::ZoneResolver;
/// let zone: ZoneResolver = r#"
///     example.com.       TXT   "v=spf1 mx " "-all"   # two strings, joined by SPF
///     example.com.       MX    10 mail.example.com
///     mail.example.com.  A     192.0.2.10
///     192.0.2.10         PTR   mail.example.com
///     slow.example.com.  TIMEOUT TXT
/// "#.parse().unwrap();
/// # let _ = zone;
/// ```
#[derive(Debug, Default)]
pub struct ZoneResolver {
    nodes: HashMap<String, Node, BuildHasherDefault<Fx>>,
    queries: AtomicUsize,
    /// Answer only through the `async` lookups ([`ZoneResolver::set_awaited_only`]).
    awaited_only: bool,
    /// Whether a name in the zone cannot be sent as a DNS query ([`fits_dns`]; a test zone may hold
    /// one): only then is each name asked checked, as such a name is NXDOMAIN, as from DNS.
    unsendable: bool,
}

impl Clone for ZoneResolver {
    fn clone(&self) -> Self {
        ZoneResolver {
            nodes: self.nodes.clone(),
            queries: AtomicUsize::new(0),
            awaited_only: self.awaited_only,
            unsendable: self.unsendable,
        }
    }
}

impl ZoneResolver {
    /// An empty zone: every name is NXDOMAIN.
    pub fn new() -> Self {
        Self::default()
    }

    fn node(&mut self, name: &str) -> &mut Node {
        self.unsendable |= !fits_dns(name);
        self.nodes.entry(normalize(name).into_owned()).or_default()
    }

    /// Adds a TXT record of one character-string.
    pub fn add_txt(&mut self, name: &str, text: &str) -> &mut Self {
        self.node(name).txt.push(TxtRecord::from_text(text));
        self
    }

    /// Adds a TXT record made of several character-strings (possibly zero).
    pub fn add_txt_strings(&mut self, name: &str, strings: Vec<Vec<u8>>) -> &mut Self {
        self.node(name).txt.push(TxtRecord::new(strings));
        self
    }

    /// Adds an A or AAAA record.
    pub fn add_ip(&mut self, name: &str, ip: IpAddr) -> &mut Self {
        let node = self.node(name);
        match ip {
            IpAddr::V4(v4) => node.a.push(v4),
            IpAddr::V6(v6) => node.aaaa.push(v6),
        }
        self
    }

    /// Adds an MX record.
    pub fn add_mx(&mut self, name: &str, preference: u16, exchange: &str) -> &mut Self {
        let exchange = normalize(exchange).into_owned();
        self.node(name).mx.push(Mx {
            preference,
            exchange,
        });
        self
    }

    /// Adds a PTR record for `ip` (at its reverse name) pointing to `target`.
    pub fn add_ptr(&mut self, ip: IpAddr, target: &str) -> &mut Self {
        let target = normalize(target).into_owned();
        self.node(&reverse_name(ip)).ptr.push(target);
        self
    }

    /// Makes `name` an alias of `target`.
    pub fn add_cname(&mut self, name: &str, target: &str) -> &mut Self {
        let target = normalize(target).into_owned();
        self.node(name).cname = Some(target);
        self
    }

    /// Makes queries of `name` fail: for `Some(type)` only that type, for `None` every type the name
    /// has no records of.
    pub fn add_fault(&mut self, name: &str, rtype: Option<RecordType>, fault: Fault) -> &mut Self {
        let node = self.node(name);
        match rtype {
            Some(t) => node.faults.push((t, fault)),
            None => node.fault_other = Some(fault),
        }
        self
    }

    /// Adds one parsed record (see [`parse_zone`]) at `owner`.
    ///
    /// ```
    /// use sender_identity::dns::{ZoneRecord, ZoneResolver};
    /// let mut zone = ZoneResolver::new();
    /// zone.add_record("example.com", ZoneRecord::A("192.0.2.1".parse().unwrap()));
    /// ```
    pub fn add_record(&mut self, owner: &str, record: ZoneRecord) -> &mut Self {
        let node = self.node(owner);
        match record {
            ZoneRecord::Txt(txt) => node.txt.push(txt),
            ZoneRecord::A(v4) => node.a.push(v4),
            ZoneRecord::Aaaa(v6) => node.aaaa.push(v6),
            ZoneRecord::Mx(mx) => node.mx.push(Mx {
                preference: mx.preference,
                exchange: normalize(&mx.exchange).into_owned(),
            }),
            ZoneRecord::Ptr(target) => node.ptr.push(normalize(&target).into_owned()),
            ZoneRecord::Cname(target) => node.cname = Some(normalize(&target).into_owned()),
            ZoneRecord::Fault(Some(t), fault) => node.faults.push((t, fault)),
            ZoneRecord::Fault(None, fault) => node.fault_other = Some(fault),
        }
        self
    }

    /// Adds the records of one line of zone text (see the type docs); blank and comment lines add
    /// nothing.
    pub fn add_line(&mut self, line: &str) -> Result<&mut Self, String> {
        if let Some((owner, record)) = parse_line(line)? {
            self.add_record(&owner, record);
        }
        Ok(self)
    }

    /// With `true`, the zone answers only through the `async` lookups and never from memory (its
    /// `*_now` methods return `None`), as a resolver on the network does: for testing the path a
    /// check takes when every answer has to be awaited. Default `false`.
    ///
    /// ```
    /// use sender_identity::dns::{Resolver, ZoneResolver};
    /// let mut zone: ZoneResolver = "example.com. A 192.0.2.1".parse().unwrap();
    /// assert!(zone.lookup_a_now("example.com").is_some());
    /// zone.set_awaited_only(true);
    /// assert!(zone.lookup_a_now("example.com").is_none());
    /// ```
    pub fn set_awaited_only(&mut self, awaited_only: bool) -> &mut Self {
        self.awaited_only = awaited_only;
        self
    }

    /// How many queries this zone has answered (every lookup counts one, CNAMEs included).
    pub fn query_count(&self) -> usize {
        self.queries.load(Ordering::Relaxed)
    }

    /// Finds the node answering `name` for `rtype`, following CNAMEs; applies faults.
    fn resolve(&self, name: &str, rtype: RecordType) -> LookupResult<&Node> {
        if self.unsendable && !fits_dns(name) {
            return Err(LookupError::NxDomain);
        }
        self.queries.fetch_add(1, Ordering::Relaxed);
        let mut current = std::borrow::Cow::Borrowed(name);
        for _ in 0..=MAX_CNAME_CHAIN {
            let Some(node) = self.node_of(&current) else {
                return Err(LookupError::NxDomain);
            };
            if let Some((_, fault)) = node.faults.iter().find(|(t, _)| *t == rtype) {
                return Err(fault.error());
            }
            if let Some(target) = &node.cname {
                current = std::borrow::Cow::Owned(target.clone());
                continue;
            }
            if let Some(fault) = node.fault_other
                && !node.has(rtype)
            {
                return Err(fault.error());
            }
            return Ok(node);
        }
        Err(LookupError::ServerFailure("CNAME chain too long".into()))
    }

    /// The node of `name` (nodes are kept under normal names).
    fn node_of(&self, name: &str) -> Option<&Node> {
        get_normal(name, |n| self.nodes.get(n))
    }

    /// `answer()` as an answer from memory, unless the zone answers only when awaited.
    fn now<'z, T: Clone>(
        &self,
        answer: impl FnOnce() -> LookupResult<&'z [T]>,
    ) -> Option<LookupResult<Cow<'z, [T]>>> {
        (!self.awaited_only).then(|| answer().map(Cow::Borrowed))
    }

    /// The records of `rtype` at `name`, borrowed from the zone.
    fn lookup<T>(
        &self,
        name: &str,
        rtype: RecordType,
        pick: fn(&Node) -> &Vec<T>,
    ) -> LookupResult<&[T]> {
        let records = pick(self.resolve(name, rtype)?);
        if records.is_empty() {
            Err(LookupError::NoData)
        } else {
            Ok(records)
        }
    }
}

impl Node {
    fn has(&self, rtype: RecordType) -> bool {
        match rtype {
            RecordType::Txt => !self.txt.is_empty(),
            RecordType::A => !self.a.is_empty(),
            RecordType::Aaaa => !self.aaaa.is_empty(),
            RecordType::Mx => !self.mx.is_empty(),
            RecordType::Ptr => !self.ptr.is_empty(),
            RecordType::Cname => self.cname.is_some(),
        }
    }
}

impl FromStr for ZoneResolver {
    type Err = ZoneError;
    fn from_str(text: &str) -> Result<Self, ZoneError> {
        let mut zone = ZoneResolver::new();
        for (owner, record) in parse_zone(text)? {
            zone.add_record(&owner, record);
        }
        Ok(zone)
    }
}

/// Splits a zone line into tokens; quoted strings may hold spaces and escapes.
fn tokenize(line: &str) -> Result<Vec<Vec<u8>>, String> {
    let b = line.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b' ' | b'\t' | b'\r' => i += 1,
            b'#' | b';' => break,
            b'"' => {
                i += 1;
                let mut s = Vec::new();
                loop {
                    match b.get(i) {
                        None => return Err("unterminated quoted string".into()),
                        Some(b'"') => {
                            i += 1;
                            break;
                        }
                        Some(b'\\') => {
                            let digits = b
                                .get(i + 1..i + 4)
                                .filter(|d| d.iter().all(u8::is_ascii_digit));
                            if let Some(d) = digits {
                                let v: u32 =
                                    std::str::from_utf8(d).unwrap_or("0").parse().unwrap_or(256);
                                let v = u8::try_from(v)
                                    .map_err(|_| "escape \\DDD above 255".to_string())?;
                                s.push(v);
                                i += 4;
                            } else if let Some(&c) = b.get(i + 1) {
                                s.push(c);
                                i += 2;
                            } else {
                                return Err("backslash at end of line".into());
                            }
                        }
                        Some(&c) => {
                            s.push(c);
                            i += 1;
                        }
                    }
                }
                out.push(s);
            }
            _ => {
                let start = i;
                while i < b.len() && !matches!(b[i], b' ' | b'\t' | b'\r' | b'"') {
                    i += 1;
                }
                out.push(b[start..i].to_vec());
            }
        }
    }
    Ok(out)
}

impl fmt::Display for RecordType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            RecordType::Txt => "TXT",
            RecordType::A => "A",
            RecordType::Aaaa => "AAAA",
            RecordType::Mx => "MX",
            RecordType::Ptr => "PTR",
            RecordType::Cname => "CNAME",
        })
    }
}

#[async_trait]
impl Resolver for ZoneResolver {
    async fn lookup_txt(&self, name: &str) -> LookupResult<Vec<TxtRecord>> {
        self.lookup(name, RecordType::Txt, |n| &n.txt)
            .map(<[_]>::to_vec)
    }
    async fn lookup_a(&self, name: &str) -> LookupResult<Vec<Ipv4Addr>> {
        self.lookup(name, RecordType::A, |n| &n.a)
            .map(<[_]>::to_vec)
    }
    async fn lookup_aaaa(&self, name: &str) -> LookupResult<Vec<Ipv6Addr>> {
        self.lookup(name, RecordType::Aaaa, |n| &n.aaaa)
            .map(<[_]>::to_vec)
    }
    async fn lookup_mx(&self, name: &str) -> LookupResult<Vec<Mx>> {
        self.lookup(name, RecordType::Mx, |n| &n.mx)
            .map(<[_]>::to_vec)
    }
    async fn lookup_ptr(&self, ip: IpAddr) -> LookupResult<Vec<String>> {
        self.lookup(&reverse_name(ip), RecordType::Ptr, |n| &n.ptr)
            .map(<[_]>::to_vec)
    }
    fn lookup_a_now(&self, name: &str) -> Option<LookupResult<Cow<'_, [Ipv4Addr]>>> {
        self.now(|| self.lookup(name, RecordType::A, |n| &n.a))
    }
    fn lookup_aaaa_now(&self, name: &str) -> Option<LookupResult<Cow<'_, [Ipv6Addr]>>> {
        self.now(|| self.lookup(name, RecordType::Aaaa, |n| &n.aaaa))
    }
    fn lookup_mx_now(&self, name: &str) -> Option<LookupResult<Cow<'_, [Mx]>>> {
        self.now(|| self.lookup(name, RecordType::Mx, |n| &n.mx))
    }
    fn lookup_txt_now(&self, name: &str) -> Option<LookupResult<Cow<'_, [TxtRecord]>>> {
        self.now(|| self.lookup(name, RecordType::Txt, |n| &n.txt))
    }
    fn lookup_ptr_now(&self, ip: IpAddr) -> Option<LookupResult<Cow<'_, [String]>>> {
        let name = reverse_name(ip);
        self.now(|| self.lookup(&name, RecordType::Ptr, |n| &n.ptr))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_util::block;

    const ZONE: &str = r#"
        # a comment
        Example.COM.   TXT  "v=spf1 " "-all"  ; another
        example.com    TXT  "hello world" "\"q\"" "\065\\"
        example.com    A    192.0.2.1
        example.com    AAAA 2001:db8::1
        example.com    MX   10 Mail.Example.com.
        alias.example.com CNAME example.com
        loop1.example.com CNAME loop2.example.com
        loop2.example.com CNAME loop1.example.com
        192.0.2.1      PTR  example.com.
        empty.example.com TXT
        slow.example.com  TIMEOUT TXT
        slow.example.com  A  192.0.2.9
        down.example.com  SERVFAIL
        down.example.com  A  192.0.2.8
        closed.example.com REFUSED MX
    "#;

    #[test]
    fn parses_and_answers() {
        let z: ZoneResolver = ZONE.parse().unwrap();
        block(async {
            let txt = z.lookup_txt("example.com").await.unwrap();
            assert_eq!(txt[0].joined(), b"v=spf1 -all");
            assert_eq!(
                txt[1].strings(),
                &[b"hello world".to_vec(), b"\"q\"".to_vec(), b"A\\".to_vec()]
            );
            assert_eq!(
                z.lookup_a("EXAMPLE.com.").await.unwrap(),
                vec![Ipv4Addr::new(192, 0, 2, 1)]
            );
            assert_eq!(z.lookup_aaaa("example.com").await.unwrap().len(), 1);
            assert_eq!(
                z.lookup_mx("example.com").await.unwrap()[0].exchange,
                "mail.example.com"
            );
            assert_eq!(z.lookup_a("alias.example.com").await.unwrap().len(), 1);
            assert_eq!(
                z.lookup_ptr("192.0.2.1".parse().unwrap()).await.unwrap(),
                vec!["example.com".to_string()]
            );
            assert_eq!(
                z.lookup_txt("empty.example.com").await.unwrap()[0]
                    .strings()
                    .len(),
                0
            );
        });
    }

    #[test]
    fn void_and_faults() {
        let z: ZoneResolver = ZONE.parse().unwrap();
        block(async {
            assert_eq!(
                z.lookup_a("nothere.example.com").await,
                Err(LookupError::NxDomain)
            );
            assert!(z.lookup_ptr("192.0.2.1".parse().unwrap()).await.is_ok());
            assert_eq!(
                z.lookup_mx("empty.example.com").await,
                Err(LookupError::NoData)
            );
            assert_eq!(
                z.lookup_txt("slow.example.com").await,
                Err(LookupError::Timeout)
            );
            assert!(z.lookup_a("slow.example.com").await.is_ok());
            assert_eq!(
                z.lookup_aaaa("slow.example.com").await,
                Err(LookupError::NoData)
            );
            assert!(matches!(
                z.lookup_txt("down.example.com").await,
                Err(LookupError::ServerFailure(_))
            ));
            assert!(z.lookup_a("down.example.com").await.is_ok());
            assert!(matches!(
                z.lookup_a("loop1.example.com").await,
                Err(LookupError::ServerFailure(_))
            ));
            match z.lookup_mx("closed.example.com").await {
                Err(LookupError::ServerFailure(msg)) => assert!(msg.contains("REFUSED"), "{msg}"),
                other => panic!("expected REFUSED, got {other:?}"),
            }
            assert_eq!(
                z.lookup_a("closed.example.com").await,
                Err(LookupError::NoData)
            );
            assert!(z.query_count() >= 9);
        });
    }

    #[test]
    fn errors_name_the_line() {
        let err = "a.example A 192.0.2.1\nb.example A nope"
            .parse::<ZoneResolver>()
            .unwrap_err();
        assert_eq!(err.line, 2);
        assert!("x AAAA 192.0.2.1".parse::<ZoneResolver>().is_err());
        assert!("x MX 10".parse::<ZoneResolver>().is_err());
        assert!("x TXT \"open".parse::<ZoneResolver>().is_err());
        assert!("x BOGUS y".parse::<ZoneResolver>().is_err());
        assert!("x".parse::<ZoneResolver>().is_err());
        assert!("x TXT \"\\999\"".parse::<ZoneResolver>().is_err());
    }

    #[test]
    fn bind_master_files_are_told_apart() {
        for (line, what) in [
            ("$ORIGIN example.org.", "$ORIGIN is a BIND directive"),
            ("$TTL 3600", "$TTL is a BIND directive"),
            ("@ TXT \"v=spf1 -all\"", "@ (the origin) is BIND syntax"),
            (
                "example.org. 3600 IN A 192.0.2.1",
                "\"3600\" after the name looks like a BIND TTL",
            ),
            (
                "example.org. IN TXT \"v=spf1 -all\"",
                "\"IN\" after the name is a BIND class",
            ),
            (
                "example.org. SOA ns. host. 1 2 3 4 5",
                "SOA records are not served",
            ),
            (
                "example.org. ns ns1.example.org.",
                "NS records are not served",
            ),
        ] {
            let err = line.parse::<ZoneResolver>().unwrap_err();
            assert_eq!(err.line, 1);
            assert!(err.message.starts_with(what), "{line}: {}", err.message);
            assert!(err.message.contains("not a BIND zone file"), "{line}");
            assert!(err.message.contains("ZoneResolver"), "{line}");
        }
        // An unknown type in this format's own layout is still just that.
        let err = "x BOGUS y".parse::<ZoneResolver>().unwrap_err();
        assert_eq!(err.message, "unknown record type \"BOGUS\"");
    }
}
