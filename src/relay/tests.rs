use super::*;
use crate::ip::canonical;
use crate::name::{self, NameError};
use ipnet::{IpNet, Ipv4Net};
use proptest::prelude::*;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

fn ip(text: &str) -> IpAddr {
    text.parse().unwrap()
}

fn net(text: &str) -> IpNet {
    text.parse().unwrap()
}

fn nets(text: &str) -> NetList {
    NetList::parse(text).unwrap()
}

fn domains(text: &str) -> DomainList {
    DomainList::parse(text).unwrap()
}

/// The error for `text`, as (entry, index, line, kind).
fn net_err(text: &str) -> (String, usize, Option<usize>, EntryError) {
    let e = NetList::parse(text).unwrap_err();
    (e.entry, e.index, e.line, e.kind)
}

fn net_kind(entry: &str) -> EntryError {
    let (text, index, line, kind) = net_err(entry);
    assert_eq!((text.as_str(), index, line), (entry, 1, None));
    kind
}

fn domain_kind(entry: &str) -> EntryError {
    let e = DomainList::parse(entry).unwrap_err();
    assert_eq!((e.entry.as_str(), e.index, e.line), (entry, 1, None));
    e.kind
}

/// The position (from 1) of the first entry containing `client`: the specification of `lookup`.
fn naive_lookup(list: &NetList, client: IpAddr) -> Option<usize> {
    let client = canonical(client);
    list.entries()
        .iter()
        .position(|e| e.network().contains(&client))
        .map(|p| p + 1)
}

/// Whether `domain` matches `entry`, written with the name helpers: the specification of `lookup`
/// (the table at [`ParentMatching`]).
fn naive_domain_match(entry: &DomainEntry, domain: &str, mode: ParentMatching) -> bool {
    let within = name::is_within(domain, entry.name());
    let same = name::same(domain, entry.name());
    let below = within && !same;
    match (entry.is_subdomains_only(), mode) {
        (true, ParentMatching::Postfix) => false,
        (true, _) => below,
        (false, ParentMatching::Explicit) => same,
        (false, _) => same || below,
    }
}

/// The Postfix `match_hostname()` test of `util/match_ops.c`, transcribed on lower-case strings:
/// an exact match, else with `parent` the pattern must end the name after a dot, else a
/// leading-dot pattern must end the name.
fn postfix_match_hostname(parent: bool, name: &str, pattern: &str) -> bool {
    if name == pattern {
        return true;
    }
    let Some(pd) = name.len().checked_sub(pattern.len()).filter(|&pd| pd > 0) else {
        return false;
    };
    if parent {
        name.as_bytes()[pd - 1] == b'.' && &name[pd..] == pattern
    } else {
        pattern.starts_with('.') && &name[pd..] == pattern
    }
}

// ---- NetList parsing

#[test]
fn postfix_example_parses() {
    let list = nets("127.0.0.0/8 [::1]/128 !192.168.1.5 192.168.0.0/16");
    let shown: Vec<String> = list.entries().iter().map(|e| e.to_string()).collect();
    assert_eq!(
        shown,
        [
            "127.0.0.0/8",
            "[::1]/128",
            "!192.168.1.5/32",
            "192.168.0.0/16"
        ]
    );
    assert_eq!(list.len(), 4);
    assert!(list.contains(ip("127.1.2.3")));
    assert!(list.contains(ip("::1")));
    assert!(!list.contains(ip("192.168.1.5")));
    assert!(list.contains(ip("192.168.1.6")));
    assert!(!list.contains(ip("10.0.0.1")));
    assert!(!list.contains(ip("::2")));
}

#[test]
fn separators_are_commas_and_whitespace() {
    let list = nets(" 10.0.0.0/8,192.0.2.0/24 ,\t198.51.100.0/24,,\n203.0.113.0/24\r\n ");
    assert_eq!(
        list.to_string(),
        "10.0.0.0/8 192.0.2.0/24 198.51.100.0/24 203.0.113.0/24"
    );
    assert!(nets("").is_empty());
    assert!(nets(" ,, \n").is_empty());
}

#[test]
fn bare_addresses_are_host_routes() {
    let list = nets("192.0.2.1 2001:db8::1");
    assert_eq!(list.entries()[0].network(), net("192.0.2.1/32"));
    assert_eq!(list.entries()[1].network(), net("2001:db8::1/128"));
    assert!(list.contains(ip("192.0.2.1")));
    assert!(!list.contains(ip("192.0.2.2")));
    assert!(list.contains(ip("2001:db8::1")));
    assert!(!list.contains(ip("2001:db8::2")));
}

#[test]
fn ipv6_forms() {
    for text in [
        "[2001:db8::]/32",
        "[2001:db8::/32]",
        "2001:db8::/32",
        "[2001:DB8::]/32",
    ] {
        let list = nets(text);
        assert_eq!(list.entries()[0].network(), net("2001:db8::/32"), "{text}");
        assert!(list.contains(ip("2001:db8:ffff::1")), "{text}");
        assert!(!list.contains(ip("2001:db9::1")), "{text}");
    }
    assert_eq!(nets("[::1]").entries()[0].network(), net("::1/128"));
    assert_eq!(
        nets("[192.0.2.0]/24").entries()[0].network(),
        net("192.0.2.0/24")
    );
    assert_eq!(
        nets("[192.0.2.0/24]").entries()[0].network(),
        net("192.0.2.0/24")
    );
    assert_eq!(nets("::/0").entries()[0].network(), net("::/0"));
    assert_eq!(nets("0.0.0.0/0").entries()[0].network(), net("0.0.0.0/0"));
}

