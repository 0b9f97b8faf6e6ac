//! `check_helo`: every check a receiving MTA makes on a client, with the outcome and why.
//!
//! ```text
//! cargo run --example check_helo        # demo clients on the embedded demo zone, no network needed
//! cargo run --example check_helo -- --helo mail.example.com --ip 192.0.2.10 --mail-from a@example.com
//! cargo run --example check_helo -- --helo mx.example.org --ip 192.0.2.1 --zone my.zone
//! cargo run --example check_helo -- --helo mx.example.org --ip 192.0.2.1 --nameserver 127.0.0.1:5353
//! cargo run --example check_helo -- --helo mx.example.org --ip 192.0.2.1 --system   # real DNS
//! ```
//!
//! Options: `--rcpt-domain D` (relay decision for a recipient domain, default `customer.example`),
//! `--mynetworks "LIST"` (trusted networks, default the demo's), `--relay-domains "LIST"`,
//! `--authenticated`, `--timeout SECS` (the time limit of each SMTP stage, default 20).

#[path = "support/mod.rs"]
mod support;
use support::{Dns, say};

use sender_identity::dns::Resolver;
use sender_identity::helo::{HeloName, HeloResult};
use sender_identity::iprev::IprevResult;
use sender_identity::lookup::Lookup;
use sender_identity::relay::{DomainList, NetList, RelayPolicy};
use sender_identity::session::{Checker, Policy, Verdict};
use sender_identity::spf::SpfOutput;
use std::net::IpAddr;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

const DEMO_MYNETWORKS: &str = "127.0.0.0/8 [::1]/128 192.0.2.0/24";
const DEMO_RELAY_DOMAINS: &str = "example.com";

const USAGE: &str =
    "usage: check_helo [--helo NAME --ip IP [--mail-from ADDR] [--rcpt-domain DOMAIN]
                  [--authenticated] [--mynetworks LIST] [--relay-domains LIST]
                  [--timeout SECS] [--zone FILE | --nameserver IP:PORT | --system]]";

/// One client to check.
struct Client {
    label: String,
    ip: IpAddr,
    helo: String,
    mail_from: Option<String>,
    rcpt_domain: String,
    authenticated: bool,
}

struct Args {
    clients: Vec<Client>,
    dns: Dns,
    mynetworks: String,
    relay_domains: String,
    timeout: Option<Duration>,
}

fn parse_args(args: &[String]) -> Result<Args, String> {
    let mut it = args.iter();
    let (mut ip, mut helo, mut mail_from) = (None, None, None);
    let mut rcpt_domain = "customer.example".to_string();
    let mut authenticated = false;
    let mut dns = Dns::Demo;
    let mut mynetworks = DEMO_MYNETWORKS.to_string();
    let mut relay_domains = DEMO_RELAY_DOMAINS.to_string();
    let mut timeout = None;
    while let Some(flag) = it.next() {
        let mut value = || {
            it.next()
                .cloned()
                .ok_or_else(|| format!("{flag} needs a value"))
        };
        match flag.as_str() {
            "--ip" => {
                let v = value()?;
                ip = Some(
                    v.parse::<IpAddr>()
                        .map_err(|e| format!("--ip {v:?}: {e}"))?,
                );
            }
            "--helo" => helo = Some(value()?),
            "--mail-from" | "--sender" => mail_from = Some(value()?),
            "--rcpt-domain" => rcpt_domain = value()?,
            "--authenticated" => authenticated = true,
            "--mynetworks" => mynetworks = value()?,
            "--relay-domains" => relay_domains = value()?,
            "--timeout" => {
                let v = value()?;
                let secs: u64 = v
                    .parse()
                    .map_err(|_| format!("--timeout {v:?}: want whole seconds"))?;
                timeout = Some(Duration::from_secs(secs));
            }
            "-h" | "--help" => return Err(String::new()),
            other => match Dns::from_flag(other, value) {
                Some(choice) => dns = choice?,
                None => return Err(format!("unknown argument {other:?}")),
            },
        }
    }
    let ip = ip.ok_or("--ip is required")?;
    let helo = helo.ok_or("--helo is required")?;
    Ok(Args {
        clients: vec![Client {
            label: "the client given on the command line".into(),
            ip,
            helo,
            mail_from,
            rcpt_domain,
            authenticated,
        }],
        dns,
        mynetworks,
        relay_domains,
        timeout,
    })
}

