use super::*;
use crate::dns::ZoneResolver;
use crate::dns::{LookupResult, Mx, TxtRecord};
use crate::name::NameError;
use crate::spf::Record;
use crate::spf::cache::Fetched;
use crate::spf::eval::{MAX_DEPTH, in_prefix};
use crate::spf::memo::select_record;
use crate::test_util::block;
use std::borrow::Cow;
use std::net::{Ipv4Addr, Ipv6Addr};

#[test]
fn each_lookup_is_made_once_from_memory() {
    let zone: ZoneResolver = r#"
        example.com      TXT "v=spf1 mx include:_spf.example.com ptr -all"
        example.com      MX  10 mx.example.com
        mx.example.com   A   192.0.2.10
        _spf.example.com TXT "v=spf1 a:h.example.com -all"
        h.example.com    A   192.0.2.20
        192.0.2.99       PTR host.example.com
        host.example.com A   192.0.2.99
    "#
    .parse()
    .unwrap();
    let spf = Verifier::new(&zone);
    let out =
        block(spf.check_mail_from("192.0.2.99".parse().unwrap(), "h.example", "x@example.com"));
    assert_eq!(out.result, SpfResult::Pass);
    assert_eq!(out.matched().unwrap().to_string(), "ptr");
    // TXT, MX, A mx, TXT _spf, A h, PTR, A host: one run, nothing asked twice.
    assert_eq!(zone.query_count(), 7);

    // Every answer awaited: eight runs (one per answer, and the last), the same queries.
    let mut awaited = zone.clone();
    awaited.set_awaited_only(true);
    let spf = Verifier::new(&awaited);
    let again =
        block(spf.check_mail_from("192.0.2.99".parse().unwrap(), "h.example", "x@example.com"));
    assert_eq!(again, out);
    assert_eq!(awaited.query_count(), 7);
}

/// A resolver holding `top.example`'s record in memory, in a new version each time it is read
/// (up to version 3), as a caching resolver whose entry expires and is refreshed between runs;
/// everything else is awaited from `zone`.
struct Changing {
    zone: ZoneResolver,
    reads: std::sync::atomic::AtomicU32,
}

#[async_trait::async_trait]
impl Resolver for Changing {
    async fn lookup_txt(&self, name: &str) -> LookupResult<Vec<TxtRecord>> {
        self.zone.lookup_txt(name).await
    }
    async fn lookup_a(&self, name: &str) -> LookupResult<Vec<Ipv4Addr>> {
        self.zone.lookup_a(name).await
    }
    async fn lookup_aaaa(&self, name: &str) -> LookupResult<Vec<Ipv6Addr>> {
        self.zone.lookup_aaaa(name).await
    }
    async fn lookup_mx(&self, name: &str) -> LookupResult<Vec<Mx>> {
        self.zone.lookup_mx(name).await
    }
    async fn lookup_ptr(&self, ip: IpAddr) -> LookupResult<Vec<String>> {
        self.zone.lookup_ptr(ip).await
    }
    fn lookup_txt_now(&self, name: &str) -> Option<LookupResult<Cow<'_, [TxtRecord]>>> {
        use std::sync::atomic::Ordering;
        if name != "top.example" {
            return None;
        }
        let v = self.reads.fetch_add(1, Ordering::Relaxed).min(3);
        let terms: Vec<String> = (0..10).map(|i| format!("mx:m{i}.v{v}.example")).collect();
        let text = format!("v=spf1 {} -all", terms.join(" "));
        Some(Ok(Cow::Owned(vec![TxtRecord::from_text(&text)])))
    }
}

#[test]
fn answers_from_memory_are_kept_for_the_evaluation() {
    let mut zone = String::new();
    for v in 0..4 {
        for i in 0..10 {
            zone.push_str(&format!("m{i}.v{v}.example MX 10 h.m{i}.v{v}.example\n"));
            zone.push_str(&format!("h.m{i}.v{v}.example A 198.51.100.1\n"));
        }
    }
    let mut zone: ZoneResolver = zone.parse().unwrap();
    zone.set_awaited_only(true);
    let resolver = Changing {
        zone,
        reads: Default::default(),
    };
    let spf = Verifier::new(&resolver);
    let out =
        block(spf.check_mail_from("192.0.2.1".parse().unwrap(), "h.example", "a@top.example"));
    assert_eq!(out.result, SpfResult::Fail);
    assert_eq!(out.dns_lookups, 10);
    // One version followed from the first query on: 10 MX and 10 A lookups, none of another
    // version's names.
    assert_eq!(resolver.zone.query_count(), 20);
}

