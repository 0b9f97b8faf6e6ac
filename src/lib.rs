#![forbid(unsafe_code)]
#![warn(missing_docs)]
//! sender-identity: SPF, HELO, FCrDNS and relay-policy checks for receiving mail servers.

mod deadline;
pub mod dns;
pub mod headers;
pub mod ip;
pub mod name;
pub mod relay;
pub mod spf;
