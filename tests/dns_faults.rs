//! A DNS fault matrix: SPF evaluations (`Verifier` over `HickoryResolver`) against a real DNS server
//! on 127.0.0.1 (`common::dns_server`) that drops queries, fails, refuses, truncates, serves huge or
//! many records, loops, and fans out. Each case checks the RFC 7208 result and counts the queries
//! the server received.
//!
//! # The query bound
//! Queries are counted as *lookups*: once per (message ID, name, type), so a client's re-send of the
//! same query (a UDP retry, or TCP after a truncated answer) counts once. For one evaluation with
//! the limits of [`Config`], every case asserts
//!
//! ```text
//! lookups <= 1 + T * (1 + M) + (1 + P) + 1
//! ```
//!
//! - `1`: the TXT lookup of the checked domain's record;
//! - `T = min(dns_lookups, max_dns_lookups)` (at most 10): the DNS-querying terms evaluated
//!   (`include`, `a`, `mx`, `ptr`, `exists`, `redirect=`); the term over the limit is refused before
//!   its query. Each makes one lookup of its own (TXT, A/AAAA or MX), and an `mx` at most
//!   `M = max_mx_names` (10) more, one address lookup per MX name (RFC 7208 §4.6.4: more MX names
//!   is a permerror, before any address lookup);
//! - `1 + P`: the client's validated names (for `ptr` and `%{p}`), computed once per evaluation:
//!   one PTR lookup and at most `P = max_ptr_names` (10) address lookups;
//! - `1`: the TXT lookup of `exp=` on fail.
//!
//! With the defaults that is `1 + 10 * 11 + 11 + 1 = 123`. Each case also asserts its exact count.
#![cfg(feature = "hickory")]

mod common;

use async_trait::async_trait;
use common::dns_server::{QueryType, TestDnsServer, Transport};
use sender_identity::dns::{
    HickoryResolver, LookupError, LookupResult, Mx, Resolver, TxtAnswer, TxtRecord, ZoneResolver,
};
use sender_identity::spf::{
    Cause, Config, Identity, RecordCache, SpfError, SpfOutput, SpfResult, Verifier,
};
use std::fmt::Write as _;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// The resolver timeout where a timeout is expected (one try, under hickory's 333 ms UDP re-send).
const SHORT: Duration = Duration::from_millis(250);
/// A generous upper bound on any evaluation here, to prove it ends.
const ENDS_WITHIN: Duration = Duration::from_secs(3);

/// The most lookups RFC 7208's limits allow for one evaluation (see the module docs).
fn rfc_bound(out: &SpfOutput, config: &Config) -> usize {
    let terms = out.dns_lookups.min(config.max_dns_lookups) as usize;
    1 + terms * (1 + config.max_mx_names) + (1 + config.max_ptr_names) + 1
}

/// Checks `mail_from` from `ip` with `resolver` and `config`, and asserts the query bound.
async fn check_with(
    server: &TestDnsServer,
    resolver: HickoryResolver,
    config: Config,
    ip: &str,
    mail_from: &str,
) -> SpfOutput {
    let verifier = Verifier::with_config(resolver, config.clone());
    let before = server.lookups();
    let started = Instant::now();
    let out = verifier
        .check_mail_from(ip.parse().unwrap(), "helo.example.net", mail_from)
        .await;
    assert!(started.elapsed() < ENDS_WITHIN, "{:?}", started.elapsed());
    assert!(out.dns_lookups <= config.max_dns_lookups + 1, "{out:?}");
    assert!(out.void_lookups <= config.max_void_lookups + 1, "{out:?}");
    let lookups = server.lookups() - before;
    let bound = rfc_bound(&out, &config);
    assert!(
        lookups <= bound,
        "{lookups} lookups > {bound}: {:?}",
        server.queries()
    );
    out
}

/// As [`check_with`], with the server's resolver (2 s timeout, one try) and the default limits.
async fn check(server: &TestDnsServer, ip: &str, mail_from: &str) -> SpfOutput {
    check_with(server, server.resolver(), Config::default(), ip, mail_from).await
}

