//! The `policyd` example's policy server, in-process, against the in-process DNS server: the
//! Postfix policy protocol over TCP and a UNIX socket, the SPF answers, the per-message cache,
//! malformed and hostile input, the time limits, the configuration file and `--check-config`, and
//! (in a child process running the example's `run`) SIGTERM.

mod common;
mod header_grammar;
#[allow(dead_code)]
#[path = "../examples/policyd/server.rs"]
mod server;

use common::dns_server::{QueryType, TestDnsServer};
use header_grammar::{parse_authentication_results, parse_received_spf};
use sender_identity::dns::HickoryResolver;
use server::{Config, Policyd, build_resolver};
use std::net::SocketAddr;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::task::JoinHandle;

const ZONE: &str = r#"
    pass.example.        TXT  "v=spf1 ip4:192.0.2.0/24 -all"
    mail.pass.example.   TXT  "v=spf1 ip4:192.0.2.0/24 -all"
    mail.pass.example.   A    192.0.2.10
    fail.example.        TXT  "v=spf1 -all"
    bad-helo.example.    TXT  "v=spf1 -all"
    soft.example.        TXT  "v=spf1 ~all"
    temp.example.        SERVFAIL
"#;

/// A policy server on 127.0.0.1, stopped when dropped.
struct Policy {
    addr: SocketAddr,
    server: Arc<Policyd<HickoryResolver>>,
    task: JoinHandle<()>,
}

impl Drop for Policy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn start(dns: &TestDnsServer, extra: &str) -> Policy {
    let text = format!(
        "Nameserver = {}\nDNS_Timeout = 2\nRecord_Cache = 0\nAuthserv_Id = mx.test.example\n\
         {extra}",
        dns.addr()
    );
    let config = Config::parse(&text).unwrap();
    let resolver = build_resolver(&config).unwrap();
    let server = Policyd::new(config, resolver);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let task = tokio::spawn(server.clone().serve_tcp(listener));
    Policy { addr, server, task }
}

fn request(ip: &str, helo: &str, sender: &str, instance: &str, state: &str) -> String {
    format!(
        "request=smtpd_access_policy\nprotocol_state={state}\nprotocol_name=ESMTP\n\
         client_address={ip}\nclient_name=unknown\nreverse_client_name=unknown\n\
         helo_name={helo}\nsender={sender}\nrecipient=rcpt@test.example\ninstance={instance}\n\
         queue_id=\nsize=0\n\n"
    )
}

/// Sends raw request text and reads one reply: the `action=` value. Panics on a closed connection.
async fn ask<S: AsyncRead + AsyncWrite + Unpin>(conn: &mut BufReader<S>, text: &str) -> String {
    conn.get_mut().write_all(text.as_bytes()).await.unwrap();
    let mut line = String::new();
    conn.read_line(&mut line).await.unwrap();
    let mut empty = String::new();
    conn.read_line(&mut empty).await.unwrap();
    assert_eq!(empty, "\n", "reply not ended by an empty line: {line:?}");
    line.strip_prefix("action=")
        .unwrap_or_else(|| panic!("not an action line: {line:?}"))
        .trim_end()
        .to_string()
}

async fn connect(addr: SocketAddr) -> BufReader<TcpStream> {
    BufReader::new(TcpStream::connect(addr).await.unwrap())
}

/// Whether the server closed the connection without replying.
async fn closed_without_reply<S: AsyncRead + Unpin>(conn: &mut BufReader<S>) -> bool {
    let mut line = String::new();
    let n = tokio::time::timeout(Duration::from_secs(10), conn.read_line(&mut line))
        .await
        .expect("the server neither replied nor closed")
        .unwrap_or(0);
    n == 0
}

#[tokio::test]
async fn pass_prepends_received_spf() {
    let dns = TestDnsServer::start(ZONE).await;
    let policy = start(&dns, "").await;
    let mut conn = connect(policy.addr).await;
    let action = ask(
        &mut conn,
        &request(
            "192.0.2.10",
            "mail.pass.example",
            "alice@pass.example",
            "a1",
            "RCPT",
        ),
    )
    .await;
    assert!(
        action.starts_with("PREPEND Received-SPF: pass "),
        "{action}"
    );
    assert!(action.contains("client-ip=192.0.2.10;"), "{action}");
    assert!(
        action.contains("envelope-from=\"alice@pass.example\";"),
        "{action}"
    );
    assert!(action.contains("helo=mail.pass.example;"), "{action}");
    assert!(action.contains("receiver=mx.test.example;"), "{action}");
    assert!(action.contains("identity=mailfrom"), "{action}");
}

