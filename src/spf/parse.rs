//! The SPF record grammar (RFC 7208 §4.5, §4.6, §5, §6, §7.1), built with nom.
//!
//! Parsing is strict, as RFC 7208 §4.6 requires ("any syntax errors anywhere in the record" make it a
//! permerror): every term is checked before evaluation starts, and an error says where and why.
//!
//! ```
//! use sender_identity::spf::{ParseErrorKind, Record};
//! let err = "v=spf1 a:example.com/33 -all".parse::<Record>().unwrap_err();
//! assert_eq!(err.kind, ParseErrorKind::BadCidr);
//! assert_eq!(err.offset, 7);
//! assert!(err.to_string().contains("a:example.com/33"));
//! ```

use super::Directive;
use super::record::{
    Delimiters, DualCidr, Macro, MacroLetter, MacroString, Mechanism, Modifier, Qualifier, Record,
    Term,
};
use crate::name::is_toplabel;
use nom::branch::alt;
use nom::bytes::complete::{tag_no_case, take_while};
use nom::character::complete::{char, digit1, satisfy};
use nom::combinator::{map, map_res, opt};
use nom::sequence::preceded;
use nom::{IResult, Parser};
use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};
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

/// Byte classes for the scanning loops (one table lookup per byte).
const ALNUM: u8 = 1;
/// Modifier-name characters (RFC 7208 §6: `ALPHA / DIGIT / "-" / "_" / "."`).
const NAME: u8 = 2;
/// `macro-literal` characters (RFC 7208 §7.1: `%x21-24 / %x26-7E`).
const LITERAL: u8 = 4;

static CLASS: [u8; 256] = {
    let mut table = [0u8; 256];
    let mut i = 0;
    while i < 256 {
        let b = i as u8;
        let mut class = 0;
        if b.is_ascii_alphanumeric() {
            class |= ALNUM | NAME;
        }
        if matches!(b, b'-' | b'_' | b'.') {
            class |= NAME;
        }
        if matches!(b, 0x21..=0x24 | 0x26..=0x7e) {
            class |= LITERAL;
        }
        table[i] = class;
        i += 1;
    }
    table
};

fn is(b: u8, class: u8) -> bool {
    CLASS[b as usize] & class != 0
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
    word_at(text, 0, b"v=spf1") && (text.len() == 6 || text[6] == b' ')
}

/// Pushes `$term` onto `$terms` (a `&mut Vec<Term>`), building it in its place when there is room
/// (nearly always: the parser reserves room by the text's length). The two branches are the same
/// code on purpose: in the first the compiler knows there is room. A term built before the check
/// for room is written to the stack first and copied with wide loads right after the narrow stores
/// that built it, and those loads stall (store forwarding fails): about 5% of the parse time.
macro_rules! push_term {
    ($terms:expr, $term:expr) => {{
        let terms: &mut Vec<Term> = $terms;
        if terms.len() < terms.capacity() {
            terms.push($term);
        } else {
            terms.push($term);
        }
    }};
}

