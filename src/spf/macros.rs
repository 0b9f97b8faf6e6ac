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

use super::record::{Delimiters, Macro, MacroLetter, MacroPart, MacroString};
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

/// The most an explanation expands to, in bytes: [`MacroString::expand`] stops there (at a
/// character boundary). An explanation is sent back in the SMTP reply to the rejected mail (RFC
/// 7208 §6.2), and a reply line holds at most 512 octets with its code and CRLF (RFC 5321
/// §4.5.3.1.5): 400 leaves 112 for the reply code, the enhanced status code and a prefix such as
/// `SPF validation failed: `. A longer text is of no use to the sender, and the cap keeps a
/// record's `exp=` text of thousands of `%{s}` from building megabytes.
pub const MAX_EXPLANATION_LEN: usize = 400;

impl MacroString {
    /// Appends the expansion of this string to `out`, cut to at most [`MAX_EXPLANATION_LEN`] bytes
    /// (at a character boundary: the longest prefix of the whole expansion that fits). The
    /// expansion stops at the cap: however long the macro values and however many macros, it
    /// never builds more than that.
    pub fn expand(&self, ctx: &MacroContext<'_>, out: &mut String) {
        let mut buf = Buf::<STACK_LEN>::new();
        self.expand_into(ctx, &mut buf);
        match buf.as_str() {
            Some(text) => out.push_str(text),
            None => self.expand_long(ctx, out),
        }
    }

    /// Expands this string as a name to query: truncated from the left, label by label, to at most
    /// 253 bytes (RFC 7208 §7.3), without a trailing dot. The name is written into `out` (cleared
    /// first): reusing one `out` for many names saves allocating. A long expansion is never built
    /// whole: only the bytes it ends with are kept, from its last part backwards.
    pub fn expand_name(&self, ctx: &MacroContext<'_>, out: &mut String) {
        out.clear();
        let mut buf = Buf::<STACK_LEN>::new();
        self.expand_into(ctx, &mut buf);
        match buf.as_str() {
            Some(text) => out.push_str(text.get(name_range(text)).unwrap_or_default()),
            None => self.expand_long_name(ctx, out),
        }
    }

    /// Appends an expansion too long for the stack to `out`, capped at [`MAX_EXPLANATION_LEN`],
    /// reserving room for it first.
    #[cold]
    #[inline(never)]
    fn expand_long(&self, ctx: &MacroContext<'_>, out: &mut String) {
        out.reserve(self.expansion_bound(ctx).min(MAX_EXPLANATION_LEN));
        self.expand_into(ctx, &mut Capped::new(out, MAX_EXPLANATION_LEN));
    }

    /// Writes the name of an expansion too long for the stack: the last [`TAIL_LEN`] bytes of the
    /// expansion (all it needs, see [`name_range`]) are gathered from the last part backwards, so
    /// the work stops once they are there; each macro is expanded through a window that keeps only
    /// its own last bytes.
    #[cold]
    #[inline(never)]
    fn expand_long_name(&self, ctx: &MacroContext<'_>, out: &mut String) {
        let mut tail = Backwards::new();
        for part in self.parts_rev() {
            match part {
                MacroPart::Literal(s) => tail.prepend(s.as_bytes()),
                MacroPart::Macro(m) => {
                    let mut window = Window::new();
                    m.expand(ctx, &mut window);
                    tail.prepend(window.bytes());
                }
            }
            if tail.is_full() {
                break;
            }
        }
        let bytes = tail.bytes();
        // The name starts after a dot (or at the start of the whole expansion), so it is whole
        // characters of the expansion's text.
        let name = bytes.get(name_range_of(bytes)).unwrap_or_default();
        out.push_str(std::str::from_utf8(name).unwrap_or_default());
    }

    /// Writes the expansion into `out`, stopping early once `out` takes no more.
    fn expand_into(&self, ctx: &MacroContext<'_>, out: &mut impl Out) {
        for part in self.parts() {
            match part {
                MacroPart::Literal(s) => out.push_str(s),
                MacroPart::Macro(m) => m.expand(ctx, out),
            }
            if out.is_full() {
                break;
            }
        }
    }