#[test]
fn long_local_parts_are_cut_for_macros() {
    let zone: ZoneResolver = r#"
        example.com     TXT "v=spf1 -all exp=exp.example.com"
        exp.example.com TXT "%{l}"
    "#
    .parse()
    .unwrap();
    let spf = Verifier::new(&zone);
    let ip: IpAddr = "192.0.2.1".parse().unwrap();
    let explain = |local: &str| {
        let out = block(spf.check_mail_from(ip, "h.example", &format!("{local}@example.com")));
        assert_eq!(out.result, SpfResult::Fail);
        out.explanation.unwrap()
    };
    let at_most = "a".repeat(MAX_LOCAL_PART_LEN);
    assert_eq!(explain(&at_most), at_most);
    // Cut at a character boundary: the two-byte `é` would end past the cap.
    let long = "a".repeat(MAX_LOCAL_PART_LEN - 1) + "é" + &"b".repeat(1000);
    assert_eq!(explain(&long), "a".repeat(MAX_LOCAL_PART_LEN - 1));
}

#[test]
fn an_unclosed_path_is_checked_for_the_domain_after_its_last_at() {
    let zone: ZoneResolver = r#"example.com TXT "v=spf1 -all exp=%{l}.x""#.parse().unwrap();
    let out = block(Verifier::new(&zone).check_mail_from(
        "192.0.2.1".parse().unwrap(),
        "h.example",
        "<a@example.com",
    ));
    assert_eq!(out.result, SpfResult::Fail);
    assert_eq!(out.domain(), "example.com");
}

#[test]
fn a_long_helo_is_cut_for_the_macros() {
    let zone: ZoneResolver = r#"
        example.com     TXT "v=spf1 -all exp=exp.example.com"
        exp.example.com TXT "%{h}"
    "#
    .parse()
    .unwrap();
    let spf = Verifier::new(&zone);
    let ip: IpAddr = "192.0.2.1".parse().unwrap();
    let explain = |helo: &str| {
        let out = block(spf.check_mail_from(ip, helo, "a@example.com"));
        assert_eq!(out.result, SpfResult::Fail);
        out.explanation.unwrap()
    };
    let at_most = "h.".repeat(MAX_HELO_LEN / 2);
    assert_eq!(explain(&at_most), at_most);
    let long = "h.".repeat(100_000);
    assert_eq!(explain(&long), long[..MAX_HELO_LEN]);
}

#[test]
fn a_cached_domain_is_still_checked_as_the_domain_checked() {
    // `localhost` gets into the record cache as an include target (built by a macro); as the
    // domain checked it is still not a valid domain (single label): none, cached or not.
    let zone: ZoneResolver = r#"
        example.com TXT "v=spf1 include:%{l} -all"
        localhost   TXT "v=spf1 +all"
    "#
    .parse()
    .unwrap();
    let cache = Arc::new(RecordCache::new(10));
    let spf = Verifier::new(&zone).with_cache(cache.clone());
    let ip: IpAddr = "192.0.2.1".parse().unwrap();
    let out = block(spf.check_mail_from(ip, "h.example", "localhost@example.com"));
    assert_eq!(out.result, SpfResult::Pass);
    assert_eq!(cache.len(), 2, "the include target is cached");
    for _ in 0..2 {
        let out = block(spf.check_mail_from(ip, "h.example", "a@localhost"));
        assert_eq!(out.result, SpfResult::None);
        assert!(
            matches!(&out.cause, Cause::InvalidDomain { domain, error: NameError::SingleLabel } if &**domain == "localhost"),
            "{:?}",
            out.cause
        );
    }
    // With tracing, the invalid domain's trace shows the check and the result.
    let config = Config {
        trace: true,
        ..Config::default()
    };
    let traced = Verifier::with_config(&zone, config).with_cache(cache.clone());
    let invalid = block(traced.check_mail_from(ip, "h.example", "a@localhost"));
    let trace = invalid.trace.expect("a trace").to_string();
    assert!(trace.contains("localhost"), "{trace}");
    // A valid cached domain as written is named by the name the cache holds, shared with it;
    // the first output (before the cache) holds its own copy.
    let sender = "localhost@example.com";
    let again = block(spf.check_mail_from(ip, "h.example", sender));
    assert!(!Arc::ptr_eq(&again.checked, &out.checked));
    assert_eq!(again.domain(), "example.com");
    assert_eq!(again, out, "equal, the domain compared as text");
    assert_eq!(format!("{again:?}"), format!("{out:?}"));
    let upper = block(spf.check_mail_from(ip, "h.example", "localhost@EXAMPLE.com"));
    assert_eq!(upper.domain(), "EXAMPLE.com", "the domain as given");
    assert_eq!(upper.result, SpfResult::Pass);
}

