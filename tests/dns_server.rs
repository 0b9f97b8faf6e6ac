//! `HickoryResolver` against a real DNS server on 127.0.0.1 (see `common::dns_server`).
#![cfg(feature = "hickory")]

mod common;

use common::dns_server::{BlackHole, QueryType, TestDnsServer, Transport};
use sender_identity::dns::{HickoryResolver, LookupError, Mx, Resolver};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::{Duration, Instant};

const ZONE: &str = r#"
    example.com.          A      192.0.2.1
    example.com.          A      192.0.2.2
    example.com.          AAAA   2001:db8::1
    example.com.          MX     10 Mail.Example.COM.
    example.com.          MX     20 backup.example.NET
    nullmx.example.com.   MX     0 .
    192.0.2.1             PTR    Mail.Example.com.
    2001:db8::1           PTR    V6host.Example.com.
    multi.example.com.    TXT    "v=spf1 " "ip4:192.0.2.0/24 " "-all"
    multi.example.com.    TXT    "second record"
    binary.example.com.   TXT    "\255\000\128abc" "\"q\""
    alias.example.com.    CNAME  example.com.
    alias2.example.com.   CNAME  Alias.Example.com.
    dangling.example.com. CNAME  nothere.example.com.
    down.example.com.     SERVFAIL
    down.example.com.     A      192.0.2.8
    slow.example.com.     TIMEOUT TXT
    slow.example.com.     A      192.0.2.9
"#;

/// A short timeout for the lookups expected to time out.
const SHORT: Duration = Duration::from_millis(300);

fn sorted<T: Ord>(mut v: Vec<T>) -> Vec<T> {
    v.sort();
    v
}

#[tokio::test]
async fn a_records_and_query_counts() {
    let server = TestDnsServer::start(ZONE).await;
    let resolver = server.resolver();
    assert_eq!(
        sorted(resolver.lookup_a("example.com").await.unwrap()),
        vec![Ipv4Addr::new(192, 0, 2, 1), Ipv4Addr::new(192, 0, 2, 2)]
    );
    // Case and a trailing dot do not matter; the answer is kept in the answer cache.
    assert_eq!(resolver.lookup_a("EXAMPLE.com.").await.unwrap().len(), 2);
    assert_eq!(server.query_count("example.com", QueryType::A), 1);
    // Without the cache, it is a second query.
    let uncached = HickoryResolver::builder()
        .name_server(server.addr())
        .cache_size(0)
        .build()
        .unwrap();
    assert!(uncached.answer_cache().is_none());
    assert_eq!(uncached.lookup_a("EXAMPLE.com.").await.unwrap().len(), 2);
    assert_eq!(server.query_count("example.com", QueryType::A), 2);
    assert_eq!(server.query_count("example.com", QueryType::AAAA), 0);
    assert_eq!(server.total_queries(), 2);
    assert_eq!(server.tcp_queries(), 0);
    let log = server.queries();
    assert_eq!(log[0].name, "example.com");
    assert_eq!(log[0].qtype, QueryType::A);
    assert_eq!(log[0].transport, Transport::Udp);
}

#[tokio::test]
async fn aaaa_records() {
    let server = TestDnsServer::start(ZONE).await;
    assert_eq!(
        server.resolver().lookup_aaaa("example.com").await.unwrap(),
        vec!["2001:db8::1".parse::<Ipv6Addr>().unwrap()]
    );
}

#[tokio::test]
async fn mx_exchanges_are_normalised() {
    let server = TestDnsServer::start(ZONE).await;
    let resolver = server.resolver();
    let mx = resolver.lookup_mx("example.com").await.unwrap();
    assert_eq!(
        sorted(mx.into_iter().map(|m| (m.preference, m.exchange)).collect()),
        vec![
            (10, "mail.example.com".to_string()),
            (20, "backup.example.net".to_string())
        ]
    );
    assert_eq!(
        resolver.lookup_mx("nullmx.example.com").await.unwrap(),
        vec![Mx {
            preference: 0,
            exchange: String::new()
        }]
    );
}

