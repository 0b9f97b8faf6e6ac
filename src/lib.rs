#![forbid(unsafe_code)]
#![warn(missing_docs)]
//! # sender-identity
//!
//! Decide, from DNS, whether a connecting SMTP client is who it claims to be: the checks a
//! receiving MTA, milter or policy server makes on the client IP, the HELO/EHLO name and the MAIL
//! FROM address.
//!
//! ## The flow
//!
//! A client connects (IP), says HELO (name), says MAIL FROM (address). Each step asks DNS a few
//! questions and yields an outcome with its reason.
//!
//! ```text
//!  +------------------------- session: Checker / Session (per connection) -------------------------+
//!  |   relay         iprev            helo                    spf                      headers       |
//!  |  (no DNS)    (PTR + forward)  (syntax, A/AAAA/MX,   (record: grammar + fast   (Received-SPF,    |
//!  |                               confirmation)          path; verifier, eval,    Auth-Results)     |
//!  |                                                      memo, cache, trace)                        |
//!  +----------------------------------------- dns::Resolver ----------------------------------------+
//!          HickoryResolver (+ AnswerCache) | ZoneResolver | your own (object safe, async)
//! ```
//!
//! An SPF check runs as plain code over the answers at hand (the record cache, the resolver's
//! answer cache or memory); only when one is missing does it await DNS, and then it sends every
//! lookup it can already name at once ([`spf::Config::prefetch`]), within its bound on lookups.
//!
//! | check | module | entry point |
//! |---|---|---|
//! | HELO syntax, existence, forward confirmation | [`helo`] | [`helo::HeloName::parse`], [`helo::HeloPolicy`], [`helo::exists`], [`helo::confirm`] |
//! | Relay policy (mynetworks, relay domains, authenticated) | [`relay`] | [`relay::RelayPolicy::decide`] |
//! | FCrDNS (RFC 8601 iprev), reverse-only | [`iprev`] | [`iprev::check`], [`iprev::check_reverse`] |
//! | SPF (RFC 7208), MAIL FROM and HELO identities | [`spf`] | [`spf::Verifier`] |
//! | Headers | [`headers`] | [`headers::ReceivedSpf`], [`headers::AuthenticationResults`] |
//! | All of it, per SMTP connection, with SMTP replies | [`session`] | [`session::Checker`] |
//!
//! ## Principles
//!
//! - One trait for DNS ([`dns::Resolver`]); every check is generic over it or takes `&dyn`.
//! - One place for a domain name's normal form ([`name`]), a client address's ([`ip`]) and a MAIL
//!   FROM argument's ([`envelope`]): trailing dots, case, IPv4-mapped IPv6 addresses, angle
//!   brackets and ESMTP parameters are handled once.
//! - Outcomes carry their reason (the matched directive, the PTR names, the list entry, the
//!   lookups made), so headers, traces and SMTP replies are derived from them.
//! - SPF evaluation is synchronous code over the answers at hand; the async layer only awaits the
//!   answers it lacks ([`spf::Verifier`] explains the runs), so answers from memory cost no boxed
//!   recursion, no copy and, from the record cache, no allocation.
//! - Limits live in configuration types with the RFC defaults; no input, however hostile, gets
//!   unbounded work, a hang or a panic.
//!
//! ## Example
//!
//! ```
//! use sender_identity::dns::ZoneResolver;
//! use sender_identity::session::{Action, Checker, Policy};
//!
//! let zone: ZoneResolver = r#"
//!     example.com.      TXT "v=spf1 mx -all"
//!     example.com.      MX  10 mail.example.com.
//!     mail.example.com. A   192.0.2.10
//!     192.0.2.10        PTR mail.example.com.
//! "#.parse().unwrap();
//! let checker = Checker::new(zone, Policy::new("mx.example.net"));
//! # let rt = tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap();
//! # rt.block_on(async {
//! let (mut session, _) = checker.connect("192.0.2.10".parse().unwrap()).await;
//! session.helo("mail.example.com").await;
//! let verdict = session.mail_from("alice@example.com").await;
//! assert_eq!(verdict.action, Action::Accept);
//! assert!(session.headers()[0].value.starts_with("pass"));
//! # });
//! ```

#[cfg(test)]
#[path = "../tests/common/cases.rs"]
mod cases;
mod deadline;
pub mod dns;
pub mod envelope;
mod hash;
pub mod headers;
pub mod helo;
pub mod ip;
pub mod iprev;
mod join;
pub mod lookup;
pub mod name;
pub mod relay;
mod scan;
pub mod session;
pub mod spf;
#[cfg(test)]
mod test_util;
mod ttl;
