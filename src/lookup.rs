//! A record of the DNS lookups a check made, so its verdict can be explained and its cost counted.

use crate::dns::{LookupError, LookupResult, Mx, RecordType, Resolver, reverse_name};
use std::borrow::Cow;
use std::fmt;
use std::net::IpAddr;

/// One DNS lookup a check made: the name asked about, the type, and what came back.
///
/// ```
/// use sender_identity::dns::{LookupError, RecordType, ZoneResolver};
/// use sender_identity::helo::{exists, ExistsOptions, HeloName};
///
/// let zone: ZoneResolver = "mail.example.com. AAAA 2001:db8::1".parse().unwrap();
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let outcome = exists(&zone, &HeloName::parse("mail.example.com"), &ExistsOptions::default()).await;
/// let [a, aaaa] = &outcome.lookups[..] else { panic!() };
/// assert_eq!((a.rtype, &a.outcome), (RecordType::A, &Err(LookupError::NoData)));
/// assert_eq!(a.to_string(), "mail.example.com A: no records of this type (NODATA)");
/// assert_eq!(aaaa.to_string(), "mail.example.com AAAA: 1 record");
/// # });
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Lookup {
    /// The name queried (for PTR, the `in-addr.arpa` / `ip6.arpa` name), as passed to the resolver.
    pub name: String,
    /// The record type asked for.
    pub rtype: RecordType,
    /// The number of records returned (never 0: an empty answer is recorded as
    /// [`LookupError::NoData`]), or why there were none.
    pub outcome: Result<usize, LookupError>,
}

impl fmt::Display for Lookup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}: ", self.name, self.rtype)?;
        match &self.outcome {
            Ok(1) => f.write_str("1 record"),
            Ok(n) => write!(f, "{n} records"),
            Err(e) => write!(f, "{e}"),
        }
    }
}

/// Which address records a forward lookup asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Family {
    V4,
    V6,
}

impl Family {
    /// The family of `ip`.
    pub(crate) fn of(ip: IpAddr) -> Family {
        if ip.is_ipv4() { Family::V4 } else { Family::V6 }
    }

    /// The other family.
    pub(crate) fn other(self) -> Family {
        match self {
            Family::V4 => Family::V6,
            Family::V6 => Family::V4,
        }
    }
}

/// A resolver that writes down every lookup it makes: the one way the HELO and iprev checks reach
/// DNS. An empty answer is turned into [`LookupError::NoData`], as the [`Resolver`] contract allows.
pub(crate) struct Recorder<'r, R: ?Sized> {
    resolver: &'r R,
    pub(crate) lookups: Vec<Lookup>,
}

impl<'r, R: Resolver + ?Sized> Recorder<'r, R> {
    pub(crate) fn new(resolver: &'r R) -> Self {
        Recorder {
            resolver,
            lookups: Vec::new(),
        }
    }

    fn record<T>(
        &mut self,
        name: &str,
        rtype: RecordType,
        result: LookupResult<Vec<T>>,
    ) -> LookupResult<Vec<T>> {
        let result = result.and_then(|v| {
            if v.is_empty() {
                Err(LookupError::NoData)
            } else {
                Ok(v)
            }
        });
        self.lookups.push(Lookup {
            name: name.to_owned(),
            rtype,
            outcome: result.as_ref().map(Vec::len).map_err(Clone::clone),
        });
        result
    }

    /// The A or AAAA records of `name`, as addresses.
    pub(crate) async fn addresses(
        &mut self,
        name: &str,
        family: Family,
    ) -> LookupResult<Vec<IpAddr>> {
        match family {
            Family::V4 => {
                let r = crate::dns::ask!(self.resolver, lookup_a_now, a, lookup_a, name);
                let r = r.map(|v| v.iter().copied().map(IpAddr::V4).collect());
                self.record(name, RecordType::A, r)
            }
            Family::V6 => {
                let r = crate::dns::ask!(self.resolver, lookup_aaaa_now, aaaa, lookup_aaaa, name);
                let r = r.map(|v| v.iter().copied().map(IpAddr::V6).collect());
                self.record(name, RecordType::Aaaa, r)
            }
        }
    }

    /// The MX records of `name`.
    pub(crate) async fn mx(&mut self, name: &str) -> LookupResult<Vec<Mx>> {
        let r = crate::dns::ask!(self.resolver, lookup_mx_now, mx, lookup_mx, name);
        self.record(name, RecordType::Mx, r.map(Cow::into_owned))
    }

    /// The PTR names of `ip`.
    pub(crate) async fn ptr(&mut self, ip: IpAddr) -> LookupResult<Vec<String>> {
        let r = crate::dns::ask!(self.resolver, lookup_ptr_now, ptr, lookup_ptr, ip);
        self.record(&reverse_name(ip), RecordType::Ptr, r.map(Cow::into_owned))
    }
}

/// Whether `client` (already folded with [`crate::ip::canonical`]) is among `addresses`, each
/// folded the same way.
pub(crate) fn holds(addresses: &[IpAddr], client: IpAddr) -> bool {
    addresses.iter().any(|&a| crate::ip::canonical(a) == client)
}
