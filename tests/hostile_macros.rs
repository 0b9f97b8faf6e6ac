//! Memory of SPF evaluations whose macros would expand to megabytes: an `exp=` text of hundreds of
//! `%{S}` with an 8 KB sender, and an `exists:` of thousands of `%{l}` and `%{h}`. Every byte
//! allocated during one evaluation is counted with an instrumented global allocator
//! (`stats_alloc`, as in `tests/allocations.rs`); the explanation stays within
//! `MAX_EXPLANATION_LEN`, names within 253 bytes, and the evaluation allocates a few kilobytes
//! at most, however long the values and however many the macros.
//!
//! This file holds a single test so that no other test allocates concurrently.

use sender_identity::dns::ZoneResolver;
use sender_identity::spf::{
    MAX_EXPLANATION_LEN, MAX_LOCAL_PART_LEN, RecordCache, SpfResult, Verifier,
};
use stats_alloc::{INSTRUMENTED_SYSTEM, Region, StatsAlloc};
use std::alloc::System;
use std::net::IpAddr;
use std::sync::Arc;

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

/// The most one hostile evaluation may allocate in all (the parsed `exp=` text, whose size is the
/// record's, is most of it).
const BUDGET: usize = 32 * 1024;

#[test]
fn hostile_macro_expansions_stay_small() {
    let exp_text = "%{S}".repeat(500);
    let exists = "%{l}".repeat(2500) + &"%{h}".repeat(2500);
    let mut zone = ZoneResolver::new();
    zone.add_txt("exp.example", "v=spf1 -all exp=text.exp.example")
        .add_txt("text.exp.example", &exp_text)
        .add_txt("exists.example", &format!("v=spf1 exists:{exists} -all"));
    let spf = Verifier::new(&zone).with_cache(Arc::new(RecordCache::new(10)));
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let ip: IpAddr = "192.0.2.1".parse().unwrap();
    let local = "a".repeat(8 * 1024);
    let helo = "h.".repeat(4 * 1024) + "example";

    // The explanation: 500 URL-escaped senders of 8 KB would be 4 MB (the old capacity estimate
    // reserved 12 MB); it stops at the cap, the local part cut to `MAX_LOCAL_PART_LEN`.
    let sender = format!("{local}@exp.example");
    let check = || spf.check_mail_from(ip, &helo, &sender);
    let first = rt.block_on(check());
    assert_eq!(first.result, SpfResult::Fail);
    let (out, bytes) = rt.block_on(async {
        let region = Region::new(GLOBAL);
        let out = check().await;
        (out, region.change().bytes_allocated)
    });
    assert_eq!(out, first);
    println!("exp=: {bytes} bytes allocated");
    let explanation = out.explanation.as_deref().unwrap();
    assert_eq!(explanation.len(), MAX_EXPLANATION_LEN);
    let one = format!("{}%40exp.example", &local[..MAX_LOCAL_PART_LEN]);
    assert!(one.repeat(10).starts_with(explanation), "{explanation}");
    assert!(bytes < BUDGET, "exp=: {bytes} bytes allocated");

    // The name: 2,500 local parts and 2,500 HELO names of 8 KB would be 40 MB before the cut to
    // 253 bytes; the record is cached, so nothing but the default explanation is allocated.
    let sender = format!("{local}@exists.example");
    let check = || spf.check_mail_from(ip, &helo, &sender);
    let first = rt.block_on(check());
    assert_eq!(first.result, SpfResult::Fail);
    assert_eq!(first.void_lookups, 1, "{first:?}");
    let (out, bytes) = rt.block_on(async {
        let region = Region::new(GLOBAL);
        let out = check().await;
        (out, region.change().bytes_allocated)
    });
    assert_eq!(out, first);
    println!("exists: {bytes} bytes allocated");
    assert!(bytes < 1024, "exists: {bytes} bytes allocated");
}
