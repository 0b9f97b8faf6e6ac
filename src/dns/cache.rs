//! A cache of DNS answers (A, AAAA, MX, PTR and TXT) that the checks read without awaiting.

use super::{LookupError, LookupResult, Mx, TxtRecord};
use crate::name::{get_normalized, normalize};
use crate::ttl::{Lifetimes, Time, TtlMap, now};
use std::hash::Hash;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::{RwLock, RwLockReadGuard};
use std::time::Duration;

/// A kept answer: the records, or the void answer (NXDOMAIN or NODATA). Other errors are never kept.
type Stored<T> = Result<Box<[T]>, LookupError>;

/// The largest answer kept, in bytes of record data: a TXT answer an attacker's domain serves can
/// hold up to 64 KB, which a cache of 10,000 answers per type must not multiply. Real answers to
/// the queries the checks make (addresses, a few MX hosts or PTR names, an explanation) are far
/// smaller.
pub const MAX_ANSWER_BYTES: usize = 4096;

/// The bytes of record data an answer holds, for [`MAX_ANSWER_BYTES`].
trait Size {
    fn size(&self) -> usize;
}

impl Size for Ipv4Addr {
    fn size(&self) -> usize {
        4
    }
}

impl Size for Ipv6Addr {
    fn size(&self) -> usize {
        16
    }
}

impl Size for Mx {
    fn size(&self) -> usize {
        2 + self.exchange.len()
    }
}

impl Size for String {
    fn size(&self) -> usize {
        self.len()
    }
}

impl Size for TxtRecord {
    fn size(&self) -> usize {
        self.strings().iter().map(|s| 1 + s.len()).sum()
    }
}

#[derive(Debug)]
struct Maps {
    a: TtlMap<Box<str>, Stored<Ipv4Addr>>,
    aaaa: TtlMap<Box<str>, Stored<Ipv6Addr>>,
    mx: TtlMap<Box<str>, Stored<Mx>>,
    txt: TtlMap<Box<str>, Stored<TxtRecord>>,
    ptr: TtlMap<IpAddr, Stored<String>>,
}

/// A cache of DNS answers, keyed by name (by address for PTR), that every check reads without
/// awaiting a future: the SPF evaluation holds one read lock for a whole run and borrows the
/// answers, so a check answered from the cache costs no copy and no allocation.
///
/// A resolver offers its cache through [`super::Resolver::answer_cache`]; [`super::HickoryResolver`]
/// has one by default and fills it with every answer it receives. A resolver of your own can keep
/// one and fill it with [`AnswerCache::insert_a`] and friends.
///
/// - Answers live for their DNS TTL, capped at [`AnswerCache::max_ttl`] (one day); an answer
///   without a TTL is kept for [`AnswerCache::default_ttl`] (5 minutes).
/// - NXDOMAIN and NODATA are kept for their negative TTL (the SOA minimum, RFC 2308 §5), at most
///   [`AnswerCache::max_negative_ttl`] (15 minutes), and not at all when the answer carried no SOA
///   (RFC 2308 §5: no TTL, no negative caching). Timeouts and server failures are never kept.
/// - TXT answers holding a `v=spf1` record are not kept: parsed SPF records belong in a
///   [`crate::spf::RecordCache`], which keeps them parsed.
/// - At most `capacity` answers of each record type: inserting into a full map first drops the
///   expired answers, then an arbitrary eighth of the rest. Answers with more than
///   [`MAX_ANSWER_BYTES`] (4 KB) of record data are not kept.
///
/// # Memory
/// An answer costs its key (the name, as long as written; 16 bytes for a PTR's address), about 80
/// bytes of bookkeeping, and its records: 4 bytes per IPv4 and 16 per IPv6 address, 32 bytes plus
/// the name per MX or PTR, the text plus 48 bytes per TXT record. A typical A answer costs about
/// 130 bytes: 10,000 answers of each type take a few megabytes. However large the answers a
/// remote server sends, an answer kept holds at most [`MAX_ANSWER_BYTES`] of record data (with
/// per-record overhead, about 10 KB for the worst TXT answer), so a full cache stays within about
/// 100 MB per type with the default size even when filled on purpose.
///
/// ```
/// use sender_identity::dns::{AnswerCache, LookupError};
/// use std::time::Duration;
///
/// let cache = AnswerCache::new(1_000);
/// let minute = Some(Duration::from_secs(60));
/// cache.insert_a("mail.example.com", &Ok(vec!["192.0.2.1".parse().unwrap()]), minute);
/// cache.insert_a("gone.example.com", &Err(LookupError::NxDomain), minute);
/// cache.insert_a("slow.example.com", &Err(LookupError::Timeout), minute);
/// assert_eq!(cache.a("Mail.Example.COM."), Some(Ok(vec!["192.0.2.1".parse().unwrap()])));
/// assert_eq!(cache.a("gone.example.com"), Some(Err(LookupError::NxDomain)));
/// assert_eq!(cache.a("slow.example.com"), None, "a timeout is not kept");
/// assert_eq!(cache.len(), 2);
/// ```
#[derive(Debug)]
pub struct AnswerCache {
    maps: RwLock<Maps>,
    capacity: usize,
    lifetimes: Lifetimes,
}

