//! The SPF record grammar (RFC 7208 §4.5, §4.6, §5, §6, §7.1).
//!
//! Parsing is strict, as RFC 7208 §4.6 requires ("any syntax errors anywhere in the record" make it a
//! permerror): every term is checked before evaluation starts, and an error says where and why.
//!
//! Two readers, one answer:
//!
//! - [`grammar`]: the ABNF of RFC 7208 §12 in nom, one function per rule. It reads every record
//!   and says what is wrong with the ones that are not valid: it is the reference.
//! - [`fast`]: one pass over the common terms (`ip4:`, `ip6:`, `include:`, `a`, `mx`, `all`, ...)
//!   that builds the term where it is stored. It gives up (and the grammar decides) on anything
//!   it does not handle, errors included, so what it accepts the grammar accepts as the same term.
//!
//! The property tests hold the two to that: the same AST, or the same error at the same place.
//!
//! ```
//! use sender_identity::spf::{ParseErrorKind, Record};
//! let err = "v=spf1 a:example.com/33 -all".parse::<Record>().unwrap_err();
//! assert_eq!(err.kind, ParseErrorKind::BadCidr);
//! assert_eq!(err.offset, 7);
//! assert!(err.to_string().contains("a:example.com/33"));
//! ```

mod fast;
mod grammar;
#[cfg(test)]
mod tests;

use super::record::{MacroString, Record, Term};
use crate::scan;
use std::fmt;
use std::str::FromStr;

/// Why a record (or macro string) did not parse.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ParseErrorKind {
    /// The text does not start with `v=spf1` followed by a space or the end.
    NotSpf1,
    /// A byte outside printable ASCII (or a space where none may be).
    InvalidChar,
    /// A mechanism name that RFC 7208 does not define.
    UnknownMechanism,
    /// A mechanism that needs an argument has none, or one that takes none has one.
    BadArgument,
    /// A `<domain-spec>` that does not end in a macro or in `.` and a valid top-level label.
    BadDomainSpec,
    /// A malformed `%` escape or `%{...}` macro.
    BadMacro,
    /// A `c`, `r` or `t` macro outside explanation text.
    ExplanationOnlyMacro,
    /// An invalid IPv4 address.
    BadIp4,
    /// An invalid IPv6 address.
    BadIp6,
    /// A CIDR length out of range or with leading zeros.
    BadCidr,
    /// A second `redirect=` or `exp=`.
    DuplicateModifier,
}

impl ParseErrorKind {
    fn describe(self) -> &'static str {
        match self {
            ParseErrorKind::NotSpf1 => "not an SPF version 1 record",
            ParseErrorKind::InvalidChar => "invalid character",
            ParseErrorKind::UnknownMechanism => "unknown mechanism",
            ParseErrorKind::BadArgument => "missing or unexpected mechanism argument",
            ParseErrorKind::BadDomainSpec => {
                "domain-spec must end in a macro or in '.' and a top-level label"
            }
            ParseErrorKind::BadMacro => "malformed macro",
            ParseErrorKind::ExplanationOnlyMacro => {
                "%{c}, %{r} and %{t} are allowed only in explanations"
            }
            ParseErrorKind::BadIp4 => "invalid IPv4 address",
            ParseErrorKind::BadIp6 => "invalid IPv6 address",
            ParseErrorKind::BadCidr => "invalid CIDR prefix length",
            ParseErrorKind::DuplicateModifier => "redirect= and exp= may appear only once",
        }
    }
}

/// A syntax error: where it is (byte offset of the term), the term, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    /// Byte offset of the offending term (or character) in the input.
    pub offset: usize,
    /// The offending term, as written (at most 64 bytes of it).
    pub term: String,
    /// What is wrong.
    pub kind: ParseErrorKind,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at byte {}", self.kind.describe(), self.offset)?;
        if !self.term.is_empty() {
            write!(f, " in {:?}", self.term)?;
        }
        Ok(())
    }
}

impl std::error::Error for ParseError {}

fn error(kind: ParseErrorKind, offset: usize, term: &str) -> ParseError {
    ParseError {
        offset,
        term: super::cut_to(term, 64).to_string(),
        kind,
    }
}

