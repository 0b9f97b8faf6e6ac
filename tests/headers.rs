//! Received-SPF and Authentication-Results: golden output for every SPF result, and hostile values
//! that must not inject a header, break the syntax or make the header longer than a line. The
//! syntax is checked by the strict parsers of `header_grammar` (written from RFC 7208 §9.1 and
//! RFC 8601 §2.2 for the tests, sharing no code with the crate).

mod common;
mod header_grammar;

use common::cases::cases;
use header_grammar::{is_input, parse_authentication_results, parse_received_spf};
use proptest::prelude::*;
use sender_identity::dns::ZoneResolver;
use sender_identity::headers::{
    AuthenticationResults, Header, MAX_HEADER_LEN, MethodResult, ReceivedSpf, quote_value,
};
use sender_identity::spf::{Identity, SpfOutput, Verifier};
use std::net::IpAddr;

const ZONE: &str = r#"
    pass.example     TXT "v=spf1 ip4:192.0.2.0/24 -all"
    fail.example     TXT "v=spf1 -all"
    soft.example     TXT "v=spf1 ~all"
    neutral.example  TXT "v=spf1 ?all"
    default.example  TXT "v=spf1 ip4:198.51.100.1"
    temp.example     TIMEOUT
    perm.example     TXT "v=spf1 ip4:1.2.3"
    helo.example     TXT "v=spf1 a -all"
    helo.example     A   192.0.2.1
"#;

async fn spf(sender: &str, helo: &str) -> SpfOutput {
    let zone: ZoneResolver = ZONE.parse().unwrap();
    let ip: IpAddr = "192.0.2.1".parse().unwrap();
    let spf = Verifier::new(zone);
    if sender.is_empty() {
        spf.check_helo(ip, helo).await
    } else {
        spf.check_mail_from(ip, helo, sender).await
    }
}

fn received(out: &SpfOutput, sender: &str, helo: &str) -> String {
    ReceivedSpf::new(out, "192.0.2.1".parse().unwrap(), helo, sender)
        .receiver("mx.example.net")
        .header()
        .value
}

fn auth_results(out: &SpfOutput, sender: &str) -> String {
    AuthenticationResults::new("mx.example.net")
        .spf(out, sender)
        .header()
        .value
}

