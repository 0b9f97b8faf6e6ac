//! HELO/EHLO: what the argument is, what Postfix, Exim or a strict RFC 5321 reading say about it,
//! whether the name exists in DNS, and whether it leads back to the client.
//!
//! Four separate questions, each with its own function:
//!
//! | question | function | DNS |
//! |---|---|---|
//! | what is the argument? | [`HeloName::parse`] gives a [`HeloSyntax`] and flags | none |
//! | would this engine accept it? | [`HeloPolicy::check`] | none |
//! | does the name exist (A, AAAA or MX)? | [`exists`], as Postfix `reject_unknown_helo_hostname` | at most 3 lookups |
//! | does it lead to the client's address? | [`confirm`], as Exim `verify = helo` | at most 1 lookup |
//!
//! (A lookup is one resolver call; a resolver following a CNAME to a name without the type asked
//! for may send a second query for it.)
//!
//! RFC 5321 §4.1.4: a server "MUST NOT refuse to accept a message" because the HELO does not match
//! the client; the result of [`confirm`] is for logging, scoring and headers.
//!
//! ```
//! use sender_identity::helo::{HeloName, HeloPolicy, HeloSyntax};
//!
//! let helo = HeloName::parse("Mail.Example.COM.");
//! assert_eq!(helo.syntax(), HeloSyntax::Fqdn);
//! assert!(helo.trailing_dot());
//! assert_eq!(helo.domain(), Some("mail.example.com"));
//!
//! // Postfix strips the dot; a strict RFC 5321 reading does not allow it.
//! assert!(HeloPolicy::PostfixInvalid.check("Mail.Example.COM.").is_ok());
//! assert!(HeloPolicy::Strict.check("Mail.Example.COM.").is_err());
//! ```

use crate::dns::Resolver;
use crate::ip::canonical;
use crate::lookup::{Family, Lookup, Recorder, holds};
use crate::name::{MAX_LABEL_LEN, MAX_NAME_LEN};
use crate::name::{check_domain, fits_dns, is_toplabel, is_within, normalize, strip_root};
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// The longest name Postfix `valid_hostname()` accepts (`VALID_HOSTNAME_LEN`), in bytes.
const POSTFIX_MAX_NAME_LEN: usize = 255;

/// What kind of thing a HELO/EHLO argument is.
///
/// A name with several defects gets the first that applies in this order: [`InvalidChars`],
/// [`NonAscii`], [`NameTooLong`], [`EmptyLabel`], [`LabelTooLong`], [`BadHyphen`], [`Localhost`],
/// [`Underscore`], [`Numeric`], [`SingleLabel`], [`NumericTld`]; a name with none is an [`Fqdn`].
///
/// [`InvalidChars`]: HeloSyntax::InvalidChars
/// [`NonAscii`]: HeloSyntax::NonAscii
/// [`NameTooLong`]: HeloSyntax::NameTooLong
/// [`EmptyLabel`]: HeloSyntax::EmptyLabel
/// [`LabelTooLong`]: HeloSyntax::LabelTooLong
/// [`BadHyphen`]: HeloSyntax::BadHyphen
/// [`Localhost`]: HeloSyntax::Localhost
/// [`Underscore`]: HeloSyntax::Underscore
/// [`Numeric`]: HeloSyntax::Numeric
/// [`SingleLabel`]: HeloSyntax::SingleLabel
/// [`NumericTld`]: HeloSyntax::NumericTld
/// [`Fqdn`]: HeloSyntax::Fqdn
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum HeloSyntax {
    /// A fully-qualified RFC 5321 `Domain`: two or more labels of letters, digits and inner
    /// hyphens, at most 63 bytes each and 253 in all, with a top label that is not all digits
    /// (RFC 7208 §7.1 `toplabel`). A trailing dot is allowed here and reported by
    /// [`HeloName::trailing_dot`].
    Fqdn,
    /// An RFC 5321 address literal: `[192.0.2.1]` or `[IPv6:2001:db8::1]` (tag in any case). IPv4
    /// octets are 1 to 3 decimal digits (RFC 5321 `Snum`), so `[192.000.002.001]` is allowed.
    AddressLiteral(IpAddr),
    /// An IPv6 address in brackets without the `IPv6:` tag, `[2001:db8::1]`: not RFC 5321
    /// (Postfix rejects it, Exim and OpenSMTPD accept it).
    UntaggedIpv6Literal(Ipv6Addr),
    /// An IPv4 address with an `IPv4:` tag, `[IPv4:192.0.2.1]`: not RFC 5321 (an Exim extension).
    TaggedIpv4Literal(Ipv4Addr),
    /// Starts with `[` but is not one of the literals above (unclosed, bad address, text after
    /// the `]`, an unknown tag...).
    BadLiteral,
    /// An IPv4 or IPv6 address without brackets, `192.0.2.1`: not RFC 5321.
    BareIp(IpAddr),
    /// `localhost` or a name under it (RFC 6761 §6.3), or `localhost.localdomain` (the default host
    /// name of many unconfigured systems): never a usable identity from a remote client.
    Localhost,
    /// One label and no dot, `mailserver`.
    SingleLabel,
    /// Holds an underscore, `foo_bar.example.com`: not RFC 5321 but common (Postfix accepts it,
    /// Exim only with `helo_allow_chars = _`).
    Underscore,
    /// The last label is all digits, `mail.123`.
    NumericTld,
    /// Only digits and dots but not an IPv4 address, `1.2.3.4.5` or `12345`.
    Numeric,
    /// A label starts or ends with a hyphen, `-a.example.com`.
    BadHyphen,
    /// Two dots in a row, a leading dot, or only a dot.
    EmptyLabel,
    /// A label longer than 63 bytes.
    LabelTooLong,
    /// Longer than 253 bytes (without a trailing dot).
    NameTooLong,
    /// Holds non-ASCII (UTF-8) characters, `müller.example`: an internationalised name must be sent
    /// as A-labels (`xn--mller-kva.example`).
    NonAscii,
    /// Holds an ASCII character other than letters, digits, `-`, `.` and `_` (a space, `@`, `:`,
    /// a control character...).
    InvalidChars,
    /// The argument is empty.
    Empty,
}

