//! What an evaluation waits for: the lookups a run names ([`Query`], [`Pending`]), the answers the
//! evaluation has used ([`Memo`]), and how one round of lookups is sent at once within the bound on
//! the lookups of an evaluation.

use super::Config;
use super::cache::{Fetched, RecordCache};
use super::record::DomainRecord;
use super::result::SpfError;
use super::trace::Summary;
use crate::dns::{
    AnswerView, Boxed, LookupError, LookupResult, Mx, Resolver, TxtAnswer, TxtRecord,
};
use crate::hash::Fx;
use std::borrow::Cow;
use std::collections::HashMap;
use std::future::poll_fn;
use std::hash::BuildHasherDefault;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::Arc;
use std::task::Poll;

/// A lookup a run needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Query {
    /// The SPF record of a domain (TXT, selected and parsed).
    Record(String),
    /// The TXT records of an `exp=` target.
    Text(String),
    A(String),
    Aaaa(String),
    Mx(String),
    /// The PTR names of the client.
    Ptr,
}

/// The most lookups one evaluation may make with `config`: its record, each DNS-querying term
/// with up to `max_mx_names` address lookups, the PTR names with their addresses, and `exp=`
/// (`1 + T·(1 + M) + (1 + P) + 1`, 123 with the defaults).
pub(super) fn lookup_bound(config: &Config) -> usize {
    let terms = config.max_dns_lookups as usize;
    let per_term = config.max_mx_names.saturating_add(1);
    terms
        .saturating_mul(per_term)
        .saturating_add(config.max_ptr_names)
        .saturating_add(3)
}

/// The lookups a run on the awaited path could not answer, in the order it met them: the first is
/// the one the evaluation waits for; with [`Config::prefetch`] the run went on past it and named
/// the others too.
#[derive(Default)]
pub(super) struct Pending {
    pub(super) queries: Vec<Query>,
    /// The most lookups the evaluation may still need from the point of the first query on (that
    /// query included), whatever the answers: what speculative queries must leave room for.
    pub(super) reserve: usize,
    /// Whether the run goes on past a missing answer, naming the lookups it meets.
    pub(super) prefetch: bool,
}

impl Pending {
    /// Names `query` (once); `reserve` is asked only for the first.
    pub(super) fn add(&mut self, query: Query, reserve: impl FnOnce() -> usize) {
        if self.queries.is_empty() {
            self.reserve = reserve();
        }
        if !self.queries.contains(&query) {
            self.queries.push(query);
        }
    }
}

/// The answers an evaluation on its awaited path has used: those it awaited, and those its runs
/// took from the record cache, the answer cache or the resolver's memory ([`Kept`]), so that every
/// later run sees the same answers, whatever the caches hold meanwhile. Keyed with the unkeyed
/// fast hash: the lookup bound limits an evaluation to about 125 answers, so even names chosen to
/// collide cannot make these maps costly, and a memo costs nothing to make.
#[derive(Default)]
pub(super) struct Memo {
    pub(super) records: Answers<RecordAnswer>,
    texts: Answers<LookupResult<Vec<TxtRecord>>>,
    a: Answers<LookupResult<Vec<Ipv4Addr>>>,
    aaaa: Answers<LookupResult<Vec<Ipv6Addr>>>,
    mx: Answers<LookupResult<Vec<Mx>>>,
    pub(super) ptr: Option<LookupResult<Vec<String>>>,
    /// Queries sent so far, speculative ones included.
    sent: usize,
}

type Answers<T> = HashMap<String, T, BuildHasherDefault<Fx>>;

/// The outcome of fetching a domain's record, as a run used it.
#[derive(Clone)]
pub(super) struct RecordAnswer {
    pub(super) fetched: Result<Fetched, SpfError>,
    /// The TXT answer as the trace shows it (empty when not tracing); `None` when the record came
    /// from the record cache (traced as cached, without a query).
    pub(super) summary: Option<String>,
    /// The name as the record cache holds it, when it came from there as written and is a valid
    /// domain ([`super::cache::Hit::name`]).
    pub(super) name: Option<Arc<str>>,
}

/// An answer a run on the awaited path took from outside the [`Memo`], kept into the memo after
/// the run (the run only borrows the memo). Owned copies: the awaited path already allocates, and
/// the first run, which keeps nothing, stays free of them.
pub(super) enum Kept {
    Record(String, RecordAnswer),
    Text(String, LookupResult<Vec<TxtRecord>>),
    A(String, LookupResult<Vec<Ipv4Addr>>),
    Aaaa(String, LookupResult<Vec<Ipv6Addr>>),
    Mx(String, LookupResult<Vec<Mx>>),
    Ptr(LookupResult<Vec<String>>),
}

