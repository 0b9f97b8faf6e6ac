//! The relay decision: trusted networks, then authentication, then relay domains, and the rule
//! that decided, for logs.

use super::{DomainList, DomainMatch, NetList, NetMatch};
use crate::ip::canonical;
use crate::name;
use std::fmt;
use std::net::IpAddr;

/// Who may relay: trusted networks, authenticated clients, and recipients in relay domains.
/// See the [module documentation](super) for the decision order.
///
/// ```
/// use sender_identity::relay::{DomainList, NetList, RelayPolicy};
///
/// let policy = RelayPolicy::new(NetList::parse("192.0.2.0/24")?, DomainList::parse("example.com")?)
///     .with_authenticated_relay(false);
/// assert!(policy.decide("192.0.2.1".parse()?, false, "example.org").allowed);
/// assert!(!policy.decide("203.0.113.1".parse()?, true, "example.org").allowed);
/// assert!(policy.decide("203.0.113.1".parse()?, false, "Example.com").allowed);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct RelayPolicy {
    trusted_networks: NetList,
    relay_domains: DomainList,
    authenticated_relay: bool,
}

impl Default for RelayPolicy {
    /// No trusted networks and no relay domains. Authenticated clients may relay.
    fn default() -> RelayPolicy {
        RelayPolicy::new(NetList::default(), DomainList::default())
    }
}

impl RelayPolicy {
    /// A policy with these trusted networks (`mynetworks`) and relay domains. Authenticated
    /// clients may relay, as with Postfix's default `permit_sasl_authenticated`.
    ///
    /// ```
    /// use sender_identity::relay::{DomainList, NetList, RelayPolicy};
    /// let policy = RelayPolicy::new(NetList::parse("127.0.0.0/8")?, DomainList::default());
    /// assert!(policy.authenticated_relay());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn new(trusted_networks: NetList, relay_domains: DomainList) -> RelayPolicy {
        RelayPolicy {
            trusted_networks,
            relay_domains,
            authenticated_relay: true,
        }
    }

    /// The same policy, with authenticated relaying turned on or off.
    ///
    /// ```
    /// let policy = sender_identity::relay::RelayPolicy::default().with_authenticated_relay(false);
    /// assert!(!policy.decide("192.0.2.1".parse()?, true, "example.org").allowed);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn with_authenticated_relay(mut self, allowed: bool) -> RelayPolicy {
        self.authenticated_relay = allowed;
        self
    }

    /// The trusted networks.
    ///
    /// ```
    /// let policy = sender_identity::relay::RelayPolicy::default();
    /// assert!(policy.trusted_networks().is_empty());
    /// ```
    pub fn trusted_networks(&self) -> &NetList {
        &self.trusted_networks
    }

    /// The relay domains.
    ///
    /// ```
    /// let policy = sender_identity::relay::RelayPolicy::default();
    /// assert!(policy.relay_domains().is_empty());
    /// ```
    pub fn relay_domains(&self) -> &DomainList {
        &self.relay_domains
    }

    /// Whether authenticated clients may relay.
    ///
    /// ```
    /// assert!(sender_identity::relay::RelayPolicy::default().authenticated_relay());
    /// ```
    pub fn authenticated_relay(&self) -> bool {
        self.authenticated_relay
    }

    /// Decides whether `client_ip` may relay to `recipient_domain`. `authenticated` says whether
    /// the client authenticated (SMTP AUTH, not anonymous). The order is: trusted network,
    /// authenticated, relay domain, else denied.
    ///
    /// ```
    /// use sender_identity::relay::{DomainList, NetList, RelayPolicy, RelayReason};
    ///
    /// let policy = RelayPolicy::new(NetList::parse("!192.0.2.9 192.0.2.0/24")?, DomainList::default());
    /// let d = policy.decide("192.0.2.9".parse()?, true, "example.org");
    /// assert!(d.allowed);
    /// assert!(matches!(d.reason, RelayReason::Authenticated { .. }));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn decide(
        &self,
        client_ip: IpAddr,
        authenticated: bool,
        recipient_domain: &str,
    ) -> RelayDecision {
        let client = canonical(client_ip);
        let network = self.trusted_networks.lookup(client);
        if let Some(entry) = network.filter(|hit| !hit.entry.is_negated()) {
            return RelayDecision::allow(RelayReason::TrustedNetwork { client, entry });
        }
        if authenticated && self.authenticated_relay {
            return RelayDecision::allow(RelayReason::Authenticated { client });
        }
        let domain = name::normalize(recipient_domain).into_owned();
        let domain_hit = self.relay_domains.lookup(&domain);
        let excluded_by = match domain_hit {
            Some(entry) if !entry.entry.is_negated() => {
                return RelayDecision::allow(RelayReason::RelayDomain { domain, entry });
            }
            excluded => excluded,
        };
        let reason = match network {
            Some(entry) => RelayReason::NegatedNetwork {
                client,
                entry,
                authenticated,
                domain,
                excluded_by,
            },
            None => RelayReason::NotPermitted {
                client,
                authenticated,
                domain,
                excluded_by,
            },
        };
        RelayDecision {
            allowed: false,
            reason,
        }
    }
}

