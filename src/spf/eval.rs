//! `check_host()` (RFC 7208 §4-§6): record lookup, mechanism evaluation, limits and explanations.

use super::cache::{Fetched, RecordCache};
use super::macros::MacroContext;
use super::parse::{is_spf1, parse_explanation};
use super::record::{
    DualCidr, MacroLetter, MacroPart, MacroString, Mechanism, Qualifier, Record, Term,
};
use super::result::{Cause, Identity, SpfError, SpfOutput, SpfResult};
use super::trace::{Summary, Trace, TraceEvent};
use super::{Config, DomainSpec};
use crate::dns::{self, LookupError, LookupResult, Resolver, TxtAnswer, TxtRecord};
use crate::name::{check_domain, fits_dns, is_within, normalize, same, MAX_NAME_LEN};
use std::borrow::Cow;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

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

    /// Checks the MAIL FROM identity (RFC 7208 §2.4). An empty `mail_from` (the null reverse-path,
    /// `<>`) is checked as `postmaster@<helo>`; surrounding angle brackets are removed; a sender
    /// without a local part gets `postmaster`.
    pub async fn check_mail_from(&self, ip: IpAddr, helo: &str, mail_from: &str) -> SpfOutput {
        let mail_from = mail_from.trim();
        let mail_from = mail_from
            .strip_prefix('<')
            .and_then(|m| m.strip_suffix('>'))
            .unwrap_or(mail_from);
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
    pub async fn check_host(
        &self,
        ip: IpAddr,
        domain: &str,
        local_part: &str,
        helo: &str,
        identity: Identity,
    ) -> SpfOutput {
        let ip = crate::ip::canonical(ip);
        let domain = crate::name::strip_root(domain);
        let local_part = if local_part.is_empty() {
            "postmaster"
        } else {
            local_part
        };
        let mut eval = Evaluation {
            resolver: &self.resolver,
            config: &self.config,
            default_explanation: self.default_explanation.as_ref(),
            cache: self.cache.as_deref(),
            ip,
            sender: String::new(),
            local_part,
            sender_domain: domain,
            helo,
            dns_lookups: 0,
            void_lookups: 0,
            validated: None,
            now: None,
            trace: self
                .config
                .trace
                .then(|| Trace::new(self.config.max_dns_lookups, self.config.max_void_lookups)),
            depth: 0,
        };
        let checked: Arc<str> = Arc::from(domain);
        let (result, explanation, cause) = match check_domain(domain) {
            Err(error) => (
                SpfResult::None,
                None,
                Cause::InvalidDomain {
                    domain: checked.clone(),
                    error,
                },
            ),
            Ok(()) => {
                // Pinned where it is made: the evaluation future is large, and is not moved.
                let work = std::pin::pin!(eval.run(domain));
                let evaluated = crate::deadline::within(self.config.timeout, work)
                    .await
                    .unwrap_or(Err(SpfError::Timeout));
                match evaluated {
                    Ok((verdict, explanation)) => {
                        (verdict.result, explanation, verdict.into_cause(&checked))
                    }
                    Err(e) => (e.result(), None, Cause::Error(e)),
                }
            }
        };
        if let Some(trace) = eval.trace.as_mut() {
            if let Cause::Error(e) = &cause {
                trace.push(
                    0,
                    TraceEvent::Error {
                        error: e.to_string(),
                    },
                );
            }
            if let Some(text) = &explanation {
                trace.push(0, TraceEvent::Explanation { text: text.clone() });
            }
            trace.push(
                0,
                TraceEvent::Result {
                    result,
                    dns_lookups: eval.dns_lookups,
                    void_lookups: eval.void_lookups,
                },
            );
        }
        SpfOutput {
            result,
            identity,
            domain: checked,
            explanation,
            cause,
            dns_lookups: eval.dns_lookups,
            void_lookups: eval.void_lookups,
            trace: eval.trace,
        }
    }
}

/// The result of evaluating one record (never temperror/permerror: those are `Err`). Cheap to make:
/// an `include:` only needs the result, so the public [`Cause`] is built once, for the final verdict.
struct Verdict {
    result: SpfResult,
    why: Why,
    /// The domain of the record that decided, when it is not the one `check_host` was called with
    /// (the target of a `redirect=`).
    domain: Option<String>,
}

