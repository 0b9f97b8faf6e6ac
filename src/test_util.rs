//! Helpers shared by the unit tests.

use std::future::Future;
use std::net::IpAddr;

/// Runs `f` to completion on a fresh single-threaded runtime (no IO or time driver: the crate's
/// checks need neither).
pub(crate) fn block<F: Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
        .block_on(f)
}

/// An address from its text.
pub(crate) fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}
