//! List text, shared by network and domain lists: entries separated by commas and whitespace, `#`
//! comments in the file form, `!` negation, and the errors that name the bad entry.

use crate::name::NameError;
use ipnet::IpNet;
use std::fmt;

/// What is wrong with one entry of a [`NetList`](super::NetList) or [`DomainList`](super::DomainList).
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
    /// An IPv6 network without brackets (`::1/128`) under [`NetSyntax::Postfix`](super::NetSyntax::Postfix). Postfix needs
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
pub(super) fn parse_items<T>(
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
pub(super) fn write_spaced<T: fmt::Display>(
    f: &mut fmt::Formatter<'_>,
    items: &[T],
) -> fmt::Result {
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            f.write_str(" ")?;
        }
        write!(f, "{item}")?;
    }
    Ok(())
}

/// An entry without its leading `!`s, and whether they negate it: each `!` toggles, as in Postfix.
/// A `!` with nothing after it and a `/file` reference are errors in every kind of list.
pub(super) fn split_negation(text: &str) -> Result<(&str, bool), EntryError> {
    let body = text.trim_start_matches('!');
    let negated = (text.len() - body.len()) % 2 == 1;
    if body.is_empty() {
        return Err(EntryError::EmptyNegation);
    }
    if body.starts_with('/') {
        return Err(EntryError::FileReference);
    }
    Ok((body, negated))
}
