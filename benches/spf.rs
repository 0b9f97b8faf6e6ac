//! SPF hot-path benches: parsing a corpus of real-world-style records, and evaluating five scenarios
//! against the in-memory zone of `benches/scenarios.zone` with a warm cache of parsed records.
//!
//! `cargo bench --bench spf`. Compare figures within one run: absolute numbers drift between runs on
//! a shared machine.

#[path = "scenarios.rs"]
mod scenarios;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use scenarios::{SCENARIOS, ZONE};
use sender_identity::dns::ZoneResolver;
use sender_identity::spf::{Record, RecordCache, Verifier};
use std::hint::black_box;
use std::net::IpAddr;
use std::sync::Arc;

const RECORDS: &str = include_str!("records.txt");

fn parse(c: &mut Criterion) {
    let records: Vec<&str> = RECORDS.lines().filter(|l| !l.is_empty()).collect();
    let mut group = c.benchmark_group("parse");
    group.throughput(Throughput::Elements(records.len() as u64));
    group.bench_function("corpus", |b| {
        b.iter(|| {
            for r in &records {
                black_box(
                    black_box(r)
                        .parse::<Record>()
                        .expect("corpus record parses"),
                );
            }
        })
    });
    group.finish();
}

fn evaluate(c: &mut Criterion) {
    let zone: ZoneResolver = ZONE.parse().expect("bench zone");
    // Records come from a warm cache of parsed records, as in a running server.
    let spf = Verifier::new(&zone).with_cache(Arc::new(RecordCache::new(1000)));
    bench_scenarios(c, "evaluate", &spf);
}

/// The same scenarios with every answer awaited (an async-only resolver, no record cache): the
/// cold path, where the evaluation waits, keeps the answers and runs again, sending what it can
/// name at once (`Config::prefetch`).
fn evaluate_awaited(c: &mut Criterion) {
    let mut zone: ZoneResolver = ZONE.parse().expect("bench zone");
    zone.set_awaited_only(true);
    bench_scenarios(c, "evaluate-awaited", &Verifier::new(&zone));
}

/// One group: every scenario checked by `spf`, its result asserted first.
fn bench_scenarios(c: &mut Criterion, group: &str, spf: &Verifier<&ZoneResolver>) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .expect("runtime");
    let mut group = c.benchmark_group(group);
    for &(name, client, helo, sender, expected) in SCENARIOS {
        let ip: IpAddr = client.parse().expect("client");
        let check = || async {
            if sender.is_empty() {
                spf.check_helo(ip, helo).await
            } else {
                spf.check_mail_from(ip, helo, sender).await
            }
        };
        assert_eq!(rt.block_on(check()).result, expected, "{name}");
        group.bench_function(name, |b| {
            b.to_async(&rt).iter(|| async { black_box(check().await) })
        });
    }
    group.finish();
}

criterion_group!(benches, parse, evaluate, evaluate_awaited);
criterion_main!(benches);
