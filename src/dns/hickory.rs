//! The production resolver, backed by hickory-resolver.

use super::{
    AnswerCache, LookupError, LookupResult, Mx, Resolver, TxtAnswer, TxtRecord, reverse_name,
};
use crate::name::{normalize, strip_root};
use async_trait::async_trait;
use hickory_resolver::TokioResolver;
use hickory_resolver::config::{NameServerConfig, ResolveHosts, ResolverConfig, ResolverOpts};
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use hickory_resolver::net::{DnsError, NetError};
use hickory_resolver::proto::op::ResponseCode;
use hickory_resolver::proto::rr::{Name, RData, RecordType};
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

/// The per-try timeout when none is set: 5 seconds, as in `resolv.conf`.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);
/// The number of tries when none is set.
const DEFAULT_ATTEMPTS: usize = 2;
/// The answers of each record type the answer cache holds when no size is set.
const DEFAULT_CACHE_SIZE: usize = 10_000;

/// The production [`Resolver`]: hickory-resolver's tokio resolver (feature `hickory`).
///
/// Every name is queried as a fully qualified name: no search domains are appended and `ndots` plays
/// no part. Only the record type asked for is queried; CNAMEs are followed by hickory (at most 8) and
/// only records of the asked type are returned. TXT character-strings are kept separately and
/// byte-exact; MX exchanges and PTR targets are lower-cased without a trailing dot (a null MX gives
/// an empty exchange). `/etc/hosts` is not consulted.
///
/// # Runtime
/// Lookups run on Tokio and need a runtime with IO and time enabled (`enable_all()`, or
/// `#[tokio::main]`): hickory's own timeouts use `tokio::time`, which panics on a runtime built
/// without the time driver. (The crate's own time limits, [`crate::spf::Config::timeout`] and
/// [`crate::session::Policy::timeout`], work on any executor; a resolver of your own can too.)
///
/// # Caching
/// A resolver keeps the answers it receives in an [`AnswerCache`] (10,000 answers of each record
/// type unless [`HickoryResolverBuilder::cache_size`] says otherwise; 0 turns it off), for their
/// TTL, with NXDOMAIN and NODATA kept for their negative TTL (RFC 2308). The checks read that
/// cache without awaiting anything ([`Resolver::answer_cache`]): a check answered from it costs no
/// future, no copy and no allocation, so a warm check over real DNS costs about what it costs over
/// an in-memory zone. Several resolvers can share one cache
/// ([`HickoryResolverBuilder::answer_cache`]).
///
/// hickory's own answer cache is off in a resolver this crate builds (it would keep a second copy,
/// behind a future per lookup). A resolver wrapped with [`HickoryResolver::from_resolver`] keeps
/// whatever its configuration says (hickory's default is a cache of 8,192 answers) and gets an
/// answer cache of the default size. Identical queries in flight at the same time are always
/// sent once and shared, by hickory.
///
/// # Errors
/// | hickory reports | [`LookupError`] |
/// |---|---|
/// | NXDOMAIN | [`NxDomain`](LookupError::NxDomain) |
/// | NOERROR without records of the type | [`NoData`](LookupError::NoData) |
/// | no answer within the timeout, after every try | [`Timeout`](LookupError::Timeout) |
/// | SERVFAIL, REFUSED or any other response code | [`ServerFailure`](LookupError::ServerFailure) |
/// | anything else (an unusable name, a malformed answer, a transport error, ...) | [`Other`](LookupError::Other) |
///
/// # Special names
/// hickory answers a few special-use names (RFC 6761) itself, without a query: names under
/// `localhost` resolve to the loopback addresses, the PTR of a loopback address is `localhost`, and
/// names under `invalid` are NXDOMAIN.
///
/// ```no_run
/// use sender_identity::dns::{HickoryResolver, Resolver};
///
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let resolver = HickoryResolver::from_system_conf()?;
/// for txt in resolver.lookup_txt("example.com").await? {
///     println!("{}", String::from_utf8_lossy(&txt.joined()));
/// }
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct HickoryResolver {
    inner: TokioResolver,
    cache: Option<Arc<AnswerCache>>,
}

