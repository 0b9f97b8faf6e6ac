//! SPF evaluation (`check_host()`) against a fuzzer-built zone, through the in-memory
//! `ZoneResolver`, on a current-thread Tokio runtime.
//!
//! The input is structured (`arbitrary`): a small zone over a pool of names (TXT records that are
//! either fuzzer text or `v=spf1` records built from fuzzer-chosen terms, A, AAAA, MX, PTR, CNAME,
//! TIMEOUT and SERVFAIL faults), a client address, a sender, a HELO name, the identity to check
//! and the limits.
//!
//! Invariants, for every input:
//! - evaluation never panics and ends (every lookup answers at once; CNAME chains are cut at 8);
//! - `dns_lookups <= max_dns_lookups + 1` and `void_lookups <= max_void_lookups + 1`;
//! - the zone answers at most `1 + min(dns_lookups, max_dns_lookups) * (1 + max_mx_names)
//!   + (1 + max_ptr_names) + 1` queries: the first TXT; per DNS-querying term at most one lookup
//!   of its own plus, for `mx`, one address lookup per MX name (at most `max_mx_names`); the
//!   client's validated names once per evaluation (one PTR plus one address lookup per PTR name,
//!   at most `max_ptr_names`); and one TXT for `exp=`;
//! - temperror only when the zone can fail (a fault, or a CNAME that may loop or run long);
//! - an explanation exactly on fail; a cause that is an error exactly on temperror/permerror;
//! - the same input evaluated again gives the same result, counts and number of queries;
//! - evaluated through a resolver that answers nothing from memory (every answer awaited, the
//!   evaluation run again after each), the output is the same, and no name and type is queried
//!   twice, so the same bound holds.
#![no_main]

use arbitrary::{Arbitrary, Unstructured};
use libfuzzer_sys::fuzz_target;
use sender_identity::dns::{Fault, RecordType, Resolver, ZoneResolver};
use sender_identity::spf::{Cause, Config, Identity, SpfOutput, SpfResult, Verifier};
use std::fmt::Write as _;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::Duration;

/// The names records are put at and terms point to.
const NAMES: &[&str] = &[
    "example.com",
    "a.example.com",
    "b.example.com",
    "mx.example.com",
    "example.org",
    "_spf.example.org",
    "exp.example.org",
    "loop.example.net",
    "1.2.0.192.in-addr.arpa",
    "2.0.192.in-addr._spf.example.com",
];

/// Domain-specs a term may carry: plain names and macro-built ones.
const SPECS: &[&str] = &[
    "%{d}",
    "%{o}",
    "%{h}",
    "_spf.%{d}",
    "%{ir}.%{v}._spf.%{d}",
    "%{i}._ip.example.com",
    "%{l}.%{o}",
    "%{p}",
    "%{p}.example.com",
    "%{d2}",
    "%{dr}",
    "%{s}",
    "%{L-}.x.example.com",
];

const CLIENTS: &[&str] = &[
    "192.0.2.1",
    "192.0.2.10",
    "198.51.100.7",
    "2001:db8::1",
    "2001:db8::10",
    "::ffff:192.0.2.1",
];

#[derive(Debug, Arbitrary)]
struct Name(u8);

impl Name {
    fn get(&self) -> &'static str {
        NAMES[usize::from(self.0) % NAMES.len()]
    }
}

#[derive(Debug, Arbitrary)]
enum Target {
    Name(Name),
    Spec(u8),
    Text(String),
}

impl Target {
    fn write(&self, out: &mut String) {
        match self {
            Target::Name(n) => out.push_str(n.get()),
            Target::Spec(i) => out.push_str(SPECS[usize::from(*i) % SPECS.len()]),
            Target::Text(t) => out.push_str(t),
        }
    }
}

#[derive(Debug, Arbitrary)]
enum Term {
    All,
    Include(Target),
    A(Option<Target>, Option<u8>, Option<u8>),
    Mx(Option<Target>, Option<u8>, Option<u8>),
    Ptr(Option<Target>),
    Ip4([u8; 4], Option<u8>),
    Ip6([u8; 16], Option<u8>),
    Exists(Target),
    Redirect(Target),
    Exp(Target),
    Raw(String),
}

