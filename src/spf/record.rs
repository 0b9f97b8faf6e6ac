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
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct MacroString {
    pub(crate) parts: Vec<MacroPart>,
}

impl MacroString {
    /// A macro string of the given parts.
    pub fn new(parts: Vec<MacroPart>) -> Self {
        let mut ms = MacroString { parts: Vec::new() };
        for part in parts {
            ms.push(part);
        }
        ms
    }

    /// The parts, with adjacent literal text merged.
    pub fn parts(&self) -> &[MacroPart] {
        &self.parts
    }

    /// Appends a part, merging literal text with a literal before it.
    pub(crate) fn push(&mut self, part: MacroPart) {
        match (self.parts.last_mut(), part) {
            (_, MacroPart::Literal(s)) if s.is_empty() => {}
            (Some(MacroPart::Literal(prev)), MacroPart::Literal(s)) => prev.push_str(&s),
            (_, part) => self.parts.push(part),
        }
    }

    /// Whether the string has any macro of `letter`.
    pub fn uses(&self, letter: MacroLetter) -> bool {
        self.parts
            .iter()
            .any(|p| matches!(p, MacroPart::Macro(m) if m.letter == letter))
    }

    /// The literal text when the string has no macros.
    pub fn as_literal(&self) -> Option<&str> {
        match self.parts.as_slice() {
            [] => Some(""),
            [MacroPart::Literal(s)] => Some(s),
            _ => None,
        }
    }
}

/// A piece of a [`MacroString`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum MacroPart {
    /// Literal text (`%%`, `%_` and `%-` already decoded to `%`, space and `%20`).
    Literal(String),
    /// A `%{...}` macro.
    Macro(Macro),
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
    /// The delimiters to split on (any of `.-+,/_=`); `.` when empty.
    pub delimiters: String,
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

    /// Whether the letter may only appear in explanation text (`c`, `r`, `t`).
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
    /// Writes the string in macro syntax: `%` as `%%`, space as `%_`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for part in &self.parts {
            match part {
                MacroPart::Literal(s) => {
                    for c in s.chars() {
                        match c {
                            '%' => f.write_str("%%")?,
                            ' ' => f.write_str("%_")?,
                            c => f.write_char(c)?,
                        }
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