/// Why a [`HickoryResolver`] could not be made: the system configuration could not be read, or
/// hickory-resolver refused the configuration.
#[derive(Debug, thiserror::Error)]
#[error("cannot configure the hickory resolver: {source}")]
pub struct HickoryConfigError {
    #[source]
    source: NetError,
}

impl From<NetError> for HickoryConfigError {
    fn from(source: NetError) -> Self {
        HickoryConfigError { source }
    }
}

/// Configures a [`HickoryResolver`]: its name servers, timeout, number of tries and cache.
///
/// Made by [`HickoryResolver::builder`] (no name servers yet) or
/// [`HickoryResolverBuilder::from_system_conf`] (the name servers, timeout and tries of the system
/// configuration).
///
/// ```
/// use std::time::Duration;
/// use sender_identity::dns::HickoryResolver;
///
/// let resolver = HickoryResolver::builder()
///     .name_server("127.0.0.1:53".parse().unwrap())
///     .timeout(Duration::from_secs(2))
///     .attempts(3)
///     .build()
///     .unwrap();
/// # let _ = resolver;
/// ```
#[derive(Clone)]
pub struct HickoryResolverBuilder {
    config: ResolverConfig,
    options: ResolverOpts,
    cache: Cache,
}

/// The answer cache a builder gives its resolver.
#[derive(Clone, Debug)]
enum Cache {
    Size(usize),
    Shared(Arc<AnswerCache>),
}

impl Cache {
    fn build(self) -> Option<Arc<AnswerCache>> {
        match self {
            Cache::Size(0) => None,
            Cache::Size(size) => Some(Arc::new(AnswerCache::new(size))),
            Cache::Shared(cache) => Some(cache),
        }
    }
}

impl fmt::Debug for HickoryResolverBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HickoryResolverBuilder")
            .field("name_servers", &self.config.name_servers())
            .field("timeout", &self.options.timeout)
            .field("attempts", &(self.options.attempts + 1))
            .field("cache", &self.cache)
            .finish()
    }
}

impl Default for HickoryResolverBuilder {
    fn default() -> Self {
        Self::new()
    }
}

impl HickoryResolverBuilder {
    /// A builder with no name servers, a 5 second timeout, 2 tries and an answer cache of 10,000
    /// answers of each type.
    pub fn new() -> Self {
        Self::with_parts(ResolverConfig::default(), ResolverOpts::default())
            .timeout(DEFAULT_TIMEOUT)
            .attempts(DEFAULT_ATTEMPTS)
    }

    /// A builder with the name servers, timeout and number of tries of the system configuration
    /// (`/etc/resolv.conf` on Unix), and the default answer cache. Its search domains and `ndots` are not used.
    ///
    /// ```no_run
    /// use std::time::Duration;
    /// use sender_identity::dns::HickoryResolverBuilder;
    ///
    /// let resolver = HickoryResolverBuilder::from_system_conf()
    ///     .unwrap()
    ///     .timeout(Duration::from_secs(3))
    ///     .build()
    ///     .unwrap();
    /// # let _ = resolver;
    /// ```
    #[cfg(any(unix, windows))]
    pub fn from_system_conf() -> Result<Self, HickoryConfigError> {
        let (config, options) = hickory_resolver::system_conf::read_system_conf()?;
        Ok(Self::with_parts(config, options))
    }

    fn with_parts(config: ResolverConfig, mut options: ResolverOpts) -> Self {
        options.cache_size = 0;
        options.use_hosts_file = ResolveHosts::Never;
        HickoryResolverBuilder {
            config,
            options,
            cache: Cache::Size(DEFAULT_CACHE_SIZE),
        }
    }

    /// Adds a name server at `addr` (any port), queried over UDP, and over TCP when an answer is
    /// truncated.
    pub fn name_server(mut self, addr: SocketAddr) -> Self {
        let mut server = NameServerConfig::udp_and_tcp(addr.ip());
        for connection in &mut server.connections {
            connection.port = addr.port();
        }
        self.config.add_name_server(server);
        self
    }

    /// Adds each of `addrs` as by [`name_server`](Self::name_server).
    pub fn name_servers(self, addrs: &[SocketAddr]) -> Self {
        addrs
            .iter()
            .fold(self, |builder, addr| builder.name_server(*addr))
    }

