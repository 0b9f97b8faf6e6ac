use super::*;
use crate::dns::{LookupError, RecordType, ZoneResolver};
use crate::test_util::{block, ip};
use std::fmt::Write;

const ZONE: &str = r#"
    # pass, IPv4
    192.0.2.1            PTR   mail.example.com
    mail.example.com.    A     192.0.2.1
    mail.example.com.    AAAA  2001:db8::1
    # pass, IPv6
    2001:db8::1          PTR   mail.example.com
    # PTR name whose A records do not include the client
    192.0.2.2            PTR   other.example.com
    other.example.com.   A     192.0.2.200
    # PTR name that does not exist / has no A
    192.0.2.3            PTR   gone.example.com
    192.0.2.4            PTR   v6only.example.com
    v6only.example.com.  AAAA  2001:db8::4
    # PTR answer faults
    192.0.2.5            PTR   slow.example.com
    slow.example.com.    TIMEOUT
    6.2.0.192.in-addr.arpa.  TIMEOUT PTR
    7.2.0.192.in-addr.arpa.  SERVFAIL PTR
    # several names: first not confirmed, second confirmed, third times out
    192.0.2.8            PTR   other.example.com
    192.0.2.8            PTR   good8.example.com
    192.0.2.8            PTR   slow.example.com
    good8.example.com.   A     192.0.2.8
    # several names: one void, one timing out, none confirmed
    192.0.2.9            PTR   gone.example.com
    192.0.2.9            PTR   slow.example.com
    # numeric and invalid names only
    192.0.2.10           PTR   192.0.2.10
    192.0.2.10           PTR   bad_-.example..com
    # CNAME'd forward name
    192.0.2.11           PTR   alias.example.com
    alias.example.com.   CNAME real.example.net
    real.example.net.    A     192.0.2.11
    # a name with an IPv4-mapped AAAA only
    192.0.2.12           PTR   mapped.example.com
    mapped.example.com.  AAAA  ::ffff:192.0.2.12
    # the same name twice, and in upper case
    192.0.2.13           PTR   Twice.Example.com.
    192.0.2.13           PTR   twice.example.com
    twice.example.com.   A     192.0.2.13
    # the reverse name exists without PTR records: NODATA
    14.2.0.192.in-addr.arpa.  TXT "no ptr here"
    # a first name that is invalid, a second that would pass
    192.0.2.15           PTR   192.0.2.15
    192.0.2.15           PTR   good15.example.com
    good15.example.com.  A     192.0.2.15
    # two names confirmed by A; the second one's AAAA would time out
    192.0.2.16           PTR   good16.example.com
    192.0.2.16           PTR   half.example.com
    good16.example.com.  A     192.0.2.16
    half.example.com.    A     192.0.2.16
    half.example.com.    TIMEOUT AAAA
"#;

fn zone() -> ZoneResolver {
    ZONE.parse().unwrap()
}

fn run(client: &str, options: &IprevOptions) -> IprevOutput {
    block(check(&zone(), ip(client), options))
}

fn statuses(out: &IprevOutput) -> Vec<NameStatus> {
    out.names.iter().map(|n| n.status).collect()
}

#[test]
fn pass_v4_and_v6() {
    let d = IprevOptions::default();
    let out = run("192.0.2.1", &d);
    assert_eq!(out.result, IprevResult::Pass);
    assert_eq!(out.confirmed_name(), Some("mail.example.com"));
    assert_eq!(out.reverse_name(), Some("mail.example.com"));
    assert_eq!(out.lookups[0].name, "1.2.0.192.in-addr.arpa");
    assert_eq!(out.lookups[0].rtype, RecordType::Ptr);
    assert_eq!(out.lookups[1].rtype, RecordType::A);
    assert_eq!(out.lookups.len(), 2);

    let out = run("2001:db8::1", &d);
    assert_eq!(out.result, IprevResult::Pass);
    assert_eq!(
        out.lookups[1].rtype,
        RecordType::Aaaa,
        "client family: AAAA"
    );
    assert_eq!(out.lookups.len(), 2);
}

