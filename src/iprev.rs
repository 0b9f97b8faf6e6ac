//! FCrDNS ("iprev", RFC 8601 §3): the client address maps to a name that maps back to it.
//!
//! [`check`] asks PTR for the client address, then looks each name up forward, and passes when one
//! of them has the client address. [`check_reverse`] only asks whether a PTR name exists, as
//! Postfix `reject_unknown_reverse_client_hostname` does; its name is **not** verified and must not
//! be trusted for policy.
//!
//! Work is bounded: one PTR lookup, then at most [`IprevOptions::max_names`] names, each with one
//! forward lookup per address family checked (a resolver following CNAMEs may add a query per
//! lookup).
//!
//! ```
//! use sender_identity::dns::ZoneResolver;
//! use sender_identity::iprev::{check, IprevOptions, IprevResult};
//!
//! let zone: ZoneResolver = "
//!     192.0.2.1          PTR  mail.example.com
//!     mail.example.com.  A    192.0.2.1
//! ".parse().unwrap();
//! # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
//! let out = check(&zone, "192.0.2.1".parse().unwrap(), &IprevOptions::default()).await;
//! assert_eq!(out.result, IprevResult::Pass);
//! assert_eq!(out.confirmed_name(), Some("mail.example.com"));
//! assert_eq!(out.lookups.len(), 2); // PTR, then A
//! # });
//! ```

use crate::dns::Resolver;
use crate::ip::canonical;
use crate::lookup::{Family, Lookup, Recorder, holds};
use crate::name::{is_host_name, normalize};
use std::collections::HashSet;
use std::fmt;
use std::net::IpAddr;

/// How many PTR names [`IprevOptions::default`] looks at (the limit RFC 7208 §4.6.4 sets for the
/// SPF `ptr` mechanism).
pub const DEFAULT_MAX_NAMES: usize = 10;

/// The PTR names the [`IprevOptions::exim`] preset considers at most (Exim itself has no limit).
pub const EXIM_MAX_NAMES: usize = 64;

/// The result of an iprev check, as RFC 8601 §2.7.3 defines it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum IprevResult {
    /// A PTR name of the client maps back to the client address.
    Pass,
    /// PTR names exist, and their forward lookups completed without giving the client address
    /// (other addresses, NXDOMAIN or NODATA).
    Fail,
    /// A DNS error that is likely transient (timeout, SERVFAIL...) kept the check from completing.
    TempError,
    /// No PTR data for the client (NXDOMAIN or NODATA), or no PTR name that is a usable host name.
    PermError,
}

impl fmt::Display for IprevResult {
    /// The RFC 8601 result keyword: `pass`, `fail`, `temperror`, `permerror`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            IprevResult::Pass => "pass",
            IprevResult::Fail => "fail",
            IprevResult::TempError => "temperror",
            IprevResult::PermError => "permerror",
        })
    }
}

/// Which address records a PTR name is looked up for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ForwardFamilies {
    /// Only the client's family: A for an IPv4 client, AAAA for an IPv6 client (Postfix,
    /// Sendmail, OpenSMTPD, mail-auth).
    ClientFamily,
    /// The client's family, then the other (Exim, mox, RFC 8601 §3 "A" and "AAAA"). The other
    /// family can only match through an IPv4-mapped AAAA record (`::ffff:192.0.2.1`), but its
    /// errors count as errors of the name.
    Both,
}

/// How [`check`] works. Start from [`IprevOptions::default`] or a preset and change fields.
///
/// | | `default()` | `postfix()` | `exim()` |
/// |---|---|---|---|
/// | `max_names` | 10 | 1 | 64 |
/// | `families` | client family | client family | both |
/// | `stop_at_first_pass` | yes | yes | no |
/// | `temp_error_wins` | no | no | yes |
///
/// ```
/// use sender_identity::iprev::{ForwardFamilies, IprevOptions};
///
/// let mut options = IprevOptions::default();
/// options.max_names = 3;
/// options.families = ForwardFamilies::Both;
/// assert!(options.stop_at_first_pass);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct IprevOptions {
    /// How many PTR names, in the order served, are considered; the rest are ignored (the limit
    /// counts names that are skipped as invalid). `0` considers none, so the result is
    /// [`IprevResult::PermError`].
    pub max_names: usize,
    /// Which address records each name is looked up for.
    pub families: ForwardFamilies,
    /// Stop at the first name that maps back (later names get [`NameStatus::NotNeeded`]): the
    /// names are looked up one after another. Otherwise every considered name is checked, which
    /// finds every verified name, and they are all looked up at the same time.
    pub stop_at_first_pass: bool,
    /// A temporary error on any name gives [`IprevResult::TempError`] even when another name
    /// passed (Exim defers the whole lookup). Otherwise a pass wins.
    pub temp_error_wins: bool,
}