/// A HELO/EHLO argument, classified.
///
/// Pass the argument as received, without the command verb and the CRLF; nothing is trimmed.
///
/// ```
/// use sender_identity::helo::{HeloName, HeloSyntax};
///
/// let literal = HeloName::parse("[IPv6:2001:DB8::1]");
/// assert_eq!(literal.syntax(), HeloSyntax::AddressLiteral("2001:db8::1".parse().unwrap()));
/// assert!(literal.is_literal());
///
/// let idn = HeloName::parse("xn--mller-kva.example");
/// assert_eq!(idn.syntax(), HeloSyntax::Fqdn);
/// assert!(idn.has_a_label());
///
/// assert_eq!(HeloName::parse("müller.example").syntax(), HeloSyntax::NonAscii);
/// assert_eq!(HeloName::parse("localhost").syntax(), HeloSyntax::Localhost);
/// assert_eq!(HeloName::parse("192.0.2.1").domain(), None);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeloName {
    syntax: HeloSyntax,
    trailing_dot: bool,
    normalized: String,
    shape: Shape,
}

impl HeloName {
    /// Classifies a HELO/EHLO argument.
    pub fn parse(arg: &str) -> HeloName {
        if arg.starts_with('[') {
            return HeloName {
                syntax: literal_syntax(arg),
                trailing_dot: false,
                normalized: arg.to_ascii_lowercase(),
                shape: Shape::default(),
            };
        }
        let name = strip_root(arg);
        let shape = Shape::of(name);
        let normalized = normalize(arg).into_owned();
        let syntax = if arg.is_empty() {
            HeloSyntax::Empty
        } else if let Some(ip) = parse_ip(name) {
            HeloSyntax::BareIp(ip)
        } else {
            shape.syntax(&normalized)
        };
        HeloName {
            syntax,
            trailing_dot: arg.len() > name.len(),
            normalized,
            shape,
        }
    }

    /// What kind of argument this is.
    pub fn syntax(&self) -> HeloSyntax {
        self.syntax
    }

    /// Whether a name ended in a dot (`mail.example.com.`); always `false` for literals.
    pub fn trailing_dot(&self) -> bool {
        self.trailing_dot
    }

    /// The kind of argument with its trailing dot, if any, for logs and diagnostics: what a
    /// refusal's terse wire text (Postfix's "Invalid name") leaves out.
    ///
    /// ```
    /// use sender_identity::helo::HeloName;
    /// assert_eq!(HeloName::parse("mail.example.com.").describe(), "Fqdn with a trailing dot");
    /// assert_eq!(HeloName::parse("mail_1.example.com").describe(), "Underscore");
    /// ```
    pub fn describe(&self) -> String {
        match self.trailing_dot {
            true => format!("{:?} with a trailing dot", self.syntax),
            false => format!("{:?}", self.syntax),
        }
    }

    /// Whether a label starts with `xn--` (an IDNA A-label; its Punycode is not checked).
    pub fn has_a_label(&self) -> bool {
        self.shape.a_label
    }

    /// Whether the argument starts with `[` (an address literal, well-formed or not).
    pub fn is_literal(&self) -> bool {
        matches!(
            self.syntax,
            HeloSyntax::AddressLiteral(_)
                | HeloSyntax::UntaggedIpv6Literal(_)
                | HeloSyntax::TaggedIpv4Literal(_)
                | HeloSyntax::BadLiteral
        )
    }

