//! Relay policy: which clients may relay, and to which domains.
//!
//! - [`NetList`]: trusted client networks, in Postfix `mynetworks` syntax.
//! - [`DomainList`]: relay domains, as Postfix `relay_domains` lists them.
//! - [`RelayPolicy`]: both, plus whether authenticated clients may relay. [`RelayPolicy::decide`]
//!   returns a [`RelayDecision`] that names the rule that decided.
//!
//! No DNS is involved. Network lists hold addresses and networks only (no host names, `/file` or
//! `type:table` items), and relay domains are matched by name.
//!
//! # Decision order
//! [`RelayPolicy::decide`] follows Postfix
//! `smtpd_relay_restrictions = permit_mynetworks, permit_sasl_authenticated, reject_unauth_destination`:
//!
//! 1. the client is in the trusted networks: allowed;
//! 2. the client authenticated and authenticated relaying is on: allowed;
//! 3. the recipient domain is a relay domain: allowed;
//! 4. otherwise: denied.
//!
//! A negated network entry (`!192.0.2.5`) only means "not trusted by the network list". The client
//! can still relay by authenticating, or by sending to a relay domain. A negated relay-domain entry
//! (`!test.example.com`) only means "not a relay domain"; a trusted or authenticated client still
//! relays to it.
//!
//! # Reading a Postfix configuration exactly
//! Both lists match first-match-wins with `!` negation, as Postfix's `match_list` does. Two
//! settings make the crate read `main.cf` values exactly as Postfix 2.x and 3.x do:
//!
//! - `mynetworks`: parse with [`NetList::parse_with`]`(text, `[`NetSyntax::Postfix`]`)`, which
//!   refuses IPv6 without brackets (Postfix reads `::1/128` as a table lookup and fails). The
//!   default, [`NetSyntax::Lenient`], accepts it.
//! - `relay_domains`: use [`DomainList::with_parent_matching`]`(`[`ParentMatching::Postfix`]`)`
//!   when `parent_domain_matches_subdomains` lists `relay_domains`, which is Postfix's default:
//!   then `example.com` covers its subdomains and `.example.com` matches nothing. Otherwise keep
//!   the default, [`ParentMatching::Explicit`].
//!
//! ```
//! use sender_identity::relay::{DomainList, NetList, NetSyntax, ParentMatching, RelayPolicy};
//!
//! let policy = RelayPolicy::new(
//!     NetList::parse_with("127.0.0.0/8 [::1]/128", NetSyntax::Postfix)?,
//!     DomainList::parse("!test.example.com example.com")?
//!         .with_parent_matching(ParentMatching::Postfix),
//! );
//! assert!(policy.decide("203.0.113.1".parse()?, false, "mx.example.com").allowed);
//! let denied = policy.decide("203.0.113.1".parse()?, false, "test.example.com");
//! assert_eq!(
//!     denied.to_string(),
//!     "relay denied: client 203.0.113.1 is not in mynetworks, is not authenticated, and \
//!      recipient domain test.example.com is excluded by relay domain entry !test.example.com (#1)"
//! );
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Postfix also lets mail through to its final-delivery domains (`mydestination`, virtual domains).
//! Put those in the [`DomainList`] as well. Postfix also rejects sender-specified routing
//! (`user%elsewhere@domain`, `user@elsewhere@domain`), which needs the whole address. That check
//! is not done here.
//!
//! ```
//! use sender_identity::relay::{DomainList, NetList, RelayPolicy, RelayReason};
//!
//! let policy = RelayPolicy::new(
//!     NetList::parse("127.0.0.0/8 [::1]/128 !192.168.1.5 192.168.0.0/16")?,
//!     DomainList::parse("example.com .example.com")?,
//! );
//! let decision = policy.decide("192.168.1.9".parse()?, false, "example.org");
//! assert!(decision.allowed);
//! assert_eq!(
//!     decision.reason.to_string(),
//!     "client 192.168.1.9 matched mynetworks entry 192.168.0.0/16 (#4)"
//! );
//!
//! let decision = policy.decide("192.168.1.5".parse()?, false, "example.org");
//! assert!(!decision.allowed);
//! assert!(matches!(decision.reason, RelayReason::NegatedNetwork { .. }));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use crate::ip::canonical;
use crate::name::{self, NameError};
use ipnet::{IpNet, Ipv4Net};
use std::collections::HashMap;
use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

// ------------------------------------------------------------------------------------------------
// Errors and list text

/// What is wrong with one entry of a [`NetList`] or [`DomainList`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EntryError {
    /// A `!` with nothing after it (e.g. `! 192.0.2.1`, where the space ends the entry). Postfix
    /// refuses it too ("no pattern after '!'").
    #[error("`!` without an entry after it")]
    EmptyNegation,
    /// Not an IPv4 or IPv6 address, or malformed brackets. Host names and `type:table` items
    /// also give this error.
    #[error("not an IPv4 or IPv6 address or network")]
    BadAddress,
    /// The prefix length is not a decimal number from 0 to `max` (32 for IPv4, 128 for IPv6).
    #[error("bad prefix length (must be a number from 0 to {max})")]
    BadPrefixLength {
        /// The largest prefix length for the entry's address family.
        max: u8,
    },
    /// The address has bits set after the prefix (`192.168.1.1/24`). Postfix rejects this too.
    /// The entry is never widened silently.
    #[error("host bits set after the prefix length; did you mean {network}?")]
    HostBitsSet {
        /// The network the entry would have if its host bits were cleared.
        network: IpNet,
    },
    /// A `/file/name` entry. Read the file and parse it with `from_file_text`.
    #[error("file references are not supported here; read the file and use from_file_text")]
    FileReference,
    /// An IPv6 network without brackets (`::1/128`) under [`NetSyntax::Postfix`]. Postfix needs
    /// IPv6 inside `[]` in `mynetworks`: it reads an unbracketed one as a `type:table` lookup
    /// (its `MATCH_DICTIONARY` test is "does not start with `[` and holds a `:`") and fails.
    #[error(
        "Postfix needs IPv6 inside brackets (it would read this as a type:table); write {bracketed}"
    )]
    UnbracketedIpv6 {
        /// The entry with the address in brackets, as Postfix needs it (`[::1]/128`).
        bracketed: String,
    },
    /// A domain entry with characters other than letters, digits, `-` and `_` in its labels
    /// (e.g. `*.example.com` or `hash:/etc/postfix/relay`).
    #[error("not a host name (labels may hold only letters, digits, `-` and `_`)")]
    NotHostName,
    /// A domain entry that is not a valid multi-label domain name.
    #[error("bad domain name: {0}")]
    BadDomain(NameError),
}

