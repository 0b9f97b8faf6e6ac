//! What evaluating one record gives ([`Verdict`]) and what looking for a record finds ([`Found`]),
//! as a run holds them: cheap to make, turned into the public [`Cause`] once, for the final verdict.

use super::DomainSpec;
use super::record::{DomainRecord, Record};
use super::result::{Cause, SpfResult};
use crate::name::NameError;
use std::sync::Arc;

/// The result of evaluating one record (never temperror/permerror: those are `Err`). Cheap to make:
/// an `include:` only needs the result, so the public [`Cause`] is built once, for the final verdict.
pub(super) struct Verdict<'a> {
    pub(super) result: SpfResult,
    pub(super) why: Why<'a>,
    /// The domain of the record that decided, when it is not the one `check_host` was called with
    /// (the target of a `redirect=`).
    pub(super) domain: Option<String>,
}

pub(super) enum Why<'a> {
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
    pub(super) fn new(result: SpfResult, why: Why<'a>) -> Self {
        Verdict {
            result,
            why,
            domain: None,
        }
    }

    /// The `exp=` of the record that matched, for a fail.
    pub(super) fn exp(&self) -> Option<&DomainSpec> {
        match &self.why {
            Why::Match { record, .. } if self.result == SpfResult::Fail => record.exp(),
            _ => None,
        }
    }

    /// The public cause; `checked` gives the domain `check_host` was called with (not asked for
    /// a match).
    #[inline(always)]
    pub(super) fn into_cause(self, checked: impl FnOnce() -> Arc<str>) -> Cause {
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
pub(super) enum Found<'a> {
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
pub(super) enum RecordRef<'a> {
    Shared(&'a Arc<DomainRecord>),
    Own(Arc<DomainRecord>),
}

impl RecordRef<'_> {
    pub(super) fn into_arc(self) -> Arc<DomainRecord> {
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