#[tokio::test]
async fn golden_received_spf_and_authentication_results() {
    let cases = [
        (
            "a@pass.example",
            "pass (mx.example.net: domain of a@pass.example designates 192.0.2.1 as permitted sender) client-ip=192.0.2.1; envelope-from=\"a@pass.example\"; helo=h.example; receiver=mx.example.net; identity=mailfrom; mechanism=\"ip4:192.0.2.0/24\"",
            "mx.example.net; spf=pass smtp.mailfrom=a@pass.example",
        ),
        (
            "a@fail.example",
            "fail (mx.example.net: domain of a@fail.example does not designate 192.0.2.1 as permitted sender) client-ip=192.0.2.1; envelope-from=\"a@fail.example\"; helo=h.example; receiver=mx.example.net; identity=mailfrom; mechanism=all",
            "mx.example.net; spf=fail smtp.mailfrom=a@fail.example",
        ),
        (
            "a@soft.example",
            "softfail (mx.example.net: transitioning domain of a@soft.example does not designate 192.0.2.1 as permitted sender) client-ip=192.0.2.1; envelope-from=\"a@soft.example\"; helo=h.example; receiver=mx.example.net; identity=mailfrom; mechanism=all",
            "mx.example.net; spf=softfail smtp.mailfrom=a@soft.example",
        ),
        (
            "a@neutral.example",
            "neutral (mx.example.net: 192.0.2.1 is neither permitted nor denied by domain of a@neutral.example) client-ip=192.0.2.1; envelope-from=\"a@neutral.example\"; helo=h.example; receiver=mx.example.net; identity=mailfrom; mechanism=all",
            "mx.example.net; spf=neutral smtp.mailfrom=a@neutral.example",
        ),
        (
            "a@default.example",
            "neutral (mx.example.net: 192.0.2.1 is neither permitted nor denied by domain of a@default.example) client-ip=192.0.2.1; envelope-from=\"a@default.example\"; helo=h.example; receiver=mx.example.net; identity=mailfrom; mechanism=default",
            "mx.example.net; spf=neutral smtp.mailfrom=a@default.example",
        ),
        (
            "a@none.example",
            "none (mx.example.net: none.example does not designate permitted sender hosts) client-ip=192.0.2.1; envelope-from=\"a@none.example\"; helo=h.example; problem=\"none.example has no SPF record\"; receiver=mx.example.net; identity=mailfrom",
            "mx.example.net; spf=none reason=\"none.example has no SPF record\" smtp.mailfrom=a@none.example",
        ),
        (
            "a@temp.example",
            "temperror (mx.example.net: error in processing during lookup of temp.example) client-ip=192.0.2.1; envelope-from=\"a@temp.example\"; helo=h.example; problem=\"DNS lookup for temp.example failed: DNS query timed out\"; receiver=mx.example.net; identity=mailfrom",
            "mx.example.net; spf=temperror reason=\"DNS lookup for temp.example failed: DNS query timed out\" smtp.mailfrom=a@temp.example",
        ),
        (
            "a@perm.example",
            "permerror (mx.example.net: permanent error in processing domain of perm.example) client-ip=192.0.2.1; envelope-from=\"a@perm.example\"; helo=h.example; problem=\"SPF record of perm.example: invalid IPv4 address at byte 7 in \\\"ip4:1.2.3\\\"\"; receiver=mx.example.net; identity=mailfrom",
            "mx.example.net; spf=permerror reason=\"SPF record of perm.example: invalid IPv4 address at byte 7 in \\\"ip4:1.2.3\\\"\" smtp.mailfrom=a@perm.example",
        ),
    ];
    for (sender, want_received, want_ar) in cases {
        let out = spf(sender, "h.example").await;
        assert_eq!(
            received(&out, sender, "h.example"),
            want_received,
            "{sender}"
        );
        assert_eq!(auth_results(&out, sender), want_ar, "{sender}");
    }
}

#[tokio::test]
async fn golden_helo_identity() {
    let out = spf("", "helo.example").await;
    assert_eq!(
        received(&out, "", "helo.example"),
        "pass (mx.example.net: domain of postmaster@helo.example designates 192.0.2.1 as permitted sender) client-ip=192.0.2.1; helo=helo.example; receiver=mx.example.net; identity=helo; mechanism=a"
    );
    assert_eq!(
        auth_results(&out, "helo.example"),
        "mx.example.net; spf=pass smtp.helo=helo.example"
    );
}

#[test]
fn other_methods_and_no_result() {
    let ar = AuthenticationResults::new("mx.example.net")
        .push(MethodResult::new("iprev", "pass").property(
            "policy.iprev",
            "2001:db8::1",
            Some("mail.example.com"),
        ))
        .header();
    assert_eq!(
        ar.value,
        "mx.example.net; iprev=pass policy.iprev=\"2001:db8::1\" (mail.example.com)"
    );
    assert_eq!(
        AuthenticationResults::new("mx.example.net").header().value,
        "mx.example.net; none"
    );
}

/// Folding changes nothing but whitespace, and every line fits.
fn assert_folding(header: &Header) {
    let text = header.to_string();
    for (i, line) in text.split("\r\n").enumerate() {
        assert!(
            !line.contains('\r') && !line.contains('\n'),
            "bare CR or LF in {text:?}"
        );
        assert!(
            line.len() <= MAX_HEADER_LEN,
            "line of {} octets",
            line.len()
        );
        if i > 0 {
            assert!(
                line.starts_with('\t'),
                "continuation without whitespace: {line:?}"
            );
        }
    }
    // Unfolding gives back the one-line form.
    assert_eq!(text.replace("\r\n\t", " "), header.unfolded());
}