/// An invalid entry in list text: the entry, where it is, and what is wrong with it.
///
/// ```
/// use sender_identity::relay::{EntryError, NetList};
///
/// let err = NetList::parse("127.0.0.0/8, 192.168.1.1/24").unwrap_err();
/// assert_eq!(err.entry, "192.168.1.1/24");
/// assert_eq!(err.index, 2);
/// assert!(matches!(err.kind, EntryError::HostBitsSet { .. }));
/// assert_eq!(
///     err.to_string(),
///     "entry #2 `192.168.1.1/24`: host bits set after the prefix length; did you mean 192.168.1.0/24?"
/// );
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ListError {
    /// The entry text as written.
    pub entry: String,
    /// The entry's position in the list, from 1.
    pub index: usize,
    /// The line the entry is on, from 1. Set only for the file form (`from_file_text`).
    pub line: Option<usize>,
    /// What is wrong with the entry.
    pub kind: EntryError,
}

impl fmt::Display for ListError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "entry #{} `{}`", self.index, self.entry.escape_debug())?;
        if let Some(line) = self.line {
            write!(f, " (line {line})")?;
        }
        write!(f, ": {}", self.kind)
    }
}

impl std::error::Error for ListError {}

/// The entries of list text, with their index (from 1) and, in the file form, their line (from 1).
/// Entries are separated by commas and/or whitespace. In the file form, `#` starts a comment that
/// runs to the end of the line.
fn list_items(text: &str, file: bool) -> impl Iterator<Item = (usize, Option<usize>, &str)> {
    text.lines()
        .enumerate()
        .flat_map(move |(n, line)| {
            let line_no = file.then_some(n + 1);
            let content = match line.split_once('#') {
                Some((before, _)) if file => before,
                _ => line,
            };
            content
                .split(|c: char| c == ',' || c.is_whitespace())
                .filter(|item| !item.is_empty())
                .map(move |item| (line_no, item))
        })
        .enumerate()
        .map(|(i, (line, item))| (i + 1, line, item))
}

/// Parses every item of `text` with `parse`, stopping at the first bad one.
fn parse_items<T>(
    text: &str,
    file: bool,
    parse: impl Fn(&str) -> Result<T, EntryError>,
) -> Result<Vec<T>, ListError> {
    list_items(text, file)
        .map(|(index, line, item)| {
            parse(item).map_err(|kind| ListError {
                entry: item.to_owned(),
                index,
                line,
                kind,
            })
        })
        .collect()
}

/// Writes `items` separated by single spaces.
fn write_spaced<T: fmt::Display>(f: &mut fmt::Formatter<'_>, items: &[T]) -> fmt::Result {
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            f.write_str(" ")?;
        }
        write!(f, "{item}")?;
    }
    Ok(())
}

// ------------------------------------------------------------------------------------------------
// Network lists

/// One entry of a [`NetList`]: a network, and whether the entry is negated (`!`).
///
/// IPv4-mapped IPv6 entries are folded to IPv4, as clients are: `::ffff:192.0.2.0/120` is
/// stored and displayed as `192.0.2.0/24`. Bare addresses are stored as `/32` or `/128`.
///
/// ```
/// use sender_identity::relay::NetList;
///
/// let list = NetList::parse("!::ffff:192.0.2.0/120")?;
/// let entry = list.entries()[0];
/// assert!(entry.is_negated());
/// assert_eq!(entry.network(), "192.0.2.0/24".parse::<ipnet::IpNet>()?);
/// assert_eq!(entry.to_string(), "!192.0.2.0/24");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct NetEntry {
    network: IpNet,
    negated: bool,
}

impl NetEntry {
    /// The network, with IPv4-mapped IPv6 folded to IPv4.
    ///
    /// ```
    /// let list = sender_identity::relay::NetList::parse("[2001:db8::]/32")?;
    /// assert_eq!(list.entries()[0].network().to_string(), "2001:db8::/32");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn network(&self) -> IpNet {
        self.network
    }

    /// Whether the entry is negated: a client it matches is *not* in the list.
    ///
    /// ```
    /// let list = sender_identity::relay::NetList::parse("!192.0.2.1 192.0.2.0/24")?;
    /// assert!(list.entries()[0].is_negated());
    /// assert!(!list.entries()[1].is_negated());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn is_negated(&self) -> bool {
        self.negated
    }

    /// Parses one entry: `[!...]` followed by `addr`, `addr/len`, `[addr]`, `[addr]/len` or
    /// `[addr/len]`. An odd number of `!` negates, as in Postfix. Under [`NetSyntax::Postfix`] an
    /// IPv6 address must be in brackets.
    fn parse(text: &str, syntax: NetSyntax) -> Result<NetEntry, EntryError> {
        let body = text.trim_start_matches('!');
        let negated = (text.len() - body.len()) % 2 == 1;
        if body.is_empty() {
            return Err(EntryError::EmptyNegation);
        }
        if body.starts_with('/') {
            return Err(EntryError::FileReference);
        }
        let (addr_text, len) = split_network(body)?;
        let addr: IpAddr = addr_text.parse().map_err(|_| EntryError::BadAddress)?;
        if syntax == NetSyntax::Postfix && addr.is_ipv6() && !body.starts_with('[') {
            let len = len.map(|len| format!("/{len}")).unwrap_or_default();
            return Err(EntryError::UnbracketedIpv6 {
                bracketed: format!("{}[{addr_text}]{len}", &text[..text.len() - body.len()]),
            });
        }
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let len = match len {
            Some(len) => parse_prefix_len(len, max)?,
            None => max,
        };
        let network = IpNet::new(addr, len).map_err(|_| EntryError::BadPrefixLength { max })?;
        if network.network() != addr {
            return Err(EntryError::HostBitsSet {
                network: network.trunc(),
            });
        }
        Ok(NetEntry {
            network: fold_mapped(network),
            negated,
        })
    }
}

impl fmt::Display for NetEntry {
    /// Postfix syntax: IPv6 networks in brackets (`[2001:db8::]/32`), as `mynetworks` needs them.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.negated {
            f.write_str("!")?;
        }
        match self.network {
            IpNet::V4(net) => write!(f, "{net}"),
            IpNet::V6(net) => write!(f, "[{}]/{}", net.addr(), net.prefix_len()),
        }
    }
}