impl AnswerCache {
    /// A cache of at most `capacity` answers of each record type, with a default TTL of 5 minutes,
    /// a maximum TTL of one day and a maximum negative TTL of 15 minutes.
    pub fn new(capacity: usize) -> Self {
        AnswerCache {
            maps: RwLock::new(Maps {
                a: TtlMap::new(),
                aaaa: TtlMap::new(),
                mx: TtlMap::new(),
                txt: TtlMap::new(),
                ptr: TtlMap::new(),
            }),
            capacity: capacity.max(1),
            lifetimes: Lifetimes::DEFAULT,
        }
    }

    /// Sets the TTL of answers inserted without one.
    pub fn default_ttl(mut self, ttl: Duration) -> Self {
        self.lifetimes.default_ttl = ttl;
        self
    }

    /// Sets the longest time any answer is kept.
    pub fn max_ttl(mut self, ttl: Duration) -> Self {
        self.lifetimes.max_ttl = ttl;
        self
    }

    /// Sets the longest time an NXDOMAIN or NODATA answer is kept (RFC 2308 negative caching).
    pub fn max_negative_ttl(mut self, ttl: Duration) -> Self {
        self.lifetimes.max_negative_ttl = ttl;
        self
    }

    /// The number of answers held, of every type (expired ones included until they are dropped).
    pub fn len(&self) -> usize {
        let maps = self.read();
        maps.a.len() + maps.aaaa.len() + maps.mx.len() + maps.txt.len() + maps.ptr.len()
    }

    /// Whether the cache is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Drops every answer.
    pub fn clear(&self) {
        let mut maps = self.write();
        maps.a.clear();
        maps.aaaa.clear();
        maps.mx.clear();
        maps.txt.clear();
        maps.ptr.clear();
    }

    // A panic while the lock was held cannot leave the maps inconsistent: use them anyway.
    fn read(&self) -> RwLockReadGuard<'_, Maps> {
        self.maps.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Maps> {
        self.maps.write().unwrap_or_else(|e| e.into_inner())
    }

