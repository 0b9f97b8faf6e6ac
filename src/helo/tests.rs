use super::*;
use crate::dns::{LookupError, RecordType, ZoneResolver};
use crate::name::is_host_name;
use crate::test_util::{block, ip};
use proptest::prelude::*;

fn syntax(arg: &str) -> HeloSyntax {
    HeloName::parse(arg).syntax()
}

#[test]
fn names_are_classified() {
    use HeloSyntax as S;
    let long_label = format!("{}.example.com", "a".repeat(64));
    let label63 = format!("{}.example.com", "a".repeat(63));
    let too_long = format!("{}com", "abcdefghi.".repeat(26));
    let cases: &[(&str, HeloSyntax)] = &[
        ("mail.example.com", S::Fqdn),
        ("MAIL.Example.COM.", S::Fqdn),
        ("xn--mller-kva.example", S::Fqdn),
        ("a-b.c-d.example", S::Fqdn),
        ("123.example.com", S::Fqdn),
        ("example.1-1", S::Fqdn),
        (&label63, S::Fqdn),
        ("", S::Empty),
        (".", S::EmptyLabel),
        ("a..example.com", S::EmptyLabel),
        (".example.com", S::EmptyLabel),
        ("example.com..", S::EmptyLabel),
        (&long_label, S::LabelTooLong),
        (&too_long, S::NameTooLong),
        ("-a.example.com", S::BadHyphen),
        ("a-.example.com", S::BadHyphen),
        ("example.com-", S::BadHyphen),
        ("foo_bar.example.com", S::Underscore),
        ("_", S::Underscore),
        ("mailserver", S::SingleLabel),
        ("MAILSERVER.", S::SingleLabel),
        ("localhost", S::Localhost),
        ("LocalHost.", S::Localhost),
        ("mail.localhost", S::Localhost),
        ("localhost.localdomain", S::Localhost),
        ("LocalHost.LocalDomain.", S::Localhost),
        ("mail.localhost.localdomain", S::Fqdn),
        ("localhost.localdomain.example", S::Fqdn),
        ("mail.123", S::NumericTld),
        ("1.2.3.4.5", S::Numeric),
        ("300.1.2.3", S::Numeric),
        ("12345", S::Numeric),
        ("müller.example", S::NonAscii),
        ("MÜLLER-PC", S::NonAscii),
        ("mail example.com", S::InvalidChars),
        ("[1.2.3.4] extra", S::BadLiteral),
        ("mail.example.com extra", S::InvalidChars),
        ("user@example.com", S::InvalidChars),
        ("mail.example.com\r", S::InvalidChars),
        ("2001:db8::zz", S::InvalidChars),
    ];
    for (arg, want) in cases {
        assert_eq!(syntax(arg), *want, "{arg:?}");
    }
}

#[test]
fn addresses_are_classified() {
    use HeloSyntax as S;
    let cases: &[(&str, HeloSyntax)] = &[
        ("[192.0.2.1]", S::AddressLiteral(ip("192.0.2.1"))),
        ("[192.000.002.001]", S::AddressLiteral(ip("192.0.2.1"))),
        ("[IPv6:2001:db8::1]", S::AddressLiteral(ip("2001:db8::1"))),
        ("[ipv6:2001:DB8::1]", S::AddressLiteral(ip("2001:db8::1"))),
        (
            "[IPV6:::ffff:192.0.2.1]",
            S::AddressLiteral(ip("::ffff:192.0.2.1")),
        ),
        (
            "[2001:db8::1]",
            S::UntaggedIpv6Literal("2001:db8::1".parse().unwrap()),
        ),
        (
            "[IPv4:192.0.2.1]",
            S::TaggedIpv4Literal("192.0.2.1".parse().unwrap()),
        ),
        (
            "[ipv4:192.0.2.1]",
            S::TaggedIpv4Literal("192.0.2.1".parse().unwrap()),
        ),
        ("[IPv6:192.0.2.1]", S::BadLiteral),
        ("[IPv4:2001:db8::1]", S::BadLiteral),
        ("[192.0.2.256]", S::BadLiteral),
        ("[1.2.3]", S::BadLiteral),
        ("[0001.2.3.4]", S::BadLiteral),
        ("[192.0.2.1", S::BadLiteral),
        ("[192.0.2.1].", S::BadLiteral),
        ("[]", S::BadLiteral),
        ("[", S::BadLiteral),
        ("[mail.example.com]", S::BadLiteral),
        ("[IPv6:fe80::1%eth0]", S::BadLiteral),
        ("192.0.2.1", S::BareIp(ip("192.0.2.1"))),
        ("192.0.2.1.", S::BareIp(ip("192.0.2.1"))),
        ("2001:db8::1", S::BareIp(ip("2001:db8::1"))),
    ];
    for (arg, want) in cases {
        assert_eq!(syntax(arg), *want, "{arg:?}");
    }
}