fn dns_error(out: &SpfOutput) -> (&str, &LookupError) {
    match out.error() {
        Some(SpfError::Dns { name, error }) => (name, error),
        other => panic!("expected a DNS error, got {other:?} ({out:?})"),
    }
}

// ------------------------------------------------------------------------------------------------
// Failing servers: temperror (RFC 7208 §4.4, §5.2)

#[tokio::test]
async fn dropped_query_is_temperror() {
    let server = TestDnsServer::start(
        r#"
        slow.example.com.  TIMEOUT TXT
        inc.example.com.   TXT "v=spf1 include:slow.example.com -all"
        "#,
    )
    .await;
    let resolver = server.resolver_with_timeout(SHORT);
    let out = check_with(
        &server,
        resolver.clone(),
        Config::default(),
        "192.0.2.1",
        "a@slow.example.com",
    )
    .await;
    assert_eq!(out.result, SpfResult::Temperror);
    assert_eq!(dns_error(&out), ("slow.example.com", &LookupError::Timeout));
    server.wait_for_queries(1).await;
    assert_eq!(server.query_count("slow.example.com", QueryType::TXT), 1);

    // Through an include: the include's temperror is the result (RFC 7208 §5.2).
    let out = check_with(
        &server,
        resolver,
        Config::default(),
        "192.0.2.1",
        "a@inc.example.com",
    )
    .await;
    assert_eq!(out.result, SpfResult::Temperror);
    assert_eq!(out.dns_lookups, 1);
    server.wait_for_queries(3).await;
    assert_eq!(server.query_count("slow.example.com", QueryType::TXT), 2);
    assert_eq!(server.lookups(), 3);
}

#[tokio::test]
async fn servfail_is_temperror() {
    let server = TestDnsServer::start(
        r#"
        down.example.com.  SERVFAIL
        example.com.       TXT "v=spf1 a:down.example.com -all"
        "#,
    )
    .await;
    let out = check(&server, "192.0.2.1", "a@down.example.com").await;
    assert_eq!(out.result, SpfResult::Temperror);
    assert!(matches!(dns_error(&out).1, LookupError::ServerFailure(m) if m == "SERVFAIL"));

    let out = check(&server, "192.0.2.1", "a@example.com").await;
    assert_eq!(out.result, SpfResult::Temperror);
    assert_eq!(dns_error(&out).0, "down.example.com");
    // Not retried: one query each.
    assert_eq!(server.query_count("down.example.com", QueryType::TXT), 1);
    assert_eq!(server.query_count("down.example.com", QueryType::A), 1);
    assert_eq!(server.total_queries(), 3);
}

#[tokio::test]
async fn refused_is_temperror() {
    let server = TestDnsServer::start(
        r#"
        closed.example.com.  REFUSED
        example.com.         TXT "v=spf1 mx:closed.example.com -all"
        "#,
    )
    .await;
    let out = check(&server, "192.0.2.1", "a@closed.example.com").await;
    assert_eq!(out.result, SpfResult::Temperror);
    assert!(matches!(dns_error(&out).1, LookupError::ServerFailure(m) if m == "REFUSED"));

    let out = check(&server, "192.0.2.1", "a@example.com").await;
    assert_eq!(out.result, SpfResult::Temperror);
    assert_eq!(dns_error(&out).0, "closed.example.com");
    assert_eq!(server.query_count("closed.example.com", QueryType::TXT), 1);
    assert_eq!(server.query_count("closed.example.com", QueryType::MX), 1);
    assert_eq!(server.lookups(), 3);
}

// ------------------------------------------------------------------------------------------------
// Large and many records