impl Default for IprevOptions {
    /// Up to [`DEFAULT_MAX_NAMES`] names, the client's family, stop at the first pass, a pass
    /// wins over temporary errors on other names.
    fn default() -> Self {
        IprevOptions {
            max_names: DEFAULT_MAX_NAMES,
            families: ForwardFamilies::ClientFamily,
            stop_at_first_pass: true,
            temp_error_wins: false,
        }
    }
}

impl IprevOptions {
    /// As Postfix computes its verified `client_name`: the first PTR name only, looked up in the
    /// client's family. Postfix takes the one name `getnameinfo()` returns; a resolver may rotate
    /// several PTR records, so which name is first can vary between lookups.
    pub fn postfix() -> Self {
        IprevOptions {
            max_names: 1,
            ..IprevOptions::default()
        }
    }

    /// As Exim `host_lookup`: every PTR name, both families, every name checked, and a temporary
    /// error on any name defers the whole check. Exim has no limit on names; this preset stops at
    /// [`EXIM_MAX_NAMES`] (64), so a hostile PTR answer of hundreds of names cannot make hundreds
    /// of forward lookups. Prefer [`IprevOptions::default`] unless you need Exim's verdicts.
    pub fn exim() -> Self {
        IprevOptions {
            max_names: EXIM_MAX_NAMES,
            families: ForwardFamilies::Both,
            stop_at_first_pass: false,
            temp_error_wins: true,
        }
    }
}

/// What happened to one PTR name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum NameStatus {
    /// A forward lookup gave the client address: a verified name.
    Confirmed,
    /// The forward lookups completed without the client address (other addresses, NXDOMAIN or
    /// NODATA).
    NotConfirmed,
    /// A forward lookup timed out or failed, and none gave the client address.
    TempError,
    /// Not a usable host name (numeric like `192.0.2.1`, invalid characters, a single label...),
    /// so not looked up, as Postfix and Exim skip such names.
    Invalid,
    /// Beyond [`IprevOptions::max_names`]; not looked up.
    OverLimit,
    /// Not looked up because an earlier name already passed and
    /// [`IprevOptions::stop_at_first_pass`] is set.
    NotNeeded,
}

/// A PTR name of the client and what happened to it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct PtrName {
    /// The name, lower-case, without a trailing dot.
    pub name: String,
    /// What the check did with it.
    pub status: NameStatus,
}

/// What [`check`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct IprevOutput {
    /// The verdict.
    pub result: IprevResult,
    /// The client address checked, after [`crate::ip::canonical`].
    pub client: IpAddr,
    /// The distinct PTR names, in the order served, with what happened to each.
    pub names: Vec<PtrName>,
    /// Every DNS lookup made, in order: the PTR query first.
    pub lookups: Vec<Lookup>,
}

impl IprevOutput {
    /// The output of a check that ran out of time: temperror, nothing learnt.
    pub(crate) fn timed_out(client: IpAddr) -> Self {
        IprevOutput {
            result: IprevResult::TempError,
            client,
            names: Vec::new(),
            lookups: Vec::new(),
        }
    }

    /// The first verified name (Postfix `client_name`, Exim `$sender_host_name`), on pass.
    pub fn confirmed_name(&self) -> Option<&str> {
        self.confirmed_names().next()
    }

    /// Every verified name, in PTR order (one at most with `stop_at_first_pass`).
    pub fn confirmed_names(&self) -> impl Iterator<Item = &str> {
        self.names
            .iter()
            .filter(|n| n.status == NameStatus::Confirmed)
            .map(|n| n.name.as_str())
    }

    /// The first PTR name that is a usable host name, verified or not (Postfix
    /// `reverse_client_name`). Do not base policy on it unless [`Self::confirmed_name`] agrees.
    pub fn reverse_name(&self) -> Option<&str> {
        first_host_name(self.names.iter().map(|n| n.name.as_str()))
    }
}

