//! Benches of the other checks: the HELO lookups, iprev (FCrDNS) and relay decisions against a
//! 10,000-entry network list. `cargo bench --bench checks`.

use criterion::{Criterion, criterion_group, criterion_main};
use sender_identity::dns::ZoneResolver;
use sender_identity::helo::{self, HeloName};
use sender_identity::iprev::{self, IprevOptions};
use sender_identity::relay::{DomainList, NetList, RelayPolicy};
use std::hint::black_box;
use std::net::{IpAddr, Ipv4Addr};

const ZONE: &str = r#"
    mail.example.com.   A    192.0.2.10
    mail.example.com.   MX   10 mail.example.com.
    192.0.2.10          PTR  mail.example.com.
"#;

fn dns_checks(c: &mut Criterion) {
    let zone: ZoneResolver = ZONE.parse().expect("zone");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .expect("runtime");
    let client: IpAddr = "192.0.2.10".parse().expect("ip");
    let name = HeloName::parse("mail.example.com");
    let mut group = c.benchmark_group("checks");
    group.bench_function("helo-syntax", |b| {
        b.iter(|| black_box(HeloName::parse(black_box("mail.example.com"))))
    });
    group.bench_function("helo-exists", |b| {
        b.to_async(&rt).iter(|| async {
            black_box(helo::exists(&zone, &name, &helo::ExistsOptions::default()).await)
        })
    });
    group.bench_function("helo-confirm", |b| {
        b.to_async(&rt)
            .iter(|| async { black_box(helo::confirm(&zone, &name, client).await) })
    });
    let options = IprevOptions::default();
    group.bench_function("iprev", |b| {
        b.to_async(&rt)
            .iter(|| async { black_box(iprev::check(&zone, client, &options).await) })
    });
    group.finish();
}

/// A list of 10,000 distinct networks of mixed prefix lengths, with some negations.
fn big_list() -> String {
    let mut text = String::new();
    for i in 0u32..10_000 {
        let prefix = [32, 24, 28, 30, 16][i as usize % 5];
        let addr = Ipv4Addr::from((10 << 24) | (i << 8));
        let net = u32::from(addr) & (u32::MAX << (32 - prefix));
        let neg = if i % 97 == 0 { "!" } else { "" };
        text.push_str(&format!("{neg}{}/{prefix} ", Ipv4Addr::from(net)));
    }
    text
}

fn relay(c: &mut Criterion) {
    let text = big_list();
    let nets = NetList::parse(&text).expect("list");
    assert_eq!(nets.len(), 10_000);
    let policy = RelayPolicy::new(nets, DomainList::parse("example.com").expect("domains"));
    let inside: IpAddr = "10.0.37.5".parse().expect("ip");
    let outside: IpAddr = "192.0.2.1".parse().expect("ip");
    let mut group = c.benchmark_group("relay-10k");
    group.bench_function("listed", |b| {
        b.iter(|| black_box(policy.decide(black_box(inside), false, "customer.example")))
    });
    group.bench_function("not-listed", |b| {
        b.iter(|| black_box(policy.decide(black_box(outside), false, "customer.example")))
    });
    group.finish();
}

criterion_group!(benches, dns_checks, relay);
criterion_main!(benches);
