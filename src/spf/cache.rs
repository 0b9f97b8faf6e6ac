//! A cache of parsed SPF records, so that a record fetched again is not fetched or parsed again.

use super::record::DomainRecord;
use super::result::SpfError;
use crate::name::{check_domain, get_normalized, normalize};
use crate::ttl::{Lifetimes, Time, TtlMap};
use std::sync::{Arc, RwLock};
use std::time::Duration;

/// What fetching a domain's SPF record gave, when that outcome is worth keeping: the record, no
/// record, or a permanent error (several records, a syntax error). Temporary errors are never kept.
#[derive(Debug, Clone)]
pub(crate) enum Fetched {
    Record(Arc<DomainRecord>),
    NoRecord,
    Invalid(SpfError),
}

#[derive(Debug)]
struct Entry {
    fetched: Fetched,
    /// Whether the name is a valid domain for `check_host()` ([`check_domain`]), checked once here
    /// rather than on every evaluation of it.
    valid: bool,
}

/// A valid entry found by [`View::get`].
pub(crate) struct Hit<'c> {
    pub(crate) fetched: &'c Fetched,
    /// The name as the cache holds it, when it was found as written and is a valid domain for
    /// `check_host()`: the evaluation needs neither to check it nor to copy it for its output.
    pub(crate) name: Option<&'c Arc<str>>,
}

/// A cache of parsed SPF records, shared by every evaluation of a [`super::Verifier`] it is given to
/// ([`super::Verifier::with_cache`]) and usable with any [`crate::dns::Resolver`].
///
/// - Entries live as long as the DNS TTL of the TXT answer ([`crate::dns::Resolver::lookup_txt_ttl`]),
///   capped at [`RecordCache::max_ttl`]; when the resolver reports no TTL, [`RecordCache::default_ttl`].
///   Time is read from a coarse monotonic clock (`CLOCK_MONOTONIC_COARSE` on Linux: a few
///   milliseconds of resolution, where TTLs are whole seconds), which costs a fraction of a precise
///   clock read on every evaluation that uses the cache.
/// - "No record" answers (NXDOMAIN, NODATA, no `v=spf1` TXT) are cached too, for their negative TTL
///   (RFC 2308) but never longer than [`RecordCache::max_negative_ttl`] (default 15 minutes).
/// - Permanent errors (two records, a syntax error) are cached like records; temporary errors never.
/// - At most `capacity` domains: inserting into a full cache first drops expired entries, then an
///   arbitrary eighth of the rest.
///
/// # Memory
/// An entry costs its key (the domain name) plus about 100 bytes of bookkeeping, plus the parsed
/// record: 64 bytes per term plus the heap text of its domain-specs (a name per `include:`, `a:`,
/// `mx:`, `exists:`, `redirect=`, about as long as written, and 40 bytes per macro). A typical
/// record of ten terms costs about 1 KB; 10,000 cached domains about 10 MB.
///
/// ```
/// use std::sync::Arc;
/// use sender_identity::dns::ZoneResolver;
/// use sender_identity::spf::{RecordCache, Verifier};
///
/// let zone: ZoneResolver = r#"example.com TXT "v=spf1 -all""#.parse().unwrap();
/// let cache = Arc::new(RecordCache::new(10_000));
/// let spf = Verifier::new(zone).with_cache(cache.clone());
/// # let rt = tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap();
/// # rt.block_on(async {
/// spf.check_mail_from("192.0.2.1".parse().unwrap(), "h.example", "a@example.com").await;
/// spf.check_mail_from("192.0.2.1".parse().unwrap(), "h.example", "a@example.com").await;
/// # });
/// assert_eq!(cache.len(), 1);
/// assert_eq!(spf.resolver().query_count(), 1);
/// ```
#[derive(Debug)]
pub struct RecordCache {
    entries: RwLock<TtlMap<Arc<str>, Entry>>,
    capacity: usize,
    lifetimes: Lifetimes,
}

impl RecordCache {
    /// A cache of at most `capacity` domains, with a default TTL of 5 minutes, a maximum TTL of one
    /// day and a maximum negative TTL of 15 minutes.
    pub fn new(capacity: usize) -> Self {
        RecordCache {
            entries: RwLock::new(TtlMap::new()),
            capacity: capacity.max(1),
            lifetimes: Lifetimes::DEFAULT,
        }
    }

    /// Sets the TTL used when the resolver reports none.
    pub fn default_ttl(mut self, ttl: Duration) -> Self {
        self.lifetimes.default_ttl = ttl;
        self
    }

    /// Sets the longest time any entry is kept.
    pub fn max_ttl(mut self, ttl: Duration) -> Self {
        self.lifetimes.max_ttl = ttl;
        self
    }

    /// Sets the longest time a "no record" answer is kept (RFC 2308 negative caching).
    pub fn max_negative_ttl(mut self, ttl: Duration) -> Self {
        self.lifetimes.max_negative_ttl = ttl;
        self
    }

    /// The number of domains cached (expired entries included until they are dropped).
    pub fn len(&self) -> usize {
        self.read().len()
    }