/// A TXT answer over 512 bytes: truncated over UDP, then the same query over TCP.
#[tokio::test]
async fn truncated_udp_answer_falls_back_to_tcp() {
    let mut zone = String::from("example.com. TXT \"v=spf1 ip4:192.0.2.0/24 -all\"\n");
    for i in 0..12 {
        let _ = writeln!(
            zone,
            "example.com. TXT \"site-verification={i:02}-{}\"",
            "k".repeat(180)
        );
    }
    let server = TestDnsServer::start(&zone).await;
    let out = check(&server, "192.0.2.7", "a@example.com").await;
    assert_eq!(out.result, SpfResult::Pass, "{out:?}");
    let out2 = check(&server, "198.51.100.7", "a@example.com").await;
    assert_eq!(out2.result, SpfResult::Fail);

    let log = server.queries();
    assert!(log.iter().any(|q| q.transport == Transport::Udp), "{log:?}");
    assert_eq!(server.tcp_queries(), 2, "{log:?}");
    // Two lookups, whatever the number of datagrams.
    assert_eq!(server.lookups(), 2, "{log:?}");
    assert_eq!(server.lookup_count("example.com", QueryType::TXT), 2);
}

/// A 4 KB record of ip4 terms (served as 255-byte strings, joined by the resolver).
#[tokio::test]
async fn four_kilobyte_record_is_evaluated() {
    let mut record = String::from("v=spf1");
    let mut n = 0u32;
    while record.len() < 4096 {
        let _ = write!(record, " ip4:198.51.{}.{}", n / 250, n % 250 + 1);
        n += 1;
    }
    record.push_str(" -all");
    let last = format!("198.51.{}.{}", (n - 1) / 250, (n - 1) % 250 + 1);
    let server = TestDnsServer::start(&format!("big.example.com. TXT \"{record}\"")).await;

    let out = check(&server, &last, "a@big.example.com").await;
    assert_eq!(out.result, SpfResult::Pass, "{out:?}");
    assert_eq!(out.matched().unwrap().to_string(), format!("ip4:{last}"));
    assert_eq!(out.dns_lookups, 0);
    let out = check(&server, "203.0.113.1", "a@big.example.com").await;
    assert_eq!(out.result, SpfResult::Fail);
    assert_eq!(out.matched().unwrap().to_string(), "-all");
    assert!(server.tcp_queries() >= 2);
    assert_eq!(server.lookups(), 2);
}

/// 100 TXT records at one name, one of them SPF.
#[tokio::test]
async fn hundred_txt_records_one_spf() {
    let mut zone = String::new();
    for i in 0..100 {
        if i == 57 {
            zone.push_str("example.com. TXT \"v=spf1 ip4:192.0.2.0/24 ~all\"\n");
        } else {
            let _ = writeln!(zone, "example.com. TXT \"token-{i}=abcdef0123456789\"");
        }
    }
    let server = TestDnsServer::start(&zone).await;
    assert_eq!(
        check(&server, "192.0.2.99", "a@example.com").await.result,
        SpfResult::Pass
    );
    assert_eq!(
        check(&server, "198.51.100.1", "a@example.com").await.result,
        SpfResult::Softfail
    );
    assert_eq!(server.lookups(), 2);
}

#[tokio::test]
async fn two_spf_records_are_permerror() {
    let server = TestDnsServer::start(
        r#"
        example.com. TXT "v=spf1 +all"
        example.com. TXT "other text"
        example.com. TXT "v=spf1 -all"
        "#,
    )
    .await;
    let out = check(&server, "192.0.2.1", "a@example.com").await;
    assert_eq!(out.result, SpfResult::Permerror);
    assert!(matches!(
        out.error(),
        Some(SpfError::MultipleRecords { domain }) if domain == "example.com"
    ));
    assert_eq!(server.lookups(), 1);
}

// ------------------------------------------------------------------------------------------------
// CNAMEs, include and redirect loops, redirect chains