enum Why {
    /// `record.terms()[term]` matched.
    Match { record: Arc<Record>, term: usize },
    /// Nothing matched, and there was no `redirect=`.
    NoMatch,
    /// There was no record.
    NoRecord,
}

impl Verdict {
    fn new(result: SpfResult, why: Why) -> Self {
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

    /// The public cause; `domain` is the one `check_host` was called with.
    fn into_cause(self, domain: &Arc<str>) -> Cause {
        let domain = self.domain.map_or_else(|| domain.clone(), Arc::from);
        match self.why {
            Why::Match { record, term } => match &record.terms()[term] {
                Term::Directive(directive) => Cause::Match {
                    domain,
                    directive: directive.clone(),
                },
                Term::Modifier(_) => Cause::NoMatch { domain },
            },
            Why::NoMatch => Cause::NoMatch { domain },
            Why::NoRecord => Cause::NoRecord { domain },
        }
    }
}

/// `$query` (an expression awaiting a lookup of `$n`, bound to `$name`), answered NXDOMAIN without a
/// query when the name cannot be sent ([`fits_dns`]): macros can build such names, and RFC 7208 gives
/// them no result of their own. Traced when tracing.
macro_rules! lookup {
    ($self:ident, $name:expr, $rtype:literal, |$n:ident| $query:expr) => {{
        let $n: &str = $name;
        let result = if fits_dns($n) {
            $query
        } else {
            Err(LookupError::NxDomain)
        };
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

/// Whether an address of `$name` in the client's family is within `$cidr` of the client (`?` on
/// errors: temperror). Void answers count towards the void limit when `$count_void`. A macro, so
/// that an answer from memory costs no future.
macro_rules! has_address {
    ($self:ident, $name:expr, $cidr:expr, $count_void:expr) => {{
        let (name, cidr): (&str, DualCidr) = ($name, $cidr);
        match $self.ip {
            IpAddr::V4(ip) => {
                let resolver = $self.resolver;
                let result = lookup!($self, name, "A", |n| {
                    dns::ask!(resolver, lookup_a_now, lookup_a, n)
                });
                let addrs = $self.addresses(name, result, $count_void)?;
                let prefix = cidr.v4.unwrap_or(32);
                addrs
                    .iter()
                    .any(|a| in_prefix(u32::from(ip).into(), u32::from(*a).into(), 32, prefix))
            }
            IpAddr::V6(ip) => {
                let resolver = $self.resolver;
                let result = lookup!($self, name, "AAAA", |n| {
                    dns::ask!(resolver, lookup_aaaa_now, lookup_aaaa, n)
                });
                let addrs = $self.addresses(name, result, $count_void)?;
                let prefix = cidr.v6.unwrap_or(128);
                addrs
                    .iter()
                    .any(|a| in_prefix(u128::from(ip), u128::from(*a), 128, prefix))
            }
        }
    }};
}

/// `self.target(spec, domain)`, computing the client's validated names first when `spec` holds a
/// `%{p}` that needs them (rare: RFC 7208 §5.5 discourages it), so that the common case awaits nothing.
macro_rules! target {
    ($self:ident, $spec:expr, $domain:expr) => {{
        let spec: &DomainSpec = $spec;
        if $self.validated.is_none() && spec.uses(MacroLetter::ValidatedName) {
            Box::pin($self.validated_names()).await;
        }
        $self.target(spec, $domain)
    }};
}

/// The state of one evaluation: inputs, counters and memoised PTR validation.
struct Evaluation<'a, R: ?Sized> {
    resolver: &'a R,
    config: &'a Config,
    default_explanation: Option<&'a MacroString>,
    cache: Option<&'a RecordCache>,
    ip: IpAddr,
    /// `local_part@sender_domain` for `%{s}`, built the first time a macro needs it.
    sender: String,
    local_part: &'a str,
    sender_domain: &'a str,
    helo: &'a str,
    dns_lookups: u32,
    void_lookups: u32,
    /// The client's validated PTR names (RFC 7208 §5.5), once computed.
    validated: Option<Vec<String>>,
    /// When the evaluation first needed the time (for cache expiry), read once.
    now: Option<Instant>,
    /// The trace, when [`Config::trace`] is on.
    trace: Option<Trace>,
    /// The nesting depth for trace events.
    depth: u16,
}

impl<'a, R: Resolver + ?Sized> Evaluation<'a, R> {
    /// Evaluates `domain` and, on fail, builds the explanation.
    async fn run(&mut self, domain: &str) -> Result<(Verdict, Option<String>), SpfError> {
        let verdict = self.check_host(domain).await?;
        let explanation = match verdict.result {
            SpfResult::Fail => {
                let exp_domain = verdict.domain.as_deref().unwrap_or(domain);
                Some(Box::pin(self.explain(verdict.exp(), exp_domain)).await)
            }
            _ => None,
        };
        Ok((verdict, explanation))
    }

    async fn check_host(&mut self, domain: &str) -> Result<Verdict, SpfError> {
        self.note(|| TraceEvent::CheckHost {
            domain: domain.to_string(),
        });
        self.depth += 1;
        let verdict = self.evaluate_record(domain).await;
        self.depth -= 1;
        verdict
    }

    async fn evaluate_record(&mut self, domain: &str) -> Result<Verdict, SpfError> {
        let Some(record) = self.fetch_record(domain).await? else {
            self.note(|| TraceEvent::NoRecord);
            return Ok(Verdict::new(SpfResult::None, Why::NoRecord));
        };
        for (term, directive) in record.terms().iter().enumerate() {
            let Term::Directive(directive) = directive else {
                continue;
            };
            self.note(|| TraceEvent::Term {
                term: directive.to_string(),
            });
            let matched = match self.matches_address(&directive.mechanism) {
                Some(matched) => matched,
                None => self.matches(&directive.mechanism, domain).await?,
            };
            self.note_outcome(matched);
            if matched {
                let result = qualifier_result(directive.qualifier);
                return Ok(Verdict::new(result, Why::Match { record, term }));
            }
        }
        if let Some(redirect) = record.redirect() {
            self.note(|| TraceEvent::Term {
                term: format!("redirect={redirect}"),
            });
            self.count_dns_term()?;
            let target = target!(self, redirect, domain);
            self.depth += 1;
            let verdict = Box::pin(self.check_host(&target)).await;
            self.depth -= 1;
            let mut verdict = verdict?;
            if verdict.result == SpfResult::None {
                return Err(SpfError::NoRecordAtTarget {
                    domain: target.into_owned(),
                });
            }
            if verdict.domain.is_none() {
                verdict.domain = Some(target.into_owned());
            }
            return Ok(verdict);
        }
        Ok(Verdict::new(SpfResult::Neutral, Why::NoMatch))
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
    /// syntax error, temperror for DNS failures. Consults and fills the record cache.
    async fn fetch_record(&mut self, domain: &str) -> Result<Option<Arc<Record>>, SpfError> {
        let now = *self.now.get_or_insert_with(Instant::now);
        if let Some(fetched) = self.cache.and_then(|c| c.get(domain, now)) {
            self.note_record(&fetched, true);
            return fetched.into_result();
        }
        let answer = if fits_dns(domain) {
            self.resolver.lookup_txt_ttl(domain).await
        } else {
            TxtAnswer {
                result: Err(LookupError::NxDomain),
                ttl: None,
            }
        };
        if let Some(trace) = self.trace.as_mut() {
            trace.push(
                self.depth,
                TraceEvent::Query {
                    rtype: "TXT",
                    name: domain.to_string(),
                    answer: answer.result.summary(),
                },
            );
        }
        let fetched = match answer.result {
            Ok(txts) => select_record(domain, &txts),
            Err(e) if e.is_void() => Fetched::NoRecord,
            Err(e) => return Err(dns_error(domain, e)),
        };
        if let Some(cache) = self.cache {
            cache.insert(domain, fetched.clone(), answer.ttl, now);
        }
        self.note_record(&fetched, false);
        fetched.into_result()
    }

    fn note_record(&mut self, fetched: &Fetched, cached: bool) {
        if self.trace.is_some() {
            let event = match fetched {
                Fetched::Record(r) => TraceEvent::Record {
                    text: r.to_string(),
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

    /// Whether `all`, `ip4` or `ip6` matches (these query no DNS); `None` for other mechanisms.
    fn matches_address(&self, mechanism: &Mechanism) -> Option<bool> {
        Some(match (mechanism, self.ip) {
            (Mechanism::All, _) => true,
            (Mechanism::Ip4 { addr, prefix }, IpAddr::V4(ip)) => in_prefix(
                u32::from(ip).into(),
                u32::from(*addr).into(),
                32,
                prefix.unwrap_or(32),
            ),
            (Mechanism::Ip6 { addr, prefix }, IpAddr::V6(ip)) => in_prefix(
                u128::from(ip),
                u128::from(*addr),
                128,
                prefix.unwrap_or(128),
            ),
            (Mechanism::Ip4 { .. } | Mechanism::Ip6 { .. }, _) => false,
            _ => return None,
        })
    }

    /// Whether a mechanism that queries DNS matches (others: [`Evaluation::matches_address`]).
    async fn matches(&mut self, mechanism: &Mechanism, domain: &str) -> Result<bool, SpfError> {
        if let Some(matched) = self.matches_address(mechanism) {
            return Ok(matched);
        }
        self.count_dns_term()?;
        match mechanism {
            Mechanism::All | Mechanism::Ip4 { .. } | Mechanism::Ip6 { .. } => Ok(false),
            Mechanism::A { domain: spec, cidr } => {
                let target = match spec {
                    Some(spec) => target!(self, spec, domain),
                    None => Cow::Borrowed(domain),
                };
                Ok(has_address!(self, &target, *cidr, true))
            }
            Mechanism::Mx { domain: spec, cidr } => {
                let target = match spec {
                    Some(spec) => target!(self, spec, domain),
                    None => Cow::Borrowed(domain),
                };
                let resolver = self.resolver;
                let result = lookup!(self, &target, "MX", |n| {
                    dns::ask!(resolver, lookup_mx_now, lookup_mx, n)
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
                    });
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
                    if has_address!(self, &mx.exchange, *cidr, count_void) {
                        return Ok(true);
                    }
                }
                Ok(false)
            }
            Mechanism::Ptr(spec) => {
                let target = match spec {
                    Some(spec) => target!(self, spec, domain),
                    None => Cow::Borrowed(domain),
                };
                let names = Box::pin(self.validated_names()).await;
                Ok(names.iter().any(|n| is_within(n, &target)))
            }
            Mechanism::Exists(spec) => {
                let target = target!(self, spec, domain);
                let resolver = self.resolver;
                let result = lookup!(self, &target, "A", |n| {
                    dns::ask!(resolver, lookup_a_now, lookup_a, n)
                });
                Ok(!self.answers(&target, result)?.is_empty())
            }
            Mechanism::Include(spec) => {
                let target = target!(self, spec, domain);
                self.depth += 1;
                let verdict = Box::pin(self.check_host(&target)).await;
                self.depth -= 1;
                let verdict = verdict?;
                match verdict.result {
                    SpfResult::Pass => Ok(true),
                    SpfResult::None => Err(SpfError::NoRecordAtTarget {
                        domain: target.into_owned(),
                    }),
                    _ => Ok(false),
                }
            }
        }
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
    async fn validated_names(&mut self) -> &[String] {
        if self.validated.is_none() {
            let mut validated = Vec::new();
            let ptr = self.resolver.lookup_ptr(self.ip).await;
            if let Some(trace) = self.trace.as_mut() {
                trace.push(
                    self.depth + 1,
                    TraceEvent::Query {
                        rtype: "PTR",
                        name: crate::dns::reverse_name(self.ip),
                        answer: ptr.summary(),
                    },
                );
            }
            if let Ok(names) = ptr {
                for name in names.iter().take(self.config.max_ptr_names) {
                    let name = normalize(name);
                    let resolver = self.resolver;
                    let found = match self.ip {
                        IpAddr::V4(ip) => lookup!(self, &name, "A", |n| {
                            dns::ask!(resolver, lookup_a_now, lookup_a, n)
                        })
                        .is_ok_and(|v| v.contains(&ip)),
                        IpAddr::V6(ip) => lookup!(self, &name, "AAAA", |n| {
                            dns::ask!(resolver, lookup_aaaa_now, lookup_aaaa, n)
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
        self.validated.as_deref().unwrap_or_default()
    }

    /// `%{p}` for `domain`: a validated name equal to it, else one below it, else any (RFC 7208 §7.3);
    /// `None` (`unknown`) when there is none or they were not computed.
    fn validated_name_for(&self, domain: &str) -> Option<&str> {
        let names = self.validated.as_deref()?;
        names
            .iter()
            .find(|n| same(n, domain))
            .or_else(|| names.iter().find(|n| is_within(n, domain)))
            .or_else(|| names.first())
            .map(String::as_str)
    }

    /// Builds `%{s}` if `spec` needs it and it is not built yet.
    fn prepare_sender(&mut self, spec: &MacroString) {
        if self.sender.is_empty() && spec.uses(MacroLetter::Sender) {
            let mut sender =
                String::with_capacity(self.local_part.len() + 1 + self.sender_domain.len());
            sender.push_str(self.local_part);
            sender.push('@');
            sender.push_str(self.sender_domain);
            self.sender = sender;
        }
    }

    /// The macro values for `domain`. `%{t}` is only read from the clock for `spec`s that use it.
    fn context<'c>(
        &'c self,
        spec: &MacroString,
        domain: &'c str,
        validated_name: Option<&'c str>,
    ) -> MacroContext<'c> {
        let timestamp = match spec.uses(MacroLetter::Timestamp) {
            true => SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_secs()),
            false => 0,
        };
        MacroContext {
            sender: &self.sender,
            local_part: self.local_part,
            sender_domain: self.sender_domain,
            domain,
            ip: self.ip,
            helo: self.helo,
            validated_name,
            receiver: &self.config.receiver,
            timestamp,
        }
    }

    /// Expands a domain-spec into the name to query, truncated to 253 bytes (borrowed when the spec
    /// is a plain name). Names are not checked further: a name that cannot be queried is answered
    /// NXDOMAIN without a query (see `lookup!`). `%{p}` needs the validated names computed first
    /// (the `target!` macro does that).
    fn target<'s>(&mut self, spec: &'s DomainSpec, domain: &str) -> Cow<'s, str> {
        if let Some(name) = spec.as_literal() {
            if name.len() <= MAX_NAME_LEN && !name.ends_with('.') {
                return Cow::Borrowed(name);
            }
        }
        self.prepare_sender(spec);
        let p = self.validated_name_for(domain);
        let mut name = String::new();
        spec.expand_name(&self.context(spec, domain, p), &mut name);
        Cow::Owned(name)
    }

    /// The explanation for a fail (RFC 7208 §6.2): the `exp=` text when it can be fetched and parsed,
    /// otherwise the configured default.
    async fn explain(&mut self, exp: Option<&DomainSpec>, domain: &str) -> String {
        if let Some(spec) = exp {
            if let Some(text) = self.fetch_explanation(spec, domain).await {
                return text;
            }
        }
        match self.default_explanation {
            Some(ms) => {
                self.prepare_sender(ms);
                let mut out = String::with_capacity(explanation_capacity(ms, &self.sender));
                ms.expand(&self.context(ms, self.sender_domain, None), &mut out);
                out
            }
            None => self.config.default_explanation.clone(),
        }
    }

    async fn fetch_explanation(&mut self, spec: &DomainSpec, domain: &str) -> Option<String> {
        let target = target!(self, spec, domain);
        let resolver = self.resolver;
        let txts = lookup!(self, &target, "TXT", |n| resolver.lookup_txt(n).await).ok()?;
        let [txt] = txts.as_slice() else { return None };
        let text = String::from_utf8(txt.joined()).ok()?;
        if !text.is_ascii() {
            return None;
        }
        let ms = parse_explanation(&text).ok()?;
        self.prepare_sender(&ms);
        if self.validated.is_none() && ms.uses(MacroLetter::ValidatedName) {
            Box::pin(self.validated_names()).await;
        }
        let p = self.validated_name_for(domain);
        let mut out = String::with_capacity(explanation_capacity(&ms, &self.sender));
        ms.expand(&self.context(&ms, domain, p), &mut out);
        Some(out)
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
            Ok(record) => Fetched::Record(Arc::new(record)),
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
    fn into_result(self) -> Result<Option<Arc<Record>>, SpfError> {
        match self {
            Fetched::Record(r) => Ok(Some(r)),
            Fetched::NoRecord => Ok(None),
            Fetched::Invalid(e) => Err(e),
        }
    }
}

/// Room for an explanation's expansion, so that it is built without growing: its literal text plus
/// a sender-sized value per macro, tripled for URL escaping (an estimate: more is still correct).
fn explanation_capacity(ms: &MacroString, sender: &str) -> usize {
    let value = 3 * sender.len().max(40);
    ms.parts()
        .map(|part| match part {
            MacroPart::Literal(text) => text.len(),
            MacroPart::Macro(_) => value,
        })
        .sum()
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
