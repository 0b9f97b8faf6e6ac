//! Received-SPF and Authentication-Results: golden output for every SPF result, and hostile values
//! that must not inject a header or break the syntax.

use sender_identity::dns::ZoneResolver;
use sender_identity::headers::{AuthenticationResults, Header, MethodResult, ReceivedSpf};
use sender_identity::spf::{SpfOutput, Verifier};
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
            "pass (mx.example.net: domain of a@pass.example designates 192.0.2.1 as permitted sender) client-ip=192.0.2.1; envelope-from=a@pass.example; helo=h.example; receiver=mx.example.net; identity=mailfrom; mechanism=\"ip4:192.0.2.0/24\"",
            "mx.example.net; spf=pass smtp.mailfrom=a@pass.example",
        ),
        (
            "a@fail.example",
            "fail (mx.example.net: domain of a@fail.example does not designate 192.0.2.1 as permitted sender) client-ip=192.0.2.1; envelope-from=a@fail.example; helo=h.example; receiver=mx.example.net; identity=mailfrom; mechanism=all",
            "mx.example.net; spf=fail smtp.mailfrom=a@fail.example",
        ),
        (
            "a@soft.example",
            "softfail (mx.example.net: transitioning domain of a@soft.example does not designate 192.0.2.1 as permitted sender) client-ip=192.0.2.1; envelope-from=a@soft.example; helo=h.example; receiver=mx.example.net; identity=mailfrom; mechanism=all",
            "mx.example.net; spf=softfail smtp.mailfrom=a@soft.example",
        ),
        (
            "a@neutral.example",
            "neutral (mx.example.net: 192.0.2.1 is neither permitted nor denied by domain of a@neutral.example) client-ip=192.0.2.1; envelope-from=a@neutral.example; helo=h.example; receiver=mx.example.net; identity=mailfrom; mechanism=all",
            "mx.example.net; spf=neutral smtp.mailfrom=a@neutral.example",
        ),
        (
            "a@default.example",
            "neutral (mx.example.net: 192.0.2.1 is neither permitted nor denied by domain of a@default.example) client-ip=192.0.2.1; envelope-from=a@default.example; helo=h.example; receiver=mx.example.net; identity=mailfrom; mechanism=default",
            "mx.example.net; spf=neutral smtp.mailfrom=a@default.example",
        ),
        (
            "a@none.example",
            "none (mx.example.net: none.example does not designate permitted sender hosts) client-ip=192.0.2.1; envelope-from=a@none.example; helo=h.example; problem=\"none.example has no SPF record\"; receiver=mx.example.net; identity=mailfrom",
            "mx.example.net; spf=none reason=\"none.example has no SPF record\" smtp.mailfrom=a@none.example",
        ),
        (
            "a@temp.example",
            "temperror (mx.example.net: error in processing during lookup of temp.example) client-ip=192.0.2.1; envelope-from=a@temp.example; helo=h.example; problem=\"DNS lookup for temp.example failed: DNS query timed out\"; receiver=mx.example.net; identity=mailfrom",
            "mx.example.net; spf=temperror reason=\"DNS lookup for temp.example failed: DNS query timed out\" smtp.mailfrom=a@temp.example",
        ),
        (
            "a@perm.example",
            "permerror (mx.example.net: permanent error in processing domain of perm.example) client-ip=192.0.2.1; envelope-from=a@perm.example; helo=h.example; problem=\"SPF record of perm.example: invalid IPv4 address at byte 7 in \\\"ip4:1.2.3\\\"\"; receiver=mx.example.net; identity=mailfrom",
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

/// Checks a Received-SPF value against RFC 7208 §9.1: result, comment, then `key=value` pairs
/// (dot-atom or quoted-string) separated by `;`.
fn assert_received_spf_syntax(value: &str) {
    assert!(
        value.bytes().all(|b| b == b' ' || b.is_ascii_graphic()),
        "bad byte in {value:?}"
    );
    let (result, rest) = value.split_once(' ').expect("result");
    assert!([
        "pass",
        "fail",
        "softfail",
        "neutral",
        "none",
        "temperror",
        "permerror"
    ]
    .contains(&result));
    // The comment: balanced, with escapes.
    let rest = rest.strip_prefix('(').expect("comment");
    let mut depth = 1;
    let mut chars = rest.char_indices();
    let mut end = None;
    while let Some((i, c)) = chars.next() {
        match c {
            '\\' => {
                chars.next();
            }
            '(' => depth += 1,
            ')' => {
                depth -= 1;
                if depth == 0 {
                    end = Some(i);
                    break;
                }
            }
            _ => {}
        }
    }
    let mut rest = rest[end.expect("comment closed") + 1..].trim_start();
    let mut keys = Vec::new();
    while !rest.is_empty() {
        let (key, after) = rest.split_once('=').expect("key=value");
        keys.push(key.to_string());
        let after = after.trim_start();
        let consumed = if let Some(q) = after.strip_prefix('"') {
            let mut escaped = false;
            let close = q
                .char_indices()
                .find(|&(_, c)| {
                    let stop = c == '"' && !escaped;
                    escaped = c == '\\' && !escaped;
                    stop
                })
                .expect("quoted string closed")
                .0;
            close + 2
        } else {
            let len = after.find(';').unwrap_or(after.len());
            let atom = &after[..len];
            assert!(
                atom.split(['.', '@']).all(|p| !p.is_empty()
                    && p.chars()
                        .all(|c| c.is_ascii_alphanumeric() || "!#$%&'*+-/=?^_`{|}~".contains(c))),
                "not a dot-atom: {atom:?}"
            );
            len
        };
        rest = after[consumed..].trim_start();
        rest = rest.strip_prefix(';').unwrap_or(rest).trim_start();
    }
    assert!(keys.contains(&"client-ip".to_string()) && keys.contains(&"helo".to_string()));
}

fn assert_folding(header: &Header) {
    let text = header.to_string();
    for (i, line) in text.split("\r\n").enumerate() {
        assert!(
            !line.contains('\r') && !line.contains('\n'),
            "bare CR or LF in {text:?}"
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
            let header = ReceivedSpf::new(&out, "2001:db8::1".parse().unwrap(), &helo, &sender)
                .receiver(value)
                .header();
            assert_received_spf_syntax(&header.value);
            assert!(header.value.len() < 3000, "long values are cut");
            assert_folding(&header);
            let ar = AuthenticationResults::new(value)
                .spf(&out, &sender)
                .header();
            assert!(ar.value.bytes().all(|b| b == b' ' || b.is_ascii_graphic()));
            assert_folding(&ar);
        }
    }
}