/// Forward-confirmed reverse DNS of `client`, as RFC 8601 §3 describes.
///
/// The client address is folded with [`crate::ip::canonical`] first, so an IPv4-mapped client is
/// checked as IPv4 (PTR under `in-addr.arpa`, A records). Then:
///
/// 1. PTR of the client. NXDOMAIN or NODATA: **permerror**. Timeout, SERVFAIL or another error:
///    **temperror**.
/// 2. The distinct PTR names are taken in the order served. The first
///    [`max_names`](IprevOptions::max_names) are considered; of those, names that are not usable
///    host names ([`crate::helo::HeloName::domain`] rules: numeric names like `192.0.2.1`, bad
///    characters, single labels...) are skipped without a query ([`NameStatus::Invalid`]), as
///    Postfix treats a numeric or invalid name as no name and Exim skips names with bad characters.
/// 3. Each considered name is looked up in the [`families`](IprevOptions::families) chosen; it is
///    confirmed when an address, folded with `canonical`, equals the client address.
///
/// The result combines the names' statuses:
///
/// | names | result |
/// |---|---|
/// | one confirmed, none with a temporary error | `Pass` |
/// | one confirmed, another with a temporary error | `Pass`, or `TempError` with [`temp_error_wins`](IprevOptions::temp_error_wins) |
/// | none confirmed, one with a temporary error (even if others did not confirm) | `TempError`: the name that failed might have matched |
/// | none confirmed, none with a temporary error, one or more looked up | `Fail` |
/// | none looked up (every considered name invalid) | `PermError` |
///
/// So a timeout never gives `Fail` or `PermError`.
///
/// ```
/// use sender_identity::dns::ZoneResolver;
/// use sender_identity::iprev::{check, IprevOptions, IprevResult, NameStatus};
///
/// let zone: ZoneResolver = "
///     2001:db8::25        PTR      192.0.2.25          # numeric: skipped
///     2001:db8::25        PTR      mx.example.com
///     mx.example.com.     AAAA     2001:db8::99
/// ".parse().unwrap();
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let out = check(&zone, "2001:db8::25".parse().unwrap(), &IprevOptions::default()).await;
/// assert_eq!(out.result, IprevResult::Fail);
/// assert_eq!(out.names[0].status, NameStatus::Invalid);
/// assert_eq!(out.names[1].status, NameStatus::NotConfirmed);
/// assert_eq!(out.reverse_name(), Some("mx.example.com"));
/// assert_eq!(out.confirmed_name(), None);
/// # });
/// ```
pub async fn check<R: Resolver + ?Sized>(
    resolver: &R,
    client: IpAddr,
    options: &IprevOptions,
) -> IprevOutput {
    let client = canonical(client);
    let mut dns = Recorder::new(resolver);
    let ptr = ptr_names(&mut dns, client).await;
    let listed = ptr.as_deref().unwrap_or_default();
    let mut statuses: Vec<Option<NameStatus>> = listed
        .iter()
        .enumerate()
        .map(
            |(i, name)| match (i >= options.max_names, is_host_name(name)) {
                (true, _) => Some(NameStatus::OverLimit),
                (false, false) => Some(NameStatus::Invalid),
                (false, true) => None,
            },
        )
        .collect();
    // The names to look up. Every one counts unless only the first pass does: then they are
    // looked up one after another (a later name matters only if the earlier ones failed, and a
    // slow one must not hold up a pass); otherwise all at once, in one round trip.
    let batch = match options.stop_at_first_pass {
        true => 1,
        false => listed.len().max(1),
    };
    let wanted: Vec<usize> = (0..listed.len())
        .filter(|&i| statuses[i].is_none())
        .collect();
    let mut passed = false;
    for indices in wanted.chunks(batch) {
        if passed && options.stop_at_first_pass {
            for &i in indices {
                statuses[i] = Some(NameStatus::NotNeeded);
            }
            continue;
        }
        let lookups = indices
            .iter()
            .map(|&i| {
                Box::pin(async move {
                    let mut dns = Recorder::new(resolver);
                    let status = confirm_name(&mut dns, &listed[i], client, options.families).await;
                    (status, dns.lookups)
                })
            })
            .collect();
        for (&i, (status, lookups)) in indices.iter().zip(crate::join::join_all(lookups).await) {
            passed |= status == NameStatus::Confirmed;
            statuses[i] = Some(status);
            dns.lookups.extend(lookups);
        }
    }
    let names: Vec<PtrName> = listed
        .iter()
        .zip(statuses)
        .map(|(name, status)| PtrName {
            name: name.clone(),
            status: status.unwrap_or(NameStatus::NotNeeded),
        })
        .collect();
    let result = match ptr {
        Ok(_) => combine(&names, options.temp_error_wins),
        Err(result) => result,
    };
    IprevOutput {
        result,
        client,
        names,
        lookups: dns.lookups,
    }
}