#[tokio::test]
async fn fail_rejects_with_5_7_23() {
    let dns = TestDnsServer::start(ZONE).await;
    let policy = start(&dns, "").await;
    let mut conn = connect(policy.addr).await;
    let action = ask(
        &mut conn,
        &request(
            "192.0.2.10",
            "mail.pass.example",
            "bob@fail.example",
            "f1",
            "RCPT",
        ),
    )
    .await;
    assert_eq!(
        action,
        "550 5.7.23 SPF validation failed for MAIL FROM: 192.0.2.10 is not allowed to send mail for fail.example"
    );
    // The same connection goes on serving.
    let action = ask(
        &mut conn,
        &request(
            "192.0.2.10",
            "mail.pass.example",
            "alice@pass.example",
            "f2",
            "RCPT",
        ),
    )
    .await;
    assert!(action.starts_with("PREPEND Received-SPF: pass"), "{action}");
}

#[tokio::test]
async fn helo_fail_rejects_and_helo_levels_apply() {
    let dns = TestDnsServer::start(ZONE).await;
    let policy = start(&dns, "").await;
    let mut conn = connect(policy.addr).await;
    let action = ask(
        &mut conn,
        &request(
            "192.0.2.10",
            "bad-helo.example",
            "alice@pass.example",
            "h1",
            "RCPT",
        ),
    )
    .await;
    assert!(
        action.starts_with("550 5.7.23 SPF validation failed for HELO:"),
        "{action}"
    );

    let lenient = start(&dns, "HELO_reject = Null\n").await;
    let mut conn = connect(lenient.addr).await;
    let req = request(
        "192.0.2.10",
        "bad-helo.example",
        "alice@pass.example",
        "h2",
        "RCPT",
    );
    let action = ask(&mut conn, &req).await;
    assert!(action.starts_with("PREPEND Received-SPF: pass"), "{action}");
    let req = request("192.0.2.10", "bad-helo.example", "", "h3", "RCPT");
    let action = ask(&mut conn, &req).await;
    assert!(
        action.starts_with("550 5.7.23"),
        "null sender with HELO_reject = Null: {action}"
    );
}

#[tokio::test]
async fn softfail_levels() {
    let dns = TestDnsServer::start(ZONE).await;
    let req = request(
        "192.0.2.10",
        "mail.pass.example",
        "x@soft.example",
        "s1",
        "RCPT",
    );
    let default = start(&dns, "").await;
    let action = ask(&mut connect(default.addr).await, &req).await;
    assert!(
        action.starts_with("PREPEND Received-SPF: softfail"),
        "{action}"
    );
    let strict = start(
        &dns,
        "Mail_From_reject = Softfail\nSPF_Enhanced_Status_Codes = No\n",
    )
    .await;
    let action = ask(&mut connect(strict.addr).await, &req).await;
    assert_eq!(
        action,
        "550 SPF validation failed for MAIL FROM soft.example: softfail"
    );
    let test_only = start(&dns, "Mail_From_reject = Softfail\nTestOnly = 0\n").await;
    let action = ask(&mut connect(test_only.addr).await, &req).await;
    assert!(
        action.starts_with("PREPEND Received-SPF: softfail"),
        "{action}"
    );
}

#[tokio::test]
async fn temperror_defers_per_config() {
    let dns = TestDnsServer::start(ZONE).await;
    let req = request(
        "192.0.2.10",
        "mail.pass.example",
        "x@temp.example",
        "t1",
        "RCPT",
    );

    let default = start(&dns, "").await;
    let action = ask(&mut connect(default.addr).await, &req).await;
    assert!(
        action.starts_with("PREPEND Received-SPF: temperror"),
        "{action}"
    );

    let defer = start(&dns, "TempError_Defer = True\n").await;
    let action = ask(&mut connect(defer.addr).await, &req).await;
    assert_eq!(
        action,
        "DEFER_IF_PERMIT 4.7.24 Temporary error checking SPF for MAIL FROM temp.example"
    );

    let code = start(&dns, "TempError_Defer = True\nDefer_Reply = 450\n").await;
    let action = ask(&mut connect(code.addr).await, &req).await;
    assert_eq!(
        action,
        "450 4.7.24 Temporary error checking SPF for MAIL FROM temp.example"
    );
}