#[tokio::test]
async fn ptr_v4_and_v6() {
    let server = TestDnsServer::start(ZONE).await;
    let resolver = server.resolver();
    assert_eq!(
        resolver
            .lookup_ptr(IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1)))
            .await
            .unwrap(),
        vec!["mail.example.com".to_string()]
    );
    assert_eq!(
        resolver
            .lookup_ptr("2001:db8::1".parse().unwrap())
            .await
            .unwrap(),
        vec!["v6host.example.com".to_string()]
    );
    assert_eq!(
        server.query_count("1.2.0.192.in-addr.arpa", QueryType::PTR),
        1
    );
    assert_eq!(
        resolver.lookup_ptr("192.0.2.99".parse().unwrap()).await,
        Err(LookupError::NxDomain)
    );
}

#[tokio::test]
async fn nxdomain_and_nodata_are_told_apart() {
    let server = TestDnsServer::start(ZONE).await;
    let resolver = server.resolver();
    assert_eq!(
        resolver.lookup_a("nothere.example.com").await,
        Err(LookupError::NxDomain)
    );
    assert_eq!(
        resolver.lookup_txt("example.com").await,
        Err(LookupError::NoData)
    );
    assert_eq!(
        resolver.lookup_aaaa("multi.example.com").await,
        Err(LookupError::NoData)
    );
    // Every name is queried as given: no search domain is tried first or after.
    assert_eq!(server.total_queries(), 3);
    assert_eq!(server.query_count("nothere.example.com", QueryType::A), 1);
}

#[tokio::test]
async fn txt_strings_stay_separate() {
    let server = TestDnsServer::start(ZONE).await;
    let txt = server
        .resolver()
        .lookup_txt("multi.example.com")
        .await
        .unwrap();
    assert_eq!(txt.len(), 2);
    let spf = txt
        .iter()
        .find(|t| t.starts_with(b"v=spf1"))
        .expect("the SPF record");
    assert_eq!(
        spf.strings(),
        &[
            b"v=spf1 ".to_vec(),
            b"ip4:192.0.2.0/24 ".to_vec(),
            b"-all".to_vec()
        ]
    );
    assert_eq!(spf.joined(), b"v=spf1 ip4:192.0.2.0/24 -all");
    assert!(
        txt.iter()
            .any(|t| t.strings() == [b"second record".to_vec()])
    );
}

#[tokio::test]
async fn txt_bytes_are_kept_exactly() {
    let server = TestDnsServer::start(ZONE).await;
    let txt = server
        .resolver()
        .lookup_txt("binary.example.com")
        .await
        .unwrap();
    assert_eq!(txt.len(), 1);
    assert_eq!(
        txt[0].strings(),
        &[vec![0xff, 0x00, 0x80, b'a', b'b', b'c'], b"\"q\"".to_vec()]
    );
}

#[tokio::test]
async fn large_txt_answer_arrives_over_tcp() {
    let records: Vec<String> = (0..40)
        .map(|i| format!("{i:03}{}", "x".repeat(197)))
        .collect();
    let zone: String = records
        .iter()
        .map(|r| format!("big.example.com. TXT \"{r}\"\n"))
        .collect();
    let server = TestDnsServer::start(&zone).await;
    let txt = server
        .resolver()
        .lookup_txt("big.example.com")
        .await
        .unwrap();
    let mut got: Vec<Vec<u8>> = txt
        .iter()
        .map(|t| {
            assert_eq!(t.strings().len(), 1);
            t.joined()
        })
        .collect();
    got.sort();
    let want: Vec<Vec<u8>> = records.iter().map(|r| r.as_bytes().to_vec()).collect();
    assert_eq!(got.len(), 40);
    assert_eq!(got, want);
    assert!(got.iter().map(Vec::len).sum::<usize>() > 4096);
    // First over UDP (truncated; re-sent only if the answer were slower than ~333 ms), then once
    // over TCP.
    let log = server.queries();
    let (last, first) = log.split_last().unwrap();
    assert_eq!(last.transport, Transport::Tcp, "{log:?}");
    assert!(!first.is_empty(), "{log:?}");
    assert!(
        first.iter().all(|q| q.transport == Transport::Udp),
        "{log:?}"
    );
    assert!(
        log.iter()
            .all(|q| q.name == "big.example.com" && q.qtype == QueryType::TXT)
    );
    assert_eq!(server.tcp_queries(), 1);
}

