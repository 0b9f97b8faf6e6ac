//! DNS: the one [`Resolver`] trait every check goes through, and its implementations.
//!
//! - [`HickoryResolver`] (feature `hickory`, on by default): the production resolver, from the system
//!   configuration or an explicit list of name servers.
//! - [`ZoneResolver`]: an in-memory zone for tests, examples and offline use, built in code or from a
//!   small zone text format, able to simulate timeouts and server failures. The format's parser,
//!   [`parse_zone`], is public too, so other tools (a test DNS server, say) can serve the same zones.
//!
//! # Names
//! Names passed to a resolver are ASCII, without a trailing dot, in any case. Names a resolver returns
//! (MX exchanges, PTR targets) are normalised the same way and lower-cased, so callers can compare them
//! with `==` after lower-casing their own side ([`crate::name::normalize`]).
//!
//! # Errors
//! [`LookupError`] keeps apart what RFC 7208 and RFC 8601 need: NXDOMAIN and NODATA (both "void"
//! answers), a timeout, and a server failure or other error (a temporary error).

// Without the `hickory` feature, the link to `HickoryResolver` above has nothing to point to.
#![cfg_attr(not(feature = "hickory"), allow(rustdoc::broken_intra_doc_links))]

mod cache;
#[cfg(feature = "hickory")]
mod hickory;
mod zone;

pub use cache::{AnswerCache, MAX_ANSWER_BYTES};
pub(crate) use cache::{AnswerView, LazyView};

#[cfg(feature = "hickory")]
pub use hickory::{HickoryConfigError, HickoryResolver, HickoryResolverBuilder};
pub use zone::{Fault, RecordType, ZoneError, ZoneRecord, ZoneResolver, parse_zone};

/// The attribute that implementations of [`Resolver`] need (re-exported from the `async-trait`
/// crate, so that implementing the trait needs no dependency of your own): put
/// `#[async_trait]` on the `impl` block. See [implementing a
/// resolver](Resolver#implementing-a-resolver).
pub use async_trait::async_trait;

use std::borrow::Cow;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::Arc;
use std::time::Duration;

/// Why a DNS lookup gave no records.
///
/// ```
/// use sender_identity::dns::LookupError;
/// assert!(LookupError::NxDomain.is_void());
/// assert!(LookupError::NoData.is_void());
/// assert!(!LookupError::Timeout.is_void());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LookupError {
    /// The name does not exist (RCODE 3, NXDOMAIN).
    #[error("no such domain (NXDOMAIN)")]
    NxDomain,
    /// The name exists but has no records of the type asked for (NOERROR with no answers).
    #[error("no records of this type (NODATA)")]
    NoData,
    /// No answer came in time.
    #[error("DNS query timed out")]
    Timeout,
    /// The server answered with an error (SERVFAIL, REFUSED, ...).
    #[error("DNS server failure: {0}")]
    ServerFailure(String),
    /// Any other failure (a malformed answer, a transport error, ...).
    #[error("DNS error: {0}")]
    Other(String),
}

impl LookupError {
    /// `true` for NXDOMAIN and NODATA: the answers RFC 7208 §4.6.4 calls "void lookups".
    pub fn is_void(&self) -> bool {
        matches!(self, LookupError::NxDomain | LookupError::NoData)
    }
}

/// The result of a lookup.
pub type LookupResult<T> = Result<T, LookupError>;

/// A TXT answer together with how long it may be cached.
///
/// `ttl` is the smallest TTL of a positive answer, or the negative-caching TTL of an NXDOMAIN or
/// NODATA answer (RFC 2308: the SOA's minimum), or `None` when the resolver does not know it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TxtAnswer {
    /// The answer.
    pub result: LookupResult<Vec<TxtRecord>>,
    /// How long the answer may be cached, when known.
    pub ttl: Option<Duration>,
}