#[tokio::test]
async fn whitelisted_and_skipped_clients_are_not_checked() {
    let dns = TestDnsServer::start(ZONE).await;
    let policy = start(&dns, "Whitelist = 203.0.113.0/24\n").await;
    let mut conn = connect(policy.addr).await;
    let req = request(
        "203.0.113.5",
        "mail.pass.example",
        "bob@fail.example",
        "w1",
        "RCPT",
    );
    assert_eq!(ask(&mut conn, &req).await, "DUNNO");
    let req = request(
        "127.0.0.1",
        "mail.pass.example",
        "bob@fail.example",
        "w2",
        "RCPT",
    );
    assert_eq!(ask(&mut conn, &req).await, "DUNNO");
    let req = request(
        "::ffff:127.0.0.1",
        "mail.pass.example",
        "bob@fail.example",
        "w3",
        "RCPT",
    );
    assert_eq!(ask(&mut conn, &req).await, "DUNNO");
    assert_eq!(dns.total_queries(), 0);
    assert_eq!(policy.server.evaluations(), 0);
    // Not whitelisted: checked and rejected.
    let req = request(
        "198.51.100.1",
        "mail.pass.example",
        "bob@fail.example",
        "w4",
        "RCPT",
    );
    assert!(ask(&mut conn, &req).await.starts_with("550 5.7.23"));
}

#[tokio::test]
async fn fifty_recipients_one_evaluation() {
    let dns = TestDnsServer::start(ZONE).await;
    let policy = start(&dns, "").await;
    let mut conn = connect(policy.addr).await;
    let req = request(
        "192.0.2.10",
        "mail.pass.example",
        "alice@pass.example",
        "m1",
        "RCPT",
    );
    let mut prepends = 0;
    for i in 0..50 {
        let action = ask(&mut conn, &req).await;
        if action.starts_with("PREPEND Received-SPF: pass") {
            prepends += 1;
            assert_eq!(i, 0, "the header comes with the first request");
        } else {
            assert_eq!(action, "DUNNO");
        }
    }
    assert_eq!(prepends, 1);
    assert_eq!(policy.server.evaluations(), 1);
    assert_eq!(dns.query_count("pass.example", QueryType::TXT), 1);
    assert_eq!(dns.query_count("mail.pass.example", QueryType::TXT), 1);
    let after_first = dns.total_queries();

    // A rejected message is rejected at every recipient, still from one evaluation.
    let req = request(
        "192.0.2.10",
        "mail.pass.example",
        "bob@fail.example",
        "m2",
        "RCPT",
    );
    for _ in 0..50 {
        assert!(ask(&mut conn, &req).await.starts_with("550 5.7.23"));
    }
    assert_eq!(policy.server.evaluations(), 2);
    assert_eq!(dns.query_count("fail.example", QueryType::TXT), 1);

    // A new message (instance) is checked again.
    let req = request(
        "192.0.2.10",
        "mail.pass.example",
        "alice@pass.example",
        "m3",
        "RCPT",
    );
    assert!(ask(&mut conn, &req).await.starts_with("PREPEND"));
    assert_eq!(policy.server.evaluations(), 3);
    assert!(dns.total_queries() > after_first);
}

#[tokio::test]
async fn both_headers_rcpt_then_data() {
    let dns = TestDnsServer::start(ZONE).await;
    let policy = start(&dns, "Header_Type = Both\n").await;
    let mut conn = connect(policy.addr).await;
    let rcpt = request(
        "192.0.2.10",
        "mail.pass.example",
        "alice@pass.example",
        "b1",
        "RCPT",
    )
    .replace("client_name=unknown", "client_name=mail.pass.example");
    let action = ask(&mut conn, &rcpt).await;
    assert!(action.starts_with("PREPEND Received-SPF: pass"), "{action}");
    let data = rcpt.replace("protocol_state=RCPT", "protocol_state=DATA");
    let action = ask(&mut conn, &data).await;
    assert_eq!(
        action,
        "PREPEND Authentication-Results: mx.test.example; spf=pass smtp.mailfrom=alice@pass.example; \
         spf=pass smtp.helo=mail.pass.example; iprev=pass policy.iprev=192.0.2.10 (mail.pass.example)"
    );
    let eom = rcpt.replace("protocol_state=RCPT", "protocol_state=END-OF-MESSAGE");
    assert_eq!(ask(&mut conn, &eom).await, "DUNNO");
    assert_eq!(policy.server.evaluations(), 1);
    // Other stages are not checked.
    let helo = rcpt.replace("protocol_state=RCPT", "protocol_state=HELO");
    assert_eq!(ask(&mut conn, &helo).await, "DUNNO");
}