impl FromStr for Record {
    type Err = ParseError;

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
            count_spaces(body)
        } else {
            body.len() / 16 + 2
        };
        let mut terms = Vec::with_capacity(room);
        // Whether the text is known to be printable ASCII. Every byte the fast path accepts is, so
        // the check waits until a term needs the general parser (which assumes it).
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
            // The most common terms (`ip4:`, `ip6:` and `include:` without a qualifier, `all` with
            // one) are read right here, and their term is built where it is pushed: this saves
            // `fast_term`'s frame and a move of the term for most terms. Anything else, or
            // anything these readers do not accept, goes on to `fast_term` (which reads these
            // terms the same way).
            if word_at(bytes, i, b"ip4:") {
                if let Some((addr, prefix, end)) = ip4_term(bytes, i + 4) {
                    push_term!(
                        &mut terms,
                        Term::Directive(Directive {
                            qualifier: Qualifier::Pass,
                            mechanism: Mechanism::Ip4 { addr, prefix },
                        })
                    );
                    i = end;
                    continue;
                }
            } else if word_at(bytes, i, b"ip6:") {
                if let Some((addr, end)) = ipv6_at(bytes, i + 4)
                    && let Some((prefix, end)) = cidr_fast(bytes, end, 128)
                {
                    push_term!(
                        &mut terms,
                        Term::Directive(Directive {
                            qualifier: Qualifier::Pass,
                            mechanism: Mechanism::Ip6 { addr, prefix },
                        })
                    );
                    i = end;
                    continue;
                }
            } else if word_at(bytes, i, b"include:") {
                if let Some((domain, end)) = domain_fast(text, i + 8) {
                    push_term!(
                        &mut terms,
                        Term::Directive(Directive {
                            qualifier: Qualifier::Pass,
                            mechanism: Mechanism::Include(domain),
                        })
                    );
                    i = end;
                    continue;
                }
            } else if word_at(bytes, i + 1, b"all") && ends_term(bytes, i + 4) {
                let qualifier = match bytes[i] {
                    b'-' => Some(Qualifier::Fail),
                    b'~' => Some(Qualifier::SoftFail),
                    b'?' => Some(Qualifier::Neutral),
                    b'+' => Some(Qualifier::Pass),
                    _ => None,
                };
                if let Some(qualifier) = qualifier {
                    push_term!(
                        &mut terms,
                        Term::Directive(Directive {
                            qualifier,
                            mechanism: Mechanism::All,
                        })
                    );
                    i += 4;
                    continue;
                }
            }
            // The single-pass scanner handles the common terms; anything it does not accept
            // (including every error) goes through the general parser, which says what is wrong.
            if let Some(end) = fast_term(text, i, &mut modifiers, &mut terms) {
                i = end;
                continue;
            }
            if !checked {
                check_chars(text)?;
                checked = true;
            }
            let token = token_at(text, i);
            let term = parse_term(token).map_err(|kind| error(kind, i, token))?;
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
    // One branch-free pass (vectorised) first: the common case is a clean record.
    let bad = body
        .iter()
        .fold(false, |bad, &b| bad | !(0x20..=0x7e).contains(&b));
    if !bad {
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

/// The number of spaces in `b`, eight bytes at a time.
fn count_spaces(b: &[u8]) -> usize {
    const LOW: u64 = 0x7f7f_7f7f_7f7f_7f7f;
    const ONES: u64 = 0x0101_0101_0101_0101;
    let mut chunks = b.chunks_exact(8);
    let mut n = 0;
    for chunk in chunks.by_ref() {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        let x = u64::from_le_bytes(word) ^ (ONES * u64::from(b' '));
        // The top bit of each byte of `zero` is set exactly when that byte of `x` is 0.
        let zero = !(((x & LOW) + LOW) | x | LOW);
        n += (((zero >> 7).wrapping_mul(ONES)) >> 56) as usize;
    }
    n + chunks.remainder().iter().filter(|&&c| c == b' ').count()
}

/// Whether a term ends at `at`: at a space or at the end of the text.
fn ends_term(b: &[u8], at: usize) -> bool {
    b.get(at).is_none_or(|&c| c == b' ')
}

/// Where the term that contains `at` ends: the next space or the end of the text. Eight bytes at
/// a time: the top bit of `!(((y & 0x7f) + 0x7f) | y | 0x7f)` is set exactly in the bytes where
/// `y = x ^ 0x20` is zero (as in [`count_spaces`]).
fn term_end(b: &[u8], mut at: usize) -> usize {
    const LOW: u64 = 0x7f7f_7f7f_7f7f_7f7f;
    const ONES: u64 = 0x0101_0101_0101_0101;
    while let Some(word) = b.get(at..).and_then(|s| s.first_chunk::<8>()) {
        let y = u64::from_le_bytes(*word) ^ (ONES * u64::from(b' '));
        let space = !(((y & LOW) + LOW) | y | LOW);
        if space != 0 {
            return at + (space.trailing_zeros() / 8) as usize;
        }
        at += 8;
    }
    while at < b.len() && b[at] != b' ' {
        at += 1;
    }
    at
}

/// `b[at..at + N]` equals `word` (at most 8 bytes), ignoring the case of its letters: one
/// 64-bit comparison.
#[inline(always)]
fn word_at<const N: usize>(b: &[u8], at: usize, word: &[u8; N]) -> bool {
    let Some(s) = b.get(at..at + N) else {
        return false;
    };
    let (mut x, mut w, mut m) = ([0u8; 8], [0u8; 8], [0u8; 8]);
    x[..N].copy_from_slice(s);
    w[..N].copy_from_slice(word);
    for k in 0..N {
        m[k] = if word[k].is_ascii_lowercase() {
            0x20
        } else {
            0
        };
    }
    u64::from_le_bytes(x) | u64::from_le_bytes(m) == u64::from_le_bytes(w)
}

/// The single-pass scanner for the term that starts at `at` (not a space) in `text` (printable
/// ASCII): qualifier, mechanism or modifier name and arguments, read once from left to right.
/// Pushes the term onto `terms` and returns where it ends (and notes a modifier in `modifiers`), or
/// returns `None`, pushing nothing, for anything it does not handle (then [`parse_term`] decides,
/// and reports errors). What it accepts, `parse_term` accepts as the same term.
#[inline(always)]
fn fast_term(text: &str, at: usize, modifiers: &mut bool, terms: &mut Vec<Term>) -> Option<usize> {
    let b = text.as_bytes();
    let (qualifier, i) = match b[at] {
        b'+' => (Qualifier::Pass, at + 1),
        b'-' => (Qualifier::Fail, at + 1),
        b'~' => (Qualifier::SoftFail, at + 1),
        b'?' => (Qualifier::Neutral, at + 1),
        _ => (Qualifier::Pass, at),
    };
    macro_rules! directive {
        ($mechanism:expr, $end:expr $(,)?) => {{
            push_term!(
                terms,
                Term::Directive(Directive {
                    qualifier,
                    mechanism: $mechanism,
                })
            );
            Some($end)
        }};
    }
    match *b.get(i)? | 0x20 {
        b'i' => match *b.get(i + 1)? | 0x20 {
            b'p' if b.get(i + 3) == Some(&b':') => match b[i + 2] {
                b'4' => {
                    let (addr, prefix, end) = ip4_term(b, i + 4)?;
                    directive!(Mechanism::Ip4 { addr, prefix }, end)
                }
                b'6' => {
                    let (addr, end) = ipv6_at(b, i + 4)?;
                    let (prefix, end) = cidr_fast(b, end, 128)?;
                    directive!(Mechanism::Ip6 { addr, prefix }, end)
                }
                _ => None,
            },
            b'n' if word_at(b, i, b"include:") => {
                let (domain, end) = domain_fast(text, i + 8)?;
                directive!(Mechanism::Include(domain), end)
            }
            _ => None,
        },
        b'a' => {
            if ends_term(b, i + 1) {
                return directive!(
                    Mechanism::A {
                        domain: None,
                        cidr: DualCidr::default(),
                    },
                    i + 1,
                );
            }
            if word_at(b, i, b"all") && ends_term(b, i + 3) {
                return directive!(Mechanism::All, i + 3);
            }
            let (domain, cidr, end) = a_mx_fast(text, i + 1)?;
            directive!(Mechanism::A { domain, cidr }, end)
        }
        b'm' if *b.get(i + 1)? | 0x20 == b'x' => {
            let (domain, cidr, end) = a_mx_fast(text, i + 2)?;
            directive!(Mechanism::Mx { domain, cidr }, end)
        }
        b'e' => {
            if word_at(b, i, b"exists:") {
                let (domain, end) = domain_fast(text, i + 7)?;
                directive!(Mechanism::Exists(domain), end)
            } else if i == at && word_at(b, i, b"exp=") {
                let (domain, end) = domain_fast(text, i + 4)?;
                *modifiers = true;
                push_term!(terms, Term::Modifier(Modifier::Exp(domain)));
                Some(end)
            } else {
                None
            }
        }
        b'r' if i == at && word_at(b, i, b"redirect") && b.get(i + 8) == Some(&b'=') => {
            let (domain, end) = domain_fast(text, i + 9)?;
            *modifiers = true;
            push_term!(terms, Term::Modifier(Modifier::Redirect(domain)));
            Some(end)
        }
        b'p' if word_at(b, i, b"ptr") => {
            if ends_term(b, i + 3) {
                directive!(Mechanism::Ptr(None), i + 3)
            } else if b[i + 3] == b':' {
                let (domain, end) = domain_fast(text, i + 4)?;
                directive!(Mechanism::Ptr(Some(domain)), end)
            } else {
                None
            }
        }
        _ => None,
    }
}

/// The arguments of `a` / `mx` from `at` (just after the name): `[:domain-spec][/v4][//v6]`.
#[inline(always)]
fn a_mx_fast(text: &str, at: usize) -> Option<(Option<MacroString>, DualCidr, usize)> {
    let b = text.as_bytes();
    match b.get(at) {
        // The bare `a` / `mx`.
        None | Some(b' ') => return Some((None, DualCidr::default(), at)),
        Some(b':' | b'/') => {}
        Some(_) => return None,
    }
    let (literal_end, end) = literal_run(b, at);
    let (rest, cidr) = split_dual_cidr(&text[at..end]).ok()?;
    let domain = match rest.strip_prefix(':') {
        None if rest.is_empty() => None,
        None => return None,
        Some(d) if literal_end == end => Some(literal_domain(d)?),
        Some(d) => Some(domain_spec(d).ok()?),
    };
    Some((domain, cidr, end))
}

/// The `macro-literal` run from `at` and the end of the term (the same unless a `%` stops the
/// run: every other printable byte but the space is a literal).
fn literal_run(b: &[u8], at: usize) -> (usize, usize) {
    let e = literal_end(b, at);
    if ends_term(b, e) {
        (e, e)
    } else {
        (e, term_end(b, e))
    }
}

/// Where the `macro-literal` run from `at` ends: at the first byte that is not `%x21-24 / %x26-7E`
/// (a space, a `%`, a control or non-ASCII byte), or at the end of `b`.
///
/// Eight bytes at a time (SWAR): per byte, with `lo` its low seven bits, the top bit of
/// `x | (lo + 0x01) | !(lo + 0x5f) | !((lo ^ 0x25) + 0x7f)` is set exactly when the byte is
/// `>= 0x80`, `0x7f`, `< 0x21` or `0x25`; no sum carries into the next byte. The last (partial)
/// word is read as the last eight bytes of `b`, its bytes before `at` shifted out.
fn literal_end(b: &[u8], mut at: usize) -> usize {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const LOW: u64 = ONES * 0x7f;
    let bad = |x: u64| {
        let lo = x & LOW;
        (x | (lo + ONES) | !(lo + ONES * 0x5f) | !((lo ^ (ONES * 0x25)) + LOW)) & (ONES * 0x80)
    };
    while let Some(word) = b.get(at..at + 8) {
        let mut w = [0u8; 8];
        w.copy_from_slice(word);
        let found = bad(u64::from_le_bytes(w));
        if found != 0 {
            return at + (found.trailing_zeros() / 8) as usize;
        }
        at += 8;
    }
    if at >= b.len() {
        return b.len();
    }
    match b.last_chunk::<8>() {
        Some(last) => {
            // `b[b.len() - 8..]` holds the rest from `at` in its top `b.len() - at` bytes.
            let skip = 8 - (b.len() - at);
            let found = bad(u64::from_le_bytes(*last)) >> (8 * skip);
            if found != 0 {
                at + (found.trailing_zeros() / 8) as usize
            } else {
                b.len()
            }
        }
        None => {
            while at < b.len() && is(b[at], LITERAL) {
                at += 1;
            }
            at
        }
    }
}

/// A `<domain-spec>` from `at` to the end of the term: copied as it stands when it has no `%`.
#[inline(always)]
fn domain_fast(text: &str, at: usize) -> Option<(MacroString, usize)> {
    let (literal_end, end) = literal_run(text.as_bytes(), at);
    let value = &text[at..end];
    let ms = if literal_end == end {
        literal_domain(value)?
    } else {
        domain_spec(value).ok()?
    };
    Some((ms, end))
}

/// A `<domain-spec>` without macros (no `%`): its last label must be a top-level label.
fn literal_domain(value: &str) -> Option<MacroString> {
    ends_in_toplabel(value).then(|| MacroString::literal(value))
}

/// Whether literal text ends in `.` toplabel [ `.` ] (RFC 7208 §7.1).
fn ends_in_toplabel(tail: &str) -> bool {
    let tail = tail.strip_suffix('.').unwrap_or(tail);
    tail.bytes()
        .rposition(|c| c == b'.')
        .is_some_and(|dot| is_toplabel(&tail[dot + 1..]))
}

/// A decimal digit's value.
fn digit(b: Option<&u8>) -> Option<u32> {
    let d = b?.wrapping_sub(b'0');
    (d <= 9).then_some(u32::from(d))
}

/// The bytes [`ip4_window`] reads: the longest address (15 bytes), `/32` and the byte after.
const IP4_WINDOW: usize = 20;

/// The [`IP4_WINDOW`] bytes that start `s`: the text itself when it is long enough, else a
/// zero-padded copy in `padded` (a zero byte stops an address as the end of the text would;
/// callers still compare positions with `s.len()` to tell padding from a zero byte in the text).
#[inline(always)]
fn ip4_window_of<'a>(s: &'a [u8], padded: &'a mut [u8; IP4_WINDOW]) -> &'a [u8; IP4_WINDOW] {
    match s.first_chunk::<IP4_WINDOW>() {
        Some(window) => window,
        None => {
            padded[..s.len()].copy_from_slice(s);
            padded
        }
    }
}

/// A dotted-quad IPv4 address from `at` in one pass (the rules of [`ipv4`]); returns it and where
/// it ends (at the first byte that cannot continue it).
fn ip4_fast(b: &[u8], at: usize) -> Option<(Ipv4Addr, usize)> {
    let s = b.get(at..)?;
    let mut padded = [0u8; IP4_WINDOW];
    let (addr, len) = ip4_window(ip4_window_of(s, &mut padded))?;
    Some((addr, at + len))
}

/// The argument of `ip4:` from `at` to the end of the term: the address and an optional `/len`
/// (the rules of [`ipv4`] and [`cidr_length`]), read from one window; returns them and the end.
#[inline(always)]
fn ip4_term(b: &[u8], at: usize) -> Option<(Ipv4Addr, Option<u8>, usize)> {
    let s = b.get(at..)?;
    let n = s.len();
    let mut padded = [0u8; IP4_WINDOW];
    let w = ip4_window_of(s, &mut padded);
    let (addr, p) = ip4_window(w)?;
    // `p` is at most 15: the compiler sees every index below stay under 20.
    let p = p & 15;
    let ends = |q: usize| q == n || w[q] == b' ';
    if ends(p) {
        return Some((addr, None, at + p));
    }
    if w[p] != b'/' {
        return None;
    }
    let d0 = u32::from(w[p + 1].wrapping_sub(b'0'));
    let d1 = u32::from(w[p + 2].wrapping_sub(b'0'));
    // Three digits are always more than 32: the byte after two is then no end.
    let (value, len) = match (d0, d1) {
        (10.., _) => return None,
        (0, _) | (_, 10..) => (d0, 2),
        _ => (d0 * 10 + d1, 3),
    };
    if value > 32 || !ends(p + len) {
        return None;
    }
    Some((addr, Some(value as u8), at + p + len))
}

/// The dotted-quad address at the start of `w` and its length. Each octet is one of three shapes
/// (`d`, `dd`, `ddd`; a leading `0` stands alone), told apart by two comparisons; the position never
/// passes 15, so `p & 15` only tells the compiler so (no bounds checks).
#[inline(always)]
fn ip4_window(w: &[u8; IP4_WINDOW]) -> Option<(Ipv4Addr, usize)> {
    let d = |p: usize| u32::from(w[p & 15].wrapping_sub(b'0'));
    let mut octets = [0u8; 4];
    let mut p = 0;
    for (k, octet) in octets.iter_mut().enumerate() {
        if k > 0 {
            if w[p & 15] != b'.' {
                return None;
            }
            p += 1;
        }
        let d0 = d(p);
        if d0 > 9 {
            return None;
        }
        let d1 = d(p + 1);
        let value = if d0 == 0 || d1 > 9 {
            p += 1;
            d0
        } else {
            let d2 = d(p + 2);
            if d2 > 9 {
                p += 2;
                d0 * 10 + d1
            } else {
                p += 3;
                d0 * 100 + d1 * 10 + d2
            }
        };
        *octet = u8::try_from(value).ok()?;
    }
    Some((Ipv4Addr::from(octets), p))
}

/// An optional `/len` at `at` that ends the term (the rules of [`cidr_length`]); returns it and
/// the end of the term.
fn cidr_fast(b: &[u8], at: usize, max: u8) -> Option<(Option<u8>, usize)> {
    match b.get(at) {
        None | Some(b' ') => Some((None, at)),
        Some(b'/') => {
            let mut end = at + 1;
            let mut value = digit(b.get(end))?;
            end += 1;
            if value != 0
                && let Some(d) = digit(b.get(end))
            {
                value = value * 10 + d;
                end += 1;
                if let Some(d) = digit(b.get(end)) {
                    value = value * 10 + d;
                    end += 1;
                }
            }
            if value > u32::from(max) || !ends_term(b, end) {
                return None;
            }
            Some((Some(value as u8), end))
        }
        _ => None,
    }
}

/// The text from `at` to the next space (for error messages), cut at a character boundary.
fn token_at(text: &str, at: usize) -> &str {
    let rest = &text[at..];
    &rest[..rest.find(' ').unwrap_or(rest.len())]
}

/// One term: a modifier (`name=value`) or a directive (`[qualifier]mechanism[args]`); printable
/// ASCII only (checked by the caller).
fn parse_term(token: &str) -> Result<Term, ParseErrorKind> {
    let b = token.as_bytes();
    // `name "="` starts a modifier (RFC 7208 §4.6.1: name = ALPHA *( ALPHA / DIGIT / "-" / "_" / "." )).
    let name_len = b.iter().position(|&c| !is(c, NAME)).unwrap_or(b.len());
    if name_len > 0 && b[0].is_ascii_alphabetic() && b.get(name_len) == Some(&b'=') {
        return parse_modifier(&token[..name_len], &token[name_len + 1..]).map(Term::Modifier);
    }
    let (rest, qualifier) = match b[0] {
        b'+' => (&token[1..], Qualifier::Pass),
        b'-' => (&token[1..], Qualifier::Fail),
        b'~' => (&token[1..], Qualifier::SoftFail),
        b'?' => (&token[1..], Qualifier::Neutral),
        _ => (token, Qualifier::Pass),
    };
    let n = rest
        .bytes()
        .position(|c| !is(c, ALNUM))
        .unwrap_or(rest.len());
    if n == 0 {
        return Err(ParseErrorKind::UnknownMechanism);
    }
    let mechanism = parse_mechanism(&rest[..n], &rest[n..])?;
    Ok(Term::Directive(Directive {
        qualifier,
        mechanism,
    }))
}

fn parse_modifier(name: &str, value: &str) -> Result<Modifier, ParseErrorKind> {
    if name.eq_ignore_ascii_case("redirect") {
        Ok(Modifier::Redirect(domain_spec(value)?))
    } else if name.eq_ignore_ascii_case("exp") {
        Ok(Modifier::Exp(domain_spec(value)?))
    } else {
        let (value, _) = macro_string(value, false)?;
        Ok(Modifier::Unknown {
            name: name.to_ascii_lowercase(),
            value,
        })
    }
}

fn required(args: &str) -> Result<&str, ParseErrorKind> {
    args.strip_prefix(':').ok_or(ParseErrorKind::BadArgument)
}

/// `name` lower-cased into `buf` when it is short enough to be a mechanism name.
fn lower_name<'b>(name: &str, buf: &'b mut [u8; 8]) -> &'b [u8] {
    let n = name.len().min(buf.len());
    for (d, s) in buf.iter_mut().zip(name.bytes()) {
        *d = s.to_ascii_lowercase();
    }
    if name.len() > buf.len() {
        return b"";
    }
    &buf[..n]
}