/// Splits `addr`, `addr/len`, `[addr]`, `[addr]/len` or `[addr/len]` into the address and the
/// prefix length text.
fn split_network(body: &str) -> Result<(&str, Option<&str>), EntryError> {
    let Some(rest) = body.strip_prefix('[') else {
        return Ok(match body.split_once('/') {
            Some((addr, len)) => (addr, Some(len)),
            None => (body, None),
        });
    };
    let (inside, after) = rest.split_once(']').ok_or(EntryError::BadAddress)?;
    match (inside.split_once('/'), after) {
        (None, "") => Ok((inside, None)),
        (Some((addr, len)), "") => Ok((addr, Some(len))),
        (None, after) => match after.strip_prefix('/') {
            Some(len) => Ok((inside, Some(len))),
            None => Err(EntryError::BadAddress),
        },
        (Some(_), _) => Err(EntryError::BadAddress),
    }
}

/// A prefix length: decimal digits only (no sign, no spaces), at most `max`.
fn parse_prefix_len(text: &str, max: u8) -> Result<u8, EntryError> {
    let bad = EntryError::BadPrefixLength { max };
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad);
    }
    text.parse::<u8>().ok().filter(|&len| len <= max).ok_or(bad)
}

/// Folds an IPv4-mapped IPv6 network (`::ffff:a.b.c.d/96..=128`) to IPv4, the way
/// [`canonical`] folds clients. A mapped network shorter than /96 cannot reach here: its
/// `ffff` bits would be host bits.
fn fold_mapped(network: IpNet) -> IpNet {
    if let IpNet::V6(v6) = network
        && let (Some(v4), true) = (v6.addr().to_ipv4_mapped(), v6.prefix_len() >= 96)
    {
        let v4 = Ipv4Net::new(v4, v6.prefix_len() - 96).expect("a length of 0..=32 is valid");
        return IpNet::V4(v4);
    }
    network
}

/// The index key of an address: IPv6 as is, IPv4 in the top 32 bits, so one mask works for both.
fn address_key(ip: IpAddr) -> u128 {
    match ip {
        IpAddr::V4(v4) => u128::from(u32::from(v4)) << 96,
        IpAddr::V6(v6) => u128::from(v6),
    }
}

/// The mask that keeps the top `len` bits of a key.
fn prefix_mask(len: u8) -> u128 {
    u128::MAX.checked_shl(128 - u32::from(len)).unwrap_or(0)
}

/// One address family's entries: for each prefix length present, the masked networks of that
/// length, mapped to the position of the earliest entry with that network.
#[derive(Debug, Clone, Default)]
struct PrefixIndex {
    levels: Vec<(u8, HashMap<u128, usize>)>,
}

impl PrefixIndex {
    /// Records the entry at `position`. Entries must be added in list order, so that the first
    /// position stored for a network is its earliest entry.
    fn insert(&mut self, len: u8, key: u128, position: usize) {
        let level = match self.levels.iter().position(|(l, _)| *l == len) {
            Some(i) => &mut self.levels[i].1,
            None => {
                self.levels.push((len, HashMap::new()));
                &mut self.levels.last_mut().expect("just pushed").1
            }
        };
        level.entry(key).or_insert(position);
    }

    /// The position of the earliest entry that contains `key`.
    fn first_match(&self, key: u128) -> Option<usize> {
        self.levels
            .iter()
            .filter_map(|(len, networks)| networks.get(&(key & prefix_mask(*len))))
            .min()
            .copied()
    }
}

/// Which network-list syntax [`NetList::parse_with`] and [`NetList::from_file_text_with`] accept.
///
/// ```
/// use sender_identity::relay::{EntryError, NetList, NetSyntax};
///
/// assert!(NetList::parse_with("::1/128", NetSyntax::Lenient).is_ok());
/// let err = NetList::parse_with("127.0.0.0/8 ::1/128", NetSyntax::Postfix).unwrap_err();
/// assert_eq!(err.index, 2);
/// assert_eq!(err.kind, EntryError::UnbracketedIpv6 { bracketed: "[::1]/128".into() });
/// assert!(NetList::parse_with("127.0.0.0/8 [::1]/128", NetSyntax::Postfix).is_ok());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
#[non_exhaustive]
pub enum NetSyntax {
    /// Postfix `mynetworks` syntax, plus IPv6 without brackets (`2001:db8::/32`), an extension
    /// Postfix refuses. The default ([`NetList::parse`]).
    #[default]
    Lenient,
    /// Only what Postfix accepts in `mynetworks` (its `MATCH_DICTIONARY` test in
    /// `util/match_ops.c` and `util/match_list.c`, unchanged from Postfix 2.x to 3.12): IPv6
    /// inside `[]`, so a list that parses here also works in `main.cf`. An unbracketed IPv6
    /// entry is [`EntryError::UnbracketedIpv6`].
    Postfix,
}

/// A list of networks in Postfix `mynetworks` syntax, with first-match-wins and `!` negation.
///
/// # Syntax
/// - Entries are separated by commas and/or whitespace.
/// - An entry is an address or `address/length`. A bare address is `/32` or `/128`.
/// - IPv6 may be written `[2001:db8::]/32` or `[2001:db8::/32]`, and, except under
///   [`NetSyntax::Postfix`], plain `2001:db8::/32`.
/// - `!` in front negates the entry. As in Postfix, each extra `!` toggles.
/// - [`NetList::from_file_text`] reads the contents of a Postfix `/file/name` list. There, `#`
///   starts a comment that runs to the end of the line.
///
/// Parsing is strict. Each of these makes the whole list an error ([`ListError`]):
/// - host bits set after the prefix (`192.168.1.1/24`);
/// - a bad address or prefix length;
/// - a lone `!`;
/// - host names, `/file` and `type:table` items;
/// - under [`NetSyntax::Postfix`], IPv6 without brackets.
///
/// An entry is never widened or dropped silently.
///
/// # Matching
/// - The first entry that contains the client decides. If it is negated, the client is not
///   listed. A client no entry contains is not listed, as in Postfix. Exim's "a trailing
///   negative item means everything else matches" is not used.
/// - Clients are folded with [`canonical`], and so are IPv4-mapped entries. So
///   `::ffff:192.0.2.1` matches `192.0.2.0/24`, and `::ffff:192.0.2.0/120` *is* `192.0.2.0/24`.
/// - IPv4 clients never match IPv6 entries, and IPv6 clients never match IPv4 entries. A mapped
///   client is IPv4 here, so `::/0` does not match it (Postfix behaves the same way).
///
/// # Cost
/// Parsing builds an index for each address family. For each prefix length present, it keeps a
/// hash map from the masked network to the earliest entry with that network.
///
/// A lookup does one hash lookup per distinct prefix length in the client's family (at most 33
/// for IPv4, 129 for IPv6) and keeps the smallest entry position among the hits. The entry at
/// that position is the first in list order that contains the client, so negation works as in
/// a linear scan. A lookup costs O(distinct prefix lengths), not O(entries). Building the index
/// is O(entries).
///
/// ```
/// use sender_identity::relay::NetList;
///
/// let list = NetList::parse("!192.168.0.1, 192.168.0.0/28 [::1]/128")?;
/// assert!(list.contains("192.168.0.2".parse()?));
/// assert!(!list.contains("192.168.0.1".parse()?)); // the negated entry matches first
/// assert!(list.contains("::ffff:192.168.0.3".parse()?)); // IPv4-mapped client
/// assert!(list.contains("::1".parse()?));
/// assert_eq!(list.to_string(), "!192.168.0.1/32 192.168.0.0/28 [::1]/128");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Default)]
pub struct NetList {
    entries: Vec<NetEntry>,
    v4: PrefixIndex,
    v6: PrefixIndex,
}

