#![forbid(unsafe_code)]
#![warn(missing_docs)]
//! sender-identity: SPF, HELO, FCrDNS and relay-policy checks for receiving mail servers.

mod deadline;
pub mod dns;
pub mod headers;
pub mod helo;
pub mod ip;
pub mod iprev;
pub mod lookup;
pub mod name;
pub mod relay;
pub mod session;
pub mod spf;