fn parse_mechanism(name: &str, args: &str) -> Result<Mechanism, ParseErrorKind> {
    let mut buf = [0u8; 8];
    let lower = lower_name(name, &mut buf);
    Ok(match lower {
        b"all" if args.is_empty() => Mechanism::All,
        b"include" => Mechanism::Include(domain_spec(required(args)?)?),
        b"exists" => Mechanism::Exists(domain_spec(required(args)?)?),
        b"a" | b"mx" => {
            let (rest, cidr) = split_dual_cidr(args)?;
            let domain = match rest {
                "" => None,
                _ => Some(domain_spec(required(rest)?)?),
            };
            if lower == b"a" {
                Mechanism::A { domain, cidr }
            } else {
                Mechanism::Mx { domain, cidr }
            }
        }
        b"ptr" => Mechanism::Ptr(match args {
            "" => None,
            _ => Some(domain_spec(required(args)?)?),
        }),
        b"ip4" => {
            let (addr, prefix) = split_cidr(required(args)?, 32)?;
            let addr = ipv4(addr.as_bytes()).ok_or(ParseErrorKind::BadIp4)?;
            Mechanism::Ip4 { addr, prefix }
        }
        b"ip6" => {
            let (addr, prefix) = split_cidr(required(args)?, 128)?;
            let addr = ipv6(addr.as_bytes()).ok_or(ParseErrorKind::BadIp6)?;
            Mechanism::Ip6 { addr, prefix }
        }
        b"all" => return Err(ParseErrorKind::BadArgument),
        _ => return Err(ParseErrorKind::UnknownMechanism),
    })
}

