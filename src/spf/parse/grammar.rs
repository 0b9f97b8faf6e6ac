//! The SPF grammar of RFC 7208 §12 in nom, one function per ABNF rule, named after it: the
//! reference reader. It reads every record the fast path gives up on and says what is wrong with
//! the ones that are not valid.
//!
//! Each rule fails in one of two ways. A nom `Error` means "not this rule" (an `alt` tries the
//! next one); a `Failure` carries the [`ParseErrorKind`] the record is rejected with, and is
//! raised once the rule is known (`include:` has been read, say) and its rest is wrong.
//!
//! Two places cannot be read left to right as the ABNF is written, and say so where they are:
//! the `dual-cidr-length` of `a` and `mx` (a `domain-spec` may hold `/` and digits too) and the
//! `domain-end` of a `domain-spec` (its `macro-string` would take the end too).

use super::super::Directive;
#[cfg(test)]
use super::super::record::Record;
use super::super::record::{
    Delimiters, DualCidr, Macro, MacroLetter, MacroString, Mechanism, Modifier, Qualifier, Term,
};
use super::ParseErrorKind;
#[cfg(test)]
use super::{ParseError, error};
use nom::branch::alt;
use nom::bytes::complete::{tag, tag_no_case, take_till, take_while, take_while1};
use nom::character::complete::{
    alpha1, alphanumeric0, alphanumeric1, char, digit0, digit1, satisfy,
};
use nom::combinator::{
    all_consuming, consumed, cut, eof, map, map_opt, not, opt, peek, recognize, value, verify,
};
use nom::multi::{many_m_n, many0};
use nom::sequence::{preceded, terminated};
use nom::{IResult, Parser};
use std::net::{Ipv4Addr, Ipv6Addr};

/// A rule's failure: the reason the record is rejected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Bad(pub(super) ParseErrorKind);

impl<'a> nom::error::ParseError<&'a str> for Bad {
    /// A nom combinator's own error: "not this rule". Whichever rule gives up on it turns it into
    /// its own kind ([`or`]); the kind here is never reported.
    fn from_error_kind(_: &'a str, _: nom::error::ErrorKind) -> Self {
        Bad(ParseErrorKind::InvalidChar)
    }

    fn append(_: &'a str, _: nom::error::ErrorKind, other: Self) -> Self {
        other
    }
}

type Res<'a, T> = IResult<&'a str, T, Bad>;

/// Rejects the record with `kind`.
fn fail<'a, T>(kind: ParseErrorKind) -> Res<'a, T> {
    Err(nom::Err::Failure(Bad(kind)))
}

/// `rule`, whose "not this rule" rejects the record with `kind` (a failure it raises itself
/// stands).
fn or<'a, O>(
    kind: ParseErrorKind,
    mut rule: impl Parser<&'a str, Output = O, Error = Bad>,
) -> impl Parser<&'a str, Output = O, Error = Bad> {
    move |i: &'a str| match rule.parse(i) {
        Err(nom::Err::Error(_)) => fail(kind),
        done => done,
    }
}

/// The kind a rule rejected its input with.
fn kind_of(e: nom::Err<Bad>) -> ParseErrorKind {
    match e {
        nom::Err::Error(Bad(kind)) | nom::Err::Failure(Bad(kind)) => kind,
        nom::Err::Incomplete(_) => ParseErrorKind::InvalidChar,
    }
}

/// `record = version terms *SP`: the whole record, read by the grammar alone. Before any term, the
/// record must be printable ASCII (every rule below assumes it): the first other byte is the error.
///
/// `Record::from_str` reads a record term by term, each with the fast path or else [`term`], and
/// reports the same errors in the same order; this reading by the grammar alone is what the tests
/// hold it to.
#[cfg(test)]
pub(super) fn record(text: &str) -> Result<Record, ParseError> {
    let Ok((body, _)) = version(text) else {
        return Err(error(ParseErrorKind::NotSpf1, 0, text));
    };
    let offset = |s: &str| s.as_ptr() as usize - text.as_ptr() as usize;
    if let Ok((rest, _)) = printable(body)
        && !rest.is_empty()
    {
        let at = offset(rest);
        let start = text[..at].rfind(' ').map_or(at, |s| s + 1);
        let token = &text[start..];
        let token = &token[..token.find(' ').unwrap_or(token.len())];
        return Err(error(ParseErrorKind::InvalidChar, at, token));
    }
    // `terms` takes every run of non-spaces, and `*SP` the spaces after the last: this never fails.
    let (_, spans) = terminated(terms, space0)
        .parse(body)
        .map_err(|_| error(ParseErrorKind::InvalidChar, 0, text))?;
    let mut parsed = Vec::with_capacity(spans.len());
    for span in &spans {
        parsed.push(term(span).map_err(|kind| error(kind, offset(span), span))?);
    }
    Record::new(parsed).map_err(|dup| {
        let span = spans[dup.index];
        error(ParseErrorKind::DuplicateModifier, offset(span), span)
    })
}

