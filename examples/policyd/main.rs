//! `policyd`: a Postfix SMTPD policy server (SMTPD_POLICY_README) for SPF, in the manner of
//! pypolicyd-spf, on the crate's SPF verifier.
//!
//! ```text
//! cargo run --example policyd -- --config policyd.conf
//! cargo run --example policyd -- --config policyd.conf --listen 127.0.0.1:10023 --nameserver 127.0.0.1:5353
//! cargo run --example policyd -- --unix /var/spool/postfix/private/policyd-spf
//! cargo run --example policyd -- --config policyd.conf --check-config
//! ```
//!
//! Hook it into Postfix (`main.cf`), after `reject_unauth_destination`:
//!
//! ```text
//! smtpd_recipient_restrictions = permit_mynetworks, reject_unauth_destination,
//!     check_policy_service { inet:127.0.0.1:10023, timeout=30s, default_action=DUNNO }
//! policyd-spf_time_limit = 3600
//! ```
//!
//! The configuration file has `Name = value` lines (`#` comments); names as pypolicyd-spf's:
//!
//! ```text
//! HELO_reject = Fail              # Fail, Softfail, SPF_Not_Pass, Null, False, No_Check
//! Mail_From_reject = Fail         # Fail, Softfail, SPF_Not_Pass, False, No_Check
//! PermError_reject = False
//! TempError_Defer = False         # True: defer temperror ...
//! Defer_Reply = DEFER_IF_PERMIT   # ... as DEFER_IF_PERMIT 4.7.24 or 450 4.7.24
//! SPF_Enhanced_Status_Codes = Yes
//! TestOnly = 1                    # 0: never reject or defer, only prepend
//! skip_addresses = 127.0.0.0/8,::ffff:127.0.0.0/104,::1
//! Whitelist = 192.0.2.0/24
//! Header_Type = SPF               # SPF, AR, Both, None
//! Authserv_Id = HOSTNAME          # the receiver name in headers
//! Nameserver = system             # or IP:PORT[,IP:PORT]
//! DNS_Timeout = 5                 # seconds per DNS try
//! Lookup_Time = 20                # seconds per SPF check
//! Void_Limit = 2
//! Record_Cache = 10000            # parsed SPF records kept; 0: off
//! Listen = 127.0.0.1:10023
//! Unix_Socket = /var/spool/postfix/private/policyd-spf
//! Max_Connections = 512
//! Idle_Timeout = 600
//! debugLevel = 1                  # 0 errors, 1 one line per message, 2 every request
//! ```

// Some of the server's items are used by the tests only.
#[allow(dead_code)]
mod server;

use server::{build_resolver, parse_nameserver, Config, Policyd};
use std::process::ExitCode;

const USAGE: &str = "usage: policyd [--config FILE] [--listen IP:PORT] [--unix PATH] \
                     [--nameserver system|IP:PORT] [--check-config]";

fn load(args: &[String]) -> Result<(Config, bool), String> {
    let mut config_file = None;
    let mut overrides: Vec<(String, String)> = Vec::new();
    let mut check_only = false;
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let mut value = |name: &str| {
            it.next()
                .cloned()
                .ok_or_else(|| format!("{name} needs a value\n{USAGE}"))
        };
        match arg.as_str() {
            "--config" => config_file = Some(value("--config")?),
            "--listen" | "--unix" | "--nameserver" => {
                overrides.push((arg.clone(), value(arg)?));
            }
            "--check-config" => check_only = true,
            "-h" | "--help" => return Err(USAGE.to_string()),
            other => return Err(format!("unknown argument {other:?}\n{USAGE}")),
        }
    }
    let mut config = match &config_file {
        Some(path) => {
            let text = std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}"))?;
            Config::parse(&text).map_err(|e| format!("{path}: {e}; configuration refused"))?
        }
        None => Config::default(),
    };
    for (name, value) in overrides {
        let bad = |m: String| format!("{name}: {m}");
        match name.as_str() {
            "--listen" => {
                config.listen = Some(
                    value
                        .parse()
                        .map_err(|_| bad(format!("expected IP:PORT, got {value:?}")))?,
                )
            }
            "--unix" => config.unix = Some(value.into()),
            _ => config.nameserver = parse_nameserver(&value).map_err(bad)?,
        }
    }
    Ok((config, check_only))
}

#[tokio::main]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (config, check_only) = match load(&args) {
        Ok(loaded) => loaded,
        Err(e) => {
            eprintln!("policyd: {e}");
            return ExitCode::from(2);
        }
    };
    if check_only {
        use std::io::Write as _;
        // A closed stdout (e.g. `| head`) is not an error worth a panic.
        let _ = writeln!(std::io::stdout(), "configuration OK: {config:#?}");
        return ExitCode::SUCCESS;
    }
    let resolver = match build_resolver(&config) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("policyd: DNS: {e}");
            return ExitCode::FAILURE;
        }
    };
    let tcp = config.tcp_listen();
    let unix = config.unix.clone();
    let server = Policyd::new(config, resolver);
    let mut tasks = tokio::task::JoinSet::new();
    if let Some(addr) = tcp {
        match tokio::net::TcpListener::bind(addr).await {
            Ok(listener) => {
                eprintln!(
                    "policyd: listening on {}",
                    listener.local_addr().unwrap_or(addr)
                );
                tasks.spawn(server.clone().serve_tcp(listener));
            }
            Err(e) => {
                eprintln!("policyd: cannot listen on {addr}: {e}");
                return ExitCode::FAILURE;
            }
        }
    }
    if let Some(path) = unix {
        // A socket file left by an earlier run would make bind fail.
        if std::fs::symlink_metadata(&path)
            .map(|m| std::os::unix::fs::FileTypeExt::is_socket(&m.file_type()))
            .unwrap_or(false)
        {
            let _ = std::fs::remove_file(&path);
        }
        match tokio::net::UnixListener::bind(&path) {
            Ok(listener) => {
                eprintln!("policyd: listening on {}", path.display());
                tasks.spawn(server.clone().serve_unix(listener));
            }
            Err(e) => {
                eprintln!("policyd: cannot listen on {}: {e}", path.display());
                return ExitCode::FAILURE;
            }
        }
    }
    while tasks.join_next().await.is_some() {}
    ExitCode::SUCCESS
}
