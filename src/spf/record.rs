//! The SPF record AST (RFC 7208 §4.6, §5, §6, §7) and its canonical text form.
//!
//! A [`Record`] is parsed with [`str::parse`] (see [`crate::spf::parse`]) and written back with
//! `Display`: the text is canonical (lower-case names, no `+` qualifier, escapes normalised) and parses
//! to the same AST.
//!
//! ```
//! use sender_identity::spf::Record;
//! let record: Record = "v=spf1 +MX a:%{d}/24 -all".parse().unwrap();
//! assert_eq!(record.to_string(), "v=spf1 mx a:%{d}/24 -all");
//! assert_eq!(record.to_string().parse::<Record>().unwrap(), record);
//! ```

use std::fmt::{self, Write as _};
use std::net::{Ipv4Addr, Ipv6Addr};

/// A domain's SPF record: the domain (in normal form, [`crate::name::normalize`]) and its parsed
/// record, as fetched from DNS. One value, shared by the record cache and every outcome it decided
/// ([`crate::spf::Cause::Match`]).
///
/// ```
/// use sender_identity::spf::DomainRecord;
/// let published = DomainRecord::new("Example.COM.", "v=spf1 mx -all".parse().unwrap());
/// assert_eq!(published.domain(), "example.com");
/// assert_eq!(published.record().to_string(), "v=spf1 mx -all");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DomainRecord {
    domain: Box<str>,
    record: Record,
}

impl DomainRecord {
    /// `record` as the SPF record of `domain` (kept in normal form).
    pub fn new(domain: &str, record: Record) -> Self {
        DomainRecord {
            domain: crate::name::normalize(domain).into(),
            record,
        }
    }

    /// The domain, in normal form.
    pub fn domain(&self) -> &str {
        &self.domain
    }

    /// The record.
    pub fn record(&self) -> &Record {
        &self.record
    }
}

/// A parsed `v=spf1` record: its terms in order.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Record {
    terms: Vec<Term>,
    /// Index into `terms` of the `redirect=` modifier, if any.
    redirect: Option<usize>,
    /// Index into `terms` of the `exp=` modifier, if any.
    exp: Option<usize>,
}

impl Record {
    /// Gives back room the parser reserved for terms beyond the last (it reserves by the text's
    /// length, to avoid growing): for records that are kept, as in the record cache.
    pub(crate) fn shrink_to_fit(&mut self) {
        self.terms.shrink_to_fit();
    }

    /// Room for terms reserved and not used.
    #[cfg(test)]
    pub(crate) fn spare_capacity(&self) -> usize {
        self.terms.capacity() - self.terms.len()
    }

    /// Builds a record from terms. At most one `redirect=` and one `exp=` are allowed (RFC 7208 §6).
    pub fn new(terms: Vec<Term>) -> Result<Self, DuplicateModifier> {
        let mut redirect = None;
        let mut exp = None;
        for (i, term) in terms.iter().enumerate() {
            let slot = match term {
                Term::Modifier(Modifier::Redirect(_)) => &mut redirect,
                Term::Modifier(Modifier::Exp(_)) => &mut exp,
                _ => continue,
            };
            if slot.replace(i).is_some() {
                return Err(DuplicateModifier { index: i });
            }
        }
        Ok(Record {
            terms,
            redirect,
            exp,
        })
    }

    /// A record from the parser, which has checked that `redirect` and `exp` are the indexes of
    /// the only such modifiers in `terms` (or that there is none).
    pub(crate) fn from_parsed(
        terms: Vec<Term>,
        redirect: Option<usize>,
        exp: Option<usize>,
    ) -> Self {
        Record {
            terms,
            redirect,
            exp,
        }
    }

    /// All terms, in order.
    pub fn terms(&self) -> &[Term] {
        &self.terms
    }

    /// The directives (qualified mechanisms), in order.
    pub fn directives(&self) -> impl Iterator<Item = &Directive> {
        self.terms.iter().filter_map(|t| match t {
            Term::Directive(d) => Some(d),
            Term::Modifier(_) => None,
        })
    }

    /// The `redirect=` target, if any.
    pub fn redirect(&self) -> Option<&DomainSpec> {
        match self.redirect.map(|i| &self.terms[i]) {
            Some(Term::Modifier(Modifier::Redirect(d))) => Some(d),
            _ => None,
        }
    }

