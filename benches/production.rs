//! The production path: `Verifier` over `HickoryResolver` (with its answer cache) and a
//! `RecordCache`, against a real DNS server on loopback (an in-process hickory-server serving
//! `benches/scenarios.zone`).
//!
//! - `warm`: the caches filled by a first check, as on a busy mail server; every check after it is
//!   answered from the caches.
//! - `cold`: a fresh resolver (empty answer cache) and record cache for every check, so that every
//!   lookup goes to the server (0 ms round trip: this measures the work per lookup).
//! - Before the benchmarks, each scenario is run cold with every answer delayed by 20 ms (standing
//!   for a distant server) with and without prefetching, and the wall time in round trips and the
//!   queries the server received are printed (not a criterion measurement: a few runs each).
//!
//! Run with `cargo bench --bench production`.

#[path = "../tests/common/dns_server.rs"]
#[allow(dead_code)]
mod dns_server;
#[path = "scenarios.rs"]
mod scenarios;

use criterion::{Criterion, criterion_group, criterion_main};
use dns_server::TestDnsServer;
use scenarios::{SCENARIOS, ZONE};
use sender_identity::dns::HickoryResolver;
use sender_identity::spf::{Config, RecordCache, SpfOutput, Verifier};
use std::hint::black_box;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The stand-in for a distant server's round trip in the printed table.
const RTT: Duration = Duration::from_millis(20);

fn verifier(server: &TestDnsServer, config: Config) -> Verifier<HickoryResolver> {
    let resolver = HickoryResolver::builder()
        .name_server(server.addr())
        .timeout(Duration::from_secs(2))
        .attempts(1)
        .build()
        .expect("resolver");
    Verifier::with_config(resolver, config).with_cache(Arc::new(RecordCache::new(10_000)))
}

async fn check(spf: &Verifier<HickoryResolver>, scenario: usize) -> SpfOutput {
    let (_, client, helo, sender, _) = SCENARIOS[scenario];
    let ip: IpAddr = client.parse().expect("client");
    if sender.is_empty() {
        spf.check_helo(ip, helo).await
    } else {
        spf.check_mail_from(ip, helo, sender).await
    }
}

/// Prints, per scenario, the cold check's wall time in round trips of [`RTT`] and the queries the
/// server received, with and without prefetching.
fn round_trips(rt: &tokio::runtime::Runtime, server: &TestDnsServer) {
    server.set_delay(RTT);
    eprintln!(
        "cold, {} ms per answer: round trips (queries)",
        RTT.as_millis()
    );
    eprintln!("| scenario | prefetch | one lookup at a time |");
    eprintln!("|---|---:|---:|");
    for (i, &(name, ..)) in SCENARIOS.iter().enumerate() {
        let mut cells = Vec::new();
        for prefetch in [true, false] {
            let mut config = Config::default();
            config.prefetch = prefetch;
            let mut best = f64::MAX;
            let mut queries = 0;
            for _ in 0..3 {
                let spf = verifier(server, config.clone());
                let before = server.total_queries();
                let started = Instant::now();
                rt.block_on(check(&spf, i));
                let rounds = started.elapsed().as_secs_f64() / RTT.as_secs_f64();
                best = best.min(rounds);
                queries = server.total_queries() - before;
            }
            cells.push(format!("{best:.1} ({queries})"));
        }
        eprintln!("| {name} | {} | {} |", cells[0], cells[1]);
    }
    server.set_delay(Duration::ZERO);
}

fn production(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let server = rt.block_on(TestDnsServer::start(ZONE));
    round_trips(&rt, &server);

    let spf = verifier(&server, Config::default());
    let mut group = c.benchmark_group("warm");
    for (i, &(name, _, _, _, expected)) in SCENARIOS.iter().enumerate() {
        assert_eq!(rt.block_on(check(&spf, i)).result, expected, "{name}");
        let before = server.total_queries();
        group.bench_function(name, |b| {
            b.to_async(&rt)
                .iter(|| async { black_box(check(&spf, i).await) })
        });
        assert_eq!(
            server.total_queries(),
            before,
            "{name}: a warm check sent a query"
        );
    }
    group.finish();

    let mut group = c.benchmark_group("cold");
    for (i, &(name, ..)) in SCENARIOS.iter().enumerate() {
        group.bench_function(name, |b| {
            b.to_async(&rt).iter(|| async {
                let spf = verifier(&server, Config::default());
                black_box(check(&spf, i).await)
            })
        });
    }
    group.finish();
}

criterion_group!(benches, production);
criterion_main!(benches);
