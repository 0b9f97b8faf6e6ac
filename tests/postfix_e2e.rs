//! End to end with Postfix itself: a private Postfix instance on a loopback port hands every
//! recipient (and DATA) to the `policyd` example's server with `check_policy_service`; the policy
//! server asks the in-process DNS server. A small SMTP client uses XCLIENT to present any client
//! address and HELO name, and the test asserts on Postfix's replies and on the headers of the
//! delivered messages (a `pipe` transport saves each message to a file).
//!
//! Runs only where `/usr/sbin/postfix` exists (see `.ci/install-postfix.sh`) and as root; when
//! Postfix is missing it fails if `CI` is set and is skipped otherwise. Everything listens on
//! 127.0.0.1 and is stopped at the end, also when the test fails.

mod common;
mod header_grammar;
#[allow(dead_code)]
#[path = "../examples/policyd/server.rs"]
mod server;

use common::dns_server::{QueryType, TestDnsServer};
use header_grammar::{parse_authentication_results, parse_received_spf};
use server::{Config, Policyd, build_resolver};
use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

const POSTFIX: &str = "/usr/sbin/postfix";

const ZONE: &str = r#"
    pass.example.        TXT  "v=spf1 ip4:192.0.2.0/24 -all"
    mail.pass.example.   TXT  "v=spf1 ip4:192.0.2.0/24 -all"
    mail.pass.example.   A    192.0.2.10
    multi.example.       TXT  "v=spf1 ip4:192.0.2.0/24 -all"
    fail.example.        TXT  "v=spf1 -all"
    bad-helo.example.    TXT  "v=spf1 -all"
    temp.example.        SERVFAIL
"#;

/// A private Postfix instance, stopped and removed when dropped.
struct Postfix {
    dir: PathBuf,
    port: u16,
}

impl Postfix {
    fn conf(&self) -> PathBuf {
        self.dir.join("conf")
    }

    fn out(&self) -> PathBuf {
        self.dir.join("out")
    }

    fn maillog(&self) -> String {
        std::fs::read_to_string(self.dir.join("maillog")).unwrap_or_default()
    }

    /// Writes the configuration and starts Postfix; waits until its SMTP port answers.
    fn start(policy: SocketAddr) -> Postfix {
        let dir = std::env::temp_dir().join(format!(
            "policyd-e2e-{}-{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos()
        ));
        for sub in ["conf", "queue", "data", "out"] {
            std::fs::create_dir_all(dir.join(sub)).unwrap();
        }
        let port = free_port();
        let postfix = Postfix { dir, port };
        let dir = postfix.dir.display().to_string();
        chmod(&postfix.dir, 0o755);
        chmod(&postfix.conf(), 0o755);
        // The pipe transport runs as nobody.
        chmod(&postfix.out(), 0o777);
        run(Command::new("chown").args(["postfix", &format!("{dir}/data")]));

        let save = postfix.dir.join("save.sh");
        std::fs::write(
            &save,
            format!("#!/bin/sh\numask 022\nf={dir}/out/msg.$$.tmp\ncat > \"$f\" && mv \"$f\" \"${{f%.tmp}}.eml\"\n"),
        )
        .unwrap();
        chmod(&save, 0o755);

        let policy = format!("check_policy_service inet:{policy}");
        let main_cf = format!(
            "compatibility_level = 3.6
queue_directory = {dir}/queue
data_directory = {dir}/data
command_directory = /usr/sbin
daemon_directory = /usr/lib/postfix/sbin
meta_directory = /etc/postfix
shlib_directory = /usr/lib/postfix
mail_owner = postfix
setgid_group = postdrop
maillog_file = {dir}/maillog
maillog_file_prefixes = {dir}
myhostname = mx.test.example
mydomain = test.example
myorigin = test.example
mydestination = rcpt.test.example
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
local_transport = save
save_destination_recipient_limit = 100
local_recipient_maps =
alias_maps =
alias_database =
smtputf8_enable = no
biff = no
smtpd_authorized_xclient_hosts = 127.0.0.0/8
smtpd_policy_service_timeout = 20s
smtpd_recipient_restrictions = reject_unauth_destination, {policy}
smtpd_data_restrictions = {policy}
"
        );
        std::fs::write(postfix.conf().join("main.cf"), main_cf).unwrap();
        let master_cf = format!(
            "127.0.0.1:{port} inet n - n - - smtpd
cleanup unix n - n - 0 cleanup
qmgr unix n - n 300 1 qmgr
rewrite unix - - n - - trivial-rewrite
bounce unix - - n - 0 bounce
defer unix - - n - 0 bounce
trace unix - - n - 0 bounce
verify unix - - n - 1 verify
flush unix n - n 1000? 0 flush
proxymap unix - - n - - proxymap
error unix - - n - - error
retry unix - - n - - error
discard unix - - n - - discard
anvil unix - - n - 1 anvil
scache unix - - n - 1 scache
postlog unix-dgram n - n - 1 postlogd
save unix - n n - - pipe
  flags= user=nobody argv={dir}/save.sh
"
        );
        std::fs::write(postfix.conf().join("master.cf"), master_cf).unwrap();

        let status = Command::new(POSTFIX)
            .arg("-c")
            .arg(postfix.conf())
            .arg("start")
            .status()
            .unwrap();
        assert!(
            status.success(),
            "postfix start failed: {status}\n{}",
            postfix.maillog()
        );
        let deadline = Instant::now() + Duration::from_secs(20);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "Postfix does not listen on {port}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        postfix
    }