#[test]
fn error_host_bits_set() {
    assert_eq!(
        net_kind("192.168.1.1/24"),
        EntryError::HostBitsSet {
            network: net("192.168.1.0/24")
        }
    );
    assert_eq!(
        net_kind("[2001:db8::1]/64"),
        EntryError::HostBitsSet {
            network: net("2001:db8::/64")
        }
    );
    assert_eq!(
        net_kind("10.0.0.1/0"),
        EntryError::HostBitsSet {
            network: net("0.0.0.0/0")
        }
    );
    // A mapped network's suggestion stays in the family it was written in.
    assert_eq!(
        net_kind("::ffff:192.0.2.1/120"),
        EntryError::HostBitsSet {
            network: net("::ffff:192.0.2.0/120")
        }
    );
    // A mapped network shorter than /96 has its ffff bits as host bits.
    assert!(matches!(
        net_kind("::ffff:0:0/95"),
        EntryError::HostBitsSet { .. }
    ));
}

#[test]
fn error_bad_address() {
    for entry in [
        "1.2.3",
        "256.1.1.1",
        "1.2.3.4.5",
        "01.2.3.4",
        "1.2.3/24",
        "mail.example.com",
        "hash:/etc/postfix/network_table",
        "1::2::3",
        "fe80::1%eth0",
        "[::1",
        "::1]",
        "[::1]x",
        "[::1]]",
        "[::1/64]/64",
        "[]",
        "/24",
        "#comment",
        "*",
    ] {
        let want = if entry == "/24" {
            EntryError::FileReference
        } else {
            EntryError::BadAddress
        };
        assert_eq!(net_kind(entry), want, "{entry}");
    }
}

#[test]
fn error_bad_prefix_length() {
    let v4 = EntryError::BadPrefixLength { max: 32 };
    let v6 = EntryError::BadPrefixLength { max: 128 };
    for entry in [
        "192.0.2.0/33",
        "192.0.2.0/",
        "192.0.2.0/-1",
        "192.0.2.0/+24",
        "192.0.2.0/abc",
        "192.0.2.0/24/8",
        "192.0.2.0/256",
        "192.0.2.0/99999999999",
        "[192.0.2.0]/33",
    ] {
        assert_eq!(net_kind(entry), v4, "{entry}");
    }
    for entry in ["[::1]/129", "::/129", "[::/129]", "[::1]/", "::/1.5"] {
        assert_eq!(net_kind(entry), v6, "{entry}");
    }
}

#[test]
fn error_empty_negation_and_file_reference() {
    // The space ends the entry, so `!` stands alone.
    assert_eq!(
        net_err("10.0.0.0/8 ! 192.0.2.1"),
        ("!".into(), 2, None, EntryError::EmptyNegation)
    );
    assert_eq!(net_kind("!!"), EntryError::EmptyNegation);
    assert_eq!(
        net_kind("/etc/postfix/mynetworks"),
        EntryError::FileReference
    );
    assert_eq!(
        net_kind("!/etc/postfix/mynetworks"),
        EntryError::FileReference
    );
}

#[test]
fn error_position_and_message() {
    let e = NetList::parse("127.0.0.0/8, [::1]/128,\n10.0.0.0/8 192.0.2.0/33").unwrap_err();
    assert_eq!(
        (e.entry.as_str(), e.index, e.line),
        ("192.0.2.0/33", 4, None)
    );
    assert_eq!(
        e.to_string(),
        "entry #4 `192.0.2.0/33`: bad prefix length (must be a number from 0 to 32)"
    );
}

#[test]
fn file_form_comments_and_lines() {
    let text = "# trusted networks\n\
                127.0.0.0/8        # loopback\n\
                \n\
                [::1]/128, !192.0.2.9 192.0.2.0/24\n\
                #192.0.2.0/33 is commented out\n";
    let list = NetList::from_file_text(text).unwrap();
    assert_eq!(
        list.to_string(),
        "127.0.0.0/8 [::1]/128 !192.0.2.9/32 192.0.2.0/24"
    );

    let e = NetList::from_file_text("# header\n10.0.0.0/8\n\n192.0.2.0/24 198.51.100.1/24 # x\n")
        .unwrap_err();
    assert_eq!(
        (e.entry.as_str(), e.index, e.line),
        ("198.51.100.1/24", 3, Some(4))
    );
    assert_eq!(
        e.to_string(),
        "entry #3 `198.51.100.1/24` (line 4): host bits set after the prefix length; \
         did you mean 198.51.100.0/24?"
    );
    // `#` is not a comment in the inline form.
    assert_eq!(net_err("10.0.0.0/8 # x").3, EntryError::BadAddress);
}