/// Checks a Received-SPF header strictly, folded and unfolded: its length, its grammar, one of each
/// key, and the decoded values against the inputs.
fn check_received_spf(header: &Header, out: &SpfOutput, helo: &str, sender: &str, receiver: &str) {
    let unfolded = header.unfolded();
    assert!(
        unfolded.len() <= MAX_HEADER_LEN,
        "{} octets: {unfolded}",
        unfolded.len()
    );
    assert_folding(header);
    let parsed = parse_received_spf(&unfolded).unwrap_or_else(|e| panic!("{e}"));
    let folded = parse_received_spf(&header.to_string()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(parsed, folded);
    assert_eq!(parsed.result, out.result.as_str());
    let mut keys: Vec<&str> = parsed.pairs.iter().map(|(k, _)| k.as_str()).collect();
    keys.sort_unstable();
    let before = keys.len();
    keys.dedup();
    assert_eq!(keys.len(), before, "a key twice: {unfolded}");
    assert!(
        is_input(parsed.get("helo").expect("helo"), helo),
        "{unfolded}"
    );
    assert!(
        is_input(parsed.get("receiver").expect("receiver"), receiver),
        "{unfolded}"
    );
    assert_eq!(parsed.get("client-ip"), Some("192.0.2.1"));
    if out.identity == Identity::MailFrom {
        let from = parsed.get("envelope-from").expect("envelope-from");
        let want = if sender.is_empty() {
            format!("postmaster@{helo}")
        } else {
            sender.to_string()
        };
        assert!(is_input(from, &want), "{unfolded}");
    }
}

/// Checks an Authentication-Results header strictly (RFC 8601), folded and unfolded.
fn check_authentication_results(header: &Header, authserv_id: &str, sender: &str, comment: &str) {
    let unfolded = header.unfolded();
    assert!(
        unfolded.len() <= MAX_HEADER_LEN,
        "{} octets: {unfolded}",
        unfolded.len()
    );
    assert_folding(header);
    let parsed = parse_authentication_results(&unfolded).unwrap_or_else(|e| panic!("{e}"));
    let folded =
        parse_authentication_results(&header.to_string()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(parsed, folded);
    assert!(is_input(&parsed.authserv_id, authserv_id), "{unfolded}");
    let [spf, iprev] = &parsed.results[..] else {
        panic!("two results expected: {unfolded}")
    };
    assert_eq!(spf.method, "spf");
    assert!(
        is_input(&spf.properties[0].1, sender) || sender.is_empty(),
        "{unfolded}"
    );
    assert_eq!(
        iprev.properties,
        [("policy.iprev".to_string(), "2001:db8::1".to_string())]
    );
    let _ = comment;
}

/// Text made of what breaks header syntax: quotes, backslashes, parentheses, `=`, `?`, `/`, `;`,
/// `@`, spaces, line breaks, control and non-ASCII characters, and long runs of them.
fn hostile() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        prop::sample::select(vec![
            "(",
            ")",
            "\"",
            "\\",
            "=",
            "?",
            "/",
            ";",
            "@",
            " ",
            ".",
            ",",
            ":",
            "[",
            "]",
            "<",
            ">",
            "\r\n",
            "\n",
            "\u{0}",
            "\u{7f}",
            "ü",
            "spf=pass",
            "example.com",
            "a@b.example",
        ])
        .prop_map(str::to_string),
        "[a-zA-Z0-9-]{1,12}",
        (
            1usize..400,
            prop::sample::select(vec!['(', ')', '"', '\\', 'a', ' ', '=', '.'])
        )
            .prop_map(|(n, c)| c.to_string().repeat(n)),
    ];
    prop::collection::vec(piece, 0..6).prop_map(|v| v.concat())
}

