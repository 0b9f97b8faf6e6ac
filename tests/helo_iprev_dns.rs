//! The HELO checks (`helo::exists`, `helo::confirm`) and the iprev checks (`iprev::check`,
//! `iprev::check_reverse`) end to end: the production `HickoryResolver` against a real
//! authoritative DNS server on 127.0.0.1 (see `common::dns_server`), asserting every verdict, the
//! names involved, and the queries the server actually received.
//!
//! Each case starts its own server, so its query log holds that case's queries only. Resolvers
//! make one try per query; lookups that are expected to get no answer use a 300 ms timeout.
#![cfg(feature = "hickory")]

mod common;

use common::dns_server::{BlackHole, QueryType, TestDnsServer};
use sender_identity::dns::{HickoryResolver, LookupError, RecordType};
use sender_identity::helo::{self, ExistsOptions, HeloName, HeloOutcome, HeloResult};
use sender_identity::iprev::{
    self, DEFAULT_MAX_NAMES, ForwardFamilies, IprevOptions, IprevOutput, IprevResult, NameStatus,
    ReverseOutput,
};
use std::fmt::Write;
use std::net::IpAddr;
use std::time::{Duration, Instant};

const ZONE: &str = r#"
    # ---- HELO names ----
    a.example.com.          A      192.0.2.1
    v6.example.com.         AAAA   2001:db8::1
    mx.example.com.         MX     10 mail.example.net
    nullmx.example.com.     MX     0 .
    txt.example.com.        TXT    "only text"
    alias.example.com.      CNAME  a.example.com
    mxalias.example.com.    CNAME  mx.example.com
    both.example.com.       A      192.0.2.7
    both.example.com.       A      192.0.2.1
    both.example.com.       AAAA   2001:db8::7
    # every query of these names is dropped / answered SERVFAIL
    slow.example.com.       TIMEOUT
    broken.example.com.     SERVFAIL
    # A dropped; MX present (slowa) or AAAA and MX void (slowa6)
    slowa.example.com.      TIMEOUT A
    slowa.example.com.      MX     10 mail.example.net
    slowa6.example.com.     TIMEOUT A

    # ---- reverse names ----
    # pass, IPv4 and IPv6
    192.0.2.1               PTR    mail.example.com
    2001:db8::1             PTR    mail.example.com
    mail.example.com.       A      192.0.2.1
    mail.example.com.       AAAA   2001:db8::1
    # the PTR name resolves elsewhere / does not exist / has no A
    192.0.2.2               PTR    Other.Example.com.
    other.example.com.      A      192.0.2.200
    192.0.2.3               PTR    gone.example.com
    192.0.2.4               PTR    v6only.example.com
    v6only.example.com.     AAAA   2001:db8::4
    # forward query dropped
    192.0.2.5               PTR    slow.example.com
    # PTR query dropped / SERVFAIL
    6.2.0.192.in-addr.arpa. TIMEOUT PTR
    7.2.0.192.in-addr.arpa. SERVFAIL PTR
    # three names: not confirmed, confirmed, forward query dropped
    192.0.2.8               PTR    other.example.com
    192.0.2.8               PTR    good8.example.com
    192.0.2.8               PTR    slow.example.com
    good8.example.com.      A      192.0.2.8
    # two names: not confirmed, forward SERVFAIL
    192.0.2.9               PTR    other.example.com
    192.0.2.9               PTR    broken.example.com
    # numeric and single-label names only
    192.0.2.10              PTR    192.0.2.10
    192.0.2.10              PTR    mailserver
    # CNAME'd forward name
    192.0.2.11              PTR    fwd-alias.example.com
    fwd-alias.example.com.  CNAME  real.example.net
    real.example.net.       A      192.0.2.11
    # only an IPv4-mapped AAAA leads back
    192.0.2.12              PTR    mapped.example.com
    mapped.example.com.     AAAA   ::ffff:192.0.2.12
    # the reverse name exists without PTR records: NODATA
    14.2.0.192.in-addr.arpa. TXT   "no ptr here"
    # forward SERVFAIL, one name
    192.0.2.17              PTR    broken.example.com
    # RFC 2317 classless delegation: the reverse name is a CNAME
    18.2.0.192.in-addr.arpa.      CNAME  18.0-25.2.0.192.in-addr.arpa
    18.0-25.2.0.192.in-addr.arpa. PTR    good18.example.com
    good18.example.com.     A      192.0.2.18
    # IPv6 clients
    2001:db8::25            PTR    v6host.example.com
    v6host.example.com.     AAAA   2001:db8::25
    2001:db8::26            PTR    v6miss.example.com
    v6miss.example.com.     AAAA   2001:db8::99
    v6miss.example.com.     A      192.0.2.26
"#;

/// The resolver timeout for cases where a query gets no answer.
const SHORT: Duration = Duration::from_millis(300);
/// The resolver timeout for cases where every query is answered.
const NORMAL: Duration = Duration::from_secs(2);
/// How long to wait for the server to have seen a query before failing the test.
const WAIT: Duration = Duration::from_secs(5);

/// A query as the server saw it.
type Query = (String, QueryType);

