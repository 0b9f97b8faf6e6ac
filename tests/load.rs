//! Load: 1,000 concurrent SPF evaluations through one `HickoryResolver` against the local DNS
//! server (`common::dns_server`, on 127.0.0.1), on a multi-thread Tokio runtime.
//!
//! - Every evaluation completes with the result its domain and client call for (a mix of pass,
//!   fail, softfail and neutral), and none is lost: 1,000 results come back, tallied per result.
//! - All 1,000 are in flight at once (a barrier holds each until all have started).
//! - The server receives no more lookups than RFC 7208's limits allow for 1,000 evaluations (see
//!   `tests/dns_faults.rs` for the per-evaluation bound).
//! - Memory returns to its baseline: an instrumented global allocator (`stats_alloc`) tracks the
//!   bytes allocated and
//!   not yet freed. A first round of 1,000 is the warm-up (it fills whatever pools and tables keep
//!   their high-water size); the live bytes after a second round must be within [`TOLERANCE`]
//!   (16 KiB) of those after the first, so a leak of 17 bytes or more per evaluation fails the
//!   test. Both are read after one more lookup, which makes the server release the finished tasks
//!   of the round, and with the server's query log emptied.
//! - The whole test is bounded by [`TIME_LIMIT`] and stops by itself.
#![cfg(feature = "hickory")]

mod common;

use common::dns_server::TestDnsServer;
use sender_identity::dns::HickoryResolver;
use sender_identity::spf::{Config, SpfOutput, SpfResult, Verifier};
use stats_alloc::{INSTRUMENTED_SYSTEM, StatsAlloc};
use std::alloc::System;
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Barrier;

/// The system allocator, instrumented (the same safe wrapper `tests/allocations.rs` uses).
#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

/// The bytes currently allocated.
fn live_bytes() -> isize {
    let stats = GLOBAL.stats();
    stats.bytes_allocated as isize - stats.bytes_deallocated as isize
}

const EVALUATIONS: usize = 1_000;
/// How far the live bytes after the measured round may be from the baseline.
/// (Run to run, the difference seen is within ±8 KiB; a leak of 40 bytes per evaluation shows as
/// +40,000.)
const TOLERANCE: isize = 16 * 1024;
/// The whole test must end within this.
const TIME_LIMIT: Duration = Duration::from_secs(60);

const ZONE: &str = r#"
    pass.example.com.     TXT "v=spf1 ip4:192.0.2.0/24 -all"
    soft.example.com.     TXT "v=spf1 a:hosts.example.com mx ~all"
    soft.example.com.     MX  10 mx.soft.example.com.
    hosts.example.com.    A   198.51.100.10
    mx.soft.example.com.  A   198.51.100.20
    inc.example.com.      TXT "v=spf1 include:pass.example.com ?all"
    red.example.com.      TXT "v=spf1 redirect=soft.example.com"
"#;

const DOMAINS: [&str; 4] = [
    "pass.example.com",
    "soft.example.com",
    "inc.example.com",
    "red.example.com",
];
const CLIENTS: [&str; 4] = [
    "192.0.2.10",
    "198.51.100.10",
    "198.51.100.20",
    "203.0.113.5",
];

/// The domain and client of evaluation `i`: every combination, in turn.
fn case(i: usize) -> (&'static str, IpAddr) {
    (
        DOMAINS[i % DOMAINS.len()],
        CLIENTS[(i / DOMAINS.len()) % CLIENTS.len()]
            .parse()
            .unwrap(),
    )
}

/// The RFC 7208 result for a domain and client of the zone.
fn expected(domain: &str, client: IpAddr) -> SpfResult {
    let client = client.to_string();
    let in_192 = client == "192.0.2.10";
    let soft_listed = client == "198.51.100.10" || client == "198.51.100.20";
    match domain {
        "pass.example.com" if in_192 => SpfResult::Pass,
        "pass.example.com" => SpfResult::Fail,
        "soft.example.com" | "red.example.com" if soft_listed => SpfResult::Pass,
        "soft.example.com" | "red.example.com" => SpfResult::Softfail,
        "inc.example.com" if in_192 => SpfResult::Pass,
        "inc.example.com" => SpfResult::Neutral,
        other => panic!("no expectation for {other}"),
    }
}