    /// How long one try of a query waits for an answer (default 5 seconds). Over UDP, the query is
    /// re-sent within this time if no answer has come after about a third of a second.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.options.timeout = timeout;
        self
    }

    /// How many times a query is tried before giving up (default 2; 0 counts as 1). A lookup that
    /// gets no answer at all gives up after about `timeout × attempts`.
    pub fn attempts(mut self, attempts: usize) -> Self {
        // hickory counts retries after the first try.
        self.options.attempts = attempts.saturating_sub(1);
        self
    }

    /// The size of the resolver's [`AnswerCache`]: `entries` answers of each record type (default
    /// 10,000; 0 turns the cache off, so that every lookup is a query to a name server).
    pub fn cache_size(mut self, entries: usize) -> Self {
        self.cache = Cache::Size(entries);
        self
    }

    /// Keeps answers in `cache`, shared with whoever else holds it (another resolver, or the
    /// caller, who can read, fill or clear it).
    pub fn answer_cache(mut self, cache: Arc<AnswerCache>) -> Self {
        self.cache = Cache::Shared(cache);
        self
    }

    /// Makes the resolver. No tokio runtime is needed for this; lookups must run inside one.
    ///
    /// # Errors
    /// When hickory-resolver refuses the configuration (which it does only when a TLS feature of
    /// hickory-resolver is turned on elsewhere in the build and its TLS setup fails).
    pub fn build(self) -> Result<HickoryResolver, HickoryConfigError> {
        let mut builder =
            TokioResolver::builder_with_config(self.config, TokioRuntimeProvider::default());
        *builder.options_mut() = self.options;
        Ok(HickoryResolver {
            inner: builder.build()?,
            cache: self.cache.build(),
        })
    }
}

impl HickoryResolver {
    /// A [`HickoryResolverBuilder`] with no name servers yet.
    ///
    /// ```
    /// use std::time::Duration;
    /// use sender_identity::dns::HickoryResolver;
    ///
    /// let resolver = HickoryResolver::builder()
    ///     .name_servers(&["127.0.0.1:5353".parse().unwrap()])
    ///     .timeout(Duration::from_millis(500))
    ///     .attempts(1)
    ///     .build()
    ///     .unwrap();
    /// # let _ = resolver;
    /// ```
    pub fn builder() -> HickoryResolverBuilder {
        HickoryResolverBuilder::new()
    }

    /// A resolver using the name servers, timeout and number of tries of the system configuration
    /// (`/etc/resolv.conf` on Unix), with the default answer cache. Its search domains and `ndots`
    /// are not used.
    ///
    /// ```no_run
    /// use sender_identity::dns::HickoryResolver;
    /// let resolver = HickoryResolver::from_system_conf().unwrap();
    /// # let _ = resolver;
    /// ```
    #[cfg(any(unix, windows))]
    pub fn from_system_conf() -> Result<Self, HickoryConfigError> {
        HickoryResolverBuilder::from_system_conf()?.build()
    }

    /// A resolver querying the name servers at `addrs` (each `ip:port`, over UDP with TCP for
    /// truncated answers), with a 5 second timeout, 2 tries and the default answer cache.
    ///
    /// ```
    /// use sender_identity::dns::HickoryResolver;
    /// let resolver = HickoryResolver::with_nameservers(&["127.0.0.1:53".parse().unwrap()]);
    /// # let _ = resolver;
    /// ```
    ///
    /// # Panics
    /// When hickory-resolver refuses the configuration, which it does only when a TLS feature of
    /// hickory-resolver is turned on elsewhere in the build and its TLS setup fails; use
    /// [`builder`](Self::builder) to get that as an error instead.
    pub fn with_nameservers(addrs: &[SocketAddr]) -> Self {
        Self::builder()
            .name_servers(addrs)
            .build()
            .expect("hickory-resolver refused a plain UDP/TCP configuration")
    }

