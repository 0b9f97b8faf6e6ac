//! What an SPF evaluation returns: the result, why, and what it cost.

use super::parse::ParseError;
use super::record::{Directive, DomainRecord, Term};
use crate::dns::LookupError;
use crate::name::NameError;
use std::fmt;
use std::sync::Arc;

/// An SPF result (RFC 7208 §2.6).
///
/// ```
/// use sender_identity::spf::SpfResult;
/// assert_eq!(SpfResult::Softfail.to_string(), "softfail");
/// assert_eq!("PermError".parse::<SpfResult>(), Ok(SpfResult::Permerror));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SpfResult {
    /// No usable domain, or no SPF record.
    None,
    /// The domain owner makes no assertion about the client.
    Neutral,
    /// The client is authorized.
    Pass,
    /// The client is not authorized.
    Fail,
    /// The client is probably not authorized.
    Softfail,
    /// A transient (usually DNS) error.
    Temperror,
    /// The domain's records are wrong and cannot be interpreted.
    Permerror,
}

impl SpfResult {
    /// The result's name as RFC 7208 writes it (lower-case).
    pub fn as_str(self) -> &'static str {
        match self {
            SpfResult::None => "none",
            SpfResult::Neutral => "neutral",
            SpfResult::Pass => "pass",
            SpfResult::Fail => "fail",
            SpfResult::Softfail => "softfail",
            SpfResult::Temperror => "temperror",
            SpfResult::Permerror => "permerror",
        }
    }
}

impl fmt::Display for SpfResult {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for SpfResult {
    type Err = ();
    /// Parses a result name, ignoring case.
    fn from_str(s: &str) -> Result<Self, ()> {
        [
            SpfResult::None,
            SpfResult::Neutral,
            SpfResult::Pass,
            SpfResult::Fail,
            SpfResult::Softfail,
            SpfResult::Temperror,
            SpfResult::Permerror,
        ]
        .into_iter()
        .find(|r| r.as_str().eq_ignore_ascii_case(s))
        .ok_or(())
    }
}

/// Which identity was checked (RFC 7208 §2.3, §2.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Identity {
    /// The MAIL FROM (reverse-path) identity.
    MailFrom,
    /// The HELO/EHLO identity.
    Helo,
}

impl Identity {
    /// `mailfrom` or `helo`, as the `identity=` key of `Received-SPF` writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Identity::MailFrom => "mailfrom",
            Identity::Helo => "helo",
        }
    }
}

/// Why an evaluation gave its result.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Cause {
    /// A directive matched in a domain's record: `record.record().terms()[term]`, which
    /// [`Cause::directive`] gives.
    Match {
        /// The domain whose record held the directive (the domain checked, or the target of a
        /// `redirect=`), with that record: shared with the record cache, not copied.
        record: Arc<DomainRecord>,
        /// The index of the directive in [`Record::terms`](super::Record::terms).
        term: usize,
    },
    /// No directive matched and there was no `redirect=`: the default result, neutral.
    NoMatch {
        /// The domain whose record was evaluated last.
        domain: Arc<str>,
    },
    /// The domain has no SPF record (result none).
    NoRecord {
        /// The domain.
        domain: Arc<str>,
    },
    /// The identity's domain is not a valid multi-label domain name (result none).
    InvalidDomain {
        /// The domain as given.
        domain: Arc<str>,
        /// What is wrong with it.
        error: NameError,
    },
    /// An error ended evaluation (temperror or permerror).
    Error(SpfError),
}

/// An error that ends an SPF evaluation with temperror or permerror.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SpfError {
    /// The overall time limit ran out (temperror).
    #[error("SPF evaluation timed out")]
    Timeout,
    /// A DNS lookup failed with a server failure or timeout (temperror).
    #[error("DNS lookup for {name} failed: {error}")]
    Dns {
        /// The name queried.
        name: String,
        /// The failure.
        error: LookupError,
    },
    /// More than the allowed number of DNS-querying terms (permerror).
    #[error("more than {limit} DNS lookups")]
    TooManyDnsLookups {
        /// The limit.
        limit: u32,
    },
    /// More than the allowed number of void lookups (permerror).
    #[error("more than {limit} void lookups")]
    TooManyVoidLookups {
        /// The limit.
        limit: u32,
    },
    /// An `mx` target with more MX names than allowed (permerror).
    #[error("{domain} has more than {limit} MX records")]
    TooManyMxNames {
        /// The `mx` target.
        domain: String,
        /// The limit.
        limit: usize,
    },
    /// More than one `v=spf1` record (permerror).
    #[error("{domain} has more than one SPF record")]
    MultipleRecords {
        /// The domain.
        domain: String,
    },
    /// An `include:` or `redirect=` target without an SPF record (permerror).
    #[error("{domain} (an include or redirect target) has no SPF record")]
    NoRecordAtTarget {
        /// The target.
        domain: String,
    },
    /// A record with a syntax error (permerror).
    #[error("SPF record of {domain}: {error}")]
    Syntax {
        /// The domain.
        domain: String,
        /// The error.
        error: ParseError,
    },
}