/// Runs `EVALUATIONS` evaluations at once through `verifier`; returns each one's index and output.
async fn round(verifier: &Arc<Verifier<HickoryResolver>>) -> Vec<(usize, SpfOutput)> {
    let barrier = Arc::new(Barrier::new(EVALUATIONS));
    let handles: Vec<_> = (0..EVALUATIONS)
        .map(|i| {
            let verifier = Arc::clone(verifier);
            let barrier = Arc::clone(&barrier);
            tokio::spawn(async move {
                let (domain, ip) = case(i);
                barrier.wait().await;
                let sender = format!("user{i}@{domain}");
                let out = verifier
                    .check_mail_from(ip, "helo.example.net", &sender)
                    .await;
                (i, out)
            })
        })
        .collect();
    let mut outputs = Vec::with_capacity(EVALUATIONS);
    for handle in handles {
        outputs.push(handle.await.expect("an evaluation task panicked"));
    }
    outputs
}

/// Checks every output against its expectation and the tally of results; returns the sum of the
/// per-evaluation lookup bounds.
fn check_round(outputs: &[(usize, SpfOutput)], config: &Config) -> usize {
    assert_eq!(outputs.len(), EVALUATIONS, "evaluations lost");
    let mut want: HashMap<SpfResult, usize> = HashMap::new();
    let mut got: HashMap<SpfResult, usize> = HashMap::new();
    let mut bound = 0;
    for (n, (i, out)) in outputs.iter().enumerate() {
        assert_eq!(*i, n);
        let (domain, ip) = case(*i);
        let expect = expected(domain, ip);
        assert_eq!(
            out.result, expect,
            "evaluation {i}: {domain} from {ip}: {out:?}"
        );
        *want.entry(expect).or_default() += 1;
        *got.entry(out.result).or_default() += 1;
        let terms = out.dns_lookups.min(config.max_dns_lookups) as usize;
        bound += 1 + terms * (1 + config.max_mx_names) + (1 + config.max_ptr_names) + 1;
    }
    assert_eq!(got, want);
    for result in [
        SpfResult::Pass,
        SpfResult::Fail,
        SpfResult::Softfail,
        SpfResult::Neutral,
    ] {
        assert!(got.get(&result).copied().unwrap_or(0) > 0, "no {result}");
    }
    bound
}

/// Ends the round on the server side: hickory-server keeps the finished tasks of UDP requests
/// until the next request arrives, so one more lookup (awaited) releases them.
async fn flush(verifier: &Verifier<HickoryResolver>) {
    use sender_identity::dns::Resolver;
    let _ = verifier.resolver().lookup_a("flush.example.com").await;
}

#[test]
fn thousand_concurrent_evaluations_one_resolver() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        tokio::time::timeout(TIME_LIMIT, async {
            let server = TestDnsServer::start(ZONE).await;
            let resolver = HickoryResolver::builder()
                .name_server(server.addr())
                .timeout(Duration::from_secs(5))
                .attempts(2)
                .build()
                .unwrap();
            let config = Config::default();
            let verifier = Arc::new(Verifier::with_config(resolver, config.clone()));

            // Warm-up round, checked as well.
            let outputs = round(&verifier).await;
            let bound = check_round(&outputs, &config);
            assert!(server.lookups() <= bound, "{} > {bound}", server.lookups());
            assert!(server.lookups() > 0);
            drop(outputs);
            flush(&verifier).await;
            server.reset_counts();
            let baseline = live_bytes();

            // The measured round.
            let outputs = round(&verifier).await;
            let bound = check_round(&outputs, &config);
            assert!(server.lookups() <= bound, "{} > {bound}", server.lookups());
            drop(outputs);
            flush(&verifier).await;
            server.reset_counts();
            let after = live_bytes();
            assert!(
                (after - baseline).abs() <= TOLERANCE,
                "live bytes went from {baseline} to {after} ({:+})",
                after - baseline
            );
        })
        .await
        .expect("the load test did not finish in time");
    });
}