#[test]
fn negation_toggles_like_postfix() {
    let list = nets("!!192.0.2.1 !!!192.0.2.2");
    assert!(!list.entries()[0].is_negated());
    assert!(list.entries()[1].is_negated());
    assert!(list.contains(ip("192.0.2.1")));
    assert!(!list.contains(ip("192.0.2.2")));
    assert_eq!(list.to_string(), "192.0.2.1/32 !192.0.2.2/32");
}

#[test]
fn first_match_wins() {
    // Postfix's own example: the exclusion first.
    let list = nets("!192.168.0.1, 192.168.0.0/28");
    assert!(!list.contains(ip("192.168.0.1")));
    assert!(list.contains(ip("192.168.0.2")));
    let hit = list.lookup(ip("192.168.0.1")).unwrap();
    assert_eq!((hit.index, hit.entry.is_negated()), (1, true));

    // The other way round, the exclusion is shadowed.
    let list = nets("192.168.0.0/28 !192.168.0.1");
    assert!(list.contains(ip("192.168.0.1")));
    assert_eq!(list.lookup(ip("192.168.0.1")).unwrap().index, 1);

    // A wider earlier entry beats a narrower later one, and a duplicate reports the first.
    let list = nets("!10.0.0.0/8 10.1.0.0/16 10.1.0.0/16");
    assert_eq!(list.lookup(ip("10.1.2.3")).unwrap().index, 1);
    let list = nets("10.1.0.0/16 !10.0.0.0/8 10.1.0.0/16");
    assert_eq!(list.lookup(ip("10.1.2.3")).unwrap().index, 1);
    assert_eq!(list.lookup(ip("10.2.0.0")).unwrap().index, 2);
    assert!(list.lookup(ip("11.0.0.0")).is_none());
}

#[test]
fn mapped_clients_match_ipv4_entries() {
    let list = nets("192.0.2.0/24");
    assert!(list.contains(ip("::ffff:192.0.2.200")));
    assert!(!list.contains(ip("::ffff:192.0.3.1")));
    // An IPv4-compatible (not mapped) address is not folded.
    assert!(!list.contains(ip("::192.0.2.1")));
}

#[test]
fn mapped_entries_are_folded() {
    let list = nets("!::ffff:192.0.2.7 [::ffff:192.0.2.0]/120 ::ffff:0:0/96");
    assert_eq!(list.to_string(), "!192.0.2.7/32 192.0.2.0/24 0.0.0.0/0");
    assert!(!list.contains(ip("192.0.2.7")));
    assert!(!list.contains(ip("::ffff:192.0.2.7")));
    assert!(list.contains(ip("192.0.2.8")));
    assert_eq!(list.lookup(ip("198.51.100.1")).unwrap().index, 3);
    assert!(!list.contains(ip("2001:db8::1")));
}

#[test]
fn families_never_cross() {
    let v4_all = nets("0.0.0.0/0");
    assert!(v4_all.contains(ip("203.0.113.1")));
    assert!(!v4_all.contains(ip("::")));
    assert!(!v4_all.contains(ip("2001:db8::1")));
    let v6_all = nets("::/0");
    assert!(v6_all.contains(ip("2001:db8::1")));
    assert!(!v6_all.contains(ip("0.0.0.0")));
    assert!(!v6_all.contains(ip("192.0.2.1")));
    // A mapped client is IPv4 here, as in Postfix.
    assert!(!v6_all.contains(ip("::ffff:192.0.2.1")));
    // IPv4 0.0.0.0/8 must not match the IPv6 key space (both sit in the same u128 range).
    assert!(!nets("0.0.0.0/8").contains(ip("::1")));
    assert!(!nets("::/8").contains(ip("0.0.0.1")));
}

#[test]
fn display_round_trips() {
    let text = "127.0.0.0/8 [::1]/128 !192.168.1.5 192.168.0.0/16 2001:db8::/32 \
                [fe80::/10] !!10.0.0.0/8 ::ffff:198.51.100.0/120 0.0.0.0/0 ::/0";
    let list = nets(text);
    let shown = list.to_string();
    assert_eq!(
        shown,
        "127.0.0.0/8 [::1]/128 !192.168.1.5/32 192.168.0.0/16 [2001:db8::]/32 [fe80::]/10 \
         10.0.0.0/8 198.51.100.0/24 0.0.0.0/0 [::]/0"
    );
    let again: NetList = shown.parse().unwrap();
    assert_eq!(again.entries(), list.entries());
    assert_eq!(again.to_string(), shown);
}

#[test]
fn ten_thousand_entries() {
    // Every /24 in 10.0.0.0/16 up to 10.39.15.0, with every tenth one negated, then a catch-all.
    let mut text = String::new();
    for i in 0..10_000u32 {
        let bang = if i % 10 == 0 { "!" } else { "" };
        text.push_str(&format!("{bang}10.{}.{}.0/24 ", i / 256, i % 256));
    }
    text.push_str("10.0.0.0/8");
    let list = nets(&text);
    assert_eq!(list.len(), 10_001);
    let hit = list.lookup(ip("10.0.0.5")).unwrap();
    assert_eq!((hit.index, hit.entry.is_negated()), (1, true));
    let hit = list.lookup(ip("10.39.15.77")).unwrap();
    assert_eq!((hit.index, hit.entry.is_negated()), (10_000, false));
    assert_eq!(list.lookup(ip("10.200.0.1")).unwrap().index, 10_001);
    assert!(list.lookup(ip("11.0.0.1")).is_none());
    for i in (0..10_000u32).step_by(97) {
        let client = IpAddr::V4(Ipv4Addr::new(10, (i / 256) as u8, (i % 256) as u8, 9));
        assert_eq!(
            list.lookup(client).map(|m| m.index),
            naive_lookup(&list, client)
        );
    }
}