#[tokio::test]
async fn malformed_requests() {
    let dns = TestDnsServer::start(ZONE).await;
    let policy = start(&dns, "").await;
    let good = request(
        "192.0.2.10",
        "mail.pass.example",
        "alice@pass.example",
        "",
        "RCPT",
    );

    // Missing attributes: DUNNO, and the connection stays usable.
    let mut conn = connect(policy.addr).await;
    assert_eq!(
        ask(&mut conn, "request=smtpd_access_policy\nsender=a@b\n\n").await,
        "DUNNO"
    );
    assert_eq!(
        ask(&mut conn, "client_address=192.0.2.10\n\n").await,
        "DUNNO"
    );
    assert_eq!(
        ask(
            &mut conn,
            "request=smtpd_access_policy\nclient_address=nonsense\n\n"
        )
        .await,
        "DUNNO"
    );
    assert!(ask(&mut conn, &good).await.starts_with("PREPEND"));

    // An over-long line: no reply, the connection is closed.
    let mut conn = connect(policy.addr).await;
    let long = format!(
        "request=smtpd_access_policy\nsender={}\n\n",
        "x".repeat(20_000)
    );
    let _ = conn.get_mut().write_all(long.as_bytes()).await;
    assert!(closed_without_reply(&mut conn).await);

    // Endless line without a newline: closed once the cap is reached, not buffered forever.
    let mut conn = connect(policy.addr).await;
    let chunk = vec![b'a'; 4096];
    let mut sent = 0;
    while sent < 1 << 20 {
        if conn.get_mut().write_all(&chunk).await.is_err() {
            break;
        }
        sent += chunk.len();
    }
    assert!(sent < 1 << 20 || closed_without_reply(&mut conn).await);

    // Too many attributes.
    let mut conn = connect(policy.addr).await;
    let many: String = (0..100).map(|i| format!("a{i}=1\n")).collect::<String>() + "\n";
    let _ = conn.get_mut().write_all(many.as_bytes()).await;
    assert!(closed_without_reply(&mut conn).await);

    // Binary junk.
    let mut conn = connect(policy.addr).await;
    let _ = conn
        .get_mut()
        .write_all(b"\x00\xff\xfe\x01garbage\n\n")
        .await;
    assert!(closed_without_reply(&mut conn).await);

    // A client that disconnects in the middle of a request.
    let mut conn = connect(policy.addr).await;
    conn.get_mut()
        .write_all(b"request=smtpd_access_policy\nclient_addr")
        .await
        .unwrap();
    drop(conn);

    // The server still serves.
    let mut conn = connect(policy.addr).await;
    assert!(
        ask(&mut conn, &good)
            .await
            .starts_with("PREPEND Received-SPF: pass")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_connections() {
    let dns = TestDnsServer::start(ZONE).await;
    let policy = start(&dns, "debugLevel = 0\n").await;
    let mut tasks = Vec::new();
    for i in 0..40 {
        let addr = policy.addr;
        tasks.push(tokio::spawn(async move {
            let mut conn = connect(addr).await;
            let (sender, want) = if i % 2 == 0 {
                ("alice@pass.example", "PREPEND Received-SPF: pass")
            } else {
                ("bob@fail.example", "550 5.7.23")
            };
            for round in 0..3 {
                let req = request(
                    "192.0.2.10",
                    "mail.pass.example",
                    sender,
                    &format!("c{i}-{round}"),
                    "RCPT",
                );
                let action = ask(&mut conn, &req).await;
                assert!(action.starts_with(want), "connection {i}: {action}");
            }
        }));
    }
    for task in tasks {
        tokio::time::timeout(Duration::from_secs(30), task)
            .await
            .expect("a connection hung")
            .unwrap();
    }
    assert_eq!(policy.server.evaluations(), 120);
}

#[tokio::test]
async fn max_connections_closes_the_extra_one() {
    let dns = TestDnsServer::start(ZONE).await;
    let policy = start(&dns, "Max_Connections = 1\n").await;
    let req = request(
        "192.0.2.10",
        "mail.pass.example",
        "alice@pass.example",
        "",
        "RCPT",
    );
    let mut first = connect(policy.addr).await;
    assert!(ask(&mut first, &req).await.starts_with("PREPEND"));
    let mut second = connect(policy.addr).await;
    let _ = second.get_mut().write_all(req.as_bytes()).await;
    assert!(closed_without_reply(&mut second).await);
    drop(first);
    // The slot comes back once the first connection ends.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let mut third = connect(policy.addr).await;
        let _ = third.get_mut().write_all(req.as_bytes()).await;
        let mut line = String::new();
        if third.read_line(&mut line).await.unwrap_or(0) > 0 {
            assert!(line.starts_with("action=PREPEND"), "{line}");
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the slot never came back"
        );
        tokio::task::yield_now().await;
    }
}

#[tokio::test]
async fn unix_socket() {
    let dns = TestDnsServer::start(ZONE).await;
    let config =
        Config::parse(&format!("Nameserver = {}\nRecord_Cache = 0\n", dns.addr())).unwrap();
    let server = Policyd::new(config.clone(), build_resolver(&config).unwrap());
    let path = std::env::temp_dir().join(format!("policyd-test-{}.sock", std::process::id()));
    let _ = std::fs::remove_file(&path);
    let listener = tokio::net::UnixListener::bind(&path).unwrap();
    let task = tokio::spawn(server.clone().serve_unix(listener));
    let mut conn = BufReader::new(tokio::net::UnixStream::connect(&path).await.unwrap());
    let req = request(
        "192.0.2.10",
        "mail.pass.example",
        "bob@fail.example",
        "u1",
        "RCPT",
    );
    assert!(ask(&mut conn, &req).await.starts_with("550 5.7.23"));
    task.abort();
    let _ = std::fs::remove_file(&path);
}

/// Issue 14 items 3-5 through the server: a HELO of 250 `(` and a sender of 250 `(` gave a
/// 2,211-octet Received-SPF that `clean_reply` cut at 1,000 characters, inside a quoted string.
/// Every PREPENDed header now parses under the strict grammars and fits one 998-octet line.
#[tokio::test]
async fn prepended_headers_fit_and_parse_for_hostile_values() {
    let dns = TestDnsServer::start(ZONE).await;
    let policy = start(&dns, "Header_Type = Both\n").await;
    let mut conn = connect(policy.addr).await;
    let parens = "(".repeat(250);
    let cases = [
        (parens.clone(), parens.clone()),
        ("spf=pass".to_string(), "a@spf=pass".to_string()),
        (
            "mail.pass.example".to_string(),
            "alice@pass.example".to_string(),
        ),
        (
            format!("{}\"\\", "=".repeat(300)),
            format!("{}@pass.example", "\"\\".repeat(200)),
        ),
    ];
    for (i, (helo, sender)) in cases.iter().enumerate() {
        let rcpt = request("192.0.2.10", helo, sender, &format!("x{i}"), "RCPT");
        let received = ask(&mut conn, &rcpt).await;
        let header = received
            .strip_prefix("PREPEND ")
            .unwrap_or_else(|| panic!("{received}"));
        assert!(header.len() <= 998, "{} octets: {header}", header.len());
        let parsed = parse_received_spf(header).unwrap_or_else(|e| panic!("{e}"));
        assert!(parsed.get("helo").is_some() && parsed.get("envelope-from").is_some());

        let data = rcpt.replace("protocol_state=RCPT", "protocol_state=DATA");
        let ar = ask(&mut conn, &data).await;
        let header = ar
            .strip_prefix("PREPEND ")
            .unwrap_or_else(|| panic!("{ar}"));
        assert!(header.len() <= 998, "{} octets: {header}", header.len());
        let parsed = parse_authentication_results(header).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(parsed.results.len(), 3, "{header}");
    }
}

/// Whether the server closes `conn` while the client sends `line` every 100 ms; the number of
/// lines sent before it did, or `None` if it stayed open for `max` lines.
async fn lines_until_closed(
    conn: &mut BufReader<TcpStream>,
    line: &[u8],
    max: usize,
) -> Option<usize> {
    for sent in 0..max {
        if conn.get_mut().write_all(line).await.is_err() {
            return Some(sent);
        }
        let mut buf = String::new();
        match tokio::time::timeout(Duration::from_millis(100), conn.read_line(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return Some(sent),
            Ok(Ok(_)) => panic!("a reply to {line:?}: {buf:?}"),
            Err(_) => {}
        }
    }
    None
}

/// Issue 14 item 7: blank lines and partial requests do not reset the idle timeout (512
/// connections sending `\n` every 2 s held every slot). With `Idle_Timeout = 1`, a client sending
/// a blank line every 100 ms is closed; so is one sending attribute lines that never end a
/// request (before the 64-attribute limit would close it).
#[tokio::test]
async fn blank_lines_and_partial_requests_do_not_keep_a_connection() {
    let dns = TestDnsServer::start(ZONE).await;
    let policy = start(&dns, "Idle_Timeout = 1\n").await;

    let mut conn = connect(policy.addr).await;
    let sent = lines_until_closed(&mut conn, b"\n", 150).await;
    assert!(
        sent.is_some(),
        "blank lines kept the connection open for 15 s"
    );

    let mut conn = connect(policy.addr).await;
    let sent = lines_until_closed(&mut conn, b"a=1\n", 40).await;
    assert!(
        sent.is_some(),
        "40 attribute lines kept the connection open"
    );

    // A connection that completes its requests stays open across them.
    let mut conn = connect(policy.addr).await;
    let req = request(
        "192.0.2.10",
        "mail.pass.example",
        "alice@pass.example",
        "",
        "RCPT",
    );
    for _ in 0..3 {
        assert!(ask(&mut conn, &req).await.starts_with("PREPEND"));
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// A zone whose TXT answers each take `delay`.
struct SlowZone {
    zone: sender_identity::dns::ZoneResolver,
    delay: Duration,
}

#[async_trait::async_trait]
impl sender_identity::dns::Resolver for SlowZone {
    async fn lookup_txt(
        &self,
        name: &str,
    ) -> sender_identity::dns::LookupResult<Vec<sender_identity::dns::TxtRecord>> {
        tokio::time::sleep(self.delay).await;
        self.zone.lookup_txt(name).await
    }
    async fn lookup_a(
        &self,
        name: &str,
    ) -> sender_identity::dns::LookupResult<Vec<std::net::Ipv4Addr>> {
        self.zone.lookup_a(name).await
    }
    async fn lookup_aaaa(
        &self,
        name: &str,
    ) -> sender_identity::dns::LookupResult<Vec<std::net::Ipv6Addr>> {
        self.zone.lookup_aaaa(name).await
    }
    async fn lookup_mx(
        &self,
        name: &str,
    ) -> sender_identity::dns::LookupResult<Vec<sender_identity::dns::Mx>> {
        self.zone.lookup_mx(name).await
    }
    async fn lookup_ptr(
        &self,
        ip: std::net::IpAddr,
    ) -> sender_identity::dns::LookupResult<Vec<String>> {
        self.zone.lookup_ptr(ip).await
    }
}

async fn start_with<R: sender_identity::dns::Resolver + 'static>(
    resolver: R,
    extra: &str,
) -> (SocketAddr, tokio::task::JoinHandle<()>) {
    let config = Config::parse(&format!(
        "Record_Cache = 0\nAuthserv_Id = mx.test.example\n{extra}"
    ))
    .unwrap();
    let server = Policyd::new(config, resolver);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    (addr, tokio::spawn(server.serve_tcp(listener)))
}

/// Issue 14 item 7: one request could take 2 x `Lookup_Time` (the HELO and the MAIL FROM check
/// each had it). The two checks now share one `Lookup_Time`: each TXT answer takes 1.2 s and
/// `Lookup_Time = 2`, so the HELO check passes and the MAIL FROM check, with 0.8 s left, gives
/// temperror (with a budget each, both passed). With a resolver that never answers, the answer
/// comes within `Lookup_Time` (plus a generous margin), not twice that.
#[tokio::test]
async fn one_lookup_time_for_the_whole_request() {
    let zone: sender_identity::dns::ZoneResolver = ZONE.parse().unwrap();
    let slow = SlowZone {
        zone,
        delay: Duration::from_millis(1200),
    };
    let (addr, task) = start_with(slow, "Lookup_Time = 2\n").await;
    let mut conn = connect(addr).await;
    let req = request(
        "192.0.2.10",
        "mail.pass.example",
        "alice@pass.example",
        "",
        "RCPT",
    );
    let action = ask(&mut conn, &req).await;
    assert!(
        action.starts_with("PREPEND Received-SPF: temperror"),
        "{action}"
    );
    task.abort();

    let (addr, task) = start_with(common::resolvers::Hang, "Lookup_Time = 2\n").await;
    let mut conn = connect(addr).await;
    let started = std::time::Instant::now();
    let action = ask(&mut conn, &req).await;
    let took = started.elapsed();
    assert!(
        action.starts_with("PREPEND Received-SPF: temperror"),
        "{action}"
    );
    assert!(
        took < Duration::from_millis(3500),
        "answered after {took:?}"
    );
    task.abort();
}

/// The fenced ` ```text ` blocks of `text` (lines with `prefix` removed) that hold `needle`.
fn doc_blocks(text: &str, prefix: &str, needle: &str) -> Vec<String> {
    let mut blocks = Vec::new();
    let mut current: Option<String> = None;
    for line in text.lines() {
        let Some(line) = line.strip_prefix(prefix) else {
            continue;
        };
        let line = line.strip_prefix(' ').unwrap_or(line);
        match (&mut current, line.trim_end()) {
            (None, fence) if fence.starts_with("```") => current = Some(String::new()),
            (Some(block), "```") => {
                if block.contains(needle) {
                    blocks.push(block.clone());
                }
                current = None;
            }
            (Some(block), _) => {
                block.push_str(line);
                block.push('\n');
            }
            (None, _) => {}
        }
    }
    blocks
}

/// Issue 15 item 12: the sample configuration of the docs was refused (`# comment` after a
/// value). The samples are read from the docs themselves: the doc comment of
/// `examples/policyd/main.rs` and the README.
#[test]
fn the_documented_sample_configurations_parse() {
    let root = env!("CARGO_MANIFEST_DIR");
    let main = std::fs::read_to_string(format!("{root}/examples/policyd/main.rs")).unwrap();
    let readme = std::fs::read_to_string(format!("{root}/README.md")).unwrap();
    let samples: Vec<String> = doc_blocks(&main, "//!", "HELO_reject")
        .into_iter()
        .chain(doc_blocks(&readme, "", "HELO_reject"))
        .collect();
    assert_eq!(samples.len(), 2, "one sample in main.rs, one in the README");
    for sample in samples {
        let config = Config::parse(&sample).unwrap_or_else(|e| panic!("{e}\n{sample}"));
        // The comments are not part of the values.
        assert_eq!(config.helo_reject, server::RejectLevel::Fail, "{sample}");
        assert!(
            config.whitelist.contains("192.0.2.7".parse().unwrap()),
            "{sample}"
        );
    }
}

#[test]
fn comments_after_values() {
    let text = "Lookup_Time = 7   # seconds\n\
                Whitelist = 192.0.2.0/24, 2001:db8::/32\t# partners\n\
                Authserv_Id = mx.example.net #x\n\
                Unix_Socket = /run/a#b.sock\n";
    let config = Config::parse(text).unwrap();
    assert_eq!(config.lookup_time, Duration::from_secs(7));
    assert_eq!(config.whitelist.len(), 2);
    assert_eq!(config.authserv_id, "mx.example.net");
    // A `#` inside a word is part of it.
    assert_eq!(
        config.unix.as_deref(),
        Some(std::path::Path::new("/run/a#b.sock"))
    );
    // A value that is only a comment is empty (here refused), and a `#` glued to a value is part
    // of it (here refused too).
    let err = Config::parse(&format!("{text}TestOnly = # empty\n")).unwrap_err();
    assert_eq!(err.line, 5, "{err}");
    assert!(Config::parse("HELO_reject = Fail#x\n").is_err());
}

/// Runs this test binary again as a child process that runs the example's `run` (the whole
/// program: arguments, signals, listeners) with `args`.
fn policyd_process(args: &[&str]) -> Command {
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.args([
        "policyd_child",
        "--exact",
        "--nocapture",
        "--test-threads=1",
        "--quiet",
    ])
    .env("POLICYD_CHILD_ARGS", args.join("\u{1f}"));
    cmd
}

/// Not a test of its own: the child process of [`policyd_process`] (it returns at once otherwise).
#[test]
fn policyd_child() {
    let Ok(args) = std::env::var("POLICYD_CHILD_ARGS") else {
        return;
    };
    let args: Vec<String> = args.split('\u{1f}').map(str::to_string).collect();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let code = rt.block_on(server::run(&args));
    std::process::exit(code.into());
}

fn temp_path(name: &str) -> std::path::PathBuf {
    std::env::temp_dir().join(format!("policyd-{}-{name}", std::process::id()))
}

/// Issue 15 item 12: `--check-config` printed `Debug` output (`PrefixIndex { levels: ... }`). It
/// prints one `Name = value` line per option, network lists as their entries, and that text is a
/// configuration file that reads back the same.
#[test]
fn check_config_prints_a_readable_summary() {
    let path = temp_path("check.conf");
    std::fs::write(
        &path,
        "Whitelist = 192.0.2.0/24, 2001:db8::/32  # partners\nHeader_Type = Both\n\
         Authserv_Id = mx.example.net\nNameserver = 127.0.0.1:5353\n",
    )
    .unwrap();
    let out = policyd_process(&["--config", path.to_str().unwrap(), "--check-config"])
        .output()
        .unwrap();
    let _ = std::fs::remove_file(&path);
    assert!(out.status.success(), "{out:?}");
    let stdout = String::from_utf8(out.stdout).unwrap();
    for line in [
        "HELO_reject = Fail",
        "Header_Type = Both",
        "Whitelist = 192.0.2.0/24, [2001:db8::]/32",
        "skip_addresses = 127.0.0.0/8, 127.0.0.0/8, [::1]/128",
        "Nameserver = 127.0.0.1:5353",
        "Lookup_Time = 20",
        "Listen = 127.0.0.1:10023",
        "# Unix_Socket: off",
    ] {
        assert!(
            stdout.lines().any(|l| l == line),
            "no {line:?} in\n{stdout}"
        );
    }
    assert!(
        !stdout.contains('{') && !stdout.contains("PrefixIndex"),
        "{stdout}"
    );
    // The summary is a configuration file that reads back the same.
    let summary: String = stdout
        .lines()
        .filter(|l| !l.starts_with("# configuration OK"))
        .filter(|l| l.contains(" = ") || l.starts_with("# "))
        .map(|l| format!("{l}\n"))
        .collect();
    let again = Config::parse(&summary).unwrap_or_else(|e| panic!("{e}\n{summary}"));
    assert_eq!(again.summary(), summary);
}

/// Issue 14 item 7: SIGTERM dropped the request in evaluation and left the UNIX socket behind.
/// Now the process stops accepting, answers the request it is evaluating (here one waiting for a
/// DNS answer that never comes, so it ends at `Lookup_Time` with temperror), closes its idle
/// connections, removes its socket and exits with 0.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_finishes_requests_in_evaluation_and_removes_the_socket() {
    let dns = TestDnsServer::start(
        "slow.example. TIMEOUT\nmail.pass.example. TXT \"v=spf1 ip4:192.0.2.0/24 -all\"\n",
    )
    .await;
    let socket = temp_path("term.sock");
    let conf = temp_path("term.conf");
    let _ = std::fs::remove_file(&socket);
    std::fs::write(
        &conf,
        format!(
            "Nameserver = {}\nDNS_Timeout = 1\nLookup_Time = 2\nUnix_Socket = {}\n\
             Authserv_Id = mx.test.example\nRecord_Cache = 0\n",
            dns.addr(),
            socket.display()
        ),
    )
    .unwrap();
    let mut child = policyd_process(&["--config", conf.to_str().unwrap()])
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while !socket.exists() {
        assert!(std::time::Instant::now() < deadline, "no socket");
        assert!(child.try_wait().unwrap().is_none(), "policyd exited");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let mut idle = BufReader::new(tokio::net::UnixStream::connect(&socket).await.unwrap());
    let mut busy = BufReader::new(tokio::net::UnixStream::connect(&socket).await.unwrap());
    let req = request(
        "192.0.2.10",
        "mail.pass.example",
        "x@slow.example",
        "t1",
        "RCPT",
    );
    busy.get_mut().write_all(req.as_bytes()).await.unwrap();
    // In evaluation: the MAIL FROM check waits for slow.example.
    tokio::time::timeout(Duration::from_secs(20), dns.wait_for_queries(2))
        .await
        .expect("the request never reached DNS");
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());

    // The request in evaluation gets its answer.
    let mut line = String::new();
    busy.read_line(&mut line).await.unwrap();
    assert!(
        line.starts_with("action=PREPEND Received-SPF: temperror"),
        "{line:?}"
    );
    // The idle connection is closed without a reply.
    assert!(closed_without_reply(&mut idle).await);
    // The process exits with 0 and removes its socket.
    let exit = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(
            std::time::Instant::now() < deadline + Duration::from_secs(30),
            "policyd did not exit"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let _ = std::fs::remove_file(&conf);
    assert_eq!(exit.code(), Some(0), "{exit:?}");
    assert!(!socket.exists(), "the socket was left behind");
}