fn q(name: &str, qtype: QueryType) -> Query {
    (name.to_string(), qtype)
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

/// A test DNS server serving a zone, and a production resolver querying only it.
struct Dns {
    server: TestDnsServer,
    resolver: HickoryResolver,
}

impl Dns {
    async fn start(timeout: Duration) -> Self {
        Self::with_zone(ZONE, timeout).await
    }

    async fn with_zone(zone: &str, timeout: Duration) -> Self {
        let server = TestDnsServer::start(zone).await;
        let resolver = server.resolver_with_timeout(timeout);
        Dns { server, resolver }
    }

    /// Every query received, once at least `at_least` have arrived (a dropped query is counted
    /// when it arrives, which the resolver's timeout does not order).
    async fn queries(&self, at_least: usize) -> Vec<Query> {
        tokio::time::timeout(WAIT, self.server.wait_for_queries(at_least))
            .await
            .unwrap_or_else(|_| {
                panic!(
                    "expected at least {at_least} queries, got {:?}",
                    self.server.queries()
                )
            });
        self.server
            .queries()
            .into_iter()
            .map(|l| (l.name, l.qtype))
            .collect()
    }
}

/// The (name, type) of every lookup a check recorded, in the server's terms.
fn recorded(lookups: &[sender_identity::lookup::Lookup]) -> Vec<Query> {
    lookups
        .iter()
        .map(|l| {
            let t = match l.rtype {
                RecordType::A => QueryType::A,
                RecordType::Aaaa => QueryType::AAAA,
                RecordType::Mx => QueryType::MX,
                RecordType::Ptr => QueryType::PTR,
                RecordType::Txt => QueryType::TXT,
                other => panic!("unexpected lookup type {other}"),
            };
            (l.name.clone(), t)
        })
        .collect()
}

fn outcomes(lookups: &[sender_identity::lookup::Lookup]) -> Vec<Result<usize, LookupError>> {
    lookups.iter().map(|l| l.outcome.clone()).collect()
}

fn is_servfail(outcome: &Result<usize, LookupError>) -> bool {
    matches!(outcome, Err(LookupError::ServerFailure(m)) if m.contains("SERVFAIL"))
}

// ------------------------------------------------------------------------------------------------
// HELO: exists

/// Runs `helo::exists` for `arg` against a fresh server; returns the outcome and the queries the
/// server received (asserted to be the lookups the outcome recorded, at most 3).
async fn exists_case(arg: &str, timeout: Duration) -> (HeloOutcome, Vec<Query>) {
    let dns = Dns::start(timeout).await;
    let outcome = helo::exists(
        &dns.resolver,
        &HeloName::parse(arg),
        &ExistsOptions::default(),
    )
    .await;
    let seen = dns.queries(outcome.lookups.len()).await;
    assert!(seen.len() <= 3, "{arg:?}: {seen:?}");
    assert_eq!(seen, recorded(&outcome.lookups), "{arg:?}");
    (outcome, seen)
}

/// Postfix keeps a HELO's trailing dot, `valid_hostname()` refuses it, and the answer is "Host
/// not found" without a query: the Postfix preset sends nothing to the server.
#[tokio::test]
async fn helo_exists_postfix_preset_sends_no_query_for_a_trailing_dot() {
    let dns = Dns::start(NORMAL).await;
    let dotted = HeloName::parse("a.example.com.");
    let o = helo::exists(&dns.resolver, &dotted, &ExistsOptions::postfix()).await;
    assert_eq!(o.result, HeloResult::PermError);
    assert!(o.lookups.is_empty());
    // The default looks it up: the server's first and only query is that one.
    let o = helo::exists(&dns.resolver, &dotted, &ExistsOptions::default()).await;
    assert_eq!(o.result, HeloResult::Pass);
    assert_eq!(dns.queries(1).await, [q("a.example.com", QueryType::A)]);
}

#[tokio::test]
async fn helo_exists_passes_via_a_aaaa_or_mx() {
    use QueryType::{A, AAAA, MX};

    let (o, seen) = exists_case("a.example.com", NORMAL).await;
    assert_eq!(o.result, HeloResult::Pass);
    assert_eq!(o.addresses, [ip("192.0.2.1")]);
    assert_eq!(seen, [q("a.example.com", A)], "stops at the first success");

    // Case and a trailing dot are normalised before the query.
    let (o, seen) = exists_case("V6.Example.COM.", NORMAL).await;
    assert_eq!(o.result, HeloResult::Pass, "AAAA only");
    assert_eq!(o.addresses, [ip("2001:db8::1")]);
    assert_eq!(seen, [q("v6.example.com", A), q("v6.example.com", AAAA)]);
    assert_eq!(outcomes(&o.lookups), [Err(LookupError::NoData), Ok(1)]);

    let (o, seen) = exists_case("mx.example.com", NORMAL).await;
    assert_eq!(o.result, HeloResult::Pass, "MX only");
    assert!(o.addresses.is_empty(), "{:?}", o.addresses);
    assert_eq!(
        seen,
        [
            q("mx.example.com", A),
            q("mx.example.com", AAAA),
            q("mx.example.com", MX)
        ]
    );
    assert_eq!(
        outcomes(&o.lookups),
        [Err(LookupError::NoData), Err(LookupError::NoData), Ok(1)]
    );

    let (o, seen) = exists_case("nullmx.example.com", NORMAL).await;
    assert_eq!(o.result, HeloResult::Pass, "a null MX counts as existing");
    assert_eq!(seen.len(), 3);
    assert_eq!(seen[2], q("nullmx.example.com", MX));

    let (o, seen) = exists_case("alias.example.com", NORMAL).await;
    assert_eq!(o.result, HeloResult::Pass, "CNAME followed");
    assert_eq!(o.addresses, [ip("192.0.2.1")]);
    assert_eq!(
        seen,
        [q("alias.example.com", A)],
        "the server sends the chain"
    );
}

#[tokio::test]
async fn helo_exists_fails_on_nxdomain_and_nodata() {
    let (o, seen) = exists_case("nowhere.example.com", NORMAL).await;
    assert_eq!(o.result, HeloResult::Fail);
    assert_eq!(seen.len(), 3, "A, AAAA and MX are all asked");
    assert_eq!(outcomes(&o.lookups), vec![Err(LookupError::NxDomain); 3]);
    assert!(o.addresses.is_empty());

    let (o, seen) = exists_case("txt.example.com", NORMAL).await;
    assert_eq!(o.result, HeloResult::Fail, "NODATA for A, AAAA and MX");
    assert_eq!(seen.len(), 3);
    assert_eq!(outcomes(&o.lookups), vec![Err(LookupError::NoData); 3]);
}

#[tokio::test]
async fn helo_exists_temperror_on_dropped_queries_and_servfail() {
    let started = Instant::now();
    let (o, seen) = exists_case("slow.example.com", SHORT).await;
    assert_eq!(o.result, HeloResult::TempError, "every query dropped");
    assert_eq!(seen.len(), 3, "a timeout does not stop the other lookups");
    assert_eq!(outcomes(&o.lookups), vec![Err(LookupError::Timeout); 3]);
    assert!(started.elapsed() < Duration::from_secs(3), "short timeouts");

    let (o, seen) = exists_case("slowa6.example.com", SHORT).await;
    assert_eq!(
        o.result,
        HeloResult::TempError,
        "A dropped, AAAA and MX void"
    );
    assert_eq!(seen.len(), 3);
    assert_eq!(
        outcomes(&o.lookups),
        [
            Err(LookupError::Timeout),
            Err(LookupError::NoData),
            Err(LookupError::NoData)
        ]
    );

    let (o, seen) = exists_case("slowa.example.com", SHORT).await;
    assert_eq!(o.result, HeloResult::Pass, "an MX after a dropped A query");
    assert_eq!(seen.len(), 3);

    let (o, seen) = exists_case("broken.example.com", NORMAL).await;
    assert_eq!(o.result, HeloResult::TempError, "SERVFAIL");
    assert_eq!(seen.len(), 3);
    assert!(o.lookups.iter().all(|l| is_servfail(&l.outcome)), "{o:?}");
}

#[tokio::test]
async fn helo_exists_none_and_permerror_send_no_query() {
    for (arg, want) in [
        ("mailserver", HeloResult::None),
        ("localhost", HeloResult::None),
        ("mail.localhost", HeloResult::None),
        ("[192.0.2.1]", HeloResult::None),
        ("[IPv6:2001:db8::1]", HeloResult::None),
        ("bad name.example", HeloResult::PermError),
        ("-a.example.com", HeloResult::PermError),
        ("a..example.com", HeloResult::PermError),
        ("mail.123", HeloResult::PermError),
        ("192.0.2.1", HeloResult::PermError),
        ("müller.example", HeloResult::PermError),
        ("[192.0.2.1", HeloResult::PermError),
        ("", HeloResult::PermError),
    ] {
        let dns = Dns::start(NORMAL).await;
        let o = helo::exists(
            &dns.resolver,
            &HeloName::parse(arg),
            &ExistsOptions::default(),
        )
        .await;
        assert_eq!(o.result, want, "{arg:?}");
        assert!(o.lookups.is_empty(), "{arg:?}: {:?}", o.lookups);
        assert!(o.addresses.is_empty(), "{arg:?}");
        assert_eq!(dns.server.total_queries(), 0, "{arg:?}");
    }
}

// ------------------------------------------------------------------------------------------------
// HELO: confirm

async fn confirm_case(arg: &str, client: &str, timeout: Duration) -> (HeloOutcome, Vec<Query>) {
    let dns = Dns::start(timeout).await;
    let outcome = helo::confirm(&dns.resolver, &HeloName::parse(arg), ip(client)).await;
    let seen = dns.queries(outcome.lookups.len()).await;
    assert!(seen.len() <= 1, "{arg:?} {client}: {seen:?}");
    assert_eq!(seen, recorded(&outcome.lookups), "{arg:?} {client}");
    (outcome, seen)
}

#[tokio::test]
async fn helo_confirm_passes_for_the_client_address() {
    use QueryType::{A, AAAA};

    let (o, seen) = confirm_case("a.example.com", "192.0.2.1", NORMAL).await;
    assert_eq!(o.result, HeloResult::Pass);
    assert_eq!(o.addresses, [ip("192.0.2.1")]);
    assert_eq!(seen, [q("a.example.com", A)], "IPv4 client: A only");

    let (o, _) = confirm_case("both.example.com", "192.0.2.1", NORMAL).await;
    assert_eq!(o.result, HeloResult::Pass, "one of two A records");
    assert_eq!(o.addresses.len(), 2);

    let (o, seen) = confirm_case("v6.example.com", "2001:db8::1", NORMAL).await;
    assert_eq!(o.result, HeloResult::Pass);
    assert_eq!(seen, [q("v6.example.com", AAAA)], "IPv6 client: AAAA only");

    let (o, seen) = confirm_case("both.example.com", "2001:DB8:0::7", NORMAL).await;
    assert_eq!(o.result, HeloResult::Pass);
    assert_eq!(seen, [q("both.example.com", AAAA)]);

    let (o, seen) = confirm_case("alias.example.com", "192.0.2.1", NORMAL).await;
    assert_eq!(o.result, HeloResult::Pass, "via a CNAME");
    assert_eq!(o.addresses, [ip("192.0.2.1")]);
    assert_eq!(seen, [q("alias.example.com", A)]);

    // A dual-stack listener's view of an IPv4 client: checked as IPv4, against the A record.
    let (o, seen) = confirm_case("a.example.com", "::ffff:192.0.2.1", NORMAL).await;
    assert_eq!(o.result, HeloResult::Pass);
    assert_eq!(seen, [q("a.example.com", A)]);
}

#[tokio::test]
async fn helo_confirm_fails_when_the_name_leads_elsewhere() {
    let (o, _) = confirm_case("both.example.com", "192.0.2.99", NORMAL).await;
    assert_eq!(o.result, HeloResult::Fail, "resolves, not to the client");
    assert_eq!(o.addresses, [ip("192.0.2.7"), ip("192.0.2.1")]);

    let (o, _) = confirm_case("a.example.com", "192.0.2.11", NORMAL).await;
    assert_eq!(
        o.result,
        HeloResult::Fail,
        "addresses compared, not prefixes"
    );

    let (o, _) = confirm_case("nowhere.example.com", "192.0.2.1", NORMAL).await;
    assert_eq!(o.result, HeloResult::Fail, "NXDOMAIN");
    assert_eq!(outcomes(&o.lookups), [Err(LookupError::NxDomain)]);

    let (o, _) = confirm_case("v6.example.com", "192.0.2.1", NORMAL).await;
    assert_eq!(o.result, HeloResult::Fail, "NODATA in the client's family");
    assert_eq!(outcomes(&o.lookups), [Err(LookupError::NoData)]);

    let (o, _) = confirm_case("a.example.com", "2001:db8::1", NORMAL).await;
    assert_eq!(o.result, HeloResult::Fail, "IPv6 client, no AAAA");
}

#[tokio::test]
async fn helo_confirm_temperror_when_no_usable_answer() {
    // A server that never answers.
    let hole = BlackHole::start().await;
    let resolver = silent_resolver(&hole);
    let o = helo::confirm(
        &resolver,
        &HeloName::parse("a.example.com"),
        ip("192.0.2.1"),
    )
    .await;
    assert_eq!(o.result, HeloResult::TempError);
    assert_eq!(outcomes(&o.lookups), [Err(LookupError::Timeout)]);
    tokio::time::timeout(WAIT, hole.wait_for_datagrams(1))
        .await
        .unwrap();
    assert_eq!(hole.received(), 1, "one query, one try");

    // One dropped query, one SERVFAIL.
    let (o, _) = confirm_case("slow.example.com", "192.0.2.1", SHORT).await;
    assert_eq!(
        o.result,
        HeloResult::TempError,
        "a timeout is never a failure"
    );
    let (o, _) = confirm_case("broken.example.com", "2001:db8::1", NORMAL).await;
    assert_eq!(o.result, HeloResult::TempError);
    assert!(is_servfail(&o.lookups[0].outcome), "{o:?}");
}

#[tokio::test]
async fn helo_confirm_literals_compare_exactly_without_query() {
    let dns = Dns::start(NORMAL).await;
    for (arg, client, want) in [
        ("[192.0.2.1]", "192.0.2.1", HeloResult::Pass),
        ("[192.0.2.1]", "::ffff:192.0.2.1", HeloResult::Pass),
        ("[192.0.2.1]", "192.0.2.11", HeloResult::Fail),
        ("[192.0.2.11]", "192.0.2.1", HeloResult::Fail),
        ("[192.0.2.1]", "2001:db8::1", HeloResult::Fail),
        ("[IPv6:2001:db8::1]", "2001:db8::1", HeloResult::Pass),
        ("[ipv6:2001:DB8:0:0::1]", "2001:db8::1", HeloResult::Pass),
        ("[IPv6:2001:db8::1]", "2001:db8::10", HeloResult::Fail),
        ("[IPv6:2001:db8::1]", "192.0.2.1", HeloResult::Fail),
        ("[IPv6:::ffff:192.0.2.1]", "192.0.2.1", HeloResult::Pass),
    ] {
        let o = helo::confirm(&dns.resolver, &HeloName::parse(arg), ip(client)).await;
        assert_eq!(o.result, want, "{arg} from {client}");
        assert!(o.lookups.is_empty(), "{arg}");
        let literal = HeloName::parse(arg).ip().unwrap();
        assert_eq!(o.addresses, [literal], "{arg}");
    }
    // Names that are not looked up either.
    for (arg, want) in [
        ("mailserver", HeloResult::None),
        ("localhost", HeloResult::None),
        ("192.0.2.1", HeloResult::PermError),
        ("bad name", HeloResult::PermError),
        ("[192.0.2.1", HeloResult::PermError),
    ] {
        let o = helo::confirm(&dns.resolver, &HeloName::parse(arg), ip("192.0.2.1")).await;
        assert_eq!(o.result, want, "{arg:?}");
        assert!(o.lookups.is_empty(), "{arg:?}");
    }
    assert_eq!(dns.server.total_queries(), 0);
}

// ------------------------------------------------------------------------------------------------
// iprev: check

/// Runs `iprev::check` for `client` against a fresh server for `zone`; returns the output and the
/// queries the server received (asserted to be the lookups the output recorded).
async fn iprev_case(
    zone: &str,
    client: &str,
    options: &IprevOptions,
    timeout: Duration,
) -> (IprevOutput, Vec<Query>) {
    let dns = Dns::with_zone(zone, timeout).await;
    let out = iprev::check(&dns.resolver, ip(client), options).await;
    let seen = dns.queries(out.lookups.len()).await;
    // The names are looked up at the same time: the server sees them in any order.
    let (mut sorted, mut expected) = (seen.clone(), recorded(&out.lookups));
    sorted.sort();
    expected.sort();
    assert_eq!(sorted, expected, "{client}");
    (out, seen)
}

async fn iprev_default(client: &str, timeout: Duration) -> (IprevOutput, Vec<Query>) {
    iprev_case(ZONE, client, &IprevOptions::default(), timeout).await
}

fn statuses(out: &IprevOutput) -> Vec<NameStatus> {
    out.names.iter().map(|n| n.status).collect()
}

fn names(out: &IprevOutput) -> Vec<&str> {
    out.names.iter().map(|n| n.name.as_str()).collect()
}

#[tokio::test]
async fn iprev_passes_and_names_the_client() {
    use QueryType::{A, PTR};

    let (out, seen) = iprev_default("192.0.2.1", NORMAL).await;
    assert_eq!(out.result, IprevResult::Pass);
    assert_eq!(out.confirmed_name(), Some("mail.example.com"));
    assert_eq!(out.reverse_name(), Some("mail.example.com"));
    assert_eq!(
        seen,
        [q("1.2.0.192.in-addr.arpa", PTR), q("mail.example.com", A)]
    );

    // An IPv4-mapped client is checked as IPv4.
    let (out, seen) = iprev_default("::ffff:192.0.2.1", NORMAL).await;
    assert_eq!(out.result, IprevResult::Pass);
    assert_eq!(out.client, ip("192.0.2.1"));
    assert_eq!(
        seen,
        [q("1.2.0.192.in-addr.arpa", PTR), q("mail.example.com", A)]
    );

    // Several names: stops at the first that leads back; the rest are not looked up.
    let (out, seen) = iprev_default("192.0.2.8", NORMAL).await;
    assert_eq!(out.result, IprevResult::Pass);
    assert_eq!(
        statuses(&out),
        [
            NameStatus::NotConfirmed,
            NameStatus::Confirmed,
            NameStatus::NotNeeded
        ]
    );
    assert_eq!(out.confirmed_name(), Some("good8.example.com"));
    assert_eq!(out.reverse_name(), Some("other.example.com"));
    assert_eq!(seen.len(), 3, "{seen:?}");
}

#[tokio::test]
async fn iprev_ipv6_client_via_ip6_arpa() {
    const REV25: &str = "5.2.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa";
    const REV26: &str = "6.2.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa";

    let (out, seen) = iprev_default("2001:db8::25", NORMAL).await;
    assert_eq!(out.result, IprevResult::Pass);
    assert_eq!(out.confirmed_name(), Some("v6host.example.com"));
    assert_eq!(
        seen,
        [
            q(REV25, QueryType::PTR),
            q("v6host.example.com", QueryType::AAAA)
        ]
    );

    // The name's A record is not consulted for an IPv6 client by default...
    let (out, seen) = iprev_default("2001:db8::26", NORMAL).await;
    assert_eq!(out.result, IprevResult::Fail);
    assert_eq!(
        seen,
        [
            q(REV26, QueryType::PTR),
            q("v6miss.example.com", QueryType::AAAA)
        ]
    );
    // ...and with both families, AAAA comes first, then A.
    let (out, seen) = iprev_case(ZONE, "2001:db8::26", &IprevOptions::exim(), NORMAL).await;
    assert_eq!(out.result, IprevResult::Fail);
    assert_eq!(
        seen[1..],
        [
            q("v6miss.example.com", QueryType::AAAA),
            q("v6miss.example.com", QueryType::A)
        ]
    );
}

#[tokio::test]
async fn iprev_fails_when_the_ptr_name_does_not_lead_back() {
    let (out, _) = iprev_default("192.0.2.2", NORMAL).await;
    assert_eq!(out.result, IprevResult::Fail, "resolves elsewhere");
    assert_eq!(names(&out), ["other.example.com"], "normalised");
    assert_eq!(statuses(&out), [NameStatus::NotConfirmed]);
    assert_eq!(out.confirmed_name(), None);
    assert_eq!(out.reverse_name(), Some("other.example.com"));

    let (out, _) = iprev_default("192.0.2.3", NORMAL).await;
    assert_eq!(out.result, IprevResult::Fail, "PTR name NXDOMAIN");
    assert_eq!(outcomes(&out.lookups), [Ok(1), Err(LookupError::NxDomain)]);

    let (out, _) = iprev_default("192.0.2.4", NORMAL).await;
    assert_eq!(out.result, IprevResult::Fail, "PTR name NODATA (AAAA only)");
    assert_eq!(outcomes(&out.lookups), [Ok(1), Err(LookupError::NoData)]);
}

#[tokio::test]
async fn iprev_permerror_without_ptr() {
    let (out, seen) = iprev_default("192.0.2.100", NORMAL).await;
    assert_eq!(out.result, IprevResult::PermError, "PTR NXDOMAIN");
    assert!(out.names.is_empty());
    assert_eq!(seen, [q("100.2.0.192.in-addr.arpa", QueryType::PTR)]);
    assert_eq!(outcomes(&out.lookups), [Err(LookupError::NxDomain)]);

    let (out, seen) = iprev_default("192.0.2.14", NORMAL).await;
    assert_eq!(out.result, IprevResult::PermError, "PTR NODATA");
    assert_eq!(seen.len(), 1);
    assert_eq!(outcomes(&out.lookups), [Err(LookupError::NoData)]);

    let (out, seen) = iprev_default("192.0.2.10", NORMAL).await;
    assert_eq!(out.result, IprevResult::PermError, "only unusable names");
    assert_eq!(names(&out), ["192.0.2.10", "mailserver"]);
    assert_eq!(statuses(&out), [NameStatus::Invalid, NameStatus::Invalid]);
    assert_eq!(seen.len(), 1, "unusable names are not looked up");
}

#[tokio::test]
async fn iprev_temperror_on_dropped_or_failed_queries() {
    let (out, seen) = iprev_default("192.0.2.6", SHORT).await;
    assert_eq!(out.result, IprevResult::TempError, "PTR query dropped");
    assert!(out.names.is_empty());
    assert_eq!(outcomes(&out.lookups), [Err(LookupError::Timeout)]);
    assert_eq!(seen.len(), 1);

    let (out, _) = iprev_default("192.0.2.7", NORMAL).await;
    assert_eq!(out.result, IprevResult::TempError, "PTR SERVFAIL");
    assert!(is_servfail(&out.lookups[0].outcome), "{out:?}");

    let (out, _) = iprev_default("192.0.2.17", NORMAL).await;
    assert_eq!(out.result, IprevResult::TempError, "forward SERVFAIL");
    assert_eq!(statuses(&out), [NameStatus::TempError]);
    assert!(is_servfail(&out.lookups[1].outcome), "{out:?}");

    // Not confirmed, then SERVFAIL: the failed name might have matched, so not a failure.
    let (out, seen) = iprev_default("192.0.2.9", NORMAL).await;
    assert_eq!(out.result, IprevResult::TempError);
    assert_eq!(
        statuses(&out),
        [NameStatus::NotConfirmed, NameStatus::TempError]
    );
    assert_eq!(seen.len(), 3);

    let (out, _) = iprev_default("192.0.2.5", SHORT).await;
    assert_eq!(out.result, IprevResult::TempError, "forward query dropped");
    assert_eq!(outcomes(&out.lookups), [Ok(1), Err(LookupError::Timeout)]);
}

#[tokio::test]
async fn iprev_follows_cnames() {
    let (out, seen) = iprev_default("192.0.2.11", NORMAL).await;
    assert_eq!(out.result, IprevResult::Pass, "CNAME'd forward name");
    assert_eq!(out.confirmed_name(), Some("fwd-alias.example.com"));
    assert_eq!(seen[1], q("fwd-alias.example.com", QueryType::A));
    assert_eq!(seen.len(), 2);

    // RFC 2317: the reverse name is an alias of a name in the client's delegated zone.
    let (out, seen) = iprev_default("192.0.2.18", NORMAL).await;
    assert_eq!(out.result, IprevResult::Pass, "CNAME'd reverse name");
    assert_eq!(out.confirmed_name(), Some("good18.example.com"));
    assert_eq!(seen[0], q("18.2.0.192.in-addr.arpa", QueryType::PTR));
    assert_eq!(seen.len(), 2);
}

#[tokio::test]
async fn iprev_presets_choose_families_and_verdicts() {
    use QueryType::{A, AAAA, PTR};

    // Only an IPv4-mapped AAAA record leads back: the client's family misses it, Exim's both
    // families find it.
    let (out, seen) = iprev_default("192.0.2.12", NORMAL).await;
    assert_eq!(out.result, IprevResult::Fail);
    assert_eq!(seen[1..], [q("mapped.example.com", A)]);
    let (out, seen) = iprev_case(ZONE, "192.0.2.12", &IprevOptions::exim(), NORMAL).await;
    assert_eq!(out.result, IprevResult::Pass);
    assert_eq!(
        seen,
        [
            q("12.2.0.192.in-addr.arpa", PTR),
            q("mapped.example.com", A),
            q("mapped.example.com", AAAA)
        ]
    );

    // Exim checks every name and defers on a dropped query even though another name passed.
    let (out, seen) = iprev_case(ZONE, "192.0.2.8", &IprevOptions::exim(), SHORT).await;
    assert_eq!(out.result, IprevResult::TempError);
    assert_eq!(
        statuses(&out),
        [
            NameStatus::NotConfirmed,
            NameStatus::Confirmed,
            NameStatus::TempError
        ]
    );
    assert_eq!(
        out.confirmed_names().collect::<Vec<_>>(),
        ["good8.example.com"]
    );
    // Every name counts, so all three are looked up at once (each name's A, then its AAAA).
    let mut forward = seen[1..].to_vec();
    forward.sort();
    let mut expected = vec![
        q("other.example.com", A),
        q("other.example.com", AAAA),
        q("good8.example.com", A),
        q("slow.example.com", A),
        q("slow.example.com", AAAA),
    ];
    expected.sort();
    assert_eq!(forward, expected);
    assert_eq!(
        seen[1..4].iter().filter(|query| query.1 == A).count(),
        3,
        "{seen:?}"
    );

    // Postfix: the first name only.
    let (out, seen) = iprev_case(ZONE, "192.0.2.8", &IprevOptions::postfix(), NORMAL).await;
    assert_eq!(out.result, IprevResult::Fail);
    assert_eq!(
        statuses(&out),
        [
            NameStatus::NotConfirmed,
            NameStatus::OverLimit,
            NameStatus::OverLimit
        ]
    );
    assert_eq!(seen[1..], [q("other.example.com", A)]);
}

/// 50 PTR names for 192.0.2.50; only the last one leads back to the client.
fn fifty_names_zone() -> String {
    let mut zone = String::new();
    for i in 0..50 {
        writeln!(zone, "192.0.2.50 PTR host{i}.example.com").unwrap();
        let addr = if i == 49 { 50 } else { 100 + i };
        writeln!(zone, "host{i}.example.com. A 192.0.2.{addr}").unwrap();
    }
    zone
}

fn a_queries(seen: &[Query]) -> Vec<&str> {
    seen.iter()
        .filter(|(_, t)| *t == QueryType::A)
        .map(|(n, _)| n.as_str())
        .collect()
}

fn count_type(seen: &[Query], qtype: QueryType) -> usize {
    seen.iter().filter(|(_, t)| *t == qtype).count()
}

#[tokio::test]
async fn iprev_fifty_ptr_names_are_bounded() {
    let zone = fifty_names_zone();
    let hosts: Vec<String> = (0..50).map(|i| format!("host{i}.example.com")).collect();

    // Default: the first 10 names, in the order served; the one that would pass is never asked.
    let (out, seen) = iprev_case(&zone, "192.0.2.50", &IprevOptions::default(), NORMAL).await;
    assert_eq!(out.result, IprevResult::Fail);
    assert_eq!(names(&out), hosts, "every PTR name reported, in order");
    assert_eq!(a_queries(&seen), hosts[..DEFAULT_MAX_NAMES]);
    assert_eq!(count_type(&seen, QueryType::A), 10);
    assert_eq!(count_type(&seen, QueryType::AAAA), 0);
    let over = statuses(&out)
        .iter()
        .filter(|s| **s == NameStatus::OverLimit)
        .count();
    assert_eq!(over, 40);
    assert_eq!(out.names[49].status, NameStatus::OverLimit);

    // Postfix: one forward query.
    let (out, seen) = iprev_case(&zone, "192.0.2.50", &IprevOptions::postfix(), NORMAL).await;
    assert_eq!(out.result, IprevResult::Fail);
    assert_eq!(a_queries(&seen), ["host0.example.com"]);
    assert_eq!(seen.len(), 2, "{seen:?}");

    // Exim (at most 64 names, both families, every name): all 50 names, A then AAAA, except the
    // last, confirmed by its A record.
    let (out, seen) = iprev_case(&zone, "192.0.2.50", &IprevOptions::exim(), NORMAL).await;
    assert_eq!(out.result, IprevResult::Pass);
    assert_eq!(out.confirmed_name(), Some("host49.example.com"));
    assert_eq!(a_queries(&seen), hosts);
    assert_eq!(count_type(&seen, QueryType::AAAA), 49);
    assert_eq!(count_type(&seen, QueryType::PTR), 1);

    // A custom limit with both families: two queries per name.
    let mut options = IprevOptions::default();
    options.max_names = 3;
    options.families = ForwardFamilies::Both;
    let (out, seen) = iprev_case(&zone, "192.0.2.50", &options, NORMAL).await;
    assert_eq!(out.result, IprevResult::Fail);
    assert_eq!(seen.len(), 1 + 3 * 2, "{seen:?}");
}

// ------------------------------------------------------------------------------------------------
// iprev: check_reverse

async fn reverse_case(client: &str, timeout: Duration) -> (ReverseOutput, Vec<Query>) {
    let dns = Dns::start(timeout).await;
    let out = iprev::check_reverse(&dns.resolver, ip(client)).await;
    let seen = dns.queries(1).await;
    assert_eq!(seen, recorded(&out.lookups), "{client}");
    assert_eq!(seen.len(), 1, "one PTR query, no forward lookup: {seen:?}");
    (out, seen)
}

#[tokio::test]
async fn check_reverse_outcomes() {
    // A PTR name that does not lead back still passes: it is not verified.
    let (out, seen) = reverse_case("192.0.2.2", NORMAL).await;
    assert_eq!(out.result, IprevResult::Pass);
    assert_eq!(out.names, ["other.example.com"]);
    assert_eq!(out.reverse_name(), Some("other.example.com"));
    assert_eq!(seen, [q("2.2.0.192.in-addr.arpa", QueryType::PTR)]);

    let (out, _) = reverse_case("::ffff:192.0.2.2", NORMAL).await;
    assert_eq!(out.result, IprevResult::Pass);
    assert_eq!(out.client, ip("192.0.2.2"));

    let (out, _) = reverse_case("2001:db8::25", NORMAL).await;
    assert_eq!(out.result, IprevResult::Pass);
    assert_eq!(out.reverse_name(), Some("v6host.example.com"));

    for (client, why) in [
        ("192.0.2.100", "NXDOMAIN"),
        ("192.0.2.14", "NODATA"),
        ("192.0.2.10", "only unusable names"),
    ] {
        let (out, _) = reverse_case(client, NORMAL).await;
        assert_eq!(out.result, IprevResult::PermError, "{why}");
        assert_eq!(out.reverse_name(), None, "{why}");
    }

    let (out, _) = reverse_case("192.0.2.6", SHORT).await;
    assert_eq!(out.result, IprevResult::TempError, "PTR query dropped");
    assert_eq!(outcomes(&out.lookups), [Err(LookupError::Timeout)]);
    let (out, _) = reverse_case("192.0.2.7", NORMAL).await;
    assert_eq!(out.result, IprevResult::TempError, "PTR SERVFAIL");
}

// ------------------------------------------------------------------------------------------------
// A name server that never answers

fn silent_resolver(hole: &BlackHole) -> HickoryResolver {
    HickoryResolver::builder()
        .name_server(hole.addr())
        .timeout(SHORT)
        .attempts(1)
        .build()
        .unwrap()
}

#[tokio::test]
async fn silent_server_gives_temperror_never_fail() {
    let hole = BlackHole::start().await;
    let resolver = silent_resolver(&hole);
    let client = ip("192.0.2.1");
    let name = HeloName::parse("a.example.com");
    let started = Instant::now();

    let o = helo::exists(&resolver, &name, &ExistsOptions::default()).await;
    assert_eq!(o.result, HeloResult::TempError);
    assert_eq!(outcomes(&o.lookups), vec![Err(LookupError::Timeout); 3]);

    let o = helo::confirm(&resolver, &name, client).await;
    assert_eq!(o.result, HeloResult::TempError);

    for options in [IprevOptions::default(), IprevOptions::exim()] {
        let out = iprev::check(&resolver, client, &options).await;
        assert_eq!(out.result, IprevResult::TempError, "{options:?}");
        assert!(out.names.is_empty());
        assert_eq!(outcomes(&out.lookups), [Err(LookupError::Timeout)]);
    }
    let out = iprev::check(&resolver, ip("2001:db8::1"), &IprevOptions::default()).await;
    assert_eq!(out.result, IprevResult::TempError);

    let out = iprev::check_reverse(&resolver, client).await;
    assert_eq!(out.result, IprevResult::TempError);
    assert!(out.names.is_empty());

    // exists 3, confirm 1, check 3 × 1, check_reverse 1: one datagram each, no re-sends.
    tokio::time::timeout(WAIT, hole.wait_for_datagrams(8))
        .await
        .unwrap();
    assert_eq!(hole.received(), 8);
    assert!(started.elapsed() < Duration::from_secs(8), "short timeouts");
}

// ------------------------------------------------------------------------------------------------
// What the resolver adds

/// A CNAME whose target has no records of the type asked: the server's answer holds only the
/// chain, and hickory asks the target again itself. The check records one lookup, the wire sees two
/// queries, so "at most 3 queries" (`exists`) and "at most 1 query" (`confirm`) hold for lookups,
/// not for queries on the wire (at most twice as many behind a server that sends whole chains).
#[tokio::test]
async fn cname_to_a_name_without_the_type_costs_a_second_query() {
    use QueryType::{A, AAAA, MX};

    let dns = Dns::start(NORMAL).await;
    let o = helo::exists(
        &dns.resolver,
        &HeloName::parse("mxalias.example.com"),
        &ExistsOptions::default(),
    )
    .await;
    assert_eq!(o.result, HeloResult::Pass);
    assert_eq!(
        recorded(&o.lookups),
        [
            q("mxalias.example.com", A),
            q("mxalias.example.com", AAAA),
            q("mxalias.example.com", MX)
        ]
    );
    assert_eq!(
        dns.queries(5).await,
        [
            q("mxalias.example.com", A),
            q("mx.example.com", A),
            q("mxalias.example.com", AAAA),
            q("mx.example.com", AAAA),
            q("mxalias.example.com", MX)
        ]
    );

    let dns = Dns::start(NORMAL).await;
    let name = HeloName::parse("alias.example.com");
    let o = helo::confirm(&dns.resolver, &name, ip("2001:db8::1")).await;
    assert_eq!(o.result, HeloResult::Fail, "a.example.com has no AAAA");
    assert_eq!(o.lookups.len(), 1);
    assert_eq!(
        dns.queries(2).await,
        [q("alias.example.com", AAAA), q("a.example.com", AAAA)]
    );
}