    /// The argument lower-cased (ASCII), without a trailing dot on a name.
    pub fn normalized(&self) -> &str {
        &self.normalized
    }

    /// The address of a literal of any form, or of a bare IP.
    pub fn ip(&self) -> Option<IpAddr> {
        match self.syntax {
            HeloSyntax::AddressLiteral(ip) | HeloSyntax::BareIp(ip) => Some(ip),
            HeloSyntax::UntaggedIpv6Literal(v6) => Some(IpAddr::V6(v6)),
            HeloSyntax::TaggedIpv4Literal(v4) => Some(IpAddr::V4(v4)),
            _ => None,
        }
    }

    /// The name to look up in DNS (lower-case, no trailing dot), when the argument is a domain name
    /// the lookup checks and SPF can use: an [`Fqdn`](HeloSyntax::Fqdn), or an
    /// [`Underscore`](HeloSyntax::Underscore) name that is otherwise one (underscores are valid in
    /// DNS and Postfix looks such names up).
    pub fn domain(&self) -> Option<&str> {
        let usable = match self.syntax {
            HeloSyntax::Fqdn => true,
            HeloSyntax::Underscore => check_domain(&self.normalized).is_ok(),
            _ => false,
        };
        usable.then_some(self.normalized.as_str())
    }

    /// The address an address literal carries, in any of its forms (not a bare IP).
    fn literal_ip(&self) -> Option<IpAddr> {
        self.ip().filter(|_| self.is_literal())
    }
}

impl fmt::Display for HeloName {
    /// The normalized argument.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.normalized)
    }
}

/// Facts about a name (without its trailing dot), from one pass over it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
struct Shape {
    len: usize,
    labels: usize,
    empty_label: bool,
    long_label: bool,
    bad_hyphen: bool,
    underscore: bool,
    non_ascii: bool,
    bad_char: bool,
    /// Only digits and dots.
    numeric: bool,
    toplabel_ok: bool,
    a_label: bool,
}

impl Shape {
    fn of(name: &str) -> Shape {
        let mut s = Shape {
            len: name.len(),
            numeric: true,
            toplabel_ok: name.rsplit('.').next().is_some_and(is_toplabel),
            ..Shape::default()
        };
        // Label lengths come from `name`'s one-pass scan, as every name's in the crate do. A dot
        // still at the end (the argument had two) is an empty label that `fits_dns` would strip.
        // Only a name whose labels do not all fit (or of more than 253 bytes, which Postfix allows
        // up to 255) is split again, to tell an empty label, which `syntax` ranks first wherever
        // it is, from a long one.
        if name.ends_with('.') || !fits_dns(name) {
            s.empty_label = name.split('.').any(str::is_empty);
            s.long_label = name.split('.').any(|label| label.len() > MAX_LABEL_LEN);
        }
        for label in name.split('.') {
            let b = label.as_bytes();
            s.labels += 1;
            s.bad_hyphen |= b.first() == Some(&b'-') || b.last() == Some(&b'-');
            s.a_label |= b.len() >= 4 && b[..4].eq_ignore_ascii_case(b"xn--");
            for &c in b {
                s.numeric &= c.is_ascii_digit();
                s.underscore |= c == b'_';
                s.non_ascii |= !c.is_ascii();
                s.bad_char |=
                    c.is_ascii() && !(c.is_ascii_alphanumeric() || c == b'-' || c == b'_');
            }
        }
        s
    }

    /// The kind of a name that is not an address (`normalized` is the lower-cased name).
    fn syntax(&self, normalized: &str) -> HeloSyntax {
        use HeloSyntax as S;
        if self.bad_char {
            S::InvalidChars
        } else if self.non_ascii {
            S::NonAscii
        } else if self.len > MAX_NAME_LEN {
            S::NameTooLong
        } else if self.empty_label {
            S::EmptyLabel
        } else if self.long_label {
            S::LabelTooLong
        } else if self.bad_hyphen {
            S::BadHyphen
        } else if is_within(normalized, "localhost") || normalized == "localhost.localdomain" {
            S::Localhost
        } else if self.underscore {
            S::Underscore
        } else if self.numeric {
            S::Numeric
        } else if self.labels == 1 {
            S::SingleLabel
        } else if !self.toplabel_ok {
            S::NumericTld
        } else {
            S::Fqdn
        }
    }