impl Term {
    fn write(&self, out: &mut String) {
        let opt = |out: &mut String, t: &Option<Target>| {
            if let Some(t) = t {
                out.push(':');
                t.write(out);
            }
        };
        let cidr = |out: &mut String, v4: &Option<u8>, v6: &Option<u8>| {
            if let Some(c) = v4 {
                let _ = write!(out, "/{}", c % 34);
            }
            if let Some(c) = v6 {
                let _ = write!(out, "//{}", c % 130);
            }
        };
        match self {
            Term::All => out.push_str("all"),
            Term::Include(t) => {
                out.push_str("include:");
                t.write(out);
            }
            Term::A(t, v4, v6) => {
                out.push('a');
                opt(out, t);
                cidr(out, v4, v6);
            }
            Term::Mx(t, v4, v6) => {
                out.push_str("mx");
                opt(out, t);
                cidr(out, v4, v6);
            }
            Term::Ptr(t) => {
                out.push_str("ptr");
                opt(out, t);
            }
            Term::Ip4(a, p) => {
                let _ = write!(out, "ip4:{}", Ipv4Addr::from(*a));
                if let Some(p) = p {
                    let _ = write!(out, "/{}", p % 33);
                }
            }
            Term::Ip6(a, p) => {
                let _ = write!(out, "ip6:{}", Ipv6Addr::from(*a));
                if let Some(p) = p {
                    let _ = write!(out, "/{}", p % 129);
                }
            }
            Term::Exists(t) => {
                out.push_str("exists:");
                t.write(out);
            }
            Term::Redirect(t) => {
                out.push_str("redirect=");
                t.write(out);
            }
            Term::Exp(t) => {
                out.push_str("exp=");
                t.write(out);
            }
            Term::Raw(s) => out.push_str(s),
        }
    }
}

#[derive(Debug, Arbitrary)]
enum Qualifier {
    None,
    Plus,
    Minus,
    Tilde,
    Question,
}

#[derive(Debug, Arbitrary)]
enum Rtype {
    Txt,
    A,
    Aaaa,
    Mx,
    Ptr,
}

impl Rtype {
    fn get(&self) -> RecordType {
        match self {
            Rtype::Txt => RecordType::Txt,
            Rtype::A => RecordType::A,
            Rtype::Aaaa => RecordType::Aaaa,
            Rtype::Mx => RecordType::Mx,
            Rtype::Ptr => RecordType::Ptr,
        }
    }
}

#[derive(Debug, Arbitrary)]
enum Rec {
    /// A `v=spf1` record of these terms.
    Spf(Vec<(Qualifier, Term)>),
    /// A TXT record of these character-strings (an explanation, junk, a broken SPF record...).
    Txt(Vec<Vec<u8>>),
    A([u8; 4]),
    /// An A record with a client's address.
    AClient,
    Aaaa([u8; 16]),
    AaaaClient,
    Mx(u16, Name),
    /// A PTR record of the client's address.
    Ptr(Name),
    Cname(Name),
    Timeout(Option<Rtype>),
    Servfail(Option<Rtype>),
}

#[derive(Debug, Arbitrary)]
enum Client {
    Pool(u8),
    V4([u8; 4]),
    V6([u8; 16]),
}

#[derive(Debug)]
struct Input {
    records: Vec<(Name, Rec)>,
    /// Extra MX records at one name, to cross the 10-name limit.
    mx_fanout: Option<(Name, u8)>,
    client: Client,
    local_part: String,
    sender_domain: Target,
    helo: Name,
    helo_identity: bool,
    max_dns_lookups: u8,
    max_void_lookups: u8,
    max_mx_names: u8,
    max_ptr_names: u8,
    count_mx_address_voids: bool,
}