/// A sender: hostile text, or an address at a domain of the zone below (to reach every result
/// with a hostile local part), or the null sender.
fn sender() -> impl Strategy<Value = String> {
    prop_oneof![
        hostile(),
        (
            hostile(),
            prop::sample::select(vec![
                "pass.example",
                "fail.example",
                "long.example",
                "perm.example",
                "temp.example",
                "none.example",
            ])
        )
            .prop_map(|(local, domain)| format!("{local}@{domain}")),
        Just(String::new()),
    ]
}

/// Results of every kind with long text from DNS: a long matched mechanism and a permerror whose
/// problem quotes the record.
fn hostile_zone() -> ZoneResolver {
    let label = "l".repeat(60);
    let long = format!("{label}.{label}.{label}.example");
    format!(
        r#"
        pass.example  TXT "v=spf1 ip4:192.0.2.0/24 -all"
        fail.example  TXT "v=spf1 -all"
        long.example  TXT "v=spf1 a:{long}/24 -all"
        {long}        A   192.0.2.9
        perm.example  TXT "v=spf1 ip4:192.0.2.0/24 ip4:1.2.3 include:((((=?/;@\\{label}"
        temp.example  TIMEOUT
        "#
    )
    .parse()
    .unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases(512)))]

    /// Whatever the HELO name, sender, receiver name and DNS data: both headers parse under the
    /// strict grammars, fit one line of at most 998 octets, and say what they were given (whole or
    /// cut with `...`).
    #[test]
    fn hostile_headers_parse_strictly_and_fit(
        helo in hostile(),
        sender in sender(),
        receiver in hostile(),
        comment in hostile(),
        helo_identity in any::<bool>(),
    ) {
        let rt = tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap();
        let zone = hostile_zone();
        let ip: IpAddr = "192.0.2.1".parse().unwrap();
        let verifier = Verifier::new(&zone);
        let out = rt.block_on(async {
            if helo_identity {
                verifier.check_helo(ip, &helo).await
            } else {
                verifier.check_mail_from(ip, &helo, &sender).await
            }
        });
        let sender = if helo_identity { "" } else { sender.as_str() };
        let header = ReceivedSpf::new(&out, ip, &helo, sender).receiver(&receiver).header();
        check_received_spf(&header, &out, &helo, sender, &receiver);

        let value = if helo_identity { helo.as_str() } else { sender };
        let ar = AuthenticationResults::new(&receiver)
            .spf(&out, value)
            .push(MethodResult::new("iprev", "fail").property("policy.iprev", "2001:db8::1", Some(&comment)))
            .header();
        check_authentication_results(&ar, &receiver, value, &comment);
    }
}

#[test]
fn the_line_limit_is_rfc_5322s() {
    assert_eq!(MAX_HEADER_LEN, 998);
}

/// Issue 14 item 3: a HELO of 250 `(` and a sender of 250 `(` made a 2,211-octet header, which
/// policyd then cut inside a quoted string. The header is now built to fit, the values cut inside
/// their quotes and comments.
#[tokio::test]
async fn helo_and_sender_of_parentheses_fit_with_their_quoting() {
    let helo = "(".repeat(250);
    let sender = "(".repeat(250);
    let out = spf(&sender, &helo).await;
    let header = ReceivedSpf::new(&out, "192.0.2.1".parse().unwrap(), &helo, &sender)
        .receiver("mx.example.net")
        .header();
    check_received_spf(&header, &out, &helo, &sender, "mx.example.net");
    let parsed = parse_received_spf(&header.unfolded()).unwrap();
    // Cut, not dropped: each still holds a long run of its input, ended by `...` inside quotes.
    let helo_value = parsed.get("helo").unwrap();
    assert!(
        helo_value.len() > 100 && helo_value.ends_with("..."),
        "{helo_value}"
    );
    assert!(header.value.contains("; helo=\"((((("), "{}", header.value);
    assert!(header.value.contains("...\"; "), "{}", header.value);
}