    /// A view for one run of a check: one read lock, answers borrowed. Writers wait for the run
    /// (microseconds); the view must not be held across an `await`.
    pub(crate) fn view(&self) -> AnswerView<'_> {
        AnswerView {
            maps: self.read(),
            now: now(),
        }
    }

    /// Keeps `answer` under `key` in the map `pick` selects, unless it is not to be kept.
    fn keep<K: Hash + Eq + Clone, T: Clone + Size>(
        &self,
        key: impl FnOnce() -> K,
        answer: &LookupResult<Vec<T>>,
        ttl: Option<Duration>,
        pick: impl FnOnce(&mut Maps) -> &mut TtlMap<K, Stored<T>>,
    ) {
        let stored: Stored<T> = match answer {
            Ok(records) if records.iter().map(Size::size).sum::<usize>() > MAX_ANSWER_BYTES => {
                return;
            }
            Ok(records) if !records.is_empty() => Ok(records.as_slice().into()),
            Ok(_) => Err(LookupError::NoData),
            Err(e) if e.is_void() => Err(e.clone()),
            Err(_) => return,
        };
        let negative = stored.is_err();
        if negative && ttl.is_none() {
            return;
        }
        let now = now();
        let Some(expires) = self.lifetimes.expiry(ttl, negative, now) else {
            return;
        };
        let capacity = self.capacity;
        pick(&mut self.write()).insert(key(), stored, expires, now, capacity);
    }

    /// Keeps an A answer for `name` for `ttl` (see the rules at [`AnswerCache`]).
    pub fn insert_a(
        &self,
        name: &str,
        answer: &LookupResult<Vec<Ipv4Addr>>,
        ttl: Option<Duration>,
    ) {
        self.keep(|| key(name), answer, ttl, |m| &mut m.a);
    }

    /// Keeps an AAAA answer; see [`AnswerCache::insert_a`].
    pub fn insert_aaaa(
        &self,
        name: &str,
        answer: &LookupResult<Vec<Ipv6Addr>>,
        ttl: Option<Duration>,
    ) {
        self.keep(|| key(name), answer, ttl, |m| &mut m.aaaa);
    }

    /// Keeps an MX answer; see [`AnswerCache::insert_a`].
    pub fn insert_mx(&self, name: &str, answer: &LookupResult<Vec<Mx>>, ttl: Option<Duration>) {
        self.keep(|| key(name), answer, ttl, |m| &mut m.mx);
    }

    /// Keeps a TXT answer, unless it holds a `v=spf1` record; see [`AnswerCache::insert_a`].
    pub fn insert_txt(
        &self,
        name: &str,
        answer: &LookupResult<Vec<TxtRecord>>,
        ttl: Option<Duration>,
    ) {
        if let Ok(txts) = answer
            && txts.iter().any(|t| crate::spf::is_spf1(&t.text()))
        {
            return;
        }
        self.keep(|| key(name), answer, ttl, |m| &mut m.txt);
    }

    /// Keeps the PTR answer of `ip`; see [`AnswerCache::insert_a`].
    pub fn insert_ptr(
        &self,
        ip: IpAddr,
        answer: &LookupResult<Vec<String>>,
        ttl: Option<Duration>,
    ) {
        self.keep(|| ip, answer, ttl, |m| &mut m.ptr);
    }

    /// The A answer held for `name`, if any and not expired.
    pub fn a(&self, name: &str) -> Option<LookupResult<Vec<Ipv4Addr>>> {
        owned(self.view().a(name))
    }

    /// The AAAA answer held for `name`; see [`AnswerCache::a`].
    pub fn aaaa(&self, name: &str) -> Option<LookupResult<Vec<Ipv6Addr>>> {
        owned(self.view().aaaa(name))
    }

    /// The MX answer held for `name`; see [`AnswerCache::a`].
    pub fn mx(&self, name: &str) -> Option<LookupResult<Vec<Mx>>> {
        owned(self.view().mx(name))
    }

    /// The TXT answer held for `name`; see [`AnswerCache::a`].
    pub fn txt(&self, name: &str) -> Option<LookupResult<Vec<TxtRecord>>> {
        owned(self.view().txt(name))
    }

    /// The PTR answer held for `ip`; see [`AnswerCache::a`].
    pub fn ptr(&self, ip: IpAddr) -> Option<LookupResult<Vec<String>>> {
        owned(self.view().ptr(ip))
    }
}

/// The key of `name`: lower-case, without a trailing dot.
fn key(name: &str) -> Box<str> {
    normalize(name).into()
}

fn owned<T: Clone>(answer: Option<LookupResult<&[T]>>) -> Option<LookupResult<Vec<T>>> {
    answer.map(|a| a.map(<[T]>::to_vec))
}

/// A view of an [`AnswerCache`] taken the first time a run asks for one: a run answered without
/// looking anything up (a pass on an `ip4`, say) never takes the cache's lock.
pub(crate) struct LazyView<'c> {
    cache: Option<&'c AnswerCache>,
    view: std::cell::OnceCell<AnswerView<'c>>,
}

impl<'c> LazyView<'c> {
    pub(crate) fn new(cache: Option<&'c AnswerCache>) -> Self {
        LazyView {
            cache,
            view: std::cell::OnceCell::new(),
        }
    }

    /// The view, taken now if it was not yet; `None` without a cache.
    #[inline]
    pub(crate) fn get<'v>(&'v self) -> Option<&'v AnswerView<'c>> {
        let cache = self.cache?;
        Some(self.view.get_or_init(|| cache.view()))
    }
}

/// A read-locked view of an [`AnswerCache`] ([`AnswerCache::view`]), at one time.
pub(crate) struct AnswerView<'c> {
    maps: RwLockReadGuard<'c, Maps>,
    now: Time,
}

/// The answer for `name` in `map`, found as written or normalised.
#[inline]
fn get<'m, T>(
    map: &'m TtlMap<Box<str>, Stored<T>>,
    name: &str,
    now: Time,
) -> Option<LookupResult<&'m [T]>> {
    let (_, stored) = match map.get(name, now) {
        Some(found) => found,
        None => get_normalized(name, |n| map.get(n, now))?,
    };
    Some(stored.as_deref().map_err(Clone::clone))
}

