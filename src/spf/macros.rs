//! Macro expansion (RFC 7208 §7.3, §7.4).
//!
//! ```
//! use sender_identity::spf::{parse_explanation, MacroContext};
//! let ctx = MacroContext {
//!     sender: "strong-bad@email.example.com",
//!     local_part: "strong-bad",
//!     sender_domain: "email.example.com",
//!     domain: "email.example.com",
//!     ip: "192.0.2.3".parse().unwrap(),
//!     helo: "mx.example.org",
//!     validated_name: None,
//!     receiver: "mx.example.net",
//!     timestamp: 0,
//! };
//! let ms = parse_explanation("%{ir}.%{v}._spf.%{d2} %{lr-} %{S}").unwrap();
//! let mut out = String::new();
//! ms.expand(&ctx, &mut out);
//! assert_eq!(out, "3.2.0.192.in-addr._spf.example.com bad.strong strong-bad%40email.example.com");
//! ```

use super::record::{Macro, MacroLetter, MacroPart, MacroString};
use crate::name::MAX_NAME_LEN;
use std::fmt::Write as _;
use std::net::IpAddr;

/// The values macros expand to.
#[derive(Debug, Clone, Copy)]
pub struct MacroContext<'a> {
    /// `s`: the whole sender, `local-part@domain`.
    pub sender: &'a str,
    /// `l`: the sender's local part (`postmaster` when it had none).
    pub local_part: &'a str,
    /// `o`: the sender's domain.
    pub sender_domain: &'a str,
    /// `d`: the domain whose record is being evaluated.
    pub domain: &'a str,
    /// `i`, `c`, `v`: the client IP (IPv4-mapped addresses already folded).
    pub ip: IpAddr,
    /// `h`: the HELO/EHLO domain.
    pub helo: &'a str,
    /// `p`: the validated domain name of the client IP; `unknown` when `None`.
    pub validated_name: Option<&'a str>,
    /// `r`: the receiving host's name.
    pub receiver: &'a str,
    /// `t`: seconds since the Unix epoch.
    pub timestamp: u64,
}

impl MacroString {
    /// Appends the expansion of this string to `out`.
    pub fn expand(&self, ctx: &MacroContext<'_>, out: &mut String) {
        for part in self.parts() {
            match part {
                MacroPart::Literal(s) => out.push_str(s),
                MacroPart::Macro(m) => m.expand(ctx, out),
            }
        }
    }

    /// Expands this string as a name to query: truncated from the left, label by label, to at most
    /// 253 bytes (RFC 7208 §7.3), without a trailing dot.
    pub fn expand_name(&self, ctx: &MacroContext<'_>, out: &mut String) {
        out.clear();
        out.reserve(64);
        self.expand(ctx, out);
        truncate_name(out);
    }
}

/// Removes leading labels until `name` is at most 253 bytes, and one trailing dot.
pub(crate) fn truncate_name(name: &mut String) {
    if name.ends_with('.') {
        name.pop();
    }
    if name.len() <= MAX_NAME_LEN {
        return;
    }
    let excess = name.len() - MAX_NAME_LEN;
    // Cut after the first dot at index `excess - 1` or later: the shortest whole-label prefix.
    let cut = match name.as_bytes()[excess - 1..]
        .iter()
        .position(|&b| b == b'.')
    {
        Some(p) => excess + p,
        None => name.len(),
    };
    name.drain(..cut);
}

impl Macro {
    fn expand(&self, ctx: &MacroContext<'_>, out: &mut String) {
        let mut buf = Ascii::default();
        let text = self.value(ctx, &mut buf);
        if self.url_escape {
            let mut transformed = String::with_capacity(text.len());
            self.transform_into(text, &mut transformed);
            url_escape(&transformed, out);
        } else {
            self.transform_into(text, out);
        }
    }