/// Printable ASCII and spaces (`%x20-7E`): what a record may hold.
#[cfg(test)]
fn printable(i: &str) -> Res<'_, &str> {
    take_while(|c: char| matches!(c, ' '..='~')).parse(i)
}

/// `*SP`
#[cfg(test)]
fn space0(i: &str) -> Res<'_, &str> {
    take_while(|c| c == ' ').parse(i)
}

/// `version = "v=spf1"`, followed by a space or the end (RFC 7208 §4.5).
#[cfg(test)]
pub(super) fn version(i: &str) -> Res<'_, &str> {
    terminated(tag_no_case("v=spf1"), peek(alt((tag(" "), eof)))).parse(i)
}

/// `terms = *( 1*SP ( directive / modifier ) )`: the text of each term, read by [`term`].
#[cfg(test)]
fn terms(i: &str) -> Res<'_, Vec<&str>> {
    many0(preceded(take_while1(|c| c == ' '), take_till1_space)).parse(i)
}

/// The text of one term: everything up to the next space.
#[cfg(test)]
fn take_till1_space(i: &str) -> Res<'_, &str> {
    nom::bytes::complete::take_till1(|c| c == ' ').parse(i)
}

/// `directive / modifier`: one term, all of `token` (printable ASCII, no space).
pub(super) fn term(token: &str) -> Result<Term, ParseErrorKind> {
    all_consuming(alt((
        map(modifier, Term::Modifier),
        map(directive, Term::Directive),
    )))
    .parse(token)
    .map(|(_, term)| term)
    .map_err(kind_of)
}

/// `directive = [ qualifier ] mechanism`
fn directive(i: &str) -> Res<'_, Directive> {
    let (i, qualifier) = opt(qualifier).parse(i)?;
    let (i, mechanism) = mechanism(i)?;
    let qualifier = qualifier.unwrap_or(Qualifier::Pass);
    Ok((
        i,
        Directive {
            qualifier,
            mechanism,
        },
    ))
}

/// `qualifier = "+" / "-" / "?" / "~"`
fn qualifier(i: &str) -> Res<'_, Qualifier> {
    alt((
        value(Qualifier::Pass, char('+')),
        value(Qualifier::Fail, char('-')),
        value(Qualifier::Neutral, char('?')),
        value(Qualifier::SoftFail, char('~')),
    ))
    .parse(i)
}

/// `mechanism = ( all / include / a / mx / ptr / ip4 / ip6 / exists )`. A name none of them has
/// is an unknown mechanism.
fn mechanism(i: &str) -> Res<'_, Mechanism> {
    or(
        ParseErrorKind::UnknownMechanism,
        alt((all, include, a, mx, ptr, ip4, ip6, exists)),
    )
    .parse(i)
}

/// A mechanism's name, `name` in any case. The name is the whole run of letters and digits there
/// (`includes:x` is no `include`): what follows it is the mechanism's arguments.
fn mechanism_name<'a>(name: &'static str) -> impl Parser<&'a str, Output = &'a str, Error = Bad> {
    terminated(
        tag_no_case(name),
        not(satisfy(|c| c.is_ascii_alphanumeric())),
    )
}

/// `all = "all"`
fn all(i: &str) -> Res<'_, Mechanism> {
    let (i, _) = mechanism_name("all").parse(i)?;
    let (i, _) = or(ParseErrorKind::BadArgument, eof).parse(i)?;
    Ok((i, Mechanism::All))
}