/// A dotted-quad IPv4 address: four decimal octets of at most 255, without leading zeros
/// (RFC 7208 §5.6 refers to RFC 4291's `dec-octet`).
fn ipv4(b: &[u8]) -> Option<Ipv4Addr> {
    let mut octets = [0u8; 4];
    let mut i = 0;
    for (k, octet) in octets.iter_mut().enumerate() {
        if k > 0 {
            if b.get(i) != Some(&b'.') {
                return None;
            }
            i += 1;
        }
        let start = i;
        let mut value = 0u32;
        while i < b.len() && i - start < 3 && b[i].is_ascii_digit() {
            value = value * 10 + u32::from(b[i] - b'0');
            i += 1;
        }
        if i == start || value > 255 || (b[start] == b'0' && i - start > 1) {
            return None;
        }
        *octet = value as u8;
    }
    (i == b.len()).then_some(Ipv4Addr::from(octets))
}

/// Hexadecimal digit values (`0xff`: not a hex digit).
static HEX: [u8; 256] = {
    let mut table = [0xffu8; 256];
    let mut i = 0;
    while i < 256 {
        let b = i as u8;
        table[i] = match b {
            b'0'..=b'9' => b - b'0',
            b'a'..=b'f' => b - b'a' + 10,
            b'A'..=b'F' => b - b'A' + 10,
            _ => 0xff,
        };
        i += 1;
    }
    table
};

/// An IPv6 address in the text forms of RFC 4291 §2.2 (groups of 1 to 4 hex digits, one `::`, an
/// IPv4 tail), accepting exactly what `std`'s `Ipv6Addr::from_str` accepts.
fn ipv6(b: &[u8]) -> Option<Ipv6Addr> {
    ipv6_at(b, 0).and_then(|(addr, end)| (end == b.len()).then_some(addr))
}

/// The IPv6 address at `at`, up to the first byte that cannot continue it (which [`ipv6`] would
/// find at the end of the text): the address and where it ends.
fn ipv6_at(b: &[u8], at: usize) -> Option<(Ipv6Addr, usize)> {
    let mut head = [0u16; 8];
    let (head_size, at, head_ipv4) = ipv6_groups(b, at, &mut head)?;
    if head_size == 8 {
        return Some((Ipv6Addr::from(head), at));
    }
    // An IPv4 tail must end the address; `::` must stand for at least one group.
    if head_ipv4 || b.get(at..at + 2) != Some(b"::") {
        return None;
    }
    // The common `...::/len`: nothing after the `::` (the tail's zero groups are already there).
    if b.get(at + 2).is_none_or(|&c| HEX[usize::from(c)] == 0xff) {
        return Some((Ipv6Addr::from(head), at + 2));
    }
    let mut tail = [0u16; 7];
    let (tail_size, at, _) = ipv6_groups(b, at + 2, &mut tail[..7 - head_size])?;
    head[8 - tail_size..].copy_from_slice(&tail[..tail_size]);
    Some((Ipv6Addr::from(head), at))
}

/// Reads up to `groups.len()` `:`-separated groups from `at`, the last two of which may be an IPv4
/// address; returns how many, where they end and whether an IPv4 address ended them. Stops before
/// anything that is not a further group. `None`: the address cannot be valid (a group of more than
/// 4 digits, or digits followed by `.` that do not start an allowed IPv4 address, which must then
/// end the address).
fn ipv6_groups(b: &[u8], mut at: usize, groups: &mut [u16]) -> Option<(usize, usize, bool)> {
    let limit = groups.len();
    for i in 0..limit {
        let mut p = at;
        if i > 0 {
            if b.get(p) != Some(&b':') {
                return Some((i, at, false));
            }
            p += 1;
        }
        let start = p;
        let (digits, value) = hex_group(b, start);
        match digits {
            0 => return Some((i, at, false)),
            1..=4 => {}
            _ => return None,
        }
        p += digits;
        if b.get(p) == Some(&b'.') {
            // Only an IPv4 address, which must then end the text, can follow digits with `.`.
            if i + 1 >= limit {
                return None;
            }
            let (v4, end) = ip4_fast(b, start)?;
            let [one, two, three, four] = v4.octets();
            groups[i] = u16::from_be_bytes([one, two]);
            groups[i + 1] = u16::from_be_bytes([three, four]);
            return Some((i + 2, end, true));
        }
        groups[i] = value as u16;
        at = p;
    }
    Some((limit, at, false))
}

/// The hex digits that start `b[at..]`: how many (counted up to 5: more than 4 never make a group)
/// and their value. When five bytes are left, they are read as one array, unrolled: one table
/// lookup per digit, no bounds checks and no loop.
#[inline(always)]
fn hex_group(b: &[u8], at: usize) -> (usize, u32) {
    let Some(w) = b.get(at..).and_then(|s| s.first_chunk::<5>()) else {
        let (mut p, mut value) = (at, 0u32);
        while p < b.len() && p - at < 5 {
            let d = HEX[usize::from(b[p])];
            if d == 0xff {
                break;
            }
            value = (value << 4) | u32::from(d);
            p += 1;
        }
        return (p - at, value);
    };
    let h = |k: usize| u32::from(HEX[usize::from(w[k])]);
    let mut value = h(0);
    if value == 0xff {
        return (0, 0);
    }
    for k in 1..5 {
        let d = h(k);
        if d == 0xff {
            return (k, value);
        }
        value = (value << 4) | d;
    }
    (5, value)
}

/// A CIDR length: `0` or a number without leading zeros, at most `max` (RFC 7208 §5.6).
fn cidr_length(text: &[u8], max: u8) -> Result<u8, ParseErrorKind> {
    let digit = |b: u8| u16::from(b - b'0');
    let n = match *text {
        [b'0'] => 0,
        [a @ b'1'..=b'9'] => digit(a),
        [a @ b'1'..=b'9', b @ b'0'..=b'9'] => digit(a) * 10 + digit(b),
        [a @ b'1'..=b'9', b @ b'0'..=b'9', c @ b'0'..=b'9'] => {
            digit(a) * 100 + digit(b) * 10 + digit(c)
        }
        _ => return Err(ParseErrorKind::BadCidr),
    };
    u8::try_from(n)
        .ok()
        .filter(|n| *n <= max)
        .ok_or(ParseErrorKind::BadCidr)
}

/// Splits `addr[/len]` (ip4/ip6 argument).
fn split_cidr(arg: &str, max: u8) -> Result<(&str, Option<u8>), ParseErrorKind> {
    match arg.bytes().position(|b| b == b'/') {
        None => Ok((arg, None)),
        Some(at) => Ok((
            &arg[..at],
            Some(cidr_length(&arg.as_bytes()[at + 1..], max)?),
        )),
    }
}

/// Splits a trailing `[/v4][//v6]` from the arguments of `a` / `mx`. A trailing `/` followed by
/// something other than digits is left to the domain-spec (and so rejected there).
fn split_dual_cidr(args: &str) -> Result<(&str, DualCidr), ParseErrorKind> {
    let mut cidr = DualCidr::default();
    let mut rest = args;
    if let Some((before, len)) = trailing_number(rest)
        && let Some(before) = before.strip_suffix("//")
    {
        cidr.v6 = Some(cidr_length(len.as_bytes(), 128)?);
        rest = before;
    }
    if let Some((before, len)) = trailing_number(rest)
        && let Some(before) = before.strip_suffix('/')
        && !before.ends_with('/')
    {
        cidr.v4 = Some(cidr_length(len.as_bytes(), 32)?);
        rest = before;
    }
    Ok((rest, cidr))
}

/// Splits trailing ASCII digits off `text`, if there are any.
fn trailing_number(text: &str) -> Option<(&str, &str)> {
    let digits = text.bytes().rev().take_while(u8::is_ascii_digit).count();
    (digits > 0).then(|| text.split_at(text.len() - digits))
}

/// Parses a `<domain-spec>` (RFC 7208 §7.1): a macro string without `c`/`r`/`t` that ends in a macro
/// or in `.` toplabel [ `.` ].
pub(crate) fn domain_spec(text: &str) -> Result<MacroString, ParseErrorKind> {
    let (ms, ends_with_expand) = macro_string(text, false)?;
    if ms.has_macros() {
        let letters = ms.letters();
        let explanation_only = [
            MacroLetter::ClientIp,
            MacroLetter::Receiver,
            MacroLetter::Timestamp,
        ]
        .into_iter()
        .any(|l| letters.has(l));
        if explanation_only {
            return Err(ParseErrorKind::ExplanationOnlyMacro);
        }
    }
    if ends_with_expand {
        return Ok(ms);
    }
    if ends_in_toplabel(ms.literal_tail()) {
        Ok(ms)
    } else {
        Err(ParseErrorKind::BadDomainSpec)
    }
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
    macro_string(text, true)
        .map(|(ms, _)| ms)
        .map_err(|kind| error(kind, 0, text))
}