    /// Wraps a hickory resolver configured by the caller. Its own settings apply (cache, timeout,
    /// tries, hosts file, DNSSEC...), except that names are still queried as fully qualified names;
    /// answers are also kept in an answer cache of the default size.
    ///
    /// ```
    /// use hickory_resolver::config::{NameServerConfig, ResolverConfig};
    /// use hickory_resolver::net::runtime::TokioRuntimeProvider;
    /// use hickory_resolver::TokioResolver;
    /// use sender_identity::dns::HickoryResolver;
    ///
    /// let config = ResolverConfig::from_name_servers(vec![NameServerConfig::udp_and_tcp(
    ///     "127.0.0.1".parse().unwrap(),
    /// )]);
    /// let hickory = TokioResolver::builder_with_config(config, TokioRuntimeProvider::default())
    ///     .build()
    ///     .unwrap();
    /// let resolver = HickoryResolver::from_resolver(hickory);
    /// # let _ = resolver;
    /// ```
    pub fn from_resolver(resolver: TokioResolver) -> Self {
        HickoryResolver {
            inner: resolver,
            cache: Cache::Size(DEFAULT_CACHE_SIZE).build(),
        }
    }

    /// The wrapped hickory resolver.
    pub fn inner(&self) -> &TokioResolver {
        &self.inner
    }

    /// Looks up `name` (as a fully qualified name) for `rtype`, keeps the answers `pick` accepts,
    /// and says how long the answer may be cached: until the answer's `valid_until`, or
    /// the negative TTL of an NXDOMAIN / NODATA answer that carried an SOA.
    async fn lookup_ttl<T>(
        &self,
        name: Name,
        rtype: RecordType,
        pick: impl Fn(&RData) -> Option<T>,
    ) -> (LookupResult<Vec<T>>, Option<Duration>) {
        let lookup = match self.inner.lookup(name, rtype).await {
            Ok(lookup) => lookup,
            Err(err) => {
                let ttl = match &err {
                    NetError::Dns(DnsError::NoRecordsFound(no)) => {
                        no.negative_ttl.map(|t| Duration::from_secs(t.into()))
                    }
                    _ => None,
                };
                return (Err(lookup_error(err)), ttl);
            }
        };
        // Zero once `valid_until` has passed (a TTL of 0): such an answer is not to be kept.
        let ttl = Some(
            lookup
                .valid_until()
                .saturating_duration_since(std::time::Instant::now()),
        );
        let found: Vec<T> = lookup
            .answers()
            .iter()
            .filter_map(|r| pick(&r.data))
            .collect();
        if found.is_empty() {
            (Err(LookupError::NoData), ttl)
        } else {
            (Ok(found), ttl)
        }
    }
}

impl From<TokioResolver> for HickoryResolver {
    fn from(resolver: TokioResolver) -> Self {
        Self::from_resolver(resolver)
    }
}

/// `name` as a fully qualified hickory name, its labels taken as raw bytes (no escapes, no IDNA).
/// Built label by label onto the root: what `Name::from_labels` does after first collecting the
/// labels and their errors into vectors (about 140 instructions a lookup more).
fn fqdn(name: &str) -> LookupResult<Name> {
    let bare = strip_root(name);
    let mut fqdn = Name::root();
    if bare.is_empty() {
        return Ok(fqdn);
    }
    for label in bare.split('.') {
        fqdn = fqdn
            .append_label(label.as_bytes())
            .map_err(|e| LookupError::Other(format!("invalid name {name:?}: {e}")))?;
    }
    Ok(fqdn)
}

/// A name from an answer, lower-case and without the trailing dot (the root becomes "").
fn answer_name(name: &Name) -> String {
    normalize(&name.to_ascii()).into_owned()
}

/// Maps hickory's error to ours (see the table on [`HickoryResolver`]).
fn lookup_error(err: NetError) -> LookupError {
    match err {
        NetError::Dns(DnsError::NoRecordsFound(no_records)) => match no_records.response_code {
            ResponseCode::NXDomain => LookupError::NxDomain,
            ResponseCode::NoError => LookupError::NoData,
            code => LookupError::ServerFailure(rcode_name(code)),
        },
        NetError::Dns(DnsError::ResponseCode(code)) => LookupError::ServerFailure(rcode_name(code)),
        NetError::Timeout => LookupError::Timeout,
        NetError::Io(e) if e.kind() == std::io::ErrorKind::TimedOut => LookupError::Timeout,
        other => LookupError::Other(other.to_string()),
    }
}

