//! `spfquery`: evaluate SPF for one client, like pyspf's and Mail::SPF's command of the same name.
//!
//! ```text
//! cargo run --example spfquery                       # runs a few queries on the embedded demo zone
//! cargo run --example spfquery -- --ip 192.0.2.10 --sender alice@example.com --helo mail.example.com
//! cargo run --example spfquery -- --ip 192.0.2.10 --helo mail.example.com --zone my.zone
//! cargo run --example spfquery -- --ip 192.0.2.10 --sender a@example.com --nameserver 127.0.0.1:5353
//! cargo run --example spfquery -- --ip 192.0.2.10 --sender a@example.com --system
//! ```
//!
//! Without `--sender` (or with an empty one) the HELO identity is checked. Without `--zone`,
//! `--nameserver` or `--system`, the embedded demo zone (`examples/demo.zone`) answers.

#[path = "support/mod.rs"]
mod support;
use support::{Dns, say};

use sender_identity::dns::Resolver;
use sender_identity::spf::{Config, SpfOutput, Verifier};
use std::net::IpAddr;
use std::process::ExitCode;
use std::sync::Arc;

const USAGE: &str =
    "usage: spfquery [--trace] [--ip IP --helo NAME [--sender ADDR] [--receiver NAME]
                 [--zone FILE | --nameserver IP:PORT | --system]]";

struct Args {
    trace: bool,
    query: Option<Query>,
}

struct Query {
    ip: IpAddr,
    helo: String,
    sender: String,
    receiver: Option<String>,
    dns: Dns,
}

fn parse_args(mut args: impl Iterator<Item = String>) -> Result<Args, String> {
    let (mut ip, mut helo, mut sender, mut receiver, mut dns) =
        (None, None, String::new(), None, Dns::Demo);
    let (mut any, mut trace) = (false, false);
    while let Some(flag) = args.next() {
        if flag == "--trace" {
            trace = true;
            continue;
        }
        any = true;
        let mut value = || args.next().ok_or_else(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--ip" => {
                ip = Some(
                    value()?
                        .parse::<IpAddr>()
                        .map_err(|e| format!("--ip: {e}"))?,
                )
            }
            "--helo" => helo = Some(value()?),
            "--sender" | "--mail-from" => sender = value()?,
            "--receiver" => receiver = Some(value()?),
            "-h" | "--help" => return Err(String::new()),
            other => match Dns::from_flag(other, value) {
                Some(choice) => dns = choice?,
                None => return Err(format!("unknown argument {other:?}")),
            },
        }
    }
    if !any {
        return Ok(Args { trace, query: None });
    }
    let ip = ip.ok_or("--ip is required")?;
    let helo = helo.ok_or("--helo is required")?;
    Ok(Args {
        trace,
        query: Some(Query {
            ip,
            helo,
            sender,
            receiver,
            dns,
        }),
    })
}

fn print(out: &SpfOutput) {
    say!("result:      {}", out.result);
    say!("identity:    {} ({})", out.identity.as_str(), out.domain());
    say!("why:         {}", out.cause);
    if let Some(exp) = &out.explanation {
        say!("explanation: {exp}");
    }
    say!(
        "lookups:     {}/10 DNS terms, {}/2 void",
        out.dns_lookups,
        out.void_lookups
    );
    if let Some(trace) = &out.trace {
        say!("trace:");
        for line in trace.to_string().lines() {
            say!("  {line}");
        }
    }
}

async fn query(
    spf: &Verifier<Arc<dyn Resolver>>,
    ip: IpAddr,
    helo: &str,
    sender: &str,
) -> SpfOutput {
    if sender.is_empty() {
        spf.check_helo(ip, helo).await
    } else {
        spf.check_mail_from(ip, helo, sender).await
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let args = match parse_args(std::env::args().skip(1)) {
        Ok(args) => args,
        Err(message) => {
            if !message.is_empty() {
                eprintln!("spfquery: {message}");
            }
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    let dns = args.query.as_ref().map_or(&Dns::Demo, |q| &q.dns);
    if dns.is_network() {
        // Real name servers may be slow or silent: say what the wait is for.
        eprintln!("... asking {}", dns.describe());
    }
    let resolver = match dns.resolver() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("spfquery: {e}");
            return ExitCode::from(2);
        }
    };
    let mut config = Config::default();
    config.trace = args.trace;
    if let Some(receiver) = args.query.as_ref().and_then(|q| q.receiver.clone()) {
        config.receiver = receiver;
    }
    let spf = Verifier::with_config(resolver, config);
    match args.query {
        Some(q) => print(&query(&spf, q.ip, &q.helo, &q.sender).await),
        None => {
            say!("No arguments: running demo queries on the embedded demo zone.\n{USAGE}\n");
            for (ip, helo, sender) in [
                ("192.0.2.10", "mail.example.com", "alice@example.com"),
                ("198.51.100.20", "out.example.net", "alice@example.com"),
                ("203.0.113.9", "mail.example.com", "alice@example.com"),
                ("192.0.2.10", "mail.example.com", ""),
                (
                    "198.51.100.7",
                    "mta.bulk.example.org",
                    "news@bulk.example.org",
                ),
                (
                    "198.51.100.8",
                    "mta.bulk.example.org",
                    "news@bulk.example.org",
                ),
                ("192.0.2.10", "mail.example.com", "x@slow.example.org"),
                ("192.0.2.10", "mail.example.com", "x@broken.example.org"),
            ] {
                let who = if sender.is_empty() {
                    format!("HELO {helo}")
                } else {
                    sender.to_string()
                };
                say!("== {ip} as {who}");
                print(&query(&spf, ip.parse().expect("demo IP"), helo, sender).await);
                say!();
            }
        }
    }
    ExitCode::SUCCESS
}