#[test]
fn flags_and_accessors() {
    let h = HeloName::parse("Mail.XN--Mller-kva.Example.");
    assert!(h.trailing_dot());
    assert!(h.has_a_label());
    assert_eq!(h.normalized(), "mail.xn--mller-kva.example");
    assert_eq!(h.to_string(), "mail.xn--mller-kva.example");
    assert_eq!(h.domain(), Some("mail.xn--mller-kva.example"));
    assert_eq!(h.ip(), None);
    assert!(!h.is_literal());

    let plain = HeloName::parse("mail.example.com");
    assert!(!plain.trailing_dot());
    assert!(!plain.has_a_label());

    let lit = HeloName::parse("[IPv6:2001:DB8::1]");
    assert!(lit.is_literal());
    assert!(!lit.trailing_dot());
    assert_eq!(lit.normalized(), "[ipv6:2001:db8::1]");
    assert_eq!(lit.ip(), Some(ip("2001:db8::1")));
    assert_eq!(lit.domain(), None);

    assert_eq!(
        HeloName::parse("[IPv4:192.0.2.1]").ip(),
        Some(ip("192.0.2.1"))
    );
    assert_eq!(
        HeloName::parse("[2001:db8::2]").ip(),
        Some(ip("2001:db8::2"))
    );
    assert_eq!(HeloName::parse("192.0.2.1").ip(), Some(ip("192.0.2.1")));
    assert!(!HeloName::parse("192.0.2.1").is_literal());
    assert!(HeloName::parse("[bad]").is_literal());

    // Underscores: usable as a domain when multi-label with a proper top label.
    assert_eq!(
        HeloName::parse("foo_bar.example.com").domain(),
        Some("foo_bar.example.com")
    );
    assert_eq!(HeloName::parse("foo_bar").domain(), None);
    assert_eq!(HeloName::parse("example.c_m").domain(), None);
    assert_eq!(HeloName::parse("localhost").domain(), None);
    assert_eq!(HeloName::parse("mail.123").domain(), None);
}

#[test]
fn host_names_for_ptr_targets() {
    assert!(is_host_name("mail.example.com"));
    assert!(is_host_name("host_1.example.com"));
    assert!(!is_host_name("192.0.2.1"));
    assert!(!is_host_name("localhost"));
    assert!(!is_host_name("bad name.example"));
    assert!(!is_host_name(""));
}

/// One row of the reference table (`mta-semantics.md` §2.6): the reply code each preset gives
/// (0 = accepted). The OpenSMTPD column is not modelled.
fn row(arg: &str, postfix_invalid: u16, postfix_non_fqdn: u16, exim: u16) {
    let code = |p: HeloPolicy| p.check(arg).err().map_or(0, |r| r.code);
    let exim_policy = HeloPolicy::Exim {
        allow_chars: String::new(),
    };
    let got = (
        code(HeloPolicy::PostfixInvalid),
        code(HeloPolicy::PostfixNonFqdn { smtputf8: false }),
        code(exim_policy),
    );
    assert_eq!(got, (postfix_invalid, postfix_non_fqdn, exim), "{arg:?}");
}

