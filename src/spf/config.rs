//! Evaluation limits and receiver settings, with the RFC 7208 defaults.

use std::time::Duration;

/// How an SPF evaluation is bounded and what the receiver calls itself.
///
/// The defaults are RFC 7208's: 10 DNS-querying terms, 2 void lookups, 10 MX names per `mx`, 10 PTR
/// names per `ptr` and `%{p}`, and a 20 second overall limit (§4.6.4, §11.1).
///
/// ```
/// use sender_identity::spf::Config;
/// let mut config = Config::default();
/// config.receiver = "mx.example.net".into();
/// config.max_void_lookups = 4;
/// assert_eq!(config.max_dns_lookups, 10);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Config {
    /// Terms that query DNS (`include`, `a`, `mx`, `ptr`, `exists`, `redirect=`) allowed per
    /// evaluation; one more is a permerror. Default 10.
    pub max_dns_lookups: u32,
    /// Void lookups (NXDOMAIN or no answers) allowed per evaluation; one more is a permerror.
    /// Default 2. Counted per term: the lookup of an `a`, `mx` or `exists` target (and, with
    /// [`Config::count_mx_address_voids`], each MX host's address lookup). PTR lookups are never
    /// counted: the sender does not control the client's reverse zone.
    pub max_void_lookups: u32,
    /// MX names an `mx` mechanism may return; more is a permerror (RFC 7208 §4.6.4). Default 10.
    pub max_mx_names: usize,
    /// PTR names examined for `ptr` and `%{p}`; the rest are ignored (RFC 7208 §4.6.4). Default 10.
    pub max_ptr_names: usize,
    /// Whether an MX host without addresses of the client's family counts as a void lookup (as pyspf
    /// and viaspf count it). Default `false`: an IPv6 client checked against IPv4-only MX hosts
    /// would otherwise hit the void limit on records that are not broken.
    pub count_mx_address_voids: bool,
    /// The overall limit on one evaluation; running out gives temperror. `None` disables it. It is
    /// armed only when the evaluation has to wait for DNS, and kept by this crate's own timer thread
    /// (`sender-identity-timer`, started on first use), not by `tokio::time`: it applies on any
    /// executor, including a Tokio runtime built without `enable_time()` (where Tokio's timers
    /// panic) and none at all. Should that thread fail to start, no limit is applied and the
    /// resolver's own per-query timeout bounds the work. Default 20 s.
    pub timeout: Option<Duration>,
    /// The receiving host's name, for `%{r}` in explanations. Default `unknown` (RFC 7208 §7.3).
    pub receiver: String,
    /// The explanation on fail when the record has no usable `exp=`; macros are expanded.
    pub default_explanation: String,
    /// Whether to record an evaluation [`super::Trace`] in [`super::SpfOutput::trace`]. Default
    /// `false`: tracing allocates for every event, while off it costs a flag test.
    pub trace: bool,
    /// Whether an evaluation that waits for DNS looks ahead and sends at once every lookup it can
    /// already name (the remaining terms of the records it has, the addresses of MX hosts it
    /// knows, the records of `include:` targets) rather than one lookup per round trip. Default
    /// `true`: over real DNS the wall time then follows the depth of the include tree, not the
    /// number of lookups (a record with five includes takes 2 round trips instead of 6). The cost:
    /// when an early term matches, the lookups sent for later terms were not needed (more queries,
    /// never more than the evaluation's bound on lookups, see [`super::Verifier`]). Turn it off to
    /// send only lookups the result needs, one round trip each.
    pub prefetch: bool,
}

/// The default explanation on fail.
pub const DEFAULT_EXPLANATION: &str = "%{i} is not allowed to send mail for %{o}";

impl Default for Config {
    fn default() -> Self {
        Config {
            max_dns_lookups: 10,
            max_void_lookups: 2,
            max_mx_names: 10,
            max_ptr_names: 10,
            count_mx_address_voids: false,
            timeout: Some(Duration::from_secs(20)),
            receiver: "unknown".to_string(),
            default_explanation: DEFAULT_EXPLANATION.to_string(),
            trace: false,
            prefetch: true,
        }
    }
}