// ---- NetList: the index against a linear scan

/// Addresses from a small space, so that random networks and clients often overlap.
fn small_v4() -> impl Strategy<Value = Ipv4Addr> {
    let octet = prop::sample::select(vec![0u8, 1, 2, 127, 128, 192, 255]);
    (
        prop::sample::select(vec![10u8, 192]),
        octet.clone(),
        octet.clone(),
        octet,
    )
        .prop_map(|(a, b, c, d)| Ipv4Addr::new(a, b, c, d))
}

fn small_v6() -> impl Strategy<Value = Ipv6Addr> {
    let group = prop::sample::select(vec![0u16, 1, 0x8000, 0xffff]);
    (group.clone(), group.clone(), group)
        .prop_map(|(a, b, c)| Ipv6Addr::new(0x2001, 0xdb8, a, 0, 0, 0, b, c))
}

fn any_client() -> impl Strategy<Value = IpAddr> {
    prop_oneof![
        small_v4().prop_map(IpAddr::V4),
        small_v4().prop_map(|v4| IpAddr::V6(v4.to_ipv6_mapped())),
        small_v6().prop_map(IpAddr::V6),
    ]
}

/// An entry in text form: a random network (host bits cleared), maybe negated, in any of the
/// accepted spellings, including IPv4-mapped IPv6.
fn any_entry() -> impl Strategy<Value = String> {
    let v4 = (small_v4(), 0u8..=32, 0..3u8).prop_map(|(addr, len, form)| {
        let net = Ipv4Net::new(addr, len).unwrap().trunc();
        match form {
            0 => net.to_string(),
            1 if len == 32 => net.addr().to_string(),
            _ => format!("::ffff:{}/{}", net.addr(), len + 96),
        }
    });
    let v6 = (small_v6(), 0u8..=128, 0..3u8).prop_map(|(addr, len, form)| {
        let net = ipnet::Ipv6Net::new(addr, len).unwrap().trunc();
        match form {
            0 => net.to_string(),
            1 => format!("[{}]/{}", net.addr(), len),
            _ => format!("[{net}]"),
        }
    });
    (any::<bool>(), prop_oneof![v4, v6])
        .prop_map(|(neg, e)| format!("{}{e}", if neg { "!" } else { "" }))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(crate::cases::cases(512)))]

    #[test]
    fn index_equals_linear_scan(
        entries in prop::collection::vec(any_entry(), 0..40),
        clients in prop::collection::vec(any_client(), 1..30),
    ) {
        let list = nets(&entries.join(", "));
        prop_assert_eq!(list.len(), entries.len());
        for client in clients {
            let got = list.lookup(client);
            prop_assert_eq!(got.map(|m| m.index), naive_lookup(&list, client));
            if let Some(m) = got {
                prop_assert_eq!(m.entry, list.entries()[m.index - 1]);
                prop_assert_eq!(list.contains(client), !m.entry.is_negated());
            } else {
                prop_assert!(!list.contains(client));
            }
        }
        let again = nets(&list.to_string());
        prop_assert_eq!(again.entries(), list.entries());
    }
}

// ---- NetList syntaxes

#[test]
fn postfix_syntax_refuses_unbracketed_ipv6() {
    let strict = |text: &str| NetList::parse_with(text, NetSyntax::Postfix);
    for (entry, bracketed) in [
        ("::1/128", "[::1]/128"),
        ("::1", "[::1]"),
        ("2001:db8::/32", "[2001:db8::]/32"),
        ("!2001:db8::1", "![2001:db8::1]"),
        ("::ffff:192.0.2.0/120", "[::ffff:192.0.2.0]/120"),
    ] {
        let e = strict(entry).unwrap_err();
        assert_eq!(
            (e.entry.as_str(), e.index, e.kind),
            (
                entry,
                1,
                EntryError::UnbracketedIpv6 {
                    bracketed: bracketed.to_string()
                }
            )
        );
        // The suggestion parses in the strict syntax, to the entry the lenient syntax reads.
        let fixed = strict(bracketed).unwrap();
        assert_eq!(fixed.entries(), nets(entry).entries(), "{entry}");
    }
    assert_eq!(
        strict("127.0.0.0/8 ::1/128").unwrap_err().to_string(),
        "entry #2 `::1/128`: Postfix needs IPv6 inside brackets (it would read this as a \
         type:table); write [::1]/128"
    );
    // Every bracketed form, and IPv4, pass; the file form reports the line.
    let list = strict("127.0.0.0/8 [::1]/128 [2001:db8::/32] ![2001:db8::1] [192.0.2.1]").unwrap();
    assert_eq!(list.len(), 5);
    let e = NetList::from_file_text_with("# v6\n[::1]\n2001:db8::/32\n", NetSyntax::Postfix)
        .unwrap_err();
    assert_eq!((e.index, e.line), (2, Some(3)));
    // The lenient default keeps the extension.
    assert_eq!(
        nets("::1/128").entries(),
        strict("[::1]/128").unwrap().entries()
    );
    assert!(NetList::parse_with("::1/128", NetSyntax::Lenient).is_ok());
    assert_eq!(NetSyntax::default(), NetSyntax::Lenient);
}