/// The outcome of [`RelayPolicy::decide`]: allowed or not, and the rule that decided.
///
/// ```
/// let policy = sender_identity::relay::RelayPolicy::default();
/// let d = policy.decide("203.0.113.7".parse()?, false, "example.org");
/// assert!(!d.allowed);
/// assert_eq!(
///     d.to_string(),
///     "relay denied: client 203.0.113.7 is not in mynetworks, is not authenticated, \
///      and recipient domain example.org is not a relay domain"
/// );
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RelayDecision {
    /// Whether the client may relay to the recipient.
    pub allowed: bool,
    /// The rule that decided.
    pub reason: RelayReason,
}

impl RelayDecision {
    fn allow(reason: RelayReason) -> RelayDecision {
        RelayDecision {
            allowed: true,
            reason,
        }
    }
}

impl fmt::Display for RelayDecision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let verdict = if self.allowed { "allowed" } else { "denied" };
        write!(f, "relay {verdict}: {}", self.reason)
    }
}

/// The rule that decided a [`RelayDecision`]. Client addresses are folded with [`canonical`],
/// and domains are lower-cased without a trailing dot. `Display` gives a log line. It escapes
/// control characters in the recipient domain, which comes from the client.
///
/// ```
/// use sender_identity::relay::{DomainList, NetList, RelayPolicy, RelayReason};
///
/// let policy = RelayPolicy::new(NetList::parse("10.0.0.0/8 192.0.2.0/24")?, DomainList::default());
/// let d = policy.decide("::ffff:192.0.2.5".parse()?, false, "example.org");
/// let RelayReason::TrustedNetwork { client, entry, .. } = &d.reason else { panic!() };
/// assert_eq!((client.to_string(), entry.index), ("192.0.2.5".to_string(), 2));
/// assert_eq!(d.reason.to_string(), "client 192.0.2.5 matched mynetworks entry 192.0.2.0/24 (#2)");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RelayReason {
    /// Allowed: the client matched a (non-negated) trusted-network entry.
    #[non_exhaustive]
    TrustedNetwork {
        /// The client address.
        client: IpAddr,
        /// The entry that matched.
        entry: NetMatch,
    },
    /// Allowed: the client authenticated, and authenticated relaying is on.
    #[non_exhaustive]
    Authenticated {
        /// The client address.
        client: IpAddr,
    },
    /// Allowed: the recipient domain is a relay domain.
    #[non_exhaustive]
    RelayDomain {
        /// The recipient domain.
        domain: String,
        /// The entry that matched.
        entry: DomainMatch,
    },
    /// Denied: a negated trusted-network entry matched the client first. The client did not relay
    /// by authenticating, and the recipient domain is not a relay domain.
    #[non_exhaustive]
    NegatedNetwork {
        /// The client address.
        client: IpAddr,
        /// The negated entry that matched.
        entry: NetMatch,
        /// Whether the client authenticated. If it did, authenticated relaying is off.
        authenticated: bool,
        /// The recipient domain.
        domain: String,
        /// The negated relay-domain entry that matched the domain first, if one did.
        excluded_by: Option<DomainMatch>,
    },
    /// Denied: the client is not in the trusted networks, did not relay by authenticating, and
    /// the recipient domain is not a relay domain.
    #[non_exhaustive]
    NotPermitted {
        /// The client address.
        client: IpAddr,
        /// Whether the client authenticated. If it did, authenticated relaying is off.
        authenticated: bool,
        /// The recipient domain.
        domain: String,
        /// The negated relay-domain entry that matched the domain first, if one did.
        excluded_by: Option<DomainMatch>,
    },
}

impl fmt::Display for RelayReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let auth = |authenticated: bool| {
            if authenticated {
                "authenticated relaying is off"
            } else {
                "is not authenticated"
            }
        };
        match self {
            RelayReason::TrustedNetwork { client, entry } => {
                write!(f, "client {client} matched mynetworks entry {entry}")
            }
            RelayReason::Authenticated { client } => {
                write!(f, "client {client} is authenticated")
            }
            RelayReason::RelayDomain { domain, entry } => write!(
                f,
                "recipient domain {} matched relay domain entry {entry}",
                shown(domain)
            ),
            RelayReason::NegatedNetwork {
                client,
                entry,
                authenticated,
                domain,
                excluded_by,
            } => write!(
                f,
                "client {client} is excluded by mynetworks entry {entry}, {}, \
                 and recipient domain {}",
                auth(*authenticated),
                not_relay_domain(domain, excluded_by.as_ref())
            ),
            RelayReason::NotPermitted {
                client,
                authenticated,
                domain,
                excluded_by,
            } => write!(
                f,
                "client {client} is not in mynetworks, {}, \
                 and recipient domain {}",
                auth(*authenticated),
                not_relay_domain(domain, excluded_by.as_ref())
            ),
        }
    }
}

/// "`domain` is not a relay domain", or which negated entry excluded it.
fn not_relay_domain(domain: &str, excluded_by: Option<&DomainMatch>) -> String {
    match excluded_by {
        Some(entry) => format!(
            "{} is excluded by relay domain entry {entry}",
            shown(domain)
        ),
        None => format!("{} is not a relay domain", shown(domain)),
    }
}

/// A recipient domain for a log line: control characters escaped, and `(none)` if empty.
fn shown(domain: &str) -> String {
    if domain.is_empty() {
        "(none)".to_owned()
    } else {
        domain.escape_debug().to_string()
    }
}
