//! Entries that expire: the clock, the lifetime rules and the bounded map that both caches use
//! ([`crate::spf::RecordCache`] for parsed SPF records, [`crate::dns::AnswerCache`] for answers).

use crate::hash::Keyed;
use std::borrow::Borrow;
use std::collections::HashMap;
use std::hash::Hash;
use std::time::Duration;

/// The time on the caches' clock: coarse (a few milliseconds, where DNS TTLs are whole seconds) and
/// cheap to read (`CLOCK_MONOTONIC_COARSE` on Linux), as every check that uses a cache reads it.
pub(crate) type Time = coarsetime::Instant;

/// The time now on the caches' clock.
pub(crate) fn now() -> Time {
    coarsetime::Instant::now_without_cache_update()
}

/// The longest time anything is kept, whatever the settings: 68 years.
const FOREVER: Duration = Duration::from_secs(1 << 31);

/// How long a cache keeps answers: the TTL to use when the resolver reports none, and the caps on
/// positive and negative (RFC 2308) answers.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Lifetimes {
    pub(crate) default_ttl: Duration,
    pub(crate) max_ttl: Duration,
    pub(crate) max_negative_ttl: Duration,
}

impl Lifetimes {
    /// A default TTL of 5 minutes, a maximum of one day, negative answers at most 15 minutes.
    pub(crate) const DEFAULT: Lifetimes = Lifetimes {
        default_ttl: Duration::from_secs(300),
        max_ttl: Duration::from_secs(86_400),
        max_negative_ttl: Duration::from_secs(900),
    };

    /// When an answer with `ttl` (the default when `None`), received at `now`, expires; `None` when
    /// it is not to be kept at all (a TTL of zero after the caps).
    pub(crate) fn expiry(&self, ttl: Option<Duration>, negative: bool, now: Time) -> Option<Time> {
        let cap = match negative {
            true => self.max_negative_ttl.min(self.max_ttl),
            false => self.max_ttl,
        };
        let ttl = ttl.unwrap_or(self.default_ttl).min(cap).min(FOREVER);
        (!ttl.is_zero()).then(|| now + coarsetime::Duration::from(ttl))
    }
}

/// A map of entries that expire, holding at most `capacity`, keyed with a keyed hash (the keys are
/// names from the network). Inserting into a full map first drops the expired entries, then an
/// arbitrary eighth of the rest; an expired entry is otherwise left until it is replaced.
#[derive(Debug)]
pub(crate) struct TtlMap<K, V> {
    entries: HashMap<K, (V, Time), Keyed>,
}

impl<K: Hash + Eq + Clone, V> TtlMap<K, V> {
    pub(crate) fn new() -> Self {
        TtlMap {
            entries: HashMap::with_hasher(Keyed::new()),
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    pub(crate) fn clear(&mut self) {
        self.entries.clear();
    }

    /// The key as held and the value of `key`, if it has not expired at `now`.
    #[inline]
    pub(crate) fn get<Q>(&self, key: &Q, now: Time) -> Option<(&K, &V)>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let (key, (value, expires)) = self.entries.get_key_value(key)?;
        (*expires > now).then_some((key, value))
    }

    /// Keeps `value` under `key` until `expires`, making room first if the map holds `capacity`.
    pub(crate) fn insert(&mut self, key: K, value: V, expires: Time, now: Time, capacity: usize) {
        if self.entries.len() >= capacity && !self.entries.contains_key(&key) {
            self.entries.retain(|_, (_, e)| *e > now);
            if self.entries.len() >= capacity {
                let drop = (capacity / 8).max(1);
                let victims: Vec<K> = self.entries.keys().take(drop).cloned().collect();
                for k in victims {
                    self.entries.remove(&k);
                }
            }
        }
        self.entries.insert(key, (value, expires));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expiry_caps_and_zero() {
        let now = now();
        let secs = Duration::from_secs;
        let l = Lifetimes {
            default_ttl: secs(10),
            max_ttl: secs(100),
            max_negative_ttl: secs(20),
        };
        let at = |s| Some(now + coarsetime::Duration::from_secs(s));
        assert_eq!(l.expiry(None, false, now), at(10));
        assert_eq!(l.expiry(Some(secs(1000)), false, now), at(100));
        assert_eq!(l.expiry(Some(secs(1000)), true, now), at(20));
        assert_eq!(l.expiry(Some(secs(5)), true, now), at(5));
        assert_eq!(l.expiry(Some(Duration::ZERO), false, now), None);
    }

    #[test]
    fn capacity_drops_expired_then_an_eighth() {
        let now = now();
        let later = now + coarsetime::Duration::from_secs(60);
        let mut map: TtlMap<String, u32> = TtlMap::new();
        map.insert("old".into(), 0, now, now, 8);
        for i in 1..8 {
            map.insert(format!("k{i}"), i, later, now, 8);
        }
        assert_eq!(map.len(), 8);
        assert!(map.get("old", now).is_none(), "expired at `now`");
        map.insert("new".into(), 9, later, now, 8);
        assert_eq!(map.len(), 8, "the expired entry made room");
        map.insert("newer".into(), 10, later, now, 8);
        assert!(map.len() <= 8);
        assert_eq!(map.get("newer", now).map(|(_, v)| *v), Some(10));
        // Replacing a key in a full map drops nothing.
        let len = map.len();
        map.insert("newer".into(), 11, later, now, 8);
        assert_eq!(map.len(), len);
    }
}
