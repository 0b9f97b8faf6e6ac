//! `check_host()` (RFC 7208 §4-§6): record lookup, mechanism evaluation, limits and explanations.

use super::cache::{self, Fetched, RecordCache, View};
use super::macros::{MAX_EXPLANATION_LEN, MacroContext};
use super::parse::{is_spf1, parse_explanation};
use super::record::{
    DomainRecord, DualCidr, MacroLetter, MacroPart, MacroString, Mechanism, Qualifier, Record, Term,
};
use super::result::{Cause, Checked, Identity, SpfError, SpfOutput, SpfResult};
use super::target::{Built, Target};
use super::trace::{Summary, Trace, TraceEvent};
use super::{Config, DomainSpec, cut_to};
use crate::dns::{LookupError, LookupResult, Mx, Resolver, TxtRecord};
use crate::hash::Fx;
use crate::name::{MAX_NAME_LEN, NameError, check_domain, fits_dns, is_within, normalize, same};
use std::borrow::Cow;
use std::collections::HashMap;
use std::hash::BuildHasherDefault;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

/// The longest local part of a sender the macros see, in bytes; longer ones are cut to it (see
/// [`Verifier::check_host`]). A reverse-path holds at most 256 octets (RFC 5321 §4.5.3.1.3), so no
/// deliverable sender has a longer local part; RFC 5321 limits local parts to 64 octets
/// (§4.5.3.1.1) but asks receivers to accept longer ones where they can. With the domain (at most
/// 253 bytes), it bounds `%{s}` to 510 bytes.
pub const MAX_LOCAL_PART_LEN: usize = 256;

/// The longest HELO/EHLO name the macros see (`%{h}`), in bytes; a longer one is cut to it. A
/// valid HELO is a domain of at most 253 bytes (with its root dot 254) or an address literal, so
/// only a hostile argument is ever cut; without the cap, each `%{h}` of a record would walk the
/// whole argument, however long the caller let it be.
pub const MAX_HELO_LEN: usize = 256;

/// How deep `include:` and `redirect=` may nest, whatever [`Config::max_dns_lookups`] allows (with
/// the default limit of 10 terms, nesting never gets near it).
const MAX_DEPTH: u32 = 64;

/// Evaluates SPF for one client through a [`Resolver`], with a [`Config`].
///
/// ```
/// use sender_identity::dns::ZoneResolver;
/// use sender_identity::spf::{SpfResult, Verifier};
///
/// let zone: ZoneResolver = r#"
///     example.com.      TXT "v=spf1 mx -all"
///     example.com.      MX  10 mail.example.com
///     mail.example.com. A   192.0.2.10
/// "#.parse().unwrap();
/// let spf = Verifier::new(zone);
/// # let rt = tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap();
/// # rt.block_on(async {
/// let ip = "192.0.2.10".parse().unwrap();
/// let out = spf.check_mail_from(ip, "mail.example.com", "alice@example.com").await;
/// assert_eq!(out.result, SpfResult::Pass);
/// assert_eq!(out.matched().unwrap().to_string(), "mx");
///
/// let out = spf.check_mail_from("203.0.113.9".parse().unwrap(), "x.example", "alice@example.com").await;
/// assert_eq!(out.result, SpfResult::Fail);
/// # });
/// ```
///
/// # How an evaluation runs
/// The evaluation itself is synchronous code over the answers it has (sans-I/O): records from the
/// [`RecordCache`], answers the resolver holds in memory ([`Resolver::lookup_a_now`] and friends),
/// and answers already awaited for this evaluation. The first run is plain code, before anything
/// is awaited. When a run needs an answer it does not have, it stops with that query;
/// [`Verifier::check_host`] awaits it, keeps it, and runs the evaluation again from the start,
/// which costs little next to a DNS round trip (each run is bounded by the lookup limits, so an
/// evaluation does at most about as many runs as it sends queries).
///
/// Once an evaluation waits, it sees one consistent view of DNS: every answer a run takes from the
/// record cache or the resolver's memory is kept with the awaited ones, and later runs read the
/// kept answer first, even if the cache entry expired or was replaced meanwhile (by another
/// verifier sharing the cache). So each run follows the path of the one before it, every query
/// sent is one the final run needed, and the lookup limits bound the queries of the whole
/// evaluation, not only of each run.
///
/// An evaluation answered from memory runs once, with no boxed recursion and no copy of an
/// answer, and, with the record cache, without allocating: the domain checked is validated once,
/// when it is cached, and the output shares the cached record (and names the domain through it
/// when that record decided). The same name and type is never asked of the network twice in one
/// evaluation.
///
/// # Memory
/// An evaluation in flight is one future of about 0.65 KB plus the strings of its output. Once it
/// has to await an answer it also holds a boxed state of about 0.45 KB and the answers used so
/// far, awaited or kept (bounded by the lookup limits: at most about 125 names with their
/// records). Nested `include:` and `redirect=` use stack, not heap, and nest at most 32 deep. Names
/// built by macros are written into a buffer of 320 bytes that each thread keeps once it has
/// expanded one; explanations are at most [`MAX_EXPLANATION_LEN`] bytes. A cached record's cost is
/// given at [`RecordCache`].
#[derive(Debug, Clone)]
pub struct Verifier<R> {
    resolver: R,
    config: Config,
    /// `config.default_explanation`, parsed once (`None` when it is not valid macro text: then it is
    /// used literally).
    default_explanation: Option<MacroString>,
    cache: Option<Arc<RecordCache>>,
}

impl<R: Resolver> Verifier<R> {
    /// A verifier with the RFC 7208 default configuration.
    pub fn new(resolver: R) -> Self {
        Self::with_config(resolver, Config::default())
    }

    /// A verifier with the given configuration.
    pub fn with_config(resolver: R, config: Config) -> Self {
        let default_explanation = parse_explanation(&config.default_explanation).ok();
        Verifier {
            resolver,
            config,
            default_explanation,
            cache: None,
        }
    }