proptest! {
    /// Whatever parses leniently prints in a form the Postfix syntax reads back to the same list.
    #[test]
    fn display_is_postfix_syntax(entries in prop::collection::vec(any_entry(), 0..12)) {
        if let Ok(list) = NetList::parse(&entries.join(" ")) {
            let again = NetList::parse_with(&list.to_string(), NetSyntax::Postfix).unwrap();
            prop_assert_eq!(again.entries(), list.entries());
        }
    }
}

// ---- DomainList

#[test]
fn plain_entries_match_exactly_by_default() {
    let list = domains("example.com");
    assert_eq!(list.parent_matching(), ParentMatching::Explicit);
    assert!(list.contains("example.com"));
    assert!(list.contains("EXAMPLE.Com."));
    assert!(!list.contains("mx.example.com"));
    assert!(!list.contains("evilexample.com"));
    assert!(!list.contains("example.com.evil.net"));
    assert!(!list.contains("com"));
}

#[test]
fn dotted_entries_match_strict_subdomains() {
    let list = domains(".example.com");
    assert!(!list.contains("example.com"));
    assert!(list.contains("mx.example.com"));
    assert!(list.contains("a.b.c.EXAMPLE.COM."));
    assert!(!list.contains("evilexample.com"));
    assert!(!list.contains("mx.evilexample.com"));
}

#[test]
fn postfix_parent_domain_mode() {
    let list = domains("example.com").with_parent_matching(ParentMatching::Postfix);
    assert!(list.contains("example.com"));
    assert!(list.contains("mx.example.com"));
    assert!(list.contains("a.b.mx.example.com"));
    assert!(!list.contains("evilexample.com"));
    assert!(!list.contains("mx.evilexample.com"));
    // Postfix compares `.example.com` with the end of the name after a dot: it matches nothing.
    let list = domains(".example.com").with_parent_matching(ParentMatching::Postfix);
    for query in ["example.com", "mx.example.com", "a.b.example.com"] {
        assert!(list.lookup(query).is_none(), "{query}");
    }
    // So a dotted entry cannot shadow a later plain one.
    let list = domains("!.example.com example.com").with_parent_matching(ParentMatching::Postfix);
    assert_eq!(list.lookup("mx.example.com").unwrap().index, 2);
    assert!(list.contains("mx.example.com"));
}

#[test]
fn lenient_parent_domain_mode_is_the_union() {
    let list = domains("example.com").with_parent_matching(ParentMatching::Lenient);
    assert!(list.contains("example.com"));
    assert!(list.contains("mx.example.com"));
    assert!(!list.contains("evilexample.com"));
    let list = domains(".example.com").with_parent_matching(ParentMatching::Lenient);
    assert!(!list.contains("example.com"));
    assert!(list.contains("mx.example.com"));
}

/// The three modes against Postfix's own `match_hostname()` (transcribed above): `Explicit` and
/// `Postfix` agree with it exactly, for plain, dotted and negated entries.
#[test]
fn modes_agree_with_postfix_match_hostname() {
    let patterns = [
        "example.com",
        ".example.com",
        "mx.example.com",
        ".mx.example.com",
    ];
    let names = [
        "example.com",
        "mx.example.com",
        "a.mx.example.com",
        "evilexample.com",
        "mx.evilexample.com",
        "example.org",
    ];
    for (mode, parent) in [
        (ParentMatching::Explicit, false),
        (ParentMatching::Postfix, true),
    ] {
        for pattern in patterns {
            let list = domains(pattern).with_parent_matching(mode);
            for name in names {
                assert_eq!(
                    list.contains(name),
                    postfix_match_hostname(parent, name, pattern),
                    "{mode:?} {pattern} ~ {name}"
                );
            }
        }
    }
}

#[test]
fn domain_negation_first_match_wins() {
    // The negated entry comes first: it decides for its name and (here) its subdomains.
    let list = domains("!test.example.com, example.com, .example.com");
    assert!(!list.contains("test.example.com"));
    let hit = list.lookup("test.example.com").unwrap();
    assert_eq!((hit.index, hit.entry.is_negated()), (1, true));
    assert_eq!(hit.to_string(), "!test.example.com (#1)");
    assert!(list.contains("example.com"));
    assert!(list.contains("mx.example.com"));
    assert!(
        list.contains("a.test.example.com"),
        "the plain negation is exact here"
    );

    // After a positive entry that matches, a negation never decides (Postfix: first match).
    let list = domains(".example.com, !test.example.com");
    assert!(list.contains("test.example.com"));
    assert_eq!(list.lookup("test.example.com").unwrap().index, 1);

    // Under Postfix's parent matching, `!example.net` excludes the whole subtree.
    let list = domains("!example.net example.net .example.net")
        .with_parent_matching(ParentMatching::Postfix);
    assert!(!list.contains("example.net"));
    assert!(!list.contains("mx.example.net"));

    // Each `!` toggles, as in Postfix; duplicates report the first.
    let list = domains("!!example.com");
    assert!(list.contains("example.com"));
    assert!(!list.entries()[0].is_negated());
    let list = domains("example.com Example.com.");
    assert_eq!(list.lookup("example.com").unwrap().index, 1);
}