#[test]
fn table_fqdn() {
    row("mail.example.com", 0, 0, 0);
}

#[test]
fn table_trailing_dot() {
    row("mail.example.com.", 0, 0, 0);
}

#[test]
fn table_bare_ip() {
    row("1.2.3.4", 0, 504, 0);
}

#[test]
fn table_ipv4_literal() {
    row("[1.2.3.4]", 0, 0, 0);
}

#[test]
fn table_ipv6_literal_any_tag_case() {
    row("[IPv6:2001:db8::1]", 0, 0, 0);
    row("[ipv6:2001:db8::1]", 0, 0, 0);
    row("[IPV6:2001:DB8::1]", 0, 0, 0);
}

#[test]
fn table_untagged_ipv6_literal() {
    row("[2001:db8::1]", 501, 501, 0);
}

#[test]
fn table_ipv4_tagged_literal() {
    row("[IPv4:1.2.3.4]", 501, 501, 0);
}

#[test]
fn table_literal_with_extra_text() {
    row("[1.2.3.4] extra", 501, 501, 501);
}

#[test]
fn table_localhost() {
    row("localhost", 0, 504, 0);
    // Classed with `localhost`, but the engines only check syntax: all three accept it.
    row("localhost.localdomain", 0, 0, 0);
    row("LOCALHOST.LOCALDOMAIN.", 0, 0, 0);
}

#[test]
fn table_underscore() {
    row("foo_bar.example.com", 0, 0, 501);
    let exim = HeloPolicy::Exim {
        allow_chars: "_".into(),
    };
    assert_eq!(exim.check("foo_bar.example.com"), Ok(()));
}

#[test]
fn table_bad_hyphen() {
    row("-a.example.com", 501, 504, 0);
    row("a-.example.com", 501, 504, 0);
}

#[test]
fn table_long_label() {
    row(&format!("{}.example.com", "a".repeat(64)), 501, 504, 0);
}

#[test]
fn table_utf8() {
    row("müller.example", 501, 504, 501);
    let utf8 = HeloPolicy::PostfixNonFqdn { smtputf8: true };
    assert_eq!(utf8.check("müller.example"), Ok(()));
    assert!(utf8.check("müller").is_err(), "still needs a dot");
    assert!(
        utf8.check("-müller.example").is_err(),
        "still needs hyphen rules"
    );
}

#[test]
fn table_a_label() {
    row("xn--mller-kva.example", 0, 0, 0);
}

#[test]
fn table_empty() {
    row("", 501, 501, 501);
    let r = HeloPolicy::PostfixInvalid.check("").unwrap_err();
    assert_eq!(r.reason, HeloRejectReason::MissingArgument);
    assert_eq!(r.enhanced, None);
}

#[test]
fn postfix_replies() {
    use HeloRejectReason as R;
    let reject = |p: HeloPolicy, arg: &str| p.check(arg).unwrap_err();
    let r = reject(HeloPolicy::PostfixInvalid, "-a.example.com");
    assert_eq!(
        (r.code, r.enhanced, r.reason),
        (501, Some("5.5.2"), R::InvalidName)
    );
    assert_eq!(r.to_string(), "501 5.5.2 Invalid name");
    let r = reject(HeloPolicy::PostfixInvalid, "[2001:db8::1]");
    assert_eq!((r.code, r.reason), (501, R::InvalidAddress));
    assert_eq!(r.to_string(), "501 5.5.2 invalid ip address");
    let non_fqdn = HeloPolicy::PostfixNonFqdn { smtputf8: false };
    let r = reject(non_fqdn.clone(), "[IPv4:1.2.3.4]");
    assert_eq!((r.code, r.reason), (501, R::InvalidAddress));
    let r = reject(non_fqdn, "localhost");
    assert_eq!(
        (r.code, r.enhanced, r.reason),
        (504, Some("5.5.2"), R::NotFullyQualified)
    );
    let exim = HeloPolicy::Exim {
        allow_chars: String::new(),
    };
    let r = reject(exim, "a b");
    assert_eq!(
        (r.code, r.enhanced, r.reason),
        (501, None, R::SyntacticallyInvalid)
    );
    assert_eq!(r.to_string(), "501 Syntactically invalid argument(s)");
}