    /// Keeps parsed records in `cache` (shared with other verifiers if wanted), so that a record
    /// fetched again within its TTL is neither queried nor parsed again.
    pub fn with_cache(mut self, cache: Arc<RecordCache>) -> Self {
        self.cache = Some(cache);
        self
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The resolver.
    pub fn resolver(&self) -> &R {
        &self.resolver
    }

    /// Checks the MAIL FROM identity (RFC 7208 §2.4). `mail_from` is the `MAIL FROM` argument,
    /// read by [`crate::envelope::sender`] (angle brackets, ESMTP parameters and a source route
    /// removed). The null sender (`<>`) is checked as `postmaster@<helo>`; a sender without a
    /// local part gets `postmaster`.
    pub async fn check_mail_from(&self, ip: IpAddr, helo: &str, mail_from: &str) -> SpfOutput {
        let mail_from = crate::envelope::sender(mail_from);
        let at = mail_from.bytes().rposition(|b| b == b'@');
        let (local, domain) = match at {
            _ if mail_from.is_empty() => ("", helo),
            Some(at) => (&mail_from[..at], &mail_from[at + 1..]),
            None => ("", mail_from),
        };
        self.check_host(ip, domain, local, helo, Identity::MailFrom)
            .await
    }

    /// Checks the HELO identity (RFC 7208 §2.3): `check_host()` with `postmaster@<helo>` as the
    /// sender. An address literal or a single-label name gives `none`.
    pub async fn check_helo(&self, ip: IpAddr, helo: &str) -> SpfOutput {
        self.check_host(ip, helo, "", helo, Identity::Helo).await
    }

    /// RFC 7208 `check_host(<ip>, <domain>, <sender>)` with the sender's local part given separately
    /// (empty means `postmaster`). IPv4-mapped IPv6 addresses are evaluated as IPv4.
    ///
    /// A local part longer than [`MAX_LOCAL_PART_LEN`] (256 bytes) is cut to that length (at a
    /// character boundary) for the `%{l}` and `%{s}` macros. It is not refused: a result of none or
    /// permerror for a long local part would let any sender turn a domain's fail into it by
    /// padding the local part, while what the cut gives is what a sender could have sent as it is.
    /// A `helo` longer than [`MAX_HELO_LEN`] is cut the same way for `%{h}`.
    pub async fn check_host(
        &self,
        ip: IpAddr,
        domain: &str,
        local_part: &str,
        helo: &str,
        identity: Identity,
    ) -> SpfOutput {
        let domain = crate::name::strip_root(domain);
        let local_part = if local_part.is_empty() {
            "postmaster"
        } else {
            cut_to(local_part, MAX_LOCAL_PART_LEN)
        };
        let inputs = Inputs {
            ip: crate::ip::canonical(ip),
            local_part,
            sender_domain: domain,
            helo: cut_to(helo, MAX_HELO_LEN),
        };
        let mut last = RunState::default();
        // A first run over the answers at hand, as plain code: from memory it is the only one.
        // Otherwise the evaluation goes on awaiting answers under the time limit. The outcome is
        // left in `last`. (The timer stays out of the box: boxed with the evaluation, it doubled
        // the boxed state.)
        let error = match self.run(&inputs, None, &mut last, &mut Vec::new()) {
            Ok(()) => None,
            Err(Stop::Error(e)) => Some(e),
            Err(Stop::Need(_)) => {
                // Boxed: only an evaluation that waits for DNS carries the memo's future. The first
                // run kept nothing it read (so it does not allocate), so its query is not sent: the
                // awaited path starts with a run that keeps what it reads, and every query sent is
                // one that its consistent runs need.
                let work = Box::pin(self.evaluate(&inputs, &mut last));
                match crate::deadline::within(self.config.timeout, work).await {
                    Some(Ok(())) => None,
                    Some(Err(e)) => Some(e),
                    None => Some(SpfError::Timeout),
                }
            }
        };
        let RunState {
            dns_lookups,
            void_lookups,
            mut trace,
            checked,
            result,
            explanation,
            cause,
        } = last;
        let (checked, result, explanation, cause) = match (checked, cause, error) {
            (Some(checked), Some(cause), None) => (checked, result, explanation, cause),
            (_, _, error) => {
                let e = error.unwrap_or(SpfError::Timeout);
                let checked = Checked::Name(Arc::from(domain));
                (checked, e.result(), None, Cause::Error(e))
            }
        };
        if let Some(trace) = trace.as_mut() {
            trace.finish(
                &cause,
                explanation.as_deref(),
                result,
                dns_lookups,
                void_lookups,
            );
        }
        SpfOutput {
            result,
            identity,
            checked,
            explanation,
            cause,
            dns_lookups,
            void_lookups,
            trace,
        }
    }

    /// Goes on with an evaluation whose first run needed an answer: runs it again keeping every
    /// answer it reads, awaits the query a run stops with, keeps it, and runs again, until it
    /// completes (see [How an evaluation runs](Verifier)). `last` holds the counters and trace of
    /// the latest run, also when the time limit ends the work.
    async fn evaluate(&self, inputs: &Inputs<'_>, last: &mut RunState) -> Result<(), SpfError> {
        // The answers used so far (this future is boxed: they do not weigh on the caller's).
        let mut memo = Memo::default();
        let mut kept = Vec::new();
        loop {
            let step = self.run(inputs, Some(&memo), last, &mut kept);
            memo.keep(&mut kept);
            match step {
                Ok(()) => return Ok(()),
                Err(Stop::Error(e)) => return Err(e),
                Err(Stop::Need(query)) => {
                    memo.fetch(
                        &self.resolver,
                        self.cache.as_deref(),
                        self.config.trace,
                        inputs.ip,
                        query,
                    )
                    .await
                }
            }
        }
    }

    /// One run of the evaluation over the answers at hand: the record cache (under one read lock,
    /// released before returning), the resolver's memory and `memo`. Leaves its counters, trace and,
    /// when it completes, the outcome in `last`; records it parsed go into the cache afterwards.
    /// With a `memo` (the awaited path), the answers it took from elsewhere are left in `kept`.
    fn run(
        &self,
        inputs: &Inputs<'_>,
        memo: Option<&Memo>,
        last: &mut RunState,
        kept: &mut Vec<Kept>,
    ) -> Result<(), Stop> {
        let view = self.cache.as_deref().map(RecordCache::view);
        let mut eval = Evaluation {
            resolver: &self.resolver,
            config: &self.config,
            default_explanation: self.default_explanation.as_ref(),
            cache: view.as_ref(),
            memo,
            inputs,
            sender: String::new(),
            dns_lookups: 0,
            void_lookups: 0,
            validated: None,
            name: None,
            parsed: Vec::new(),
            kept,
            now: None,
            trace: self
                .config
                .trace
                .then(|| Trace::new(self.config.max_dns_lookups, self.config.max_void_lookups)),
            depth: 0,
        };
        let step = eval.run(inputs.sender_domain);
        last.dns_lookups = eval.dns_lookups;
        last.void_lookups = eval.void_lookups;
        last.trace = eval.trace;
        let step = step.map(|(verdict, explanation)| {
            last.result = verdict.result;
            let name = || match eval.name {
                Some(name) => Arc::clone(name),
                None => Arc::from(inputs.sender_domain),
            };
            // The domain's own record decided and the cache holds it under the name as given: the
            // output names the domain through that record.
            if eval.name.is_some() && verdict.is_own_match() {
                last.cause = Some(verdict.into_cause(name));
                last.checked = Some(Checked::OfMatch);
            } else {
                let name = name();
                last.cause = Some(verdict.into_cause(|| Arc::clone(&name)));
                last.checked = Some(Checked::Name(name));
            }
            last.explanation = explanation;
        });
        let parsed = eval.parsed;
        drop(view);
        if let Some(cache) = self.cache.as_deref() {
            for (domain, fetched) in parsed {
                cache.insert(&domain, fetched, None, cache::now());
            }
        }
        step
    }
}

/// What the caller asked about.
struct Inputs<'a> {
    ip: IpAddr,
    /// The sender's local part (`postmaster` when it had none).
    local_part: &'a str,
    /// The sender's domain: the domain checked.
    sender_domain: &'a str,
    helo: &'a str,
}