    /// At least the length of the expansion (exactly it for macros without transformers or
    /// escaping), capped at [`RESERVE_CAP`].
    fn expansion_bound(&self, ctx: &MacroContext<'_>) -> usize {
        self.parts()
            .fold(0usize, |n, part| {
                n.saturating_add(match part {
                    MacroPart::Literal(s) => s.len(),
                    MacroPart::Macro(m) => m.expansion_bound(ctx),
                })
            })
            .min(RESERVE_CAP)
    }
}

/// Expansions up to this long are built on the stack, then copied into the output with a single
/// allocation of the exact size; longer ones (cut to 253 bytes as names anyway) go to the output
/// directly.
const STACK_LEN: usize = 320;

/// The most reserved ahead for a long expansion.
const RESERVE_CAP: usize = 1024;

/// How many of the last bytes of an expansion decide its name (see [`name_range`]): 253, one
/// trailing dot, and the byte before the name, which tells whether a label starts there.
const TAIL_LEN: usize = MAX_NAME_LEN + 2;

/// The part of `name` to query: without one trailing dot and, beyond 253 bytes, without as few
/// leading labels as make it fit (RFC 7208 §7.3); empty when no whole-label suffix fits.
///
/// Only the last [`TAIL_LEN`] bytes of `name` matter: for a longer name, the range found in those
/// bytes alone is the same (counted from their start), as the search for the cut starts at most
/// that far from the end.
fn name_range(name: &str) -> std::ops::Range<usize> {
    name_range_of(name.as_bytes())
}

/// [`name_range`] of bytes.
fn name_range_of(bytes: &[u8]) -> std::ops::Range<usize> {
    let end = bytes.len() - usize::from(bytes.last() == Some(&b'.'));
    if end <= MAX_NAME_LEN {
        return 0..end;
    }
    let excess = end - MAX_NAME_LEN;
    // Cut after the first dot at index `excess - 1` or later: the shortest whole-label prefix.
    let start = match bytes[excess - 1..end].iter().position(|&b| b == b'.') {
        Some(p) => excess + p,
        None => end,
    };
    start..end
}

/// Removes leading labels until `name` is at most 253 bytes, and one trailing dot.
#[cfg(test)]
fn truncate_name(name: &mut String) {
    let range = name_range(name);
    name.truncate(range.end);
    name.drain(..range.start);
}

impl Macro {
    #[inline(never)]
    fn expand(&self, ctx: &MacroContext<'_>, out: &mut impl Out) {
        // `keep` is never 0 from the parser; a hand-built 0 keeps no part.
        let keep = match self.keep {
            None => usize::MAX,
            Some(k) => usize::try_from(k).unwrap_or(usize::MAX),
        };
        if keep == 0 {
            return;
        }
        if self.letter == MacroLetter::Ip {
            // Split into octets or nibbles directly; every byte of it is unreserved, so URL
            // escaping leaves it as it is.
            return self.expand_ip(ctx.ip, keep, out);
        }
        match self.str_value(ctx) {
            Some(text) => self.transform_escaped(text, keep, out),
            None => self.expand_formatted(ctx, keep, out),
        }
    }

    /// `%{c}` and `%{t}` (explanations only): formatted first, out of line.
    #[inline(never)]
    fn expand_formatted(&self, ctx: &MacroContext<'_>, keep: usize, out: &mut impl Out) {
        let mut buf = Buf::<72>::new();
        match (self.letter, ctx.ip) {
            (MacroLetter::ClientIp, IpAddr::V4(v4)) => push_octets(&v4.octets(), &mut buf),
            (MacroLetter::ClientIp, IpAddr::V6(v6)) => {
                let _ = write!(buf, "{v6}");
            }
            (MacroLetter::Timestamp, _) => {
                let _ = write!(buf, "{}", ctx.timestamp);
            }
            _ => self.expand_ip(ctx.ip, usize::MAX, &mut buf),
        }
        self.transform_escaped(buf.as_str().unwrap_or_default(), keep, out);
    }

    fn transform_escaped(&self, text: &str, keep: usize, out: &mut impl Out) {
        let plain = !self.reverse && keep == usize::MAX && self.delimiters.is_default();
        match (self.url_escape, plain) {
            (false, true) => out.push_str(text),
            (false, false) => self.transform_into(text, keep, out),
            (true, true) => url_escape(text, out),
            (true, false) => self.transform_into(text, keep, &mut UrlEscaped(out)),
        }
    }

