//! `smtp_session`: the per-connection API in the flow of an SMTP session.
//!
//! For a few scripted sessions on the embedded demo zone, prints each SMTP command, the reply a
//! server built on `sender_identity::session` would send, and the header fields it would add to the
//! message. `cargo run --example smtp_session`.

#[path = "support/mod.rs"]
#[allow(dead_code)]
mod support;
use sender_identity::dns::ZoneResolver;
use sender_identity::relay::{DomainList, NetList, RelayPolicy};
use sender_identity::session::{Action, Checker, Policy, Verdict};
use support::{DEMO_ZONE, say};

/// The SMTP reply for a verdict at a stage that succeeded so far.
fn reply(verdict: &Verdict, ok: &str) -> String {
    match (&verdict.reply, verdict.action) {
        (Some(reply), _) => reply.to_string(),
        (None, Action::Tag) => format!("{ok} (tagged: {})", verdict.reasons.join("; ")),
        (None, _) => ok.to_string(),
    }
}

fn refused(verdict: &Verdict) -> bool {
    matches!(verdict.action, Action::Reject | Action::Defer)
}

async fn session(
    checker: &Checker<ZoneResolver>,
    client: &str,
    helo: &str,
    from: &str,
    rcpt: &str,
) {
    say!("--- connection from {client}");
    let (mut s, v) = checker.connect(client.parse().expect("demo address")).await;
    say!("S: {}", reply(&v, "220 mx.example.net ESMTP"));
    if refused(&v) {
        return;
    }
    say!("C: EHLO {helo}");
    let v = s.helo(helo).await;
    say!("S: {}", reply(&v, "250 mx.example.net"));
    if refused(&v) {
        return;
    }
    say!("C: MAIL FROM:<{from}>");
    let v = s.mail_from(from).await;
    say!("S: {}", reply(&v, "250 2.1.0 Ok"));
    if refused(&v) {
        return;
    }
    let domain = rcpt.rsplit_once('@').map_or(rcpt, |(_, d)| d);
    say!("C: RCPT TO:<{rcpt}>");
    let (_, v) = s.relay(domain, false);
    say!("S: {}", reply(&v, "250 2.1.5 Ok"));
    if refused(&v) {
        return;
    }
    say!("C: DATA ...");
    say!("S: 250 2.0.0 Ok: queued, with these fields prepended:");
    for header in s.headers() {
        say!("   {}", header.to_string().replace("\r\n", "\n   "));
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let zone: ZoneResolver = DEMO_ZONE.parse().expect("demo zone");
    let mut policy = Policy::new("mx.example.net");
    policy.relay = RelayPolicy::new(
        NetList::parse("127.0.0.0/8 [::1]/128").expect("networks"),
        DomainList::parse("example.com").expect("domains"),
    );
    let checker = Checker::new(zone, policy);
    session(
        &checker,
        "192.0.2.10",
        "mail.example.com",
        "alice@example.com",
        "bob@example.com",
    )
    .await;
    session(
        &checker,
        "198.51.100.20",
        "relay.example.net",
        "alice@example.com",
        "bob@example.com",
    )
    .await;
    session(
        &checker,
        "203.0.113.9",
        "friendly.example",
        "ceo@example.com",
        "bob@example.com",
    )
    .await;
    session(
        &checker,
        "192.0.2.10",
        "mail.example.com",
        "x@slow.example.org",
        "bob@example.com",
    )
    .await;
    session(
        &checker,
        "198.51.100.7",
        "mta.bulk.example.org",
        "news@bulk.example.org",
        "someone@customer.example",
    )
    .await;
}