/// What a run leaves for the output: its counters, its trace and, at the end, the outcome.
struct RunState {
    dns_lookups: u32,
    void_lookups: u32,
    trace: Option<Trace>,
    /// The domain checked, the result, explanation and cause, when the evaluation completed (kept
    /// field by field: an outcome tuple was built on the stack and copied, a copy that stalled).
    checked: Option<Checked>,
    result: SpfResult,
    explanation: Option<String>,
    cause: Option<Cause>,
}

impl Default for RunState {
    fn default() -> Self {
        RunState {
            dns_lookups: 0,
            void_lookups: 0,
            trace: None,
            checked: None,
            result: SpfResult::None,
            explanation: None,
            cause: None,
        }
    }
}

/// Why a run stopped short of a verdict.
enum Stop {
    /// The evaluation ended with an error (temperror or permerror).
    Error(SpfError),
    /// The run needs an answer that is not in memory: await it, keep it, run again.
    Need(Query),
}

impl From<SpfError> for Stop {
    fn from(e: SpfError) -> Self {
        Stop::Error(e)
    }
}

/// A lookup a run needs.
enum Query {
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

/// The answers an evaluation on its awaited path has used: those it awaited, and those its runs
/// took from the record cache or the resolver's memory ([`Kept`]), so that every later run sees the
/// same answers, whatever the cache or the resolver hold meanwhile. Keyed with the unkeyed fast
/// hash: the lookup limits bound an evaluation to about 125 answers, so even names chosen to
/// collide cannot make these maps costly, and a memo costs nothing to make.
#[derive(Default)]
struct Memo {
    records: Answers<RecordAnswer>,
    texts: Answers<LookupResult<Vec<TxtRecord>>>,
    a: Answers<LookupResult<Vec<Ipv4Addr>>>,
    aaaa: Answers<LookupResult<Vec<Ipv6Addr>>>,
    mx: Answers<LookupResult<Vec<Mx>>>,
    ptr: Option<LookupResult<Vec<String>>>,
}

type Answers<T> = HashMap<String, T, BuildHasherDefault<Fx>>;

/// The outcome of fetching a domain's record, as a run used it.
#[derive(Clone)]
struct RecordAnswer {
    fetched: Result<Fetched, SpfError>,
    /// The TXT answer as the trace shows it (empty when not tracing); `None` when the record came
    /// from the record cache (traced as cached, without a query).
    summary: Option<String>,
    /// The name as the record cache holds it, when it came from there as written and is a valid
    /// domain ([`cache::Hit::name`]).
    name: Option<Arc<str>>,
}

/// An answer a run on the awaited path took from the record cache or the resolver's memory, kept
/// into the [`Memo`] after the run (the run only borrows the memo). Owned copies: the awaited path
/// already allocates, and the first run, which keeps nothing, stays free of them.
enum Kept {
    Record(String, RecordAnswer),
    Text(String, LookupResult<Vec<TxtRecord>>),
    A(String, LookupResult<Vec<Ipv4Addr>>),
    Aaaa(String, LookupResult<Vec<Ipv6Addr>>),
    Mx(String, LookupResult<Vec<Mx>>),
    Ptr(LookupResult<Vec<String>>),
}

impl Memo {
    /// Keeps the answers of `kept` (emptied), the first of any name and type winning: a run reads
    /// the memo first, then what it kept itself, so it never keeps an answer twice with a difference.
    fn keep(&mut self, kept: &mut Vec<Kept>) {
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

    /// Awaits `query` and keeps the answer; a record also goes into the record cache (unless the
    /// lookup failed: temporary errors are never cached). The TXT answer's summary is kept for the
    /// trace only when `tracing`.
    async fn fetch<R: Resolver + ?Sized>(
        &mut self,
        resolver: &R,
        cache: Option<&RecordCache>,
        tracing: bool,
        ip: IpAddr,
        query: Query,
    ) {
        match query {
            Query::Record(domain) => {
                let answer = resolver.lookup_txt_ttl(&domain).await;
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
                    cache.insert(&domain, fetched.clone(), answer.ttl, cache::now());
                }
                let record = RecordAnswer {
                    fetched,
                    summary: Some(summary),
                    name: None,
                };
                self.records.insert(domain, record);
            }
            Query::Text(name) => {
                let answer = resolver.lookup_txt(&name).await;
                self.texts.insert(name, answer);
            }
            Query::A(name) => {
                let answer = resolver.lookup_a(&name).await;
                self.a.insert(name, answer);
            }
            Query::Aaaa(name) => {
                let answer = resolver.lookup_aaaa(&name).await;
                self.aaaa.insert(name, answer);
            }
            Query::Mx(name) => {
                let answer = resolver.lookup_mx(&name).await;
                self.mx.insert(name, answer);
            }
            Query::Ptr => self.ptr = Some(resolver.lookup_ptr(ip).await),
        }
    }
}

/// The result of evaluating one record (never temperror/permerror: those are `Err`). Cheap to make:
/// an `include:` only needs the result, so the public [`Cause`] is built once, for the final verdict.
struct Verdict<'a> {
    result: SpfResult,
    why: Why<'a>,
    /// The domain of the record that decided, when it is not the one `check_host` was called with
    /// (the target of a `redirect=`).
    domain: Option<String>,
}

