//! Property tests of the record parser: generated records round-trip through `Display`, and junk of
//! any kind gives an error, never a panic. Evaluation of generated records stays within the limits.

mod common;

use common::cases::cases;
use proptest::prelude::*;
use sender_identity::dns::ZoneResolver;
use sender_identity::spf::{Config, Record, Verifier, parse_explanation};

fn macro_expand() -> impl Strategy<Value = String> {
    (
        prop::sample::select(vec![
            's', 'l', 'o', 'd', 'i', 'p', 'v', 'h', 'S', 'L', 'O', 'D', 'I', 'P', 'V', 'H',
        ]),
        prop::option::of(1u32..200),
        any::<bool>(),
        "[-.+,/_=]{0,3}",
    )
        .prop_map(|(c, keep, r, delims)| {
            let keep = keep.map(|k| k.to_string()).unwrap_or_default();
            let r = if r { "r" } else { "" };
            format!("%{{{c}{keep}{r}{delims}}}")
        })
}

fn domain_spec() -> impl Strategy<Value = String> {
    let literal = "[a-z0-9_-]{1,10}(\\.[a-z0-9-]{1,10}){0,3}";
    let piece = prop_oneof![
        literal.prop_map(String::from),
        macro_expand(),
        Just("%%".to_string()),
        Just("%_".to_string()),
        Just("%-".to_string()),
    ];
    (
        prop::collection::vec(piece, 0..4),
        prop_oneof![
            "\\.[a-z][a-z0-9]{1,6}\\.?".prop_map(String::from),
            macro_expand(),
        ],
    )
        .prop_map(|(pieces, end)| pieces.concat() + &end)
}

fn cidr(max: u8) -> impl Strategy<Value = String> {
    prop::option::of(0..=max).prop_map(|c| c.map(|c| format!("/{c}")).unwrap_or_default())
}

fn mechanism() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("all".to_string()),
        domain_spec().prop_map(|d| format!("include:{d}")),
        domain_spec().prop_map(|d| format!("exists:{d}")),
        (prop::option::of(domain_spec()), cidr(32), cidr(128)).prop_map(|(d, c4, c6)| {
            let d = d.map(|d| format!(":{d}")).unwrap_or_default();
            let c6 = c6.replacen('/', "//", 1);
            format!("a{d}{c4}{c6}")
        }),
        (prop::option::of(domain_spec()), cidr(32), cidr(128)).prop_map(|(d, c4, c6)| {
            let d = d.map(|d| format!(":{d}")).unwrap_or_default();
            let c6 = c6.replacen('/', "//", 1);
            format!("MX{d}{c4}{c6}")
        }),
        prop::option::of(domain_spec())
            .prop_map(|d| format!("ptr{}", d.map(|d| format!(":{d}")).unwrap_or_default())),
        (any::<[u8; 4]>(), cidr(32))
            .prop_map(|(a, c)| format!("ip4:{}{c}", std::net::Ipv4Addr::from(a))),
        (any::<[u8; 16]>(), cidr(128))
            .prop_map(|(a, c)| format!("ip6:{}{c}", std::net::Ipv6Addr::from(a))),
    ]
}

fn term() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => ("[-+~?]?", mechanism()).prop_map(|(q, m)| format!("{q}{m}")),
        1 => ("[a-z][a-z0-9._-]{0,8}", "[!-$&-~]{0,12}").prop_filter_map("not a known modifier", |(n, v)| {
            (n != "redirect" && n != "exp").then(|| format!("{n}={v}"))
        }),
    ]
}

fn record_text() -> impl Strategy<Value = String> {
    (
        prop::collection::vec(term(), 0..8),
        prop::option::of(domain_spec()),
        prop::option::of(domain_spec()),
        " {1,2}",
    )
        .prop_map(|(terms, redirect, exp, sep)| {
            let mut all = terms;
            if let Some(r) = redirect {
                all.push(format!("redirect={r}"));
            }
            if let Some(e) = exp {
                all.push(format!("exp={e}"));
            }
            let mut text = String::from("v=spf1");
            for t in all {
                text.push_str(&sep);
                text.push_str(&t);
            }
            text
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases(1000)))]

    /// Every record built from the grammar parses, and its canonical text parses to the same AST.
    #[test]
    fn generated_records_round_trip(text in record_text()) {
        let record: Record = text.parse().map_err(|e| TestCaseError::fail(format!("{text}: {e}")))?;
        let canonical = record.to_string();
        let again: Record = canonical.parse().map_err(|e| TestCaseError::fail(format!("{canonical}: {e}")))?;
        prop_assert_eq!(&again, &record);
        prop_assert_eq!(again.to_string(), canonical);
    }

    /// Arbitrary text after the version never panics; whatever parses round-trips.
    #[test]
    fn junk_never_panics(junk in "\\PC{0,80}", bytes in prop::collection::vec(any::<u8>(), 0..60)) {
        for text in [format!("v=spf1 {junk}"), format!("v=spf1 {}", String::from_utf8_lossy(&bytes)), junk.clone()] {
            if let Ok(record) = text.parse::<Record>() {
                let again: Record = record.to_string().parse().expect("canonical text parses");
                prop_assert_eq!(again, record);
            }
        }
        let _ = parse_explanation(&junk);
    }

    /// Mutating a valid record (deleting, duplicating or replacing a byte) never panics the parser.
    #[test]
    fn mutated_records_never_panic(text in record_text(), at in any::<prop::sample::Index>(), b in 0x20u8..0x7f) {
        let mut bytes = text.into_bytes();
        let i = at.index(bytes.len());
        let mut variants = Vec::new();
        let mut v = bytes.clone(); v.remove(i); variants.push(v);
        let mut v = bytes.clone(); v.insert(i, bytes[i]); variants.push(v);
        bytes[i] = b; variants.push(bytes);
        for v in variants {
            let text = String::from_utf8(v).expect("ascii");
            if let Ok(record) = text.parse::<Record>() {
                prop_assert_eq!(record.to_string().parse::<Record>().ok(), Some(record));
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases(200)))]

    /// Evaluating any generated record (in a zone where every name answers) ends within the limits.
    #[test]
    fn evaluation_stays_within_limits(text in record_text(), client in any::<[u8; 4]>()) {
        let zone: ZoneResolver = format!(
            "example.com TXT \"{}\"\nexample.com A 192.0.2.1\nexample.com MX 10 example.com",
            text.replace('\\', "\\\\").replace('"', "\\\"")
        ).parse().expect("zone");
        let rt = tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap();
        let out = rt.block_on(Verifier::new(&zone).check_mail_from(
            std::net::Ipv4Addr::from(client).into(), "helo.example", "u@example.com"));
        let config = Config::default();
        prop_assert!(out.dns_lookups <= config.max_dns_lookups + 1);
        prop_assert!(out.void_lookups <= config.max_void_lookups + 1);
        // Bounded queries: each term costs at most one lookup plus 10 MX/PTR names (+1 for TXT, +exp).
        prop_assert!(zone.query_count() <= 2 + 11 * (config.max_dns_lookups as usize + 1) + 11, "{} queries", zone.query_count());
    }
}
