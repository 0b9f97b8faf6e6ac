//! Resolvers for tests that need behaviour no zone can express.

use async_trait::async_trait;
use sender_identity::dns::{LookupResult, Mx, Resolver, TxtRecord};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// A resolver that never answers: every lookup stays pending forever.
pub struct Hang;

#[async_trait]
impl Resolver for Hang {
    async fn lookup_txt(&self, _: &str) -> LookupResult<Vec<TxtRecord>> {
        std::future::pending().await
    }
    async fn lookup_a(&self, _: &str) -> LookupResult<Vec<Ipv4Addr>> {
        std::future::pending().await
    }
    async fn lookup_aaaa(&self, _: &str) -> LookupResult<Vec<Ipv6Addr>> {
        std::future::pending().await
    }
    async fn lookup_mx(&self, _: &str) -> LookupResult<Vec<Mx>> {
        std::future::pending().await
    }
    async fn lookup_ptr(&self, _: IpAddr) -> LookupResult<Vec<String>> {
        std::future::pending().await
    }
}
