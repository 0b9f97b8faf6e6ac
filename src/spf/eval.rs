//! One run of `check_host()` (RFC 7208 §4-§6) over the answers at hand: record lookup, mechanism
//! evaluation, limits and explanations. [`super::Verifier`] decides when a run happens and what it
//! is given.

use super::cache::{Fetched, View};
use super::macros::{MAX_EXPLANATION_LEN, MacroContext};
use super::memo::{self, A, Aaaa, Kept, Kind, Memo, Pending, Query, RecordAnswer, Text, dns_error};
use super::parse::parse_explanation;
use super::record::{
    DomainRecord, DualCidr, MacroLetter, MacroPart, MacroString, Mechanism, Qualifier, Term,
};
use super::result::{SpfError, SpfResult};
use super::target::{Built, Target};
use super::trace::{Summary, Trace, TraceEvent};
use super::verdict::{Found, RecordRef, Verdict, Why};
use super::verifier::{MAX_HELO_LEN, MAX_LOCAL_PART_LEN};
use super::{Config, DomainSpec, cut_to};
use crate::dns::{LazyView, LookupError, LookupResult, Mx, Resolver};
use crate::name::{MAX_NAME_LEN, check_domain, fits_dns, is_within};
use std::borrow::Cow;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

/// How many levels deep `include:` and `redirect=` may nest (the domain checked is the first),
/// whatever [`Config::max_dns_lookups`] allows (with the default limit of 10 terms, nesting never
/// gets near it). Each level holds a frame of the recursive evaluation on the stack.
pub(super) const MAX_DEPTH: u32 = 32;

mod ptr;

/// What the caller asked about.
pub(super) struct Inputs<'a> {
    pub(super) ip: IpAddr,
    /// The sender's local part (`postmaster` when it had none).
    pub(super) local_part: &'a str,
    /// The sender's domain: the domain checked.
    pub(super) sender_domain: &'a str,
    pub(super) helo: &'a str,
}

impl<'a> Inputs<'a> {
    /// The inputs of `check_host(ip, domain, local_part@domain)` with `helo`: the address
    /// canonical (IPv4-mapped IPv6 as IPv4), the domain without its root dot, an empty local part
    /// as `postmaster`, the local part and HELO cut to what the macros see.
    #[inline(always)]
    pub(super) fn new(ip: IpAddr, domain: &'a str, local_part: &'a str, helo: &'a str) -> Self {
        Inputs {
            ip: crate::ip::canonical(ip),
            local_part: if local_part.is_empty() {
                "postmaster"
            } else {
                cut_to(local_part, MAX_LOCAL_PART_LEN)
            },
            sender_domain: crate::name::strip_root(domain),
            helo: cut_to(helo, MAX_HELO_LEN),
        }
    }
}

/// Why a run stopped short of a verdict.
pub(super) enum Stop {
    /// The evaluation ended with an error (temperror or permerror).
    Error(SpfError),
    /// The run needs an answer that is not at hand (on the awaited path, named in its
    /// [`Pending`]): await it, keep it, run again.
    Need,
}

impl From<SpfError> for Stop {
    fn from(e: SpfError) -> Self {
        Stop::Error(e)
    }
}