#[tokio::test]
async fn cname_chain_is_followed() {
    let server = TestDnsServer::start(
        r#"
        alias.example.com.  CNAME hop1.example.com.
        hop1.example.com.   CNAME hop2.example.com.
        hop2.example.com.   CNAME real.example.com.
        real.example.com.   TXT   "v=spf1 a -all"
        real.example.com.   A     192.0.2.1
        "#,
    )
    .await;
    let out = check(&server, "192.0.2.1", "a@alias.example.com").await;
    assert_eq!(out.result, SpfResult::Pass, "{out:?}");
    // `a` without a domain is the checked domain, the alias, whose chain ends at the A record.
    let out = check(&server, "192.0.2.2", "a@alias.example.com").await;
    assert_eq!(out.result, SpfResult::Fail);
    // The server chases the chain: one query per lookup.
    assert_eq!(server.query_count("alias.example.com", QueryType::TXT), 2);
    assert_eq!(server.query_count("alias.example.com", QueryType::A), 2);
    assert_eq!(server.query_count("real.example.com", QueryType::TXT), 0);
    assert_eq!(server.lookups(), 4);
}

/// A CNAME loop is a DNS failure: the server (as a recursive resolver would) answers SERVFAIL,
/// hickory reports a server failure, and SPF has no other word for it than temperror (RFC 7208
/// §2.6.6: a transient, generally DNS, error). It cannot be told apart from a broken server, so
/// permerror would be wrong.
#[tokio::test]
async fn cname_loop_is_temperror() {
    let server = TestDnsServer::start(
        r#"
        loop1.example.com.  CNAME loop2.example.com.
        loop2.example.com.  CNAME loop1.example.com.
        example.com.        TXT   "v=spf1 a:loop1.example.com -all"
        "#,
    )
    .await;
    let out = check(&server, "192.0.2.1", "a@loop1.example.com").await;
    assert_eq!(out.result, SpfResult::Temperror);
    assert!(matches!(dns_error(&out).1, LookupError::ServerFailure(_)));
    let out = check(&server, "192.0.2.1", "a@example.com").await;
    assert_eq!(out.result, SpfResult::Temperror);
    assert_eq!(dns_error(&out).0, "loop1.example.com");
    assert_eq!(server.lookups(), 3);
}

#[tokio::test]
async fn include_loop_is_permerror_after_ten_terms() {
    let server = TestDnsServer::start(
        r#"
        a.example.com.  TXT "v=spf1 include:b.example.com -all"
        b.example.com.  TXT "v=spf1 include:a.example.com -all"
        "#,
    )
    .await;
    let out = check(&server, "192.0.2.1", "x@a.example.com").await;
    assert_eq!(out.result, SpfResult::Permerror);
    assert_eq!(
        out.error(),
        Some(&SpfError::TooManyDnsLookups { limit: 10 })
    );
    assert_eq!(out.dns_lookups, 11);
    // The first record and ten includes are evaluated, but each name is queried once per
    // evaluation: the loop costs two queries, not eleven.
    assert_eq!(server.lookup_count("a.example.com", QueryType::TXT), 1);
    assert_eq!(server.lookup_count("b.example.com", QueryType::TXT), 1);
    assert_eq!(server.lookups(), 2);
}

#[tokio::test]
async fn redirect_loop_is_permerror_after_ten_terms() {
    let server = TestDnsServer::start(
        r#"
        a.example.com.  TXT "v=spf1 redirect=b.example.com"
        b.example.com.  TXT "v=spf1 redirect=a.example.com"
        "#,
    )
    .await;
    let out = check(&server, "192.0.2.1", "x@a.example.com").await;
    assert_eq!(out.result, SpfResult::Permerror);
    assert_eq!(
        out.error(),
        Some(&SpfError::TooManyDnsLookups { limit: 10 })
    );
    assert_eq!(out.dns_lookups, 11);
    assert_eq!(
        server.lookups(),
        2,
        "each name is queried once per evaluation"
    );
}