/// The entry of a [`NetList`] that decided a lookup, and its position.
///
/// ```
/// let list = sender_identity::relay::NetList::parse("10.0.0.0/8 192.0.2.0/24")?;
/// let hit = list.lookup("192.0.2.5".parse()?).unwrap();
/// assert_eq!(hit.index, 2);
/// assert_eq!(hit.to_string(), "192.0.2.0/24 (#2)");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct NetMatch {
    /// The entry's position in the list, from 1.
    pub index: usize,
    /// The entry. It may be negated.
    pub entry: NetEntry,
}

impl fmt::Display for NetMatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (#{})", self.entry, self.index)
    }
}

impl NetList {
    /// Parses a list written inline, as the value of `mynetworks` in `main.cf`, in the
    /// [`NetSyntax::Lenient`] syntax (IPv6 also without brackets).
    ///
    /// ```
    /// use sender_identity::relay::{EntryError, NetList};
    ///
    /// let list = NetList::parse("127.0.0.0/8 [::1]/128")?;
    /// assert_eq!(list.len(), 2);
    /// let err = NetList::parse("10.0.0.0/8 192.0.2.0/33").unwrap_err();
    /// assert_eq!((err.index, err.kind), (2, EntryError::BadPrefixLength { max: 32 }));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn parse(text: &str) -> Result<NetList, ListError> {
        Self::parse_with(text, NetSyntax::Lenient)
    }

    /// Parses a list written inline in the given syntax. [`NetSyntax::Postfix`] refuses what
    /// Postfix would refuse, so a list checked here can go into `main.cf`.
    ///
    /// ```
    /// use sender_identity::relay::{NetList, NetSyntax};
    ///
    /// let list = NetList::parse_with("127.0.0.0/8 [::1]/128 ![2001:db8::1] [2001:db8::/32]", NetSyntax::Postfix)?;
    /// assert_eq!(list.len(), 4);
    /// let err = NetList::parse_with("!2001:db8::1", NetSyntax::Postfix).unwrap_err();
    /// assert_eq!(
    ///     err.to_string(),
    ///     "entry #1 `!2001:db8::1`: Postfix needs IPv6 inside brackets (it would read this as a \
    ///      type:table); write ![2001:db8::1]"
    /// );
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn parse_with(text: &str, syntax: NetSyntax) -> Result<NetList, ListError> {
        Self::parse_text(text, false, syntax)
    }

    /// Parses the contents of a list file (a Postfix `/file/name` list). `#` starts a comment that
    /// runs to the end of the line. Entries may be one per line or several per line. Errors give
    /// the line as well as the entry's position.
    ///
    /// ```
    /// use sender_identity::relay::NetList;
    ///
    /// let text = "# office\n192.0.2.0/24  # LAN\n\n!198.51.100.7, 198.51.100.0/24\n";
    /// let list = NetList::from_file_text(text)?;
    /// assert_eq!(list.len(), 3);
    ///
    /// let err = NetList::from_file_text("# header\n10.0.0.0/8\n\n10.1.1.1/16\n").unwrap_err();
    /// assert_eq!((err.index, err.line), (2, Some(4)));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn from_file_text(text: &str) -> Result<NetList, ListError> {
        Self::from_file_text_with(text, NetSyntax::Lenient)
    }

    /// Parses the contents of a list file in the given syntax (see [`NetList::from_file_text`]
    /// and [`NetSyntax`]).
    ///
    /// ```
    /// use sender_identity::relay::{NetList, NetSyntax};
    ///
    /// let err = NetList::from_file_text_with("# v6\n::1\n", NetSyntax::Postfix).unwrap_err();
    /// assert_eq!((err.index, err.line), (1, Some(2)));
    /// ```
    pub fn from_file_text_with(text: &str, syntax: NetSyntax) -> Result<NetList, ListError> {
        Self::parse_text(text, true, syntax)
    }

    fn parse_text(text: &str, file: bool, syntax: NetSyntax) -> Result<NetList, ListError> {
        let mut list = NetList::default();
        for entry in parse_items(text, file, |item| NetEntry::parse(item, syntax))? {
            list.push(entry);
        }
        Ok(list)
    }

    fn push(&mut self, entry: NetEntry) {
        let position = self.entries.len();
        let index = match entry.network {
            IpNet::V4(_) => &mut self.v4,
            IpNet::V6(_) => &mut self.v6,
        };
        let key = address_key(entry.network.network());
        index.insert(entry.network.prefix_len(), key, position);
        self.entries.push(entry);
    }

    /// The first entry that contains `client` (after folding IPv4-mapped addresses), negated or
    /// not. Returns `None` if no entry contains it.
    ///
    /// ```
    /// let list = sender_identity::relay::NetList::parse("!192.0.2.1 192.0.2.0/24")?;
    /// let hit = list.lookup("192.0.2.1".parse()?).unwrap();
    /// assert_eq!((hit.index, hit.entry.is_negated()), (1, true));
    /// assert!(list.lookup("198.51.100.1".parse()?).is_none());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn lookup(&self, client: IpAddr) -> Option<NetMatch> {
        let client = canonical(client);
        let index = match client {
            IpAddr::V4(_) => &self.v4,
            IpAddr::V6(_) => &self.v6,
        };
        let position = index.first_match(address_key(client))?;
        Some(NetMatch {
            index: position + 1,
            entry: self.entries[position],
        })
    }

    /// Whether `client` is in the list: the first entry that contains it is not negated.
    ///
    /// ```
    /// let list = sender_identity::relay::NetList::parse("192.0.2.0/24")?;
    /// assert!(list.contains("192.0.2.77".parse()?));
    /// assert!(!list.contains("192.0.3.1".parse()?));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn contains(&self, client: IpAddr) -> bool {
        self.lookup(client).is_some_and(|hit| !hit.entry.negated)
    }

    /// The entries, in list order.
    ///
    /// ```
    /// let list = sender_identity::relay::NetList::parse("10.0.0.0/8, 2001:db8::/32")?;
    /// assert_eq!(list.entries()[1].to_string(), "[2001:db8::]/32");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn entries(&self) -> &[NetEntry] {
        &self.entries
    }

    /// The number of entries.
    ///
    /// ```
    /// assert_eq!(sender_identity::relay::NetList::parse("10.0.0.0/8, ::1")?.len(), 2);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the list has no entries. An empty list contains no client.
    ///
    /// ```
    /// assert!(sender_identity::relay::NetList::parse(" , ")?.is_empty());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