#[test]
fn first_entry_in_list_order_is_reported() {
    let list = domains(".example.com example.com mx.example.com .mx.example.com");
    assert_eq!(list.lookup("example.com").unwrap().index, 2);
    assert_eq!(list.lookup("mx.example.com").unwrap().index, 1);
    assert_eq!(list.lookup("a.mx.example.com").unwrap().index, 1);
    let list = domains("mx.example.com .mx.example.com .example.com");
    assert_eq!(list.lookup("mx.example.com").unwrap().index, 1);
    assert_eq!(list.lookup("a.mx.example.com").unwrap().index, 2);
    assert_eq!(list.lookup("other.example.com").unwrap().index, 3);
    let list = domains(".example.com example.com").with_parent_matching(ParentMatching::Lenient);
    assert_eq!(list.lookup("mx.example.com").unwrap().index, 1);
    let list = domains("a.example.com example.com").with_parent_matching(ParentMatching::Lenient);
    assert_eq!(list.lookup("x.a.example.com").unwrap().index, 1);
    let list = domains("example.com a.example.com").with_parent_matching(ParentMatching::Lenient);
    assert_eq!(list.lookup("x.a.example.com").unwrap().index, 1);
}

#[test]
fn malformed_queries_match_nothing() {
    let list = domains("example.com .example.com");
    for query in [
        "",
        ".",
        ".example.com",
        "a..example.com",
        "example.com..",
        "..example.com",
        "[192.0.2.1]",
    ] {
        assert!(list.lookup(query).is_none(), "{query:?}");
    }
}

#[test]
fn domain_parse_errors() {
    assert_eq!(domain_kind("!"), EntryError::EmptyNegation);
    assert_eq!(domain_kind("!!"), EntryError::EmptyNegation);
    assert_eq!(domain_kind("/etc/postfix/relay"), EntryError::FileReference);
    assert_eq!(
        domain_kind("!/etc/postfix/relay"),
        EntryError::FileReference
    );
    assert_eq!(domain_kind("!*.example.com"), EntryError::NotHostName);
    assert_eq!(domain_kind("*.example.com"), EntryError::NotHostName);
    assert_eq!(
        domain_kind("hash:/etc/postfix/relay"),
        EntryError::NotHostName
    );
    assert_eq!(domain_kind("exämple.com"), EntryError::NotHostName);
    assert_eq!(domain_kind("@"), EntryError::NotHostName);
    assert_eq!(domain_kind("."), EntryError::BadDomain(NameError::Empty));
    assert_eq!(domain_kind(".."), EntryError::BadDomain(NameError::Empty));
    assert_eq!(
        domain_kind("..example.com"),
        EntryError::BadDomain(NameError::EmptyLabel)
    );
    assert_eq!(
        domain_kind("example.com.."),
        EntryError::BadDomain(NameError::EmptyLabel)
    );
    assert_eq!(
        domain_kind("example..com"),
        EntryError::BadDomain(NameError::EmptyLabel)
    );
    assert_eq!(
        domain_kind("localhost"),
        EntryError::BadDomain(NameError::SingleLabel)
    );
    assert_eq!(
        domain_kind(".com"),
        EntryError::BadDomain(NameError::SingleLabel)
    );
    assert_eq!(
        domain_kind("192.0.2.1"),
        EntryError::BadDomain(NameError::BadTopLabel)
    );
    let long_label = format!("{}.com", "a".repeat(64));
    assert_eq!(
        domain_kind(&long_label),
        EntryError::BadDomain(NameError::LabelTooLong)
    );
    let long_name = format!("{}com", "abcdefghi.".repeat(26));
    assert_eq!(
        domain_kind(&long_name),
        EntryError::BadDomain(NameError::TooLong)
    );

    let e = DomainList::parse("example.com, *.example.net").unwrap_err();
    assert_eq!((e.index, e.line), (2, None));
    assert_eq!(
        e.to_string(),
        "entry #2 `*.example.net`: not a host name (labels may hold only letters, digits, `-` and `_`)"
    );
}

#[test]
fn domain_file_form() {
    let text = "# relay domains\nexample.com   # primary\n\n.example.com, example.net\n";
    let list = DomainList::from_file_text(text).unwrap();
    assert_eq!(list.to_string(), "example.com .example.com example.net");
    let e = DomainList::from_file_text("# x\nexample.com\n\nexample.net .\n").unwrap_err();
    assert_eq!((e.entry.as_str(), e.index, e.line), (".", 3, Some(4)));
    assert_eq!(
        e.to_string(),
        "entry #3 `.` (line 4): bad domain name: empty domain name"
    );
}