    /// The `exp=` target, if any.
    pub fn exp(&self) -> Option<&DomainSpec> {
        match self.exp.map(|i| &self.terms[i]) {
            Some(Term::Modifier(Modifier::Exp(d))) => Some(d),
            _ => None,
        }
    }

    /// Whether the record holds an `all` mechanism (then `redirect=` is never used, RFC 7208 §6.1).
    pub fn has_all(&self) -> bool {
        self.directives().any(|d| d.mechanism == Mechanism::All)
    }
}

/// A second `redirect=` or `exp=` modifier in one record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("modifier repeated at term {index}")]
pub struct DuplicateModifier {
    /// The 0-based index of the repeated term.
    pub index: usize,
}

/// One term of a record.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Term {
    /// A qualified mechanism.
    Directive(Directive),
    /// A `name=value` modifier.
    Modifier(Modifier),
}

/// A qualifier and a mechanism, e.g. `-all` or `~include:example.com`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Directive {
    /// The qualifier (`+` when omitted).
    pub qualifier: Qualifier,
    /// The mechanism.
    pub mechanism: Mechanism,
}

/// The result a directive gives when its mechanism matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Qualifier {
    /// `+`: pass (the default).
    #[default]
    Pass,
    /// `-`: fail.
    Fail,
    /// `~`: softfail.
    SoftFail,
    /// `?`: neutral.
    Neutral,
}

impl Qualifier {
    /// The qualifier character.
    pub fn as_char(self) -> char {
        match self {
            Qualifier::Pass => '+',
            Qualifier::Fail => '-',
            Qualifier::SoftFail => '~',
            Qualifier::Neutral => '?',
        }
    }
}

/// The CIDR prefix lengths of an `a` or `mx` mechanism: `/v4`, `//v6`, or both.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct DualCidr {
    /// The IPv4 prefix length (0-32); `None` means 32.
    pub v4: Option<u8>,
    /// The IPv6 prefix length (0-128); `None` means 128.
    pub v6: Option<u8>,
}

/// A mechanism (RFC 7208 §5).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Mechanism {
    /// `all`.
    All,
    /// `include:<domain-spec>`.
    Include(DomainSpec),
    /// `a[:<domain-spec>][/v4][//v6]`.
    A {
        /// The target; the current domain when absent.
        domain: Option<DomainSpec>,
        /// The prefix lengths.
        cidr: DualCidr,
    },
    /// `mx[:<domain-spec>][/v4][//v6]`.
    Mx {
        /// The target; the current domain when absent.
        domain: Option<DomainSpec>,
        /// The prefix lengths.
        cidr: DualCidr,
    },
    /// `ptr[:<domain-spec>]`.
    Ptr(Option<DomainSpec>),
    /// `ip4:<address>[/len]`.
    Ip4 {
        /// The address as written (host bits are masked when matching).
        addr: Ipv4Addr,
        /// The prefix length (0-32); `None` means 32.
        prefix: Option<u8>,
    },
    /// `ip6:<address>[/len]`.
    Ip6 {
        /// The address as written.
        addr: Ipv6Addr,
        /// The prefix length (0-128); `None` means 128.
        prefix: Option<u8>,
    },
    /// `exists:<domain-spec>`.
    Exists(DomainSpec),
}

impl Mechanism {
    /// The mechanism's name, lower-case.
    pub fn name(&self) -> &'static str {
        match self {
            Mechanism::All => "all",
            Mechanism::Include(_) => "include",
            Mechanism::A { .. } => "a",
            Mechanism::Mx { .. } => "mx",
            Mechanism::Ptr(_) => "ptr",
            Mechanism::Ip4 { .. } => "ip4",
            Mechanism::Ip6 { .. } => "ip6",
            Mechanism::Exists(_) => "exists",
        }
    }

    /// Whether evaluating this mechanism queries DNS (and so counts towards the limit of 10).
    pub fn queries_dns(&self) -> bool {
        !matches!(
            self,
            Mechanism::All | Mechanism::Ip4 { .. } | Mechanism::Ip6 { .. }
        )
    }
}

/// A modifier (RFC 7208 §6).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Modifier {
    /// `redirect=<domain-spec>`.
    Redirect(DomainSpec),
    /// `exp=<domain-spec>`.
    Exp(DomainSpec),
    /// Any other `name=value`; ignored by evaluation.
    Unknown {
        /// The name, lower-case.
        name: String,
        /// The value.
        value: MacroString,
    },
}

/// A `<domain-spec>`: a macro string that expands to a domain name.
pub type DomainSpec = MacroString;

