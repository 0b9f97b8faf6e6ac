//! Relay policy: which clients may relay, and to which domains.
//!
//! - [`NetList`]: trusted client networks, in Postfix `mynetworks` syntax.
//! - [`DomainList`]: relay domains, as Postfix `relay_domains` lists them.
//! - [`RelayPolicy`]: both, plus whether authenticated clients may relay. [`RelayPolicy::decide`]
//!   returns a [`RelayDecision`] that names the rule that decided.
//!
//! No DNS is involved. Network lists hold addresses and networks only (no host names, `/file` or
//! `type:table` items), and relay domains are matched by name.
//!
//! # Decision order
//! [`RelayPolicy::decide`] follows Postfix
//! `smtpd_relay_restrictions = permit_mynetworks, permit_sasl_authenticated, reject_unauth_destination`:
//!
//! 1. the client is in the trusted networks: allowed;
//! 2. the client authenticated and authenticated relaying is on: allowed;
//! 3. the recipient domain is a relay domain: allowed;
//! 4. otherwise: denied.
//!
//! A negated network entry (`!192.0.2.5`) only means "not trusted by the network list". The client
//! can still relay by authenticating, or by sending to a relay domain. A negated relay-domain entry
//! (`!test.example.com`) only means "not a relay domain"; a trusted or authenticated client still
//! relays to it.
//!
//! # Reading a Postfix configuration exactly
//! Both lists match first-match-wins with `!` negation, as Postfix's `match_list` does. Two
//! settings make the crate read `main.cf` values exactly as Postfix 2.x and 3.x do:
//!
//! - `mynetworks`: parse with [`NetList::parse_with`]`(text, `[`NetSyntax::Postfix`]`)`, which
//!   refuses IPv6 without brackets (Postfix reads `::1/128` as a table lookup and fails). The
//!   default, [`NetSyntax::Lenient`], accepts it.
//! - `relay_domains`: use [`DomainList::with_parent_matching`]`(`[`ParentMatching::Postfix`]`)`
//!   when `parent_domain_matches_subdomains` lists `relay_domains`, which is Postfix's default:
//!   then `example.com` covers its subdomains and `.example.com` matches nothing. Otherwise keep
//!   the default, [`ParentMatching::Explicit`].
//!
//! ```
//! use sender_identity::relay::{DomainList, NetList, NetSyntax, ParentMatching, RelayPolicy};
//!
//! let policy = RelayPolicy::new(
//!     NetList::parse_with("127.0.0.0/8 [::1]/128", NetSyntax::Postfix)?,
//!     DomainList::parse("!test.example.com example.com")?
//!         .with_parent_matching(ParentMatching::Postfix),
//! );
//! assert!(policy.decide("203.0.113.1".parse()?, false, "mx.example.com").allowed);
//! let denied = policy.decide("203.0.113.1".parse()?, false, "test.example.com");
//! assert_eq!(
//!     denied.to_string(),
//!     "relay denied: client 203.0.113.1 is not in mynetworks, is not authenticated, and \
//!      recipient domain test.example.com is excluded by relay domain entry !test.example.com (#1)"
//! );
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Postfix also lets mail through to its final-delivery domains (`mydestination`, virtual domains).
//! Put those in the [`DomainList`] as well. Postfix also rejects sender-specified routing
//! (`user%elsewhere@domain`, `user@elsewhere@domain`), which needs the whole address. That check
//! is not done here.
//!
//! ```
//! use sender_identity::relay::{DomainList, NetList, RelayPolicy, RelayReason};
//!
//! let policy = RelayPolicy::new(
//!     NetList::parse("127.0.0.0/8 [::1]/128 !192.168.1.5 192.168.0.0/16")?,
//!     DomainList::parse("example.com .example.com")?,
//! );
//! let decision = policy.decide("192.168.1.9".parse()?, false, "example.org");
//! assert!(decision.allowed);
//! assert_eq!(
//!     decision.reason.to_string(),
//!     "client 192.168.1.9 matched mynetworks entry 192.168.0.0/16 (#4)"
//! );
//!
//! let decision = policy.decide("192.168.1.5".parse()?, false, "example.org");
//! assert!(!decision.allowed);
//! assert!(matches!(decision.reason, RelayReason::NegatedNetwork { .. }));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod domains;
mod list;
mod network;
mod policy;
mod prefix_index;

pub use domains::{DomainEntry, DomainList, DomainMatch, ParentMatching};
pub use list::{EntryError, ListError};
pub use network::{NetEntry, NetList, NetMatch, NetSyntax};
pub use policy::{RelayDecision, RelayPolicy, RelayReason};

#[cfg(test)]
mod tests;