impl FromStr for NetList {
    type Err = ListError;

    /// The same as [`NetList::parse`].
    fn from_str(text: &str) -> Result<NetList, ListError> {
        NetList::parse(text)
    }
}

impl fmt::Display for NetList {
    /// The entries in list order, separated by spaces, in a form [`NetList::parse`] (and Postfix)
    /// reads back to the same list.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_spaced(f, &self.entries)
    }
}

// ------------------------------------------------------------------------------------------------
// Domain lists

/// One entry of a [`DomainList`]: a lower-cased name without a trailing dot, whether it was
/// written with a leading dot (`.example.com`), and whether it is negated (`!example.com`).
///
/// ```
/// let list = sender_identity::relay::DomainList::parse("Example.COM. .example.net !a.example.org")?;
/// let [plain, dotted, negated] = list.entries() else { panic!() };
/// assert_eq!((plain.name(), plain.is_subdomains_only()), ("example.com", false));
/// assert_eq!((dotted.name(), dotted.is_subdomains_only()), ("example.net", true));
/// assert_eq!(dotted.to_string(), ".example.net");
/// assert!(negated.is_negated());
/// assert_eq!(negated.to_string(), "!a.example.org");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DomainEntry {
    name: String,
    subdomains_only: bool,
    negated: bool,
}

impl DomainEntry {
    /// The domain name, lower-cased, without the leading or trailing dot.
    ///
    /// ```
    /// let list = sender_identity::relay::DomainList::parse(".Mail.Example.com")?;
    /// assert_eq!(list.entries()[0].name(), "mail.example.com");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Whether the entry was written with a leading dot (`.example.com`). What it matches depends
    /// on the list's [`ParentMatching`]: strict subdomains, or (under
    /// [`ParentMatching::Postfix`]) nothing.
    ///
    /// ```
    /// let list = sender_identity::relay::DomainList::parse(".example.com")?;
    /// assert!(list.entries()[0].is_subdomains_only());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn is_subdomains_only(&self) -> bool {
        self.subdomains_only
    }

    /// Whether the entry is negated: a domain it matches first is *not* in the list.
    ///
    /// ```
    /// let list = sender_identity::relay::DomainList::parse("!mx.example.com example.com")?;
    /// assert!(list.entries()[0].is_negated());
    /// assert!(!list.entries()[1].is_negated());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn is_negated(&self) -> bool {
        self.negated
    }

    /// Parses one entry: `[!...][.]name`. An odd number of `!` negates, as in Postfix.
    fn parse(text: &str) -> Result<DomainEntry, EntryError> {
        let body = text.trim_start_matches('!');
        let negated = (text.len() - body.len()) % 2 == 1;
        if body.is_empty() {
            return Err(EntryError::EmptyNegation);
        }
        if body.starts_with('/') {
            return Err(EntryError::FileReference);
        }
        let (subdomains_only, domain) = match body.strip_prefix('.') {
            Some(rest) => (true, rest),
            None => (false, body),
        };
        let host_label = |label: &str| {
            label
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        };
        if !domain.split('.').all(host_label) {
            return Err(EntryError::NotHostName);
        }
        name::check_domain(domain).map_err(EntryError::BadDomain)?;
        Ok(DomainEntry {
            name: name::normalize(domain).into_owned(),
            subdomains_only,
            negated,
        })
    }
}

impl fmt::Display for DomainEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.negated {
            f.write_str("!")?;
        }
        if self.subdomains_only {
            f.write_str(".")?;
        }
        f.write_str(&self.name)
    }
}

/// How a [`DomainList`] matches names below an entry: Postfix's `parent_domain_matches_subdomains`
/// setting for `relay_domains`, or this crate's lenient union of both readings.
///
/// | entry | query | `Explicit` (default) | `Postfix` | `Lenient` |
/// |---|---|---|---|---|
/// | `example.com` | `example.com` | match | match | match |
/// | `example.com` | `mx.example.com` | no | match | match |
/// | `.example.com` | `example.com` | no | no | no |
/// | `.example.com` | `mx.example.com` | match | **no** | match |
///
/// Under Postfix's own default, a leading-dot entry in `relay_domains` matches nothing: Postfix
/// (`util/match_ops.c`, `match_hostname()` with `MATCH_FLAG_PARENT`) compares the pattern,
/// leading dot included, with the end of the name after a dot, which no valid name has. Postfix
/// accepts such an entry without a warning; so does this crate under
/// [`ParentMatching::Postfix`], so that a `relay_domains` value behaves here as it does in Postfix.
///
/// ```
/// use sender_identity::relay::{DomainList, ParentMatching};
///
/// let list = DomainList::parse("example.com .example.net")?;
/// assert!(!list.contains("mx.example.com"));
/// assert!(list.contains("mx.example.net"));
///
/// let postfix = list.clone().with_parent_matching(ParentMatching::Postfix);
/// assert!(postfix.contains("mx.example.com"));
/// assert!(!postfix.contains("mx.example.net"), "Postfix ignores .example.net here");
///
/// let lenient = list.with_parent_matching(ParentMatching::Lenient);
/// assert!(lenient.contains("mx.example.com") && lenient.contains("mx.example.net"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
#[non_exhaustive]
pub enum ParentMatching {
    /// `example.com` matches itself only; `.example.com` matches strict subdomains. This is Postfix
    /// with `relay_domains` left out of `parent_domain_matches_subdomains` (the explicit
    /// `.example.com` style Postfix plans to require everywhere).
    #[default]
    Explicit,
    /// Postfix's default: `parent_domain_matches_subdomains` lists `relay_domains`
    /// (`DEF_PAR_DOM_MATCH` in `global/mail_params.h`, from Postfix 1.0 to 3.12; no
    /// `compatibility_level` changes it). `example.com` matches itself and every name below it;
    /// `.example.com` matches nothing.
    Postfix,
    /// Not an MTA's reading: `example.com` matches itself and every name below it, and
    /// `.example.com` matches strict subdomains.
    Lenient,
}