/// One run of an evaluation: the inputs, the answers at hand, counters and memoised PTR validation.
pub(super) struct Evaluation<'a, 'c, R: ?Sized> {
    resolver: &'a R,
    config: &'a Config,
    default_explanation: Option<&'a MacroString>,
    cache: Option<&'a View<'a>>,
    /// The resolver's answer cache, read-locked for the run.
    answers: &'a LazyView<'c>,
    /// The answers awaited so far, if any.
    memo: Option<&'a Memo>,
    inputs: &'a Inputs<'a>,
    /// `local_part@sender_domain` for `%{s}`, built the first time a macro needs it.
    sender: String,
    pub(super) dns_lookups: u32,
    pub(super) void_lookups: u32,
    /// The client's validated PTR names (RFC 7208 §5.5), once computed.
    validated: Option<Vec<String>>,
    /// The domain checked as the record cache holds it, when the run found it there as given and
    /// valid: then it was neither checked again nor needs copying for the output.
    pub(super) name: Option<&'a Arc<str>>,
    /// Records parsed in this run from answers the resolver held in memory, for the record cache
    /// (written after the run: the run holds the cache's read lock).
    parsed: Vec<(String, Fetched)>,
    /// On the awaited path, the answers this run took from outside the memo, for the memo (see
    /// [`Memo`]); always empty on the first run.
    kept: &'a mut Vec<Kept>,
    /// On the awaited path, the lookups this run missed; `None` on the first run, which stops at
    /// the first without naming it.
    pending: Option<&'a mut Pending>,
    /// When the run first needed the time (for cache expiry), read once.
    now: Option<crate::ttl::Time>,
    /// The trace, when [`Config::trace`] is on (boxed: most checks have none).
    trace: Option<Box<Trace>>,
    /// How many `check_host()` calls are in progress (1 for the domain checked): [`MAX_DEPTH`]
    /// bounds it, and trace events are indented by it.
    level: u32,
    /// Within an `mx`: the MX hosts whose addresses are still to be looked up, this one included.
    mx_hosts_left: Option<usize>,
    /// Within the PTR validation: the lookups it has made so far (`None` outside it).
    ptr_lookups: Option<usize>,
    /// The lookups the current term makes once its target is expanded (1 + M for an `mx`, 1 for
    /// the other DNS terms): what the reserve keeps for it while `%{p}` in its target validates
    /// the PTR names.
    term_rest: usize,
}

