//! `Received-SPF` and `Authentication-Results` from any HELO name, sender, receiver name and
//! comment, over an SPF result of each kind (a zone with long mechanisms and a record whose
//! permerror quotes it).
//!
//! Invariants (checked with the strict parsers of `tests/header_grammar`, written from RFC 7208
//! §9.1 and RFC 8601 §2.2):
//! - both headers parse, folded and unfolded, to the same values;
//! - both are at most `MAX_HEADER_LEN` (998) octets on one line;
//! - the HELO name, the receiver name and the authserv-id read back whole or cut with `...`.
#![no_main]

#[allow(dead_code)]
#[path = "../../tests/header_grammar/mod.rs"]
mod header_grammar;

use arbitrary::Arbitrary;
use header_grammar::{is_input, parse_authentication_results, parse_received_spf};
use libfuzzer_sys::fuzz_target;
use sender_identity::dns::ZoneResolver;
use sender_identity::headers::{AuthenticationResults, MAX_HEADER_LEN, MethodResult, ReceivedSpf};
use sender_identity::spf::Verifier;
use std::net::IpAddr;
use std::sync::OnceLock;

#[derive(Debug, Arbitrary)]
struct Input {
    helo: String,
    local: String,
    domain: u8,
    receiver: String,
    comment: String,
    helo_identity: bool,
}

fn zone() -> &'static ZoneResolver {
    static ZONE: OnceLock<ZoneResolver> = OnceLock::new();
    ZONE.get_or_init(|| {
        let label = "l".repeat(60);
        let long = format!("{label}.{label}.{label}.example");
        format!(
            r#"
            pass.example  TXT "v=spf1 ip4:192.0.2.0/24 -all"
            fail.example  TXT "v=spf1 -all"
            long.example  TXT "v=spf1 a:{long}/24 -all"
            {long}        A   192.0.2.9
            perm.example  TXT "v=spf1 ip4:1.2.3 include:((((=?/;@\\{label}"
            temp.example  TIMEOUT
            "#
        )
        .parse()
        .unwrap()
    })
}

fuzz_target!(|input: Input| {
    let domains = [
        "pass.example",
        "fail.example",
        "long.example",
        "perm.example",
        "temp.example",
    ];
    let sender = match domains.get(usize::from(input.domain)) {
        Some(domain) => format!("{}@{domain}", input.local),
        None => input.local.clone(),
    };
    let ip: IpAddr = "192.0.2.1".parse().unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap();
    let verifier = Verifier::new(zone());
    let out = rt.block_on(async {
        if input.helo_identity {
            verifier.check_helo(ip, &input.helo).await
        } else {
            verifier.check_mail_from(ip, &input.helo, &sender).await
        }
    });
    let sender = if input.helo_identity {
        ""
    } else {
        sender.as_str()
    };

    let header = ReceivedSpf::new(&out, ip, &input.helo, sender)
        .receiver(&input.receiver)
        .header();
    let unfolded = header.unfolded();
    assert!(unfolded.len() <= MAX_HEADER_LEN, "{unfolded}");
    let parsed = parse_received_spf(&unfolded).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        Ok(&parsed),
        parse_received_spf(&header.to_string()).as_ref()
    );
    assert!(
        is_input(parsed.get("helo").unwrap(), &input.helo),
        "{unfolded}"
    );
    assert!(
        is_input(parsed.get("receiver").unwrap(), &input.receiver),
        "{unfolded}"
    );

    let value = if input.helo_identity {
        input.helo.as_str()
    } else {
        sender
    };
    let ar = AuthenticationResults::new(&input.receiver)
        .spf(&out, value)
        .push(MethodResult::new("iprev", "fail").property(
            "policy.iprev",
            "2001:db8::1",
            Some(&input.comment),
        ))
        .header();
    let unfolded = ar.unfolded();
    assert!(unfolded.len() <= MAX_HEADER_LEN, "{unfolded}");
    let parsed = parse_authentication_results(&unfolded).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        Ok(&parsed),
        parse_authentication_results(&ar.to_string()).as_ref()
    );
    assert!(is_input(&parsed.authserv_id, &input.receiver), "{unfolded}");
});