    /// At least the length of this macro's expansion (exactly it without transformers or
    /// escaping).
    fn expansion_bound(&self, ctx: &MacroContext<'_>) -> usize {
        let v6 = ctx.ip.is_ipv6();
        let len = match self.letter {
            MacroLetter::Sender => ctx.sender.len(),
            MacroLetter::LocalPart => ctx.local_part.len(),
            MacroLetter::SenderDomain => ctx.sender_domain.len(),
            MacroLetter::Domain => ctx.domain.len(),
            MacroLetter::Helo => ctx.helo.len(),
            MacroLetter::ValidatedName => ctx.validated_name.map_or(7, str::len),
            MacroLetter::Receiver => ctx.receiver.len(),
            MacroLetter::IpVersion => 7,
            MacroLetter::Ip if v6 => 63,
            MacroLetter::ClientIp if v6 => 39,
            MacroLetter::Ip | MacroLetter::ClientIp => 15,
            MacroLetter::Timestamp => 20,
        };
        if self.url_escape {
            len.saturating_mul(3)
        } else {
            len
        }
    }

    /// The macro letter's value when it is a string as it is: not for `%{i}`, `%{c}` and `%{t}`,
    /// which are formatted.
    fn str_value<'c>(&self, ctx: &MacroContext<'c>) -> Option<&'c str> {
        Some(match self.letter {
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
            MacroLetter::Ip | MacroLetter::ClientIp | MacroLetter::Timestamp => return None,
        })
    }

    /// `%{i}` (RFC 7208 §7.3): the octets (IPv4) or nibbles (IPv6) are the parts when `.` is a
    /// delimiter, as they are of the dotted text; otherwise the whole text is the one part.
    fn expand_ip(&self, ip: IpAddr, keep: usize, out: &mut impl Out) {
        let split = self.delimiters.contains('.');
        let reverse = split && self.reverse;
        match ip {
            IpAddr::V4(v4) => {
                let mut octets = v4.octets();
                if reverse {
                    octets.reverse();
                }
                let n = if split { keep.min(4) } else { 4 };
                push_octets(&octets[4 - n..], out);
            }
            IpAddr::V6(v6) => expand_ip6(v6, reverse, if split { keep } else { 32 }, out),
        }
    }

    /// Writes `text` split on the delimiters, reversed, cut to the right-hand `keep` parts and
    /// joined with `.` (RFC 7208 §7.3), in one pass over the bytes it keeps (delimiters are ASCII,
    /// so splitting on bytes keeps UTF-8 intact).
    #[inline(never)]
    fn transform_into(&self, text: &str, keep: usize, out: &mut impl Out) {
        let delims = DelimiterSet::new(self.delimiters);
        let bytes = text.as_bytes();
        if self.reverse && keep <= FEW {
            // Reversed, the right-hand `keep` parts are the first `keep` parts, last one first:
            // one pass finds the delimiters ending them, then they are copied back to front.
            let mut at = [0usize; FEW];
            let mut found = 0;
            for (i, &b) in bytes.iter().enumerate() {
                if delims.has(b) {
                    if let Some(slot) = at.get_mut(found) {
                        *slot = i;
                    }
                    found += 1;
                    if found == keep {
                        break;
                    }
                }
            }
            // The delimiters between kept parts, and where the last kept part ends.
            let (between, mut part_end) = match found == keep {
                true => (keep - 1, at.get(keep - 1).copied().unwrap_or(bytes.len())),
                false => (found, bytes.len()),
            };
            for &i in at.get(..between).unwrap_or_default().iter().rev() {
                out.push_str(text.get(i + 1..part_end).unwrap_or_default());
                out.push_ascii(b'.');
                part_end = i;
            }
            out.push_str(text.get(..part_end).unwrap_or_default());
        } else if self.reverse {
            let end = match keep {
                usize::MAX => bytes.len(),
                _ => delims.nth_from_left(bytes, keep).unwrap_or(bytes.len()),
            };
            let mut part_end = end;
            for (i, &b) in bytes[..end].iter().enumerate().rev() {
                if delims.has(b) {
                    out.push_str(text.get(i + 1..part_end).unwrap_or_default());
                    out.push_ascii(b'.');
                    part_end = i;
                }
            }
            out.push_str(text.get(..part_end).unwrap_or_default());
        } else {
            let start = match keep {
                usize::MAX => 0,
                _ => delims.nth_from_right(bytes, keep).map_or(0, |i| i + 1),
            };
            let tail = text.get(start..).unwrap_or_default();
            if delims.is_dot() {
                out.push_str(tail);
                return;
            }
            let mut part_start = 0;
            for (i, &b) in tail.as_bytes().iter().enumerate() {
                if delims.has(b) {
                    out.push_str(tail.get(part_start..i).unwrap_or_default());
                    out.push_ascii(b'.');
                    part_start = i + 1;
                }
            }
            out.push_str(tail.get(part_start..).unwrap_or_default());
        }
    }
}