    /// Postfix `valid_hostname()`: letters, digits, `_` and `-`, labels of 1 to 63 bytes without a
    /// leading or trailing hyphen, at most 255 bytes, not all numeric. With `utf8`, non-ASCII
    /// characters count as letters (see [`HeloPolicy::PostfixNonFqdn`]).
    fn postfix_valid_hostname(&self, utf8: bool) -> bool {
        self.len > 0
            && self.len <= POSTFIX_MAX_NAME_LEN
            && !self.bad_char
            && (utf8 || !self.non_ascii)
            && !self.empty_label
            && !self.long_label
            && !self.bad_hyphen
            && !self.numeric
    }
}

/// The kind of an argument starting with `[`.
fn literal_syntax(arg: &str) -> HeloSyntax {
    let Some(inner) = arg.strip_prefix('[').and_then(|s| s.strip_suffix(']')) else {
        return HeloSyntax::BadLiteral;
    };
    if let Some(v6) = strip_tag(inner, "IPv6:") {
        return v6.parse().map_or(HeloSyntax::BadLiteral, |v6| {
            HeloSyntax::AddressLiteral(IpAddr::V6(v6))
        });
    }
    if let Some(v4) = strip_tag(inner, "IPv4:") {
        return parse_dotted_quad(v4).map_or(HeloSyntax::BadLiteral, HeloSyntax::TaggedIpv4Literal);
    }
    match (parse_dotted_quad(inner), inner.parse::<Ipv6Addr>()) {
        (Some(v4), _) => HeloSyntax::AddressLiteral(IpAddr::V4(v4)),
        (None, Ok(v6)) => HeloSyntax::UntaggedIpv6Literal(v6),
        (None, Err(_)) => HeloSyntax::BadLiteral,
    }
}

/// `s` without a leading `tag`, compared case-insensitively.
fn strip_tag<'a>(s: &'a str, tag: &str) -> Option<&'a str> {
    let head = s.get(..tag.len())?;
    head.eq_ignore_ascii_case(tag).then(|| &s[tag.len()..])
}

/// An RFC 5321 `IPv4-address-literal`: four `Snum`s (1 to 3 decimal digits, at most 255).
fn parse_dotted_quad(s: &str) -> Option<Ipv4Addr> {
    let mut octets = [0u8; 4];
    let mut parts = s.split('.');
    for octet in &mut octets {
        let part = parts.next()?;
        if part.is_empty() || part.len() > 3 || !part.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        *octet = part.parse().ok()?;
    }
    parts.next().is_none().then_some(Ipv4Addr::from(octets))
}

/// A dotted quad, or an IPv6 address when `s` holds a colon.
fn parse_ip(s: &str) -> Option<IpAddr> {
    if s.contains(':') {
        s.parse::<Ipv6Addr>().ok().map(IpAddr::V6)
    } else {
        parse_dotted_quad(s).map(IpAddr::V4)
    }
}

/// Why a [`HeloPolicy`] refused an argument. `Display` gives the wording the engine uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum HeloRejectReason {
    /// No argument at all.
    MissingArgument,
    /// The name is not a valid host name (Postfix: "Invalid name").
    InvalidName,
    /// An argument in brackets is not a valid address literal (Postfix: "invalid ip address").
    InvalidAddress,
    /// The name is not fully qualified (Postfix: "need fully-qualified hostname").
    NotFullyQualified,
    /// Exim's only verdict: "syntactically invalid argument(s)".
    SyntacticallyInvalid,
}

impl fmt::Display for HeloRejectReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            HeloRejectReason::MissingArgument => "Syntax: HELO hostname",
            HeloRejectReason::InvalidName => "Invalid name",
            HeloRejectReason::InvalidAddress => "invalid ip address",
            HeloRejectReason::NotFullyQualified => "need fully-qualified hostname",
            HeloRejectReason::SyntacticallyInvalid => "Syntactically invalid argument(s)",
        })
    }
}

/// A HELO/EHLO argument refused by a [`HeloPolicy`]: the reply code, the enhanced status code if
/// the engine sends one, and the reason. `Display` gives `501 5.5.2 Invalid name`.
///
/// The SMTP reply text is left to the caller: Postfix writes `<NAME>: Helo command rejected:
/// REASON`, which echoes client text that must be sanitised first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct HeloRejection {
    /// The SMTP reply code: 501 or 504.
    pub code: u16,
    /// The enhanced status code (RFC 3463), e.g. `5.5.2`, if the engine sends one.
    pub enhanced: Option<&'static str>,
    /// Why.
    pub reason: HeloRejectReason,
}

impl fmt::Display for HeloRejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.code)?;
        if let Some(enhanced) = self.enhanced {
            write!(f, " {enhanced}")?;
        }
        write!(f, " {}", self.reason)
    }
}

impl std::error::Error for HeloRejection {}