/// One TXT record: its character-strings exactly as served, in order.
///
/// RFC 7208 §3.3 says a record made of several strings is read with the strings joined with no
/// separator; [`TxtRecord::joined`] does that. The bytes are not required to be UTF-8: the SPF layer
/// decides what to do with other bytes.
///
/// ```
/// use sender_identity::dns::TxtRecord;
/// let txt = TxtRecord::new(vec![b"v=spf1 ".to_vec(), b"-all".to_vec()]);
/// assert_eq!(txt.joined(), b"v=spf1 -all");
/// assert_eq!(txt.strings().len(), 2);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default, Hash)]
pub struct TxtRecord {
    strings: Vec<Vec<u8>>,
}

impl TxtRecord {
    /// A record of the given character-strings.
    pub fn new(strings: Vec<Vec<u8>>) -> Self {
        TxtRecord { strings }
    }

    /// A record of one character-string (longer than 255 bytes is allowed here; a real server would
    /// split it).
    pub fn from_text(text: &str) -> Self {
        TxtRecord {
            strings: vec![text.as_bytes().to_vec()],
        }
    }

    /// The character-strings, in order.
    pub fn strings(&self) -> &[Vec<u8>] {
        &self.strings
    }

    /// The character-strings joined with no separator (RFC 7208 §3.3).
    pub fn joined(&self) -> Vec<u8> {
        self.strings.concat()
    }

    /// The character-strings joined as [`joined`](Self::joined) joins them, borrowed when the
    /// record is a single string (the common case: no copy).
    ///
    /// ```
    /// use std::borrow::Cow;
    /// use sender_identity::dns::TxtRecord;
    /// let one = TxtRecord::from_text("v=spf1 -all");
    /// assert!(matches!(one.text(), Cow::Borrowed(b"v=spf1 -all")));
    /// let two = TxtRecord::new(vec![b"v=spf1 ".to_vec(), b"-all".to_vec()]);
    /// assert_eq!(two.text(), &b"v=spf1 -all"[..]);
    /// ```
    pub fn text(&self) -> Cow<'_, [u8]> {
        match &*self.strings {
            [one] => Cow::Borrowed(one),
            many => Cow::Owned(many.concat()),
        }
    }

    /// Whether the joined strings start with `prefix`, without joining them.
    pub fn starts_with(&self, prefix: &[u8]) -> bool {
        let mut rest = prefix;
        for s in &self.strings {
            if rest.is_empty() {
                return true;
            }
            let n = rest.len().min(s.len());
            if s[..n] != rest[..n] {
                return false;
            }
            rest = &rest[n..];
        }
        rest.is_empty()
    }
}

/// One MX record.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Mx {
    /// The preference; lower is preferred.
    pub preference: u16,
    /// The exchange host name, lower-case, without a trailing dot. Empty for a null MX (RFC 7505, `.`).
    pub exchange: String,
}