impl ParentMatching {
    /// Whether a plain entry (`example.com`) matches names below it.
    fn plain_covers_subdomains(self) -> bool {
        matches!(self, ParentMatching::Postfix | ParentMatching::Lenient)
    }

    /// Whether a dotted entry (`.example.com`) matches names below it.
    fn dotted_covers_subdomains(self) -> bool {
        matches!(self, ParentMatching::Explicit | ParentMatching::Lenient)
    }
}

/// Relay domains: a list of domain names in Postfix `relay_domains` syntax, with first-match-wins
/// `!` negation and parent-domain matching.
///
/// # Syntax
/// - Entries are separated by commas and/or whitespace. [`DomainList::from_file_text`] also
///   allows `#` comments.
/// - `example.com` and `.example.com` match as the list's [`ParentMatching`] says (by default
///   [`ParentMatching::Explicit`]: the name itself, and strict subdomains).
/// - `!` in front negates the entry. As in Postfix, each extra `!` toggles.
/// - Entries must be valid multi-label domain names ([`name::check_domain`]). Labels may hold
///   letters, digits, `-` and `_`. Internationalised names must be written as A-labels
///   (`xn--...`).
/// - Wildcards (`*`), `/file` and `type:table` items are errors.
///
/// # Matching
/// - The first entry in list order that matches decides, as in Postfix (`util/match_list.c`). If
///   it is negated, the domain is not listed. A domain no entry matches is not listed.
/// - Matching ignores case and one trailing dot, and works on whole labels: `evilexample.com`
///   never matches `example.com`. A query name with an empty label (`a..example.com`,
///   `.example.com`) matches nothing.
///
/// # Cost
/// Entries live in a hash map keyed by name, with the earliest plain and dotted entry of each
/// name. A lookup does one hash lookup for the name and one for each parent domain, and keeps the
/// earliest matching position, so it costs O(labels in the query), whatever the list size.
///
/// ```
/// use sender_identity::relay::DomainList;
///
/// let list = DomainList::parse("!test.example.com, example.com, .example.com, .example.net")?;
/// assert!(list.contains("EXAMPLE.com."));
/// assert!(list.contains("mx.example.com"));
/// assert!(!list.contains("test.example.com")); // the negated entry matches first
/// assert!(list.contains("mx.example.net"));
/// assert!(!list.contains("example.net"));
/// assert!(!list.contains("evilexample.com"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Default)]
pub struct DomainList {
    entries: Vec<DomainEntry>,
    by_name: HashMap<String, Slots>,
    parent_matching: ParentMatching,
}

/// For one name: the earliest plain entry and the earliest dotted entry with that name, negated or
/// not (the earliest decides).
#[derive(Debug, Clone, Copy, Default)]
struct Slots {
    plain: Option<usize>,
    dotted: Option<usize>,
}

/// The entry of a [`DomainList`] that decided a lookup, and its position.
///
/// ```
/// let list = sender_identity::relay::DomainList::parse("example.org .example.com")?;
/// let hit = list.lookup("mx.example.com").unwrap();
/// assert_eq!(hit.index, 2);
/// assert_eq!(hit.to_string(), ".example.com (#2)");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct DomainMatch {
    /// The entry's position in the list, from 1.
    pub index: usize,
    /// The entry. It may be negated.
    pub entry: DomainEntry,
}

impl fmt::Display for DomainMatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (#{})", self.entry, self.index)
    }
}

impl DomainList {
    /// Parses a list written inline, as the value of `relay_domains` in `main.cf`. Parent
    /// matching is [`ParentMatching::Explicit`]; see [`DomainList::with_parent_matching`].
    ///
    /// ```
    /// use sender_identity::relay::{DomainList, EntryError};
    ///
    /// assert_eq!(DomainList::parse("example.com .example.com !a.example.com")?.len(), 3);
    /// let err = DomainList::parse("example.com *.example.net").unwrap_err();
    /// assert_eq!((err.index, err.kind), (2, EntryError::NotHostName));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn parse(text: &str) -> Result<DomainList, ListError> {
        Self::parse_text(text, false)
    }

    /// Parses the contents of a list file. `#` starts a comment that runs to the end of the line.
    /// Errors give the line as well as the entry's position.
    ///
    /// ```
    /// use sender_identity::relay::DomainList;
    ///
    /// let list = DomainList::from_file_text("# customers\nexample.com  # main\n.example.com\n")?;
    /// assert_eq!(list.len(), 2);
    /// let err = DomainList::from_file_text("example.com\n\n*.example.net\n").unwrap_err();
    /// assert_eq!((err.index, err.line), (2, Some(3)));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn from_file_text(text: &str) -> Result<DomainList, ListError> {
        Self::parse_text(text, true)
    }

    fn parse_text(text: &str, file: bool) -> Result<DomainList, ListError> {
        let entries = parse_items(text, file, DomainEntry::parse)?;
        let mut by_name: HashMap<String, Slots> = HashMap::with_capacity(entries.len());
        for (position, entry) in entries.iter().enumerate() {
            let slots = by_name.entry(entry.name.clone()).or_default();
            let slot = if entry.subdomains_only {
                &mut slots.dotted
            } else {
                &mut slots.plain
            };
            slot.get_or_insert(position);
        }
        Ok(DomainList {
            entries,
            by_name,
            parent_matching: ParentMatching::default(),
        })
    }

    /// The same list, matching names below its entries as `mode` says. For a list copied from
    /// Postfix's `relay_domains` with Postfix's default `parent_domain_matches_subdomains`, use
    /// [`ParentMatching::Postfix`].
    ///
    /// ```
    /// use sender_identity::relay::{DomainList, ParentMatching};
    ///
    /// let list = DomainList::parse("example.com")?.with_parent_matching(ParentMatching::Postfix);
    /// assert!(list.contains("a.b.example.com"));
    /// assert!(list.contains("example.com"));
    /// assert!(!list.contains("evilexample.com"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn with_parent_matching(mut self, mode: ParentMatching) -> DomainList {
        self.parent_matching = mode;
        self
    }

    /// How names below the entries match.
    ///
    /// ```
    /// use sender_identity::relay::{DomainList, ParentMatching};
    /// assert_eq!(DomainList::parse("example.com")?.parent_matching(), ParentMatching::Explicit);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn parent_matching(&self) -> ParentMatching {
        self.parent_matching
    }

    /// The first entry, in list order, that matches `domain`, negated or not, or `None` if no
    /// entry matches.
    ///
    /// ```
    /// let list = sender_identity::relay::DomainList::parse(".example.com mx.example.com")?;
    /// assert_eq!(list.lookup("MX.example.com.").unwrap().index, 1);
    /// assert_eq!(list.lookup("other.example.com").unwrap().index, 1);
    /// assert!(list.lookup("example.com").is_none());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn lookup(&self, domain: &str) -> Option<DomainMatch> {
        let domain = name::normalize(domain);
        if domain.split('.').any(str::is_empty) {
            return None;
        }
        let mode = self.parent_matching;
        let exact = self.by_name.get(domain.as_ref()).and_then(|s| s.plain);
        let parents = domain.match_indices('.').filter_map(|(dot, _)| {
            let slots = self.by_name.get(&domain[dot + 1..])?;
            let plain = slots.plain.filter(|_| mode.plain_covers_subdomains());
            let dotted = slots.dotted.filter(|_| mode.dotted_covers_subdomains());
            [plain, dotted].into_iter().flatten().min()
        });
        let position = exact.into_iter().chain(parents).min()?;
        Some(DomainMatch {
            index: position + 1,
            entry: self.entries[position].clone(),
        })
    }

    /// Whether `domain` is in the list: the first entry that matches it is not negated.
    ///
    /// ```
    /// let list = sender_identity::relay::DomainList::parse("!test.example.com .example.com")?;
    /// assert!(list.contains("mx.Example.com"));
    /// assert!(!list.contains("test.example.com"));
    /// assert!(!list.contains("example.com"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn contains(&self, domain: &str) -> bool {
        self.lookup(domain).is_some_and(|hit| !hit.entry.negated)
    }

    /// The entries, in list order.
    ///
    /// ```
    /// let list = sender_identity::relay::DomainList::parse("b.example, a.example")?;
    /// assert_eq!(list.entries()[0].name(), "b.example");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn entries(&self) -> &[DomainEntry] {
        &self.entries
    }

    /// The number of entries.
    ///
    /// ```
    /// assert_eq!(sender_identity::relay::DomainList::parse("a.example b.example")?.len(), 2);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the list has no entries. An empty list matches no domain.
    ///
    /// ```
    /// assert!(sender_identity::relay::DomainList::parse("")?.is_empty());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