/// Which engine's HELO/EHLO syntax rules to apply (reference: the HELO table of
/// `mta-semantics.md` §2.6).
///
/// | argument | `Strict` | `PostfixInvalid` | `PostfixNonFqdn` | `Exim` |
/// |---|---|---|---|---|
/// | `mail.example.com` | ok | ok | ok | ok |
/// | `mail.example.com.` | 501 | ok | ok | ok |
/// | `1.2.3.4` | 501 | ok | 504 | ok |
/// | `[1.2.3.4]`, `[IPv6:2001:db8::1]` | ok | ok | ok | ok |
/// | `[2001:db8::1]` | 501 | 501 | 501 | ok |
/// | `[IPv4:1.2.3.4]` | 501 | 501 | 501 | ok |
/// | `localhost` | 501 | ok | 504 | ok |
/// | `localhost.localdomain` | 501 | ok | ok | ok |
/// | `foo_bar.example.com` | 501 | ok | ok | 501 unless `_` allowed |
/// | `-a.example.com`, 64-byte label | 501 | 501 | 504 | ok |
/// | `müller.example` | 501 | 501 | 504 (ok with SMTPUTF8) | 501 |
///
/// ```
/// use sender_identity::helo::{HeloPolicy, HeloRejectReason};
///
/// let err = HeloPolicy::PostfixNonFqdn { smtputf8: false }.check("localhost").unwrap_err();
/// assert_eq!((err.code, err.enhanced), (504, Some("5.5.2")));
/// assert_eq!(err.reason, HeloRejectReason::NotFullyQualified);
/// assert_eq!(err.to_string(), "504 5.5.2 need fully-qualified hostname");
///
/// let exim = HeloPolicy::Exim { allow_chars: "_".into() };
/// assert!(exim.check("foo_bar.example.com").is_ok());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum HeloPolicy {
    /// Our default: an RFC 5321 `Domain` that is fully qualified ([`HeloSyntax::Fqdn`], without a
    /// trailing dot) or an RFC 5321 address literal ([`HeloSyntax::AddressLiteral`]). Refusals are
    /// 501 5.5.2 (RFC 5321 §4.1.4 lists 501 for an unacceptable EHLO).
    #[default]
    Strict,
    /// Postfix `reject_invalid_helo_hostname`: one trailing dot stripped, then a Postfix-valid
    /// host name (`_` allowed, 255 bytes, not all numeric) or a bare IP address ("back compat");
    /// in brackets, `[IPv4]` or `[IPv6:addr]`. Refusal: 501 5.5.2 "Invalid name" / "invalid ip
    /// address". A first octet of 0 is refused unless the address is `0.0.0.0`.
    PostfixInvalid,
    /// Postfix `reject_non_fqdn_helo_hostname`: like [`PostfixInvalid`](Self::PostfixInvalid) but
    /// a bare IP is refused and the name needs a dot; refusal 504 5.5.2 "need fully-qualified
    /// hostname" (a bad literal still gets 501 5.5.2 "invalid ip address"). With `smtputf8` (the
    /// client asked for SMTPUTF8 in this session) UTF-8 names are allowed, each non-ASCII character
    /// counting as a letter; Postfix converts them with IDNA first, which this crate does not do,
    /// so names IDNA would refuse or whose A-labels are too long are accepted here.
    PostfixNonFqdn {
        /// The session requested SMTPUTF8.
        smtputf8: bool,
    },
    /// Exim's built-in `check_helo()`: in brackets, an IPv4 or IPv6 address, with an optional
    /// `IPv6:` or `IPv4:` tag (a `%zone` suffix allowed on IPv6); otherwise a non-empty run of
    /// ASCII letters, digits, `.`, `-` and the bytes of `allow_chars` (`helo_allow_chars`), with
    /// no other test. Refusal: 501, no enhanced code.
    Exim {
        /// Exim `helo_allow_chars`, usually empty or `_`.
        allow_chars: String,
    },
}