    /// Whether the cache is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Drops every entry.
    pub fn clear(&self) {
        self.write().clear();
    }

    // A panic while the lock was held cannot leave the map inconsistent: use it anyway.
    fn read(&self) -> std::sync::RwLockReadGuard<'_, TtlMap<Arc<str>, Entry>> {
        self.entries.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, TtlMap<Arc<str>, Entry>> {
        self.entries.write().unwrap_or_else(|e| e.into_inner())
    }

    /// A view of the cache for one evaluation run: one read lock for the whole run, entries
    /// borrowed rather than copied. Writers wait for the run (microseconds); the view must not be
    /// held across an `await`.
    pub(crate) fn view(&self) -> View<'_> {
        View {
            entries: self.read(),
        }
    }

    /// Keeps `fetched` for `ttl` (capped; the default when `None`) from `now`.
    pub(crate) fn insert(&self, domain: &str, fetched: Fetched, ttl: Option<Duration>, now: Time) {
        let negative = matches!(fetched, Fetched::NoRecord);
        let Some(expires) = self.lifetimes.expiry(ttl, negative, now) else {
            return;
        };
        let name: Arc<str> = normalize(domain).into();
        let valid = check_domain(&name).is_ok();
        let entry = Entry { fetched, valid };
        self.write()
            .insert(name, entry, expires, now, self.capacity);
    }
}

/// A read-locked view of a [`RecordCache`] ([`RecordCache::view`]).
pub(crate) struct View<'c> {
    entries: std::sync::RwLockReadGuard<'c, TtlMap<Arc<str>, Entry>>,
}

impl View<'_> {
    /// The entry for `domain` if it is still valid at `now` (an expired entry is left for the next
    /// insert to replace or drop).
    pub(crate) fn get(&self, domain: &str, now: Time) -> Option<Hit<'_>> {
        let (name, entry) = match self.entries.get(domain, now) {
            Some((name, entry)) => (entry.valid.then_some(name), entry),
            None => (
                None,
                get_normalized(domain, |d| self.entries.get(d, now))?.1,
            ),
        };
        Some(Hit {
            fetched: &entry.fetched,
            name,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ttl::now;

    fn record() -> Fetched {
        Fetched::Record(Arc::new(DomainRecord::new(
            "example.com",
            "v=spf1 -all".parse().unwrap(),
        )))
    }

    #[test]
    fn ttl_and_capacity() {
        let now = now();
        let minute = Some(Duration::from_secs(60));
        let cache = RecordCache::new(8).max_negative_ttl(Duration::ZERO);
        cache.insert("Example.COM.", record(), minute, now);
        let view = cache.view();
        let hit = view.get("example.com", now).unwrap();
        assert!(matches!(hit.fetched, Fetched::Record(_)));
        assert_eq!(hit.name.map(|n| &**n), Some("example.com"));
        let hit = view.get("EXAMPLE.com", now).unwrap();
        assert!(
            hit.name.is_none(),
            "not as written: the caller copies its own"
        );
        drop(view);
        cache.insert("localhost", record(), minute, now);
        let view = cache.view();
        let hit = view.get("localhost", now).unwrap();
        assert!(
            hit.name.is_none(),
            "a cached name that check_host() would refuse"
        );
        drop(view);
        cache.insert("gone.example", record(), Some(Duration::ZERO), now);
        assert!(
            cache.view().get("gone.example", now).is_none(),
            "TTL 0 is not cached"
        );
        cache.insert("none.example", Fetched::NoRecord, minute, now);
        assert!(
            cache.view().get("none.example", now).is_none(),
            "negative TTL capped at zero"
        );
        for i in 0..20 {
            cache.insert(&format!("d{i}.example"), record(), None, now);
        }
        assert!(cache.len() <= 8);
        assert!(
            cache.view().get("d19.example", now).is_some(),
            "the newest entry is kept"
        );
        cache.clear();
        assert!(cache.is_empty());
    }

    #[test]
    fn expiry() {
        let now = now();
        let secs = Duration::from_secs;
        let at = |s| now + coarsetime::Duration::from_secs(s);
        let cache = RecordCache::new(8).max_ttl(secs(30));
        cache.insert("a.example", record(), Some(secs(3600)), now);
        assert!(cache.view().get("a.example", at(29)).is_some());
        assert!(
            cache.view().get("a.example", at(31)).is_none(),
            "capped at max_ttl"
        );
        assert_eq!(
            cache.len(),
            1,
            "an expired entry stays until replaced or evicted"
        );
        let cache = RecordCache::new(8);
        cache.insert("n.example", Fetched::NoRecord, Some(secs(3600)), now);
        assert!(cache.view().get("n.example", at(899)).is_some());
        assert!(
            cache.view().get("n.example", at(901)).is_none(),
            "negative TTL cap"
        );
        cache.insert("d.example", record(), None, now);
        assert!(
            cache.view().get("d.example", at(299)).is_some(),
            "default TTL 5 min"
        );
        assert!(cache.view().get("d.example", at(301)).is_none());
    }
}
