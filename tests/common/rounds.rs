//! Counting round trips without a clock: a resolver whose lookups all wait for the next "round",
//! and a driver that polls a check and lets a round pass only when every lookup in flight is
//! waiting for it. The number of rounds is the number of sequential round trips the check would
//! take to a distant DNS server, whatever the machine's speed.
//!
//! The resolver answers from an in-memory zone and keeps what it answered in an `AnswerCache`, as
//! a production resolver does (`HickoryResolver` keeps one): an answer it holds is given at once,
//! without a round.

use sender_identity::dns::{
    AnswerCache, LookupResult, Mx, Resolver, TxtAnswer, TxtRecord, ZoneResolver, async_trait,
};
use std::future::{Future, poll_fn};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::pin::pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

/// How long the stepping resolver says its answers may be kept.
const TTL: Option<Duration> = Some(Duration::from_secs(300));

/// Where the lookups wait: the current round, and how many lookups wait for the next.
#[derive(Debug, Default)]
pub struct Gate {
    round: AtomicUsize,
    waiting: AtomicUsize,
    sent: AtomicUsize,
}

impl Gate {
    /// Lookups sent so far (answers from the cache are not sent).
    pub fn sent(&self) -> usize {
        self.sent.load(Ordering::SeqCst)
    }
}

/// A resolver over `zone` whose every lookup (other than from its cache) takes one round.
pub struct Stepping {
    zone: ZoneResolver,
    gate: Arc<Gate>,
    cache: Option<AnswerCache>,
}

impl Stepping {
    /// Over the zone text, with an answer cache when `cached`.
    pub fn new(zone: &str, cached: bool) -> Self {
        let mut zone: ZoneResolver = zone.parse().expect("test zone");
        zone.set_awaited_only(true);
        Stepping {
            zone,
            gate: Arc::default(),
            cache: cached.then(|| AnswerCache::new(1_000)),
        }
    }

    /// The gate, to read the lookups sent.
    pub fn gate(&self) -> Arc<Gate> {
        self.gate.clone()
    }

    async fn round(&self) {
        let start = self.gate.round.load(Ordering::SeqCst);
        self.gate.waiting.fetch_add(1, Ordering::SeqCst);
        self.gate.sent.fetch_add(1, Ordering::SeqCst);
        poll_fn(|_| match self.gate.round.load(Ordering::SeqCst) > start {
            true => Poll::Ready(()),
            false => Poll::Pending,
        })
        .await;
    }
}

macro_rules! stepping_lookup {
    ($self:ident, $get:ident, $insert:ident, $lookup:ident, $key:expr) => {{
        if let Some(answer) = $self.cache.as_ref().and_then(|c| c.$get($key)) {
            return answer;
        }
        $self.round().await;
        let answer = $self.zone.$lookup($key).await;
        if let Some(cache) = &$self.cache {
            cache.$insert($key, &answer, TTL);
        }
        answer
    }};
}

#[async_trait]
impl Resolver for Stepping {
    async fn lookup_txt(&self, name: &str) -> LookupResult<Vec<TxtRecord>> {
        stepping_lookup!(self, txt, insert_txt, lookup_txt, name)
    }
    async fn lookup_txt_ttl(&self, name: &str) -> TxtAnswer {
        TxtAnswer {
            result: self.lookup_txt(name).await,
            ttl: TTL,
        }
    }
    async fn lookup_a(&self, name: &str) -> LookupResult<Vec<Ipv4Addr>> {
        stepping_lookup!(self, a, insert_a, lookup_a, name)
    }
    async fn lookup_aaaa(&self, name: &str) -> LookupResult<Vec<Ipv6Addr>> {
        stepping_lookup!(self, aaaa, insert_aaaa, lookup_aaaa, name)
    }
    async fn lookup_mx(&self, name: &str) -> LookupResult<Vec<Mx>> {
        stepping_lookup!(self, mx, insert_mx, lookup_mx, name)
    }
    async fn lookup_ptr(&self, ip: IpAddr) -> LookupResult<Vec<String>> {
        stepping_lookup!(self, ptr, insert_ptr, lookup_ptr, ip)
    }
    fn answer_cache(&self) -> Option<&AnswerCache> {
        self.cache.as_ref()
    }
}

/// Runs `work` to completion on this thread, letting a round pass whenever it can go no further,
/// and returns its output with the number of rounds it took. Panics if it stalls with no lookup
/// waiting (it would wait for something other than DNS).
pub fn run_counting_rounds<F: Future>(gate: &Gate, work: F) -> (F::Output, usize) {
    let mut work = pin!(work);
    let mut cx = Context::from_waker(Waker::noop());
    let mut rounds = 0;
    loop {
        if let Poll::Ready(output) = work.as_mut().poll(&mut cx) {
            return (output, rounds);
        }
        assert!(
            gate.waiting.swap(0, Ordering::SeqCst) > 0,
            "stalled with no lookup waiting"
        );
        gate.round.fetch_add(1, Ordering::SeqCst);
        rounds += 1;
    }
}