/// The mnemonic of a response code, as `dig` shows it.
fn rcode_name(code: ResponseCode) -> String {
    let name = match code {
        ResponseCode::NoError => "NOERROR",
        ResponseCode::FormErr => "FORMERR",
        ResponseCode::ServFail => "SERVFAIL",
        ResponseCode::NXDomain => "NXDOMAIN",
        ResponseCode::NotImp => "NOTIMP",
        ResponseCode::Refused => "REFUSED",
        ResponseCode::YXDomain => "YXDOMAIN",
        ResponseCode::YXRRSet => "YXRRSET",
        ResponseCode::NXRRSet => "NXRRSET",
        ResponseCode::NotAuth => "NOTAUTH",
        ResponseCode::NotZone => "NOTZONE",
        other => return format!("RCODE{}", u16::from(other)),
    };
    name.to_string()
}

/// Answers a lookup from the answer cache when it holds the answer; otherwise asks hickory for
/// `$rtype` records, keeps what `$pick` accepts, and keeps the answer with its TTL.
macro_rules! cached_lookup {
    ($self:ident, $get:ident, $insert:ident, $key:expr, $name:expr, $rtype:ident, $pick:expr) => {{
        if let Some(answer) = $self.cache.as_deref().and_then(|c| c.$get($key)) {
            return answer;
        }
        let (answer, ttl) = $self
            .lookup_ttl(fqdn($name)?, RecordType::$rtype, $pick)
            .await;
        if let Some(cache) = $self.cache.as_deref() {
            cache.$insert($key, &answer, ttl);
        }
        answer
    }};
}

#[async_trait]
impl Resolver for HickoryResolver {
    async fn lookup_txt(&self, name: &str) -> LookupResult<Vec<TxtRecord>> {
        if let Some(answer) = self.cache.as_deref().and_then(|c| c.txt(name)) {
            return answer;
        }
        self.lookup_txt_ttl(name).await.result
    }

    async fn lookup_txt_ttl(&self, name: &str) -> TxtAnswer {
        let fqdn = match fqdn(name) {
            Ok(name) => name,
            Err(e) => {
                return TxtAnswer {
                    result: Err(e),
                    ttl: None,
                };
            }
        };
        let (result, ttl) = self
            .lookup_ttl(fqdn, RecordType::TXT, |data| match data {
                RData::TXT(txt) => Some(TxtRecord::new(
                    txt.txt_data.iter().map(|s| s.to_vec()).collect(),
                )),
                _ => None,
            })
            .await;
        if let Some(cache) = self.cache.as_deref() {
            cache.insert_txt(name, &result, ttl);
        }
        TxtAnswer { result, ttl }
    }

    async fn lookup_a(&self, name: &str) -> LookupResult<Vec<Ipv4Addr>> {
        cached_lookup!(self, a, insert_a, name, name, A, |data| match data {
            RData::A(a) => Some(a.0),
            _ => None,
        })
    }

    async fn lookup_aaaa(&self, name: &str) -> LookupResult<Vec<Ipv6Addr>> {
        cached_lookup!(
            self,
            aaaa,
            insert_aaaa,
            name,
            name,
            AAAA,
            |data| match data {
                RData::AAAA(aaaa) => Some(aaaa.0),
                _ => None,
            }
        )
    }

    async fn lookup_mx(&self, name: &str) -> LookupResult<Vec<Mx>> {
        cached_lookup!(self, mx, insert_mx, name, name, MX, |data| match data {
            RData::MX(mx) => Some(Mx {
                preference: mx.preference,
                exchange: answer_name(&mx.exchange),
            }),
            _ => None,
        })
    }

    async fn lookup_ptr(&self, ip: IpAddr) -> LookupResult<Vec<String>> {
        cached_lookup!(
            self,
            ptr,
            insert_ptr,
            ip,
            &reverse_name(ip),
            PTR,
            |data| match data {
                RData::PTR(ptr) => Some(answer_name(&ptr.0)),
                _ => None,
            }
        )
    }