/// An asynchronous DNS resolver: the one way every check in this crate reaches DNS.
///
/// Object safe and `Send + Sync`, so `Arc<dyn Resolver>` works; it is also implemented for `&T`,
/// `Box<T>` and `Arc<T>`. CNAMEs are followed by the implementation. An implementation returns
/// [`LookupError::NoData`] or [`LookupError::NxDomain`] rather than an empty list, but callers treat an
/// empty list as NODATA too.
///
/// # Answers held in memory
/// An `async` method costs a boxed future per call (that is how `async_trait` keeps the trait object
/// safe). A resolver that already holds an answer in memory (an in-memory zone such as
/// [`ZoneResolver`], a cache in front of DNS) can also implement the `*_now` methods
/// ([`Resolver::lookup_a_now`] and the same for AAAA, MX, TXT and PTR): the
/// checks ask them first and only await the `async` method when they return `None`, so an answer
/// from memory costs neither a future nor, when borrowed, a copy. Both paths must give the same
/// answers. The defaults return `None`.
///
/// A resolver may instead (or as well) keep an [`AnswerCache`] and offer it through
/// [`Resolver::answer_cache`]: the checks read it under one lock per run, borrowing the answers.
/// [`HickoryResolver`] does that by default.
///
/// The `*_now` methods may be asked names that cannot be sent as DNS queries (SPF macros can build
/// them: an empty label, a label over 63 bytes; see [`crate::name::fits_dns`]), which the checks
/// answer NXDOMAIN without asking the `async` methods. Answer such a name NXDOMAIN or `None`, never
/// with records: a resolver holding only names that DNS served never holds one.
///
/// ```
/// use std::sync::Arc;
/// use sender_identity::dns::{Resolver, ZoneResolver};
///
/// let zone: ZoneResolver = "example.com. A 192.0.2.1".parse().unwrap();
/// let shared: Arc<dyn Resolver> = Arc::new(zone);
/// # let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
/// # rt.block_on(async {
/// let addrs = shared.lookup_a("example.com").await.unwrap();
/// assert_eq!(addrs, vec!["192.0.2.1".parse::<std::net::Ipv4Addr>().unwrap()]);
/// # });
/// ```
///
/// # Implementing a resolver
/// Implement the five `async` lookups with [`#[async_trait]`](macro@async_trait), re-exported here
/// so that you need no `async-trait` dependency of your own. The other methods have defaults:
/// [`Resolver::lookup_txt_ttl`] calls `lookup_txt` and reports no TTL, the `*_now` methods answer
/// `None`. A resolver of your own, answering from a table:
///
/// ```
/// use sender_identity::dns::{async_trait, LookupError, LookupResult, Mx, Resolver, TxtRecord};
/// use sender_identity::spf::{SpfResult, Verifier};
/// use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
///
/// /// Every name has one TXT record, the same SPF policy; nothing else exists.
/// struct OnePolicy(&'static str);
///
/// #[async_trait]
/// impl Resolver for OnePolicy {
///     async fn lookup_txt(&self, _name: &str) -> LookupResult<Vec<TxtRecord>> {
///         Ok(vec![TxtRecord::from_text(self.0)])
///     }
///     async fn lookup_a(&self, _name: &str) -> LookupResult<Vec<Ipv4Addr>> {
///         Err(LookupError::NxDomain)
///     }
///     async fn lookup_aaaa(&self, _name: &str) -> LookupResult<Vec<Ipv6Addr>> {
///         Err(LookupError::NxDomain)
///     }
///     async fn lookup_mx(&self, _name: &str) -> LookupResult<Vec<Mx>> {
///         Err(LookupError::NxDomain)
///     }
///     async fn lookup_ptr(&self, _ip: IpAddr) -> LookupResult<Vec<String>> {
///         Err(LookupError::NxDomain)
///     }
/// }
///
/// # let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
/// # rt.block_on(async {
/// let spf = Verifier::new(OnePolicy("v=spf1 ip4:192.0.2.0/24 -all"));
/// let out = spf.check_helo("192.0.2.1".parse().unwrap(), "mail.example.com").await;
/// assert_eq!(out.result, SpfResult::Pass);
/// # });
/// ```
///
/// ## Wrapping a resolver
/// A wrapper (one that counts, logs or filters queries in front of another resolver) must forward
/// **every** method, not only the five `async` lookups: the defaults of the others would hide what
/// the inner resolver does. Forget [`Resolver::lookup_txt_ttl`] and a [`crate::spf::RecordCache`]
/// no longer sees the records' TTLs; forget a `*_now` method and answers the inner resolver holds in
/// memory are awaited through a boxed future each time (slower, and a wrapper that counts queries
/// counts answers that never reached the network). A wrapper that counts the lookups it passes on:
///
/// ```
/// use sender_identity::dns::{
///     async_trait, AnswerCache, LookupResult, Mx, Resolver, TxtAnswer, TxtRecord, ZoneResolver,
/// };
/// use std::borrow::Cow;
/// use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
/// use std::sync::atomic::{AtomicUsize, Ordering};
///
/// struct Counting<R> {
///     inner: R,
///     awaited: AtomicUsize,
/// }
///
/// impl<R> Counting<R> {
///     fn count(&self) {
///         self.awaited.fetch_add(1, Ordering::Relaxed);
///     }
/// }
///
/// #[async_trait]
/// impl<R: Resolver> Resolver for Counting<R> {
///     async fn lookup_txt(&self, name: &str) -> LookupResult<Vec<TxtRecord>> {
///         self.count();
///         self.inner.lookup_txt(name).await
///     }
///     async fn lookup_a(&self, name: &str) -> LookupResult<Vec<Ipv4Addr>> {
///         self.count();
///         self.inner.lookup_a(name).await
///     }
///     async fn lookup_aaaa(&self, name: &str) -> LookupResult<Vec<Ipv6Addr>> {
///         self.count();
///         self.inner.lookup_aaaa(name).await
///     }
///     async fn lookup_mx(&self, name: &str) -> LookupResult<Vec<Mx>> {
///         self.count();
///         self.inner.lookup_mx(name).await
///     }
///     async fn lookup_ptr(&self, ip: IpAddr) -> LookupResult<Vec<String>> {
///         self.count();
///         self.inner.lookup_ptr(ip).await
///     }
///     // Forwarded too: the TTLs the inner resolver knows ...
///     async fn lookup_txt_ttl(&self, name: &str) -> TxtAnswer {
///         self.count();
///         self.inner.lookup_txt_ttl(name).await
///     }
///     // ... and the answers it holds in memory (not counted: they never reach the network).
///     fn lookup_a_now(&self, name: &str) -> Option<LookupResult<Cow<'_, [Ipv4Addr]>>> {
///         self.inner.lookup_a_now(name)
///     }
///     fn lookup_aaaa_now(&self, name: &str) -> Option<LookupResult<Cow<'_, [Ipv6Addr]>>> {
///         self.inner.lookup_aaaa_now(name)
///     }
///     fn lookup_mx_now(&self, name: &str) -> Option<LookupResult<Cow<'_, [Mx]>>> {
///         self.inner.lookup_mx_now(name)
///     }
///     fn lookup_txt_now(&self, name: &str) -> Option<LookupResult<Cow<'_, [TxtRecord]>>> {
///         self.inner.lookup_txt_now(name)
///     }
///     fn lookup_ptr_now(&self, ip: IpAddr) -> Option<LookupResult<Cow<'_, [String]>>> {
///         self.inner.lookup_ptr_now(ip)
///     }
///     // ... and its answer cache (answers read from it are not counted either).
///     fn answer_cache(&self) -> Option<&AnswerCache> {
///         self.inner.answer_cache()
///     }
/// }
///
/// let zone: ZoneResolver = "example.com. A 192.0.2.1".parse().unwrap();
/// let counting = Counting { inner: zone, awaited: AtomicUsize::new(0) };
/// // The zone holds its answers in memory: they come through `lookup_a_now`, with nothing awaited.
/// assert_eq!(counting.lookup_a_now("example.com").unwrap().unwrap()[0], Ipv4Addr::new(192, 0, 2, 1));
/// assert_eq!(counting.awaited.load(Ordering::Relaxed), 0);
/// # let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
/// # rt.block_on(async {
/// // Awaited lookups go through the wrapper's own code.
/// assert!(counting.lookup_a("example.com").await.is_ok());
/// assert_eq!(counting.awaited.load(Ordering::Relaxed), 1);
/// # });
/// ```
#[async_trait]
pub trait Resolver: Send + Sync {
    /// The TXT records at `name`.
    async fn lookup_txt(&self, name: &str) -> LookupResult<Vec<TxtRecord>>;
    /// The IPv4 addresses of `name`.
    async fn lookup_a(&self, name: &str) -> LookupResult<Vec<Ipv4Addr>>;
    /// The IPv6 addresses of `name`.
    async fn lookup_aaaa(&self, name: &str) -> LookupResult<Vec<Ipv6Addr>>;
    /// The MX records of `name`, in the order served (callers sort by preference if they need to).
    async fn lookup_mx(&self, name: &str) -> LookupResult<Vec<Mx>>;
    /// The names the PTR records of `ip` point to (the reverse name is built by the resolver).
    async fn lookup_ptr(&self, ip: IpAddr) -> LookupResult<Vec<String>>;

