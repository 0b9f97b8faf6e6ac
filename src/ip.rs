//! Client addresses: the one place IPv4-mapped IPv6 addresses are folded to IPv4.

use std::net::IpAddr;

/// The address a check should use for `ip`: an IPv4-mapped IPv6 address (`::ffff:192.0.2.1`) becomes
/// the IPv4 address it carries, as a dual-stack listener reports IPv4 clients that way (RFC 7208 §5
/// evaluates them as IPv4). Every other address is returned unchanged.
///
/// ```
/// use sender_identity::ip::canonical;
/// let mapped: std::net::IpAddr = "::ffff:192.0.2.1".parse().unwrap();
/// assert_eq!(canonical(mapped), "192.0.2.1".parse::<std::net::IpAddr>().unwrap());
/// let v6: std::net::IpAddr = "2001:db8::1".parse().unwrap();
/// assert_eq!(canonical(v6), v6);
/// ```
pub fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => ip,
        },
        v4 => v4,
    }
}
