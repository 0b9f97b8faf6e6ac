//! The time limits (`Config::timeout`, `Policy::timeout`) on runtimes where `tokio::time` is not
//! available: a current-thread Tokio runtime built without `enable_time()` (where Tokio's timers
//! panic), and no runtime at all. Evaluations that wait on DNS complete there, and a resolver that
//! never answers still ends in temperror when the limit runs out.

mod common;

use async_trait::async_trait;
use common::resolvers::Hang;
use sender_identity::dns::{LookupResult, Mx, Resolver, TxtRecord, ZoneResolver};
use sender_identity::iprev::IprevResult;
use sender_identity::session::{Checker, Policy};
use sender_identity::spf::{Config, SpfError, SpfResult, Verifier};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::Duration;

const ZONE: &str = r#"
    example.com.       TXT "v=spf1 mx -all"
    example.com.       MX  10 mail.example.com.
    mail.example.com.  A   192.0.2.10
    192.0.2.10         PTR mail.example.com.
"#;

/// A zone whose every answer is pending at the first poll (it yields once first), as a resolver
/// on the network is: the evaluation has to wait, so its time limit is armed.
struct Yielding(ZoneResolver);

/// Pending once, then ready.
async fn yield_once() {
    let mut yielded = false;
    std::future::poll_fn(|cx| {
        if yielded {
            return std::task::Poll::Ready(());
        }
        yielded = true;
        cx.waker().wake_by_ref();
        std::task::Poll::Pending
    })
    .await
}

#[async_trait]
impl Resolver for Yielding {
    async fn lookup_txt(&self, name: &str) -> LookupResult<Vec<TxtRecord>> {
        yield_once().await;
        self.0.lookup_txt(name).await
    }
    async fn lookup_a(&self, name: &str) -> LookupResult<Vec<Ipv4Addr>> {
        yield_once().await;
        self.0.lookup_a(name).await
    }
    async fn lookup_aaaa(&self, name: &str) -> LookupResult<Vec<Ipv6Addr>> {
        yield_once().await;
        self.0.lookup_aaaa(name).await
    }
    async fn lookup_mx(&self, name: &str) -> LookupResult<Vec<Mx>> {
        yield_once().await;
        self.0.lookup_mx(name).await
    }
    async fn lookup_ptr(&self, ip: IpAddr) -> LookupResult<Vec<String>> {
        yield_once().await;
        self.0.lookup_ptr(ip).await
    }
}

fn zone() -> Yielding {
    Yielding(ZONE.parse().unwrap())
}

fn without_timers() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
}

const CLIENT: &str = "192.0.2.10";

#[test]
fn spf_waiting_on_dns_completes_on_a_runtime_without_the_time_driver() {
    let spf = Verifier::new(zone());
    let ip: IpAddr = CLIENT.parse().unwrap();
    let out = without_timers().block_on(spf.check_mail_from(ip, "h.example", "a@example.com"));
    assert_eq!(out.result, SpfResult::Pass);
    assert_eq!(out.matched().unwrap().to_string(), "mx");
}

#[test]
fn the_spf_limit_still_ends_a_hung_evaluation_without_the_time_driver() {
    let mut config = Config::default();
    config.timeout = Some(Duration::from_millis(50));
    let spf = Verifier::with_config(Hang, config);
    let ip: IpAddr = CLIENT.parse().unwrap();
    let out = without_timers().block_on(spf.check_mail_from(ip, "h.example", "a@example.com"));
    assert_eq!(out.result, SpfResult::Temperror);
    assert!(matches!(out.error(), Some(SpfError::Timeout)), "{out:?}");
}

#[test]
fn the_session_connects_on_a_runtime_without_the_time_driver() {
    let checker = Checker::new(zone(), Policy::new("mx.example.net"));
    let (session, _verdict) = without_timers().block_on(checker.connect(CLIENT.parse().unwrap()));
    assert_eq!(session.iprev().map(|i| i.result), Some(IprevResult::Pass));

    let mut policy = Policy::new("mx.example.net");
    policy.timeout = Duration::from_millis(50);
    let (session, _verdict) =
        without_timers().block_on(Checker::new(Hang, policy).connect(CLIENT.parse().unwrap()));
    assert_eq!(
        session.iprev().map(|i| i.result),
        Some(IprevResult::TempError)
    );
}