#[test]
fn ipv4_mapped_client_is_checked_as_ipv4() {
    let out = run("::ffff:192.0.2.1", &IprevOptions::default());
    assert_eq!(out.result, IprevResult::Pass);
    assert_eq!(out.client, ip("192.0.2.1"));
    assert_eq!(out.lookups[0].name, "1.2.0.192.in-addr.arpa");
    assert_eq!(out.lookups[1].rtype, RecordType::A);
}

#[test]
fn fail_outcomes() {
    let d = IprevOptions::default();
    let out = run("192.0.2.2", &d);
    assert_eq!(out.result, IprevResult::Fail, "other addresses");
    assert_eq!(statuses(&out), [NameStatus::NotConfirmed]);
    assert_eq!(out.confirmed_name(), None);
    assert_eq!(out.reverse_name(), Some("other.example.com"));

    let out = run("192.0.2.3", &d);
    assert_eq!(out.result, IprevResult::Fail, "forward NXDOMAIN");
    assert_eq!(out.lookups[1].outcome, Err(LookupError::NxDomain));

    let out = run("192.0.2.4", &d);
    assert_eq!(
        out.result,
        IprevResult::Fail,
        "forward NODATA in the client family"
    );
    assert_eq!(out.lookups[1].outcome, Err(LookupError::NoData));
}

#[test]
fn permerror_outcomes() {
    let d = IprevOptions::default();
    let out = run("192.0.2.100", &d);
    assert_eq!(out.result, IprevResult::PermError, "PTR NXDOMAIN");
    assert!(out.names.is_empty());
    assert_eq!(out.lookups.len(), 1);

    let out = run("192.0.2.14", &d);
    assert_eq!(out.result, IprevResult::PermError, "PTR NODATA");
    assert_eq!(out.lookups[0].outcome, Err(LookupError::NoData));

    let out = run("192.0.2.10", &d);
    assert_eq!(out.result, IprevResult::PermError, "only unusable names");
    assert_eq!(statuses(&out), [NameStatus::Invalid, NameStatus::Invalid]);
    assert_eq!(out.lookups.len(), 1, "invalid names are not queried");
    assert_eq!(out.reverse_name(), None);

    let none = IprevOptions {
        max_names: 0,
        ..IprevOptions::default()
    };
    let out = run("192.0.2.1", &none);
    assert_eq!(out.result, IprevResult::PermError);
    assert_eq!(statuses(&out), [NameStatus::OverLimit]);
}

#[test]
fn temperror_outcomes() {
    let d = IprevOptions::default();
    let out = run("192.0.2.6", &d);
    assert_eq!(out.result, IprevResult::TempError, "PTR TIMEOUT");
    assert_eq!(out.lookups[0].outcome, Err(LookupError::Timeout));
    assert!(out.names.is_empty());
    assert_eq!(
        run("192.0.2.7", &d).result,
        IprevResult::TempError,
        "PTR SERVFAIL"
    );

    let out = run("192.0.2.5", &d);
    assert_eq!(out.result, IprevResult::TempError, "forward TIMEOUT");
    assert_eq!(statuses(&out), [NameStatus::TempError]);

    // One name void, the other timing out: not a failure, the second might have matched.
    let out = run("192.0.2.9", &d);
    assert_eq!(out.result, IprevResult::TempError);
    assert_eq!(
        statuses(&out),
        [NameStatus::NotConfirmed, NameStatus::TempError]
    );
}

#[test]
fn forward_servfail_is_temperror() {
    let zone: ZoneResolver = "
        192.0.2.6            PTR   broken.example.com
        broken.example.com.  SERVFAIL
    "
    .parse()
    .unwrap();
    let out = block(check(&zone, ip("192.0.2.6"), &IprevOptions::default()));
    assert_eq!(out.result, IprevResult::TempError);
    assert!(matches!(
        out.lookups[1].outcome,
        Err(LookupError::ServerFailure(_))
    ));
}