/// A chain of `redirect=`s: r0 -> r1 -> ... Ten redirects are allowed; the eleventh is a permerror.
#[tokio::test]
async fn redirect_chain_past_the_limit_is_permerror() {
    let mut zone = String::new();
    for i in 0..11 {
        let _ = writeln!(
            zone,
            "r{i}.example.com. TXT \"v=spf1 redirect=r{}.example.com\"",
            i + 1
        );
    }
    zone.push_str("r11.example.com. TXT \"v=spf1 +all\"\n");
    let server = TestDnsServer::start(&zone).await;

    // From r1: ten redirects reach r11.
    let out = check(&server, "192.0.2.1", "x@r1.example.com").await;
    assert_eq!(out.result, SpfResult::Pass, "{out:?}");
    assert_eq!(out.dns_lookups, 10);
    assert_eq!(server.lookups(), 11);

    // From r0: the eleventh redirect is refused, r11 is never asked.
    let out = check(&server, "192.0.2.1", "x@r0.example.com").await;
    assert_eq!(out.result, SpfResult::Permerror);
    assert_eq!(
        out.error(),
        Some(&SpfError::TooManyDnsLookups { limit: 10 })
    );
    assert_eq!(server.lookup_count("r11.example.com", QueryType::TXT), 1);
    assert_eq!(server.lookups(), 11 + 11);
}

// ------------------------------------------------------------------------------------------------
// Fan-out: MX, PTR, void lookups, long names

#[tokio::test]
async fn mx_with_fifty_hosts_is_permerror_without_address_queries() {
    let mut zone = String::from("example.com. TXT \"v=spf1 mx -all\"\n");
    for i in 0..50 {
        let _ = writeln!(zone, "example.com. MX {i} mx{i}.example.com.");
        let _ = writeln!(zone, "mx{i}.example.com. A 192.0.2.{}", i + 1);
    }
    let server = TestDnsServer::start(&zone).await;
    let out = check(&server, "192.0.2.1", "a@example.com").await;
    assert_eq!(out.result, SpfResult::Permerror);
    assert!(matches!(
        out.error(),
        Some(SpfError::TooManyMxNames { limit: 10, .. })
    ));
    assert_eq!(server.lookup_count("example.com", QueryType::TXT), 1);
    assert_eq!(server.lookup_count("example.com", QueryType::MX), 1);
    let log = server.queries();
    assert!(
        log.iter()
            .all(|q| q.qtype != QueryType::A && q.qtype != QueryType::AAAA),
        "{log:?}"
    );
    assert_eq!(server.lookups(), 2);
}

#[tokio::test]
async fn ptr_with_fifty_names_checks_ten() {
    let mut zone = String::from("example.com. TXT \"v=spf1 ptr -all\"\n");
    for i in 0..50 {
        let _ = writeln!(zone, "192.0.2.1 PTR host{i}.example.com.");
        let _ = writeln!(zone, "host{i}.example.com. A 192.0.2.1");
    }
    let server = TestDnsServer::start(&zone).await;
    let out = check(&server, "192.0.2.1", "a@example.com").await;
    assert_eq!(out.result, SpfResult::Pass, "{out:?}");
    assert_eq!(out.dns_lookups, 1);
    // Ten address lookups, each of a different PTR name (a UDP re-send would not count).
    let mut a_names: Vec<String> = server
        .queries()
        .into_iter()
        .filter(|q| q.qtype == QueryType::A)
        .map(|q| q.name)
        .collect();
    a_names.dedup();
    assert_eq!(a_names.len(), 10, "{a_names:?}");
    assert!(
        a_names
            .iter()
            .all(|n| n.starts_with("host") && n.ends_with(".example.com"))
    );
    let a_lookups: usize = a_names
        .iter()
        .map(|n| server.lookup_count(n, QueryType::A))
        .sum();
    assert_eq!(a_lookups, 10);
    assert_eq!(
        server.lookup_count("1.2.0.192.in-addr.arpa", QueryType::PTR),
        1
    );
    assert_eq!(server.lookups(), 12);
}