    /// The macro letter's value; formatted values (addresses, the time) go into `buf`.
    fn value<'c>(&self, ctx: &MacroContext<'c>, buf: &'c mut Ascii) -> &'c str {
        match self.letter {
            MacroLetter::Sender => ctx.sender,
            MacroLetter::LocalPart => ctx.local_part,
            MacroLetter::SenderDomain => ctx.sender_domain,
            MacroLetter::Domain => ctx.domain,
            MacroLetter::Helo => ctx.helo,
            MacroLetter::ValidatedName => ctx.validated_name.unwrap_or("unknown"),
            MacroLetter::Receiver => ctx.receiver,
            MacroLetter::IpVersion => match ctx.ip {
                IpAddr::V4(_) => "in-addr",
                IpAddr::V6(_) => "ip6",
            },
            MacroLetter::Ip => {
                dotted_ip(ctx.ip, buf);
                buf.as_str()
            }
            MacroLetter::ClientIp => {
                match ctx.ip {
                    IpAddr::V4(v4) => dotted_quad(v4, buf),
                    IpAddr::V6(v6) => {
                        let _ = write!(buf, "{v6}");
                    }
                }
                buf.as_str()
            }
            MacroLetter::Timestamp => {
                let _ = write!(buf, "{}", ctx.timestamp);
                buf.as_str()
            }
        }
    }

    /// Writes `text` split on the delimiters, reversed, cut to the right-hand parts and joined with
    /// `.` (RFC 7208 §7.3), without collecting the parts.
    fn transform_into(&self, text: &str, out: &mut String) {
        if self.keep.is_none() && !self.reverse && self.delimiters.is_default() {
            out.push_str(text);
            return;
        }
        let delims = self.delimiters;
        let is_delim = move |c: char| delims.contains(c);
        let parts = 1 + text.chars().filter(|&c| is_delim(c)).count();
        let keep = self.keep.map_or(parts, |k| (k as usize).min(parts));
        let mut first = true;
        let mut push = |part: &str| {
            if !first {
                out.push('.');
            }
            first = false;
            out.push_str(part);
        };
        if self.reverse {
            // Reversed, the right-hand `keep` parts are the first `keep` parts, last one first.
            text.rsplit(is_delim).skip(parts - keep).for_each(&mut push);
        } else {
            text.split(is_delim).skip(parts - keep).for_each(&mut push);
        }
    }
}

/// A small stack buffer for formatted macro values (the longest is an IPv6 `%{i}`, 63 bytes).
#[derive(Debug)]
struct Ascii {
    bytes: [u8; 72],
    len: usize,
}

impl Default for Ascii {
    fn default() -> Self {
        Ascii {
            bytes: [0; 72],
            len: 0,
        }
    }
}

impl Ascii {
    fn as_str(&self) -> &str {
        std::str::from_utf8(&self.bytes[..self.len]).unwrap_or("")
    }
}

impl std::fmt::Write for Ascii {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        let end = self.len + s.len();
        let dest = self.bytes.get_mut(self.len..end).ok_or(std::fmt::Error)?;
        dest.copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

/// `%{i}`: dotted-decimal for IPv4, dot-separated nibbles for IPv6 (RFC 7208 §7.3).
fn dotted_ip(ip: IpAddr, out: &mut impl std::fmt::Write) {
    match ip {
        IpAddr::V4(v4) => dotted_quad(v4, out),
        IpAddr::V6(v6) => {
            const HEX: &[u8; 16] = b"0123456789abcdef";
            for (i, b) in v6.octets().iter().enumerate() {
                if i > 0 {
                    let _ = out.write_char('.');
                }
                let _ = out.write_char(char::from(HEX[(b >> 4) as usize]));
                let _ = out.write_char('.');
                let _ = out.write_char(char::from(HEX[(b & 0xf) as usize]));
            }
        }
    }
}

/// An IPv4 address in dotted-decimal form, without the formatting machinery (this runs for every
/// `%{i}` and every default explanation).
fn dotted_quad(ip: std::net::Ipv4Addr, out: &mut impl std::fmt::Write) {
    for (i, octet) in ip.octets().into_iter().enumerate() {
        if i > 0 {
            let _ = out.write_char('.');
        }
        if octet >= 100 {
            let _ = out.write_char(char::from(b'0' + octet / 100));
        }
        if octet >= 10 {
            let _ = out.write_char(char::from(b'0' + octet / 10 % 10));
        }
        let _ = out.write_char(char::from(b'0' + octet % 10));
    }
}

/// URL-escapes every byte outside RFC 3986 "unreserved".
fn url_escape(text: &str, out: &mut String) {
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spf::parse_explanation;

    fn ctx(ip: &str) -> MacroContext<'static> {
        MacroContext {
            sender: "strong-bad@email.example.com",
            local_part: "strong-bad",
            sender_domain: "email.example.com",
            domain: "email.example.com",
            ip: ip.parse().unwrap(),
            helo: "mx.example.org",
            validated_name: Some("mx.example.org"),
            receiver: "rcv.example.net",
            timestamp: 1234,
        }
    }