fn demo_clients() -> Vec<Client> {
    let client = |label: &str, ip: &str, helo: &str, mail_from: &str, rcpt: &str| Client {
        label: label.to_string(),
        ip: ip.parse().expect("demo address"),
        helo: helo.to_string(),
        mail_from: Some(mail_from.to_string()),
        rcpt_domain: rcpt.to_string(),
        authenticated: false,
    };
    vec![
        client(
            "a well-configured server",
            "192.0.2.10",
            "mail.example.com",
            "alice@example.com",
            "customer.example",
        ),
        client(
            "a HELO that does not match its IP",
            "198.51.100.20",
            "relay.example.net",
            "alice@example.com",
            "example.com",
        ),
        client(
            "a forged PTR",
            "203.0.113.66",
            "[203.0.113.66]",
            "bob@soft.example.org",
            "example.com",
        ),
        client(
            "a client outside the relay networks",
            "198.51.100.7",
            "mta.bulk.example.org",
            "news@bulk.example.org",
            "customer.example",
        ),
        client(
            "an SPF fail",
            "203.0.113.9",
            "friendly.example",
            "ceo@example.com",
            "example.com",
        ),
    ]
}

/// The lookups a check made, or why it has none.
fn lookups(list: &[Lookup], timed_out: bool) -> String {
    match (list.is_empty(), timed_out) {
        (_, true) => "timed out: no answer within the time limit of the stage".into(),
        (true, false) => "no lookups".into(),
        (false, false) => list
            .iter()
            .map(|l| l.to_string())
            .collect::<Vec<_>>()
            .join("; "),
    }
}

/// Whether a check gave temperror without a single lookup on record: the stage's time limit
/// ([`Policy::timeout`]) ran out while the first answer was awaited.
fn timed_out(temperror: bool, lookups: &[Lookup]) -> bool {
    temperror && lookups.is_empty()
}

fn verdict(v: &Verdict) -> String {
    match &v.reply {
        Some(reply) => format!("{:?}: {reply}", v.action),
        None => format!("{:?}", v.action),
    }
}

fn spf_line(out: &SpfOutput) -> String {
    let mut line = format!(
        "{}: {} [lookups {}/10, void {}/2]",
        out.result, out.cause, out.dns_lookups, out.void_lookups
    );
    if let Some(exp) = &out.explanation {
        line.push_str(&format!(" explanation: {exp:?}"));
    }
    line
}

/// Tells, on standard error, what the example is waiting for, when answers come over the network
/// (and may be slow or never come).
struct Progress(bool);

impl Progress {
    fn waiting(&self, what: &str) {
        if self.0 {
            eprintln!("  ... {what}");
        }
    }
}