/// `":"` before a required argument.
fn colon(i: &str) -> Res<'_, char> {
    or(ParseErrorKind::BadArgument, char(':')).parse(i)
}

/// `include = "include" ":" domain-spec`
fn include(i: &str) -> Res<'_, Mechanism> {
    let (i, _) = (mechanism_name("include"), colon).parse(i)?;
    map(cut(domain_spec), Mechanism::Include).parse(i)
}

/// `a = "a" [ ":" domain-spec ] [ dual-cidr-length ]`
fn a(i: &str) -> Res<'_, Mechanism> {
    let (i, _) = mechanism_name("a").parse(i)?;
    let (i, (domain, cidr)) = domain_and_dual_cidr(i)?;
    Ok((i, Mechanism::A { domain, cidr }))
}

/// `mx = "mx" [ ":" domain-spec ] [ dual-cidr-length ]`
fn mx(i: &str) -> Res<'_, Mechanism> {
    let (i, _) = mechanism_name("mx").parse(i)?;
    let (i, (domain, cidr)) = domain_and_dual_cidr(i)?;
    Ok((i, Mechanism::Mx { domain, cidr }))
}

/// `[ ":" domain-spec ] [ dual-cidr-length ]`, all of `i` (the rest of the term). Read from the
/// end: a `domain-spec` takes `/` and digits as `macro-literal`s, so `a:example.com/24` read left
/// to right would be all `domain-spec` (and fail its `domain-end`). The lengths are the digits
/// after the last `//` and the last `/`, as far as they end the term; digits there that are no
/// valid length are a bad length, not a bad `domain-spec`.
fn domain_and_dual_cidr(i: &str) -> Res<'_, (Option<MacroString>, DualCidr)> {
    let mut rest = i;
    if let Some(before) = before_trailing_digits(rest, "//") {
        rest = before;
    }
    if let Some(before) = before_trailing_digits(rest, "/")
        && !before.ends_with('/')
    {
        rest = before;
    }
    let tail = &i[rest.len()..];
    let (_, cidr) = or(ParseErrorKind::BadCidr, all_consuming(dual_cidr_length)).parse(tail)?;
    let domain = match rest {
        "" => None,
        _ => Some(
            all_consuming(preceded(colon, cut(domain_spec)))
                .parse(rest)?
                .1,
        ),
    };
    Ok(("", (domain, cidr)))
}

/// The text before the `slash` and the digits that end `text`, if it ends so.
fn before_trailing_digits<'a>(text: &'a str, slash: &str) -> Option<&'a str> {
    let digits = text.bytes().rev().take_while(u8::is_ascii_digit).count();
    let before = text[..text.len() - digits].strip_suffix(slash)?;
    (digits > 0).then_some(before)
}

/// `dual-cidr-length = [ ip4-cidr-length ] [ "/" ip6-cidr-length ]`
fn dual_cidr_length(i: &str) -> Res<'_, DualCidr> {
    let (i, v4) = opt(ip4_cidr_length).parse(i)?;
    let (i, v6) = opt(preceded(char('/'), ip6_cidr_length)).parse(i)?;
    Ok((i, DualCidr { v4, v6 }))
}

/// `ptr = "ptr" [ ":" domain-spec ]`
fn ptr(i: &str) -> Res<'_, Mechanism> {
    let (i, _) = mechanism_name("ptr").parse(i)?;
    let (i, domain) = or(
        ParseErrorKind::BadArgument,
        alt((
            value(None, eof),
            map(preceded(colon, cut(domain_spec)), Some),
        )),
    )
    .parse(i)?;
    Ok((i, Mechanism::Ptr(domain)))
}

/// `ip4 = "ip4" ":" ip4-network [ ip4-cidr-length ]`. The address ends at the first `/`; a bad
/// length is reported before a bad address.
fn ip4(i: &str) -> Res<'_, Mechanism> {
    let (i, _) = (mechanism_name("ip4"), colon).parse(i)?;
    let (i, addr) = take_till(|c| c == '/').parse(i)?;
    let (i, prefix) = or(ParseErrorKind::BadCidr, all_consuming(opt(ip4_cidr_length))).parse(i)?;
    let (_, addr) = or(ParseErrorKind::BadIp4, all_consuming(ip4_network)).parse(addr)?;
    Ok((i, Mechanism::Ip4 { addr, prefix }))
}