impl<'a> Arbitrary<'a> for Input {
    fn arbitrary(u: &mut Unstructured<'a>) -> arbitrary::Result<Self> {
        let n = u.int_in_range(0..=24)?;
        let mut records = Vec::with_capacity(n);
        for _ in 0..n {
            records.push((Name::arbitrary(u)?, Rec::arbitrary(u)?));
        }
        Ok(Input {
            records,
            mx_fanout: Option::arbitrary(u)?,
            client: Client::arbitrary(u)?,
            local_part: String::arbitrary(u)?,
            sender_domain: Target::arbitrary(u)?,
            helo: Name::arbitrary(u)?,
            helo_identity: bool::arbitrary(u)?,
            max_dns_lookups: u.int_in_range(0..=12)?,
            max_void_lookups: u.int_in_range(0..=4)?,
            max_mx_names: u.int_in_range(0..=12)?,
            max_ptr_names: u.int_in_range(0..=12)?,
            count_mx_address_voids: bool::arbitrary(u)?,
        })
    }
}

fn client(c: &Client) -> IpAddr {
    match c {
        Client::Pool(i) => CLIENTS[usize::from(*i) % CLIENTS.len()].parse().unwrap(),
        Client::V4(a) => IpAddr::V4(Ipv4Addr::from(*a)),
        Client::V6(a) => IpAddr::V6(Ipv6Addr::from(*a)),
    }
}

/// Builds the zone; returns it and whether it can fail (a fault or a CNAME anywhere).
fn zone(input: &Input, ip: IpAddr) -> (ZoneResolver, bool) {
    let mut zone = ZoneResolver::new();
    let mut can_fail = false;
    for (name, rec) in &input.records {
        let name = name.get();
        match rec {
            Rec::Spf(terms) => {
                let mut text = String::from("v=spf1");
                for (q, term) in terms.iter().take(16) {
                    text.push(' ');
                    text.push_str(match q {
                        Qualifier::None => "",
                        Qualifier::Plus => "+",
                        Qualifier::Minus => "-",
                        Qualifier::Tilde => "~",
                        Qualifier::Question => "?",
                    });
                    term.write(&mut text);
                }
                zone.add_txt(name, &text);
            }
            Rec::Txt(strings) => {
                zone.add_txt_strings(name, strings.clone());
            }
            Rec::A(a) => {
                zone.add_ip(name, IpAddr::V4(Ipv4Addr::from(*a)));
            }
            Rec::AClient => {
                let v4 = match sender_identity::ip::canonical(ip) {
                    IpAddr::V4(v4) => v4,
                    IpAddr::V6(_) => Ipv4Addr::new(192, 0, 2, 1),
                };
                zone.add_ip(name, IpAddr::V4(v4));
            }
            Rec::Aaaa(a) => {
                zone.add_ip(name, IpAddr::V6(Ipv6Addr::from(*a)));
            }
            Rec::AaaaClient => {
                let v6 = match ip {
                    IpAddr::V6(v6) => v6,
                    IpAddr::V4(_) => "2001:db8::1".parse().unwrap(),
                };
                zone.add_ip(name, IpAddr::V6(v6));
            }
            Rec::Mx(pref, exchange) => {
                zone.add_mx(name, *pref, exchange.get());
            }
            // The owner is the client's reverse name, whatever `name` says.
            Rec::Ptr(target) => {
                zone.add_ptr(sender_identity::ip::canonical(ip), target.get());
            }
            Rec::Cname(target) => {
                can_fail = true;
                zone.add_cname(name, target.get());
            }
            Rec::Timeout(t) => {
                can_fail = true;
                zone.add_fault(name, t.as_ref().map(Rtype::get), Fault::Timeout);
            }
            Rec::Servfail(t) => {
                can_fail = true;
                zone.add_fault(name, t.as_ref().map(Rtype::get), Fault::ServerFailure);
            }
        }
    }
    if let Some((name, count)) = &input.mx_fanout {
        for i in 0..*count % 24 {
            zone.add_mx(name.get(), u16::from(i), &format!("mx{i}.example.com"));
        }
    }
    (zone, can_fail)
}

fn runtime() -> &'static tokio::runtime::Runtime {
    use std::sync::OnceLock;
    static RT: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RT.get_or_init(|| {
        tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap()
    })
}