impl HeloPolicy {
    /// Whether this engine accepts `arg` (the HELO/EHLO argument as received), and if not, its
    /// reply. No DNS is involved.
    ///
    /// An empty argument gets 501 without an enhanced code and [`HeloRejectReason::MissingArgument`]
    /// (Postfix answers `501 Syntax: HELO hostname` before any restriction runs), except under
    /// [`HeloPolicy::Exim`], which gives its usual reply.
    pub fn check(&self, arg: &str) -> Result<(), HeloRejection> {
        use HeloRejectReason as R;
        const SYNTAX: Option<&str> = Some("5.5.2");
        let verdict = |ok: bool, code, enhanced, reason| {
            if ok {
                Ok(())
            } else {
                Err(HeloRejection {
                    code,
                    enhanced,
                    reason,
                })
            }
        };
        let helo = HeloName::parse(arg);
        match self {
            HeloPolicy::Exim { allow_chars } => verdict(
                exim_accepts(arg, allow_chars),
                501,
                None,
                R::SyntacticallyInvalid,
            ),
            _ if arg.is_empty() => verdict(false, 501, None, R::MissingArgument),
            HeloPolicy::Strict => {
                let reason = match helo.syntax {
                    HeloSyntax::Fqdn if !helo.trailing_dot => return Ok(()),
                    HeloSyntax::AddressLiteral(_) => return Ok(()),
                    _ if helo.is_literal() => R::InvalidAddress,
                    // `localhost.localdomain` is fully qualified, just not a usable name.
                    HeloSyntax::Localhost if helo.shape.labels > 1 => R::InvalidName,
                    HeloSyntax::SingleLabel | HeloSyntax::Localhost | HeloSyntax::BareIp(_) => {
                        R::NotFullyQualified
                    }
                    _ => R::InvalidName,
                };
                verdict(false, 501, SYNTAX, reason)
            }
            _ if helo.is_literal() => {
                let ok =
                    matches!(helo.syntax, HeloSyntax::AddressLiteral(ip) if postfix_addr_ok(ip));
                verdict(ok, 501, SYNTAX, R::InvalidAddress)
            }
            HeloPolicy::PostfixInvalid => {
                let bare_ip = matches!(helo.syntax, HeloSyntax::BareIp(ip) if postfix_addr_ok(ip));
                let ok = helo.shape.postfix_valid_hostname(false) || bare_ip;
                verdict(ok, 501, SYNTAX, R::InvalidName)
            }
            HeloPolicy::PostfixNonFqdn { smtputf8 } => {
                let ok = helo.shape.postfix_valid_hostname(*smtputf8) && helo.shape.labels > 1;
                verdict(ok, 504, SYNTAX, R::NotFullyQualified)
            }
        }
    }
}

/// Postfix `valid_ipv4_hostaddr()` refuses a first octet of 0 unless the address is `0.0.0.0`.
///
/// Postfix's own parsers differ from ours at the edges: its IPv4 parser allows more than three
/// digits per octet (`0001.2.3.4`) and its IPv6 parser allows fewer than eight groups without
/// `::` (`1:2:3`); both are refused here.
fn postfix_addr_ok(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4.octets()[0] != 0 || v4.is_unspecified(),
        IpAddr::V6(_) => true,
    }
}

/// Exim `check_helo()` (`helo_accept_junk_hosts` aside).
fn exim_accepts(arg: &str, allow_chars: &str) -> bool {
    if let Some(rest) = arg.strip_prefix('[') {
        let Some(inner) = rest.strip_suffix(']') else {
            return false;
        };
        return match (strip_tag(inner, "IPv6:"), strip_tag(inner, "IPv4:")) {
            (Some(v6), _) => exim_ip_version(v6) == Some(6),
            (_, Some(v4)) => exim_ip_version(v4) == Some(4),
            _ => exim_ip_version(inner).is_some(),
        };
    }
    !arg.is_empty()
        && arg.bytes().all(|b| {
            b.is_ascii_alphanumeric()
                || b == b'.'
                || b == b'-'
                || allow_chars.as_bytes().contains(&b)
        })
}

/// Exim `string_is_ip_address(s, NULL)`: 4 or 6 as `inet_pton` parses `s`, after an optional
/// `%zone` (printable ASCII) that only IPv6 may have; no `/mask`.
fn exim_ip_version(s: &str) -> Option<u8> {
    if s.contains('/') {
        return None;
    }
    let (addr, zone) = match s.split_once('%') {
        Some((addr, zone)) => (addr, Some(zone)),
        None => (s, None),
    };
    if zone.is_some_and(|z| {
        !z.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b.is_ascii_punctuation())
    }) {
        return None;
    }
    if addr.contains(':') {
        addr.parse::<Ipv6Addr>().ok().map(|_| 6)
    } else if zone.is_none() {
        addr.parse::<Ipv4Addr>().ok().map(|_| 4)
    } else {
        None
    }
}

/// The result of a HELO lookup check ([`exists`] or [`confirm`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum HeloResult {
    /// The check succeeded.
    Pass,
    /// DNS answered, and the answer is negative (see each check).
    Fail,
    /// The check does not apply to this HELO: a single label or `localhost` (nothing global to
    /// look up), or for [`exists`] an address literal.
    None,
    /// A lookup timed out or failed (SERVFAIL, a malformed answer...): try again later. A DNS
    /// error never gives [`Fail`](HeloResult::Fail).
    TempError,
    /// The HELO is neither a usable domain name nor an address literal (see
    /// [`HeloName::domain`]): a bare IP, invalid characters, a bad hyphen, an empty or over-long
    /// label, a numeric top label, non-ASCII, empty, a bad literal.
    PermError,
}