/// `ip6 = "ip6" ":" ip6-network [ ip6-cidr-length ]`. The address ends at the first `/`; a bad
/// length is reported before a bad address.
fn ip6(i: &str) -> Res<'_, Mechanism> {
    let (i, _) = (mechanism_name("ip6"), colon).parse(i)?;
    let (i, addr) = take_till(|c| c == '/').parse(i)?;
    let (i, prefix) = or(ParseErrorKind::BadCidr, all_consuming(opt(ip6_cidr_length))).parse(i)?;
    let (_, addr) = or(ParseErrorKind::BadIp6, all_consuming(ip6_network)).parse(addr)?;
    Ok((i, Mechanism::Ip6 { addr, prefix }))
}

/// `exists = "exists" ":" domain-spec`
fn exists(i: &str) -> Res<'_, Mechanism> {
    let (i, _) = (mechanism_name("exists"), colon).parse(i)?;
    map(cut(domain_spec), Mechanism::Exists).parse(i)
}

/// `ip4-cidr-length = "/" ("0" / %x31-39 0*1DIGIT)`, at most 32.
pub(super) fn ip4_cidr_length(i: &str) -> Res<'_, u8> {
    preceded(char('/'), cidr_value(32)).parse(i)
}

/// `ip6-cidr-length = "/" ("0" / %x31-39 0*2DIGIT)`, at most 128.
pub(super) fn ip6_cidr_length(i: &str) -> Res<'_, u8> {
    preceded(char('/'), cidr_value(128)).parse(i)
}

/// `"0" / %x31-39 0*2DIGIT`, at most `max`.
fn cidr_value<'a>(max: u8) -> impl Parser<&'a str, Output = u8, Error = Bad> {
    let number = recognize((
        satisfy(|c| matches!(c, '1'..='9')),
        many_m_n(0, 2, satisfy(|c| c.is_ascii_digit())),
    ));
    alt((
        value(0, char('0')),
        map_opt(number, move |n: &str| {
            n.parse::<u8>().ok().filter(|&n| n <= max)
        }),
    ))
}

/// `ip4-network = qnum "." qnum "." qnum "." qnum`
pub(super) fn ip4_network(i: &str) -> Res<'_, Ipv4Addr> {
    let (i, (a, _, b, _, c, _, d)) =
        (qnum, char('.'), qnum, char('.'), qnum, char('.'), qnum).parse(i)?;
    Ok((i, Ipv4Addr::new(a, b, c, d)))
}

/// `qnum = DIGIT / %x31-39 DIGIT / "1" 2DIGIT / "2" %x30-34 DIGIT / "25" %x30-35`: a decimal
/// number from 0 to 255 without leading zeros. The longest form is tried first: a shorter one
/// would leave a digit where `.` or the end must follow.
fn qnum(i: &str) -> Res<'_, u8> {
    let digit = || satisfy(|c| c.is_ascii_digit());
    let number = alt((
        recognize((tag("25"), satisfy(|c| matches!(c, '0'..='5')))),
        recognize((char('2'), satisfy(|c| matches!(c, '0'..='4')), digit())),
        recognize((char('1'), digit(), digit())),
        recognize((satisfy(|c| matches!(c, '1'..='9')), digit())),
        recognize(digit()),
    ));
    map_opt(number, |n: &str| n.parse().ok()).parse(i)
}

/// `ip6-network = <as per [RFC4291], section 2.2>`: the text up to the length (hex digits, `:`
/// and, for an IPv4 tail, `.` and digits), read by `std`, which takes exactly the forms of RFC
/// 4291 §2.2.
pub(super) fn ip6_network(i: &str) -> Res<'_, Ipv6Addr> {
    map_opt(
        take_while1(|c: char| c.is_ascii_hexdigit() || c == ':' || c == '.'),
        |text: &str| text.parse::<Ipv6Addr>().ok(),
    )
    .parse(i)
}

/// `modifier = redirect / explanation / unknown-modifier`. Once `name "="` is read, the term is a
/// modifier: what follows is its value, right or wrong.
fn modifier(i: &str) -> Res<'_, Modifier> {
    alt((redirect, explanation, unknown_modifier)).parse(i)
}