    fn answer_cache(&self) -> Option<&AnswerCache> {
        self.cache.as_deref()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hickory_resolver::net::NoRecords;
    use hickory_resolver::proto::op::Query;

    fn no_records(code: ResponseCode) -> NetError {
        NoRecords::new(Query::query(Name::root(), RecordType::A), code).into()
    }

    #[test]
    fn errors_map_exactly() {
        assert_eq!(
            lookup_error(no_records(ResponseCode::NXDomain)),
            LookupError::NxDomain
        );
        assert_eq!(
            lookup_error(no_records(ResponseCode::NoError)),
            LookupError::NoData
        );
        assert_eq!(
            lookup_error(no_records(ResponseCode::ServFail)),
            LookupError::ServerFailure("SERVFAIL".into())
        );
        assert_eq!(
            lookup_error(NetError::Dns(DnsError::ResponseCode(ResponseCode::Refused))),
            LookupError::ServerFailure("REFUSED".into())
        );
        assert_eq!(
            lookup_error(NetError::Dns(DnsError::ResponseCode(
                ResponseCode::Unknown(3841)
            ))),
            LookupError::ServerFailure("RCODE3841".into())
        );
        assert_eq!(lookup_error(NetError::Timeout), LookupError::Timeout);
        assert_eq!(
            lookup_error(std::io::Error::from(std::io::ErrorKind::TimedOut).into()),
            LookupError::Timeout
        );
        assert!(matches!(
            lookup_error(NetError::Busy),
            LookupError::Other(_)
        ));
        assert!(matches!(
            lookup_error(std::io::Error::from(std::io::ErrorKind::ConnectionRefused).into()),
            LookupError::Other(_)
        ));
    }

    #[test]
    fn names_are_fully_qualified_raw_labels() {
        let n = fqdn("Mail.Example.com").unwrap();
        assert!(n.is_fqdn());
        assert_eq!(n.to_ascii(), "Mail.Example.com.");
        assert_eq!(fqdn("example.com.").unwrap().num_labels(), 2);
        assert!(fqdn("").unwrap().is_root());
        assert!(fqdn(".").unwrap().is_root());
        // A backslash is a byte of the label, not an escape.
        assert_eq!(
            fqdn("a\\065.example").unwrap().iter().next(),
            Some(&b"a\\065"[..])
        );
        assert!(matches!(fqdn("a..example"), Err(LookupError::Other(_))));
        let long = format!("{}.com", "a".repeat(64));
        assert!(matches!(fqdn(&long), Err(LookupError::Other(_))));
        // At most 255 bytes on the wire: the labels, a length byte each, and the root's.
        let longest = format!("{0}.{0}.{0}.{1}", "a".repeat(63), "b".repeat(61));
        assert_eq!(fqdn(&longest).unwrap().num_labels(), 4);
        let too_long = format!("{longest}b");
        assert!(matches!(fqdn(&too_long), Err(LookupError::Other(_))));
    }

    #[test]
    fn answer_names_are_normalised() {
        assert_eq!(
            answer_name(&Name::from_ascii("Mail.EXAMPLE.com.").unwrap()),
            "mail.example.com"
        );
        assert_eq!(answer_name(&Name::root()), "");
    }

    #[test]
    fn builder_counts_tries() {
        let b = HickoryResolver::builder().attempts(1);
        assert_eq!(b.options.attempts, 0);
        let b = b.attempts(0);
        assert_eq!(b.options.attempts, 0);
        let b = b.attempts(3).cache_size(10);
        assert_eq!(b.options.attempts, 2);
        assert!(matches!(b.cache, Cache::Size(10)));
        assert_eq!(HickoryResolver::builder().options.cache_size, 0);
        assert!(
            HickoryResolver::builder()
                .cache_size(0)
                .build()
                .unwrap()
                .answer_cache()
                .is_none()
        );
        assert!(
            HickoryResolver::builder()
                .build()
                .unwrap()
                .answer_cache()
                .is_some()
        );
        let b = HickoryResolver::builder().name_server("127.0.0.1:5353".parse().unwrap());
        let servers = b.config.name_servers();
        assert_eq!(servers.len(), 1);
        assert!(servers[0].connections.iter().all(|c| c.port == 5353));
        assert_eq!(servers[0].connections.len(), 2);
    }
}
