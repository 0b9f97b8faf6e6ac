//! Helpers shared by the integration tests. Each test file uses `mod common;` and only part of
//! what is here, hence the `dead_code` allowance.
#![allow(dead_code)]

pub mod cases;
#[cfg(feature = "hickory")]
pub mod dns_server;
pub mod resolvers;
pub mod rounds;
