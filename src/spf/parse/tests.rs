//! The parser's unit tests: the behaviour of records as a whole, and the fast path against the
//! grammar (the same AST or the same error, at the same place), each with nothing shared between
//! the two sides.

use super::*;
use crate::spf::record::{DualCidr, MacroLetter, MacroPart, Mechanism, Qualifier};
use std::net::Ipv4Addr;

/// `s` parsed (fast path, then grammar), after checking that the grammar alone reads it the same.
fn parse(s: &str) -> Result<Record, ParseErrorKind> {
    let parsed = s.parse::<Record>();
    assert_eq!(parsed, grammar::record(s), "{s:?}");
    parsed.map_err(|e| e.kind)
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
    let r =
        parse("v=spf1 redirect=_spf.example.com exp=exp.%{d} moo.cow-far_out=man:dog/cat").unwrap();
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
    use super::super::fast::{HEX, hex_group, ipv6_at};
    use super::super::grammar;
    use nom::Parser;
    use nom::combinator::all_consuming;
    use proptest::prelude::*;
    use std::net::Ipv6Addr;

    fn check(s: &str) -> Result<(), TestCaseError> {
        let std = s.parse::<Ipv6Addr>().ok();
        let fast = ipv6_at(s.as_bytes(), 0)
            .filter(|&(_, end)| end == s.len())
            .map(|(addr, _)| addr);
        prop_assert_eq!(fast, std, "{:?}", s);
        let grammar = all_consuming(grammar::ip6_network)
            .parse(s)
            .ok()
            .map(|(_, a)| a);
        prop_assert_eq!(grammar, std, "{:?}", s);
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
    use super::super::fast::{ip4_fast, ip4_term};
    use super::super::grammar;
    use nom::Parser;
    use nom::combinator::all_consuming;
    use proptest::prelude::*;
    use std::net::Ipv4Addr;

    /// `ip4-cidr-length` after its `/`, by the grammar.
    fn cidr_length(digits: &[u8]) -> Option<u8> {
        let text = format!("/{}", std::str::from_utf8(digits).ok()?);
        let (_, len) = all_consuming(grammar::ip4_cidr_length).parse(&text).ok()?;
        Some(len)
    }

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
                let len = cidr_length(&b[end + 1..term_end])?;
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
        let grammar = all_consuming(grammar::ip4_network)
            .parse(text)
            .ok()
            .map(|(_, a)| a);
        prop_assert_eq!(grammar, text.parse::<Ipv4Addr>().ok(), "{:?}", text);
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

/// Macro-string text: pieces right and wrong (bad letters, a `0` or too many digits to keep,
/// stray `%` and `{`, non-ASCII, spaces).
fn macro_piece() -> impl proptest::strategy::Strategy<Value = String> {
    use proptest::prelude::*;
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

/// The fast path never disagrees with the grammar: a term it accepts, the grammar reads as the same
/// term; a whole record gives the same AST or the same error (kind, place and term) either way.
mod fast_path_agrees {
    use super::super::{Record, Term, fast, grammar};
    use proptest::prelude::*;

    fn token() -> impl Strategy<Value = String> {
        let name = prop::sample::select(vec![
            "a", "A", "mx", "Mx", "all", "aLL", "al", "ip4", "IP4", "ip6", "ip", "include",
            "INCLUDE", "exists", "ptr", "PTR", "redirect", "Redirect", "exp", "ExP", "foo", "a-b",
            "mxx", "allx", "includes", "exist", "",
        ]);
        let sep = prop::sample::select(vec!["", ":", "=", "/", "//", ":/"]);
        let tail = prop_oneof![
            Just(String::new()),
            "[0-9./]{0,20}",
            "[0-9a-fA-F:./]{0,30}",
            "[a-z0-9._%{}-]{0,20}(\\.[a-z]{1,5}\\.?)?(/[0-9]{1,3})?(//[0-9]{1,3})?",
            "[!-~]{0,20}",
            prop::collection::vec(super::macro_piece(), 1..4).prop_map(|p| p.concat()),
            (
                prop::collection::vec(super::macro_piece(), 0..3),
                prop::sample::select(vec![".com", ".com.", "%{d}", "%%", "%_", ".c-1", ".1"])
            )
                .prop_map(|(p, end)| p.concat() + end),
            any::<[u8; 4]>().prop_map(|a| format!("{}/{}", std::net::Ipv4Addr::from(a), a[0] % 40)),
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

    /// `ip4:` and `ip6:` terms: displayed addresses, address-like text, lengths in and out of
    /// range or with leading zeros, and junk after them.
    fn address_term() -> impl Strategy<Value = String> {
        let cidr = prop_oneof![
            Just(String::new()),
            (0u16..140).prop_map(|n| format!("/{n}")),
            "/[0-9]{0,4}".prop_map(String::from),
        ];
        let v4 = prop_oneof![
            any::<[u8; 4]>().prop_map(|a| std::net::Ipv4Addr::from(a).to_string()),
            "[0-9.]{0,17}".prop_map(String::from),
        ];
        let v6 = prop_oneof![
            (any::<[u8; 16]>(), any::<u8>()).prop_map(|(a, zeros)| {
                let mut groups = std::net::Ipv6Addr::from(a).segments();
                for (i, g) in groups.iter_mut().enumerate() {
                    if zeros & (1 << i) != 0 {
                        *g = 0;
                    }
                }
                std::net::Ipv6Addr::from(groups).to_string()
            }),
            "[0-9a-fA-F:.]{0,30}".prop_map(String::from),
        ];
        let junk = prop::sample::select(vec!["", "", "", "x", "/", ":", "."]);
        (
            "[-+~?]?",
            prop_oneof![
                v4.prop_map(|a| format!("ip4:{a}")),
                v6.prop_map(|a| format!("ip6:{a}")),
            ],
            cidr,
            junk,
        )
            .prop_map(|(q, a, c, j)| format!("{q}{a}{c}{j}"))
    }

    fn check_term(token: &str, next: &str) -> Result<(), TestCaseError> {
        if token.is_empty() || token.contains(' ') {
            return Ok(());
        }
        let text = format!("v=spf1 {token}{next}");
        let mut modifier = false;
        let mut terms = Vec::new();
        if let Some(end) = fast::term(&text, 7, &mut modifier, &mut terms) {
            prop_assert_eq!(terms.len(), 1);
            let term = terms.remove(0);
            prop_assert_eq!(modifier, matches!(term, Term::Modifier(_)), "{:?}", token);
            prop_assert_eq!(end, 7 + token.len(), "{:?}", token);
            prop_assert_eq!(grammar::term(token), Ok(term), "{:?}", token);
        }
        prop_assert_eq!(text.parse::<Record>(), grammar::record(&text), "{:?}", text);
        Ok(())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(crate::cases::cases(2000)))]

        #[test]
        fn accepted_terms_parse_the_same(token in token(), next in prop::sample::select(vec!["", " ", " -all"])) {
            check_term(&token, next)?;
        }

        #[test]
        fn addresses_parse_the_same(token in address_term(), next in prop::sample::select(vec!["", " ", " -all"])) {
            check_term(&token, next)?;
        }

        /// Whole records: the same record, or the same error at the same place.
        #[test]
        fn records_parse_the_same(
            tokens in prop::collection::vec((prop_oneof![3 => token(), 1 => address_term()], " {1,2}"), 1..6),
            end in prop::sample::select(vec!["", " ", " -all", " ~all", " ?all", " +all", " all", "  "]),
            bad in prop::sample::select(vec!["", "", "", "", "\t", "\u{e9}", "\u{7f}"]),
        ) {
            let mut text = String::from("v=spf1");
            for (token, spaces) in &tokens {
                text.push_str(spaces);
                text.push_str(token);
            }
            text.push_str(end);
            if !bad.is_empty() {
                let at = text.len() / 2;
                let at = (at..text.len()).find(|&i| text.is_char_boundary(i)).unwrap_or(text.len());
                text.insert_str(at.max(6), bad);
            }
            prop_assert_eq!(text.parse::<Record>(), grammar::record(&text), "{:?}", text);
        }

        #[test]
        fn versions_read_the_same(text in "[vV]=[sS][pP][fF][01]( |x|\\t)?.{0,3}") {
            let grammar = grammar::version(&text).is_ok();
            prop_assert_eq!(super::is_spf1(text.as_bytes()), grammar, "{:?}", text);
        }
    }

    /// The terms of common records: the fast path must read them (else every record pays for the
    /// grammar, and the benchmarks say so only later).
    #[test]
    fn common_terms_take_the_fast_path() {
        for token in [
            "ip4:192.0.2.0/24",
            "ip4:192.0.2.1",
            "ip6:2001:db8::/32",
            "ip6:2001:db8:1:2:3:4:5:6",
            "include:_spf.example.com",
            "~include:spf.example.net",
            "-all",
            "~all",
            "?all",
            "+all",
            "all",
            "a",
            "mx",
            "a:mail.example.com",
            "mx:example.com/24",
            "a/24//64",
            "ptr",
            "ptr:example.com",
            "exists:%{i}._spf.%{d}",
            "redirect=_spf.example.com",
            "exp=explain.%{d}",
        ] {
            let text = format!("v=spf1 {token}");
            let mut modifier = false;
            let mut terms = Vec::new();
            assert!(
                fast::term(&text, 7, &mut modifier, &mut terms).is_some(),
                "{token}"
            );
        }
    }
}

/// The fast macro-string scanner never disagrees with the grammar's `macro-string` and
/// `explain-string`.
mod macro_fast_path_agrees {
    use super::super::{fast, grammar};
    use nom::Parser;
    use nom::combinator::all_consuming;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(crate::cases::cases(2000)))]

        #[test]
        fn accepted_strings_parse_the_same(pieces in prop::collection::vec(super::macro_piece(), 1..6), space in any::<bool>()) {
            let text = pieces.concat();
            let Some((fast, ends_with_expand)) = fast::macro_string(&text, space) else {
                return Ok(());
            };
            if space {
                prop_assert_eq!(grammar::explain_string(&text), Ok(fast), "{:?}", text);
            } else {
                let grammar = all_consuming(grammar::macro_string).parse(&text).map(|(_, ms)| ms).ok();
                prop_assert_eq!(grammar, Some((fast, ends_with_expand)), "{:?}", text);
            }
        }

        #[test]
        fn explanations_parse_the_same(pieces in prop::collection::vec(super::macro_piece(), 0..6)) {
            let text = pieces.concat();
            let fast = fast::macro_string(&text, true).map(|(ms, _)| ms);
            let grammar = grammar::explain_string(&text);
            if let Some(fast) = fast {
                prop_assert_eq!(grammar, Ok(fast), "{:?}", text);
            }
            // And the public entry point, whichever reader it took.
            let public = super::parse_explanation(&text).map_err(|e| e.kind);
            prop_assert_eq!(public, grammar::explain_string(&text), "{:?}", text);
        }
    }
}