/// The most parts kept for which a reversal is done in one pass (`%{l1r}`, `%{d2r}`, ...).
const FEW: usize = 8;

/// `%{i}` for IPv6: the right-hand `keep` of the 32 nibbles, reversed first if `reverse`. Out of line,
/// so that the IPv4 path does not carry (or hoist) its work.
#[inline(never)]
fn expand_ip6(ip: std::net::Ipv6Addr, reverse: bool, keep: usize, out: &mut impl Out) {
    let mut nibbles = [0u8; 32];
    for (pair, b) in nibbles.chunks_exact_mut(2).zip(ip.octets()) {
        pair[0] = b >> 4;
        pair[1] = b & 0xf;
    }
    if reverse {
        nibbles.reverse();
    }
    let n = keep.min(32);
    push_dotted(&nibbles[32 - n..], out, |nibble, out| {
        out.push_ascii(HEX_LOWER[usize::from(nibble & 0xf)]);
    });
}

/// Where expansions go: a `String`, a fixed buffer, or either URL-escaped.
trait Out {
    /// Whether the output takes no more: the expansion can stop.
    fn is_full(&self) -> bool {
        false
    }
    fn push_str(&mut self, s: &str);
    /// Appends `b`, an ASCII byte.
    fn push_ascii(&mut self, b: u8);
    /// Appends the first `len` bytes of `block`, ASCII.
    fn push_ascii_block(&mut self, block: &[u8; 16], len: usize) {
        for &b in block.iter().take(len) {
            self.push_ascii(b);
        }
    }
}

impl Out for String {
    fn push_str(&mut self, s: &str) {
        String::push_str(self, s);
    }
    fn push_ascii(&mut self, b: u8) {
        self.push(char::from(b));
    }
}

/// A buffer of `N` bytes on the stack: what does not fit marks it full (and is dropped).
#[derive(Debug)]
struct Buf<const N: usize> {
    bytes: [u8; N],
    len: usize,
    full: bool,
}

impl<const N: usize> Buf<N> {
    fn new() -> Self {
        Buf {
            bytes: [0; N],
            len: 0,
            full: false,
        }
    }

    /// The text, unless some did not fit.
    fn as_str(&self) -> Option<&str> {
        if self.full {
            return None;
        }
        std::str::from_utf8(self.bytes.get(..self.len)?).ok()
    }
}

impl<const N: usize> Out for Buf<N> {
    fn is_full(&self) -> bool {
        self.full
    }
    fn push_str(&mut self, s: &str) {
        let end = self.len + s.len();
        match self.bytes.get_mut(self.len..end) {
            Some(dest) => {
                dest.copy_from_slice(s.as_bytes());
                self.len = end;
            }
            None => self.full = true,
        }
    }
    fn push_ascii(&mut self, b: u8) {
        match self.bytes.get_mut(self.len) {
            Some(dest) => {
                *dest = b;
                self.len += 1;
            }
            None => self.full = true,
        }
    }
    /// Writes the whole block when there is room (a fixed-size copy), keeping `len` bytes of it.
    fn push_ascii_block(&mut self, block: &[u8; 16], len: usize) {
        let len = len.min(16);
        match self.bytes.get_mut(self.len..self.len + 16) {
            Some(dest) => {
                dest.copy_from_slice(block);
                self.len += len;
            }
            None => {
                for &b in &block[..len] {
                    self.push_ascii(b);
                }
            }
        }
    }
}

impl<const N: usize> std::fmt::Write for Buf<N> {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        self.push_str(s);
        Ok(())
    }
}