#[tokio::test]
async fn cnames_are_followed() {
    let server = TestDnsServer::start(ZONE).await;
    let resolver = server.resolver();
    assert_eq!(
        sorted(resolver.lookup_a("alias2.example.com").await.unwrap()),
        vec![Ipv4Addr::new(192, 0, 2, 1), Ipv4Addr::new(192, 0, 2, 2)]
    );
    let mx = resolver.lookup_mx("alias.example.com").await.unwrap();
    assert_eq!(mx.len(), 2);
    assert_eq!(
        resolver.lookup_txt("alias.example.com").await,
        Err(LookupError::NoData)
    );
    assert_eq!(
        resolver.lookup_a("dangling.example.com").await,
        Err(LookupError::NxDomain)
    );
}

#[tokio::test]
async fn servfail_is_a_server_failure() {
    let server = TestDnsServer::start(ZONE).await;
    let resolver = server.resolver();
    match resolver.lookup_txt("down.example.com").await {
        Err(LookupError::ServerFailure(msg)) => assert!(msg.contains("SERVFAIL"), "{msg}"),
        other => panic!("expected a server failure, got {other:?}"),
    }
    // One try: not retried.
    assert_eq!(server.query_count("down.example.com", QueryType::TXT), 1);
    // The name's A record is still served.
    assert_eq!(
        resolver.lookup_a("down.example.com").await.unwrap(),
        vec![Ipv4Addr::new(192, 0, 2, 8)]
    );
}

#[tokio::test]
async fn dropped_query_times_out() {
    let server = TestDnsServer::start(ZONE).await;
    let resolver = server.resolver_with_timeout(SHORT);
    let started = Instant::now();
    assert_eq!(
        resolver.lookup_txt("slow.example.com").await,
        Err(LookupError::Timeout)
    );
    assert!(started.elapsed() < Duration::from_secs(3));
    server.wait_for_queries(1).await;
    assert_eq!(server.query_count("slow.example.com", QueryType::TXT), 1);
    assert_eq!(
        resolver.lookup_a("slow.example.com").await.unwrap(),
        vec![Ipv4Addr::new(192, 0, 2, 9)]
    );
}

#[tokio::test]
async fn silent_server_times_out() {
    let hole = BlackHole::start().await;
    let resolver = HickoryResolver::builder()
        .name_server(hole.addr())
        .timeout(SHORT)
        .attempts(1)
        .build()
        .unwrap();
    let started = Instant::now();
    assert_eq!(
        resolver.lookup_a("example.com").await,
        Err(LookupError::Timeout)
    );
    let elapsed = started.elapsed();
    assert!(elapsed >= SHORT, "{elapsed:?}");
    assert!(elapsed < Duration::from_secs(3), "{elapsed:?}");
    hole.wait_for_datagrams(1).await;
}

#[tokio::test]
async fn attempts_count_tries() {
    let hole = BlackHole::start().await;
    let resolver = HickoryResolver::builder()
        .name_server(hole.addr())
        .timeout(Duration::from_millis(200))
        .attempts(3)
        .build()
        .unwrap();
    assert_eq!(
        resolver.lookup_txt("example.com").await,
        Err(LookupError::Timeout)
    );
    // Three tries of 200 ms (under hickory's 333 ms UDP re-send): three datagrams.
    hole.wait_for_datagrams(3).await;
    assert_eq!(hole.received(), 3);
}