fn evaluate<R: Resolver>(verifier: &Verifier<R>, input: &Input, ip: IpAddr) -> SpfOutput {
    let helo = input.helo.get();
    runtime().block_on(async {
        if input.helo_identity {
            verifier.check_helo(ip, helo).await
        } else {
            let mut domain = String::new();
            input.sender_domain.write(&mut domain);
            let sender = format!("{}@{domain}", input.local_part);
            verifier.check_mail_from(ip, helo, &sender).await
        }
    })
}

fuzz_target!(|input: Input| {
    let ip = client(&input.client);
    let (zone, can_fail) = zone(&input, ip);
    let mut config = Config::default();
    config.max_dns_lookups = u32::from(input.max_dns_lookups);
    config.max_void_lookups = u32::from(input.max_void_lookups);
    config.max_mx_names = usize::from(input.max_mx_names);
    config.max_ptr_names = usize::from(input.max_ptr_names);
    config.count_mx_address_voids = input.count_mx_address_voids;
    // Never reached (the zone answers at once), but keeps the time driver in the path.
    config.timeout = Some(Duration::from_secs(60));
    let verifier = Verifier::with_config(zone, config.clone());

    let out = evaluate(&verifier, &input, ip);
    let queries = verifier.resolver().query_count();

    assert!(
        out.dns_lookups <= config.max_dns_lookups + 1,
        "{out:?} {input:?}"
    );
    assert!(
        out.void_lookups <= config.max_void_lookups + 1,
        "{out:?} {input:?}"
    );
    let terms = out.dns_lookups.min(config.max_dns_lookups) as usize;
    let bound = 1 + terms * (1 + config.max_mx_names) + (1 + config.max_ptr_names) + 1;
    assert!(
        queries <= bound,
        "{queries} queries > {bound}: {out:?} {input:?}"
    );
    if out.result == SpfResult::Temperror {
        assert!(
            can_fail,
            "temperror from a zone that cannot fail: {out:?} {input:?}"
        );
    }
    assert_eq!(
        out.explanation.is_some(),
        out.result == SpfResult::Fail,
        "{out:?}"
    );
    let is_error = matches!(out.result, SpfResult::Temperror | SpfResult::Permerror);
    assert_eq!(matches!(out.cause, Cause::Error(_)), is_error, "{out:?}");
    if let Some(e) = out.error() {
        assert_eq!(e.result(), out.result);
    }
    let identity = if input.helo_identity {
        Identity::Helo
    } else {
        Identity::MailFrom
    };
    assert_eq!(out.identity, identity);

    let before = verifier.resolver().query_count();
    let again = evaluate(&verifier, &input, ip);
    assert_eq!(
        (again.result, again.dns_lookups, again.void_lookups),
        (out.result, out.dns_lookups, out.void_lookups),
        "{input:?}"
    );
    assert_eq!(verifier.resolver().query_count() - before, queries);

    // Every answer awaited, one lookup at a time: the same result, and only lookups it needs.
    let mut zone = verifier.resolver().clone();
    zone.set_awaited_only(true);
    let mut one_by_one = config.clone();
    one_by_one.prefetch = false;
    let awaited = Verifier::with_config(zone.clone(), one_by_one);
    let again = evaluate(&awaited, &input, ip);
    assert_eq!(
        (again.result, again.dns_lookups, again.void_lookups),
        (out.result, out.dns_lookups, out.void_lookups),
        "{input:?}"
    );
    let awaited_queries = awaited.resolver().query_count();
    assert!(
        awaited_queries <= queries,
        "{awaited_queries} awaited queries > {queries} from memory: {input:?}"
    );

    // Prefetching (the default): the same result; speculative lookups stay within the bound of
    // one evaluation, `1 + T(1 + M) + (1 + P) + 1`.
    let prefetching = Verifier::with_config(zone, config.clone());
    let again = evaluate(&prefetching, &input, ip);
    assert_eq!(
        (again.result, again.dns_lookups, again.void_lookups),
        (out.result, out.dns_lookups, out.void_lookups),
        "{input:?}"
    );
    let terms = config.max_dns_lookups as usize;
    let bound = 1 + terms * (1 + config.max_mx_names) + 1 + config.max_ptr_names + 1;
    let prefetched = prefetching.resolver().query_count();
    assert!(
        prefetched <= bound,
        "{prefetched} lookups > {bound}: {input:?}"
    );
});
