//! Network lists (`mynetworks`): entries, their Postfix and lenient syntaxes, and first-match
//! lookups of a client address.

use super::list::{EntryError, ListError, parse_items, split_negation, write_spaced};
use super::prefix_index::{PrefixIndex, address_key};
use crate::ip::canonical;
use ipnet::{IpNet, Ipv4Net};
use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

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
        let (body, negated) = split_negation(text)?;
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