impl SpfError {
    /// The result this error gives: temperror for timeouts and DNS failures, permerror otherwise.
    pub fn result(&self) -> SpfResult {
        match self {
            SpfError::Timeout | SpfError::Dns { .. } => SpfResult::Temperror,
            _ => SpfResult::Permerror,
        }
    }
}

/// The outcome of one SPF check.
#[derive(Clone)]
#[non_exhaustive]
pub struct SpfOutput {
    /// The result.
    pub result: SpfResult,
    /// The identity checked.
    pub identity: Identity,
    /// The domain checked: [`SpfOutput::domain`].
    pub(crate) checked: Arc<str>,
    /// The explanation, on fail only (from `exp=`, or the configured default).
    pub explanation: Option<String>,
    /// Why: the directive that matched, or the error that ended evaluation.
    pub cause: Cause,
    /// DNS-querying terms evaluated (limit 10 by default).
    pub dns_lookups: u32,
    /// Void lookups seen (limit 2 by default).
    pub void_lookups: u32,
    /// The evaluation trace, when [`super::Config::trace`] is on (boxed: most checks have none,
    /// and the output stays small to move).
    pub trace: Option<Box<super::Trace>>,
}

impl Cause {
    /// The directive that matched, for [`Cause::Match`].
    ///
    /// ```
    /// use std::sync::Arc;
    /// use sender_identity::spf::{Cause, DomainRecord};
    /// let record = "v=spf1 ip4:192.0.2.0/24 -all".parse().unwrap();
    /// let record = Arc::new(DomainRecord::new("example.com", record));
    /// let cause = Cause::Match { record, term: 1 };
    /// assert_eq!(cause.directive().unwrap().to_string(), "-all");
    /// assert_eq!(cause.to_string(), "matched -all in the record of example.com");
    /// ```
    pub fn directive(&self) -> Option<&Directive> {
        match self {
            Cause::Match { record, term } => match record.record().terms().get(*term) {
                Some(Term::Directive(directive)) => Some(directive),
                _ => None,
            },
            _ => None,
        }
    }
}

impl SpfOutput {
    /// The domain checked (the sender's domain, or the HELO name), as given, without a trailing dot.
    ///
    /// ```
    /// use sender_identity::dns::ZoneResolver;
    /// use sender_identity::spf::Verifier;
    /// let zone: ZoneResolver = r#"example.com TXT "v=spf1 -all""#.parse().unwrap();
    /// # let rt = tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap();
    /// let out = rt.block_on(Verifier::new(zone).check_mail_from(
    ///     "192.0.2.1".parse().unwrap(),
    ///     "mail.example.net",
    ///     "alice@Example.COM.",
    /// ));
    /// assert_eq!(out.domain(), "Example.COM");
    /// ```
    pub fn domain(&self) -> &str {
        &self.checked
    }

    /// The directive that decided the result, if one matched.
    pub fn matched(&self) -> Option<&Directive> {
        self.cause.directive()
    }

    /// The error that ended evaluation, if any.
    pub fn error(&self) -> Option<&SpfError> {
        match &self.cause {
            Cause::Error(e) => Some(e),
            _ => None,
        }
    }
}

impl fmt::Debug for SpfOutput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SpfOutput")
            .field("result", &self.result)
            .field("identity", &self.identity)
            .field("domain", &self.domain())
            .field("explanation", &self.explanation)
            .field("cause", &self.cause)
            .field("dns_lookups", &self.dns_lookups)
            .field("void_lookups", &self.void_lookups)
            .field("trace", &self.trace)
            .finish()
    }
}

/// Outputs are equal when every field is, the domain compared as text.
impl PartialEq for SpfOutput {
    fn eq(&self, other: &SpfOutput) -> bool {
        self.result == other.result
            && self.identity == other.identity
            && self.domain() == other.domain()
            && self.explanation == other.explanation
            && self.cause == other.cause
            && self.dns_lookups == other.dns_lookups
            && self.void_lookups == other.void_lookups
            && self.trace == other.trace
    }
}

impl Eq for SpfOutput {}

impl fmt::Display for Cause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Cause::Match { record, .. } => {
                let domain = record.domain();
                match self.directive() {
                    Some(directive) => write!(f, "matched {directive} in the record of {domain}"),
                    None => write!(f, "matched in the record of {domain}"),
                }
            }
            Cause::NoMatch { domain } => {
                write!(f, "no mechanism matched in the record of {domain}")
            }
            Cause::NoRecord { domain } => write!(f, "{domain} has no SPF record"),
            Cause::InvalidDomain { domain, error } => {
                write!(f, "{domain:?} is not a usable domain: {error}")
            }
            Cause::Error(e) => e.fmt(f),
        }
    }
}