#[test]
fn several_names_stop_at_first_pass() {
    let out = run("192.0.2.8", &IprevOptions::default());
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
    assert_eq!(
        out.reverse_name(),
        Some("other.example.com"),
        "first, unverified"
    );
    assert_eq!(out.lookups.len(), 3, "PTR + two A");
}

#[test]
fn pass_wins_over_temp_error_unless_asked() {
    let mut all = IprevOptions {
        stop_at_first_pass: false,
        ..IprevOptions::default()
    };
    let out = run("192.0.2.8", &all);
    assert_eq!(out.result, IprevResult::Pass);
    assert_eq!(
        statuses(&out),
        [
            NameStatus::NotConfirmed,
            NameStatus::Confirmed,
            NameStatus::TempError
        ]
    );
    all.temp_error_wins = true;
    assert_eq!(run("192.0.2.8", &all).result, IprevResult::TempError);
}

#[test]
fn cname_forward_name() {
    let out = run("192.0.2.11", &IprevOptions::default());
    assert_eq!(out.result, IprevResult::Pass);
    assert_eq!(out.confirmed_name(), Some("alias.example.com"));
}

#[test]
fn families() {
    let both = IprevOptions {
        families: ForwardFamilies::Both,
        ..IprevOptions::default()
    };
    // Only an IPv4-mapped AAAA record: found with both families, not with the client's.
    assert_eq!(
        run("192.0.2.12", &IprevOptions::default()).result,
        IprevResult::Fail
    );
    let out = run("192.0.2.12", &both);
    assert_eq!(out.result, IprevResult::Pass);
    let types: Vec<_> = out.lookups.iter().map(|l| l.rtype).collect();
    assert_eq!(types, [RecordType::Ptr, RecordType::A, RecordType::Aaaa]);
    // A match in the client family needs no second lookup.
    assert_eq!(run("192.0.2.1", &both).lookups.len(), 2);
    // NODATA in A and an AAAA not matching: fail, after both lookups.
    let out = run("192.0.2.4", &both);
    assert_eq!(out.result, IprevResult::Fail);
    assert_eq!(out.lookups.len(), 3);
}

#[test]
fn duplicate_names_are_checked_once() {
    let out = run("192.0.2.13", &IprevOptions::default());
    assert_eq!(out.result, IprevResult::Pass);
    assert_eq!(out.names.len(), 1);
    assert_eq!(out.names[0].name, "twice.example.com");
}

#[test]
fn postfix_preset_uses_the_first_name_only() {
    let p = IprevOptions::postfix();
    let out = run("192.0.2.8", &p);
    assert_eq!(
        out.result,
        IprevResult::Fail,
        "only other.example.com is tried"
    );
    assert_eq!(
        statuses(&out),
        [
            NameStatus::NotConfirmed,
            NameStatus::OverLimit,
            NameStatus::OverLimit
        ]
    );
    // A numeric first name counts as "no name" (Postfix: PERM), even if a later one is good.
    let out = run("192.0.2.15", &p);
    assert_eq!(out.result, IprevResult::PermError);
    assert_eq!(
        run("192.0.2.15", &IprevOptions::default()).result,
        IprevResult::Pass
    );
    assert_eq!(run("192.0.2.1", &p).result, IprevResult::Pass);
}

#[test]
fn exim_preset_checks_everything_and_defers() {
    let e = IprevOptions::exim();
    // good8 passes but slow.example.com times out: Exim defers.
    let out = run("192.0.2.8", &e);
    assert_eq!(out.result, IprevResult::TempError);
    assert_eq!(
        out.confirmed_names().collect::<Vec<_>>(),
        ["good8.example.com"]
    );
    // Within one name, a match in the first family ends it: the AAAA that would time out is
    // not asked (Exim too ignores an AAAA failure when the A lookup succeeds).
    let out = run("192.0.2.16", &e);
    assert_eq!(out.result, IprevResult::Pass);
    assert_eq!(
        statuses(&out),
        [NameStatus::Confirmed, NameStatus::Confirmed]
    );
    assert_eq!(out.lookups.len(), 3);
    assert_eq!(run("192.0.2.1", &e).result, IprevResult::Pass);
}