#[test]
fn postfix_details() {
    let invalid = HeloPolicy::PostfixInvalid;
    let non_fqdn = HeloPolicy::PostfixNonFqdn { smtputf8: false };
    // Underscore alone is a valid Postfix host name; a single label passes the syntax check.
    assert_eq!(invalid.check("_"), Ok(()));
    assert_eq!(invalid.check("mailserver"), Ok(()));
    assert!(non_fqdn.check("mailserver").is_err());
    // All-numeric names are refused, but a numeric top label alone is not.
    assert!(invalid.check("1.2.3.4.5").is_err());
    assert_eq!(invalid.check("mail.123"), Ok(()));
    assert_eq!(non_fqdn.check("mail.123"), Ok(()));
    // Bare IPs: "back compat" for IPv4 and IPv6, but a first octet of 0 only as 0.0.0.0.
    assert_eq!(invalid.check("2001:db8::1"), Ok(()));
    assert_eq!(invalid.check("1.2.3.4."), Ok(()));
    assert!(invalid.check("0.1.2.3").is_err());
    assert_eq!(invalid.check("0.0.0.0"), Ok(()));
    assert!(invalid.check("[0.1.2.3]").is_err());
    assert_eq!(invalid.check("[0.0.0.0]"), Ok(()));
    assert!(non_fqdn.check("2001:db8::1").is_err());
    // Length: 255 bytes is Postfix's limit, not 253.
    let n255 = format!("{}.example.com", vec!["a".repeat(60); 4].join("."));
    assert_eq!(n255.len(), 255);
    assert_eq!(syntax(&n255), HeloSyntax::NameTooLong);
    assert_eq!(invalid.check(&n255), Ok(()));
    assert_eq!(
        invalid.check(&format!("{n255}.")),
        Ok(()),
        "the dot is not counted"
    );
    assert!(invalid.check(&format!("a{n255}")).is_err());
    // Empty labels and bad literals.
    assert!(invalid.check("a..example.com").is_err());
    assert!(invalid.check("mail.example.com..").is_err());
    assert!(invalid.check(".").is_err());
    assert!(invalid.check("[1.2.3.4").is_err());
    assert!(invalid.check("[]").is_err());
    assert!(invalid.check("[IPv6:fe80::1%eth0]").is_err());
}

#[test]
fn exim_details() {
    let exim = HeloPolicy::Exim {
        allow_chars: String::new(),
    };
    for ok in [
        "a",
        "-.-",
        "..",
        "1.2.3.4",
        "[IPv6:fe80::1%eth0]",
        "[fe80::1%eth0]",
        "[IPv4:1.2.3.4]",
        "[ipv4:1.2.3.4]",
        "[2001:db8::1]",
    ] {
        assert_eq!(exim.check(ok), Ok(()), "{ok:?}");
    }
    for bad in [
        "",
        "[",
        "[]",
        "[1.2.3.4",
        "[1.2.3.4/24]",
        "[IPv4:1.2.3.4%eth0]",
        "[IPv6:1.2.3.4]",
        "[IPv4:2001:db8::1]",
        "[01.2.3.4]",
        "[mail.example.com]",
        "a:b",
        "2001:db8::1",
        "a b",
        "foo_bar",
    ] {
        assert!(exim.check(bad).is_err(), "{bad:?}");
    }
}