impl AnswerView<'_> {
    #[inline]
    pub(crate) fn a(&self, name: &str) -> Option<LookupResult<&[Ipv4Addr]>> {
        get(&self.maps.a, name, self.now)
    }

    #[inline]
    pub(crate) fn aaaa(&self, name: &str) -> Option<LookupResult<&[Ipv6Addr]>> {
        get(&self.maps.aaaa, name, self.now)
    }

    #[inline]
    pub(crate) fn mx(&self, name: &str) -> Option<LookupResult<&[Mx]>> {
        get(&self.maps.mx, name, self.now)
    }

    #[inline]
    pub(crate) fn txt(&self, name: &str) -> Option<LookupResult<&[TxtRecord]>> {
        get(&self.maps.txt, name, self.now)
    }

    #[inline]
    pub(crate) fn ptr(&self, ip: IpAddr) -> Option<LookupResult<&[String]>> {
        let (_, stored) = self.maps.ptr.get(&ip, self.now)?;
        Some(stored.as_deref().map_err(Clone::clone))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_answers_and_void_answers_with_a_ttl_only() {
        let cache = AnswerCache::new(100);
        let minute = Some(Duration::from_secs(60));
        cache.insert_mx("example.com", &Err(LookupError::NoData), None);
        assert_eq!(cache.mx("example.com"), None, "no SOA, no negative caching");
        cache.insert_mx("example.com", &Ok(vec![]), minute);
        assert_eq!(cache.mx("example.com"), Some(Err(LookupError::NoData)));
        cache.insert_aaaa(
            "x.example",
            &Err(LookupError::ServerFailure("SERVFAIL".into())),
            minute,
        );
        assert_eq!(cache.aaaa("x.example"), None);
        cache.insert_txt(
            "spf.example",
            &Ok(vec![TxtRecord::from_text("v=spf1 -all")]),
            minute,
        );
        assert_eq!(
            cache.txt("spf.example"),
            None,
            "SPF records go to the record cache"
        );
        let exp = Ok(vec![TxtRecord::from_text("not allowed")]);
        cache.insert_txt("exp.example", &exp, minute);
        assert_eq!(cache.txt("EXP.example."), Some(exp));
        let ip: IpAddr = "192.0.2.1".parse().unwrap();
        cache.insert_ptr(ip, &Ok(vec!["h.example".into()]), minute);
        assert_eq!(cache.ptr(ip), Some(Ok(vec!["h.example".into()])));
        // Keyed by the address as queried: an IPv4-mapped address has another reverse name.
        assert_eq!(cache.ptr("::ffff:192.0.2.1".parse().unwrap()), None);
        cache.insert_a(
            "zero.example",
            &Ok(vec![Ipv4Addr::LOCALHOST]),
            Some(Duration::ZERO),
        );
        assert_eq!(cache.a("zero.example"), None, "TTL 0 is not kept");
        assert_eq!(cache.len(), 3);
        cache.clear();
        assert!(cache.is_empty());
    }

    #[test]
    fn large_answers_are_not_kept() {
        let cache = AnswerCache::new(10);
        let minute = Some(Duration::from_secs(60));
        let big = Ok(vec![TxtRecord::from_text(&"x".repeat(MAX_ANSWER_BYTES))]);
        cache.insert_txt("big.example", &big, minute);
        assert_eq!(cache.txt("big.example"), None);
        let small = Ok(vec![TxtRecord::from_text(
            &"x".repeat(MAX_ANSWER_BYTES - 1),
        )]);
        cache.insert_txt("small.example", &small, minute);
        assert_eq!(cache.txt("small.example"), Some(small));
    }

    #[test]
    fn expires_and_stays_bounded() {
        let cache = AnswerCache::new(8).max_ttl(Duration::ZERO);
        cache.insert_a(
            "a.example",
            &Ok(vec![Ipv4Addr::LOCALHOST]),
            Some(Duration::from_secs(9)),
        );
        assert_eq!(cache.a("a.example"), None, "capped at max_ttl");
        let cache = AnswerCache::new(8);
        for i in 0..100 {
            let name = format!("h{i}.example");
            cache.insert_a(&name, &Ok(vec![Ipv4Addr::LOCALHOST]), None);
        }
        assert!(cache.len() <= 8);
        assert!(
            cache.a("h99.example").is_some(),
            "the newest answer is kept"
        );
    }
}
