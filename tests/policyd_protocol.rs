//! The `policyd` example's policy server, in-process, against the in-process DNS server: the
//! Postfix policy protocol over TCP and a UNIX socket, the SPF answers, the per-message cache and
//! malformed input.

mod common;
#[allow(dead_code)]
#[path = "../examples/policyd/server.rs"]
mod server;

use common::dns_server::{QueryType, TestDnsServer};
use sender_identity::dns::HickoryResolver;
use server::{build_resolver, Config, Policyd};
use std::net::SocketAddr;
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
        action.contains("envelope-from=alice@pass.example;"),
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
    assert!(ask(&mut conn, &good)
        .await
        .starts_with("PREPEND Received-SPF: pass"));
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