enum Why<'a> {
    /// `record.terms()[term]` matched.
    Match { record: RecordRef<'a>, term: usize },
    /// Nothing matched, and there was no `redirect=`.
    NoMatch,
    /// There was no record.
    NoRecord,
    /// The domain is not a valid domain for `check_host()`.
    InvalidDomain(NameError),
}

impl<'a> Verdict<'a> {
    fn new(result: SpfResult, why: Why<'a>) -> Self {
        Verdict {
            result,
            why,
            domain: None,
        }
    }

    /// The `exp=` of the record that matched, for a fail.
    fn exp(&self) -> Option<&DomainSpec> {
        match &self.why {
            Why::Match { record, .. } if self.result == SpfResult::Fail => record.exp(),
            _ => None,
        }
    }

    /// Whether a directive of the record of the domain `check_host` was called with matched (not
    /// one of a `redirect=` target).
    fn is_own_match(&self) -> bool {
        matches!(self.why, Why::Match { .. }) && self.domain.is_none()
    }

    /// The public cause; `checked` gives the domain `check_host` was called with (not asked for
    /// a match).
    #[inline(always)]
    fn into_cause(self, checked: impl FnOnce() -> Arc<str>) -> Cause {
        // A match names its domain through its record; the others name the domain checked, or
        // the target of the `redirect=` that decided.
        let domain = || self.domain.map_or_else(checked, Arc::from);
        match self.why {
            Why::Match { record, term } => Cause::Match {
                record: record.into_arc(),
                term,
            },
            Why::NoMatch => Cause::NoMatch { domain: domain() },
            Why::NoRecord => Cause::NoRecord { domain: domain() },
            Why::InvalidDomain(error) => Cause::InvalidDomain {
                domain: domain(),
                error,
            },
        }
    }
}

/// What looking for a domain's record found.
enum Found<'a> {
    Record(RecordRef<'a>),
    /// The domain has no SPF record.
    None,
    /// The domain `check_host()` was called with is not a valid domain (RFC 7208 §4.3).
    InvalidDomain(NameError),
}

impl<'a> From<Option<RecordRef<'a>>> for Found<'a> {
    fn from(record: Option<RecordRef<'a>>) -> Self {
        record.map_or(Found::None, Found::Record)
    }
}

/// A record in hand: borrowed from the record cache or this evaluation's answers, or parsed in this
/// run from an answer the resolver held in memory.
enum RecordRef<'a> {
    Shared(&'a Arc<DomainRecord>),
    Own(Arc<DomainRecord>),
}

impl RecordRef<'_> {
    fn into_arc(self) -> Arc<DomainRecord> {
        match self {
            RecordRef::Shared(record) => Arc::clone(record),
            RecordRef::Own(record) => record,
        }
    }
}

impl std::ops::Deref for RecordRef<'_> {
    type Target = Record;
    fn deref(&self) -> &Record {
        match self {
            RecordRef::Shared(record) => record.record(),
            RecordRef::Own(record) => record.record(),
        }
    }
}

/// The answer to a lookup of `$name`, as a `LookupResult<Cow<[T]>>` borrowed from where the answer
/// is kept when it can be.
///
/// On the first run: from the resolver's memory (`$now`), else NXDOMAIN without a query when the
/// name cannot be sent ([`fits_dns`]: macros can build such names, and RFC 7208 gives them no
/// result of their own), else the run stops to await it (`Query::$query`). (Memory is asked first:
/// it answers such a name NXDOMAIN too, see [answers held in
/// memory](Resolver#answers-held-in-memory).)
///
/// On the awaited path: the answer this evaluation used before (`memo.$map`, or `Kept::$query` of
/// this run) comes first, so that every run sees the same one; then the same sources as above, an
/// answer from memory being kept (see [`Memo`]).
macro_rules! answer {
    ($self:ident, $now:ident, $map:ident, $query:ident, $name:expr) => {{
        let (resolver, name): (_, &str) = ($self.resolver, $name);
        match $self.memo {
            None => match resolver.$now(name) {
                Some(answer) => answer,
                None if !fits_dns(name) => Err(LookupError::NxDomain),
                None => return Err(Stop::Need(Query::$query(name.to_owned()))),
            },
            Some(memo) => match memo.$map.get(name) {
                Some(answer) => answer.as_deref().map(Cow::Borrowed).map_err(Clone::clone),
                None => {
                    let kept = $self.kept.iter().find_map(|kept| match kept {
                        Kept::$query(n, answer) if n == name => Some(answer.clone()),
                        _ => None,
                    });
                    match kept {
                        Some(answer) => answer.map(Cow::Owned),
                        None => match resolver.$now(name) {
                            Some(answer) => {
                                let copy = answer.clone().map(Cow::into_owned);
                                $self.kept.push(Kept::$query(name.to_owned(), copy));
                                answer
                            }
                            None if !fits_dns(name) => Err(LookupError::NxDomain),
                            None => return Err(Stop::Need(Query::$query(name.to_owned()))),
                        },
                    }
                }
            },
        }
    }};
}

/// `$answer` (an [`answer!`] for `$n`, bound to `$name`), traced when tracing.
macro_rules! lookup {
    ($self:ident, $name:expr, $rtype:literal, |$n:ident| $answer:expr) => {{
        let $n: &str = $name;
        let result = $answer;
        if let Some(trace) = $self.trace.as_mut() {
            trace.push(
                $self.depth + 1,
                TraceEvent::Query {
                    rtype: $rtype,
                    name: $n.to_string(),
                    answer: result.summary(),
                },
            );
        }
        result
    }};
}

/// One run of an evaluation: the inputs, the answers at hand, counters and memoised PTR validation.
struct Evaluation<'a, R: ?Sized> {
    resolver: &'a R,
    config: &'a Config,
    default_explanation: Option<&'a MacroString>,
    cache: Option<&'a View<'a>>,
    /// The answers awaited so far, if any.
    memo: Option<&'a Memo>,
    inputs: &'a Inputs<'a>,
    /// `local_part@sender_domain` for `%{s}`, built the first time a macro needs it.
    sender: String,
    dns_lookups: u32,
    void_lookups: u32,
    /// The client's validated PTR names (RFC 7208 §5.5), once computed.
    validated: Option<Vec<String>>,
    /// The domain checked as the record cache holds it, when the run found it there as given and
    /// valid: then it was neither checked again nor needs copying for the output.
    name: Option<&'a Arc<str>>,
    /// Records parsed in this run from answers the resolver held in memory, for the record cache
    /// (written after the run: the run holds the cache's read lock).
    parsed: Vec<(String, Fetched)>,
    /// On the awaited path, the answers this run took from outside the memo, for the memo (see
    /// [`Memo`]); always empty on the first run.
    kept: &'a mut Vec<Kept>,
    /// When the run first needed the time (for cache expiry), read once.
    now: Option<cache::Time>,
    /// The trace, when [`Config::trace`] is on.
    trace: Option<Trace>,
    /// The nesting depth (for trace events and [`MAX_DEPTH`]). A full word: it is read right after
    /// the run's first write to it, and a narrow field would be read with a wider load than the
    /// write (the load stalls).
    depth: u32,
}