/// `a` names with only A records, for an IPv6 client: each AAAA lookup is void (NODATA); the third
/// is over the limit of two (RFC 7208 §4.6.4).
#[tokio::test]
async fn a_without_aaaa_for_ipv6_client_hits_the_void_limit() {
    let server = TestDnsServer::start(
        r#"
        example.com.     TXT "v=spf1 a:h1.example.com a:h2.example.com a:h3.example.com a:h4.example.com -all"
        h1.example.com.  A 192.0.2.1
        h2.example.com.  A 192.0.2.2
        h3.example.com.  A 192.0.2.3
        h4.example.com.  A 192.0.2.4
        "#,
    )
    .await;
    // One lookup per round trip: the fourth host is never asked.
    let mut one_by_one = Config::default();
    one_by_one.prefetch = false;
    let out = check_with(
        &server,
        server.resolver(),
        one_by_one,
        "2001:db8::1",
        "a@example.com",
    )
    .await;
    assert_eq!(out.result, SpfResult::Permerror);
    assert_eq!(
        out.error(),
        Some(&SpfError::TooManyVoidLookups { limit: 2 })
    );
    assert_eq!(out.void_lookups, 3);
    assert_eq!(out.dns_lookups, 3);
    for h in ["h1", "h2", "h3"] {
        assert_eq!(
            server.lookup_count(&format!("{h}.example.com"), QueryType::AAAA),
            1
        );
    }
    assert_eq!(server.lookup_count("h4.example.com", QueryType::AAAA), 0);
    assert_eq!(server.query_count("h1.example.com", QueryType::A), 0);
    assert_eq!(server.lookups(), 4);

    // Prefetching (the default): the four hosts are asked at once, the same result.
    let out = check(&server, "2001:db8::1", "a@example.com").await;
    assert_eq!(out.result, SpfResult::Permerror);
    assert_eq!(
        out.error(),
        Some(&SpfError::TooManyVoidLookups { limit: 2 })
    );
    assert_eq!((out.void_lookups, out.dns_lookups), (3, 3));
    assert_eq!(server.lookup_count("h4.example.com", QueryType::AAAA), 1);
    assert_eq!(server.query_count("h1.example.com", QueryType::A), 0);
    assert_eq!(server.lookups(), 4 + 5);
}

/// The same for `mx` hosts: by default an MX host without addresses of the client's family is not a
/// void lookup (`Config::count_mx_address_voids`), so IPv4-only MX hosts give fail, not permerror.
#[tokio::test]
async fn mx_without_aaaa_for_ipv6_client() {
    let server = TestDnsServer::start(
        r#"
        example.com.      TXT "v=spf1 mx -all"
        example.com.      MX 10 mx1.example.com.
        example.com.      MX 20 mx2.example.com.
        example.com.      MX 30 mx3.example.com.
        mx1.example.com.  A 192.0.2.1
        mx2.example.com.  A 192.0.2.2
        mx3.example.com.  A 192.0.2.3
        "#,
    )
    .await;
    let out = check(&server, "2001:db8::1", "a@example.com").await;
    assert_eq!(out.result, SpfResult::Fail, "{out:?}");
    assert_eq!(out.void_lookups, 0);
    assert_eq!(server.lookups(), 5);

    let mut config = Config::default();
    config.count_mx_address_voids = true;
    let out = check_with(
        &server,
        server.resolver(),
        config,
        "2001:db8::1",
        "a@example.com",
    )
    .await;
    assert_eq!(out.result, SpfResult::Permerror);
    assert_eq!(out.void_lookups, 3);
    for i in 1..=3 {
        assert_eq!(
            server.lookup_count(&format!("mx{i}.example.com"), QueryType::AAAA),
            2
        );
    }
}

/// Removes leading labels until `name` is at most 253 bytes (RFC 7208 §7.3).
fn truncate_left(name: &str) -> &str {
    let mut rest = name;
    while rest.len() > 253 {
        rest = rest.split_once('.').map_or("", |(_, r)| r);
    }
    rest
}