impl fmt::Display for HeloResult {
    /// `pass`, `fail`, `none`, `temperror` or `permerror`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            HeloResult::Pass => "pass",
            HeloResult::Fail => "fail",
            HeloResult::None => "none",
            HeloResult::TempError => "temperror",
            HeloResult::PermError => "permerror",
        })
    }
}

/// What a HELO lookup check found: the result, the addresses seen, and the lookups made.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct HeloOutcome {
    /// The verdict.
    pub result: HeloResult,
    /// The addresses found: the A or AAAA records looked up, or the address of a literal. Empty
    /// when only MX records were found.
    pub addresses: Vec<IpAddr>,
    /// Every DNS lookup made, in order.
    pub lookups: Vec<Lookup>,
}

impl HeloOutcome {
    pub(crate) fn new(result: HeloResult, addresses: Vec<IpAddr>, lookups: Vec<Lookup>) -> Self {
        HeloOutcome {
            result,
            addresses,
            lookups,
        }
    }
}

/// The result for a HELO the lookup checks cannot use as a name.
fn not_a_name(helo: &HeloName) -> HeloResult {
    match helo.syntax {
        HeloSyntax::SingleLabel | HeloSyntax::Localhost => HeloResult::None,
        _ => HeloResult::PermError,
    }
}

/// How [`exists`] reads the HELO name. Start from [`ExistsOptions::default`] or
/// [`ExistsOptions::postfix`].
///
/// | | `default()` | `postfix()` |
/// |---|---|---|
/// | `strip_trailing_dot` | yes | no |
///
/// ```
/// use sender_identity::helo::ExistsOptions;
///
/// assert!(ExistsOptions::default().strip_trailing_dot);
/// assert!(!ExistsOptions::postfix().strip_trailing_dot);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct ExistsOptions {
    /// Look a name written with a trailing dot (`mail.example.com.`) up without the dot. When
    /// off, such a name is not looked up and gives [`HeloResult::PermError`], as Postfix
    /// `reject_unknown_helo_hostname` answers "Host not found" for it without a query (it keeps the
    /// dot, and `valid_hostname()` refuses a trailing dot). Default `true`.
    pub strip_trailing_dot: bool,
}

impl Default for ExistsOptions {
    /// Names with a trailing dot are looked up without it.
    fn default() -> Self {
        ExistsOptions {
            strip_trailing_dot: true,
        }
    }
}

impl ExistsOptions {
    /// As Postfix `reject_unknown_helo_hostname` (as read in Postfix 3.12, `smtpd/smtpd_check.c`
    /// `reject_unknown_hostname()` and `dns/dns_lookup.c`, which returns "not found" without a
    /// query for a name `valid_hostname()` refuses): a trailing-dot name gets
    /// [`HeloResult::PermError`] without a query, which Postfix answers `450 4.7.1 <NAME>: Helo
    /// command rejected: Host not found`.
    pub fn postfix() -> Self {
        ExistsOptions {
            strip_trailing_dot: false,
        }
    }
}

/// Whether the HELO name exists in DNS, as Postfix `reject_unknown_helo_hostname` asks: A, then
/// AAAA, then MX, stopping at the first that has records (at most 3 queries; CNAMEs are followed by
/// the resolver).
///
/// | situation | result |
/// |---|---|
/// | A, AAAA or MX records (a null MX too: "Allow MTA names to have nullMX records") | `Pass` |
/// | all three NXDOMAIN or NODATA | `Fail` (Postfix: 450 4.7.1 "Host not found") |
/// | no records, and a timeout or server failure on any of the three | `TempError` (Postfix: `defer_if_permit`) |
/// | an address literal (Postfix checks its syntax only) | `None` |
/// | a single label, `localhost` or `localhost.localdomain` | `None` |
/// | a trailing dot, with [`ExistsOptions::postfix`] | `PermError` (Postfix: "Host not found" without a query) |
/// | anything else without a [`HeloName::domain`] | `PermError` (Postfix: "Host not found" without a query) |
///
/// With [`ExistsOptions::default`], unlike Postfix, a trailing dot is stripped before the lookup,
/// so `mail.example.com.` is looked up rather than refused.
///
/// ```
/// use sender_identity::dns::ZoneResolver;
/// use sender_identity::helo::{exists, ExistsOptions, HeloName, HeloResult};
///
/// let zone: ZoneResolver = "mail.example.com. MX 0 .".parse().unwrap(); // a null MX
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let helo = HeloName::parse("mail.example.com");
/// let outcome = exists(&zone, &helo, &ExistsOptions::default()).await;
/// assert_eq!(outcome.result, HeloResult::Pass);
/// assert_eq!(outcome.lookups.len(), 3); // A, AAAA, MX
///
/// let dotted = HeloName::parse("mail.example.com.");
/// let outcome = exists(&zone, &dotted, &ExistsOptions::postfix()).await;
/// assert_eq!(outcome.result, HeloResult::PermError);
/// assert!(outcome.lookups.is_empty());
/// # });
/// ```
pub async fn exists<R: Resolver + ?Sized>(
    resolver: &R,
    helo: &HeloName,
    options: &ExistsOptions,
) -> HeloOutcome {
    if helo.trailing_dot && !options.strip_trailing_dot {
        return HeloOutcome::new(HeloResult::PermError, Vec::new(), Vec::new());
    }
    let Some(name) = helo.domain() else {
        let result = match helo.literal_ip() {
            Some(_) => HeloResult::None,
            None => not_a_name(helo),
        };
        return HeloOutcome::new(result, Vec::new(), Vec::new());
    };
    let mut dns = Recorder::new(resolver);
    let mut temporary = false;
    for family in [Family::V4, Family::V6] {
        match dns.addresses(name, family).await {
            Ok(found) => return HeloOutcome::new(HeloResult::Pass, found, dns.lookups),
            Err(e) => temporary |= !e.is_void(),
        }
    }
    let result = match dns.mx(name).await {
        Ok(_) => HeloResult::Pass,
        Err(e) if temporary || !e.is_void() => HeloResult::TempError,
        Err(_) => HeloResult::Fail,
    };
    HeloOutcome::new(result, Vec::new(), dns.lookups)
}