/// One piece of macro syntax.
enum Piece<'a> {
    Text(&'a str),
    Macro(Macro),
}

/// Parses a macro string; returns it and whether it ends with a macro-expand (`%{..}`, `%%`, `%_`,
/// `%-`).
fn macro_string(input: &str, allow_space: bool) -> Result<(MacroString, bool), ParseErrorKind> {
    let plain = if allow_space {
        input.bytes().all(|b| is(b, LITERAL) || b == b' ')
    } else {
        literal_end(input.as_bytes(), 0) == input.len()
    };
    if plain {
        // The common case: no macros at all.
        return Ok((MacroString::literal(input), false));
    }
    if let Some(done) = macro_string_fast(input, allow_space) {
        return Ok(done);
    }
    macro_string_nom(input, allow_space)
}

/// The hand-written scanner for well-formed macro strings: `None` for anything it does not
/// accept, which [`macro_string_nom`] then parses (and reports). What it accepts,
/// `macro_string_nom` accepts as the same string.
///
/// Two passes: the first checks the syntax, reads the macros (their offsets in the decoded text
/// are known as it goes), notes where the (at most [`MAX_EXPANDS`]) `%` expands stand and measures
/// the decoded text; the second copies the runs between the expands into a `String` allocated at
/// its final size: no growth, and no shrinking `realloc` when it becomes a `Box<str>`. Literal
/// runs are skipped eight bytes at a time ([`literal_end`]).
fn macro_string_fast(input: &str, allow_space: bool) -> Option<(MacroString, bool)> {
    let b = input.as_bytes();
    // Where each expand starts and ends.
    let mut expands = [(0u32, 0u32); MAX_EXPANDS];
    let mut macros = Vec::new();
    let (mut i, mut n, mut len) = (0, 0, 0);
    loop {
        let e = literal_end(b, i);
        len += e - i;
        i = e;
        match b.get(i) {
            None => break,
            Some(b' ') if allow_space => {
                (len, i) = (len + 1, i + 1);
                continue;
            }
            Some(b'%') if n < MAX_EXPANDS => {}
            Some(_) => return None,
        }
        let start = i;
        match *b.get(i + 1)? {
            b'%' | b'_' => (len, i) = (len + 1, i + 2),
            b'-' => (len, i) = (len + 3, i + 2),
            b'{' => {
                let (m, end) = macro_body_fast(b, i + 2)?;
                if macros.capacity() == 0 {
                    macros = Vec::with_capacity(4);
                }
                macros.push((u32::try_from(len).unwrap_or(u32::MAX), m));
                i = end;
            }
            _ => return None,
        }
        expands[n] = (u32::try_from(start).ok()?, u32::try_from(i).ok()?);
        n += 1;
    }
    let mut text = String::with_capacity(len);
    // The end of the last expand: where the literal run to copy next starts.
    let mut run = 0;
    for &(at, end) in &expands[..n] {
        let at = at as usize;
        if at > run {
            text.push_str(&input[run..at]);
        }
        match b[at + 1] {
            b'%' => text.push('%'),
            b'_' => text.push(' '),
            b'-' => text.push_str("%20"),
            _ => {}
        }
        run = end as usize;
    }
    if run < b.len() {
        text.push_str(&input[run..]);
    }
    // The string ends with a macro-expand when no literal text follows the last `%`.
    let ends_with_expand = n > 0 && run == b.len();
    Some((MacroString::from_raw(text, macros), ends_with_expand))
}

/// How many `%` expands [`macro_string_fast`] takes in one string.
const MAX_EXPANDS: usize = 16;

/// The inside of `%{...}` from `at` (after the `{`): letter, keep digits (at most 9, not 0), `r`,
/// delimiters, `}`. Returns the macro and the end (after the `}`).
fn macro_body_fast(b: &[u8], mut at: usize) -> Option<(Macro, usize)> {
    let c = char::from(*b.get(at)?);
    let letter = MacroLetter::from_char(c)?;
    at += 1;
    if b.get(at) == Some(&b'}') {
        // The common `%{d}`: no transformers.
        let m = Macro {
            letter,
            url_escape: c.is_ascii_uppercase(),
            keep: None,
            reverse: false,
            delimiters: Delimiters::default(),
        };
        return Some((m, at + 1));
    }
    let start = at;
    let mut keep = 0u32;
    while let Some(d) = digit(b.get(at)) {
        if at - start == 9 {
            return None;
        }
        keep = keep * 10 + d;
        at += 1;
    }
    let keep = match (at > start, keep) {
        (false, _) => None,
        (true, 0) => return None,
        (true, n) => Some(n),
    };
    let reverse = matches!(b.get(at), Some(b'r' | b'R'));
    at += usize::from(reverse);
    let mut delimiters = Delimiters::default();
    loop {
        match *b.get(at)? {
            b'}' => break,
            d if delimiters.insert(char::from(d)) => at += 1,
            _ => return None,
        }
    }
    let m = Macro {
        letter,
        url_escape: c.is_ascii_uppercase(),
        keep,
        reverse,
        delimiters,
    };
    Some((m, at + 1))
}

/// The general macro-string parser (nom): accepts every macro string and says what is wrong with
/// the others.
fn macro_string_nom(
    mut input: &str,
    allow_space: bool,
) -> Result<(MacroString, bool), ParseErrorKind> {
    let literal_byte = |b: u8| is(b, LITERAL) || (allow_space && b == b' ');
    let mut text = String::with_capacity(input.len());
    let mut macros = Vec::new();
    let mut ends_with_expand = false;
    while !input.is_empty() {
        if input.starts_with('%') {
            let (rest, piece) = macro_expand(input).map_err(|_| ParseErrorKind::BadMacro)?;
            match piece {
                Piece::Text(t) => text.push_str(t),
                Piece::Macro(m) => macros.push((u32::try_from(text.len()).unwrap_or(u32::MAX), m)),
            }
            input = rest;
            ends_with_expand = true;
        } else {
            let run = input.bytes().take_while(|&b| literal_byte(b)).count();
            if run == 0 {
                return Err(ParseErrorKind::InvalidChar);
            }
            text.push_str(&input[..run]);
            input = &input[run..];
            ends_with_expand = false;
        }
    }
    Ok((MacroString::from_raw(text, macros), ends_with_expand))
}

/// `%{...}`, `%%`, `%_` or `%-`.
fn macro_expand(i: &str) -> IResult<&str, Piece<'static>> {
    preceded(
        char('%'),
        alt((
            map(char('%'), |_| Piece::Text("%")),
            map(char('_'), |_| Piece::Text(" ")),
            map(char('-'), |_| Piece::Text("%20")),
            map(macro_body, Piece::Macro),
        )),
    )
    .parse(i)
}