/// A record type an evaluation asks by name: where its answers are found and kept.
pub(super) trait Kind {
    type T: Clone + 'static;
    /// The type's name in a trace.
    const RTYPE: &'static str;
    fn memo(memo: &Memo) -> &Answers<LookupResult<Vec<Self::T>>>;
    fn kept<'k>(kept: &'k Kept, name: &str) -> Option<&'k LookupResult<Vec<Self::T>>>;
    fn keep(name: String, answer: LookupResult<Vec<Self::T>>) -> Kept;
    fn cached<'c>(view: &'c AnswerView<'_>, name: &str) -> Option<LookupResult<&'c [Self::T]>>;
    fn now<'r, R: Resolver + ?Sized>(
        resolver: &'r R,
        name: &str,
    ) -> Option<LookupResult<Cow<'r, [Self::T]>>>;
    fn query(name: String) -> Query;
    fn summary(answer: &LookupResult<Cow<'_, [Self::T]>>) -> String;
}

macro_rules! kind {
    ($marker:ident, $kind:ident, $t:ty, $rtype:literal, $map:ident, $cached:ident, $now:ident) => {
        pub(super) struct $marker;
        impl Kind for $marker {
            type T = $t;
            const RTYPE: &'static str = $rtype;
            #[inline]
            fn memo(memo: &Memo) -> &Answers<LookupResult<Vec<$t>>> {
                &memo.$map
            }
            #[inline]
            fn kept<'k>(kept: &'k Kept, name: &str) -> Option<&'k LookupResult<Vec<$t>>> {
                match kept {
                    Kept::$kind(n, answer) if n == name => Some(answer),
                    _ => None,
                }
            }
            fn keep(name: String, answer: LookupResult<Vec<$t>>) -> Kept {
                Kept::$kind(name, answer)
            }
            #[inline]
            fn cached<'c>(view: &'c AnswerView<'_>, name: &str) -> Option<LookupResult<&'c [$t]>> {
                view.$cached(name)
            }
            #[inline]
            fn now<'r, R: Resolver + ?Sized>(
                resolver: &'r R,
                name: &str,
            ) -> Option<LookupResult<Cow<'r, [$t]>>> {
                resolver.$now(name)
            }
            fn query(name: String) -> Query {
                Query::$kind(name)
            }
            fn summary(answer: &LookupResult<Cow<'_, [$t]>>) -> String {
                answer.summary()
            }
        }
    };
}

kind!(A, A, Ipv4Addr, "A", a, a, lookup_a_now);
kind!(Aaaa, Aaaa, Ipv6Addr, "AAAA", aaaa, aaaa, lookup_aaaa_now);
kind!(Mxs, Mx, Mx, "MX", mx, mx, lookup_mx_now);
kind!(Text, Text, TxtRecord, "TXT", texts, txt, lookup_txt_now);

/// The answer to a lookup.
pub(super) enum Landed {
    Record(TxtAnswer),
    Text(LookupResult<Vec<TxtRecord>>),
    A(LookupResult<Vec<Ipv4Addr>>),
    Aaaa(LookupResult<Vec<Ipv6Addr>>),
    Mx(LookupResult<Vec<Mx>>),
    Ptr(LookupResult<Vec<String>>),
}

/// Lookups sent and not answered yet, kept from one round to the next: a run goes on as soon as
/// the answer it waits for has come, while the speculative ones it sent with it are still out.
pub(super) type InFlight<'r> = Vec<(Query, Boxed<'r, Landed>)>;

/// Asks `resolver` for `query`.
async fn ask<R: Resolver + ?Sized>(resolver: &R, query: &Query, ip: IpAddr) -> Landed {
    match query {
        Query::Record(name) => Landed::Record(resolver.lookup_txt_ttl(name).await),
        Query::Text(name) => Landed::Text(resolver.lookup_txt(name).await),
        Query::A(name) => Landed::A(resolver.lookup_a(name).await),
        Query::Aaaa(name) => Landed::Aaaa(resolver.lookup_aaaa(name).await),
        Query::Mx(name) => Landed::Mx(resolver.lookup_mx(name).await),
        Query::Ptr => Landed::Ptr(resolver.lookup_ptr(ip).await),
    }
}

impl Memo {
    /// The answer this evaluation used before for `name`, if any.
    #[inline]
    pub(super) fn get<K: Kind>(&self, name: &str) -> Option<LookupResult<&[K::T]>> {
        K::memo(self)
            .get(name)
            .map(|answer| answer.as_deref().map_err(Clone::clone))
    }

    /// Keeps the answers of `kept` (emptied), the first of any name and type winning: a run reads
    /// the memo first, then what it kept itself, so it never keeps an answer twice with a difference.
    pub(super) fn keep(&mut self, kept: &mut Vec<Kept>) {
        for answer in kept.drain(..) {
            match answer {
                Kept::Record(name, record) => {
                    self.records.entry(name).or_insert(record);
                }
                Kept::Text(name, answer) => {
                    self.texts.entry(name).or_insert(answer);
                }
                Kept::A(name, answer) => {
                    self.a.entry(name).or_insert(answer);
                }
                Kept::Aaaa(name, answer) => {
                    self.aaaa.entry(name).or_insert(answer);
                }
                Kept::Mx(name, answer) => {
                    self.mx.entry(name).or_insert(answer);
                }
                Kept::Ptr(answer) => {
                    self.ptr.get_or_insert(answer);
                }
            }
        }
    }

