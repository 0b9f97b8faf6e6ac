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
    DualCidr, Macro, MacroLetter, MacroPart, MacroString, Mechanism, Modifier, Qualifier, Record,
    Term,
};
use super::Directive;
use crate::name::is_toplabel;
use nom::branch::alt;
use nom::bytes::complete::{tag, tag_no_case, take_while, take_while1};
use nom::character::complete::{char, digit1, satisfy};
use nom::combinator::{all_consuming, map, map_res, opt, recognize};
use nom::sequence::preceded;
use nom::{IResult, Parser};
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
        let mut terms = Vec::new();
        let mut offset = 6;
        for token in text[6..].split(' ') {
            if !token.is_empty() {
                terms.push(parse_term(token).map_err(|kind| error(kind, offset, token))?);
            }
            offset += token.len() + 1;
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

fn parse_term(token: &str) -> Result<Term, ParseErrorKind> {
    if let Some(bad) = token.bytes().find(|b| !(0x21..=0x7e).contains(b)) {
        let _ = bad;
        return Err(ParseErrorKind::InvalidChar);
    }
    if let Ok((value, name)) = modifier_name(token) {
        return parse_modifier(name, value).map(Term::Modifier);
    }
    let (rest, qualifier) = opt(qualifier)
        .parse(token)
        .map_err(|_: nom::Err<nom::error::Error<&str>>| ParseErrorKind::UnknownMechanism)?;
    let (args, name) =
        take_while1::<_, _, nom::error::Error<&str>>(|c: char| c.is_ascii_alphanumeric())
            .parse(rest)
            .map_err(|_| ParseErrorKind::UnknownMechanism)?;
    let mechanism = parse_mechanism(name, args)?;
    Ok(Term::Directive(Directive {
        qualifier: qualifier.unwrap_or_default(),
        mechanism,
    }))
}

/// `name "="` of a modifier; returns the value after `=`.
fn modifier_name(token: &str) -> IResult<&str, &str> {
    let (rest, name) = recognize((
        satisfy(|c| c.is_ascii_alphabetic()),
        take_while(|c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')),
    ))
    .parse(token)?;
    let (rest, _) = char('=').parse(rest)?;
    Ok((rest, name))
}

fn qualifier(i: &str) -> IResult<&str, Qualifier> {
    alt((
        map(char('+'), |_| Qualifier::Pass),
        map(char('-'), |_| Qualifier::Fail),
        map(char('~'), |_| Qualifier::SoftFail),
        map(char('?'), |_| Qualifier::Neutral),
    ))
    .parse(i)
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

fn parse_mechanism(name: &str, args: &str) -> Result<Mechanism, ParseErrorKind> {
    let lower = name.to_ascii_lowercase();
    Ok(match lower.as_str() {
        "all" if args.is_empty() => Mechanism::All,
        "include" => Mechanism::Include(domain_spec(required(args)?)?),
        "exists" => Mechanism::Exists(domain_spec(required(args)?)?),
        "a" | "mx" => {
            let (rest, cidr) = split_dual_cidr(args)?;
            let domain = match rest {
                "" => None,
                _ => Some(domain_spec(required(rest)?)?),
            };
            if lower == "a" {
                Mechanism::A { domain, cidr }
            } else {
                Mechanism::Mx { domain, cidr }
            }
        }
        "ptr" => Mechanism::Ptr(match args {
            "" => None,
            _ => Some(domain_spec(required(args)?)?),
        }),
        "ip4" => {
            let (addr, prefix) = split_cidr(required(args)?, 32)?;
            let addr = addr.parse().map_err(|_| ParseErrorKind::BadIp4)?;
            Mechanism::Ip4 { addr, prefix }
        }
        "ip6" => {
            let (addr, prefix) = split_cidr(required(args)?, 128)?;
            let addr = addr.parse().map_err(|_| ParseErrorKind::BadIp6)?;
            Mechanism::Ip6 { addr, prefix }
        }
        "all" => return Err(ParseErrorKind::BadArgument),
        _ => return Err(ParseErrorKind::UnknownMechanism),
    })
}

/// A CIDR length: `0` or a number without leading zeros, at most `max`.
fn cidr_length(max: u8) -> impl Fn(&str) -> IResult<&str, u8> {
    move |i| {
        map_res(
            alt((
                tag("0"),
                recognize((satisfy(|c| matches!(c, '1'..='9')), opt(digit1))),
            )),
            |d: &str| match d.parse::<u8>() {
                Ok(n) if n <= max && d.len() <= 3 => Ok(n),
                _ => Err(()),
            },
        )
        .parse(i)
    }
}

/// Splits `addr[/len]` (ip4/ip6 argument).
fn split_cidr(arg: &str, max: u8) -> Result<(&str, Option<u8>), ParseErrorKind> {
    match arg.split_once('/') {
        None => Ok((arg, None)),
        Some((addr, len)) => {
            let (_, n) = all_consuming(cidr_length(max))
                .parse(len)
                .map_err(|_| ParseErrorKind::BadCidr)?;
            Ok((addr, Some(n)))
        }
    }
}

/// Splits a trailing `[/v4][//v6]` from the arguments of `a` / `mx`. A trailing `/` followed by
/// something other than digits is left to the domain-spec (and so rejected there).
fn split_dual_cidr(args: &str) -> Result<(&str, DualCidr), ParseErrorKind> {
    let mut cidr = DualCidr::default();
    let mut rest = args;
    if let Some((before, len)) = rest.rsplit_once("//") {
        if !len.is_empty() && len.bytes().all(|b| b.is_ascii_digit()) {
            let (_, n) = all_consuming(cidr_length(128))
                .parse(len)
                .map_err(|_| ParseErrorKind::BadCidr)?;
            cidr.v6 = Some(n);
            rest = before;
        }
    }
    if let Some((before, len)) = rest.rsplit_once('/') {
        if !len.is_empty() && len.bytes().all(|b| b.is_ascii_digit()) {
            let (_, n) = all_consuming(cidr_length(32))
                .parse(len)
                .map_err(|_| ParseErrorKind::BadCidr)?;
            cidr.v4 = Some(n);
            rest = before;
        }
    }
    Ok((rest, cidr))
}

/// Parses a `<domain-spec>` (RFC 7208 §7.1): a macro string without `c`/`r`/`t` that ends in a macro
/// or in `.` toplabel [ `.` ].
pub(crate) fn domain_spec(text: &str) -> Result<MacroString, ParseErrorKind> {
    let (ms, ends_with_expand) = macro_string(text, false)?;
    if ms
        .parts
        .iter()
        .any(|p| matches!(p, MacroPart::Macro(m) if m.letter.explanation_only()))
    {
        return Err(ParseErrorKind::ExplanationOnlyMacro);
    }
    if ends_with_expand {
        return Ok(ms);
    }
    let Some(MacroPart::Literal(tail)) = ms.parts.last() else {
        return Err(ParseErrorKind::BadDomainSpec);
    };
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

/// Parses a macro string; returns it and whether it ends with a macro-expand (`%{..}`, `%%`, `%_`,
/// `%-`).
fn macro_string(mut input: &str, allow_space: bool) -> Result<(MacroString, bool), ParseErrorKind> {
    let mut ms = MacroString::default();
    let mut ends_with_expand = false;
    while !input.is_empty() {
        if input.starts_with('%') {
            let (rest, part) = macro_expand(input).map_err(|_| ParseErrorKind::BadMacro)?;
            ms.push(part);
            input = rest;
            ends_with_expand = true;
        } else {
            let literal = take_while1::<_, _, nom::error::Error<&str>>(|c: char| {
                matches!(c, '\x21'..='\x24' | '\x26'..='\x7e') || (allow_space && c == ' ')
            })
            .parse(input);
            let (rest, text) = literal.map_err(|_| ParseErrorKind::InvalidChar)?;
            ms.push(MacroPart::Literal(text.to_string()));
            input = rest;
            ends_with_expand = false;
        }
    }
    Ok((ms, ends_with_expand))
}

/// `%{...}`, `%%`, `%_` or `%-`.
fn macro_expand(i: &str) -> IResult<&str, MacroPart> {
    preceded(
        char('%'),
        alt((
            map(char('%'), |_| MacroPart::Literal("%".into())),
            map(char('_'), |_| MacroPart::Literal(" ".into())),
            map(char('-'), |_| MacroPart::Literal("%20".into())),
            map(macro_body, MacroPart::Macro),
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
    let (i, delimiters) =
        take_while(|c| matches!(c, '.' | '-' | '+' | ',' | '/' | '_' | '=')).parse(i)?;
    let (i, _) = char('}').parse(i)?;
    let letter = MacroLetter::from_char(c).expect("checked by satisfy");
    Ok((
        i,
        Macro {
            letter,
            url_escape: c.is_ascii_uppercase(),
            keep,
            reverse: reverse.is_some(),
            delimiters: delimiters.to_string(),
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
                let parts = ms.parts();
                assert_eq!(parts.len(), 5);
                assert!(
                    matches!(&parts[0], MacroPart::Macro(m) if m.letter == MacroLetter::Ip && m.reverse)
                );
                assert!(matches!(&parts[2], MacroPart::Macro(m)
                    if m.url_escape && m.keep == Some(2) && m.delimiters == "-"));
                assert_eq!(parts[3], MacroPart::Literal(".% %20.".into()));
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