#[test]
fn a_domain_decided_elsewhere_keeps_its_own_name() {
    // Decided by a `redirect=` target's record, or by no match: the output names the domain
    // checked itself, never the record that decided.
    let zone: ZoneResolver = r#"
        example.com     TXT "v=spf1 redirect=_spf.example.net"
        _spf.example.net TXT "v=spf1 ip4:192.0.2.0/24 -all"
        plain.example   TXT "v=spf1 ip4:198.51.100.1"
    "#
    .parse()
    .unwrap();
    let spf = Verifier::new(&zone).with_cache(Arc::new(RecordCache::new(10)));
    let ip: IpAddr = "192.0.2.1".parse().unwrap();
    for _ in 0..2 {
        let out = block(spf.check_mail_from(ip, "h.example", "a@example.com"));
        assert_eq!(out.result, SpfResult::Pass);
        assert_eq!(out.domain(), "example.com");
        assert!(
            matches!(&out.cause, Cause::Match { record, .. } if record.domain() == "_spf.example.net")
        );
        let out = block(spf.check_mail_from(ip, "h.example", "a@plain.example"));
        assert_eq!(out.result, SpfResult::Neutral);
        assert_eq!(out.domain(), "plain.example");
    }
}

#[test]
fn names_that_cannot_be_queried_are_nxdomain_on_both_paths() {
    // The zone holds a name with an empty label, which DNS could never serve: `a:` of it is a
    // void lookup, from memory as when awaited, and is not counted as a query.
    let zone: ZoneResolver = r#"
        example.com        TXT "v=spf1 a:bad..example.com ~all"
        bad..example.com   A   192.0.2.1
    "#
    .parse()
    .unwrap();
    let ip: IpAddr = "192.0.2.1".parse().unwrap();
    let out = block(Verifier::new(&zone).check_mail_from(ip, "h.example", "a@example.com"));
    assert_eq!(out.result, SpfResult::Softfail);
    assert_eq!(out.void_lookups, 1);
    assert_eq!(zone.query_count(), 1, "only the TXT record was queried");
    let mut awaited = zone.clone();
    awaited.set_awaited_only(true);
    let again = block(Verifier::new(&awaited).check_mail_from(ip, "h.example", "a@example.com"));
    assert_eq!(again, out);
    assert_eq!(awaited.query_count(), 1);
}

#[test]
fn fetched_records_keep_no_spare_room() {
    let text = format!("v=spf1 {} -all", "ip4:192.0.2.0/24 ".repeat(12));
    let parsed: Record = text.parse().unwrap();
    assert!(parsed.spare_capacity() > 0, "the parser reserves by length");
    let Fetched::Record(record) = select_record("example.com", &[TxtRecord::from_text(&text)])
    else {
        panic!("a record");
    };
    assert_eq!(record.record().terms().len(), 13);
    assert_eq!(record.record().spare_capacity(), 0);
}