#[tokio::test]
async fn wrapped_hickory_resolver_works() {
    use hickory_resolver::TokioResolver;
    use hickory_resolver::config::{NameServerConfig, ResolverConfig};
    use hickory_resolver::net::runtime::TokioRuntimeProvider;

    let server = TestDnsServer::start(ZONE).await;
    let mut ns = NameServerConfig::udp_and_tcp(server.addr().ip());
    for connection in &mut ns.connections {
        connection.port = server.addr().port();
    }
    let hickory = TokioResolver::builder_with_config(
        ResolverConfig::from_name_servers(vec![ns]),
        TokioRuntimeProvider::default(),
    )
    .build()
    .unwrap();
    let resolver = HickoryResolver::from_resolver(hickory);
    assert_eq!(resolver.lookup_a("example.com").await.unwrap().len(), 2);
    // hickory's default configuration caches: the second lookup is not a query.
    assert_eq!(resolver.lookup_a("example.com").await.unwrap().len(), 2);
    assert_eq!(server.query_count("example.com", QueryType::A), 1);
}

/// The answer cache: answers and negative answers (which carry the server's SOA) are kept, server
/// failures are not, SPF records are left to the record cache, and a warm SPF check answered from
/// both caches sends no query at all.
#[tokio::test]
async fn answer_cache_keeps_answers_and_negative_answers() {
    use sender_identity::dns::AnswerCache;
    use sender_identity::spf::{RecordCache, SpfResult, Verifier};
    use std::sync::Arc;

    let server = TestDnsServer::start(
        r#"
        cached.example.     TXT "v=spf1 a mx:cached.example -all"
        cached.example.     A   192.0.2.10
        cached.example.     MX  10 mx.cached.example.
        mx.cached.example.  A   192.0.2.20
        broken.example.     SERVFAIL A
        "#,
    )
    .await;
    let shared = Arc::new(AnswerCache::new(100));
    let resolver = HickoryResolver::builder()
        .name_server(server.addr())
        .answer_cache(shared.clone())
        .build()
        .unwrap();
    assert_eq!(
        resolver.lookup_a("nowhere.example").await,
        Err(LookupError::NxDomain)
    );
    assert_eq!(
        resolver.lookup_aaaa("cached.example").await,
        Err(LookupError::NoData)
    );
    assert!(resolver.lookup_a("broken.example").await.is_err());
    assert_eq!(
        shared.a("nowhere.example"),
        Some(Err(LookupError::NxDomain))
    );
    assert_eq!(
        shared.aaaa("cached.example"),
        Some(Err(LookupError::NoData))
    );
    assert_eq!(
        shared.a("broken.example"),
        None,
        "a server failure is not kept"
    );
    let broken = server.query_count("broken.example", QueryType::A);
    assert!(resolver.lookup_a("nowhere.example").await.is_err());
    assert!(resolver.lookup_a("broken.example").await.is_err());
    assert_eq!(server.query_count("nowhere.example", QueryType::A), 1);
    assert!(
        server.query_count("broken.example", QueryType::A) > broken,
        "only the failure is asked again"
    );

    let spf = Verifier::new(resolver).with_cache(Arc::new(RecordCache::new(100)));
    let client = "192.0.2.20".parse().unwrap();
    let out = spf
        .check_mail_from(client, "h.example", "a@cached.example")
        .await;
    assert_eq!(out.result, SpfResult::Pass);
    assert_eq!(
        shared.txt("cached.example"),
        None,
        "SPF records go to the record cache"
    );
    let before = server.total_queries();
    for _ in 0..3 {
        let again = spf
            .check_mail_from(client, "h.example", "a@cached.example")
            .await;
        assert_eq!(again, out);
    }
    assert_eq!(server.total_queries(), before, "warm checks send nothing");
}