/// Whether the HELO leads back to the client's address: Exim `verify = helo`, done right.
///
/// The client address is folded with [`crate::ip::canonical`] (`::ffff:192.0.2.1` is
/// `192.0.2.1`), and so is every address it is compared with.
///
/// | HELO | situation | result |
/// |---|---|---|
/// | address literal (`[192.0.2.1]`, `[IPv6:…]`, also untagged IPv6 and `IPv4:`-tagged) | equals the client address | `Pass` |
/// | | differs | `Fail` |
/// | domain name | an address record of the client's family equals the client address | `Pass` |
/// | | records, none equal; or NXDOMAIN / NODATA | `Fail` |
/// | | timeout, server failure or other DNS error | `TempError` |
/// | single label, `localhost` | | `None` |
/// | anything else (bare IP, invalid name, bad literal, empty) | | `PermError` |
///
/// One query at most: A for an IPv4 client, AAAA for an IPv6 client (records of the other family
/// cannot hold the client's address). Unlike Exim, a literal is compared as an address, not as a
/// string prefix, and the verified reverse name of the client is not consulted (compare
/// [`crate::iprev::IprevOutput::confirmed_name`] yourself if you want that).
///
/// RFC 5321 §4.1.4: a server "MUST NOT refuse to accept a message" on a failed verification.
///
/// ```
/// use sender_identity::dns::ZoneResolver;
/// use sender_identity::helo::{confirm, HeloName, HeloResult};
///
/// let zone: ZoneResolver = "mail.example.com. A 192.0.2.1".parse().unwrap();
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let helo = HeloName::parse("mail.example.com");
/// let mapped = "::ffff:192.0.2.1".parse().unwrap(); // a dual-stack listener's view of 192.0.2.1
/// assert_eq!(confirm(&zone, &helo, mapped).await.result, HeloResult::Pass);
/// let other = "192.0.2.99".parse().unwrap();
/// assert_eq!(confirm(&zone, &helo, other).await.result, HeloResult::Fail);
/// # });
/// ```
pub async fn confirm<R: Resolver + ?Sized>(
    resolver: &R,
    helo: &HeloName,
    client: IpAddr,
) -> HeloOutcome {
    let client = canonical(client);
    if let Some(ip) = helo.literal_ip() {
        let result = if canonical(ip) == client {
            HeloResult::Pass
        } else {
            HeloResult::Fail
        };
        return HeloOutcome::new(result, vec![ip], Vec::new());
    }
    let Some(name) = helo.domain() else {
        return HeloOutcome::new(not_a_name(helo), Vec::new(), Vec::new());
    };
    let mut dns = Recorder::new(resolver);
    let (result, addresses) = match dns.addresses(name, Family::of(client)).await {
        Ok(found) if holds(&found, client) => (HeloResult::Pass, found),
        Ok(found) => (HeloResult::Fail, found),
        Err(e) if e.is_void() => (HeloResult::Fail, Vec::new()),
        Err(_) => (HeloResult::TempError, Vec::new()),
    };
    HeloOutcome::new(result, addresses, dns.lookups)
}

#[cfg(test)]
mod tests;
