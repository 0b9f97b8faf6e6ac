//! [`Verifier`]: the public entry points of an SPF check, and how an evaluation goes on when it has
//! to wait for DNS (the runs themselves are in [`super::eval`]).

use super::Config;
use super::cache::RecordCache;
use super::eval::{Evaluation, Inputs, Stop};
use super::memo::{InFlight, Kept, Memo, Pending};
use super::parse::parse_explanation;
use super::record::MacroString;
use super::result::{Cause, Identity, SpfError, SpfOutput, SpfResult};
use super::trace::Trace;
use crate::dns::{LazyView, Resolver};
use std::net::IpAddr;
use std::pin::pin;
use std::sync::Arc;

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
/// [`RecordCache`], answers from the resolver's [`AnswerCache`](crate::dns::AnswerCache) ([`Resolver::answer_cache`]) or its
/// memory ([`Resolver::lookup_a_now`] and friends), and answers already awaited for this
/// evaluation. The first run is plain code, before anything is awaited: a check answered from the
/// caches is that one run. When a run needs an answer it does not have, the evaluation awaits it
/// and runs again from the start over the answers it now has.
///
/// With [`Config::prefetch`] (the default), a run that misses an answer does not stop there: it
/// goes on as if that term had not matched and names every other lookup it meets (the remaining
/// terms of the records at hand, the addresses of MX hosts it knows, the records of `include:`
/// targets), and the evaluation sends them all at once. Over real DNS the wall time then follows
/// the depth of the include tree rather than the number of lookups, and an evaluation makes about
/// as many runs as round trips. The cost: when an early term matches, lookups for later terms were
/// sent for nothing. Speculative lookups never take the evaluation past its bound on lookups (see
/// below): they are sent only while room is left for every lookup the evaluation may still need.
///
/// Once an evaluation waits, it sees one consistent view of DNS: every answer a run takes from the
/// caches or the resolver's memory is kept with the awaited ones, and later runs read the kept
/// answer first, even if the cache entry expired or was replaced meanwhile (by another verifier
/// sharing the cache). So each run follows the path of the one before it, and the lookups sent
/// stay within the bound of one evaluation: `1 + T·(1 + M) + (1 + P) + 1` (its record, `T` DNS
/// terms each with up to `M` MX address lookups, the validated PTR names, `exp=`; 123 with the
/// defaults), speculative ones included.
///
/// A run goes on as soon as the answer it waits for has come: speculative lookups still out stay
/// out (their answers are kept when they come), so a speculative lookup that never gets an answer
/// does not hold up the verdict. When the time limit ends a waiting evaluation, the output's
/// counters and trace are those of its last run, which may have gone past a missing answer.
///
/// An evaluation answered from memory runs once, with no boxed recursion and no copy of an
/// answer, and, with the record cache, without allocating: the domain checked is validated once,
/// when it is cached, and the output shares the cached record. The same name and type is never
/// asked of the network twice in one evaluation.
///
/// # Memory
/// An evaluation in flight is one future of 88 bytes plus the strings of its output. Once it
/// has to await an answer it also holds a boxed state of about 1 KB and the answers used so
/// far, awaited or kept (bounded by the lookup limits: at most about 125 names with their
/// records). Nested `include:` and `redirect=` use stack, not heap, and nest at most 32 deep. Names
/// built by macros are written into a buffer of 320 bytes that each thread keeps once it has
/// expanded one; explanations are at most [`MAX_EXPLANATION_LEN`](super::MAX_EXPLANATION_LEN) bytes. A cached record's cost is
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
    ///
    /// The argument is read when this is called; the returned future is `check_host`'s own (no
    /// wrapper around it to move into place).
    pub fn check_mail_from<'a>(
        &'a self,
        ip: IpAddr,
        helo: &'a str,
        mail_from: &'a str,
    ) -> impl Future<Output = SpfOutput> + 'a {
        let mail_from = crate::envelope::sender(mail_from);
        let at = mail_from.bytes().rposition(|b| b == b'@');
        let (local, domain) = match at {
            _ if mail_from.is_empty() => ("", helo),
            Some(at) => (&mail_from[..at], &mail_from[at + 1..]),
            None => ("", mail_from),
        };
        self.check_host(ip, domain, local, helo, Identity::MailFrom)
    }

    /// Checks the HELO identity (RFC 7208 §2.3): `check_host()` with `postmaster@<helo>` as the
    /// sender. An address literal or a single-label name gives `none`.
    ///
    /// The returned future is `check_host`'s own (no wrapper around it to move into place).
    pub fn check_helo<'a>(
        &'a self,
        ip: IpAddr,
        helo: &'a str,
    ) -> impl Future<Output = SpfOutput> + 'a {
        self.check_host(ip, helo, "", helo, Identity::Helo)
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
        // A first run over the answers at hand, as plain code: from memory it is the only one.
        // Otherwise the evaluation goes on in `awaited`, boxed: only an evaluation that waits for
        // DNS carries its state, and what this future holds across the await is the box (callers
        // build this future on their stack and move it into place: a small future is a short
        // copy). So the first run's state is scoped to end before the await.
        {
            let inputs = Inputs::new(ip, domain, local_part, helo);
            let mut last = RunState::default();
            match self.run(&inputs, None, &mut last, &mut Vec::new(), None) {
                Ok(()) => return output(last, None, &inputs, identity),
                Err(Stop::Error(e)) => return output(last, Some(e), &inputs, identity),
                Err(Stop::Need) => {}
            }
        }
        // Built again rather than kept from the first run (a few instructions, on this path only):
        // kept, the inputs would be held across the await.
        let inputs = Inputs::new(ip, domain, local_part, helo);
        Box::pin(self.awaited(inputs, identity)).await
    }

    /// An evaluation whose first run needed an answer, under the time limit. The first run kept
    /// nothing it read (so it does not allocate) and named no lookup: the awaited path starts with
    /// a run that keeps what it reads, and every lookup sent is one that its consistent runs name.
    async fn awaited(&self, inputs: Inputs<'_>, identity: Identity) -> SpfOutput {
        let mut last = RunState::default();
        let error = {
            // Pinned here and given to `within` by reference, so that the evaluation's state is
            // not held twice (once as `within`'s argument, once pinned in it).
            let work = pin!(self.evaluate(&inputs, &mut last));
            match crate::deadline::within(self.config.timeout, work).await {
                Some(Ok(())) => None,
                Some(Err(e)) => Some(e),
                None => Some(SpfError::Timeout),
            }
        };
        output(last, error, &inputs, identity)
    }

    /// Goes on with an evaluation whose first run needed an answer: runs it again keeping every
    /// answer it reads and naming the lookups it misses, sends them, keeps the answers, and runs
    /// again, until a run completes with every answer at hand (see [How an evaluation
    /// runs](Verifier)). `last` holds the counters and trace of the latest run, also when the time
    /// limit ends the work.
    async fn evaluate(&self, inputs: &Inputs<'_>, last: &mut RunState) -> Result<(), SpfError> {
        // The answers used so far (this future is boxed: they do not weigh on the caller's).
        let mut memo = Memo::default();
        let mut kept = Vec::new();
        let mut pending = Pending {
            prefetch: self.config.prefetch,
            ..Pending::default()
        };
        let mut flying = InFlight::new();
        loop {
            let step = self.run(inputs, Some(&memo), last, &mut kept, Some(&mut pending));
            memo.keep(&mut kept);
            match step {
                Ok(()) => return Ok(()),
                Err(Stop::Error(e)) => return Err(e),
                Err(Stop::Need) => {
                    let (resolver, cache) = (&self.resolver, self.cache.as_deref());
                    let (config, ip) = (&self.config, inputs.ip);
                    memo.fetch(resolver, cache, config, ip, &mut pending, &mut flying)
                        .await
                }
            }
        }
    }

    /// One run of the evaluation over the answers at hand: the record cache and the answer cache
    /// (each under one read lock, released before returning), the resolver's memory and `memo`.
    /// Leaves its counters, trace and, when it completes, the outcome in `last`; records it parsed
    /// go into the cache afterwards. On the awaited path (`memo` and `pending` given), the answers
    /// it took from elsewhere are left in `kept` and the lookups it missed in `pending`; a run that
    /// missed one never completes.
    #[inline(always)]
    fn run(
        &self,
        inputs: &Inputs<'_>,
        memo: Option<&Memo>,
        last: &mut RunState,
        kept: &mut Vec<Kept>,
        pending: Option<&mut Pending>,
    ) -> Result<(), Stop> {
        let view = self.cache.as_deref().map(RecordCache::view);
        let answers = LazyView::new(self.resolver.answer_cache());
        let mut eval = Evaluation::new(
            &self.resolver,
            &self.config,
            self.default_explanation.as_ref(),
            view.as_ref(),
            &answers,
            memo,
            inputs,
            kept,
            pending,
        );
        let mut step = eval.run(inputs.sender_domain);
        if eval.missed() {
            step = Err(Stop::Need);
        }
        last.dns_lookups = eval.dns_lookups;
        last.void_lookups = eval.void_lookups;
        let step = step.map(|(verdict, explanation)| {
            last.result = verdict.result;
            let name = match eval.name {
                Some(name) => Arc::clone(name),
                None => Arc::from(inputs.sender_domain),
            };
            last.cause = Some(verdict.into_cause(|| Arc::clone(&name)));
            last.checked = Some(name);
            last.explanation = explanation;
        });
        let (trace, parsed) = eval.finish();
        last.trace = trace;
        drop(view);
        drop(answers);
        if let Some(cache) = self.cache.as_deref() {
            for (domain, fetched) in parsed {
                cache.insert(&domain, fetched, None, crate::ttl::now());
            }
        }
        step
    }
}

/// What a run leaves for the output: its counters, its trace and, at the end, the outcome.
pub(super) struct RunState {
    dns_lookups: u32,
    void_lookups: u32,
    trace: Option<Box<Trace>>,
    /// The domain checked, the result, explanation and cause, when the evaluation completed (kept
    /// field by field: an outcome tuple was built on the stack and copied, a copy that stalled).
    checked: Option<Arc<str>>,
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

/// The output of an evaluation: the outcome of its last run, or `error` (a time limit that ended
/// the work before a run completed counts as a timeout).
#[inline(always)]
fn output(
    last: RunState,
    error: Option<SpfError>,
    inputs: &Inputs<'_>,
    identity: Identity,
) -> SpfOutput {
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
            (
                Arc::from(inputs.sender_domain),
                e.result(),
                None,
                Cause::Error(e),
            )
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

#[cfg(test)]
mod tests;