/// Whether `text` begins an SPF version 1 record: `v=spf1` (any case) followed by a space or the end
/// (RFC 7208 §4.5). Works on raw TXT bytes.
///
/// ```
/// use sender_identity::spf::is_spf1;
/// assert!(is_spf1(b"v=spf1 -all"));
/// assert!(is_spf1(b"V=SPF1"));
/// assert!(!is_spf1(b"v=spf10"));
/// ```
pub fn is_spf1(text: &[u8]) -> bool {
    fast::word_at(text, 0, b"v=spf1") && (text.len() == 6 || text[6] == b' ')
}

impl FromStr for Record {
    type Err = ParseError;

    // Each term is read by `fast::term`, or, when it gives up, by `grammar::term`.
    fn from_str(text: &str) -> Result<Record, ParseError> {
        if !is_spf1(text.as_bytes()) {
            return Err(error(ParseErrorKind::NotSpf1, 0, text));
        }
        let bytes = text.as_bytes();
        // Every term follows a space: a short record gets room for as many terms as it has spaces;
        // counting a long one costs more than the room it saves: it gets room for a term per 16
        // bytes (an `ip4:` or `include:` term and its space are about 20; more terms grow the
        // room). Records that are kept give back what they did not use (`Record::shrink_to_fit`).
        let body = &bytes[6..];
        let room = if body.len() <= 64 {
            scan::count(body, b' ')
        } else {
            body.len() / 16 + 2
        };
        let mut terms = Vec::with_capacity(room);
        // Whether the text is known to be printable ASCII. Every byte the fast path accepts is, so
        // the check waits until a term needs the grammar (which reports the first bad byte of the
        // whole record before any term's error, as `record` does).
        let mut checked = false;
        let mut i = 6;
        // Whether there is any modifier: only then is there `redirect=` or `exp=` to look for.
        let mut modifiers = false;
        loop {
            while i < bytes.len() && bytes[i] == b' ' {
                i += 1;
            }
            if i == bytes.len() {
                break;
            }
            if let Some(end) = fast::term(text, i, &mut modifiers, &mut terms) {
                i = end;
                continue;
            }
            if !checked {
                check_chars(text)?;
                checked = true;
            }
            let token = token_at(text, i);
            let term = grammar::term(token).map_err(|kind| error(kind, i, token))?;
            modifiers |= matches!(term, Term::Modifier(_));
            terms.push(term);
            i += token.len();
        }
        if !modifiers {
            return Ok(Record::from_parsed(terms, None, None));
        }
        Record::new(terms).map_err(|dup| {
            let token = text[6..]
                .split(' ')
                .filter(|t| !t.is_empty())
                .nth(dup.index)
                .unwrap_or("");
            let at = token.as_ptr() as usize - text.as_ptr() as usize;
            error(ParseErrorKind::DuplicateModifier, at, token)
        })
    }
}

/// Fails with [`ParseErrorKind::InvalidChar`] at the first byte (after the version) that is not
/// printable ASCII or a space.
fn check_chars(text: &str) -> Result<(), ParseError> {
    let body = &text.as_bytes()[6..];
    if !scan::has_non_printable(body) {
        return Ok(());
    }
    let at = 6 + body
        .iter()
        .position(|b| !(0x20..=0x7e).contains(b))
        .unwrap_or(0);
    let start = text[..at].rfind(' ').map_or(at, |s| s + 1);
    Err(error(
        ParseErrorKind::InvalidChar,
        at,
        token_at(text, start),
    ))
}

/// The text from `at` to the next space (for error messages), cut at a character boundary.
fn token_at(text: &str, at: usize) -> &str {
    let rest = &text[at..];
    &rest[..rest.find(' ').unwrap_or(rest.len())]
}

/// Parses explanation text (the TXT record `exp=` points to, RFC 7208 §6.2): a macro string in which
/// spaces are literal and every macro letter is allowed.
///
/// ```
/// use sender_identity::spf::parse_explanation;
/// let ms = parse_explanation("%{i} is not allowed, see %{r}").unwrap();
/// assert_eq!(ms.to_string(), "%{i}%_is%_not%_allowed,%_see%_%{r}");
/// ```
pub fn parse_explanation(text: &str) -> Result<MacroString, ParseError> {
    match fast::macro_string(text, true) {
        Some((ms, _)) => Ok(ms),
        None => grammar::explain_string(text).map_err(|kind| error(kind, 0, text)),
    }
}