#[test]
fn strict_policy() {
    use HeloRejectReason as R;
    let strict = HeloPolicy::default();
    assert_eq!(strict, HeloPolicy::Strict);
    for ok in [
        "mail.example.com",
        "xn--mller-kva.example",
        "[192.0.2.1]",
        "[IPv6:2001:db8::1]",
    ] {
        assert_eq!(strict.check(ok), Ok(()), "{ok:?}");
    }
    let reason = |arg: &str| strict.check(arg).unwrap_err().reason;
    for (arg, want) in [
        ("", R::MissingArgument),
        ("mail.example.com.", R::InvalidName),
        ("foo_bar.example.com", R::InvalidName),
        ("mail.123", R::InvalidName),
        ("-a.example.com", R::InvalidName),
        ("müller.example", R::InvalidName),
        ("localhost", R::NotFullyQualified),
        ("localhost.localdomain", R::InvalidName),
        ("mailserver", R::NotFullyQualified),
        ("192.0.2.1", R::NotFullyQualified),
        ("[2001:db8::1]", R::InvalidAddress),
        ("[IPv4:192.0.2.1]", R::InvalidAddress),
        ("[192.0.2.1", R::InvalidAddress),
    ] {
        assert_eq!(reason(arg), want, "{arg:?}");
    }
    assert_eq!(strict.check("localhost").unwrap_err().code, 501);
}

const ZONE: &str = r#"
    a.example.com.        A     192.0.2.1
    v6.example.com.       AAAA  2001:db8::1
    mx.example.com.       MX    10 mail.example.net
    nullmx.example.com.   MX    0 .
    txt.example.com.      TXT   "only text"
    alias.example.com.    CNAME a.example.com
    mapped.example.com.   AAAA  ::ffff:192.0.2.1
    slow.example.com.     TIMEOUT
    broken.example.com.   SERVFAIL
    slowa.example.com.    TIMEOUT A
    slowa.example.com.    MX    10 mail.example.net
    slowa6.example.com.   TIMEOUT A
    slowmx.example.com.   TIMEOUT MX
    slowmx.example.com.   TXT   "x"
    both.example.com.     A     192.0.2.7
    both.example.com.     A     192.0.2.1
    both.example.com.     AAAA  2001:db8::7
"#;

fn zone() -> ZoneResolver {
    ZONE.parse().unwrap()
}

fn exists_of(arg: &str) -> HeloOutcome {
    block(exists(
        &zone(),
        &HeloName::parse(arg),
        &ExistsOptions::default(),
    ))
}

#[test]
fn exists_outcomes() {
    use HeloResult as H;
    let o = exists_of("a.example.com");
    assert_eq!(o.result, H::Pass);
    assert_eq!(o.addresses, vec![ip("192.0.2.1")]);
    assert_eq!(o.lookups.len(), 1, "stops at the first success");
    assert_eq!(o.lookups[0].rtype, RecordType::A);

    let o = exists_of("V6.Example.com.");
    assert_eq!(o.result, H::Pass);
    assert_eq!(o.addresses, vec![ip("2001:db8::1")]);
    assert_eq!(o.lookups[0].name, "v6.example.com");
    assert_eq!(o.lookups[0].outcome, Err(LookupError::NoData));
    assert_eq!(o.lookups[1].outcome, Ok(1));

    let o = exists_of("mx.example.com");
    assert_eq!(o.result, H::Pass);
    assert!(o.addresses.is_empty());
    let types: Vec<_> = o.lookups.iter().map(|l| l.rtype).collect();
    assert_eq!(types, [RecordType::A, RecordType::Aaaa, RecordType::Mx]);

    assert_eq!(
        exists_of("nullmx.example.com").result,
        H::Pass,
        "null MX exists"
    );
    assert_eq!(
        exists_of("alias.example.com").result,
        H::Pass,
        "CNAME followed"
    );

    let o = exists_of("txt.example.com");
    assert_eq!(o.result, H::Fail, "NODATA for all three");
    assert_eq!(o.lookups.len(), 3);
    let o = exists_of("nowhere.example.com");
    assert_eq!(o.result, H::Fail, "NXDOMAIN");
    assert!(
        o.lookups
            .iter()
            .all(|l| l.outcome == Err(LookupError::NxDomain))
    );

    assert_eq!(exists_of("slow.example.com").result, H::TempError);
    assert_eq!(exists_of("broken.example.com").result, H::TempError);
    assert_eq!(
        exists_of("slowa.example.com").result,
        H::Pass,
        "MX after an A timeout"
    );
    assert_eq!(
        exists_of("slowa6.example.com").result,
        H::TempError,
        "A timeout, rest void"
    );
    assert_eq!(
        exists_of("slowmx.example.com").result,
        H::TempError,
        "MX timeout"
    );

    for (arg, want) in [
        ("[192.0.2.1]", H::None),
        ("[2001:db8::1]", H::None),
        ("localhost", H::None),
        ("LocalHost.LocalDomain", H::None),
        ("mailserver", H::None),
        ("192.0.2.1", H::PermError),
        ("bad name.example", H::PermError),
        ("-a.example.com", H::PermError),
        ("mail.123", H::PermError),
        ("", H::PermError),
        ("[192.0.2.1", H::PermError),
    ] {
        let o = exists_of(arg);
        assert_eq!(o.result, want, "{arg:?}");
        assert!(o.lookups.is_empty(), "{arg:?} needs no query");
    }
}