/// A macro that expands to a name of more than 253 bytes: the name sent is cut from the left, label
/// by label.
#[tokio::test]
async fn long_macro_expansion_is_truncated_to_253() {
    // A local part of five 11-byte labels: 59 bytes; five copies make over 300.
    let local = ["abcdefghijk"; 5].join(".");
    let full = format!("{local}.{local}.{local}.{local}.{local}._spf.example.com");
    assert!(full.len() > 300);
    let expected = truncate_left(&full);
    assert!(expected.len() <= 253 && expected.len() > 240, "{expected}");
    let server = TestDnsServer::start(&format!(
        "example.com. TXT \"v=spf1 exists:%{{l}}.%{{l}}.%{{l}}.%{{l}}.%{{l}}._spf.example.com -all\"\n\
         {expected}. A 127.0.0.2\n"
    ))
    .await;
    let out = check(&server, "192.0.2.1", &format!("{local}@example.com")).await;
    assert_eq!(out.result, SpfResult::Pass, "{out:?}");
    let mut sent: Vec<String> = server
        .queries()
        .into_iter()
        .filter(|q| q.qtype == QueryType::A)
        .map(|q| q.name)
        .collect();
    sent.dedup();
    assert_eq!(sent, vec![expected.to_string()]);
    assert!(sent[0].len() <= 253);
    assert_eq!(server.lookups(), 2);
}

// ------------------------------------------------------------------------------------------------
// The overall time limit

/// PTR names whose A lookups are dropped: RFC 7208 §5.5 skips names whose lookups fail, so without
/// an overall limit the evaluation waits out every one (5 x 300 ms) and ends in fail. With
/// `Config::timeout` at 500 ms it ends at the limit with temperror.
#[tokio::test]
async fn overall_timeout_ends_slow_evaluation_with_temperror() {
    let mut zone = String::from("example.com. TXT \"v=spf1 ptr -all\"\n");
    for i in 0..5 {
        let _ = writeln!(zone, "192.0.2.1 PTR slow{i}.example.com.");
        let _ = writeln!(zone, "slow{i}.example.com. TIMEOUT A");
    }
    let server = TestDnsServer::start(&zone).await;
    let resolver = server.resolver_with_timeout(Duration::from_millis(300));
    let a_queries = |server: &TestDnsServer| {
        server
            .queries()
            .iter()
            .filter(|q| q.qtype == QueryType::A)
            .count()
    };

    // One lookup at a time (prefetching would send the five address lookups at once).
    let mut config = Config::default();
    config.prefetch = false;
    config.timeout = Some(Duration::from_millis(500));
    let started = Instant::now();
    let out = check_with(&server, resolver, config, "192.0.2.1", "a@example.com").await;
    let elapsed = started.elapsed();
    assert_eq!(out.result, SpfResult::Temperror, "{out:?}");
    assert_eq!(out.error(), Some(&SpfError::Timeout));
    assert!(elapsed >= Duration::from_millis(500), "{elapsed:?}");
    // A third address lookup could start only after 600 ms.
    let cut = a_queries(&server);
    assert!((1..=2).contains(&cut), "{cut}");

    let mut config = Config::default();
    config.prefetch = false;
    config.timeout = None;
    let before = server.total_queries();
    // A resolver of its own: the first one keeps the PTR answer in its answer cache.
    let resolver = server.resolver_with_timeout(Duration::from_millis(300));
    let out = check_with(&server, resolver, config, "192.0.2.1", "a@example.com").await;
    assert_eq!(out.result, SpfResult::Fail, "{out:?}");
    assert!(matches!(out.cause, Cause::Match { .. }));
    server.wait_for_queries(before + 2 + 5).await;
    assert_eq!(a_queries(&server) - cut, 5);
}

// ------------------------------------------------------------------------------------------------
// A shared record cache that changes during an evaluation

/// The record of `top.example` in version `v`: ten `mx:` names, each with ten MX hosts (the
/// evaluation looks up every host: none is the client).
fn top_record(v: u32) -> String {
    let terms: Vec<String> = (0..10).map(|i| format!("mx:m{i}.v{v}.example")).collect();
    format!("v=spf1 {} -all", terms.join(" "))
}