    /// Waits for the delivered message with `X-Test-Id: id` and returns its header lines
    /// (unfolded).
    fn delivered(&self, id: &str) -> Vec<String> {
        let needle = format!("X-Test-Id: {id}\n");
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            for entry in std::fs::read_dir(self.out()).unwrap() {
                let path = entry.unwrap().path();
                if path.extension().is_some_and(|e| e == "eml") {
                    let text = std::fs::read_to_string(&path).unwrap();
                    if text.contains(&needle) {
                        return header_lines(&text);
                    }
                }
            }
            assert!(
                Instant::now() < deadline,
                "message {id} not delivered\n{}",
                self.maillog()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Postfix {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("--- Postfix log ---\n{}", self.maillog());
        }
        let pid = std::fs::read_to_string(self.dir.join("queue/pid/master.pid"))
            .ok()
            .and_then(|s| s.trim().parse::<u32>().ok());
        let _ = Command::new(POSTFIX)
            .arg("-c")
            .arg(self.conf())
            .arg("stop")
            .status();
        // Wait (bounded) for the master process to be gone before removing its queue.
        if let Some(pid) = pid {
            let deadline = Instant::now() + Duration::from_secs(10);
            while process_alive(pid) && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(20));
            }
            if process_alive(pid) {
                let _ = Command::new(POSTFIX)
                    .arg("-c")
                    .arg(self.conf())
                    .arg("abort")
                    .status();
            }
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Whether a process runs (a zombie does not count).
fn process_alive(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => stat
            .rsplit_once(") ")
            .is_some_and(|(_, rest)| !rest.starts_with('Z') && !rest.starts_with('X')),
        Err(_) => false,
    }
}

fn chmod(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

fn run(cmd: &mut Command) {
    let status = cmd.status().unwrap();
    assert!(status.success(), "{cmd:?}: {status}");
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The header section of a message, one unfolded line per field.
fn header_lines(text: &str) -> Vec<String> {
    let mut fields: Vec<String> = Vec::new();
    for line in text.lines() {
        if line.is_empty() {
            break;
        }
        if line.starts_with([' ', '\t']) {
            if let Some(last) = fields.last_mut() {
                last.push(' ');
                last.push_str(line.trim_start());
            }
        } else {
            fields.push(line.to_string());
        }
    }
    fields
}

/// A minimal SMTP client.
struct Smtp {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
}

impl Smtp {
    /// Connects, and uses XCLIENT to present `addr`/`name`, then says EHLO `helo`.
    fn connect(port: u16, addr: &str, name: &str, helo: &str) -> Smtp {
        let stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .unwrap();
        let mut smtp = Smtp {
            reader: BufReader::new(stream.try_clone().unwrap()),
            writer: stream,
        };
        assert_eq!(smtp.reply().0, 220);
        assert_eq!(smtp.cmd("EHLO tester.localhost").0, 250);
        let (code, text) = smtp.cmd(&format!("XCLIENT ADDR={addr} NAME={name}"));
        assert_eq!(code, 220, "XCLIENT: {text}");
        let (code, text) = smtp.cmd(&format!("EHLO {helo}"));
        assert_eq!(code, 250, "EHLO: {text}");
        smtp
    }

    fn reply(&mut self) -> (u16, String) {
        let mut text = String::new();
        loop {
            let mut line = String::new();
            let n = self.reader.read_line(&mut line).unwrap();
            assert!(n > 0, "the SMTP server closed the connection");
            text.push_str(&line);
            if line.as_bytes().get(3) != Some(&b'-') {
                let code = line[..3].parse().unwrap();
                return (code, text.trim_end().to_string());
            }
        }
    }

    fn cmd(&mut self, line: &str) -> (u16, String) {
        self.writer
            .write_all(format!("{line}\r\n").as_bytes())
            .unwrap();
        self.reply()
    }

    /// Sends a message with `X-Test-Id: id` after DATA was accepted.
    fn data(&mut self, id: &str) -> (u16, String) {
        let (code, text) = self.cmd("DATA");
        if code != 354 {
            return (code, text);
        }
        self.cmd(&format!(
            "X-Test-Id: {id}\r\nSubject: {id}\r\nFrom: test@pass.example\r\n\r\nbody\r\n."
        ))
    }

    fn quit(mut self) {
        let _ = self.cmd("QUIT");
    }
}

/// Whether the environment can run the test: Postfix installed and running as root.
fn can_run() -> bool {
    let root = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .map(|l| l.split_whitespace().nth(2) == Some("0"))
        })
        .unwrap_or(false);
    let installed = Path::new(POSTFIX).exists();
    if installed && root {
        return true;
    }
    let why = if installed {
        "not running as root"
    } else {
        "Postfix is not installed (run .ci/install-postfix.sh)"
    };
    assert!(
        std::env::var_os("CI").is_none(),
        "postfix_e2e cannot run under CI: {why}"
    );
    println!("skipped: {why}");
    false
}

#[test]
fn postfix_with_policyd() {
    if !can_run() {
        return;
    }
    let started = Instant::now();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let dns = rt.block_on(TestDnsServer::start(ZONE));
    let config = Config::parse(&format!(
        "Nameserver = {}\nDNS_Timeout = 2\nRecord_Cache = 0\nAuthserv_Id = mx.test.example\n\
         Header_Type = Both\nTempError_Defer = True\nWhitelist = 203.0.113.0/24\n",
        dns.addr()
    ))
    .unwrap();
    let policyd = Policyd::new(config.clone(), build_resolver(&config).unwrap());
    let listener = rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let policy_addr = listener.local_addr().unwrap();
    let policy_task = rt.spawn(policyd.clone().serve_tcp(listener));
    let postfix = Postfix::start(policy_addr);
    let port = postfix.port;
    eprintln!("Postfix up after {:?}", started.elapsed());

    // SPF pass: accepted, delivered with Received-SPF and Authentication-Results.
    let mut smtp = Smtp::connect(port, "192.0.2.10", "mail.pass.example", "mail.pass.example");
    assert_eq!(smtp.cmd("MAIL FROM:<alice@pass.example>").0, 250);
    assert_eq!(smtp.cmd("RCPT TO:<u1@rcpt.test.example>").0, 250);
    let (code, text) = smtp.data("pass");
    assert_eq!(code, 250, "{text}");

    // SPF fail: 550 5.7.23 at RCPT.
    assert_eq!(smtp.cmd("MAIL FROM:<bob@fail.example>").0, 250);
    let (code, text) = smtp.cmd("RCPT TO:<u1@rcpt.test.example>");
    assert_eq!(code, 550, "{text}");
    assert!(text.contains("5.7.23"), "{text}");
    assert!(
        text.contains("is not allowed to send mail for fail.example"),
        "{text}"
    );
    assert_eq!(smtp.cmd("RSET").0, 250);

    // Temperror: deferred (DEFER_IF_PERMIT gives 450 4.7.24).
    assert_eq!(smtp.cmd("MAIL FROM:<x@temp.example>").0, 250);
    let (code, text) = smtp.cmd("RCPT TO:<u1@rcpt.test.example>");
    assert_eq!(code, 450, "{text}");
    assert!(text.contains("4.7.24"), "{text}");
    smtp.quit();

    // HELO check: the HELO name's SPF fails, so the message is refused whatever the sender.
    let mut smtp = Smtp::connect(port, "192.0.2.10", "mail.pass.example", "bad-helo.example");
    assert_eq!(smtp.cmd("MAIL FROM:<alice@pass.example>").0, 250);
    let (code, text) = smtp.cmd("RCPT TO:<u1@rcpt.test.example>");
    assert_eq!(code, 550, "{text}");
    assert!(text.contains("5.7.23"), "{text}");
    assert!(text.contains("SPF validation failed for HELO"), "{text}");
    smtp.quit();

    // A whitelisted network: not checked (DUNNO), delivered without an SPF header.
    let queries_before = dns.total_queries();
    let mut smtp = Smtp::connect(
        port,
        "203.0.113.5",
        "relay.partner.example",
        "relay.partner.example",
    );
    assert_eq!(smtp.cmd("MAIL FROM:<bob@fail.example>").0, 250);
    assert_eq!(smtp.cmd("RCPT TO:<u1@rcpt.test.example>").0, 250);
    assert_eq!(smtp.data("whitelisted").0, 250);
    smtp.quit();
    assert_eq!(
        dns.total_queries(),
        queries_before,
        "a whitelisted client was checked"
    );

    // Fifty recipients in one message: one evaluation, one header of each kind.
    let evaluations = policyd.evaluations();
    let mut smtp = Smtp::connect(port, "192.0.2.10", "mail.pass.example", "mail.pass.example");
    assert_eq!(smtp.cmd("MAIL FROM:<carol@multi.example>").0, 250);
    for i in 0..50 {
        let (code, text) = smtp.cmd(&format!("RCPT TO:<user{i}@rcpt.test.example>"));
        assert_eq!(code, 250, "recipient {i}: {text}");
    }
    assert_eq!(smtp.data("multi").0, 250);
    smtp.quit();
    assert_eq!(policyd.evaluations(), evaluations + 1);
    assert_eq!(dns.query_count("multi.example", QueryType::TXT), 1);

    // A hostile HELO name and sender (Postfix turns the HELO's parentheses into `?`; the quoted
    // local part keeps them): the prepended headers are built to fit, so they arrive whole.
    let hostile_helo = format!("{}.example", "h(".repeat(125));
    let mut smtp = Smtp::connect(port, "192.0.2.10", "mail.pass.example", &hostile_helo);
    let sender = format!("\"{}\"@pass.example", "(".repeat(250));
    let (code, text) = smtp.cmd(&format!("MAIL FROM:<{sender}>"));
    assert_eq!(code, 250, "{text}");
    assert_eq!(smtp.cmd("RCPT TO:<u1@rcpt.test.example>").0, 250);
    assert_eq!(smtp.data("hostile").0, 250);
    smtp.quit();

    // The delivered messages.
    let hostile = postfix.delivered("hostile");
    for prefix in ["Received-SPF:", "Authentication-Results:"] {
        let field = hostile
            .iter()
            .find(|h| h.starts_with(prefix))
            .unwrap_or_else(|| panic!("no {prefix} in {hostile:#?}"));
        assert!(field.len() <= 998, "{} octets: {field}", field.len());
        let parsed = if prefix == "Received-SPF:" {
            parse_received_spf(field).map(|_| ())
        } else {
            parse_authentication_results(field).map(|_| ())
        };
        parsed.unwrap_or_else(|e| panic!("{e}"));
    }

    let pass = postfix.delivered("pass");
    let spf: Vec<_> = pass
        .iter()
        .filter(|h| h.starts_with("Received-SPF:"))
        .collect();
    assert_eq!(spf.len(), 1, "{pass:#?}");
    assert!(spf[0].starts_with("Received-SPF: pass (mx.test.example: domain of alice@pass.example designates 192.0.2.10 as permitted sender)"), "{}", spf[0]);
    assert!(spf[0].contains("helo=mail.pass.example;"), "{}", spf[0]);
    let ar: Vec<_> = pass
        .iter()
        .filter(|h| h.starts_with("Authentication-Results:"))
        .collect();
    assert_eq!(
        ar,
        [
            "Authentication-Results: mx.test.example; spf=pass smtp.mailfrom=alice@pass.example; \
          spf=pass smtp.helo=mail.pass.example; iprev=pass policy.iprev=192.0.2.10 (mail.pass.example)"
        ],
        "{pass:#?}"
    );
    // Postfix adds the policy's headers above its own Received: header.
    let position = |prefix: &str| pass.iter().position(|h| h.starts_with(prefix)).unwrap();
    assert!(
        position("Received-SPF:") < position("Received: from"),
        "{pass:#?}"
    );

    let whitelisted = postfix.delivered("whitelisted");
    assert!(
        !whitelisted
            .iter()
            .any(|h| h.starts_with("Received-SPF:") || h.starts_with("Authentication-Results:")),
        "{whitelisted:#?}"
    );

    let multi = postfix.delivered("multi");
    let count = |prefix: &str| multi.iter().filter(|h| h.starts_with(prefix)).count();
    assert_eq!(count("Received-SPF: pass"), 1, "{multi:#?}");
    assert_eq!(count("Authentication-Results:"), 1, "{multi:#?}");

    drop(postfix);
    policy_task.abort();
    drop(dns);
    rt.shutdown_timeout(Duration::from_secs(5));
    let elapsed = started.elapsed();
    eprintln!("postfix_e2e took {elapsed:?}");
    assert!(elapsed < Duration::from_secs(60), "took {elapsed:?}");
}