/// `redirect = "redirect" "=" domain-spec`
fn redirect(i: &str) -> Res<'_, Modifier> {
    let (i, _) = (tag_no_case("redirect"), char('=')).parse(i)?;
    map(cut(domain_spec), Modifier::Redirect).parse(i)
}

/// `explanation = "exp" "=" domain-spec`
fn explanation(i: &str) -> Res<'_, Modifier> {
    let (i, _) = (tag_no_case("exp"), char('=')).parse(i)?;
    map(cut(domain_spec), Modifier::Exp).parse(i)
}

/// `unknown-modifier = name "=" macro-string`
fn unknown_modifier(i: &str) -> Res<'_, Modifier> {
    let (i, name) = terminated(name, char('=')).parse(i)?;
    let (i, (value, _)) = cut(macro_string).parse(i)?;
    let name = name.to_ascii_lowercase();
    Ok((i, Modifier::Unknown { name, value }))
}

/// `name = ALPHA *( ALPHA / DIGIT / "-" / "_" / "." )`
fn name(i: &str) -> Res<'_, &str> {
    recognize((
        satisfy(|c| c.is_ascii_alphabetic()),
        take_while(|c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')),
    ))
    .parse(i)
}

/// `domain-spec = macro-string domain-end`, without the `c`, `r` and `t` macros (RFC 7208 §7.3:
/// those are for explanations only). `domain-end` is checked on the end of what `macro-string`
/// read: it would otherwise take that end as `macro-literal`s.
fn domain_spec(i: &str) -> Res<'_, MacroString> {
    let (rest, (text, (ms, ends_with_expand))) = consumed(macro_string).parse(i)?;
    if ms.has_explanation_only() {
        return fail(ParseErrorKind::ExplanationOnlyMacro);
    }
    if !ends_with_expand && domain_end(text).is_err() {
        return fail(ParseErrorKind::BadDomainSpec);
    }
    Ok((rest, ms))
}

/// `domain-end = ( "." toplabel [ "." ] ) / macro-expand`, for a `macro-string` that ends in
/// `macro-literal`s (one that ends in a `macro-expand` is a `domain-end` already): its last
/// `.` toplabel [ `.` ].
fn domain_end(text: &str) -> Res<'_, &str> {
    let text = text.strip_suffix('.').unwrap_or(text);
    let Some((_, last)) = text.rsplit_once('.') else {
        return fail(ParseErrorKind::BadDomainSpec);
    };
    all_consuming(toplabel).parse(last)
}

/// `toplabel = ( *alphanum ALPHA *alphanum ) / ( 1*alphanum "-" *( alphanum / "-" ) alphanum )`.
/// In the second form, `*( alphanum / "-" ) alphanum` is a run that ends in an `alphanum`; in the
/// first, `*alphanum ALPHA` is digits up to the first letter. With a `-`, the second form is the
/// one that reads the label to its end, so it is tried first.
fn toplabel(i: &str) -> Res<'_, &str> {
    let alphanum_or_hyphen = |c: char| c.is_ascii_alphanumeric() || c == '-';
    alt((
        recognize((
            alphanumeric1,
            char('-'),
            verify(take_while1(alphanum_or_hyphen), |s: &str| {
                s.ends_with(|c: char| c.is_ascii_alphanumeric())
            }),
        )),
        recognize((digit0, alpha1, alphanumeric0)),
    ))
    .parse(i)
}

/// A piece of a macro string.
#[derive(Clone)]
enum Piece<'a> {
    /// `macro-literal`s (and, in an explanation, spaces) as they stand, or what an escape
    /// (`%%`, `%_`, `%-`) stands for.
    Text(&'a str),
    /// `"%{" macro-letter transformers *delimiter "}"`
    Macro(Macro),
}

/// `macro-string = *( macro-expand / macro-literal )`, and whether it ends with a `macro-expand`.
pub(super) fn macro_string(i: &str) -> Res<'_, (MacroString, bool)> {
    pieces(i, false)
}