/// Postfix keeps the trailing dot, which `valid_hostname()` refuses: "Host not found" (450)
/// without a query. The default looks the name up without the dot.
#[test]
fn exists_postfix_preset_refuses_a_trailing_dot_without_a_query() {
    let zone = zone();
    let dotted = HeloName::parse("a.example.com.");
    let o = block(exists(&zone, &dotted, &ExistsOptions::postfix()));
    assert_eq!(o.result, HeloResult::PermError);
    assert!(o.lookups.is_empty());
    assert_eq!(zone.query_count(), 0, "no query at all");

    let o = block(exists(&zone, &dotted, &ExistsOptions::default()));
    assert_eq!(o.result, HeloResult::Pass);
    assert_eq!(zone.query_count(), 1, "A only");

    // Without a dot, the Postfix preset looks the name up as usual.
    let plain = HeloName::parse("a.example.com");
    let o = block(exists(&zone, &plain, &ExistsOptions::postfix()));
    assert_eq!(o.result, HeloResult::Pass);
    assert_eq!(zone.query_count(), 2);
}

fn confirm_of(arg: &str, client: &str) -> HeloOutcome {
    block(confirm(&zone(), &HeloName::parse(arg), ip(client)))
}

#[test]
fn confirm_literals() {
    use HeloResult as H;
    assert_eq!(confirm_of("[192.0.2.1]", "192.0.2.1").result, H::Pass);
    assert_eq!(
        confirm_of("[192.0.2.1]", "::ffff:192.0.2.1").result,
        H::Pass
    );
    assert_eq!(
        confirm_of("[192.0.2.1]", "192.0.2.11").result,
        H::Fail,
        "no prefix match"
    );
    assert_eq!(
        confirm_of("[192.0.2.11]", "192.0.2.1").result,
        H::Fail,
        "no prefix match"
    );
    assert_eq!(
        confirm_of("[IPv6:2001:db8::1]", "2001:db8::1").result,
        H::Pass
    );
    assert_eq!(
        confirm_of("[IPv6:2001:DB8:0::1]", "2001:db8::1").result,
        H::Pass
    );
    assert_eq!(
        confirm_of("[IPv6:2001:db8::1]", "2001:db8::2").result,
        H::Fail
    );
    assert_eq!(
        confirm_of("[IPv6:::ffff:192.0.2.1]", "192.0.2.1").result,
        H::Pass
    );
    assert_eq!(confirm_of("[2001:db8::1]", "2001:db8::1").result, H::Pass);
    assert_eq!(confirm_of("[IPv4:192.0.2.1]", "192.0.2.1").result, H::Pass);
    let o = confirm_of("[192.0.2.1]", "192.0.2.1");
    assert_eq!(o.addresses, vec![ip("192.0.2.1")]);
    assert!(o.lookups.is_empty());
    assert_eq!(confirm_of("[192.0.2.1", "192.0.2.1").result, H::PermError);
}