#[test]
fn domain_display_round_trips() {
    let list = domains(
        "Example.COM. .Sub.Example.org, _dmarc.example.net xn--p1ai.example !!!.X.example.net",
    );
    let shown = list.to_string();
    assert_eq!(
        shown,
        "example.com .sub.example.org _dmarc.example.net xn--p1ai.example !.x.example.net"
    );
    let again: DomainList = shown.parse().unwrap();
    assert_eq!(again.entries(), list.entries());
}

#[test]
fn large_domain_list() {
    let text: Vec<String> = (0..10_000).map(|i| format!("d{i}.example")).collect();
    let list = domains(&text.join(" "));
    assert_eq!(list.lookup("d9999.example").unwrap().index, 10_000);
    assert!(!list.contains("x.d9999.example"));
    assert!(!list.contains("d10000.example"));
}

fn any_label() -> impl Strategy<Value = &'static str> {
    prop::sample::select(vec!["a", "b", "ab", "ba", "example", "EXAMPLE", "com"])
}

fn any_name() -> impl Strategy<Value = String> {
    (prop::collection::vec(any_label(), 1..4), any::<bool>()).prop_map(|(labels, dot)| {
        let mut name = format!("{}.com", labels.join("."));
        if dot {
            name.push('.');
        }
        name
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(crate::cases::cases(512)))]

    #[test]
    fn domain_lookup_equals_naive_scan(
        entries in prop::collection::vec((any::<bool>(), any::<bool>(), any_name()), 0..12),
        queries in prop::collection::vec(any_name(), 1..12),
        mode in prop::sample::select(vec![
            ParentMatching::Explicit,
            ParentMatching::Postfix,
            ParentMatching::Lenient,
        ]),
    ) {
        let text: Vec<String> = entries
            .iter()
            .map(|(negated, dotted, name)| {
                format!("{}{}{name}", if *negated { "!" } else { "" }, if *dotted { "." } else { "" })
            })
            .collect();
        let list = domains(&text.join(",")).with_parent_matching(mode);
        for query in queries {
            // The first entry in list order that matches decides.
            let first = list
                .entries()
                .iter()
                .position(|e| naive_domain_match(e, &query, mode))
                .map(|i| i + 1);
            prop_assert_eq!(list.lookup(&query).map(|hit| hit.index), first, "{}", query);
            let listed = first.is_some_and(|i| !list.entries()[i - 1].is_negated());
            prop_assert_eq!(list.contains(&query), listed, "{}", query);
        }
    }
}

// ---- RelayPolicy

fn policy() -> RelayPolicy {
    RelayPolicy::new(
        nets("127.0.0.0/8 [::1]/128 !192.168.1.5 192.168.0.0/16"),
        domains("example.com .example.com"),
    )
}

#[test]
fn trusted_network_allows() {
    let d = policy().decide(ip("192.168.7.7"), false, "elsewhere.org");
    assert!(d.allowed);
    assert_eq!(
        d.reason,
        RelayReason::TrustedNetwork {
            client: ip("192.168.7.7"),
            entry: NetMatch {
                index: 4,
                entry: nets("192.168.0.0/16").entries()[0],
            },
        }
    );
    assert_eq!(
        d.to_string(),
        "relay allowed: client 192.168.7.7 matched mynetworks entry 192.168.0.0/16 (#4)"
    );
}

#[test]
fn trusted_network_reports_folded_client() {
    let d = policy().decide(ip("::ffff:127.0.0.1"), false, "elsewhere.org");
    assert!(d.allowed);
    assert_eq!(
        d.reason.to_string(),
        "client 127.0.0.1 matched mynetworks entry 127.0.0.0/8 (#1)"
    );
}

#[test]
fn authenticated_allows() {
    let d = policy().decide(ip("203.0.113.9"), true, "elsewhere.org");
    assert!(d.allowed);
    assert_eq!(
        d.reason,
        RelayReason::Authenticated {
            client: ip("203.0.113.9")
        }
    );
    assert_eq!(
        d.to_string(),
        "relay allowed: client 203.0.113.9 is authenticated"
    );
}

#[test]
fn trusted_network_comes_before_authenticated() {
    let d = policy().decide(ip("127.0.0.1"), true, "elsewhere.org");
    assert!(matches!(d.reason, RelayReason::TrustedNetwork { .. }));
}

#[test]
fn authenticated_comes_before_relay_domain() {
    let d = policy().decide(ip("203.0.113.9"), true, "example.com");
    assert!(matches!(d.reason, RelayReason::Authenticated { .. }));
}

#[test]
fn relay_domain_allows_any_client() {
    let d = policy().decide(ip("203.0.113.9"), false, "MX.Example.COM.");
    assert!(d.allowed);
    assert_eq!(
        d.reason,
        RelayReason::RelayDomain {
            domain: "mx.example.com".into(),
            entry: DomainMatch {
                index: 2,
                entry: domains(".example.com").entries()[0].clone(),
            },
        }
    );
    assert_eq!(
        d.to_string(),
        "relay allowed: recipient domain mx.example.com matched relay domain entry .example.com (#2)"
    );
}