impl FromStr for DomainList {
    type Err = ListError;

    /// The same as [`DomainList::parse`].
    fn from_str(text: &str) -> Result<DomainList, ListError> {
        DomainList::parse(text)
    }
}

impl fmt::Display for DomainList {
    /// The entries in list order, separated by spaces, in a form [`DomainList::parse`] (and
    /// Postfix) reads back to the same entries. The [`ParentMatching`] mode is not part of the
    /// text.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_spaced(f, &self.entries)
    }
}

// ------------------------------------------------------------------------------------------------
// The policy

/// Who may relay: trusted networks, authenticated clients, and recipients in relay domains.
/// See the [module documentation](self) for the decision order.
///
/// ```
/// use sender_identity::relay::{DomainList, NetList, RelayPolicy};
///
/// let policy = RelayPolicy::new(NetList::parse("192.0.2.0/24")?, DomainList::parse("example.com")?)
///     .with_authenticated_relay(false);
/// assert!(policy.decide("192.0.2.1".parse()?, false, "example.org").allowed);
/// assert!(!policy.decide("203.0.113.1".parse()?, true, "example.org").allowed);
/// assert!(policy.decide("203.0.113.1".parse()?, false, "Example.com").allowed);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct RelayPolicy {
    trusted_networks: NetList,
    relay_domains: DomainList,
    authenticated_relay: bool,
}

impl Default for RelayPolicy {
    /// No trusted networks and no relay domains. Authenticated clients may relay.
    fn default() -> RelayPolicy {
        RelayPolicy::new(NetList::default(), DomainList::default())
    }
}

impl RelayPolicy {
    /// A policy with these trusted networks (`mynetworks`) and relay domains. Authenticated
    /// clients may relay, as with Postfix's default `permit_sasl_authenticated`.
    ///
    /// ```
    /// use sender_identity::relay::{DomainList, NetList, RelayPolicy};
    /// let policy = RelayPolicy::new(NetList::parse("127.0.0.0/8")?, DomainList::default());
    /// assert!(policy.authenticated_relay());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn new(trusted_networks: NetList, relay_domains: DomainList) -> RelayPolicy {
        RelayPolicy {
            trusted_networks,
            relay_domains,
            authenticated_relay: true,
        }
    }

    /// The same policy, with authenticated relaying turned on or off.
    ///
    /// ```
    /// let policy = sender_identity::relay::RelayPolicy::default().with_authenticated_relay(false);
    /// assert!(!policy.decide("192.0.2.1".parse()?, true, "example.org").allowed);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn with_authenticated_relay(mut self, allowed: bool) -> RelayPolicy {
        self.authenticated_relay = allowed;
        self
    }

    /// The trusted networks.
    ///
    /// ```
    /// let policy = sender_identity::relay::RelayPolicy::default();
    /// assert!(policy.trusted_networks().is_empty());
    /// ```
    pub fn trusted_networks(&self) -> &NetList {
        &self.trusted_networks
    }

    /// The relay domains.
    ///
    /// ```
    /// let policy = sender_identity::relay::RelayPolicy::default();
    /// assert!(policy.relay_domains().is_empty());
    /// ```
    pub fn relay_domains(&self) -> &DomainList {
        &self.relay_domains
    }

    /// Whether authenticated clients may relay.
    ///
    /// ```
    /// assert!(sender_identity::relay::RelayPolicy::default().authenticated_relay());
    /// ```
    pub fn authenticated_relay(&self) -> bool {
        self.authenticated_relay
    }

    /// Decides whether `client_ip` may relay to `recipient_domain`. `authenticated` says whether
    /// the client authenticated (SMTP AUTH, not anonymous). The order is: trusted network,
    /// authenticated, relay domain, else denied.
    ///
    /// ```
    /// use sender_identity::relay::{DomainList, NetList, RelayPolicy, RelayReason};
    ///
    /// let policy = RelayPolicy::new(NetList::parse("!192.0.2.9 192.0.2.0/24")?, DomainList::default());
    /// let d = policy.decide("192.0.2.9".parse()?, true, "example.org");
    /// assert!(d.allowed);
    /// assert!(matches!(d.reason, RelayReason::Authenticated { .. }));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn decide(
        &self,
        client_ip: IpAddr,
        authenticated: bool,
        recipient_domain: &str,
    ) -> RelayDecision {
        let client = canonical(client_ip);
        let network = self.trusted_networks.lookup(client);
        if let Some(entry) = network.filter(|hit| !hit.entry.negated) {
            return RelayDecision::allow(RelayReason::TrustedNetwork { client, entry });
        }
        if authenticated && self.authenticated_relay {
            return RelayDecision::allow(RelayReason::Authenticated { client });
        }
        let domain = name::normalize(recipient_domain).into_owned();
        let domain_hit = self.relay_domains.lookup(&domain);
        let excluded_by = match domain_hit {
            Some(entry) if !entry.entry.negated => {
                return RelayDecision::allow(RelayReason::RelayDomain { domain, entry });
            }
            excluded => excluded,
        };
        let reason = match network {
            Some(entry) => RelayReason::NegatedNetwork {
                client,
                entry,
                authenticated,
                domain,
                excluded_by,
            },
            None => RelayReason::NotPermitted {
                client,
                authenticated,
                domain,
                excluded_by,
            },
        };
        RelayDecision {
            allowed: false,
            reason,
        }
    }
}