impl<'a, R: Resolver + ?Sized> Evaluation<'a, R> {
    /// Evaluates `domain` and, on fail, builds the explanation.
    fn run(&mut self, domain: &str) -> Result<(Verdict<'a>, Option<String>), Stop> {
        let verdict = self.check_host(domain)?;
        let explanation = match verdict.result {
            SpfResult::Fail => {
                let exp_domain = verdict.domain.as_deref().unwrap_or(domain);
                Some(self.explain(verdict.exp(), exp_domain)?)
            }
            _ => None,
        };
        Ok((verdict, explanation))
    }

    /// `check_host()` of `domain`. A stop ends the run, so the depth is only restored on the way
    /// out of a verdict.
    fn check_host(&mut self, domain: &str) -> Result<Verdict<'a>, Stop> {
        self.note(|| TraceEvent::CheckHost {
            domain: domain.to_string(),
        });
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(SpfError::TooManyDnsLookups {
                limit: self.config.max_dns_lookups,
            }
            .into());
        }
        let verdict = self.evaluate_record(domain)?;
        self.depth -= 1;
        Ok(verdict)
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
            let matched = self.matches(&directive.mechanism, domain)?;
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
        let target = self.target(redirect, domain)?;
        self.depth += 1;
        let mut verdict = self.check_host(&target)?;
        self.depth -= 1;
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
        if let Some(trace) = self.trace.as_mut() {
            trace.push(self.depth, event());
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
    /// §4.3), checked before any lookup; one the cache holds as given was checked when cached.
    fn record(&mut self, domain: &str) -> Result<Found<'a>, Stop> {
        let memo = self.memo;
        if let Some(used) = memo.and_then(|memo| memo.records.get(domain)) {
            if self.depth == 1 {
                match &used.name {
                    Some(name) => self.name = Some(name),
                    None => {
                        if let Err(error) = check_domain(domain) {
                            return Ok(Found::InvalidDomain(error));
                        }
                    }
                }
            }
            let fetched = used.fetched.as_ref().map(Cow::Borrowed);
            return self.found(
                domain,
                fetched.map_err(Clone::clone),
                used.summary.as_deref(),
            );
        }
        let hit = match self.cache {
            Some(cache) => cache.get(domain, *self.now.get_or_insert_with(cache::now)),
            None => None,
        };
        if self.depth == 1 {
            match hit.as_ref().and_then(|hit| hit.name) {
                Some(name) => self.name = Some(name),
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
        let Some(answer) = self.resolver.lookup_txt_now(domain) else {
            return Err(Stop::Need(Query::Record(domain.to_owned())));
        };
        let summary = match self.trace {
            Some(_) => Cow::Owned(answer.summary()),
            None => Cow::Borrowed(""),
        };
        let fetched = match answer {
            Ok(txts) => Ok(select_record(domain, &txts)),
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
        if let (Some(trace), Some(summary)) = (self.trace.as_mut(), summary) {
            trace.push(
                self.depth,
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
                let result = lookup!(self, &target, "MX", |n| {
                    answer!(self, lookup_mx_now, mx, Mx, n)
                });
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
                // are at most `max_mx_names` hosts.
                let mut previous: Option<(u16, usize)> = None;
                for _ in 0..count {
                    let Some((i, mx)) = hosts()
                        .filter(|(i, mx)| previous.is_none_or(|p| (mx.preference, *i) > p))
                        .min_by_key(|(i, mx)| (mx.preference, *i))
                    else {
                        break;
                    };
                    previous = Some((mx.preference, i));
                    let count_void = self.config.count_mx_address_voids;
                    if self.has_address(&mx.exchange, *cidr, count_void)? {
                        return Ok(true);
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
                let result = lookup!(self, &target, "A", |n| {
                    answer!(self, lookup_a_now, a, A, n)
                });
                Ok(!self.answers(&target, result)?.is_empty())
            }
            Mechanism::Include(spec) => {
                let target = self.target(spec, domain)?;
                self.depth += 1;
                let verdict = self.check_host(&target)?;
                self.depth -= 1;
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
                let result = lookup!(self, name, "A", |n| answer!(self, lookup_a_now, a, A, n));
                let addrs = self.addresses(name, result, count_void)?;
                let prefix = cidr.v4.unwrap_or(32);
                addrs
                    .iter()
                    .any(|a| in_prefix(u32::from(ip).into(), u32::from(*a).into(), 32, prefix))
            }
            IpAddr::V6(ip) => {
                let result = lookup!(self, name, "AAAA", |n| {
                    answer!(self, lookup_aaaa_now, aaaa, Aaaa, n)
                });
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

    /// The client's validated domain names (RFC 7208 §5.5): PTR names (at most `max_ptr_names`) whose
    /// addresses include the client. DNS errors only skip names, as §5.5 says.
    fn validated_names(&mut self) -> Result<&[String], Stop> {
        if self.validated.is_none() {
            let ip = self.inputs.ip;
            // As `answer!` does for names.
            let ptr = match self.memo {
                None => match self.resolver.lookup_ptr_now(ip) {
                    Some(ptr) => ptr,
                    None => return Err(Stop::Need(Query::Ptr)),
                },
                Some(memo) => match &memo.ptr {
                    Some(ptr) => ptr.as_deref().map(Cow::Borrowed).map_err(Clone::clone),
                    None => match self.resolver.lookup_ptr_now(ip) {
                        Some(ptr) => {
                            self.kept.push(Kept::Ptr(ptr.clone().map(Cow::into_owned)));
                            ptr
                        }
                        None => return Err(Stop::Need(Query::Ptr)),
                    },
                },
            };
            if let Some(trace) = self.trace.as_mut() {
                trace.push(
                    self.depth + 1,
                    TraceEvent::Query {
                        rtype: "PTR",
                        name: crate::dns::reverse_name(self.inputs.ip),
                        answer: ptr.summary(),
                    },
                );
            }
            let mut validated = Vec::new();
            if let Ok(names) = ptr {
                for name in names.iter().take(self.config.max_ptr_names) {
                    let name = normalize(name);
                    let found = match self.inputs.ip {
                        IpAddr::V4(ip) => {
                            lookup!(self, &name, "A", |n| answer!(self, lookup_a_now, a, A, n))
                                .is_ok_and(|v| v.contains(&ip))
                        }
                        IpAddr::V6(ip) => lookup!(self, &name, "AAAA", |n| {
                            answer!(self, lookup_aaaa_now, aaaa, Aaaa, n)
                        })
                        .is_ok_and(|v| v.contains(&ip)),
                    };
                    if found {
                        validated.push(name.into_owned());
                    }
                }
            }
            self.validated = Some(validated);
        }
        Ok(self.validated.as_deref().unwrap_or_default())
    }

    /// `%{p}` for `domain`: a validated name equal to it, else one below it, else any (RFC 7208 §7.3);
    /// `None` (`unknown`) when there is none.
    fn validated_name_for(&self, domain: &str) -> Option<&str> {
        let names = self.validated.as_deref()?;
        names
            .iter()
            .find(|n| same(n, domain))
            .or_else(|| names.iter().find(|n| is_within(n, domain)))
            .or_else(|| names.first())
            .map(String::as_str)
    }

    /// The macro values for expanding `spec` in `domain`. Builds `%{s}` and the validated names for
    /// `%{p}` first if `spec` needs them and they are not built; reads the clock only for `%{t}`.
    fn context<'c>(
        &'c mut self,
        spec: &MacroString,
        domain: &'c str,
    ) -> Result<MacroContext<'c>, Stop> {
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
        let Ok(txts) = lookup!(self, &target, "TXT", |n| answer!(
            self,
            lookup_txt_now,
            texts,
            Text,
            n
        )) else {
            return Ok(None);
        };
        let [txt] = &*txts else { return Ok(None) };
        let Ok(text) = String::from_utf8(txt.joined()) else {
            return Ok(None);
        };
        if !text.is_ascii() {
            return Ok(None);
        }
        let Ok(ms) = parse_explanation(&text) else {
            return Ok(None);
        };
        let ctx = self.context(&ms, domain)?;
        let mut out = String::with_capacity(explanation_capacity(&ms, ctx.sender));
        ms.expand(&ctx, &mut out);
        Ok(Some(out))
    }
}

/// Picks the one `v=spf1` record among TXT records and parses it (RFC 7208 §4.5).
fn select_record(domain: &str, txts: &[TxtRecord]) -> Fetched {
    let syntax = |error| {
        Fetched::Invalid(SpfError::Syntax {
            domain: domain.to_string(),
            error,
        })
    };
    let mut found = None;
    for txt in txts {
        let text = txt.joined();
        if is_spf1(&text) && found.replace(text).is_some() {
            return Fetched::Invalid(SpfError::MultipleRecords {
                domain: domain.to_string(),
            });
        }
    }
    let Some(text) = found else {
        return Fetched::NoRecord;
    };
    match String::from_utf8(text) {
        Ok(text) => match text.parse::<Record>() {
            Ok(mut record) => {
                record.shrink_to_fit();
                Fetched::Record(Arc::new(DomainRecord::new(domain, record)))
            }
            Err(e) => syntax(e),
        },
        Err(e) => syntax(super::ParseError {
            offset: e.utf8_error().valid_up_to(),
            term: String::new(),
            kind: super::ParseErrorKind::InvalidChar,
        }),
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

fn dns_error(name: &str, error: LookupError) -> SpfError {
    SpfError::Dns {
        name: name.to_string(),
        error,
    }
}

/// Whether `ip` is in `net/prefix` for addresses of `bits` bits (held in a u128). `/0` matches all.
#[inline]
fn in_prefix(ip: u128, net: u128, bits: u32, prefix: u8) -> bool {
    let prefix = u32::from(prefix).min(bits);
    if prefix == 0 {
        return true;
    }
    let shift = bits - prefix;
    (ip >> shift) == (net >> shift)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dns::ZoneResolver;

    #[test]
    fn each_lookup_is_made_once_from_memory() {
        let zone: ZoneResolver = r#"
            example.com      TXT "v=spf1 mx include:_spf.example.com ptr -all"
            example.com      MX  10 mx.example.com
            mx.example.com   A   192.0.2.10
            _spf.example.com TXT "v=spf1 a:h.example.com -all"
            h.example.com    A   192.0.2.20
            192.0.2.99       PTR host.example.com
            host.example.com A   192.0.2.99
        "#
        .parse()
        .unwrap();
        let spf = Verifier::new(&zone);
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let out = rt.block_on(spf.check_mail_from(
            "192.0.2.99".parse().unwrap(),
            "h.example",
            "x@example.com",
        ));
        assert_eq!(out.result, SpfResult::Pass);
        assert_eq!(out.matched().unwrap().to_string(), "ptr");
        // TXT, MX, A mx, TXT _spf, A h, PTR, A host: one run, nothing asked twice.
        assert_eq!(zone.query_count(), 7);

        // Every answer awaited: eight runs (one per answer, and the last), the same queries.
        let mut awaited = zone.clone();
        awaited.set_awaited_only(true);
        let spf = Verifier::new(&awaited);
        let again = rt.block_on(spf.check_mail_from(
            "192.0.2.99".parse().unwrap(),
            "h.example",
            "x@example.com",
        ));
        assert_eq!(again, out);
        assert_eq!(awaited.query_count(), 7);
    }

    /// A resolver holding `top.example`'s record in memory, in a new version each time it is read
    /// (up to version 3), as a caching resolver whose entry expires and is refreshed between runs;
    /// everything else is awaited from `zone`.
    struct Changing {
        zone: ZoneResolver,
        reads: std::sync::atomic::AtomicU32,
    }

    #[async_trait::async_trait]
    impl Resolver for Changing {
        async fn lookup_txt(&self, name: &str) -> LookupResult<Vec<TxtRecord>> {
            self.zone.lookup_txt(name).await
        }
        async fn lookup_a(&self, name: &str) -> LookupResult<Vec<Ipv4Addr>> {
            self.zone.lookup_a(name).await
        }
        async fn lookup_aaaa(&self, name: &str) -> LookupResult<Vec<Ipv6Addr>> {
            self.zone.lookup_aaaa(name).await
        }
        async fn lookup_mx(&self, name: &str) -> LookupResult<Vec<Mx>> {
            self.zone.lookup_mx(name).await
        }
        async fn lookup_ptr(&self, ip: IpAddr) -> LookupResult<Vec<String>> {
            self.zone.lookup_ptr(ip).await
        }
        fn lookup_txt_now(&self, name: &str) -> Option<LookupResult<Cow<'_, [TxtRecord]>>> {
            use std::sync::atomic::Ordering;
            if name != "top.example" {
                return None;
            }
            let v = self.reads.fetch_add(1, Ordering::Relaxed).min(3);
            let terms: Vec<String> = (0..10).map(|i| format!("mx:m{i}.v{v}.example")).collect();
            let text = format!("v=spf1 {} -all", terms.join(" "));
            Some(Ok(Cow::Owned(vec![TxtRecord::from_text(&text)])))
        }
    }

    #[test]
    fn answers_from_memory_are_kept_for_the_evaluation() {
        let mut zone = String::new();
        for v in 0..4 {
            for i in 0..10 {
                zone.push_str(&format!("m{i}.v{v}.example MX 10 h.m{i}.v{v}.example\n"));
                zone.push_str(&format!("h.m{i}.v{v}.example A 198.51.100.1\n"));
            }
        }
        let mut zone: ZoneResolver = zone.parse().unwrap();
        zone.set_awaited_only(true);
        let resolver = Changing {
            zone,
            reads: Default::default(),
        };
        let spf = Verifier::new(&resolver);
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let out = rt.block_on(spf.check_mail_from(
            "192.0.2.1".parse().unwrap(),
            "h.example",
            "a@top.example",
        ));
        assert_eq!(out.result, SpfResult::Fail);
        assert_eq!(out.dns_lookups, 10);
        // One version followed from the first query on: 10 MX and 10 A lookups, none of another
        // version's names.
        assert_eq!(resolver.zone.query_count(), 20);
    }

    #[test]
    fn long_local_parts_are_cut_for_macros() {
        let zone: ZoneResolver = r#"
            example.com     TXT "v=spf1 -all exp=exp.example.com"
            exp.example.com TXT "%{l}"
        "#
        .parse()
        .unwrap();
        let spf = Verifier::new(&zone);
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let ip: IpAddr = "192.0.2.1".parse().unwrap();
        let explain = |local: &str| {
            let out =
                rt.block_on(spf.check_mail_from(ip, "h.example", &format!("{local}@example.com")));
            assert_eq!(out.result, SpfResult::Fail);
            out.explanation.unwrap()
        };
        let at_most = "a".repeat(MAX_LOCAL_PART_LEN);
        assert_eq!(explain(&at_most), at_most);
        // Cut at a character boundary: the two-byte `é` would end past the cap.
        let long = "a".repeat(MAX_LOCAL_PART_LEN - 1) + "é" + &"b".repeat(1000);
        assert_eq!(explain(&long), "a".repeat(MAX_LOCAL_PART_LEN - 1));
    }

    #[test]
    fn an_unclosed_path_is_checked_for_the_domain_after_its_last_at() {
        let zone: ZoneResolver = r#"example.com TXT "v=spf1 -all exp=%{l}.x""#.parse().unwrap();
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let out = rt.block_on(Verifier::new(&zone).check_mail_from(
            "192.0.2.1".parse().unwrap(),
            "h.example",
            "<a@example.com",
        ));
        assert_eq!(out.result, SpfResult::Fail);
        assert_eq!(out.domain(), "example.com");
    }

    #[test]
    fn a_long_helo_is_cut_for_the_macros() {
        let zone: ZoneResolver = r#"
            example.com     TXT "v=spf1 -all exp=exp.example.com"
            exp.example.com TXT "%{h}"
        "#
        .parse()
        .unwrap();
        let spf = Verifier::new(&zone);
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let ip: IpAddr = "192.0.2.1".parse().unwrap();
        let explain = |helo: &str| {
            let out = rt.block_on(spf.check_mail_from(ip, helo, "a@example.com"));
            assert_eq!(out.result, SpfResult::Fail);
            out.explanation.unwrap()
        };
        let at_most = "h.".repeat(MAX_HELO_LEN / 2);
        assert_eq!(explain(&at_most), at_most);
        let long = "h.".repeat(100_000);
        assert_eq!(explain(&long), long[..MAX_HELO_LEN]);
    }

    #[test]
    fn a_cached_domain_is_still_checked_as_the_domain_checked() {
        // `localhost` gets into the record cache as an include target (built by a macro); as the
        // domain checked it is still not a valid domain (single label): none, cached or not.
        let zone: ZoneResolver = r#"
            example.com TXT "v=spf1 include:%{l} -all"
            localhost   TXT "v=spf1 +all"
        "#
        .parse()
        .unwrap();
        let cache = Arc::new(RecordCache::new(10));
        let spf = Verifier::new(&zone).with_cache(cache.clone());
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let ip: IpAddr = "192.0.2.1".parse().unwrap();
        let out = rt.block_on(spf.check_mail_from(ip, "h.example", "localhost@example.com"));
        assert_eq!(out.result, SpfResult::Pass);
        assert_eq!(cache.len(), 2, "the include target is cached");
        for _ in 0..2 {
            let out = rt.block_on(spf.check_mail_from(ip, "h.example", "a@localhost"));
            assert_eq!(out.result, SpfResult::None);
            assert!(
                matches!(&out.cause, Cause::InvalidDomain { domain, error: NameError::SingleLabel } if &**domain == "localhost"),
                "{:?}",
                out.cause
            );
        }
        // With tracing, the invalid domain's trace shows the check and the result.
        let config = Config {
            trace: true,
            ..Config::default()
        };
        let traced = Verifier::with_config(&zone, config).with_cache(cache.clone());
        let invalid = rt.block_on(traced.check_mail_from(ip, "h.example", "a@localhost"));
        let trace = invalid.trace.expect("a trace").to_string();
        assert!(trace.contains("localhost"), "{trace}");
        // A valid cached domain as written whose own record matched is named through that
        // record, shared with the cache; the first output (before the cache) holds its own name.
        let sender = "localhost@example.com";
        let again = rt.block_on(spf.check_mail_from(ip, "h.example", sender));
        assert!(matches!(again.checked, Checked::OfMatch));
        assert!(matches!(out.checked, Checked::Name(_)));
        assert_eq!(again.domain(), "example.com");
        assert_eq!(again, out, "equal, the domain compared as text");
        assert_eq!(format!("{again:?}"), format!("{out:?}"));
        let upper = rt.block_on(spf.check_mail_from(ip, "h.example", "localhost@EXAMPLE.com"));
        assert_eq!(upper.domain(), "EXAMPLE.com", "the domain as given");
        assert!(matches!(upper.checked, Checked::Name(_)));
        assert_eq!(upper.result, SpfResult::Pass);
    }

    #[test]
    fn a_domain_decided_elsewhere_keeps_its_own_name() {
        // Decided by a `redirect=` target's record, or by no match: the output names the domain
        // checked itself, never the record that decided.
        let zone: ZoneResolver = r#"
            example.com     TXT "v=spf1 redirect=_spf.example.net"
            _spf.example.net TXT "v=spf1 ip4:192.0.2.0/24 -all"
            plain.example   TXT "v=spf1 ip4:198.51.100.1"
        "#
        .parse()
        .unwrap();
        let spf = Verifier::new(&zone).with_cache(Arc::new(RecordCache::new(10)));
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let ip: IpAddr = "192.0.2.1".parse().unwrap();
        for _ in 0..2 {
            let out = rt.block_on(spf.check_mail_from(ip, "h.example", "a@example.com"));
            assert_eq!(out.result, SpfResult::Pass);
            assert_eq!(out.domain(), "example.com");
            assert!(
                matches!(&out.cause, Cause::Match { record, .. } if record.domain() == "_spf.example.net")
            );
            let out = rt.block_on(spf.check_mail_from(ip, "h.example", "a@plain.example"));
            assert_eq!(out.result, SpfResult::Neutral);
            assert_eq!(out.domain(), "plain.example");
        }
    }

    #[test]
    fn names_that_cannot_be_queried_are_nxdomain_on_both_paths() {
        // The zone holds a name with an empty label, which DNS could never serve: `a:` of it is a
        // void lookup, from memory as when awaited, and is not counted as a query.
        let zone: ZoneResolver = r#"
            example.com        TXT "v=spf1 a:bad..example.com ~all"
            bad..example.com   A   192.0.2.1
        "#
        .parse()
        .unwrap();
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let ip: IpAddr = "192.0.2.1".parse().unwrap();
        let out =
            rt.block_on(Verifier::new(&zone).check_mail_from(ip, "h.example", "a@example.com"));
        assert_eq!(out.result, SpfResult::Softfail);
        assert_eq!(out.void_lookups, 1);
        assert_eq!(zone.query_count(), 1, "only the TXT record was queried");
        let mut awaited = zone.clone();
        awaited.set_awaited_only(true);
        let again =
            rt.block_on(Verifier::new(&awaited).check_mail_from(ip, "h.example", "a@example.com"));
        assert_eq!(again, out);
        assert_eq!(awaited.query_count(), 1);
    }

    #[test]
    fn fetched_records_keep_no_spare_room() {
        let text = format!("v=spf1 {} -all", "ip4:192.0.2.0/24 ".repeat(12));
        let parsed: Record = text.parse().unwrap();
        assert!(parsed.spare_capacity() > 0, "the parser reserves by length");
        let Fetched::Record(record) = select_record("example.com", &[TxtRecord::from_text(&text)])
        else {
            panic!("a record");
        };
        assert_eq!(record.record().terms().len(), 13);
        assert_eq!(record.record().spare_capacity(), 0);
    }

    #[test]
    fn a_failed_record_lookup_is_traced() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        for awaited in [false, true] {
            let mut zone: ZoneResolver = "slow.example TIMEOUT TXT".parse().unwrap();
            zone.set_awaited_only(awaited);
            let config = Config {
                trace: true,
                ..Config::default()
            };
            let spf = Verifier::with_config(&zone, config);
            let out = rt.block_on(spf.check_mail_from(
                "192.0.2.1".parse().unwrap(),
                "h.example",
                "x@slow.example",
            ));
            assert_eq!(out.result, SpfResult::Temperror);
            let trace = out.trace.unwrap().to_string();
            assert!(
                trace.contains("TXT slow.example -> DNS query timed out"),
                "awaited {awaited}: {trace}"
            );
        }
    }

    #[test]
    fn nesting_is_bounded_even_without_a_lookup_limit() {
        let zone: ZoneResolver = r#"
            a.example TXT "v=spf1 include:b.example -all"
            b.example TXT "v=spf1 redirect=a.example"
        "#
        .parse()
        .unwrap();
        let config = Config {
            max_dns_lookups: u32::MAX,
            ..Config::default()
        };
        let spf = Verifier::with_config(&zone, config);
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let out = rt.block_on(spf.check_host(
            "192.0.2.1".parse().unwrap(),
            "a.example",
            "x",
            "h.example",
            Identity::MailFrom,
        ));
        assert_eq!(out.result, SpfResult::Permerror);
        assert!(matches!(
            out.error(),
            Some(SpfError::TooManyDnsLookups { .. })
        ));
        // Two levels of nesting per include/redirect pair: stopped at the depth bound.
        assert_eq!(out.dns_lookups, MAX_DEPTH / 2);
        // Answered from memory: one record lookup per level, none beyond the bound.
        assert_eq!(zone.query_count(), out.dns_lookups as usize);
    }

    #[test]
    fn prefixes() {
        let v4 = |s: &str| u128::from(u32::from(s.parse::<std::net::Ipv4Addr>().unwrap()));
        assert!(in_prefix(v4("192.0.2.1"), v4("192.0.2.0"), 32, 24));
        assert!(!in_prefix(v4("192.0.3.1"), v4("192.0.2.0"), 32, 24));
        assert!(in_prefix(v4("1.2.3.4"), v4("9.9.9.9"), 32, 0));
        assert!(in_prefix(v4("1.2.3.4"), v4("1.2.3.4"), 32, 32));
        assert!(!in_prefix(v4("1.2.3.5"), v4("1.2.3.4"), 32, 32));
        let v6 = |s: &str| u128::from(s.parse::<std::net::Ipv6Addr>().unwrap());
        assert!(in_prefix(v6("2001:db8::1"), v6("::"), 128, 0));
        assert!(in_prefix(v6("2001:db8::1"), v6("2001:db8::"), 128, 32));
        assert!(!in_prefix(v6("2001:db9::1"), v6("2001:db8::"), 128, 32));
        assert!(in_prefix(v6("2001:db8::1"), v6("2001:db8::1"), 128, 128));
    }
}