    /// [`Resolver::lookup_txt`] with how long the answer may be cached, for caches such as
    /// [`crate::spf::RecordCache`]. The default implementation calls `lookup_txt` and reports no TTL
    /// (caches then use their own default); [`HickoryResolver`] reports the real TTLs.
    async fn lookup_txt_ttl(&self, name: &str) -> TxtAnswer {
        TxtAnswer {
            result: self.lookup_txt(name).await,
            ttl: None,
        }
    }

    /// The IPv4 addresses of `name` when the resolver holds the answer in memory: given at once,
    /// borrowed if it can be, without creating a future. `None` (the default) when it would have to
    /// ask; the caller then awaits [`Resolver::lookup_a`]. See [answers held in
    /// memory](Resolver#answers-held-in-memory).
    fn lookup_a_now(&self, name: &str) -> Option<LookupResult<Cow<'_, [Ipv4Addr]>>> {
        let _ = name;
        None
    }
    /// The IPv6 addresses of `name` when held in memory; see [`Resolver::lookup_a_now`].
    fn lookup_aaaa_now(&self, name: &str) -> Option<LookupResult<Cow<'_, [Ipv6Addr]>>> {
        let _ = name;
        None
    }
    /// The MX records of `name` when held in memory; see [`Resolver::lookup_a_now`].
    fn lookup_mx_now(&self, name: &str) -> Option<LookupResult<Cow<'_, [Mx]>>> {
        let _ = name;
        None
    }
    /// The TXT records of `name` when held in memory; see [`Resolver::lookup_a_now`]. A record
    /// cache keeps records parsed from these answers for its default TTL.
    fn lookup_txt_now(&self, name: &str) -> Option<LookupResult<Cow<'_, [TxtRecord]>>> {
        let _ = name;
        None
    }
    /// The PTR names of `ip` when held in memory; see [`Resolver::lookup_a_now`].
    fn lookup_ptr_now(&self, ip: IpAddr) -> Option<LookupResult<Cow<'_, [String]>>> {
        let _ = ip;
        None
    }

    /// The [`AnswerCache`] this resolver keeps the answers it received in, if any: the checks read
    /// it before awaiting a lookup (one read lock per run of a check, answers borrowed). `None`
    /// (the default) when it keeps none. The `async` lookups of a resolver that keeps one should
    /// answer from it too, so that both paths give the same answers. Its `*_now` methods must
    /// **not** read it: a check calls them while it holds the cache's read lock, and a second read
    /// lock on the same thread can deadlock with a writer waiting in between.
    fn answer_cache(&self) -> Option<&AnswerCache> {
        None
    }
}

