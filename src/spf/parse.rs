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

use super::record::{
    Delimiters, DualCidr, Macro, MacroLetter, MacroPart, MacroString, Mechanism, Modifier,
    Qualifier, Record, Term,
};
use super::Directive;
use crate::name::is_toplabel;
use nom::branch::alt;
use nom::bytes::complete::{tag_no_case, take_while};
use nom::character::complete::{char, digit1, satisfy};
use nom::combinator::{map, map_res, opt};
use nom::sequence::preceded;
use nom::{IResult, Parser};
use std::fmt;
use std::net::Ipv4Addr;
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
    let mut end = term.len().min(64);
    while !term.is_char_boundary(end) {
        end -= 1;
    }
    ParseError {
        offset,
        term: term[..end].to_string(),
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
    text.len() >= 6
        && text[..6].eq_ignore_ascii_case(b"v=spf1")
        && (text.len() == 6 || text[6] == b' ')
}

impl FromStr for Record {
    type Err = ParseError;

    fn from_str(text: &str) -> Result<Record, ParseError> {
        if !is_spf1(text.as_bytes()) {
            return Err(error(ParseErrorKind::NotSpf1, 0, text));
        }
        let body = &text[6..];
        // One branch-free pass (vectorised) checks that the text is printable ASCII and spaces.
        let bad = body
            .bytes()
            .fold(false, |bad, b| bad | !(0x20..=0x7e).contains(&b));
        if bad {
            let at = 6 + body
                .bytes()
                .position(|b| !(0x20..=0x7e).contains(&b))
                .unwrap_or(0);
            let start = text[..at].rfind(' ').map_or(at, |s| s + 1);
            return Err(error(
                ParseErrorKind::InvalidChar,
                at,
                token_at(text, start),
            ));
        }
        let mut terms = Vec::with_capacity(body.len() / 16 + 1);
        let bytes = body.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            if bytes[i] == b' ' {
                i += 1;
                continue;
            }
            let start = i;
            while i < bytes.len() && bytes[i] != b' ' {
                i += 1;
            }
            let token = &body[start..i];
            terms.push(parse_term(token).map_err(|kind| error(kind, 6 + start, token))?);
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
            let addr = ipv4(addr).ok_or(ParseErrorKind::BadIp4)?;
            Mechanism::Ip4 { addr, prefix }
        }
        b"ip6" => {
            let (addr, prefix) = split_cidr(required(args)?, 128)?;
            let addr = addr.parse().map_err(|_| ParseErrorKind::BadIp6)?;
            Mechanism::Ip6 { addr, prefix }
        }
        b"all" => return Err(ParseErrorKind::BadArgument),
        _ => return Err(ParseErrorKind::UnknownMechanism),
    })
}

/// A dotted-quad IPv4 address: four decimal octets of at most 255, without leading zeros
/// (RFC 7208 §5.6 refers to RFC 4291's `dec-octet`).
fn ipv4(text: &str) -> Option<Ipv4Addr> {
    let b = text.as_bytes();
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

/// A CIDR length: `0` or a number without leading zeros, at most `max` (RFC 7208 §5.6).
fn cidr_length(text: &str, max: u8) -> Result<u8, ParseErrorKind> {
    let digit = |b: u8| u16::from(b - b'0');
    let n = match *text.as_bytes() {
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
        Some(at) => Ok((&arg[..at], Some(cidr_length(&arg[at + 1..], max)?))),
    }
}

/// Splits a trailing `[/v4][//v6]` from the arguments of `a` / `mx`. A trailing `/` followed by
/// something other than digits is left to the domain-spec (and so rejected there).
fn split_dual_cidr(args: &str) -> Result<(&str, DualCidr), ParseErrorKind> {
    let mut cidr = DualCidr::default();
    let mut rest = args;
    if let Some((before, len)) = trailing_number(rest) {
        if let Some(before) = before.strip_suffix("//") {
            cidr.v6 = Some(cidr_length(len, 128)?);
            rest = before;
        }
    }
    if let Some((before, len)) = trailing_number(rest) {
        if let Some(before) = before.strip_suffix('/') {
            if !before.ends_with('/') {
                cidr.v4 = Some(cidr_length(len, 32)?);
                rest = before;
            }
        }
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
        let explanation_only = ms
            .parts()
            .any(|p| matches!(p, MacroPart::Macro(m) if m.letter.explanation_only()));
        if explanation_only {
            return Err(ParseErrorKind::ExplanationOnlyMacro);
        }
    }
    if ends_with_expand {
        return Ok(ms);
    }
    let tail = ms.literal_tail();
    let tail = tail.strip_suffix('.').unwrap_or(tail);
    match tail.rsplit_once('.') {
        Some((_, top)) if is_toplabel(top) => Ok(ms),
        _ => Err(ParseErrorKind::BadDomainSpec),
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
fn macro_string(mut input: &str, allow_space: bool) -> Result<(MacroString, bool), ParseErrorKind> {
    let literal_byte = |b: u8| is(b, LITERAL) || (allow_space && b == b' ');
    if input.bytes().all(literal_byte) {
        // The common case: no macros at all.
        return Ok((MacroString::literal(input), false));
    }
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
    use std::net::Ipv4Addr;

    fn parse(s: &str) -> Result<Record, ParseErrorKind> {
        s.parse::<Record>().map_err(|e| e.kind)
    }

    fn mech(s: &str) -> Mechanism {
        let r = parse(&format!("v=spf1 {s}")).unwrap();
        let m = r.directives().next().unwrap().mechanism.clone();
        m
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
}
