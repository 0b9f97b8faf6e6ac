//! Allocations per SPF evaluation, counted with an instrumented global allocator. Counts are
//! deterministic (unlike times), so the figures are pinned: a change that allocates more on the hot
//! path fails here. Update a pin only together with a reason in the changelog.
//!
//! This file holds a single test so that no other test allocates concurrently.

mod common;
#[path = "../benches/scenarios.rs"]
mod scenarios;
use common::rounds::{Stepping, run_counting_rounds};
use scenarios::{SCENARIOS, ZONE};
use sender_identity::dns::ZoneResolver;
use sender_identity::spf::{Record, RecordCache, Verifier};
use stats_alloc::{INSTRUMENTED_SYSTEM, Region, StatsAlloc};
use std::alloc::System;
use std::net::IpAddr;
use std::sync::Arc;

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

/// Allocations pinned per scenario of `benches/scenarios.rs`, with a warm record cache: none for a
/// verdict (the output's domain and cause share the cache's name and record; names that macros build
/// go into a buffer the thread keeps), one for the explanation of a fail. Answers from the in-memory
/// zone are borrowed, not copied; so are answers from a resolver's answer cache (the production
/// path: `HickoryResolver` keeps one), which are pinned the same.
const PINNED: &[(&str, usize)] = &[
    ("first-ip4", 0),
    ("include-3-deep", 0),
    ("fail-whole-tree", 1),
    ("macro-exists", 0),
    ("helo-a", 0),
    ("mx-5-hosts", 0),
];

#[test]
fn allocations_per_evaluation_are_pinned() {
    in_memory();
    from_the_answer_cache();
}

/// Every answer from the answer cache of a resolver whose lookups are all awaited: the first check
/// of each scenario fills the caches, the second is counted.
fn from_the_answer_cache() {
    let resolver = Stepping::new(ZONE, true);
    let gate = resolver.gate();
    let spf = Verifier::new(resolver).with_cache(Arc::new(RecordCache::new(1000)));
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap();
    for &(name, client, helo, sender, expected) in SCENARIOS {
        let pinned = PINNED.iter().find(|p| p.0 == name).expect("a pin").1;
        let ip: IpAddr = client.parse().unwrap();
        let check = || async {
            if sender.is_empty() {
                spf.check_helo(ip, helo).await
            } else {
                spf.check_mail_from(ip, helo, sender).await
            }
        };
        let (cold, _) = run_counting_rounds(&gate, check());
        assert_eq!(cold.result, expected, "{name}");
        let sent = gate.sent();
        let stats = rt.block_on(async {
            let region = Region::new(GLOBAL);
            drop(check().await);
            region.change()
        });
        assert_eq!(gate.sent(), sent, "{name}: a warm check sent a lookup");
        println!(
            "{name}, answer cache: {} allocations, {} bytes",
            stats.allocations, stats.bytes_allocated
        );
        assert_eq!(stats.allocations, pinned, "{name}: allocations changed");
    }
}

fn in_memory() {
    let zone: ZoneResolver = ZONE.parse().unwrap();
    let spf = Verifier::new(&zone).with_cache(Arc::new(RecordCache::new(100)));
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap();
    let mut report = Vec::new();
    for &(name, client, helo, sender, expected) in SCENARIOS {
        let pinned = PINNED
            .iter()
            .find(|p| p.0 == name)
            .expect("a pin per scenario")
            .1;
        let ip: IpAddr = client.parse().unwrap();
        let check = || async {
            if sender.is_empty() {
                spf.check_helo(ip, helo).await
            } else {
                spf.check_mail_from(ip, helo, sender).await
            }
        };
        // Warm the record cache, then count one evaluation, inside the task (so that the runtime's
        // own handling of the future is not counted) and with the output dropped.
        assert_eq!(rt.block_on(check()).result, expected, "{name}");
        let stats = rt.block_on(async {
            let region = Region::new(GLOBAL);
            drop(check().await);
            region.change()
        });
        println!(
            "{name}: {} allocations, {} bytes",
            stats.allocations, stats.bytes_allocated
        );
        report.push((name, stats.allocations, pinned));
    }
    // Parsing allocates once for the terms and once per plain domain-spec.
    let region = Region::new(GLOBAL);
    let record: Record = "v=spf1 ip4:192.0.2.0/24 include:_spf.example.com -all"
        .parse()
        .unwrap();
    drop(record);
    report.push(("parse", region.change().allocations, 2));
    for (name, counted, pinned) in report {
        assert_eq!(
            counted, pinned,
            "{name}: allocations changed (pinned {pinned})"
        );
    }
}