/// `explain-string = *( macro-string / SP )`: explanation text (RFC 7208 §6.2), all of `text`.
pub(super) fn explain_string(text: &str) -> Result<MacroString, ParseErrorKind> {
    all_consuming(|i| pieces(i, true))
        .parse(text)
        .map(|(_, (ms, _))| ms)
        .map_err(kind_of)
}

/// The pieces of a macro string (spaces among the literals when `space`), put together, up to the
/// end of `i`. A `%` that starts no `macro-expand` is a bad macro; any other byte that is no
/// `macro-literal` (nor an allowed space) is an invalid character.
fn pieces<'a>(mut i: &'a str, space: bool) -> Res<'a, (MacroString, bool)> {
    let literal = move |c: char| macro_literal(c) || (space && c == ' ');
    let mut text = String::with_capacity(i.len());
    let mut macros = Vec::new();
    let mut ends_with_expand = false;
    loop {
        let (rest, piece): (&'a str, Piece<'a>) = match alt((
            map(take_while1(literal), Piece::Text),
            preceded(peek(char('%')), or(ParseErrorKind::BadMacro, macro_expand)),
        ))
        .parse(i)
        {
            Ok(done) => done,
            Err(nom::Err::Error(_)) if i.is_empty() => break,
            Err(nom::Err::Error(_)) => return fail(ParseErrorKind::InvalidChar),
            Err(e) => return Err(e),
        };
        // Only a `macro-expand` starts with `%` (it is no `macro-literal`).
        ends_with_expand = i.starts_with('%');
        match piece {
            Piece::Text(t) => text.push_str(t),
            Piece::Macro(m) => macros.push((u32::try_from(text.len()).unwrap_or(u32::MAX), m)),
        }
        i = rest;
    }
    Ok((i, (MacroString::from_raw(text, macros), ends_with_expand)))
}

/// `macro-literal = %x21-24 / %x26-7E`: printable ASCII but the space and `%`.
fn macro_literal(c: char) -> bool {
    matches!(c, '\x21'..='\x24' | '\x26'..='\x7e')
}

/// `macro-expand = ( "%{" macro-letter transformers *delimiter "}" ) / "%%" / "%_" / "%-"`.
fn macro_expand(i: &str) -> Res<'_, Piece<'_>> {
    alt((
        value(Piece::Text("%"), tag("%%")),
        value(Piece::Text(" "), tag("%_")),
        value(Piece::Text("%20"), tag("%-")),
        map(
            (
                tag("%{"),
                macro_letter,
                transformers,
                many0(delimiter),
                char('}'),
            ),
            |(_, (letter, url_escape), (keep, reverse), delimiters, _)| {
                let mut set = Delimiters::default();
                for d in delimiters {
                    set.insert(d);
                }
                Piece::Macro(Macro {
                    letter,
                    url_escape,
                    keep,
                    reverse,
                    delimiters: set,
                })
            },
        ),
    ))
    .parse(i)
}

/// `macro-letter = "s" / "l" / "o" / "d" / "i" / "p" / "h" / "c" / "r" / "t" / "v"`, in either
/// case (RFC 7208 §7.3: a capital asks for URL escaping), and whether it is a capital.
fn macro_letter(i: &str) -> Res<'_, (MacroLetter, bool)> {
    let (i, c) = satisfy(|c| MacroLetter::from_char(c).is_some()).parse(i)?;
    let Some(letter) = MacroLetter::from_char(c) else {
        return fail(ParseErrorKind::BadMacro);
    };
    Ok((i, (letter, c.is_ascii_uppercase())))
}

/// `transformers = *DIGIT [ "r" ]`: how many parts to keep (not 0) and whether to reverse.
fn transformers(i: &str) -> Res<'_, (Option<u32>, bool)> {
    let keep = map_opt(digit1, |d: &str| d.parse::<u32>().ok().filter(|&n| n != 0));
    let (i, keep) = opt(keep).parse(i)?;
    let (i, reverse) = opt(tag_no_case("r")).parse(i)?;
    Ok((i, (keep, reverse.is_some())))
}

/// `delimiter = "." / "-" / "+" / "," / "/" / "_" / "="`
fn delimiter(i: &str) -> Res<'_, char> {
    satisfy(|c| matches!(c, '.' | '-' | '+' | ',' | '/' | '_' | '=')).parse(i)
}