/// A `String` that takes at most `room` more bytes: what follows the first text that does not fit
/// (whole characters of it that fit are kept) is dropped, so the result is the longest prefix of
/// the whole expansion, cut at a character boundary, that fits.
struct Capped<'a> {
    out: &'a mut String,
    room: usize,
    full: bool,
}

impl<'a> Capped<'a> {
    fn new(out: &'a mut String, room: usize) -> Self {
        Capped {
            out,
            room,
            full: false,
        }
    }
}

impl Out for Capped<'_> {
    fn is_full(&self) -> bool {
        self.full
    }
    fn push_str(&mut self, s: &str) {
        if self.full {
            return;
        }
        if s.len() <= self.room {
            self.out.push_str(s);
            self.room -= s.len();
            return;
        }
        self.out.push_str(super::cut_to(s, self.room));
        self.full = true;
    }
    fn push_ascii(&mut self, b: u8) {
        if self.full || self.room == 0 {
            self.full = true;
            return;
        }
        self.out.push(char::from(b));
        self.room -= 1;
    }
}

/// The last [`TAIL_LEN`] bytes of what a macro expands to, whatever its length: written through a
/// window of twice that, whose last bytes move to its start when it fills.
struct Window {
    bytes: [u8; 2 * TAIL_LEN],
    len: usize,
}

impl Window {
    fn new() -> Self {
        Window {
            bytes: [0; 2 * TAIL_LEN],
            len: 0,
        }
    }

    /// The last (at most [`TAIL_LEN`]) bytes written.
    fn bytes(&self) -> &[u8] {
        let all = self.bytes.get(..self.len).unwrap_or_default();
        all.get(all.len().saturating_sub(TAIL_LEN)..)
            .unwrap_or_default()
    }

    fn push_bytes(&mut self, b: &[u8]) {
        if b.len() >= TAIL_LEN {
            let last = b.get(b.len() - TAIL_LEN..).unwrap_or_default();
            if let Some(dest) = self.bytes.get_mut(..TAIL_LEN) {
                dest.copy_from_slice(last);
            }
            self.len = TAIL_LEN;
            return;
        }
        if self.len + b.len() > self.bytes.len() {
            let keep = self.len.min(TAIL_LEN);
            self.bytes.copy_within(self.len - keep..self.len, 0);
            self.len = keep;
        }
        if let Some(dest) = self.bytes.get_mut(self.len..self.len + b.len()) {
            dest.copy_from_slice(b);
            self.len += b.len();
        }
    }
}

impl Out for Window {
    fn push_str(&mut self, s: &str) {
        self.push_bytes(s.as_bytes());
    }
    fn push_ascii(&mut self, b: u8) {
        self.push_bytes(&[b]);
    }
}

/// The last [`TAIL_LEN`] bytes of an expansion, gathered from its end backwards.
struct Backwards {
    bytes: [u8; TAIL_LEN],
    /// Where the gathered bytes start.
    start: usize,
}

impl Backwards {
    fn new() -> Self {
        Backwards {
            bytes: [0; TAIL_LEN],
            start: TAIL_LEN,
        }
    }

    /// Puts the last bytes of `b` (as many as there is room for) before those gathered.
    fn prepend(&mut self, b: &[u8]) {
        let n = b.len().min(self.start);
        let from = b.get(b.len() - n..).unwrap_or_default();
        if let Some(dest) = self.bytes.get_mut(self.start - n..self.start) {
            dest.copy_from_slice(from);
            self.start -= n;
        }
    }

    fn is_full(&self) -> bool {
        self.start == 0
    }

    fn bytes(&self) -> &[u8] {
        self.bytes.get(self.start..).unwrap_or_default()
    }
}

/// An output that URL-escapes what it is given.
struct UrlEscaped<'a, O>(&'a mut O);

impl<O: Out> Out for UrlEscaped<'_, O> {
    fn is_full(&self) -> bool {
        self.0.is_full()
    }
    fn push_str(&mut self, s: &str) {
        url_escape(s, self.0);
    }
    fn push_ascii(&mut self, b: u8) {
        push_escaped(b, self.0);
    }
}