/// `$resolver.$now($name)` when the resolver answers from memory ([`Resolver::lookup_a_now`] and
/// friends), else the answer its [`AnswerCache`] holds (`$cached`), otherwise `$resolver.$lookup($name)`
/// awaited, as a `LookupResult<Cow<[T]>>`: the one way the HELO and iprev checks ask for A, AAAA, MX
/// and PTR records. A macro rather than an `async fn`, so that an answer at hand costs no future.
macro_rules! ask {
    ($resolver:expr, $now:ident, $cached:ident, $lookup:ident, $name:expr) => {{
        let (resolver, name) = ($resolver, $name);
        match resolver.$now(name) {
            Some(answer) => answer,
            None => match resolver
                .answer_cache()
                .and_then(|cache| cache.$cached(name))
            {
                Some(answer) => answer.map(std::borrow::Cow::<[_]>::Owned),
                None => resolver
                    .$lookup(name)
                    .await
                    .map(std::borrow::Cow::<[_]>::Owned),
            },
        }
    }};
}
pub(crate) use ask;

/// The boxed future every `Resolver` method returns once `async_trait` has desugared it.
pub(crate) type Boxed<'a, T> = std::pin::Pin<Box<dyn std::future::Future<Output = T> + Send + 'a>>;

/// Forwards to the inner resolver's future as it is, without boxing it a second time (an `async fn`
/// here would wrap the inner boxed future in another box on every lookup).
macro_rules! forward_resolver {
    ($($ty:ty),*) => {$(
        impl<T: Resolver + ?Sized> Resolver for $ty {
            fn lookup_txt<'s, 'n, 'f>(&'s self, name: &'n str) -> Boxed<'f, LookupResult<Vec<TxtRecord>>>
            where 's: 'f, 'n: 'f, Self: 'f {
                (**self).lookup_txt(name)
            }
            fn lookup_a<'s, 'n, 'f>(&'s self, name: &'n str) -> Boxed<'f, LookupResult<Vec<Ipv4Addr>>>
            where 's: 'f, 'n: 'f, Self: 'f {
                (**self).lookup_a(name)
            }
            fn lookup_aaaa<'s, 'n, 'f>(&'s self, name: &'n str) -> Boxed<'f, LookupResult<Vec<Ipv6Addr>>>
            where 's: 'f, 'n: 'f, Self: 'f {
                (**self).lookup_aaaa(name)
            }
            fn lookup_mx<'s, 'n, 'f>(&'s self, name: &'n str) -> Boxed<'f, LookupResult<Vec<Mx>>>
            where 's: 'f, 'n: 'f, Self: 'f {
                (**self).lookup_mx(name)
            }
            fn lookup_ptr<'s, 'f>(&'s self, ip: IpAddr) -> Boxed<'f, LookupResult<Vec<String>>>
            where 's: 'f, Self: 'f {
                (**self).lookup_ptr(ip)
            }
            fn lookup_txt_ttl<'s, 'n, 'f>(&'s self, name: &'n str) -> Boxed<'f, TxtAnswer>
            where 's: 'f, 'n: 'f, Self: 'f {
                (**self).lookup_txt_ttl(name)
            }
            fn lookup_a_now(&self, name: &str) -> Option<LookupResult<Cow<'_, [Ipv4Addr]>>> {
                (**self).lookup_a_now(name)
            }
            fn lookup_aaaa_now(&self, name: &str) -> Option<LookupResult<Cow<'_, [Ipv6Addr]>>> {
                (**self).lookup_aaaa_now(name)
            }
            fn lookup_mx_now(&self, name: &str) -> Option<LookupResult<Cow<'_, [Mx]>>> {
                (**self).lookup_mx_now(name)
            }
            fn lookup_txt_now(&self, name: &str) -> Option<LookupResult<Cow<'_, [TxtRecord]>>> {
                (**self).lookup_txt_now(name)
            }
            fn lookup_ptr_now(&self, ip: IpAddr) -> Option<LookupResult<Cow<'_, [String]>>> {
                (**self).lookup_ptr_now(ip)
            }
            fn answer_cache(&self) -> Option<&AnswerCache> {
                (**self).answer_cache()
            }
        }
    )*};
}