/// A string of literal text and macros (RFC 7208 §7.1).
///
/// Stored compactly: the literal text in one allocation and the macros with the offsets where they
/// stand, so a plain domain name costs a single allocation.
///
/// ```
/// use sender_identity::spf::{Delimiters, Macro, MacroLetter, MacroPart, MacroString};
/// let mut ms = MacroString::literal("_spf.");
/// ms.push_macro(Macro::new(MacroLetter::Domain));
/// assert_eq!(ms.to_string(), "_spf.%{d}");
/// let parts: Vec<MacroPart> = ms.parts().collect();
/// assert!(matches!(parts[..], [MacroPart::Literal("_spf."), MacroPart::Macro(m)] if m.delimiters == Delimiters::default()));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct MacroString {
    /// All literal text, escapes decoded, concatenated.
    text: Box<str>,
    /// The macros, each with the offset in `text` it stands at, in order.
    macros: Vec<(u32, Macro)>,
}

impl MacroString {
    /// A string of literal text only.
    pub fn literal(text: &str) -> Self {
        MacroString {
            text: text.into(),
            macros: Vec::new(),
        }
    }

    pub(crate) fn from_raw(text: String, macros: Vec<(u32, Macro)>) -> Self {
        MacroString {
            text: text.into_boxed_str(),
            macros,
        }
    }

    /// Appends literal text.
    pub fn push_literal(&mut self, text: &str) {
        let mut all = std::mem::take(&mut self.text).into_string();
        all.push_str(text);
        self.text = all.into_boxed_str();
    }

    /// Appends a macro.
    pub fn push_macro(&mut self, m: Macro) {
        let at = u32::try_from(self.text.len()).unwrap_or(u32::MAX);
        self.macros.push((at, m));
    }

    /// The parts in order: literal runs (adjacent literals merged, never empty) and macros.
    pub fn parts(&self) -> impl Iterator<Item = MacroPart<'_>> + '_ {
        let mut at = 0usize;
        let mut macros = self.macros.iter().peekable();
        std::iter::from_fn(move || {
            let next_macro = macros.peek().map_or(self.text.len(), |(o, _)| *o as usize);
            if at < next_macro {
                let run = &self.text[at..next_macro];
                at = next_macro;
                return Some(MacroPart::Literal(run));
            }
            macros.next().map(|(_, m)| MacroPart::Macro(m))
        })
    }

    /// The parts in reverse order (see [`MacroString::parts`]).
    pub(crate) fn parts_rev(&self) -> impl Iterator<Item = MacroPart<'_>> + '_ {
        let mut end = self.text.len();
        let mut macros = self.macros.iter().rev().peekable();
        std::iter::from_fn(move || {
            let previous_macro = macros.peek().map_or(0, |(o, _)| *o as usize);
            if previous_macro < end {
                let run = &self.text[previous_macro..end];
                end = previous_macro;
                return Some(MacroPart::Literal(run));
            }
            macros.next().map(|(_, m)| MacroPart::Macro(m))
        })
    }

    /// Whether the string has any macro of `letter`.
    pub fn uses(&self, letter: MacroLetter) -> bool {
        self.letters().has(letter)
    }

    /// The letters of the string's macros.
    pub(crate) fn letters(&self) -> Letters {
        Letters(
            self.macros
                .iter()
                .fold(0, |set, (_, m)| set | 1 << m.letter as u16),
        )
    }

    /// Whether a macro of the string is one only explanations may use
    /// ([`MacroLetter::explanation_only`]).
    pub(crate) fn has_explanation_only(&self) -> bool {
        self.macros.iter().any(|(_, m)| m.letter.explanation_only())
    }

    /// Whether the string has any macro.
    pub fn has_macros(&self) -> bool {
        !self.macros.is_empty()
    }

    /// The literal text when the string has no macros.
    pub fn as_literal(&self) -> Option<&str> {
        self.macros.is_empty().then_some(&*self.text)
    }

    /// The literal text after the last macro (all of it when there is none).
    pub fn literal_tail(&self) -> &str {
        let at = self.macros.last().map_or(0, |(o, _)| *o as usize);
        &self.text[at..]
    }
}

