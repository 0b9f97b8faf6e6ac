//! An evaluation trace: what was fetched, queried and decided, for a postmaster to read.
//!
//! Tracing is off by default ([`super::Config::trace`]); when off the evaluator only tests a flag.
//!
//! ```
//! use sender_identity::dns::ZoneResolver;
//! use sender_identity::spf::{Config, Verifier};
//!
//! let zone: ZoneResolver = r#"
//!     example.com.      TXT "v=spf1 mx -all"
//!     example.com.      MX  10 mail.example.com
//!     mail.example.com. A   192.0.2.10
//! "#.parse().unwrap();
//! let mut config = Config::default();
//! config.trace = true;
//! let spf = Verifier::with_config(zone, config);
//! # let rt = tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap();
//! # rt.block_on(async {
//! let out = spf.check_mail_from("192.0.2.10".parse().unwrap(), "h.example", "a@example.com").await;
//! let text = out.trace.unwrap().to_string();
//! assert!(text.contains("check_host(example.com)"));
//! assert!(text.contains("MX example.com -> 10 mail.example.com"));
//! assert!(text.contains("mx -> match (lookups 1/10, void 0/2)"));
//! # });
//! ```

use super::result::{Cause, SpfResult};
use crate::dns::{LookupResult, Mx, TxtRecord};
use std::fmt::{self, Write as _};
use std::net::{Ipv4Addr, Ipv6Addr};

/// A structured evaluation trace: events in order, each with its nesting depth.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Trace {
    events: Vec<(u16, TraceEvent)>,
    max_dns_lookups: u32,
    max_void_lookups: u32,
}

/// One thing that happened during an evaluation.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum TraceEvent {
    /// `check_host()` started for a domain.
    CheckHost {
        /// The domain.
        domain: String,
    },
    /// The domain's SPF record (canonical text), and whether it came from the record cache.
    Record {
        /// The record.
        text: String,
        /// Taken from the cache without a query.
        cached: bool,
    },
    /// The domain has no SPF record.
    NoRecord,
    /// A term is being evaluated (its queries follow, one level deeper).
    Term {
        /// The term as written canonically.
        term: String,
    },
    /// A DNS query and a summary of its answer.
    Query {
        /// The record type.
        rtype: &'static str,
        /// The name queried.
        name: String,
        /// The answer: the records, or the error.
        answer: String,
    },
    /// The term just evaluated matched or not, with the counters after it.
    Outcome {
        /// Whether it matched.
        matched: bool,
        /// DNS-querying terms so far.
        dns_lookups: u32,
        /// Void lookups so far.
        void_lookups: u32,
    },
    /// An error ended evaluation.
    Error {
        /// The error.
        error: String,
    },
    /// The explanation on fail.
    Explanation {
        /// The text.
        text: String,
    },
    /// The final result.
    Result {
        /// The result.
        result: SpfResult,
        /// DNS-querying terms used.
        dns_lookups: u32,
        /// Void lookups seen.
        void_lookups: u32,
    },
}

impl Trace {
    pub(crate) fn new(max_dns_lookups: u32, max_void_lookups: u32) -> Self {
        Trace {
            events: Vec::new(),
            max_dns_lookups,
            max_void_lookups,
        }
    }

    /// Ends the trace of an evaluation: the error that ended it (if any), the explanation (if any)
    /// and the result.
    #[cold]
    pub(crate) fn finish(
        &mut self,
        cause: &Cause,
        explanation: Option<&str>,
        result: SpfResult,
        dns_lookups: u32,
        void_lookups: u32,
    ) {
        if let Cause::Error(e) = cause {
            self.push(
                0,
                TraceEvent::Error {
                    error: e.to_string(),
                },
            );
        }
        if let Some(text) = explanation {
            self.push(
                0,
                TraceEvent::Explanation {
                    text: text.to_owned(),
                },
            );
        }
        self.push(
            0,
            TraceEvent::Result {
                result,
                dns_lookups,
                void_lookups,
            },
        );
    }

    /// Adds `event` at `depth` (at most [`MAX_DEPTH`](super::eval) deep, so it fits a `u16`).
    pub(crate) fn push(&mut self, depth: u32, event: TraceEvent) {
        let depth = u16::try_from(depth).unwrap_or(u16::MAX);
        self.events.push((depth, event));
    }