/// A set of delimiter bytes as a bit mask (bit `b - b'+'`: every delimiter lies in `+` ..= `_`),
/// built once per macro from [`Delimiters::contains`].
#[derive(Debug, Clone, Copy)]
struct DelimiterSet(u64);

impl DelimiterSet {
    const BASE: u8 = b'+';
    const DOT: u64 = 1 << (b'.' - Self::BASE);

    fn new(d: Delimiters) -> Self {
        if d.is_default() {
            return DelimiterSet(Self::DOT);
        }
        DelimiterSet(Self::MASKS[usize::from(d.bits() & 0x7f)])
    }

    /// The mask of every set of [`Delimiters`] (indexed by its bits), computed at compile time.
    const MASKS: [u64; 128] = {
        let mut masks = [0u64; 128];
        let mut bits = 0;
        while bits < 128 {
            let mut i = 0;
            while i < Delimiters::ALL.len() {
                if bits & (1 << i) != 0 {
                    masks[bits] |= 1 << (Delimiters::ALL[i] - Self::BASE);
                }
                i += 1;
            }
            bits += 1;
        }
        masks
    };

    fn has(self, b: u8) -> bool {
        let k = b.wrapping_sub(Self::BASE);
        k < 64 && (self.0 >> k) & 1 != 0
    }

    /// Whether `.` is the only delimiter (so joining with `.` changes nothing).
    fn is_dot(self) -> bool {
        self.0 == Self::DOT
    }

    /// The index of the `n`th delimiter (`n >= 1`) from the left.
    fn nth_from_left(self, bytes: &[u8], n: usize) -> Option<usize> {
        let mut left = n;
        for (i, &b) in bytes.iter().enumerate() {
            if self.has(b) {
                left -= 1;
                if left == 0 {
                    return Some(i);
                }
            }
        }
        None
    }

    /// The index of the `n`th delimiter (`n >= 1`) from the right.
    fn nth_from_right(self, bytes: &[u8], n: usize) -> Option<usize> {
        let mut left = n;
        for (i, &b) in bytes.iter().enumerate().rev() {
            if self.has(b) {
                left -= 1;
                if left == 0 {
                    return Some(i);
                }
            }
        }
        None
    }
}

const HEX_LOWER: &[u8; 16] = b"0123456789abcdef";
const HEX_UPPER: &[u8; 16] = b"0123456789ABCDEF";

/// Writes `items` joined with `.`, each with `write` (no formatting machinery: this runs for every
/// `%{i}` and every default explanation).
fn push_dotted<O: Out>(items: &[u8], out: &mut O, write: impl Fn(u8, &mut O)) {
    let mut items = items.iter();
    if let Some(&first) = items.next() {
        write(first, out);
    }
    for &item in items {
        out.push_ascii(b'.');
        write(item, out);
    }
}

/// Each octet in decimal and a dot, left-aligned in four bytes.
const OCTETS: [[u8; 4]; 256] = {
    let mut table = [[0u8; 4]; 256];
    let mut i = 0;
    while i < 256 {
        let o = i as u8;
        table[i] = if o >= 100 {
            [b'0' + o / 100, b'0' + o / 10 % 10, b'0' + o % 10, b'.']
        } else if o >= 10 {
            [b'0' + o / 10, b'0' + o % 10, b'.', 0]
        } else {
            [b'0' + o, b'.', 0, 0]
        };
        i += 1;
    }
    table
};

/// Up to four octets in dotted decimal (no formatting machinery: this runs for every `%{i}` and
/// every default explanation), assembled in a block written at once.
fn push_octets(octets: &[u8], out: &mut impl Out) {
    let mut text = [0u8; 16];
    let mut len = 0;
    for &octet in octets.iter().take(4) {
        if let Some(dest) = text.get_mut(len..len + 4) {
            dest.copy_from_slice(&OCTETS[usize::from(octet)]);
        }
        len += 2 + usize::from(octet >= 10) + usize::from(octet >= 100);
    }
    // Without the last dot.
    out.push_ascii_block(&text, len.saturating_sub(1));
}

/// Whether each byte is RFC 3986 "unreserved" (ASCII letters, digits, `-._~`).
const UNRESERVED: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        table[b] = c.is_ascii_alphanumeric() || matches!(c, b'-' | b'.' | b'_' | b'~');
        b += 1;
    }
    table
};