    fn expand(s: &str, ip: &str) -> String {
        let mut out = String::new();
        parse_explanation(s).unwrap().expand(&ctx(ip), &mut out);
        out
    }

    /// The examples of RFC 7208 §7.4.
    #[test]
    fn rfc_examples() {
        let v4 = "192.0.2.3";
        assert_eq!(expand("%{s}", v4), "strong-bad@email.example.com");
        assert_eq!(expand("%{o}", v4), "email.example.com");
        assert_eq!(expand("%{d}", v4), "email.example.com");
        assert_eq!(expand("%{d4}", v4), "email.example.com");
        assert_eq!(expand("%{d3}", v4), "email.example.com");
        assert_eq!(expand("%{d2}", v4), "example.com");
        assert_eq!(expand("%{d1}", v4), "com");
        assert_eq!(expand("%{dr}", v4), "com.example.email");
        assert_eq!(expand("%{d2r}", v4), "example.email");
        assert_eq!(expand("%{l}", v4), "strong-bad");
        assert_eq!(expand("%{l-}", v4), "strong.bad");
        assert_eq!(expand("%{lr}", v4), "strong-bad");
        assert_eq!(expand("%{lr-}", v4), "bad.strong");
        assert_eq!(expand("%{l1r-}", v4), "strong");
        assert_eq!(
            expand("%{ir}.%{v}._spf.%{d2}", v4),
            "3.2.0.192.in-addr._spf.example.com"
        );
        assert_eq!(
            expand("%{lr-}.lp._spf.%{d2}", v4),
            "bad.strong.lp._spf.example.com"
        );
        assert_eq!(
            expand("%{lr-}.lp.%{ir}.%{v}._spf.%{d2}", v4),
            "bad.strong.lp.3.2.0.192.in-addr._spf.example.com"
        );
        assert_eq!(
            expand("%{ir}.%{v}.%{l1r-}.lp._spf.%{d2}", v4),
            "3.2.0.192.in-addr.strong.lp._spf.example.com"
        );
        assert_eq!(
            expand("%{d2}.trusted-domains.example.net", v4),
            "example.com.trusted-domains.example.net"
        );
        assert_eq!(
            expand("%{ir}.%{v}._spf.%{d2}", "2001:db8::cb01"),
            "1.0.b.c.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6._spf.example.com"
        );
    }

    #[test]
    fn other_letters() {
        let v4 = "192.0.2.3";
        assert_eq!(expand("%{h}", v4), "mx.example.org");
        assert_eq!(expand("%{p}", v4), "mx.example.org");
        assert_eq!(expand("%{c}", v4), "192.0.2.3");
        assert_eq!(expand("%{c}", "2001:db8::cb01"), "2001:db8::cb01");
        assert_eq!(expand("%{v}", "::1"), "ip6");
        assert_eq!(expand("%{r}", v4), "rcv.example.net");
        assert_eq!(expand("%{t}", v4), "1234");
        assert_eq!(expand("%%%_%-", v4), "% %20");
        assert_eq!(expand("%{d999}", v4), "email.example.com");
        assert_eq!(expand("%{l+-=}", v4), "strong.bad");
    }

    #[test]
    fn url_escaping() {
        assert_eq!(
            expand("%{S}", "192.0.2.3"),
            "strong-bad%40email.example.com"
        );
        let mut out = String::new();
        url_escape("a b/~é", &mut out);
        assert_eq!(out, "a%20b%2F~%C3%A9");
    }

    #[test]
    fn truncation() {
        let label = "a".repeat(63);
        let mut name = format!("{label}.{label}.{label}.{label}.example.com");
        assert!(name.len() > 253);
        truncate_name(&mut name);
        assert!(name.len() <= 253);
        assert!(name.ends_with(".example.com"));
        assert!(name.starts_with('a'));
        let mut dotted = "example.com.".to_string();
        truncate_name(&mut dotted);
        assert_eq!(dotted, "example.com");
        let mut one = "x".repeat(300);
        truncate_name(&mut one);
        assert_eq!(one, "");
    }
}