#[test]
fn negated_client_may_still_authenticate_or_use_relay_domain() {
    let p = policy();
    let d = p.decide(ip("192.168.1.5"), true, "elsewhere.org");
    assert!(d.allowed);
    assert!(matches!(d.reason, RelayReason::Authenticated { .. }));
    let d = p.decide(ip("192.168.1.5"), false, "example.com");
    assert!(d.allowed);
    assert!(matches!(d.reason, RelayReason::RelayDomain { .. }));
}

#[test]
fn negated_client_denied() {
    let d = policy().decide(ip("::ffff:192.168.1.5"), false, "Elsewhere.org");
    assert!(!d.allowed);
    let RelayReason::NegatedNetwork {
        client,
        entry,
        authenticated,
        domain,
        excluded_by: None,
    } = &d.reason
    else {
        panic!("{:?}", d.reason)
    };
    assert_eq!(
        (
            *client,
            entry.index,
            entry.entry.is_negated(),
            *authenticated,
            domain.as_str()
        ),
        (ip("192.168.1.5"), 3, true, false, "elsewhere.org")
    );
    assert_eq!(
        d.to_string(),
        "relay denied: client 192.168.1.5 is excluded by mynetworks entry !192.168.1.5/32 (#3), \
         is not authenticated, and recipient domain elsewhere.org is not a relay domain"
    );
}

#[test]
fn negated_relay_domain_denies_and_names_the_entry() {
    let p = RelayPolicy::new(
        nets("192.0.2.0/24 !198.51.100.7 198.51.100.0/24"),
        domains("!test.example.com example.com").with_parent_matching(ParentMatching::Postfix),
    );
    let d = p.decide(ip("203.0.113.9"), false, "mx.example.com");
    assert!(d.allowed, "Postfix parent matching: example.com covers mx");
    let d = p.decide(ip("203.0.113.9"), false, "Test.Example.com");
    assert!(!d.allowed);
    let RelayReason::NotPermitted {
        excluded_by: Some(hit),
        ..
    } = &d.reason
    else {
        panic!("{:?}", d.reason)
    };
    assert_eq!((hit.index, hit.entry.is_negated()), (1, true));
    assert_eq!(
        d.to_string(),
        "relay denied: client 203.0.113.9 is not in mynetworks, is not authenticated, and \
         recipient domain test.example.com is excluded by relay domain entry !test.example.com (#1)"
    );
    let d = p.decide(ip("198.51.100.7"), false, "a.test.example.com");
    assert!(matches!(
        d.reason,
        RelayReason::NegatedNetwork {
            excluded_by: Some(_),
            ..
        }
    ));
    // A trusted or authenticated client still relays to an excluded domain.
    assert!(p.decide(ip("192.0.2.1"), false, "test.example.com").allowed);
    assert!(
        p.decide(ip("203.0.113.9"), true, "test.example.com")
            .allowed
    );
}

#[test]
fn not_permitted() {
    let d = policy().decide(ip("2001:db8::25"), false, "evilexample.com");
    assert!(!d.allowed);
    assert_eq!(
        d.reason,
        RelayReason::NotPermitted {
            client: ip("2001:db8::25"),
            authenticated: false,
            domain: "evilexample.com".into(),
            excluded_by: None,
        }
    );
    assert_eq!(
        d.to_string(),
        "relay denied: client 2001:db8::25 is not in mynetworks, is not authenticated, \
         and recipient domain evilexample.com is not a relay domain"
    );
}

#[test]
fn authenticated_relay_off() {
    let p = policy().with_authenticated_relay(false);
    assert!(!p.authenticated_relay());
    let d = p.decide(ip("203.0.113.9"), true, "elsewhere.org");
    assert!(!d.allowed);
    assert_eq!(
        d.to_string(),
        "relay denied: client 203.0.113.9 is not in mynetworks, authenticated relaying is off, \
         and recipient domain elsewhere.org is not a relay domain"
    );
    let d = p.decide(ip("192.168.1.5"), true, "elsewhere.org");
    assert!(matches!(
        d.reason,
        RelayReason::NegatedNetwork {
            authenticated: true,
            ..
        }
    ));
    // Trusted networks and relay domains still work.
    assert!(p.decide(ip("127.0.0.1"), true, "elsewhere.org").allowed);
    assert!(p.decide(ip("203.0.113.9"), true, "example.com").allowed);
}

#[test]
fn hostile_recipient_domain_is_escaped() {
    let d = policy().decide(ip("203.0.113.9"), false, "evil.org\r\n250 OK");
    assert!(!d.allowed);
    let text = d.to_string();
    assert!(!text.contains('\n') && !text.contains('\r'), "{text}");
    assert!(text.contains(r"evil.org\r\n250 ok"), "{text}");
    let d = policy().decide(ip("203.0.113.9"), false, "");
    assert!(
        d.to_string()
            .ends_with("recipient domain (none) is not a relay domain")
    );
}

#[test]
fn default_policy_denies_unauthenticated() {
    let p = RelayPolicy::default();
    assert!(p.trusted_networks().is_empty() && p.relay_domains().is_empty());
    assert!(!p.decide(ip("127.0.0.1"), false, "example.com").allowed);
    assert!(p.decide(ip("127.0.0.1"), true, "example.com").allowed);
}