#[test]
fn confirm_names() {
    use HeloResult as H;
    let o = confirm_of("both.example.com", "192.0.2.1");
    assert_eq!(o.result, H::Pass);
    assert_eq!(o.addresses, vec![ip("192.0.2.7"), ip("192.0.2.1")]);
    assert_eq!(o.lookups.len(), 1);
    assert_eq!(o.lookups[0].rtype, RecordType::A);

    let o = confirm_of("both.example.com", "192.0.2.99");
    assert_eq!(o.result, H::Fail, "resolves, not to the client");
    assert_eq!(o.addresses.len(), 2);

    let o = confirm_of("both.example.com", "2001:db8::7");
    assert_eq!(o.result, H::Pass);
    assert_eq!(o.lookups[0].rtype, RecordType::Aaaa);

    assert_eq!(
        confirm_of("a.example.com", "::ffff:192.0.2.1").result,
        H::Pass
    );
    assert_eq!(
        confirm_of("alias.example.com", "192.0.2.1").result,
        H::Pass,
        "CNAME"
    );
    assert_eq!(
        confirm_of("v6.example.com", "192.0.2.1").result,
        H::Fail,
        "NODATA"
    );
    assert_eq!(
        confirm_of("nowhere.example.com", "192.0.2.1").result,
        H::Fail,
        "NXDOMAIN"
    );

    let o = confirm_of("slow.example.com", "192.0.2.1");
    assert_eq!(o.result, H::TempError, "a timeout is never a failure");
    assert_eq!(o.lookups[0].outcome, Err(LookupError::Timeout));
    assert_eq!(
        confirm_of("broken.example.com", "2001:db8::1").result,
        H::TempError
    );

    assert_eq!(confirm_of("localhost", "127.0.0.1").result, H::None);
    assert_eq!(confirm_of("mailserver", "192.0.2.1").result, H::None);
    assert_eq!(
        confirm_of("192.0.2.1", "192.0.2.1").result,
        H::PermError,
        "bare IP"
    );
    assert_eq!(confirm_of("bad name", "192.0.2.1").result, H::PermError);
    assert_eq!(confirm_of("", "192.0.2.1").result, H::PermError);
}

#[test]
fn checks_work_through_dyn_resolver_and_are_send() {
    fn assert_send<T: Send>(t: T) -> T {
        t
    }
    let zone = zone();
    let resolver: &dyn Resolver = &zone;
    let helo = HeloName::parse("a.example.com");
    let o = block(assert_send(exists(
        resolver,
        &helo,
        &ExistsOptions::default(),
    )));
    assert_eq!(o.result, HeloResult::Pass);
    let o = block(assert_send(confirm(resolver, &helo, ip("192.0.2.1"))));
    assert_eq!(o.result, HeloResult::Pass);
    assert_eq!(zone.query_count(), 2);
}

/// HELO names of every shape: labels of host characters and of others, around the label and name
/// limits, with and without dots at either end.
fn helo_arg() -> impl Strategy<Value = String> {
    let label = prop_oneof![
        6 => "[a-zA-Z0-9_-]{0,8}",
        1 => "[0-9]{1,3}",
        1 => "[a-z0-9 +:\\[\\]é]{0,4}",
        1 => (62usize..66).prop_map(|n| "x".repeat(n)),
        1 => Just("localhost".to_owned()),
        1 => Just("localdomain".to_owned()),
    ];
    prop_oneof![
        8 => ("\\.?", prop::collection::vec(label, 1..6), "\\.{0,2}")
            .prop_map(|(lead, labels, root)| lead + &labels.join(".") + &root),
        1 => prop::collection::vec("[a-z]{1,9}", 24..30).prop_map(|labels| labels.join(".")),
        1 => any::<String>(),
    ]
}

proptest! {
    #[test]
    fn host_names_are_the_names_helo_looks_up(arg in helo_arg()) {
        prop_assert_eq!(is_host_name(&arg), HeloName::parse(&arg).domain().is_some(), "{:?}", arg);
    }
}