    /// The events in order, each with its depth (0 for the top level).
    pub fn events(&self) -> impl Iterator<Item = (u16, &TraceEvent)> {
        self.events.iter().map(|(d, e)| (*d, e))
    }
}

impl fmt::Display for Trace {
    /// An indented tree, one event per line.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (max_dns, max_void) = (self.max_dns_lookups, self.max_void_lookups);
        for (i, (depth, event)) in self.events.iter().enumerate() {
            // An outcome is written on the line of its term when nothing came between them.
            if let TraceEvent::Outcome { .. } = event {
                continue;
            }
            for _ in 0..*depth {
                f.write_str("  ")?;
            }
            match event {
                TraceEvent::CheckHost { domain } => write!(f, "check_host({domain})")?,
                TraceEvent::Record { text, cached } => write!(
                    f,
                    "record: {text}{}",
                    if *cached { " (cached)" } else { "" }
                )?,
                TraceEvent::NoRecord => f.write_str("no SPF record")?,
                TraceEvent::Term { term } => f.write_str(term)?,
                TraceEvent::Query {
                    rtype,
                    name,
                    answer,
                } => write!(f, "{rtype} {name} -> {answer}")?,
                TraceEvent::Outcome { .. } => {}
                TraceEvent::Error { error } => write!(f, "error: {error}")?,
                TraceEvent::Explanation { text } => write!(f, "explanation: {text}")?,
                TraceEvent::Result {
                    result,
                    dns_lookups,
                    void_lookups,
                } => write!(
                    f,
                    "result: {result} (lookups {dns_lookups}/{max_dns}, void {void_lookups}/{max_void})"
                )?,
            }
            if let TraceEvent::Term { .. } = event {
                let outcome = self.outcome_after(i);
                if let Some((matched, dns, void)) = outcome {
                    let verdict = if matched { "match" } else { "no match" };
                    write!(
                        f,
                        " -> {verdict} (lookups {dns}/{max_dns}, void {void}/{max_void})"
                    )?;
                }
            }
            f.write_char('\n')?;
        }
        Ok(())
    }
}

impl Trace {
    /// The outcome recorded for the term at index `start`: the next event at its depth or above,
    /// skipping its queries, if that is an outcome.
    fn outcome_after(&self, start: usize) -> Option<(bool, u32, u32)> {
        let depth = self.events[start].0;
        self.events[start + 1..]
            .iter()
            .find(|(d, _)| *d <= depth)
            .and_then(|(d, e)| match e {
                TraceEvent::Outcome {
                    matched,
                    dns_lookups,
                    void_lookups,
                } if *d == depth => Some((*matched, *dns_lookups, *void_lookups)),
                _ => None,
            })
    }
}

/// A short text form of a DNS answer for the trace.
pub(crate) trait Summary {
    fn summary(&self) -> String;
}

fn join<T>(items: &[T], each: impl Fn(&T, &mut String)) -> String {
    let mut out = String::new();
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        each(item, &mut out);
    }
    out
}

impl Summary for [Ipv4Addr] {
    fn summary(&self) -> String {
        join(self, |a, out| {
            let _ = write!(out, "{a}");
        })
    }
}

impl Summary for [Ipv6Addr] {
    fn summary(&self) -> String {
        join(self, |a, out| {
            let _ = write!(out, "{a}");
        })
    }
}

impl Summary for [Mx] {
    fn summary(&self) -> String {
        join(self, |mx, out| {
            let _ = write!(out, "{} {}", mx.preference, mx.exchange);
        })
    }
}

impl Summary for [String] {
    fn summary(&self) -> String {
        self.join(", ")
    }
}

impl Summary for [TxtRecord] {
    fn summary(&self) -> String {
        join(self, |txt, out| {
            let _ = write!(out, "{:?}", String::from_utf8_lossy(&txt.joined()));
        })
    }
}

impl<D: std::ops::Deref<Target = T>, T: Summary + ?Sized> Summary for LookupResult<D> {
    fn summary(&self) -> String {
        match self {
            Ok(v) => (**v).summary(),
            Err(e) => e.to_string(),
        }
    }
}
