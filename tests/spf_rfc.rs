//! SPF evaluation, mechanism by mechanism, modifier by modifier and macro by macro, written from the
//! text of RFC 7208 and run against the in-memory zone.

mod common;
use common::resolvers::Hang;
use sender_identity::dns::{Resolver, ZoneResolver};
use sender_identity::spf::{Cause, Config, Identity, SpfError, SpfOutput, SpfResult, Verifier};
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

fn zone(text: &str) -> ZoneResolver {
    text.parse().expect("zone text")
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

/// Checks `sender` (at example.com unless it has a domain) from `client` against `zone`.
async fn check(z: &ZoneResolver, client: &str, sender: &str) -> SpfOutput {
    Verifier::new(z)
        .check_mail_from(ip(client), "helo.example.net", sender)
        .await
}

async fn result(z: &ZoneResolver, client: &str) -> SpfResult {
    check(z, client, "user@example.com").await.result
}

// RFC 7208 §5.1: "all" always matches; §4.7: no match and no redirect gives neutral.
#[tokio::test]
async fn all_and_default() {
    let z = zone(r#"example.com TXT "v=spf1 -all""#);
    assert_eq!(result(&z, "192.0.2.1").await, SpfResult::Fail);
    let z = zone(r#"example.com TXT "v=spf1 ip4:192.0.2.9""#);
    let out = check(&z, "192.0.2.1", "user@example.com").await;
    assert_eq!(out.result, SpfResult::Neutral);
    assert!(matches!(out.cause, Cause::NoMatch { .. }));
    for (q, r) in [
        ("+", SpfResult::Pass),
        ("~", SpfResult::Softfail),
        ("?", SpfResult::Neutral),
    ] {
        let z = zone(&format!(r#"example.com TXT "v=spf1 {q}all""#));
        assert_eq!(result(&z, "192.0.2.1").await, r);
    }
}

// §5.6: ip4 / ip6 compare the network; a /0 matches every address of the family (never a panic).
#[tokio::test]
async fn ip4_ip6() {
    let z = zone(r#"example.com TXT "v=spf1 ip4:192.0.2.0/24 ip6:2001:db8::/32 -all""#);
    assert_eq!(result(&z, "192.0.2.200").await, SpfResult::Pass);
    assert_eq!(result(&z, "192.0.3.1").await, SpfResult::Fail);
    assert_eq!(result(&z, "2001:db8:1::5").await, SpfResult::Pass);
    assert_eq!(result(&z, "2001:db9::5").await, SpfResult::Fail);
    // An IPv4-mapped client is evaluated as IPv4 (§5 note on IPv4-mapped addresses).
    assert_eq!(result(&z, "::ffff:192.0.2.7").await, SpfResult::Pass);

    let z = zone(r#"example.com TXT "v=spf1 ip4:0.0.0.0/0 -all""#);
    assert_eq!(result(&z, "203.0.113.1").await, SpfResult::Pass);
    assert_eq!(result(&z, "2001:db8::1").await, SpfResult::Fail);
    let z = zone(r#"example.com TXT "v=spf1 ip6:::/0 -all""#);
    assert_eq!(result(&z, "2001:db8::1").await, SpfResult::Pass);
    assert_eq!(
        result(&z, "192.0.2.1").await,
        SpfResult::Fail,
        "IPv4 never matches ip6"
    );
    // Host bits set in the record are masked.
    let z = zone(r#"example.com TXT "v=spf1 ip4:192.0.2.77/24 -all""#);
    assert_eq!(result(&z, "192.0.2.1").await, SpfResult::Pass);
}

// §5.3: "a" looks up A for IPv4 and AAAA for IPv6 clients, at the current domain by default, with
// dual CIDR lengths.
#[tokio::test]
async fn a_mechanism() {
    let z = zone(
        r#"
        example.com TXT "v=spf1 a a:other.example.org/24//64 -all"
        example.com A 192.0.2.1
        other.example.org A 198.51.100.1
        other.example.org AAAA 2001:db8:5::1
    "#,
    );
    let out = check(&z, "192.0.2.1", "u@example.com").await;
    assert_eq!(out.result, SpfResult::Pass);
    assert_eq!(out.matched().unwrap().to_string(), "a");
    let out = check(&z, "198.51.100.200", "u@example.com").await;
    assert_eq!(
        out.matched().unwrap().to_string(),
        "a:other.example.org/24//64"
    );
    assert_eq!(result(&z, "2001:db8:5::ffff").await, SpfResult::Pass);
    assert_eq!(result(&z, "2001:db8:6::1").await, SpfResult::Fail);
    assert_eq!(result(&z, "198.51.101.1").await, SpfResult::Fail);
}

// §5.4: "mx" checks the addresses of each MX host; more than 10 MX names is a permerror whatever the
// client; a null MX matches nothing.
#[tokio::test]
async fn mx_mechanism() {
    let z = zone(
        r#"
        example.com TXT "v=spf1 mx -all"
        example.com MX 20 b.example.com
        example.com MX 10 a.example.com
        a.example.com A 192.0.2.10
        b.example.com A 192.0.2.20
    "#,
    );
    assert_eq!(result(&z, "192.0.2.20").await, SpfResult::Pass);
    assert_eq!(result(&z, "192.0.2.30").await, SpfResult::Fail);

    let mut text = String::from("example.com TXT \"v=spf1 mx -all\"\n");
    for i in 0..11 {
        text.push_str(&format!(
            "example.com MX {i} h{i}.example.com\nh{i}.example.com A 192.0.2.{i}\n"
        ));
    }
    let z = zone(&text);
    for client in ["192.0.2.0", "192.0.2.99"] {
        let out = check(&z, client, "u@example.com").await;
        assert_eq!(out.result, SpfResult::Permerror);
        assert!(matches!(
            out.error(),
            Some(SpfError::TooManyMxNames { limit: 10, .. })
        ));
    }

    let z = zone(
        r#"
        example.com TXT "v=spf1 mx ?all"
        example.com MX 0 .
    "#,
    );
    assert_eq!(result(&z, "192.0.2.1").await, SpfResult::Neutral);
}

// §5.4 and §4.6.4: by default an MX host without addresses is not a void lookup; configurable.
#[tokio::test]
async fn mx_host_voids_are_configurable() {
    let z = zone(
        r#"
        example.com TXT "v=spf1 mx mx:example.org mx:example.net ?all"
        example.com MX 10 v4only.example.com
        example.org MX 10 v4only.example.com
        example.net MX 10 v4only.example.com
        v4only.example.com A 192.0.2.1
    "#,
    );
    let out = check(&z, "2001:db8::1", "u@example.com").await;
    assert_eq!(out.result, SpfResult::Neutral);
    assert_eq!(out.void_lookups, 0);
    let mut config = Config::default();
    config.count_mx_address_voids = true;
    let out = Verifier::with_config(&z, config)
        .check_mail_from(ip("2001:db8::1"), "h.example", "u@example.com")
        .await;
    assert_eq!(out.result, SpfResult::Permerror);
    assert!(matches!(
        out.error(),
        Some(SpfError::TooManyVoidLookups { limit: 2 })
    ));
}

// §5.5: "ptr" matches a validated PTR name equal to or below the target; PTR errors mean no match;
// only the first 10 names are examined.
#[tokio::test]
async fn ptr_mechanism() {
    let z = zone(
        r#"
        example.com TXT "v=spf1 ptr -all"
        192.0.2.1 PTR mail.example.com
        mail.example.com A 192.0.2.1
        192.0.2.2 PTR forged.example.com
        forged.example.com A 192.0.2.99
        192.0.2.3 PTR EXAMPLE.COM.
        example.com A 192.0.2.3
        3.2.0.192.in-addr.arpa SERVFAIL
    "#,
    );
    assert_eq!(result(&z, "192.0.2.1").await, SpfResult::Pass);
    assert_eq!(result(&z, "192.0.2.2").await, SpfResult::Fail);
    assert_eq!(
        result(&z, "192.0.2.3").await,
        SpfResult::Pass,
        "trailing dot and case"
    );
    assert_eq!(
        result(&z, "192.0.2.4").await,
        SpfResult::Fail,
        "no PTR: no match"
    );

    // Eleven PTR names; only the 11th validates, and it is ignored (§4.6.4).
    let mut text = String::from("example.com TXT \"v=spf1 ptr -all\"\n");
    for i in 0..11 {
        let addr = if i == 10 { "192.0.2.5" } else { "192.0.2.50" };
        text.push_str(&format!(
            "192.0.2.5 PTR h{i}.example.com\nh{i}.example.com A {addr}\n"
        ));
    }
    let z = zone(&text);
    assert_eq!(result(&z, "192.0.2.5").await, SpfResult::Fail);
    let z = zone(&text.replace("h9.example.com A 192.0.2.50", "h9.example.com A 192.0.2.5"));
    assert_eq!(
        result(&z, "192.0.2.5").await,
        SpfResult::Pass,
        "the 10th name is examined"
    );
}

// §5.7: "exists" queries A whatever the client's family and matches on any answer.
#[tokio::test]
async fn exists_mechanism() {
    let z = zone(
        r#"
        example.com TXT "v=spf1 exists:%{ir}.%{l}._spf.%{d} -all"
        1.2.0.192.user._spf.example.com A 127.0.0.2
        1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.user._spf.example.com A 127.0.0.2
    "#,
    );
    assert_eq!(result(&z, "192.0.2.1").await, SpfResult::Pass);
    assert_eq!(result(&z, "2001:db8::1").await, SpfResult::Pass);
    assert_eq!(result(&z, "192.0.2.2").await, SpfResult::Fail);
}

// §5.2: include matches on pass, not on fail/softfail/neutral; none is a permerror; errors propagate.
#[tokio::test]
async fn include_mechanism() {
    let z = zone(
        r#"
        example.com TXT "v=spf1 include:pass.example.org include:fail.example.org ~all"
        pass.example.org TXT "v=spf1 ip4:192.0.2.1 -all"
        fail.example.org TXT "v=spf1 -ip4:192.0.2.2 ?all"
        none.example.com TXT "v=spf1 include:nothing.example.org -all"
        temp.example.com TXT "v=spf1 include:slow.example.org -all"
        slow.example.org TIMEOUT
        perm.example.com TXT "v=spf1 include:broken.example.org -all"
        broken.example.org TXT "v=spf1 bogus"
    "#,
    );
    let out = check(&z, "192.0.2.1", "u@example.com").await;
    assert_eq!(out.result, SpfResult::Pass);
    assert_eq!(
        out.matched().unwrap().to_string(),
        "include:pass.example.org"
    );
    assert_eq!(out.dns_lookups, 1);
    assert_eq!(result(&z, "192.0.2.2").await, SpfResult::Softfail);
    let out = check(&z, "192.0.2.1", "u@none.example.com").await;
    assert_eq!(out.result, SpfResult::Permerror);
    assert!(matches!(
        out.error(),
        Some(SpfError::NoRecordAtTarget { .. })
    ));
    assert_eq!(
        check(&z, "192.0.2.1", "u@temp.example.com").await.result,
        SpfResult::Temperror
    );
    let out = check(&z, "192.0.2.1", "u@perm.example.com").await;
    assert_eq!(out.result, SpfResult::Permerror);
    assert!(matches!(out.error(), Some(SpfError::Syntax { .. })));
}

// §6.1: redirect applies only when nothing matched, replaces the domain, and a target without a
// record is a permerror.
#[tokio::test]
async fn redirect_modifier() {
    let z = zone(
        r#"
        example.com TXT "v=spf1 ip4:192.0.2.1 redirect=_spf.example.org"
        _spf.example.org TXT "v=spf1 a -all"
        _spf.example.org A 192.0.2.2
        all.example.com TXT "v=spf1 ?all redirect=_spf.example.org"
        gone.example.com TXT "v=spf1 redirect=nothing.example.org"
    "#,
    );
    assert_eq!(result(&z, "192.0.2.1").await, SpfResult::Pass);
    let out = check(&z, "192.0.2.2", "u@example.com").await;
    assert_eq!(out.result, SpfResult::Pass);
    assert!(
        matches!(&out.cause, Cause::Match { record, .. } if record.domain() == "_spf.example.org")
    );
    assert_eq!(out.dns_lookups, 2, "redirect and a");
    assert_eq!(result(&z, "192.0.2.3").await, SpfResult::Fail);
    assert_eq!(
        check(&z, "192.0.2.2", "u@all.example.com").await.result,
        SpfResult::Neutral
    );
    assert_eq!(
        check(&z, "192.0.2.2", "u@gone.example.com").await.result,
        SpfResult::Permerror
    );
}

// §6.2: exp= is fetched only on fail, expanded with c/r/t allowed, and ignored (default used) when it
// cannot be fetched or parsed.
#[tokio::test]
async fn exp_modifier() {
    let z = zone(
        r#"
        example.com TXT "v=spf1 -ip4:192.0.2.1 ~all exp=why.%{d}"
        why.example.com TXT "%{c} may not send for %{o} (asked %{r}, %{l})"
        bad.example.com TXT "v=spf1 -all exp=broken.example.com"
        broken.example.com TXT "100%"
        two.example.com TXT "v=spf1 -all exp=twice.example.com"
        twice.example.com TXT "one"
        twice.example.com TXT "two"
    "#,
    );
    let mut config = Config::default();
    config.receiver = "mx.example.net".into();
    config.default_explanation = "not allowed: %{i}".into();
    let spf = Verifier::with_config(&z, config);
    let out = spf
        .check_mail_from(ip("192.0.2.1"), "h.example.net", "bob@example.com")
        .await;
    assert_eq!(out.result, SpfResult::Fail);
    assert_eq!(
        out.explanation.as_deref(),
        Some("192.0.2.1 may not send for example.com (asked mx.example.net, bob)")
    );
    assert_eq!(out.dns_lookups, 0, "exp= is not a counted term");
    let out = spf
        .check_mail_from(ip("192.0.2.2"), "h.example.net", "bob@example.com")
        .await;
    assert_eq!(out.result, SpfResult::Softfail);
    assert_eq!(out.explanation, None, "explanations only on fail");
    for sender in ["bob@bad.example.com", "bob@two.example.com"] {
        let out = spf
            .check_mail_from(ip("192.0.2.9"), "h.example.net", sender)
            .await;
        assert_eq!(
            out.explanation.as_deref(),
            Some("not allowed: 192.0.2.9"),
            "{sender}"
        );
    }
}

// §4.6.4: at most 10 DNS-querying terms; the 11th is a permerror. Void lookups beyond 2 too.
#[tokio::test]
async fn lookup_limits() {
    let ten = "a:x.example.com ".repeat(10);
    let z = zone(&format!(
        "example.com TXT \"v=spf1 {ten}-all\"\neleven.example.com TXT \"v=spf1 {ten}a:x.example.com -all\"\nx.example.com A 192.0.2.1"
    ));
    let out = check(&z, "192.0.2.2", "u@example.com").await;
    assert_eq!((out.result, out.dns_lookups), (SpfResult::Fail, 10));
    let out = check(&z, "192.0.2.2", "u@eleven.example.com").await;
    assert_eq!(out.result, SpfResult::Permerror);
    assert!(matches!(
        out.error(),
        Some(SpfError::TooManyDnsLookups { limit: 10 })
    ));

    let z =
        zone(r#"example.com TXT "v=spf1 a:n1.example.com a:n2.example.com a:n3.example.com -all""#);
    let out = check(&z, "192.0.2.2", "u@example.com").await;
    assert_eq!(out.result, SpfResult::Permerror);
    assert_eq!(out.void_lookups, 3);
    let mut config = Config::default();
    config.max_void_lookups = 3;
    let out = Verifier::with_config(&z, config)
        .check_mail_from(ip("192.0.2.2"), "h", "u@example.com")
        .await;
    assert_eq!(out.result, SpfResult::Fail);
}

// §4.5: no record is none; two are a permerror; other TXT records are ignored; §4.6: syntax errors
// anywhere are a permerror, even after a match.
#[tokio::test]
async fn record_selection() {
    let z = zone(
        r#"
        one.example.com TXT "google-site-verification=x"
        one.example.com TXT "v=spf1 " "+all"
        two.example.com TXT "v=spf1 +all"
        two.example.com TXT "v=spf1 -all"
        late.example.com TXT "v=spf1 +all ip4:1.2.3"
        bytes.example.com TXT "v=spf1 a:\200.example.com -all"
    "#,
    );
    assert_eq!(
        check(&z, "192.0.2.1", "u@one.example.com").await.result,
        SpfResult::Pass
    );
    assert_eq!(
        check(&z, "192.0.2.1", "u@two.example.com").await.result,
        SpfResult::Permerror
    );
    assert_eq!(
        check(&z, "192.0.2.1", "u@late.example.com").await.result,
        SpfResult::Permerror
    );
    assert_eq!(
        check(&z, "192.0.2.1", "u@bytes.example.com").await.result,
        SpfResult::Permerror
    );
    let out = check(&z, "192.0.2.1", "u@absent.example.com").await;
    assert_eq!(out.result, SpfResult::None);
    assert!(matches!(out.cause, Cause::NoRecord { .. }));
}

// §4.3: a malformed or single-label domain gives none without any query.
#[tokio::test]
async fn invalid_domains_give_none() {
    let z = zone("");
    for sender in [
        "u@localhost",
        "u@[192.0.2.1]",
        "u@a..example.com",
        "u@example.123",
    ] {
        let out = check(&z, "192.0.2.1", sender).await;
        assert_eq!(out.result, SpfResult::None, "{sender}");
        assert!(matches!(out.cause, Cause::InvalidDomain { .. }));
    }
    assert_eq!(z.query_count(), 0);
}

// §2.3, §2.4: the HELO identity, and the null sender checked as postmaster@helo.
#[tokio::test]
async fn helo_identity_and_null_sender() {
    let z = zone(
        r#"
        mail.example.com TXT "v=spf1 exists:%{l}.%{o}.check.example.com -all"
        postmaster.mail.example.com.check.example.com A 127.0.0.2
    "#,
    );
    let spf = Verifier::new(&z);
    let out = spf.check_helo(ip("192.0.2.1"), "mail.example.com").await;
    assert_eq!(
        (out.result, out.identity),
        (SpfResult::Pass, Identity::Helo)
    );
    let out = spf
        .check_mail_from(ip("192.0.2.1"), "mail.example.com", "")
        .await;
    assert_eq!(
        (out.result, out.identity),
        (SpfResult::Pass, Identity::MailFrom)
    );
    let out = spf
        .check_mail_from(ip("192.0.2.1"), "mail.example.com", "<>")
        .await;
    assert_eq!(out.result, SpfResult::Pass);
    assert_eq!(out.domain(), "mail.example.com");
    let out = spf.check_helo(ip("192.0.2.1"), "[192.0.2.1]").await;
    assert_eq!(out.result, SpfResult::None);
    let out = spf
        .check_mail_from(ip("192.0.2.1"), "x", "@mail.example.com")
        .await;
    assert_eq!(
        out.result,
        SpfResult::Pass,
        "no local part means postmaster"
    );
}

// §7.3: every macro letter, in a name that is queried.
#[tokio::test]
async fn macro_letters() {
    let z = zone(
        r#"
        example.com TXT "v=spf1 exists:%{s}.%{l}.%{o}.%{d}.%{i}.%{v}.%{h}.%{p}.m.example.org -all"
        192.0.2.1 PTR host.example.com
        host.example.com A 192.0.2.1
        u@example.com.u.example.com.example.com.192.0.2.1.in-addr.helo.example.net.host.example.com.m.example.org A 127.0.0.2
    "#,
    );
    assert_eq!(
        result_for(&z, "192.0.2.1", "u@example.com").await,
        SpfResult::Pass
    );

    // %{p} is "unknown" when no PTR name validates.
    let z = zone(
        r#"
        example.com TXT "v=spf1 exists:%{p}.m.example.org -all"
        unknown.m.example.org A 127.0.0.2
    "#,
    );
    assert_eq!(result(&z, "192.0.2.1").await, SpfResult::Pass);
}

async fn result_for(z: &ZoneResolver, client: &str, sender: &str) -> SpfResult {
    check(z, client, sender).await.result
}

// §7.3: a name longer than 253 characters after expansion loses labels on the left.
#[tokio::test]
async fn long_names_are_truncated() {
    let local = [
        "a".repeat(60),
        "b".repeat(60),
        "c".repeat(60),
        "d".repeat(60),
    ]
    .join(".");
    let z = zone(&format!(
        "example.com TXT \"v=spf1 exists:%{{l}}.t.example.com -all\"\n{}.{}.{}.t.example.com A 127.0.0.2",
        "b".repeat(60),
        "c".repeat(60),
        "d".repeat(60)
    ));
    assert_eq!(
        result_for(&z, "192.0.2.1", &format!("{local}@example.com")).await,
        SpfResult::Pass
    );
}

// §4.6.4 / §11.1: the overall time limit ends evaluation with temperror.
#[tokio::test]
async fn overall_timeout_is_temperror() {
    let mut config = Config::default();
    config.timeout = Some(Duration::from_millis(50));
    let spf = Verifier::with_config(Hang, config);
    let out = spf
        .check_mail_from(ip("192.0.2.1"), "h.example", "u@example.com")
        .await;
    assert_eq!(out.result, SpfResult::Temperror);
    assert_eq!(out.error(), Some(&SpfError::Timeout));
}

// The trait is object safe: a verifier over Arc<dyn Resolver> works.
#[tokio::test]
async fn dyn_resolver() {
    let shared: Arc<dyn Resolver> =
        Arc::new(zone(r#"example.com TXT "v=spf1 ip4:192.0.2.1 -all""#));
    let spf = Verifier::new(shared.clone());
    let out = spf
        .check_mail_from(ip("192.0.2.1"), "h", "u@example.com")
        .await;
    assert_eq!(out.result, SpfResult::Pass);
}