/// The server's resolver, and a second verifier sharing the record cache: while the MX lookup of the
/// last `mx:` name of version 0 is in flight, the cached record of `top.example` expires and the
/// other verifier fetches it again, in version 1 (as when its TTL runs out mid-evaluation and
/// another evaluation refreshes it).
struct Refreshing {
    inner: HickoryResolver,
    cache: Arc<RecordCache>,
    other: Verifier<ZoneResolver>,
    refreshed: AtomicBool,
}

#[async_trait]
impl Resolver for Refreshing {
    async fn lookup_txt(&self, name: &str) -> LookupResult<Vec<TxtRecord>> {
        self.inner.lookup_txt(name).await
    }
    async fn lookup_txt_ttl(&self, name: &str) -> TxtAnswer {
        self.inner.lookup_txt_ttl(name).await
    }
    async fn lookup_a(&self, name: &str) -> LookupResult<Vec<Ipv4Addr>> {
        self.inner.lookup_a(name).await
    }
    async fn lookup_aaaa(&self, name: &str) -> LookupResult<Vec<Ipv6Addr>> {
        self.inner.lookup_aaaa(name).await
    }
    async fn lookup_mx(&self, name: &str) -> LookupResult<Vec<Mx>> {
        if name == "m9.v0.example" && !self.refreshed.swap(true, Ordering::Relaxed) {
            self.cache.clear();
            let ip = "192.0.2.1".parse().unwrap();
            self.other
                .check_host(ip, "top.example", "a", "h.example", Identity::MailFrom)
                .await;
        }
        self.inner.lookup_mx(name).await
    }
    async fn lookup_ptr(&self, ip: IpAddr) -> LookupResult<Vec<String>> {
        self.inner.lookup_ptr(ip).await
    }
}

/// One evaluation follows one version of a record, whatever the shared cache holds meanwhile: the
/// lookups at the server stay within the bound (here: the TXT record, 10 MX and 100 A lookups of
/// version 0, none of version 1).
#[tokio::test]
async fn a_record_replaced_in_the_cache_mid_evaluation_is_not_followed() {
    let mut zone = format!("top.example. TXT \"{}\"\n", top_record(0));
    for v in 0..2 {
        for i in 0..10 {
            for h in 0..10 {
                let host = format!("h{h}.m{i}.v{v}.example");
                let _ = writeln!(zone, "m{i}.v{v}.example. MX 10 {host}.");
                let _ = writeln!(zone, "{host}. A 198.51.100.{}", h + 1);
            }
        }
    }
    let server = TestDnsServer::start(&zone).await;
    let cache = Arc::new(RecordCache::new(100));
    let newer: ZoneResolver = format!("top.example TXT \"{}\"", top_record(1))
        .parse()
        .unwrap();
    let resolver = Refreshing {
        inner: server.resolver(),
        cache: cache.clone(),
        other: Verifier::new(newer).with_cache(cache.clone()),
        refreshed: AtomicBool::new(false),
    };
    let config = Config::default();
    let spf = Verifier::with_config(resolver, config.clone()).with_cache(cache.clone());
    let out = spf
        .check_mail_from("192.0.2.1".parse().unwrap(), "h.example", "a@top.example")
        .await;
    assert!(spf.resolver().refreshed.load(Ordering::Relaxed));
    assert_eq!(out.result, SpfResult::Fail, "{out:?}");
    assert_eq!(out.dns_lookups, 10);
    let lookups = server.lookups();
    let bound = rfc_bound(&out, &config);
    assert_eq!(bound, 123);
    assert!(lookups <= bound, "{lookups} lookups > {bound}");
    assert_eq!(lookups, 1 + 10 + 100);
    assert_eq!(server.lookup_count("m0.v1.example", QueryType::MX), 0);
    // The cache did change: the next evaluation follows version 1.
    let again = spf
        .check_mail_from("192.0.2.1".parse().unwrap(), "h.example", "a@top.example")
        .await;
    assert_eq!(again.result, SpfResult::Fail);
    assert_eq!(server.lookup_count("m0.v1.example", QueryType::MX), 1);
}