    /// Sends the lookups of `pending` (emptied) at once and keeps their answers: always the first
    /// (the one the evaluation waits for), and as many of the others (speculative) as the bound
    /// leaves room for: `sent + reserve` never exceeds [`lookup_bound`], so the lookups the
    /// evaluation may still need fit whatever the answers. A record also goes into the record cache
    /// (unless the lookup failed: temporary errors are never cached). The TXT answer's summary is
    /// kept for the trace only when `tracing`.
    pub(super) async fn fetch<'r, R: Resolver + ?Sized>(
        &mut self,
        resolver: &'r R,
        cache: Option<&RecordCache>,
        config: &Config,
        ip: IpAddr,
        pending: &mut Pending,
        flying: &mut InFlight<'r>,
    ) {
        let room = lookup_bound(config)
            .saturating_sub(pending.reserve)
            .saturating_sub(self.sent);
        // The list keeps its room from round to round: one allocation per evaluation.
        let queries = &mut pending.queries;
        queries.truncate(1 + room);
        if queries.len() == 1 && flying.is_empty() {
            // One lookup (the common case without prefetching): awaited as it is.
            self.sent += 1;
            let answer = ask(resolver, &queries[0], ip).await;
            if let Some(query) = queries.pop() {
                self.land(query, answer, cache, config.trace);
            }
            return;
        }
        let Some(needed) = queries.first().cloned() else {
            return;
        };
        for query in queries.drain(..) {
            if flying.iter().any(|(sent, _)| *sent == query) {
                continue;
            }
            self.sent += 1;
            let asked = query.clone();
            let future: Boxed<'r, Landed> =
                Box::pin(async move { ask(resolver, &asked, ip).await });
            flying.push((query, future));
        }
        // Until the answer the run waits for has come, keeping every answer that comes meanwhile.
        poll_fn(|cx| {
            let mut arrived = false;
            let mut i = 0;
            while i < flying.len() {
                match flying[i].1.as_mut().poll(cx) {
                    Poll::Ready(answer) => {
                        let (query, _) = flying.swap_remove(i);
                        arrived |= query == needed;
                        self.land(query, answer, cache, config.trace);
                    }
                    Poll::Pending => i += 1,
                }
            }
            match arrived {
                true => Poll::Ready(()),
                false => Poll::Pending,
            }
        })
        .await;
    }

    fn land(&mut self, query: Query, answer: Landed, cache: Option<&RecordCache>, tracing: bool) {
        match (query, answer) {
            (Query::Record(domain), Landed::Record(answer)) => {
                let summary = match tracing {
                    true => answer.result.summary(),
                    false => String::new(),
                };
                let fetched = match answer.result {
                    Ok(txts) => Ok(select_record(&domain, &txts)),
                    Err(e) if e.is_void() => Ok(Fetched::NoRecord),
                    Err(e) => Err(dns_error(&domain, e)),
                };
                if let (Some(cache), Ok(fetched)) = (cache, &fetched) {
                    cache.insert(&domain, fetched.clone(), answer.ttl, crate::ttl::now());
                }
                let record = RecordAnswer {
                    fetched,
                    summary: Some(summary),
                    name: None,
                };
                self.records.insert(domain, record);
            }
            (Query::Text(name), Landed::Text(answer)) => {
                self.texts.insert(name, answer);
            }
            (Query::A(name), Landed::A(answer)) => {
                self.a.insert(name, answer);
            }
            (Query::Aaaa(name), Landed::Aaaa(answer)) => {
                self.aaaa.insert(name, answer);
            }
            (Query::Mx(name), Landed::Mx(answer)) => {
                self.mx.insert(name, answer);
            }
            (Query::Ptr, Landed::Ptr(answer)) => self.ptr = Some(answer),
            // `Flight::start` answers each query with its own kind.
            _ => {}
        }
    }
}

/// Picks the one `v=spf1` record among TXT records and parses it (RFC 7208 §4.5).
pub(super) fn select_record(domain: &str, txts: &[TxtRecord]) -> Fetched {
    let syntax = |error| {
        Fetched::Invalid(SpfError::Syntax {
            domain: domain.to_string(),
            error,
        })
    };
    let mut found = None;
    for txt in txts {
        let text = txt.text();
        if super::is_spf1(&text) && found.replace(text).is_some() {
            return Fetched::Invalid(SpfError::MultipleRecords {
                domain: domain.to_string(),
            });
        }
    }
    let Some(text) = found else {
        return Fetched::NoRecord;
    };
    match std::str::from_utf8(&text) {
        Ok(text) => match text.parse::<super::Record>() {
            Ok(mut record) => {
                record.shrink_to_fit();
                Fetched::Record(Arc::new(DomainRecord::new(domain, record)))
            }
            Err(e) => syntax(e),
        },
        Err(e) => syntax(super::ParseError {
            offset: e.valid_up_to(),
            term: String::new(),
            kind: super::ParseErrorKind::InvalidChar,
        }),
    }
}

/// A DNS error as the evaluation reports it (temperror).
pub(super) fn dns_error(name: &str, error: LookupError) -> SpfError {
    SpfError::Dns {
        name: name.to_string(),
        error,
    }
}