async fn check(checker: &Checker<Arc<dyn Resolver>>, c: &Client, progress: &Progress) {
    say!("== {} ({}, HELO {})", c.label, c.ip, c.helo);
    let name = HeloName::parse(&c.helo);
    let policy = checker.policy();
    let syntax = match policy.helo_syntax.check(&c.helo) {
        Ok(()) => format!("ok: {}", name.describe()),
        Err(rejection) => format!("refused: {} ({rejection})", name.describe()),
    };
    say!("  HELO syntax      {syntax}");

    progress.waiting(&format!(
        "iprev: the PTR names of {} and their addresses",
        c.ip
    ));
    let (mut session, connect) = checker.connect(c.ip).await;
    let iprev = session.iprev().expect("after connect");
    let names: Vec<String> = iprev
        .names
        .iter()
        .map(|n| format!("{} ({:?})", n.name, n.status))
        .collect();
    let iprev_timed_out = timed_out(iprev.result == IprevResult::TempError, &iprev.lookups);
    say!(
        "  iprev            {}: PTR names [{}]; {}",
        iprev.result,
        names.join(", "),
        lookups(&iprev.lookups, iprev_timed_out)
    );

    progress.waiting(&format!(
        "HELO {}: its A, AAAA and MX records, and SPF for the HELO identity",
        c.helo
    ));
    let helo = session.helo(&c.helo).await;
    let checks = session.helo_checks().expect("after helo");
    let exists = &checks.exists;
    let exists_timed_out = timed_out(exists.result == HeloResult::TempError, &exists.lookups);
    say!(
        "  HELO exists      {}: {}",
        exists.result,
        lookups(&exists.lookups, exists_timed_out)
    );
    let confirm = &checks.confirm;
    if timed_out(confirm.result == HeloResult::TempError, &confirm.lookups) {
        say!(
            "  HELO confirm     {}: {}",
            confirm.result,
            lookups(&confirm.lookups, true)
        );
    } else {
        let addrs: Vec<String> = confirm.addresses.iter().map(|a| a.to_string()).collect();
        say!(
            "  HELO confirm     {}: {} resolves to [{}]",
            confirm.result,
            checks.name,
            addrs.join(", ")
        );
    }
    let (decision, relay) = session.relay(&c.rcpt_domain, c.authenticated);
    say!("  relay            {decision}");
    say!(
        "  SPF (HELO)       {}",
        spf_line(session.spf_helo().expect("after helo"))
    );
    let mail = match &c.mail_from {
        Some(sender) => {
            progress.waiting(&format!("SPF for MAIL FROM {sender}"));
            let v = session.mail_from(sender).await;
            let out = session.spf_mail_from().expect("after mail from");
            say!("  SPF (MAIL FROM)  {}", spf_line(out));
            Some(v)
        }
        None => None,
    };
    say!("  verdicts         connect {}", verdict(&connect));
    say!("                   HELO {}", verdict(&helo));
    if let Some(v) = &mail {
        say!("                   MAIL FROM {}", verdict(v));
    }
    say!("                   RCPT {}", verdict(&relay));
    for reason in connect
        .reasons
        .iter()
        .chain(&helo.reasons)
        .chain(mail.iter().flat_map(|v| &v.reasons))
    {
        say!("  why              {reason}");
    }
    for header in session.headers() {
        say!("  {}", header.to_string().replace("\r\n", "\n  "));
    }
    say!();
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let args = if argv.is_empty() {
        say!("No arguments: checking demo clients against the embedded demo zone (no network).");
        say!("{USAGE}\n");
        Args {
            clients: demo_clients(),
            dns: Dns::Demo,
            mynetworks: DEMO_MYNETWORKS.to_string(),
            relay_domains: DEMO_RELAY_DOMAINS.to_string(),
            timeout: None,
        }
    } else {
        match parse_args(&argv) {
            Ok(args) => args,
            Err(message) => {
                if !message.is_empty() {
                    eprintln!("check_helo: {message}");
                }
                eprintln!("{USAGE}");
                return ExitCode::from(2);
            }
        }
    };
    let Args {
        clients,
        dns,
        mynetworks,
        relay_domains,
        timeout,
    } = args;
    let resolver = match dns.resolver() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("check_helo: {e}");
            return ExitCode::from(2);
        }
    };
    let relay = match (
        NetList::parse(&mynetworks),
        DomainList::parse(&relay_domains),
    ) {
        (Ok(nets), Ok(domains)) => RelayPolicy::new(nets, domains),
        (Err(e), _) => {
            eprintln!("check_helo: --mynetworks: {e}");
            return ExitCode::from(2);
        }
        (_, Err(e)) => {
            eprintln!("check_helo: --relay-domains: {e}");
            return ExitCode::from(2);
        }
    };
    let mut policy = Policy::new("mx.example.net");
    policy.relay = relay;
    if let Some(timeout) = timeout {
        policy.timeout = timeout;
        policy.spf.timeout = Some(timeout);
    }
    if dns.is_network() {
        say!(
            "DNS: {}; each SMTP stage is given up after {} s.\n",
            dns.describe(),
            policy.timeout.as_secs()
        );
    }
    let progress = Progress(dns.is_network());
    let checker = Checker::new(resolver, policy);
    for client in &clients {
        check(&checker, client, &progress).await;
    }
    ExitCode::SUCCESS
}
