//! Relay lists: `NetList` (Postfix `mynetworks`) and `DomainList` (relay domains) on any text.
//!
//! The first byte picks the list kind and the form (inline or file text); the rest is the list.
//! Invariants, for a list that parses:
//! - `Display` parses again (network lists in the strict Postfix syntax), to the same entries, and
//!   printing is a fixed point;
//! - lookups through the index agree with a linear first-match scan of the entries (the reference
//!   semantics the docs give), for the original and the re-parsed list, on probes built from the
//!   entries (network bounds and neighbours, names, parents and children) and from the input's own
//!   tokens.
#![no_main]

use ipnet::IpNet;
use libfuzzer_sys::fuzz_target;
use sender_identity::ip::canonical;
use sender_identity::relay::{
    DomainEntry, DomainList, NetEntry, NetList, NetSyntax, ParentMatching,
};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// The first entry containing `ip` (after folding IPv4-mapped addresses), with its 1-based index.
fn reference_net(entries: &[NetEntry], ip: IpAddr) -> Option<(usize, NetEntry)> {
    let ip = canonical(ip);
    entries
        .iter()
        .position(|e| e.network().contains(&ip))
        .map(|i| (i + 1, entries[i]))
}

fn neighbours(ip: IpAddr) -> [IpAddr; 2] {
    match ip {
        IpAddr::V4(v4) => {
            let n = u32::from(v4);
            [
                IpAddr::V4(Ipv4Addr::from(n.wrapping_sub(1))),
                IpAddr::V4(Ipv4Addr::from(n.wrapping_add(1))),
            ]
        }
        IpAddr::V6(v6) => {
            let n = u128::from(v6);
            [
                IpAddr::V6(Ipv6Addr::from(n.wrapping_sub(1))),
                IpAddr::V6(Ipv6Addr::from(n.wrapping_add(1))),
            ]
        }
    }
}

fn mapped(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(v4) => IpAddr::V6(v4.to_ipv6_mapped()),
        v6 => v6,
    }
}

fn tokens(text: &str) -> impl Iterator<Item = &str> {
    text.split(|c: char| c.is_whitespace() || c == ',')
        .filter(|t| !t.is_empty())
}

fn check_net(text: &str, list: &NetList) {
    let shown = list.to_string();
    // The printed form is Postfix syntax (IPv6 in brackets).
    let again = NetList::parse_with(&shown, NetSyntax::Postfix)
        .unwrap_or_else(|e| panic!("Display output does not parse: {text:?} -> {shown:?}: {e}"));
    assert_eq!(again.entries(), list.entries(), "{text:?} -> {shown:?}");
    assert_eq!(again.to_string(), shown);
    assert_eq!(again.len(), list.len());

    let mut probes: Vec<IpAddr> = vec![
        "0.0.0.0".parse().unwrap(),
        "255.255.255.255".parse().unwrap(),
        "::".parse().unwrap(),
        "::1".parse().unwrap(),
        "127.0.0.1".parse().unwrap(),
        "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff".parse().unwrap(),
    ];
    for e in list.entries().iter().take(64) {
        let net: IpNet = e.network();
        for ip in [net.network(), net.broadcast()] {
            probes.push(ip);
            probes.extend(neighbours(ip));
        }
    }
    for t in tokens(text).take(64) {
        let t = t.trim_start_matches('!').trim_start_matches('[');
        let addr = t.split(['/', ']']).next().unwrap_or("");
        if let Ok(ip) = addr.parse::<IpAddr>() {
            probes.push(ip);
        }
    }
    let extra: Vec<IpAddr> = probes.iter().map(|ip| mapped(*ip)).collect();
    probes.extend(extra);
    for ip in probes {
        let want = reference_net(list.entries(), ip);
        for l in [list, &again] {
            let got = l.lookup(ip).map(|m| (m.index, m.entry));
            assert_eq!(got, want, "{text:?}: lookup({ip})");
            assert_eq!(
                l.contains(ip),
                want.is_some_and(|(_, e)| !e.is_negated()),
                "{text:?}: contains({ip})"
            );
        }
    }
}

/// The documented matching (the table at `ParentMatching`): the first entry in list order that
/// matches, negated or not.
fn reference_domain(
    entries: &[DomainEntry],
    mode: ParentMatching,
    domain: &str,
) -> Option<(usize, DomainEntry)> {
    let domain = domain
        .strip_suffix('.')
        .unwrap_or(domain)
        .to_ascii_lowercase();
    if domain.split('.').any(str::is_empty) {
        return None;
    }
    let matches = |e: &DomainEntry| {
        let same = e.name() == domain;
        let below = domain
            .strip_suffix(e.name())
            .is_some_and(|head| head.ends_with('.'));
        match (e.is_subdomains_only(), mode) {
            (true, ParentMatching::Postfix) => false,
            (true, _) => below,
            (false, ParentMatching::Explicit) => same,
            (false, _) => same || below,
        }
    };
    let position = entries.iter().position(matches)?;
    Some((position + 1, entries[position].clone()))
}

fn check_domains(text: &str, list: &DomainList) {
    let shown = list.to_string();
    let again = DomainList::parse(&shown)
        .unwrap_or_else(|e| panic!("Display output does not parse: {text:?} -> {shown:?}: {e}"));
    assert_eq!(again.entries(), list.entries(), "{text:?} -> {shown:?}");
    assert_eq!(again.to_string(), shown);

    let mut probes: Vec<String> = vec!["".into(), ".".into(), "com".into(), "example.com".into()];
    for e in list.entries().iter().take(64) {
        let name = e.name();
        probes.push(name.to_string());
        probes.push(name.to_ascii_uppercase() + ".");
        probes.push(format!("x.{name}"));
        probes.push(format!("a.b.{name}"));
        probes.push(format!("x{name}"));
        probes.push(format!(".{name}"));
        if let Some((_, parent)) = name.split_once('.') {
            probes.push(parent.to_string());
        }
    }
    probes.extend(tokens(text).take(64).map(str::to_string));
    for mode in [
        ParentMatching::Explicit,
        ParentMatching::Postfix,
        ParentMatching::Lenient,
    ] {
        let a = list.clone().with_parent_matching(mode);
        let b = again.clone().with_parent_matching(mode);
        for probe in &probes {
            let want = reference_domain(list.entries(), mode, probe);
            for l in [&a, &b] {
                let got = l.lookup(probe).map(|m| (m.index, m.entry));
                assert_eq!(got, want, "{text:?}: lookup({probe:?}) {mode:?}");
                assert_eq!(
                    l.contains(probe),
                    want.as_ref().is_some_and(|(_, e)| !e.is_negated())
                );
            }
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let Ok(text) = std::str::from_utf8(rest) else {
        return;
    };
    let file = selector & 1 == 1;
    if selector & 2 == 0 {
        let parsed = if file {
            NetList::from_file_text(text)
        } else {
            NetList::parse(text)
        };
        if let Ok(list) = parsed {
            check_net(text, &list);
        }
    } else {
        let parsed = if file {
            DomainList::from_file_text(text)
        } else {
            DomainList::parse(text)
        };
        if let Ok(list) = parsed {
            check_domains(text, &list);
        }
    }
});