fn fifty_names() -> ZoneResolver {
    let mut text = String::new();
    for i in 0..50 {
        writeln!(text, "192.0.2.50 PTR host{i}.example.com").unwrap();
        writeln!(text, "host{i}.example.com. A 192.0.2.{i}").unwrap();
    }
    text.parse().unwrap()
}

#[test]
fn fifty_ptr_names_are_bounded() {
    let zone = fifty_names();
    let out = block(check(&zone, ip("192.0.2.50"), &IprevOptions::default()));
    assert_eq!(out.result, IprevResult::Fail);
    assert_eq!(zone.query_count(), 1 + DEFAULT_MAX_NAMES);
    assert_eq!(out.lookups.len(), 1 + DEFAULT_MAX_NAMES);
    assert_eq!(out.names.len(), 50);
    let over = out
        .names
        .iter()
        .filter(|n| n.status == NameStatus::OverLimit);
    assert_eq!(over.count(), 40);

    let zone = fifty_names();
    let both = IprevOptions {
        families: ForwardFamilies::Both,
        max_names: 5,
        ..IprevOptions::default()
    };
    block(check(&zone, ip("192.0.2.50"), &both));
    assert_eq!(zone.query_count(), 1 + 5 * 2);

    let zone = fifty_names();
    block(check(&zone, ip("192.0.2.50"), &IprevOptions::postfix()));
    assert_eq!(zone.query_count(), 2);
}

#[test]
fn reverse_only() {
    let z = zone();
    let rev = |client: &str| block(check_reverse(&z, ip(client)));
    let out = rev("192.0.2.2");
    assert_eq!(
        out.result,
        IprevResult::Pass,
        "exists, even though it does not map back"
    );
    assert_eq!(out.names, ["other.example.com"]);
    assert_eq!(out.reverse_name(), Some("other.example.com"));
    assert_eq!(out.lookups.len(), 1);

    assert_eq!(rev("::ffff:192.0.2.2").client, ip("192.0.2.2"));
    assert_eq!(
        rev("192.0.2.100").result,
        IprevResult::PermError,
        "NXDOMAIN"
    );
    assert_eq!(rev("192.0.2.14").result, IprevResult::PermError, "NODATA");
    let out = rev("192.0.2.10");
    assert_eq!(
        out.result,
        IprevResult::PermError,
        "numeric and invalid names only"
    );
    assert_eq!(out.names.len(), 2);
    assert_eq!(rev("192.0.2.15").reverse_name(), Some("good15.example.com"));
    assert_eq!(rev("192.0.2.6").result, IprevResult::TempError, "TIMEOUT");
    assert_eq!(rev("192.0.2.7").result, IprevResult::TempError, "SERVFAIL");
    assert_eq!(z.query_count(), 8, "one query each");
}

#[test]
fn display_and_dyn_resolver() {
    assert_eq!(IprevResult::Pass.to_string(), "pass");
    assert_eq!(IprevResult::Fail.to_string(), "fail");
    assert_eq!(IprevResult::TempError.to_string(), "temperror");
    assert_eq!(IprevResult::PermError.to_string(), "permerror");
    fn assert_send<T: Send>(t: T) -> T {
        t
    }
    let z = zone();
    let resolver: &dyn Resolver = &z;
    let options = IprevOptions::default();
    let out = block(assert_send(check(resolver, ip("192.0.2.1"), &options)));
    assert_eq!(out.result, IprevResult::Pass);
    let out = block(assert_send(check_reverse(resolver, ip("192.0.2.1"))));
    assert_eq!(out.result, IprevResult::Pass);
}