forward_resolver!(&T, Box<T>, Arc<T>);

/// The name queried for the PTR records of `ip`: `4.3.2.1.in-addr.arpa` or the nibble form under
/// `ip6.arpa` (no trailing dot).
///
/// ```
/// use sender_identity::dns::reverse_name;
/// assert_eq!(reverse_name("192.0.2.1".parse().unwrap()), "1.2.0.192.in-addr.arpa");
/// assert!(reverse_name("2001:db8::1".parse().unwrap()).ends_with(".8.b.d.0.1.0.0.2.ip6.arpa"));
/// ```
pub fn reverse_name(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            format!("{}.{}.{}.{}.in-addr.arpa", o[3], o[2], o[1], o[0])
        }
        IpAddr::V6(v6) => {
            const HEX: &[u8; 16] = b"0123456789abcdef";
            let mut s = String::with_capacity(72);
            for b in v6.octets().iter().rev() {
                s.push(HEX[(b & 0xf) as usize] as char);
                s.push('.');
                s.push(HEX[(b >> 4) as usize] as char);
                s.push('.');
            }
            s.push_str("ip6.arpa");
            s
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn txt_starts_with_spans_strings() {
        let t = TxtRecord::new(vec![b"v=s".to_vec(), b"".to_vec(), b"pf1 a".to_vec()]);
        assert!(t.starts_with(b"v=spf1"));
        assert!(t.starts_with(b""));
        assert!(!t.starts_with(b"v=spf2"));
        assert!(!TxtRecord::new(vec![b"v=sp".to_vec()]).starts_with(b"v=spf1"));
    }

    #[test]
    fn reverse_v6_is_nibbles() {
        let n = reverse_name("2001:db8::1".parse().unwrap());
        assert_eq!(
            n,
            "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa"
        );
    }

    #[test]
    fn void_classification() {
        assert!(!LookupError::ServerFailure("x".into()).is_void());
        assert!(!LookupError::Other("x".into()).is_void());
    }
}
