//! Domain lists (`relay_domains`): entries, parent-domain matching, and first-match lookups of a
//! recipient domain.

use super::list::{EntryError, ListError, parse_items, split_negation, write_spaced};
use crate::name;
use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;

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
        let (body, negated) = split_negation(text)?;
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