/// A piece of a [`MacroString`], borrowed from it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MacroPart<'a> {
    /// Literal text (`%%`, `%_` and `%-` already decoded to `%`, space and `%20`).
    Literal(&'a str),
    /// A `%{...}` macro.
    Macro(&'a Macro),
}

/// A `%{...}` macro: a letter and its transformers (RFC 7208 §7.1, §7.3).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Macro {
    /// The letter.
    pub letter: MacroLetter,
    /// Upper-case letter: URL-escape the expansion.
    pub url_escape: bool,
    /// Keep only this many right-hand parts (never 0).
    pub keep: Option<u32>,
    /// Reverse the parts (`r`).
    pub reverse: bool,
    /// The delimiters to split on; `.` when none are given.
    pub delimiters: Delimiters,
}

impl Macro {
    /// A plain macro of `letter`: no transformers, no escaping.
    pub fn new(letter: MacroLetter) -> Self {
        Macro {
            letter,
            url_escape: false,
            keep: None,
            reverse: false,
            delimiters: Delimiters::default(),
        }
    }
}

/// A set of macro delimiters, among `.-+,/_=` (RFC 7208 §7.1). Empty means `.`.
///
/// ```
/// use sender_identity::spf::Delimiters;
/// let d: Delimiters = "-+".parse().unwrap();
/// assert!(d.contains('+') && !d.contains('.'));
/// assert!(Delimiters::default().contains('.'));
/// assert_eq!(d.to_string(), "-+");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Delimiters(u8);

impl Delimiters {
    /// The delimiters, in the order of their bits.
    pub(crate) const ALL: &'static [u8; 7] = b".-+,/_=";

    /// The set as bits: bit `i` for [`Delimiters::ALL`]`[i]`.
    pub(crate) fn bits(self) -> u8 {
        self.0
    }

    /// Whether `c` is a delimiter (`.` alone when the set is empty).
    pub fn contains(self, c: char) -> bool {
        if self.0 == 0 {
            return c == '.';
        }
        Self::ALL
            .iter()
            .position(|&d| char::from(d) == c)
            .is_some_and(|i| self.0 & (1 << i) != 0)
    }

    /// Whether no delimiter was given (or only `.`): the default split.
    pub fn is_default(self) -> bool {
        self.0 == 0 || self.0 == 1
    }

    /// Adds a delimiter character; `false` if `c` is not one.
    pub fn insert(&mut self, c: char) -> bool {
        match Self::ALL.iter().position(|&d| char::from(d) == c) {
            Some(i) => {
                self.0 |= 1 << i;
                true
            }
            None => false,
        }
    }
}

impl std::str::FromStr for Delimiters {
    type Err = char;
    /// Parses delimiter characters; the error is the first character that is not one.
    fn from_str(s: &str) -> Result<Self, char> {
        let mut d = Delimiters::default();
        for c in s.chars() {
            if !d.insert(c) {
                return Err(c);
            }
        }
        Ok(d)
    }
}

impl fmt::Display for Delimiters {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, &d) in Self::ALL.iter().enumerate() {
            if self.0 & (1 << i) != 0 {
                f.write_char(char::from(d))?;
            }
        }
        Ok(())
    }
}

/// A set of macro letters ([`MacroString::letters`]).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Letters(u16);

impl Letters {
    /// Whether `letter` is in the set.
    pub(crate) fn has(self, letter: MacroLetter) -> bool {
        self.0 & 1 << letter as u16 != 0
    }
}

/// A macro letter (RFC 7208 §7.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum MacroLetter {
    /// `s`: the sender.
    Sender,
    /// `l`: the sender's local part.
    LocalPart,
    /// `o`: the sender's domain.
    SenderDomain,
    /// `d`: the current domain.
    Domain,
    /// `i`: the client IP.
    Ip,
    /// `p`: the validated domain name of the client IP.
    ValidatedName,
    /// `v`: `in-addr` or `ip6`.
    IpVersion,
    /// `h`: the HELO/EHLO domain.
    Helo,
    /// `c`: the client IP in readable form (explanations only).
    ClientIp,
    /// `r`: the receiver's domain (explanations only).
    Receiver,
    /// `t`: the current time (explanations only).
    Timestamp,
}

impl MacroLetter {
    /// The letter for `c` (any case), if it is a macro letter.
    pub fn from_char(c: char) -> Option<Self> {
        Some(match c.to_ascii_lowercase() {
            's' => MacroLetter::Sender,
            'l' => MacroLetter::LocalPart,
            'o' => MacroLetter::SenderDomain,
            'd' => MacroLetter::Domain,
            'i' => MacroLetter::Ip,
            'p' => MacroLetter::ValidatedName,
            'v' => MacroLetter::IpVersion,
            'h' => MacroLetter::Helo,
            'c' => MacroLetter::ClientIp,
            'r' => MacroLetter::Receiver,
            't' => MacroLetter::Timestamp,
            _ => return None,
        })
    }