/// `{` letter transformers delimiters `}`.
fn macro_body(i: &str) -> IResult<&str, Macro> {
    let (i, _) = char('{').parse(i)?;
    let (i, c) = satisfy(|c| MacroLetter::from_char(c).is_some()).parse(i)?;
    let (i, keep) = opt(map_res(digit1, |d: &str| match d.parse::<u32>() {
        Ok(0) | Err(_) => Err(()),
        Ok(n) => Ok(n),
    }))
    .parse(i)?;
    let (i, reverse) = opt(tag_no_case("r")).parse(i)?;
    let (i, delimiters) = map_res(
        take_while(|c| matches!(c, '.' | '-' | '+' | ',' | '/' | '_' | '=')),
        str::parse::<Delimiters>,
    )
    .parse(i)?;
    let (i, _) = char('}').parse(i)?;
    let letter = MacroLetter::from_char(c).expect("checked by satisfy");
    Ok((
        i,
        Macro {
            letter,
            url_escape: c.is_ascii_uppercase(),
            keep,
            reverse: reverse.is_some(),
            delimiters,
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spf::record::MacroPart;
    use std::net::Ipv4Addr;

    fn parse(s: &str) -> Result<Record, ParseErrorKind> {
        s.parse::<Record>().map_err(|e| e.kind)
    }

    fn mech(s: &str) -> Mechanism {
        let r = parse(&format!("v=spf1 {s}")).unwrap();

        r.directives().next().unwrap().mechanism.clone()
    }

    #[test]
    fn version() {
        assert!(parse("v=spf1").unwrap().terms().is_empty());
        assert!(parse("v=spf1   ").unwrap().terms().is_empty());
        assert_eq!(parse("v=spf10"), Err(ParseErrorKind::NotSpf1));
        assert_eq!(parse("spf1 -all"), Err(ParseErrorKind::NotSpf1));
        assert_eq!(parse(""), Err(ParseErrorKind::NotSpf1));
        assert!(parse("V=SpF1 -all").is_ok());
    }

    #[test]
    fn qualifiers_and_all() {
        let r = parse("v=spf1 +all -all ~all ?all ALL").unwrap();
        let q: Vec<_> = r.directives().map(|d| d.qualifier).collect();
        assert_eq!(
            q,
            [
                Qualifier::Pass,
                Qualifier::Fail,
                Qualifier::SoftFail,
                Qualifier::Neutral,
                Qualifier::Pass
            ]
        );
        assert_eq!(
            parse("v=spf1 all:foo.com"),
            Err(ParseErrorKind::BadArgument)
        );
        assert_eq!(parse("v=spf1 all/24"), Err(ParseErrorKind::BadArgument));
        assert_eq!(parse("v=spf1 *all"), Err(ParseErrorKind::UnknownMechanism));
        assert_eq!(parse("v=spf1 -"), Err(ParseErrorKind::UnknownMechanism));
    }

    #[test]
    fn a_and_mx_cidr() {
        assert_eq!(
            mech("a"),
            Mechanism::A {
                domain: None,
                cidr: DualCidr::default()
            }
        );
        assert_eq!(
            mech("a/24//64"),
            Mechanism::A {
                domain: None,
                cidr: DualCidr {
                    v4: Some(24),
                    v6: Some(64)
                }
            }
        );
        match mech("mx:example.com//0") {
            Mechanism::Mx { domain, cidr } => {
                assert_eq!(domain.unwrap().as_literal(), Some("example.com"));
                assert_eq!(
                    cidr,
                    DualCidr {
                        v4: None,
                        v6: Some(0)
                    }
                );
            }
            m => panic!("{m:?}"),
        }
        assert_eq!(parse("v=spf1 a/33"), Err(ParseErrorKind::BadCidr));
        assert_eq!(parse("v=spf1 a//129"), Err(ParseErrorKind::BadCidr));
        assert_eq!(parse("v=spf1 a/024"), Err(ParseErrorKind::BadCidr));
        assert_eq!(parse("v=spf1 a:"), Err(ParseErrorKind::BadDomainSpec));
        assert_eq!(parse("v=spf1 a:foo"), Err(ParseErrorKind::BadDomainSpec));
        assert_eq!(parse("v=spf1 a:foo.1"), Err(ParseErrorKind::BadDomainSpec));
        assert!(parse("v=spf1 a:foo:bar/baz.example.com").is_ok());
        assert_eq!(parse("v=spf1 ax"), Err(ParseErrorKind::UnknownMechanism));
    }

    #[test]
    fn ip_mechanisms() {
        assert_eq!(
            mech("ip4:192.0.2.0/24"),
            Mechanism::Ip4 {
                addr: Ipv4Addr::new(192, 0, 2, 0),
                prefix: Some(24)
            }
        );
        assert!(matches!(
            mech("ip6:::1"),
            Mechanism::Ip6 { prefix: None, .. }
        ));
        assert!(matches!(
            mech("ip6:2001:db8::/0"),
            Mechanism::Ip6 {
                prefix: Some(0),
                ..
            }
        ));
        assert_eq!(parse("v=spf1 ip4:1.2.3"), Err(ParseErrorKind::BadIp4));
        assert_eq!(parse("v=spf1 ip4:01.2.3.4"), Err(ParseErrorKind::BadIp4));
        assert_eq!(parse("v=spf1 ip4:1.2.3.4/33"), Err(ParseErrorKind::BadCidr));
        assert_eq!(parse("v=spf1 ip4:1.2.3.4/"), Err(ParseErrorKind::BadCidr));
        assert_eq!(parse("v=spf1 ip4"), Err(ParseErrorKind::BadArgument));
        assert_eq!(parse("v=spf1 ip6:1.2.3.4"), Err(ParseErrorKind::BadIp6));
        assert_eq!(parse("v=spf1 ip6:::1/129"), Err(ParseErrorKind::BadCidr));
    }

    #[test]
    fn modifiers() {
        let r = parse("v=spf1 redirect=_spf.example.com exp=exp.%{d} moo.cow-far_out=man:dog/cat")
            .unwrap();
        assert_eq!(r.redirect().unwrap().as_literal(), Some("_spf.example.com"));
        assert!(r.exp().unwrap().uses(MacroLetter::Domain));
        assert_eq!(r.terms().len(), 3);
        assert_eq!(
            parse("v=spf1 redirect=a.com redirect=b.com"),
            Err(ParseErrorKind::DuplicateModifier)
        );
        assert_eq!(
            parse("v=spf1 exp=a.com EXP=b.com"),
            Err(ParseErrorKind::DuplicateModifier)
        );
        assert_eq!(
            parse("v=spf1 redirect="),
            Err(ParseErrorKind::BadDomainSpec)
        );
        assert!(parse("v=spf1 foo=").is_ok());
        assert_eq!(
            parse("v=spf1 9foo=bar"),
            Err(ParseErrorKind::UnknownMechanism)
        );
        assert_eq!(parse("v=spf1 foo=%"), Err(ParseErrorKind::BadMacro));
    }

    #[test]
    fn macros() {
        match mech("exists:%{ir}.%{L2r-}.%%%_%-.%{d}") {
            Mechanism::Exists(ms) => {
                let parts: Vec<MacroPart> = ms.parts().collect();
                assert_eq!(parts.len(), 5);
                assert!(
                    matches!(&parts[0], MacroPart::Macro(m) if m.letter == MacroLetter::Ip && m.reverse)
                );
                assert!(matches!(&parts[2], MacroPart::Macro(m)
                    if m.url_escape && m.keep == Some(2) && m.delimiters.to_string() == "-"));
                assert_eq!(parts[3], MacroPart::Literal(".% %20."));
            }
            m => panic!("{m:?}"),
        }
        assert_eq!(
            parse("v=spf1 exists:%{x}.com"),
            Err(ParseErrorKind::BadMacro)
        );
        assert_eq!(
            parse("v=spf1 exists:%{d0}.com"),
            Err(ParseErrorKind::BadMacro)
        );
        assert_eq!(parse("v=spf1 exists:%{d"), Err(ParseErrorKind::BadMacro));
        assert_eq!(parse("v=spf1 exists:%x.com"), Err(ParseErrorKind::BadMacro));
        assert_eq!(
            parse("v=spf1 exists:%{t}.com"),
            Err(ParseErrorKind::ExplanationOnlyMacro)
        );
        assert_eq!(
            parse("v=spf1 exists:%{c}"),
            Err(ParseErrorKind::ExplanationOnlyMacro)
        );
        assert_eq!(
            parse("v=spf1 exists:%{d}%_com"),
            Err(ParseErrorKind::BadDomainSpec)
        );
        assert!(parse("v=spf1 exists:%{d}.%_").is_ok());
    }

    #[test]
    fn invalid_characters() {
        assert_eq!(
            parse("v=spf1 a:ex\u{e9}.com"),
            Err(ParseErrorKind::InvalidChar)
        );
        assert_eq!(
            parse("v=spf1 ip4:1.2.3.4\u{8}"),
            Err(ParseErrorKind::InvalidChar)
        );
        assert_eq!(parse("v=spf1\t-all"), Err(ParseErrorKind::NotSpf1));
        assert_eq!(parse("v=spf1 -all\t"), Err(ParseErrorKind::InvalidChar));
    }

    #[test]
    fn error_position() {
        let e = "v=spf1 a mx:foo ip4:x".parse::<Record>().unwrap_err();
        assert_eq!(e.offset, 9);
        assert_eq!(e.term, "mx:foo");
        let e = "v=spf1  redirect=a.com -all redirect=b.com"
            .parse::<Record>()
            .unwrap_err();
        assert_eq!(e.offset, 28);
        assert_eq!(e.kind, ParseErrorKind::DuplicateModifier);
    }

    #[test]
    fn display_round_trip() {
        for text in [
            "v=spf1 +MX a:%{d}/24 -all",
            "v=spf1 ip4:192.0.2.1/0 ip6:::ffff:1.2.3.4 ptr:%{p}.x.com ~include:_spf.example.com",
            "v=spf1 exists:%{ir}.%{l1r+-}._spf.%{d} exp=%{d}.%%%_.com ?all x-foo=%{i}",
            "v=spf1 a//64 mx/0 redirect=_spf.%{o}",
            // A domain-spec ending in `%-` stays valid: `%20` is written back as `%-`.
            "v=spf1 exists:%{d}%- a:b.%%20.com include:x.%{i}%%20%_%-",
        ] {
            let r: Record = text.parse().unwrap();
            let again: Record = r.to_string().parse().unwrap();
            assert_eq!(again, r, "{text} -> {r}");
        }
        assert_eq!(
            "v=spf1 +MX ~A:x.COM/24"
                .parse::<Record>()
                .unwrap()
                .to_string(),
            "v=spf1 mx ~a:x.COM/24"
        );
    }

    /// The hand-written IPv6 parser against `std`'s: the same strings accepted, the same value.
    mod ipv6_matches_std {
        use super::super::{HEX, hex_group, ipv6, ipv6_at};
        use proptest::prelude::*;
        use std::net::Ipv6Addr;

        fn check(s: &str) -> Result<(), TestCaseError> {
            let std = s.parse::<Ipv6Addr>().ok();
            prop_assert_eq!(ipv6(s.as_bytes()), std, "{:?}", s);
            // Followed by the rest of a term and record, as in `ip6:` (the readers then see
            // whole words where they would see the end of the text).
            let term = format!("{s}/64 -all include:_spf.example.com");
            let at_end = ipv6_at(term.as_bytes(), 0)
                .filter(|&(_, end)| end == s.len())
                .map(|(addr, _)| addr);
            prop_assert_eq!(at_end, std, "{:?}", term);
            Ok(())
        }

        /// Address-like text: groups of 0 to 5 hex digits, maybe a `::`, maybe an IPv4 tail.
        fn address_like() -> impl Strategy<Value = String> {
            let group = "[0-9a-fA-F]{0,5}";
            let octet = prop_oneof!["[0-9]{1,4}", (0u16..300).prop_map(|n| n.to_string())];
            (
                prop::collection::vec(group, 0..9),
                prop::option::of(0usize..9),
                prop::option::of(prop::collection::vec(octet, 1..6)),
                prop::sample::select(vec!["", ":", "::", ".", ":::"]),
            )
                .prop_map(|(groups, compress, v4, junk)| {
                    let mut s = String::new();
                    for (i, g) in groups.iter().enumerate() {
                        if Some(i) == compress {
                            s.push_str("::");
                        } else if i > 0 {
                            s.push(':');
                        }
                        s.push_str(g);
                    }
                    if compress.is_some_and(|c| c >= groups.len()) {
                        s.push_str("::");
                    }
                    if let Some(v4) = v4 {
                        if !s.is_empty() && !s.ends_with(':') {
                            s.push(':');
                        }
                        s.push_str(&v4.join("."));
                    }
                    s.push_str(junk);
                    s
                })
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(crate::cases::cases(2000)))]

            #[test]
            fn address_like_text(s in address_like()) {
                check(&s)?;
            }

            #[test]
            fn any_text_of_address_bytes(s in "[0-9a-fA-F:.]{0,45}") {
                check(&s)?;
            }

            #[test]
            fn displayed_addresses(a in any::<[u8; 16]>(), zeros in any::<u16>(), upper in any::<bool>()) {
                // Runs of zero groups, so that `::` and IPv4-mapped forms come up.
                let mut groups: [u16; 8] = Ipv6Addr::from(a).segments();
                for (i, g) in groups.iter_mut().enumerate() {
                    if zeros & (1 << i) != 0 {
                        *g = 0;
                    }
                }
                let text = Ipv6Addr::from(groups).to_string();
                check(&text)?;
                check(&text.to_ascii_uppercase())?;
                let full = groups.map(|g| if upper { format!("{g:04X}") } else { format!("{g:x}") }).join(":");
                check(&full)?;
            }
        }

        /// The unrolled hex-group reader against a byte-at-a-time one, on every string of up to
        /// seven bytes from a small alphabet, at every start.
        #[test]
        fn hex_group_matches_bytewise() {
            let bytewise = |b: &[u8], at: usize| {
                let (mut p, mut value) = (at, 0u32);
                while p < b.len() && p - at < 5 && HEX[usize::from(b[p])] != 0xff {
                    value = (value << 4) | u32::from(HEX[usize::from(b[p])]);
                    p += 1;
                }
                (p - at, value)
            };
            let alphabet = b"0aF9:g.";
            let mut text = Vec::new();
            for len in 0..=7u32 {
                for mut n in 0..alphabet.len().pow(len) {
                    text.clear();
                    for _ in 0..len {
                        text.push(alphabet[n % alphabet.len()]);
                        n /= alphabet.len();
                    }
                    for at in 0..=text.len() {
                        assert_eq!(
                            hex_group(&text, at),
                            bytewise(&text, at),
                            "{text:?} at {at}"
                        );
                    }
                }
            }
        }

        #[test]
        fn edge_cases() {
            for s in [
                "",
                ":",
                "::",
                ":::",
                "::1",
                "1::",
                "1:2:3:4:5:6:7:8",
                "1:2:3:4:5:6:7::",
                "::2:3:4:5:6:7:8",
                "1:2:3:4:5:6:7:8::",
                "::1:2:3:4:5:6:7:8",
                "1:2:3:4:5:6:1.2.3.4",
                "1:2:3:4:5::1.2.3.4",
                "1:2:3:4:5:6::1.2.3.4",
                "::1.2.3.4",
                "::ffff:1.2.3.4",
                "1.2.3.4",
                "::1.2.3.04",
                "::1.2.3.256",
                "::1.2.3",
                "::1.2.3.4.5",
                "::1.2.3.4:1",
                "1:2:1.2.3.4",
                "1:2:1.2.3.4::",
                "12345::",
                "::12345",
                "0000:0:0:0:0:0:0:0",
                "00000::",
                "1::2::3",
                ":1::",
                "1:::2",
                "::a.2.3.4",
                "::1a.2.3.4",
                "ffff::",
                "FFFF::",
                "g::",
                "1:2:3:4:5:6:7:8:9",
                "::0.0.0.0",
                "1:2:3:4:5:6:7:1.2.3.4",
                "::1.2.3.4 ",
                " ::1",
                "1::1.2.3.4",
                "1:2:3:4:5:6:7::1",
            ] {
                check(s).unwrap();
            }
        }
    }

    /// The windowed IPv4 readers against the byte-at-a-time reader they replace, and against
    /// `std` for whole addresses.
    mod ip4_matches_reference {
        use super::super::{cidr_length, ip4_fast, ip4_term, ipv4};
        use proptest::prelude::*;
        use std::net::Ipv4Addr;

        /// The former `ip4_fast`: one byte at a time, each read bounds-checked.
        fn reference(b: &[u8], mut at: usize) -> Option<(Ipv4Addr, usize)> {
            let digit = |b: Option<&u8>| {
                let d = b?.wrapping_sub(b'0');
                (d <= 9).then_some(u32::from(d))
            };
            let mut octets = [0u8; 4];
            for (k, octet) in octets.iter_mut().enumerate() {
                if k > 0 {
                    if b.get(at) != Some(&b'.') {
                        return None;
                    }
                    at += 1;
                }
                let mut value = digit(b.get(at))?;
                at += 1;
                if value != 0
                    && let Some(d) = digit(b.get(at))
                {
                    value = value * 10 + d;
                    at += 1;
                    if let Some(d) = digit(b.get(at)) {
                        value = value * 10 + d;
                        at += 1;
                    }
                }
                *octet = u8::try_from(value).ok()?;
            }
            Some((Ipv4Addr::from(octets), at))
        }

        /// What `ip4_term` must return: the address, then an optional `/len` that ends the term.
        fn term_reference(b: &[u8], at: usize) -> Option<(Ipv4Addr, Option<u8>, usize)> {
            let (addr, end) = reference(b, at)?;
            let term_end = b[end..]
                .iter()
                .position(|&c| c == b' ')
                .map_or(b.len(), |p| end + p);
            match b.get(end) {
                None | Some(b' ') => Some((addr, None, end)),
                Some(b'/') => {
                    let len = cidr_length(&b[end + 1..term_end], 32).ok()?;
                    Some((addr, Some(len), term_end))
                }
                _ => None,
            }
        }

        fn check(text: &str) -> Result<(), TestCaseError> {
            let b = text.as_bytes();
            for at in 0..=b.len() {
                prop_assert_eq!(ip4_fast(b, at), reference(b, at), "{:?} at {}", text, at);
                prop_assert_eq!(
                    ip4_term(b, at),
                    term_reference(b, at),
                    "{:?} at {}",
                    text,
                    at
                );
            }
            prop_assert_eq!(ipv4(b), text.parse::<Ipv4Addr>().ok(), "{:?}", text);
            Ok(())
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(crate::cases::cases(2000)))]

            #[test]
            fn address_like_text(s in "[0-9./ ]{0,24}") {
                check(&s)?;
            }

            #[test]
            fn addresses_and_lengths(
                a in any::<[u8; 4]>(),
                len in 0u8..40,
                pad in prop::sample::select(vec!["", "0", "00", "1"]),
                tail in "(/[0-9]{0,4})?[ x\\x00/.0-9]{0,3}",
                head in "[0-9]{0,2}",
            ) {
                let text = format!("{}", Ipv4Addr::from(a));
                check(&format!("{head}{text}/{len}{tail}"))?;
                check(&format!("{text}{tail}"))?;
                check(&text.replacen('.', &format!(".{pad}"), 1))?;
                // Long enough that the window is the text itself.
                check(&format!("{text}/{len}{tail} -all ip4:1.2.3.4"))?;
            }
        }
    }

    /// The word-at-a-time literal scan against a byte-at-a-time one, at every start and length.
    #[test]
    fn literal_end_matches_bytewise() {
        let bytewise = |b: &[u8], mut at: usize| {
            while at < b.len() && is(b[at], LITERAL) {
                at += 1;
            }
            at
        };
        let mut text = Vec::new();
        for len in 0..40 {
            for bad in 0u8..=255 {
                if is(bad, LITERAL) {
                    continue;
                }
                for pos in 0..=len {
                    text.clear();
                    text.extend((0..len).map(|k| b"a.-_!~$&z09}{"[k % 13]));
                    if pos < len {
                        text[pos] = bad;
                    }
                    for at in 0..=len {
                        assert_eq!(
                            literal_end(&text, at),
                            bytewise(&text, at),
                            "{text:?} at {at}"
                        );
                    }
                }
            }
        }
    }

    /// The word-at-a-time term end against a byte-at-a-time one.
    #[test]
    fn term_end_matches_bytewise() {
        let bytewise = |b: &[u8], mut at: usize| {
            while at < b.len() && b[at] != b' ' {
                at += 1;
            }
            at
        };
        let mut text = Vec::new();
        for len in 0..30 {
            for space in 0..=len {
                for other in [b'!', 0x00, 0x20 ^ 0x80, 0xa0, b'a', 0x21] {
                    text.clear();
                    text.extend((0..len).map(|k| if k % 5 == 3 { other } else { b'x' }));
                    if space < len {
                        text[space] = b' ';
                    }
                    for at in 0..=len {
                        assert_eq!(term_end(&text, at), bytewise(&text, at), "{text:?} at {at}");
                    }
                }
            }
        }
    }

    /// The single-pass scanner never disagrees with the general term parser.
    mod fast_path_agrees {
        use super::super::{ParseErrorKind, Record, Term, fast_term, parse_term};
        use proptest::prelude::*;

        fn token() -> impl Strategy<Value = String> {
            let name = prop::sample::select(vec![
                "a", "A", "mx", "Mx", "all", "aLL", "al", "ip4", "IP4", "ip6", "ip", "include",
                "INCLUDE", "exists", "ptr", "PTR", "redirect", "Redirect", "exp", "ExP", "foo",
                "a-b", "mxx", "allx", "includes", "exist", "",
            ]);
            let sep = prop::sample::select(vec!["", ":", "=", "/", "//", ":/"]);
            let tail = prop_oneof![
                Just(String::new()),
                "[0-9./]{0,20}",
                "[0-9a-fA-F:./]{0,30}",
                "[a-z0-9._%{}-]{0,20}(\\.[a-z]{1,5}\\.?)?(/[0-9]{1,3})?(//[0-9]{1,3})?",
                "[!-~]{0,20}",
                any::<[u8; 4]>().prop_map(|a| format!(
                    "{}/{}",
                    std::net::Ipv4Addr::from(a),
                    a[0] % 40
                )),
                any::<[u8; 16]>().prop_map(|a| format!(
                    "{}/{}",
                    std::net::Ipv6Addr::from(a),
                    a[0] % 140
                )),
            ];
            let good = prop::sample::select(vec![
                "ip4:",
                "iP4:",
                "ip6:",
                "include:",
                "a:",
                "mx:",
                "a/",
                "mx/",
                "a//",
                "exists:",
                "ptr:",
                "redirect=",
                "exp=",
                "a",
                "mx",
                "all",
                "ptr",
                "",
            ]);
            let head = prop_oneof![
                2 => good.prop_map(String::from),
                1 => (name, sep).prop_map(|(n, s)| format!("{n}{s}")),
            ];
            ("[-+~?]?", head, tail).prop_map(|(q, h, t)| format!("{q}{h}{t}"))
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(crate::cases::cases(2000)))]

            #[test]
            fn accepted_terms_parse_the_same(token in token(), next in prop::sample::select(vec!["", " ", " -all"])) {
                let text = format!("v=spf1 {token}{next}");
                if token.is_empty() || token.starts_with(' ') {
                    return Ok(());
                }
                let mut modifier = false;
                let mut terms = Vec::new();
                if let Some(end) = fast_term(&text, 7, &mut modifier, &mut terms) {
                    prop_assert_eq!(terms.len(), 1);
                    let term = terms.remove(0);
                    prop_assert_eq!(modifier, matches!(term, Term::Modifier(_)), "{:?}", token);
                    prop_assert_eq!(end, 7 + token.len(), "{:?}", token);
                    prop_assert_eq!(parse_term(&token), Ok(term), "{:?}", token);
                }
            }

            /// Whole records (whose terms `from_str` may read in its loop, in `fast_term` or in
            /// the general parser) against the general parser term by term: the same record, or
            /// the same error at the same place.
            #[test]
            fn records_parse_term_by_term(
                tokens in prop::collection::vec((token(), " {1,2}"), 1..6),
                end in prop::sample::select(vec!["", " ", " -all", " ~all", " ?all", " +all", " all"]),
            ) {
                let mut text = String::from("v=spf1");
                let mut expected = Ok(Vec::new());
                for (token, spaces) in tokens.iter().map(|(t, s)| (t.as_str(), s.as_str())).chain([(end.trim(), " ")]) {
                    if token.is_empty() || token.starts_with(' ') {
                        continue;
                    }
                    text.push_str(spaces);
                    let at = text.len();
                    text.push_str(token);
                    if let Ok(terms) = &mut expected {
                        match parse_term(token) {
                            Ok(term) => terms.push(term),
                            Err(kind) => expected = Err((kind, at)),
                        }
                    }
                }
                let expected = expected.and_then(|terms| {
                    Record::new(terms).map_err(|dup| {
                        let token = text[6..].split(' ').filter(|t| !t.is_empty()).nth(dup.index).unwrap();
                        (
                            ParseErrorKind::DuplicateModifier,
                            token.as_ptr() as usize - text.as_ptr() as usize,
                        )
                    })
                });
                let got = text.parse::<Record>().map_err(|e| (e.kind, e.offset));
                prop_assert_eq!(got, expected, "{:?}", text);
            }
        }
    }

    /// The hand-written macro-string scanner never disagrees with the nom parser.
    mod macro_fast_path_agrees {
        use super::super::{macro_string_fast, macro_string_nom};
        use proptest::prelude::*;

        fn piece() -> impl Strategy<Value = String> {
            prop_oneof![
                3 => "[a-z0-9._-]{1,5}",
                2 => (
                    "[sloSLOdipvhDIPVHcrtCRTxX0{}% ]",
                    "(0|[0-9]{1,11})?",
                    "[rRx]?",
                    "[-.+,/_=x]{0,4}",
                    "[}x]?",
                )
                    .prop_map(|(l, k, r, d, e)| format!("%{{{l}{k}{r}{d}{e}")),
                1 => prop::sample::select(vec!["%%", "%_", "%-", "%", "%x", " ", "%{", "\u{e9}"]).prop_map(String::from),
                1 => "[ -~]{0,4}",
            ]
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(crate::cases::cases(2000)))]

            #[test]
            fn accepted_strings_parse_the_same(pieces in prop::collection::vec(piece(), 1..6), space in any::<bool>()) {
                let text = pieces.concat();
                if let Some(fast) = macro_string_fast(&text, space) {
                    prop_assert_eq!(macro_string_nom(&text, space), Ok(fast), "{:?}", text);
                }
            }
        }
    }
}