impl<'a, 'c: 'a, R: Resolver + ?Sized> Evaluation<'a, 'c, R> {
    #[allow(clippy::too_many_arguments)]
    #[inline(always)]
    pub(super) fn new(
        resolver: &'a R,
        config: &'a Config,
        default_explanation: Option<&'a MacroString>,
        cache: Option<&'a View<'a>>,
        answers: &'a LazyView<'c>,
        memo: Option<&'a Memo>,
        inputs: &'a Inputs<'a>,
        kept: &'a mut Vec<Kept>,
        pending: Option<&'a mut Pending>,
    ) -> Self {
        Evaluation {
            resolver,
            config,
            default_explanation,
            cache,
            answers,
            memo,
            inputs,
            sender: String::new(),
            dns_lookups: 0,
            void_lookups: 0,
            validated: None,
            name: None,
            parsed: Vec::new(),
            kept,
            pending,
            now: None,
            trace: config
                .trace
                .then(|| Box::new(Trace::new(config.max_dns_lookups, config.max_void_lookups))),
            level: 0,
            mx_hosts_left: None,
            ptr_lookups: None,
            term_rest: 0,
        }
    }

    /// Whether the run missed an answer (its outcome is then not the evaluation's).
    pub(super) fn missed(&self) -> bool {
        self.pending.as_ref().is_some_and(|p| !p.queries.is_empty())
    }

    /// The trace, and the records parsed from the resolver's memory for the record cache.
    pub(super) fn finish(self) -> (Option<Box<Trace>>, Vec<(String, Fetched)>) {
        (self.trace, self.parsed)
    }

    /// Whether the run goes on past a missing answer (see [`Pending`]).
    #[inline]
    fn prefetching(&self) -> bool {
        self.pending.as_ref().is_some_and(|p| p.prefetch)
    }

    /// Stops the run for a missing answer: on the awaited path, names the lookup (`query`) in its
    /// [`Pending`], with, for the first, how many lookups the evaluation may still need from here.
    #[cold]
    fn need(&mut self, query: impl FnOnce() -> Query) -> Stop {
        if self.pending.is_some() {
            let query = query();
            let reserve = self.reserve(&query);
            if let Some(pending) = self.pending.as_deref_mut() {
                pending.add(query, || reserve);
            }
        }
        Stop::Need
    }

    /// The most lookups the evaluation may still make from the point where it misses `query`
    /// (included), whatever the answers: those of the current term and of every DNS term the
    /// limit still allows, the PTR validation's unless it is done, and `exp=`. It only shrinks as
    /// the evaluation goes on, by at least the lookups made meanwhile.
    fn reserve(&self, query: &Query) -> usize {
        let config = self.config;
        let per_term = config.max_mx_names.saturating_add(1);
        let terms = config.max_dns_lookups.saturating_sub(self.dns_lookups) as usize;
        let ptr_bound = config.max_ptr_names.saturating_add(1);
        let (current, ptr) = match (self.ptr_lookups, self.validated.is_some()) {
            (Some(made), _) => (self.term_rest, ptr_bound.saturating_sub(made)),
            (None, true) => (1, 0),
            (None, false) => (1, ptr_bound),
        };
        let current = match (self.mx_hosts_left, query) {
            (_, _) if self.ptr_lookups.is_some() => current,
            (Some(left), _) => left,
            (None, Query::Mx(_)) => per_term,
            (None, _) => current,
        };
        terms
            .saturating_mul(per_term)
            .saturating_add(current)
            .saturating_add(ptr)
            .saturating_add(1)
    }

    /// The answer to a lookup of `name`, borrowed from where it is kept when it can be: on the
    /// awaited path, the answer this evaluation used before comes first, so that every run sees
    /// the same one; then the answer cache, then the resolver's memory (an answer from either kept
    /// on the awaited path, see [`Memo`]); then NXDOMAIN without a query when the name cannot be
    /// sent ([`fits_dns`]: macros can build such names, and RFC 7208 gives them no result of their
    /// own); else the run stops for it.
    #[inline(always)]
    fn answer<K: Kind>(&mut self, name: &str) -> Result<LookupResult<Cow<'a, [K::T]>>, Stop> {
        if let Some(memo) = self.memo {
            if let Some(answer) = memo.get::<K>(name) {
                return Ok(answer.map(Cow::Borrowed));
            }
            if let Some(answer) = self.kept.iter().find_map(|kept| K::kept(kept, name)) {
                return Ok(answer.clone().map(Cow::Owned));
            }
        }
        let found = match self.answers.get().and_then(|view| K::cached(view, name)) {
            Some(answer) => Some(answer.map(Cow::Borrowed)),
            None => K::now(self.resolver, name),
        };
        match found {
            Some(answer) => {
                if self.memo.is_some() {
                    let copy = answer.clone().map(Cow::into_owned);
                    self.kept.push(K::keep(name.to_owned(), copy));
                }
                Ok(answer)
            }
            None if !fits_dns(name) => Ok(Err(LookupError::NxDomain)),
            None => Err(self.need(|| K::query(name.to_owned()))),
        }
    }

    /// [`Self::answer`], traced when tracing.
    #[inline(always)]
    fn lookup<K: Kind>(&mut self, name: &str) -> Result<LookupResult<Cow<'a, [K::T]>>, Stop> {
        let answer = self.answer::<K>(name)?;
        let depth = self.depth();
        if let Some(trace) = self.trace.as_mut() {
            let event = TraceEvent::Query {
                rtype: K::RTYPE,
                name: name.to_string(),
                answer: K::summary(&answer),
            };
            trace.push(depth + 1, event);
        }
        Ok(answer)
    }

    /// The trace depth of the current level's terms (its `check_host()` event is one less).
    #[inline]
    fn depth(&self) -> u32 {
        (2 * self.level).saturating_sub(1)
    }

    /// Evaluates `domain` and, on fail, builds the explanation.
    #[inline]
    pub(super) fn run(&mut self, domain: &str) -> Result<(Verdict<'a>, Option<String>), Stop> {
        let verdict = self.check_host(domain)?;
        if self.missed() {
            // A verdict reached past a missing answer is not the evaluation's: no explanation.
            return Err(Stop::Need);
        }
        self.term_rest = 0;
        let explanation = match verdict.result {
            SpfResult::Fail => {
                let exp_domain = verdict.domain.as_deref().unwrap_or(domain);
                Some(self.explain(verdict.exp(), exp_domain)?)
            }
            _ => None,
        };
        Ok((verdict, explanation))
    }

    /// `check_host()` of `domain`, one level deeper.
    fn check_host(&mut self, domain: &str) -> Result<Verdict<'a>, Stop> {
        if let Some(trace) = self.trace.as_mut() {
            let event = TraceEvent::CheckHost {
                domain: domain.to_string(),
            };
            trace.push(2 * self.level, event);
        }
        if self.level >= MAX_DEPTH {
            return Err(SpfError::TooManyDnsLookups {
                limit: self.config.max_dns_lookups,
            }
            .into());
        }
        // Restored on every path: with prefetching, a run goes on past a stop for a missing answer.
        self.level += 1;
        let verdict = self.evaluate_record(domain);
        self.level -= 1;
        verdict
    }

    fn evaluate_record(&mut self, domain: &str) -> Result<Verdict<'a>, Stop> {
        let record = match self.record(domain)? {
            Found::Record(record) => record,
            Found::None => {
                self.note(|| TraceEvent::NoRecord);
                return Ok(Verdict::new(SpfResult::None, Why::NoRecord));
            }
            Found::InvalidDomain(error) => {
                return Ok(Verdict::new(SpfResult::None, Why::InvalidDomain(error)));
            }
        };
        let mut decided = None;
        for (term, directive) in record.terms().iter().enumerate() {
            let Term::Directive(directive) = directive else {
                continue;
            };
            self.note(|| TraceEvent::Term {
                term: directive.to_string(),
            });
            let matched = match self.matches(&directive.mechanism, domain) {
                Ok(matched) => matched,
                // Prefetching: on as if it had not matched, naming the lookups further on.
                Err(Stop::Need) if self.prefetching() => false,
                Err(stop) => return Err(stop),
            };
            self.mx_hosts_left = None;
            self.note_outcome(matched);
            if matched {
                decided = Some((term, qualifier_result(directive.qualifier)));
                break;
            }
        }
        if let Some((term, result)) = decided {
            return Ok(Verdict::new(result, Why::Match { record, term }));
        }
        let Some(redirect) = record.redirect() else {
            return Ok(Verdict::new(SpfResult::Neutral, Why::NoMatch));
        };
        self.note(|| TraceEvent::Term {
            term: format!("redirect={redirect}"),
        });
        self.count_dns_term()?;
        self.term_rest = 1;
        let target = self.target(redirect, domain)?;
        let mut verdict = self.check_host(&target)?;
        if verdict.result == SpfResult::None {
            return Err(SpfError::NoRecordAtTarget {
                domain: target.into_owned(),
            }
            .into());
        }
        if verdict.domain.is_none() {
            verdict.domain = Some(target.into_owned());
        }
        Ok(verdict)
    }

    /// Records a trace event (the closure only runs when tracing).
    #[inline]
    fn note(&mut self, event: impl FnOnce() -> TraceEvent) {
        let depth = self.depth();
        if let Some(trace) = self.trace.as_mut() {
            trace.push(depth, event());
        }
    }

    #[inline]
    fn note_outcome(&mut self, matched: bool) {
        let (dns_lookups, void_lookups) = (self.dns_lookups, self.void_lookups);
        self.note(|| TraceEvent::Outcome {
            matched,
            dns_lookups,
            void_lookups,
        });
    }

    /// The one `v=spf1` record of `domain`: `None` when there is none, permerror for several or a
    /// syntax error, temperror for DNS failures. On the awaited path, the record this evaluation
    /// used before, if any (see [`Memo`]); else from the record cache, else from the resolver's
    /// memory (parsed, and cached after the run), else the run stops to fetch it.
    ///
    /// The domain `check_host()` was first called with (depth 1) must be a valid domain (RFC 7208
    /// §4.3), checked before any lookup, in the first run; one the cache holds as given was
    /// checked when cached.
    fn record(&mut self, domain: &str) -> Result<Found<'a>, Stop> {
        let memo = self.memo;
        if let Some(used) = memo.and_then(|memo| memo.records.get(domain)) {
            if self.level == 1
                && let Some(name) = &used.name
            {
                self.name = Some(name);
            }
            let fetched = used.fetched.as_ref().map(Cow::Borrowed);
            return self.found(
                domain,
                fetched.map_err(Clone::clone),
                used.summary.as_deref(),
            );
        }
        let hit = match self.cache {
            Some(cache) => cache.get(domain, *self.now.get_or_insert_with(crate::ttl::now)),
            None => None,
        };
        if self.level == 1 {
            match hit.as_ref().and_then(|hit| hit.name) {
                Some(name) => self.name = Some(name),
                // On the awaited path the first run has found the domain valid (a run that finds
                // it invalid completes), so it is not checked again in every run.
                None if memo.is_some() => {}
                None => {
                    if let Err(error) = check_domain(domain) {
                        return Ok(Found::InvalidDomain(error));
                    }
                }
            }
        }
        if let Some(hit) = hit {
            if memo.is_some() {
                let used = RecordAnswer {
                    fetched: Ok(hit.fetched.clone()),
                    summary: None,
                    name: hit.name.cloned(),
                };
                self.kept.push(Kept::Record(domain.to_owned(), used));
            }
            self.note_record(hit.fetched, true);
            return Ok(hit.fetched.record()?.map(RecordRef::Shared).into());
        }
        if memo.is_some() {
            // An answer of the resolver's memory read earlier in this run: the same again.
            let used = self.kept.iter().find_map(|kept| match kept {
                Kept::Record(name, used) if name == domain => Some(used.clone()),
                _ => None,
            });
            if let Some(used) = used {
                let fetched = used.fetched.map(Cow::Owned);
                return self.found(domain, fetched, used.summary.as_deref());
            }
        }
        if !fits_dns(domain) {
            let summary = LookupError::NxDomain.to_string();
            return self.found(domain, Ok(Cow::Owned(Fetched::NoRecord)), Some(&summary));
        }
        let answer = match self.answers.get().and_then(|view| view.txt(domain)) {
            // The answer cache keeps only TXT answers without a `v=spf1` record.
            Some(answer) => Some(answer.map(Cow::Borrowed)),
            None => self.resolver.lookup_txt_now(domain),
        };
        let Some(answer) = answer else {
            return Err(self.need(|| Query::Record(domain.to_owned())));
        };
        let summary = match self.trace {
            Some(_) => Cow::Owned(answer.summary()),
            None => Cow::Borrowed(""),
        };
        let fetched = match answer {
            Ok(txts) => Ok(memo::select_record(domain, &txts)),
            Err(e) if e.is_void() => Ok(Fetched::NoRecord),
            Err(e) => Err(dns_error(domain, e)),
        };
        if let (Some(_), Ok(fetched)) = (self.cache, &fetched) {
            self.parsed.push((domain.to_owned(), fetched.clone()));
        }
        if memo.is_some() {
            let used = RecordAnswer {
                fetched: fetched.clone(),
                summary: Some(summary.clone().into_owned()),
                name: None,
            };
            self.kept.push(Kept::Record(domain.to_owned(), used));
        }
        self.found(domain, fetched.map(Cow::Owned), Some(&summary))
    }

    /// What a record lookup found, traced: the TXT answer's `summary` as a query (`None`: the
    /// record came from the record cache), then the record.
    #[inline]
    fn found(
        &mut self,
        domain: &str,
        fetched: Result<Cow<'a, Fetched>, SpfError>,
        summary: Option<&str>,
    ) -> Result<Found<'a>, Stop> {
        let depth = self.depth();
        if let (Some(trace), Some(summary)) = (self.trace.as_mut(), summary) {
            trace.push(
                depth,
                TraceEvent::Query {
                    rtype: "TXT",
                    name: domain.to_string(),
                    answer: summary.to_owned(),
                },
            );
        }
        let fetched = fetched?;
        self.note_record(&fetched, summary.is_none());
        Ok(match fetched {
            Cow::Borrowed(fetched) => fetched.record()?.map(RecordRef::Shared).into(),
            Cow::Owned(Fetched::Record(record)) => Found::Record(RecordRef::Own(record)),
            Cow::Owned(Fetched::NoRecord) => Found::None,
            Cow::Owned(Fetched::Invalid(e)) => return Err(e.into()),
        })
    }

    #[inline]
    fn note_record(&mut self, fetched: &Fetched, cached: bool) {
        if self.trace.is_some() {
            let event = match fetched {
                Fetched::Record(r) => TraceEvent::Record {
                    text: r.record().to_string(),
                    cached,
                },
                // A missing or broken record shows in the final result's line.
                Fetched::NoRecord | Fetched::Invalid(_) => return,
            };
            self.note(|| event);
        }
    }

    fn count_dns_term(&mut self) -> Result<(), SpfError> {
        self.dns_lookups += 1;
        if self.dns_lookups > self.config.max_dns_lookups {
            return Err(SpfError::TooManyDnsLookups {
                limit: self.config.max_dns_lookups,
            });
        }
        Ok(())
    }

    /// Sorts a lookup result into answers, a void answer (counted) or an error.
    fn answers<'r, T: Clone>(
        &mut self,
        name: &str,
        result: LookupResult<Cow<'r, [T]>>,
    ) -> Result<Cow<'r, [T]>, SpfError> {
        match result {
            Ok(v) if !v.is_empty() => Ok(v),
            Ok(_) => self.void(),
            Err(e) if e.is_void() => self.void(),
            Err(e) => Err(dns_error(name, e)),
        }
    }

    fn void<'r, T: Clone>(&mut self) -> Result<Cow<'r, [T]>, SpfError> {
        self.void_lookups += 1;
        if self.void_lookups > self.config.max_void_lookups {
            return Err(SpfError::TooManyVoidLookups {
                limit: self.config.max_void_lookups,
            });
        }
        Ok(Cow::Borrowed(&[]))
    }

    /// Whether `mechanism` matches; a DNS-querying one counts towards the limit first.
    fn matches(&mut self, mechanism: &Mechanism, domain: &str) -> Result<bool, Stop> {
        if mechanism.queries_dns() {
            self.count_dns_term()?;
        }
        self.term_rest = match mechanism {
            Mechanism::Mx { .. } => self.config.max_mx_names.saturating_add(1),
            Mechanism::A { .. } | Mechanism::Exists(_) | Mechanism::Include(_) => 1,
            _ => 0,
        };
        match mechanism {
            Mechanism::All => Ok(true),
            Mechanism::Ip4 { addr, prefix } => Ok(match self.inputs.ip {
                IpAddr::V4(ip) => in_prefix(
                    u32::from(ip).into(),
                    u32::from(*addr).into(),
                    32,
                    prefix.unwrap_or(32),
                ),
                IpAddr::V6(_) => false,
            }),
            Mechanism::Ip6 { addr, prefix } => Ok(match self.inputs.ip {
                IpAddr::V6(ip) => in_prefix(
                    u128::from(ip),
                    u128::from(*addr),
                    128,
                    prefix.unwrap_or(128),
                ),
                IpAddr::V4(_) => false,
            }),
            Mechanism::A { domain: spec, cidr } => {
                let target = self.optional_target(spec.as_ref(), domain)?;
                self.has_address(&target, *cidr, true)
            }
            Mechanism::Mx { domain: spec, cidr } => {
                let target = self.optional_target(spec.as_ref(), domain)?;
                let result = self.lookup::<memo::Mxs>(&target)?;
                let mxs = self.answers(&target, result)?;
                let hosts = || {
                    mxs.iter()
                        .enumerate()
                        .filter(|(_, mx)| !mx.exchange.is_empty() && mx.exchange != ".")
                };
                let count = hosts().count();
                if count > self.config.max_mx_names {
                    return Err(SpfError::TooManyMxNames {
                        domain: target.into_owned(),
                        limit: self.config.max_mx_names,
                    }
                    .into());
                }
                // In preference order (ties in the order served), without sorting a copy: there
                // are at most `max_mx_names` hosts. Served in that order already (as most zones
                // list them), each step takes the next host; otherwise it searches for it.
                let in_order = hosts().is_sorted_by_key(|(_, mx)| mx.preference);
                let mut previous: Option<(u16, usize)> = None;
                for done in 0..count {
                    let after =
                        |&(i, mx): &(usize, &Mx)| previous.is_none_or(|p| (mx.preference, i) > p);
                    let next = match in_order {
                        true => hosts().find(after),
                        false => hosts()
                            .filter(after)
                            .min_by_key(|(i, mx)| (mx.preference, *i)),
                    };
                    let Some((i, mx)) = next else {
                        break;
                    };
                    previous = Some((mx.preference, i));
                    let count_void = self.config.count_mx_address_voids;
                    self.mx_hosts_left = Some(count - done);
                    match self.has_address(&mx.exchange, *cidr, count_void) {
                        Ok(true) => return Ok(true),
                        Ok(false) => {}
                        // Prefetching: on to the next host, naming its lookup too.
                        Err(Stop::Need) if self.prefetching() => {}
                        Err(stop) => return Err(stop),
                    }
                }
                Ok(false)
            }
            Mechanism::Ptr(spec) => {
                let target = self.optional_target(spec.as_ref(), domain)?;
                let names = self.validated_names()?;
                Ok(names.iter().any(|n| is_within(n, &target)))
            }
            Mechanism::Exists(spec) => {
                let target = self.target(spec, domain)?;
                let result = self.lookup::<A>(&target)?;
                Ok(!self.answers(&target, result)?.is_empty())
            }
            Mechanism::Include(spec) => {
                let target = self.target(spec, domain)?;
                let verdict = self.check_host(&target)?;
                match verdict.result {
                    SpfResult::Pass => Ok(true),
                    SpfResult::None => Err(SpfError::NoRecordAtTarget {
                        domain: target.into_owned(),
                    }
                    .into()),
                    _ => Ok(false),
                }
            }
        }
    }

    /// Whether an address of `name` in the client's family is within `cidr` of the client. Void
    /// answers count towards the void limit when `count_void`; errors give temperror.
    fn has_address(&mut self, name: &str, cidr: DualCidr, count_void: bool) -> Result<bool, Stop> {
        Ok(match self.inputs.ip {
            IpAddr::V4(ip) => {
                let result = self.lookup::<A>(name)?;
                let addrs = self.addresses(name, result, count_void)?;
                let prefix = cidr.v4.unwrap_or(32);
                addrs
                    .iter()
                    .any(|a| in_prefix(u32::from(ip).into(), u32::from(*a).into(), 32, prefix))
            }
            IpAddr::V6(ip) => {
                let result = self.lookup::<Aaaa>(name)?;
                let addrs = self.addresses(name, result, count_void)?;
                let prefix = cidr.v6.unwrap_or(128);
                addrs
                    .iter()
                    .any(|a| in_prefix(u128::from(ip), u128::from(*a), 128, prefix))
            }
        })
    }

    fn addresses<'r, T: Clone>(
        &mut self,
        name: &str,
        result: LookupResult<Cow<'r, [T]>>,
        count_void: bool,
    ) -> Result<Cow<'r, [T]>, SpfError> {
        match result {
            Err(e) if e.is_void() && !count_void => Ok(Cow::Borrowed(&[])),
            result => self.answers(name, result),
        }
    }

    /// The macro values for expanding `spec` in `domain`. Builds `%{s}` and the validated names for
    /// `%{p}` first if `spec` needs them and they are not built; reads the clock only for `%{t}`.
    fn context<'x>(
        &'x mut self,
        spec: &MacroString,
        domain: &'x str,
    ) -> Result<MacroContext<'x>, Stop> {
        let letters = spec.letters();
        if self.sender.is_empty() && letters.has(MacroLetter::Sender) {
            let (local, domain) = (self.inputs.local_part, self.inputs.sender_domain);
            let mut sender = String::with_capacity(local.len() + 1 + domain.len());
            sender.push_str(local);
            sender.push('@');
            sender.push_str(domain);
            self.sender = sender;
        }
        if self.validated.is_none() && letters.has(MacroLetter::ValidatedName) {
            self.validated_names()?;
        }
        let timestamp = match letters.has(MacroLetter::Timestamp) {
            true => SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_secs()),
            false => 0,
        };
        Ok(MacroContext {
            sender: &self.sender,
            local_part: self.inputs.local_part,
            sender_domain: self.inputs.sender_domain,
            domain,
            ip: self.inputs.ip,
            helo: self.inputs.helo,
            validated_name: self.validated_name_for(domain),
            receiver: &self.config.receiver,
            timestamp,
        })
    }

    /// The target of an `a`, `mx` or `ptr`: its domain-spec expanded, or the current domain.
    fn optional_target<'s>(
        &mut self,
        spec: Option<&'s DomainSpec>,
        domain: &'s str,
    ) -> Result<Target<'s>, Stop> {
        match spec {
            Some(spec) => self.target(spec, domain),
            None => Ok(Target::Spec(domain)),
        }
    }

    /// Expands a domain-spec into the name to query, truncated to 253 bytes (borrowed when the spec
    /// is a plain name). Names are not checked further: a name that cannot be queried is answered
    /// NXDOMAIN without a query (see `lookup!`).
    fn target<'s>(&mut self, spec: &'s DomainSpec, domain: &str) -> Result<Target<'s>, Stop> {
        if let Some(name) = spec.as_literal()
            && name.len() <= MAX_NAME_LEN
            && !name.ends_with('.')
        {
            return Ok(Target::Spec(name));
        }
        let mut name = Built::new();
        spec.expand_name(&self.context(spec, domain)?, name.buffer());
        Ok(Target::Built(name))
    }

    /// The explanation for a fail (RFC 7208 §6.2): the `exp=` text when it can be fetched and parsed,
    /// otherwise the configured default.
    fn explain(&mut self, exp: Option<&DomainSpec>, domain: &str) -> Result<String, Stop> {
        if let Some(spec) = exp
            && let Some(text) = self.fetch_explanation(spec, domain)?
        {
            return Ok(text);
        }
        Ok(match self.default_explanation {
            Some(ms) => {
                let ctx = self.context(ms, self.inputs.sender_domain)?;
                let mut out = String::with_capacity(explanation_capacity(ms, ctx.sender));
                ms.expand(&ctx, &mut out);
                out
            }
            None => self.config.default_explanation.clone(),
        })
    }

    fn fetch_explanation(
        &mut self,
        spec: &DomainSpec,
        domain: &str,
    ) -> Result<Option<String>, Stop> {
        let target = self.target(spec, domain)?;
        let Ok(txts) = self.lookup::<Text>(&target)? else {
            return Ok(None);
        };
        let [txt] = &*txts else { return Ok(None) };
        let text = txt.text();
        let Ok(text) = std::str::from_utf8(&text) else {
            return Ok(None);
        };
        if !text.is_ascii() {
            return Ok(None);
        }
        let Ok(ms) = parse_explanation(text) else {
            return Ok(None);
        };
        let ctx = self.context(&ms, domain)?;
        let mut out = String::with_capacity(explanation_capacity(&ms, ctx.sender));
        ms.expand(&ctx, &mut out);
        Ok(Some(out))
    }
}