/// URL-escapes every byte outside RFC 3986 "unreserved", copying unreserved runs whole.
fn url_escape(text: &str, out: &mut impl Out) {
    let mut run = 0;
    for (i, &b) in text.as_bytes().iter().enumerate() {
        if !UNRESERVED[usize::from(b)] {
            // A run of unreserved bytes is ASCII, so both its ends are char boundaries (`get`
            // refuses only an empty run inside a multi-byte character).
            out.push_str(text.get(run..i).unwrap_or_default());
            push_escaped(b, out);
            run = i + 1;
        }
    }
    out.push_str(text.get(run..).unwrap_or_default());
}

/// `b` as it is when unreserved, else as `%XX`.
fn push_escaped(b: u8, out: &mut impl Out) {
    if UNRESERVED[usize::from(b)] {
        out.push_ascii(b);
    } else {
        out.push_ascii(b'%');
        out.push_ascii(HEX_UPPER[usize::from(b >> 4)]);
        out.push_ascii(HEX_UPPER[usize::from(b & 0xf)]);
    }
}

/// The expansion as first written (scanning each value twice, through `str::split`, and formatting
/// addresses with `fmt`), kept as the reference the fast one is checked against.
#[cfg(test)]
mod reference {
    use super::*;

    pub(super) fn expand(ms: &MacroString, ctx: &MacroContext<'_>, out: &mut String) {
        for part in ms.parts() {
            match part {
                MacroPart::Literal(s) => out.push_str(s),
                MacroPart::Macro(m) => expand_macro(m, ctx, out),
            }
        }
    }

    pub(super) fn expand_name(ms: &MacroString, ctx: &MacroContext<'_>, out: &mut String) {
        out.clear();
        expand(ms, ctx, out);
        if out.ends_with('.') {
            out.pop();
        }
        // Drop leading labels one at a time until the name fits.
        while out.len() > MAX_NAME_LEN {
            match out.find('.') {
                Some(dot) => drop(out.drain(..=dot)),
                None => out.clear(),
            }
        }
    }

    fn expand_macro(m: &Macro, ctx: &MacroContext<'_>, out: &mut String) {
        let text = value(m, ctx);
        if m.url_escape {
            let mut transformed = String::new();
            transform_into(m, &text, &mut transformed);
            for b in transformed.bytes() {
                if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
                    out.push(b as char);
                } else {
                    out.push_str(&format!("%{b:02X}"));
                }
            }
        } else {
            transform_into(m, &text, out);
        }
    }

    fn value(m: &Macro, ctx: &MacroContext<'_>) -> String {
        match m.letter {
            MacroLetter::Sender => ctx.sender.to_string(),
            MacroLetter::LocalPart => ctx.local_part.to_string(),
            MacroLetter::SenderDomain => ctx.sender_domain.to_string(),
            MacroLetter::Domain => ctx.domain.to_string(),
            MacroLetter::Helo => ctx.helo.to_string(),
            MacroLetter::ValidatedName => ctx.validated_name.unwrap_or("unknown").to_string(),
            MacroLetter::Receiver => ctx.receiver.to_string(),
            MacroLetter::IpVersion => match ctx.ip {
                IpAddr::V4(_) => "in-addr".to_string(),
                IpAddr::V6(_) => "ip6".to_string(),
            },
            MacroLetter::Ip => match ctx.ip {
                IpAddr::V4(v4) => v4.to_string(),
                IpAddr::V6(v6) => v6
                    .octets()
                    .iter()
                    .map(|b| format!("{:x}.{:x}", b >> 4, b & 0xf))
                    .collect::<Vec<_>>()
                    .join("."),
            },
            MacroLetter::ClientIp => ctx.ip.to_string(),
            MacroLetter::Timestamp => ctx.timestamp.to_string(),
        }
    }

    fn transform_into(m: &Macro, text: &str, out: &mut String) {
        let delims = m.delimiters;
        let is_delim = move |c: char| delims.contains(c);
        let mut parts: Vec<&str> = text.split(is_delim).collect();
        if m.reverse {
            parts.reverse();
        }
        let keep = m
            .keep
            .map_or(parts.len(), |k| (k as usize).min(parts.len()));
        out.push_str(&parts[parts.len() - keep..].join("."));
    }
}

#[cfg(test)]
mod tests;