/// The outcome of [`RelayPolicy::decide`]: allowed or not, and the rule that decided.
///
/// ```
/// let policy = sender_identity::relay::RelayPolicy::default();
/// let d = policy.decide("203.0.113.7".parse()?, false, "example.org");
/// assert!(!d.allowed);
/// assert_eq!(
///     d.to_string(),
///     "relay denied: client 203.0.113.7 is not in mynetworks, is not authenticated, \
///      and recipient domain example.org is not a relay domain"
/// );
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RelayDecision {
    /// Whether the client may relay to the recipient.
    pub allowed: bool,
    /// The rule that decided.
    pub reason: RelayReason,
}

impl RelayDecision {
    fn allow(reason: RelayReason) -> RelayDecision {
        RelayDecision {
            allowed: true,
            reason,
        }
    }
}

impl fmt::Display for RelayDecision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let verdict = if self.allowed { "allowed" } else { "denied" };
        write!(f, "relay {verdict}: {}", self.reason)
    }
}

/// The rule that decided a [`RelayDecision`]. Client addresses are folded with [`canonical`],
/// and domains are lower-cased without a trailing dot. `Display` gives a log line. It escapes
/// control characters in the recipient domain, which comes from the client.
///
/// ```
/// use sender_identity::relay::{DomainList, NetList, RelayPolicy, RelayReason};
///
/// let policy = RelayPolicy::new(NetList::parse("10.0.0.0/8 192.0.2.0/24")?, DomainList::default());
/// let d = policy.decide("::ffff:192.0.2.5".parse()?, false, "example.org");
/// let RelayReason::TrustedNetwork { client, entry, .. } = &d.reason else { panic!() };
/// assert_eq!((client.to_string(), entry.index), ("192.0.2.5".to_string(), 2));
/// assert_eq!(d.reason.to_string(), "client 192.0.2.5 matched mynetworks entry 192.0.2.0/24 (#2)");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RelayReason {
    /// Allowed: the client matched a (non-negated) trusted-network entry.
    #[non_exhaustive]
    TrustedNetwork {
        /// The client address.
        client: IpAddr,
        /// The entry that matched.
        entry: NetMatch,
    },
    /// Allowed: the client authenticated, and authenticated relaying is on.
    #[non_exhaustive]
    Authenticated {
        /// The client address.
        client: IpAddr,
    },
    /// Allowed: the recipient domain is a relay domain.
    #[non_exhaustive]
    RelayDomain {
        /// The recipient domain.
        domain: String,
        /// The entry that matched.
        entry: DomainMatch,
    },
    /// Denied: a negated trusted-network entry matched the client first. The client did not relay
    /// by authenticating, and the recipient domain is not a relay domain.
    #[non_exhaustive]
    NegatedNetwork {
        /// The client address.
        client: IpAddr,
        /// The negated entry that matched.
        entry: NetMatch,
        /// Whether the client authenticated. If it did, authenticated relaying is off.
        authenticated: bool,
        /// The recipient domain.
        domain: String,
        /// The negated relay-domain entry that matched the domain first, if one did.
        excluded_by: Option<DomainMatch>,
    },
    /// Denied: the client is not in the trusted networks, did not relay by authenticating, and
    /// the recipient domain is not a relay domain.
    #[non_exhaustive]
    NotPermitted {
        /// The client address.
        client: IpAddr,
        /// Whether the client authenticated. If it did, authenticated relaying is off.
        authenticated: bool,
        /// The recipient domain.
        domain: String,
        /// The negated relay-domain entry that matched the domain first, if one did.
        excluded_by: Option<DomainMatch>,
    },
}

impl fmt::Display for RelayReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let auth = |authenticated: bool| {
            if authenticated {
                "authenticated relaying is off"
            } else {
                "is not authenticated"
            }
        };
        match self {
            RelayReason::TrustedNetwork { client, entry } => {
                write!(f, "client {client} matched mynetworks entry {entry}")
            }
            RelayReason::Authenticated { client } => {
                write!(f, "client {client} is authenticated")
            }
            RelayReason::RelayDomain { domain, entry } => write!(
                f,
                "recipient domain {} matched relay domain entry {entry}",
                shown(domain)
            ),
            RelayReason::NegatedNetwork {
                client,
                entry,
                authenticated,
                domain,
                excluded_by,
            } => write!(
                f,
                "client {client} is excluded by mynetworks entry {entry}, {}, \
                 and recipient domain {}",
                auth(*authenticated),
                not_relay_domain(domain, excluded_by.as_ref())
            ),
            RelayReason::NotPermitted {
                client,
                authenticated,
                domain,
                excluded_by,
            } => write!(
                f,
                "client {client} is not in mynetworks, {}, \
                 and recipient domain {}",
                auth(*authenticated),
                not_relay_domain(domain, excluded_by.as_ref())
            ),
        }
    }
}

/// "`domain` is not a relay domain", or which negated entry excluded it.
fn not_relay_domain(domain: &str, excluded_by: Option<&DomainMatch>) -> String {
    match excluded_by {
        Some(entry) => format!(
            "{} is excluded by relay domain entry {entry}",
            shown(domain)
        ),
        None => format!("{} is not a relay domain", shown(domain)),
    }
}

/// A recipient domain for a log line: control characters escaped, and `(none)` if empty.
fn shown(domain: &str) -> String {
    if domain.is_empty() {
        "(none)".to_owned()
    } else {
        domain.escape_debug().to_string()
    }
}

#[cfg(test)]
mod tests;