/// Looks `name` up in `families` and says whether it maps back to `client`.
async fn confirm_name<R: Resolver + ?Sized>(
    dns: &mut Recorder<'_, R>,
    name: &str,
    client: IpAddr,
    families: ForwardFamilies,
) -> NameStatus {
    let first = Family::of(client);
    let order: &[Family] = match families {
        ForwardFamilies::ClientFamily => &[first],
        ForwardFamilies::Both => &[first, first.other()],
    };
    let mut temporary = false;
    for &family in order {
        match dns.addresses(name, family).await {
            Ok(found) if holds(&found, client) => return NameStatus::Confirmed,
            Ok(_) => {}
            Err(e) => temporary |= !e.is_void(),
        }
    }
    if temporary {
        NameStatus::TempError
    } else {
        NameStatus::NotConfirmed
    }
}

/// The verdict from the names' statuses (see [`check`]).
fn combine(names: &[PtrName], temp_error_wins: bool) -> IprevResult {
    let any = |status| names.iter().any(|n| n.status == status);
    let temporary = any(NameStatus::TempError);
    if any(NameStatus::Confirmed) && !(temporary && temp_error_wins) {
        IprevResult::Pass
    } else if temporary {
        IprevResult::TempError
    } else if any(NameStatus::NotConfirmed) {
        IprevResult::Fail
    } else {
        IprevResult::PermError
    }
}

/// The distinct PTR names of `client` (lower-case, no trailing dot, in the order served), or the
/// result when there are none: the one PTR step of [`check`] and [`check_reverse`].
async fn ptr_names<R: Resolver + ?Sized>(
    dns: &mut Recorder<'_, R>,
    client: IpAddr,
) -> Result<Vec<String>, IprevResult> {
    match dns.ptr(client).await {
        Ok(names) => {
            let mut seen = HashSet::new();
            Ok(names
                .iter()
                .map(|n| normalize(n).into_owned())
                .filter(|n| seen.insert(n.clone()))
                .collect())
        }
        Err(e) if e.is_void() => Err(IprevResult::PermError),
        Err(_) => Err(IprevResult::TempError),
    }
}

/// The first of `names` that is a usable host name.
fn first_host_name<'a>(mut names: impl Iterator<Item = &'a str>) -> Option<&'a str> {
    names.find(|n| is_host_name(n))
}

/// What [`check_reverse`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ReverseOutput {
    /// [`IprevResult::Pass`], [`IprevResult::PermError`] or [`IprevResult::TempError`]; never
    /// `Fail`, as nothing is compared.
    pub result: IprevResult,
    /// The client address checked, after [`crate::ip::canonical`].
    pub client: IpAddr,
    /// The distinct PTR names, in the order served, usable or not; **unverified**.
    pub names: Vec<String>,
    /// The PTR lookup.
    pub lookups: Vec<Lookup>,
}

impl ReverseOutput {
    /// The first PTR name that is a usable host name (Postfix `reverse_client_name`); unverified.
    pub fn reverse_name(&self) -> Option<&str> {
        first_host_name(self.names.iter().map(String::as_str))
    }
}

/// Whether the client address has a PTR name at all, as Postfix
/// `reject_unknown_reverse_client_hostname` asks (one PTR query, no forward lookup).
///
/// | PTR answer | result | Postfix |
/// |---|---|---|
/// | a name that is a usable host name | `Pass` | OK |
/// | NXDOMAIN, NODATA, or only numeric or invalid names | `PermError` | 450 4.7.1 (`unknown_client_reject_code`) |
/// | timeout, SERVFAIL, other error | `TempError` | always 450 4.7.1 |
///
/// Postfix looks at the one name `getnameinfo()` returns; this passes if any PTR name is usable.
///
/// ```
/// use sender_identity::dns::ZoneResolver;
/// use sender_identity::iprev::{check_reverse, IprevResult};
///
/// let zone: ZoneResolver = "192.0.2.1 PTR host.example.net".parse().unwrap();
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let out = check_reverse(&zone, "192.0.2.1".parse().unwrap()).await;
/// assert_eq!(out.result, IprevResult::Pass);
/// assert_eq!(out.reverse_name(), Some("host.example.net")); // not verified!
/// let none = check_reverse(&zone, "192.0.2.2".parse().unwrap()).await;
/// assert_eq!(none.result, IprevResult::PermError);
/// # });
/// ```
pub async fn check_reverse<R: Resolver + ?Sized>(resolver: &R, client: IpAddr) -> ReverseOutput {
    let client = canonical(client);
    let mut dns = Recorder::new(resolver);
    let (result, names) = match ptr_names(&mut dns, client).await {
        Ok(names) if first_host_name(names.iter().map(String::as_str)).is_some() => {
            (IprevResult::Pass, names)
        }
        Ok(names) => (IprevResult::PermError, names),
        Err(result) => (result, Vec::new()),
    };
    ReverseOutput {
        result,
        client,
        names,
        lookups: dns.lookups,
    }
}

#[cfg(test)]
mod tests;