/// Issue 14 item 4: Authentication-Results values that are not RFC 8601 values are quoted.
#[tokio::test]
async fn authentication_results_quote_what_is_not_a_value() {
    let out = spf("a@spf=pass", "spf=pass").await;
    let cases = [
        ("spf=pass", "smtp.mailfrom=\"spf=pass\""),
        ("a@spf=pass", "smtp.mailfrom=\"a@spf=pass\""),
        ("a@localhost", "smtp.mailfrom=\"a@localhost\""),
        ("a/b?c", "smtp.mailfrom=\"a/b?c\""),
        ("alice@example.com", "smtp.mailfrom=alice@example.com"),
        ("@example.com", "smtp.mailfrom=@example.com"),
        ("example.com", "smtp.mailfrom=example.com"),
    ];
    for (value, want) in cases {
        let header = AuthenticationResults::new("mx.example.net")
            .spf(&out, value)
            .header();
        assert!(header.value.contains(want), "{value}: {}", header.value);
        parse_authentication_results(&header.unfolded()).unwrap_or_else(|e| panic!("{e}"));
    }
    let header = AuthenticationResults::new("a@b.example").header();
    assert_eq!(header.value, "\"a@b.example\"; none");
}

/// A value cut for length is always quoted: a long token or dot-atom cut with `...` is still a
/// token or dot-atom, and unquoted it would read as the whole value.
#[tokio::test]
async fn a_value_cut_for_length_is_quoted() {
    let long = "a".repeat(400);
    let out = spf("alice@pass.example", "h.example").await;
    let ar = AuthenticationResults::new(&long).spf(&out, &long).header();
    let cut = format!("\"{}...\"", "a".repeat(256));
    assert!(ar.value.starts_with(&format!("{cut};")), "{}", ar.value);
    assert!(
        ar.value.contains(&format!("smtp.mailfrom={cut}")),
        "{}",
        ar.value
    );
    let received = received(&out, "alice@pass.example", &long);
    assert!(received.contains(&format!("helo={cut};")), "{received}");
    assert_eq!(quote_value(&long), cut);
    // Short enough: written as it is.
    assert_eq!(quote_value(&long[..256]), long[..256]);
}

/// Issue 14 item 5: `envelope-from` is a dot-atom or a quoted-string (RFC 7208 §9.1); an address is
/// not a dot-atom.
#[tokio::test]
async fn received_spf_quotes_the_envelope_sender() {
    let out = spf("alice@pass.example", "h.example").await;
    let value = received(&out, "alice@pass.example", "h.example");
    assert!(
        value.contains("envelope-from=\"alice@pass.example\";"),
        "{value}"
    );
    let parsed = parse_received_spf(&format!("Received-SPF: {value}")).unwrap();
    assert_eq!(parsed.get("envelope-from"), Some("alice@pass.example"));
}

#[tokio::test]
async fn hostile_values_cannot_break_the_headers() {
    let long = "x".repeat(5000);
    let hostile = [
        "evil.example\r\nBcc: victim@example.com",
        "evil.example\nX-Spam: no",
        "a\"b\\c;d=e(f)g",
        "[192.0.2.1]",
        "müller.example",
        "\u{0}\u{7}\u{1b}[31m",
        "",
        ";",
        "\"",
        "(",
        long.as_str(),
    ];
    for value in hostile {
        // As HELO and as sender, through a real evaluation (results vary; syntax must hold).
        for (sender, helo) in [
            (format!("u@{value}"), value.to_string()),
            (value.to_string(), value.to_string()),
        ] {
            let out = spf(&sender, &helo).await;
            let ip = "192.0.2.1".parse().unwrap();
            let header = ReceivedSpf::new(&out, ip, &helo, &sender)
                .receiver(value)
                .header();
            check_received_spf(&header, &out, &helo, &sender, value);
            let ar = AuthenticationResults::new(value)
                .spf(&out, &sender)
                .push(MethodResult::new("iprev", "fail").property(
                    "policy.iprev",
                    "2001:db8::1",
                    Some(value),
                ))
                .header();
            check_authentication_results(&ar, value, &sender, value);
        }
    }
}