    /// The lower-case letter.
    pub fn as_char(self) -> char {
        match self {
            MacroLetter::Sender => 's',
            MacroLetter::LocalPart => 'l',
            MacroLetter::SenderDomain => 'o',
            MacroLetter::Domain => 'd',
            MacroLetter::Ip => 'i',
            MacroLetter::ValidatedName => 'p',
            MacroLetter::IpVersion => 'v',
            MacroLetter::Helo => 'h',
            MacroLetter::ClientIp => 'c',
            MacroLetter::Receiver => 'r',
            MacroLetter::Timestamp => 't',
        }
    }

    /// Whether the letter may only appear in explanation text (`c`, `r`, `t`): RFC 7208 §7.1 leaves
    /// them out of `domain-spec`, and §7.3 says they are only for `exp` text. The one list of them:
    /// check a letter with this rather than naming the three.
    pub fn explanation_only(self) -> bool {
        matches!(
            self,
            MacroLetter::ClientIp | MacroLetter::Receiver | MacroLetter::Timestamp
        )
    }
}

impl fmt::Display for Record {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("v=spf1")?;
        for term in &self.terms {
            write!(f, " {term}")?;
        }
        Ok(())
    }
}

impl fmt::Display for Term {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Term::Directive(d) => d.fmt(f),
            Term::Modifier(m) => m.fmt(f),
        }
    }
}

impl fmt::Display for Directive {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.qualifier != Qualifier::Pass {
            f.write_char(self.qualifier.as_char())?;
        }
        self.mechanism.fmt(f)
    }
}

impl fmt::Display for DualCidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(v4) = self.v4 {
            write!(f, "/{v4}")?;
        }
        if let Some(v6) = self.v6 {
            write!(f, "//{v6}")?;
        }
        Ok(())
    }
}

impl fmt::Display for Mechanism {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())?;
        match self {
            Mechanism::All => Ok(()),
            Mechanism::Include(d) | Mechanism::Exists(d) => write!(f, ":{d}"),
            Mechanism::A { domain, cidr } | Mechanism::Mx { domain, cidr } => {
                if let Some(d) = domain {
                    write!(f, ":{d}")?;
                }
                cidr.fmt(f)
            }
            Mechanism::Ptr(domain) => match domain {
                Some(d) => write!(f, ":{d}"),
                None => Ok(()),
            },
            Mechanism::Ip4 { addr, prefix } => {
                write!(f, ":{addr}")?;
                prefix.map_or(Ok(()), |p| write!(f, "/{p}"))
            }
            Mechanism::Ip6 { addr, prefix } => {
                write!(f, ":{addr}")?;
                prefix.map_or(Ok(()), |p| write!(f, "/{p}"))
            }
        }
    }
}

impl fmt::Display for Modifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Modifier::Redirect(d) => write!(f, "redirect={d}"),
            Modifier::Exp(d) => write!(f, "exp={d}"),
            Modifier::Unknown { name, value } => write!(f, "{name}={value}"),
        }
    }
}

impl fmt::Display for MacroString {
    /// Writes the string in macro syntax: `%20` as `%-`, other `%` as `%%`, space as `%_`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for part in self.parts() {
            match part {
                MacroPart::Literal(s) => {
                    let mut rest = s;
                    while let Some(c) = rest.chars().next() {
                        // `%20` is written `%-` (what it was parsed from, or equal to it): that keeps
                        // a domain-spec ending in it a macro-expand, so the text parses again.
                        if let Some(after) = rest.strip_prefix("%20") {
                            f.write_str("%-")?;
                            rest = after;
                            continue;
                        }
                        match c {
                            '%' => f.write_str("%%")?,
                            ' ' => f.write_str("%_")?,
                            c => f.write_char(c)?,
                        }
                        rest = &rest[c.len_utf8()..];
                    }
                }
                MacroPart::Macro(m) => m.fmt(f)?,
            }
        }
        Ok(())
    }
}

impl fmt::Display for Macro {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let c = self.letter.as_char();
        let c = if self.url_escape {
            c.to_ascii_uppercase()
        } else {
            c
        };
        write!(f, "%{{{c}")?;
        if let Some(k) = self.keep {
            write!(f, "{k}")?;
        }
        if self.reverse {
            f.write_char('r')?;
        }
        write!(f, "{}}}", self.delimiters)
    }
}