#[test]
fn a_failed_record_lookup_is_traced() {
    for awaited in [false, true] {
        let mut zone: ZoneResolver = "slow.example TIMEOUT TXT".parse().unwrap();
        zone.set_awaited_only(awaited);
        let config = Config {
            trace: true,
            ..Config::default()
        };
        let spf = Verifier::with_config(&zone, config);
        let out =
            block(spf.check_mail_from("192.0.2.1".parse().unwrap(), "h.example", "x@slow.example"));
        assert_eq!(out.result, SpfResult::Temperror);
        let trace = out.trace.unwrap().to_string();
        assert!(
            trace.contains("TXT slow.example -> DNS query timed out"),
            "awaited {awaited}: {trace}"
        );
    }
}

#[test]
fn nesting_is_bounded_even_without_a_lookup_limit() {
    let zone: ZoneResolver = r#"
        a.example TXT "v=spf1 include:b.example -all"
        b.example TXT "v=spf1 redirect=a.example"
    "#
    .parse()
    .unwrap();
    let config = Config {
        max_dns_lookups: u32::MAX,
        ..Config::default()
    };
    let spf = Verifier::with_config(&zone, config);
    let out = block(spf.check_host(
        "192.0.2.1".parse().unwrap(),
        "a.example",
        "x",
        "h.example",
        Identity::MailFrom,
    ));
    assert_eq!(out.result, SpfResult::Permerror);
    assert!(matches!(
        out.error(),
        Some(SpfError::TooManyDnsLookups { .. })
    ));
    // One DNS term (an include or a redirect) per level: stopped at the depth bound.
    assert_eq!(out.dns_lookups, MAX_DEPTH);
    // Answered from memory: one record lookup per level, none beyond the bound.
    assert_eq!(zone.query_count(), out.dns_lookups as usize);
}

#[test]
fn prefixes() {
    let v4 = |s: &str| u128::from(u32::from(s.parse::<std::net::Ipv4Addr>().unwrap()));
    assert!(in_prefix(v4("192.0.2.1"), v4("192.0.2.0"), 32, 24));
    assert!(!in_prefix(v4("192.0.3.1"), v4("192.0.2.0"), 32, 24));
    assert!(in_prefix(v4("1.2.3.4"), v4("9.9.9.9"), 32, 0));
    assert!(in_prefix(v4("1.2.3.4"), v4("1.2.3.4"), 32, 32));
    assert!(!in_prefix(v4("1.2.3.5"), v4("1.2.3.4"), 32, 32));
    let v6 = |s: &str| u128::from(s.parse::<std::net::Ipv6Addr>().unwrap());
    assert!(in_prefix(v6("2001:db8::1"), v6("::"), 128, 0));
    assert!(in_prefix(v6("2001:db8::1"), v6("2001:db8::"), 128, 32));
    assert!(!in_prefix(v6("2001:db9::1"), v6("2001:db8::"), 128, 32));
    assert!(in_prefix(v6("2001:db8::1"), v6("2001:db8::1"), 128, 128));
}

/// A check answered from memory moves its future into place (callers build it on their stack):
/// it holds the inputs and, once it waits, one box, not the state of an evaluation that waits.
#[test]
fn a_check_future_is_small_and_the_waiting_state_is_boxed() {
    let spf = Verifier::new(ZoneResolver::default());
    let ip = "192.0.2.1".parse().unwrap();
    let check = spf.check_mail_from(ip, "mx.example.com", "alice@example.com");
    let helo = spf.check_helo(ip, "mx.example.com");
    let host = spf.check_host(ip, "example.com", "", "mx.example.com", Identity::MailFrom);
    let inputs = Inputs::new(ip, "example.com", "alice", "mx.example.com");
    let waiting = spf.awaited(inputs, Identity::MailFrom);
    // They can be spawned onto a multi-threaded runtime.
    fn send<T: Send>(_: &T) {}
    send(&check);
    send(&helo);
    send(&host);
    send(&waiting);
    for size in [size_of_val(&check), size_of_val(&helo), size_of_val(&host)] {
        assert!(size <= 128, "a check's future is {size} bytes");
    }
    // Moved by the caller too: at most 128 bytes move with inline stores, not a `memcpy` call.
    let output = size_of::<SpfOutput>();
    assert!(output <= 128, "an output is {output} bytes");
    let waiting = size_of_val(&waiting);
    assert!(
        waiting > 4 * size_of_val(&check) && waiting <= 1536,
        "the boxed state of a waiting evaluation is {waiting} bytes"
    );
}