impl Fetched {
    /// The record, none, or the permanent error.
    #[inline]
    fn record(&self) -> Result<Option<&Arc<DomainRecord>>, SpfError> {
        match self {
            Fetched::Record(r) => Ok(Some(r)),
            Fetched::NoRecord => Ok(None),
            Fetched::Invalid(e) => Err(e.clone()),
        }
    }
}

/// Room for an explanation's expansion, so that it is built without growing: its literal text plus
/// a sender-sized value per macro, tripled for URL escaping (an estimate: more is still correct),
/// at most the most an explanation expands to ([`MAX_EXPLANATION_LEN`]).
fn explanation_capacity(ms: &MacroString, sender: &str) -> usize {
    let value = 3 * sender.len().max(40);
    let mut capacity = 0usize;
    for part in ms.parts() {
        capacity = capacity.saturating_add(match part {
            MacroPart::Literal(text) => text.len(),
            MacroPart::Macro(_) => value,
        });
        if capacity >= MAX_EXPLANATION_LEN {
            return MAX_EXPLANATION_LEN;
        }
    }
    capacity
}

fn qualifier_result(q: Qualifier) -> SpfResult {
    match q {
        Qualifier::Pass => SpfResult::Pass,
        Qualifier::Fail => SpfResult::Fail,
        Qualifier::SoftFail => SpfResult::Softfail,
        Qualifier::Neutral => SpfResult::Neutral,
    }
}

/// Whether `ip` is in `net/prefix` for addresses of `bits` bits (held in a u128). `/0` matches all.
#[inline]
pub(super) fn in_prefix(ip: u128, net: u128, bits: u32, prefix: u8) -> bool {
    let prefix = u32::from(prefix).min(bits);
    if prefix == 0 {
        return true;
    }
    let shift = bits - prefix;
    (ip >> shift) == (net >> shift)
}
