//! The fast path: the common terms, read in one pass, each built where it is stored.
//!
//! Nothing here reports an error: anything these readers do not accept (an error, or a form they
//! do not handle) is `None`, and the grammar reads that term again and says what is wrong. What
//! they accept, the grammar accepts as the same term (the property tests in `tests.rs` check it).
//! Nothing here is shared with the grammar, so that the tests compare two readings.

use super::super::Directive;
use super::super::record::{
    Delimiters, DualCidr, Macro, MacroLetter, MacroString, Mechanism, Modifier, Qualifier, Term,
};
use crate::name::is_toplabel;
use crate::scan;
use std::net::{Ipv4Addr, Ipv6Addr};

/// Pushes `$term` onto `$terms` (a `&mut Vec<Term>`), building it in its place when there is room
/// (nearly always: the parser reserves room by the text's length). The term is built inside the
/// branch on purpose: there the compiler knows there is room and builds it where it is stored. A
/// term built before the check for room is built on the stack and copied, with wide loads right
/// after the narrow stores that built it, which the processor cannot forward (a stall).
macro_rules! push_term {
    ($terms:expr, $term:expr) => {{
        let terms: &mut Vec<Term> = $terms;
        if terms.len() < terms.capacity() {
            terms.push($term);
        } else {
            grow_and_push(terms, $term);
        }
    }};
}

/// The rare push that must grow the vector, out of line: it keeps each site's push with room
/// small, so that the compiler inlines it there (an out-of-line push moves the term).
#[cold]
#[inline(never)]
fn grow_and_push(terms: &mut Vec<Term>, term: Term) {
    terms.push(term);
}

/// Whether a term ends at `at`: at a space or at the end of the text.
fn ends_term(b: &[u8], at: usize) -> bool {
    b.get(at).is_none_or(|&c| c == b' ')
}

/// `b[at..at + N]` equals `word` (at most 8 bytes), ignoring the case of its letters: one
/// 64-bit comparison.
#[inline(always)]
pub(super) fn word_at<const N: usize>(b: &[u8], at: usize, word: &[u8; N]) -> bool {
    let Some(s) = b.get(at..at + N) else {
        return false;
    };
    let (mut x, mut w, mut m) = ([0u8; 8], [0u8; 8], [0u8; 8]);
    x[..N].copy_from_slice(s);
    w[..N].copy_from_slice(word);
    for k in 0..N {
        m[k] = if word[k].is_ascii_lowercase() {
            0x20
        } else {
            0
        };
    }
    u64::from_le_bytes(x) | u64::from_le_bytes(m) == u64::from_le_bytes(w)
}

/// The single-pass scanner for the term that starts at `at` (not a space) in `text`: qualifier,
/// mechanism or modifier name and arguments, read once from left to right. The text is not yet
/// known to be printable ASCII: a byte that is not makes the scanner give up.
/// Pushes the term onto `terms` and returns where it ends (and notes a modifier in `modifiers`), or
/// returns `None`, pushing nothing, for anything it does not handle (then [`grammar::term`]
/// decides, and reports errors). What it accepts, `grammar::term` accepts as the same term.
///
/// It is inlined into the record loop so that the term is built where it is pushed.
///
/// [`grammar::term`]: super::grammar::term
#[inline(always)]
pub(super) fn term(
    text: &str,
    at: usize,
    modifiers: &mut bool,
    terms: &mut Vec<Term>,
) -> Option<usize> {
    let b = text.as_bytes();
    // Most terms have no qualifier: one comparison says so.
    let (qualifier, i) = match b[at] {
        c if c.is_ascii_alphabetic() => (Qualifier::Pass, at),
        b'+' => (Qualifier::Pass, at + 1),
        b'-' => (Qualifier::Fail, at + 1),
        b'~' => (Qualifier::SoftFail, at + 1),
        b'?' => (Qualifier::Neutral, at + 1),
        _ => (Qualifier::Pass, at),
    };
    // Each term is pushed where it is built (see `push_term!`), so each arm pushes its own.
    macro_rules! done {
        ($term:expr, $end:expr) => {{
            push_term!(terms, $term);
            return Some($end);
        }};
    }
    let directive = |mechanism| {
        Term::Directive(Directive {
            qualifier,
            mechanism,
        })
    };
    // The most common terms by their whole prefix first (one comparison each), then the rest by
    // their first letter.
    if word_at(b, i, b"ip4:") {
        let (addr, prefix, end) = ip4_term(b, i + 4)?;
        done!(directive(Mechanism::Ip4 { addr, prefix }), end)
    }
    if word_at(b, i, b"ip6:") {
        let (addr, end) = ipv6_at(b, i + 4)?;
        let (prefix, end) = cidr_fast(b, end, 128)?;
        done!(directive(Mechanism::Ip6 { addr, prefix }), end)
    }
    if word_at(b, i, b"include:") {
        let (domain, end) = domain_fast(text, i + 8)?;
        done!(directive(Mechanism::Include(domain)), end)
    }
    match *b.get(i)? | 0x20 {
        b'a' => {
            if word_at(b, i, b"all") && ends_term(b, i + 3) {
                done!(directive(Mechanism::All), i + 3)
            }
            let (domain, cidr, end) = a_mx_fast(text, i + 1)?;
            done!(directive(Mechanism::A { domain, cidr }), end)
        }
        b'm' if *b.get(i + 1)? | 0x20 == b'x' => {
            let (domain, cidr, end) = a_mx_fast(text, i + 2)?;
            done!(directive(Mechanism::Mx { domain, cidr }), end)
        }
        b'e' if word_at(b, i, b"exists:") => {
            let (domain, end) = domain_fast(text, i + 7)?;
            done!(directive(Mechanism::Exists(domain)), end)
        }
        b'e' if i == at && word_at(b, i, b"exp=") => {
            let (domain, end) = domain_fast(text, i + 4)?;
            *modifiers = true;
            done!(Term::Modifier(Modifier::Exp(domain)), end)
        }
        b'r' if i == at && word_at(b, i, b"redirect") && b.get(i + 8) == Some(&b'=') => {
            let (domain, end) = domain_fast(text, i + 9)?;
            *modifiers = true;
            done!(Term::Modifier(Modifier::Redirect(domain)), end)
        }
        b'p' if word_at(b, i, b"ptr") && ends_term(b, i + 3) => {
            done!(directive(Mechanism::Ptr(None)), i + 3)
        }
        b'p' if word_at(b, i, b"ptr:") => {
            let (domain, end) = domain_fast(text, i + 4)?;
            done!(directive(Mechanism::Ptr(Some(domain))), end)
        }
        _ => None,
    }
}

/// The arguments of `a` / `mx` from `at` (just after the name): `[:domain-spec][/v4][//v6]`.
#[inline(always)]
fn a_mx_fast(text: &str, at: usize) -> Option<(Option<MacroString>, DualCidr, usize)> {
    let b = text.as_bytes();
    match b.get(at) {
        // The bare `a` / `mx`.
        None | Some(b' ') => return Some((None, DualCidr::default(), at)),
        Some(b':' | b'/') => {}
        Some(_) => return None,
    }
    let (literal_end, end) = literal_run(b, at);
    let (rest, cidr) = dual_cidr(b, at, end)?;
    let domain = match b.get(at) {
        _ if rest == at => None,
        Some(b':') if literal_end == end => Some(literal_domain(&text[at + 1..rest])?),
        Some(b':') => Some(domain_spec(&text[at + 1..rest])?),
        _ => return None,
    };
    Some((domain, cidr, end))
}

/// The `[/v4][//v6]` that ends `b[start..end]`, and where the text before it ends. The lengths are
/// taken from the end: a `<domain-spec>` may hold `/` and digits too, so only a tail that is a
/// valid length is one. A tail of digits after `/` or `//` that is no valid length is `None`
/// (the grammar reports it).
fn dual_cidr(b: &[u8], start: usize, end: usize) -> Option<(usize, DualCidr)> {
    let s = &b[start..end];
    let mut cidr = DualCidr::default();
    if !s.last().is_some_and(u8::is_ascii_digit) {
        // The common `a:domain`: no length.
        return Some((end, cidr));
    }
    let mut rest = s.len();
    let d = digits_before(s, rest);
    if s[..d].ends_with(b"//") {
        cidr.v6 = Some(cidr_digits(&s[d..rest], 128)?);
        rest = d - 2;
    }
    let d = digits_before(s, rest);
    if d < rest && s[..d].ends_with(b"/") && !s[..d - 1].ends_with(b"/") {
        cidr.v4 = Some(cidr_digits(&s[d..rest], 32)?);
        rest = d - 1;
    }
    Some((start + rest, cidr))
}

/// Where the digits that end `s[..end]` start.
fn digits_before(s: &[u8], end: usize) -> usize {
    end - s[..end]
        .iter()
        .rev()
        .take_while(|c| c.is_ascii_digit())
        .count()
}

/// A CIDR length written as `digits`: `0`, or up to three digits without a leading zero, at most
/// `max`.
fn cidr_digits(digits: &[u8], max: u8) -> Option<u8> {
    let d = |c: u8| u16::from(c - b'0');
    let value = match *digits {
        [b'0'] => 0,
        [a @ b'1'..=b'9'] => d(a),
        [a @ b'1'..=b'9', b] => d(a) * 10 + d(b),
        [a @ b'1'..=b'9', b, c] => d(a) * 100 + d(b) * 10 + d(c),
        _ => return None,
    };
    u8::try_from(value).ok().filter(|&n| n <= max)
}

/// The `macro-literal` run from `at` and the end of the term (the same unless a `%` stops the
/// run: every other printable byte but the space is a literal).
fn literal_run(b: &[u8], at: usize) -> (usize, usize) {
    let e = scan::literal_end(b, at);
    if ends_term(b, e) {
        (e, e)
    } else {
        (e, scan::find(b, e, b' '))
    }
}

/// A `<domain-spec>` from `at` to the end of the term: copied as it stands when it has no `%`.
#[inline(always)]
fn domain_fast(text: &str, at: usize) -> Option<(MacroString, usize)> {
    let (literal_end, end) = literal_run(text.as_bytes(), at);
    let value = &text[at..end];
    let ms = if literal_end == end {
        literal_domain(value)?
    } else {
        domain_spec(value)?
    };
    Some((ms, end))
}

/// A `<domain-spec>` without macros (no `%`): its last label must be a top-level label.
fn literal_domain(value: &str) -> Option<MacroString> {
    ends_in_toplabel(value).then(|| MacroString::literal(value))
}

/// Whether literal text ends in `.` toplabel [ `.` ] (RFC 7208 §7.1).
fn ends_in_toplabel(tail: &str) -> bool {
    let tail = tail.strip_suffix('.').unwrap_or(tail);
    tail.bytes()
        .rposition(|c| c == b'.')
        .is_some_and(|dot| is_toplabel(&tail[dot + 1..]))
}

/// A decimal digit's value.
fn digit(b: Option<&u8>) -> Option<u32> {
    let d = b?.wrapping_sub(b'0');
    (d <= 9).then_some(u32::from(d))
}

/// The bytes [`ip4_window`] reads: the longest address (15 bytes), `/32` and the byte after.
const IP4_WINDOW: usize = 20;

/// The [`IP4_WINDOW`] bytes that start `s`: the text itself when it is long enough, else a
/// zero-padded copy in `padded` (a zero byte stops an address as the end of the text would;
/// callers still compare positions with `s.len()` to tell padding from a zero byte in the text).
#[inline(always)]
fn ip4_window_of<'a>(s: &'a [u8], padded: &'a mut [u8; IP4_WINDOW]) -> &'a [u8; IP4_WINDOW] {
    match s.first_chunk::<IP4_WINDOW>() {
        Some(window) => window,
        None => {
            padded[..s.len()].copy_from_slice(s);
            padded
        }
    }
}

/// A dotted-quad IPv4 address from `at` in one pass (the rules of `ip4-network`); returns it and where
/// it ends (at the first byte that cannot continue it).
pub(super) fn ip4_fast(b: &[u8], at: usize) -> Option<(Ipv4Addr, usize)> {
    let s = b.get(at..)?;
    let mut padded = [0u8; IP4_WINDOW];
    let (addr, len) = ip4_window(ip4_window_of(s, &mut padded))?;
    Some((addr, at + len))
}

/// The argument of `ip4:` from `at` to the end of the term: the address and an optional `/len`
/// (the rules of `ip4-network` and `ip4-cidr-length`), read from one window; returns them and the end.
#[inline(always)]
pub(super) fn ip4_term(b: &[u8], at: usize) -> Option<(Ipv4Addr, Option<u8>, usize)> {
    let s = b.get(at..)?;
    let n = s.len();
    let mut padded = [0u8; IP4_WINDOW];
    let w = ip4_window_of(s, &mut padded);
    let (addr, p) = ip4_window(w)?;
    // `p` is at most 15: the compiler sees every index below stay under 20.
    let p = p & 15;
    let ends = |q: usize| q == n || w[q] == b' ';
    if ends(p) {
        return Some((addr, None, at + p));
    }
    if w[p] != b'/' {
        return None;
    }
    let d0 = u32::from(w[p + 1].wrapping_sub(b'0'));
    let d1 = u32::from(w[p + 2].wrapping_sub(b'0'));
    // Three digits are always more than 32: the byte after two is then no end.
    let (value, len) = match (d0, d1) {
        (10.., _) => return None,
        (0, _) | (_, 10..) => (d0, 2),
        _ => (d0 * 10 + d1, 3),
    };
    if value > 32 || !ends(p + len) {
        return None;
    }
    Some((addr, Some(value as u8), at + p + len))
}

/// The dotted-quad address at the start of `w` and its length. Each octet is one of three shapes
/// (`d`, `dd`, `ddd`; a leading `0` stands alone), told apart by two comparisons; the position never
/// passes 15, so `p & 15` only tells the compiler so (no bounds checks).
#[inline(always)]
fn ip4_window(w: &[u8; IP4_WINDOW]) -> Option<(Ipv4Addr, usize)> {
    let d = |p: usize| u32::from(w[p & 15].wrapping_sub(b'0'));
    let mut octets = [0u8; 4];
    let mut p = 0;
    for (k, octet) in octets.iter_mut().enumerate() {
        if k > 0 {
            if w[p & 15] != b'.' {
                return None;
            }
            p += 1;
        }
        let d0 = d(p);
        if d0 > 9 {
            return None;
        }
        let d1 = d(p + 1);
        let value = if d0 == 0 || d1 > 9 {
            p += 1;
            d0
        } else {
            let d2 = d(p + 2);
            if d2 > 9 {
                p += 2;
                d0 * 10 + d1
            } else {
                p += 3;
                d0 * 100 + d1 * 10 + d2
            }
        };
        *octet = u8::try_from(value).ok()?;
    }
    Some((Ipv4Addr::from(octets), p))
}

/// An optional `/len` at `at` that ends the term (the rules of `ip4-cidr-length` / `ip6-cidr-length`); returns it and
/// the end of the term.
fn cidr_fast(b: &[u8], at: usize, max: u8) -> Option<(Option<u8>, usize)> {
    match b.get(at) {
        None | Some(b' ') => Some((None, at)),
        Some(b'/') => {
            let mut end = at + 1;
            let mut value = digit(b.get(end))?;
            end += 1;
            if value != 0
                && let Some(d) = digit(b.get(end))
            {
                value = value * 10 + d;
                end += 1;
                if let Some(d) = digit(b.get(end)) {
                    value = value * 10 + d;
                    end += 1;
                }
            }
            if value > u32::from(max) || !ends_term(b, end) {
                return None;
            }
            Some((Some(value as u8), end))
        }
        _ => None,
    }
}

/// Hexadecimal digit values (`0xff`: not a hex digit).
pub(super) static HEX: [u8; 256] = {
    let mut table = [0xffu8; 256];
    let mut i = 0;
    while i < 256 {
        let b = i as u8;
        table[i] = match b {
            b'0'..=b'9' => b - b'0',
            b'a'..=b'f' => b - b'a' + 10,
            b'A'..=b'F' => b - b'A' + 10,
            _ => 0xff,
        };
        i += 1;
    }
    table
};

/// The IPv6 address at `at`, in the text forms of RFC 4291 §2.2 (groups of 1 to 4 hex digits, one
/// `::`, an IPv4 tail), up to the first byte that cannot continue it: the address and where it
/// ends. It accepts exactly what `std`'s `Ipv6Addr::from_str` accepts (the tests compare them),
/// without first finding where the address ends.
pub(super) fn ipv6_at(b: &[u8], at: usize) -> Option<(Ipv6Addr, usize)> {
    let mut head = [0u16; 8];
    let (head_size, at, head_ipv4) = ipv6_groups(b, at, &mut head)?;
    if head_size == 8 {
        return Some((Ipv6Addr::from(head), at));
    }
    // An IPv4 tail must end the address; `::` must stand for at least one group.
    if head_ipv4 || b.get(at..at + 2) != Some(b"::") {
        return None;
    }
    // The common `...::/len`: nothing after the `::` (the tail's zero groups are already there).
    if b.get(at + 2).is_none_or(|&c| HEX[usize::from(c)] == 0xff) {
        return Some((Ipv6Addr::from(head), at + 2));
    }
    let mut tail = [0u16; 7];
    let (tail_size, at, _) = ipv6_groups(b, at + 2, &mut tail[..7 - head_size])?;
    head[8 - tail_size..].copy_from_slice(&tail[..tail_size]);
    Some((Ipv6Addr::from(head), at))
}

/// Reads up to `groups.len()` `:`-separated groups from `at`, the last two of which may be an IPv4
/// address; returns how many, where they end and whether an IPv4 address ended them. Stops before
/// anything that is not a further group. `None`: the address cannot be valid (a group of more than
/// 4 digits, or digits followed by `.` that do not start an allowed IPv4 address, which must then
/// end the address).
fn ipv6_groups(b: &[u8], mut at: usize, groups: &mut [u16]) -> Option<(usize, usize, bool)> {
    let limit = groups.len();
    for i in 0..limit {
        let mut p = at;
        if i > 0 {
            if b.get(p) != Some(&b':') {
                return Some((i, at, false));
            }
            p += 1;
        }
        let start = p;
        let (digits, value) = hex_group(b, start);
        match digits {
            0 => return Some((i, at, false)),
            1..=4 => {}
            _ => return None,
        }
        p += digits;
        if b.get(p) == Some(&b'.') {
            // Only an IPv4 address, which must then end the text, can follow digits with `.`.
            if i + 1 >= limit {
                return None;
            }
            let (v4, end) = ip4_fast(b, start)?;
            let [one, two, three, four] = v4.octets();
            groups[i] = u16::from_be_bytes([one, two]);
            groups[i + 1] = u16::from_be_bytes([three, four]);
            return Some((i + 2, end, true));
        }
        groups[i] = value as u16;
        at = p;
    }
    Some((limit, at, false))
}

/// The hex digits that start `b[at..]`: how many (counted up to 5: more than 4 never make a group)
/// and their value. When five bytes are left, they are read as one array, unrolled: one table
/// lookup per digit, no bounds checks and no loop.
#[inline(always)]
pub(super) fn hex_group(b: &[u8], at: usize) -> (usize, u32) {
    let Some(w) = b.get(at..).and_then(|s| s.first_chunk::<5>()) else {
        let (mut p, mut value) = (at, 0u32);
        while p < b.len() && p - at < 5 {
            let d = HEX[usize::from(b[p])];
            if d == 0xff {
                break;
            }
            value = (value << 4) | u32::from(d);
            p += 1;
        }
        return (p - at, value);
    };
    let h = |k: usize| u32::from(HEX[usize::from(w[k])]);
    let mut value = h(0);
    if value == 0xff {
        return (0, 0);
    }
    for k in 1..5 {
        let d = h(k);
        if d == 0xff {
            return (k, value);
        }
        value = (value << 4) | d;
    }
    (5, value)
}

/// The macro-string scanner for well-formed macro strings: `None` for anything it does not
/// accept, which the grammar then reads (and reports).
///
/// Two passes: the first checks the syntax, reads the macros (their offsets in the decoded text
/// are known as it goes), notes where the (at most [`MAX_EXPANDS`]) `%` expands stand and measures
/// the decoded text; the second copies the runs between the expands into a `String` allocated at
/// its final size: no growth, and no shrinking `realloc` when it becomes a `Box<str>`. Literal
/// runs are skipped eight bytes at a time ([`scan::literal_end`]).
fn macro_string_fast(input: &str, allow_space: bool) -> Option<(MacroString, bool)> {
    let b = input.as_bytes();
    // Where each expand starts and ends.
    let mut expands = [(0u32, 0u32); MAX_EXPANDS];
    let mut macros = Vec::new();
    let (mut i, mut n, mut len) = (0, 0, 0);
    loop {
        let e = scan::literal_end(b, i);
        len += e - i;
        i = e;
        match b.get(i) {
            None => break,
            Some(b' ') if allow_space => {
                (len, i) = (len + 1, i + 1);
                continue;
            }
            Some(b'%') if n < MAX_EXPANDS => {}
            Some(_) => return None,
        }
        let start = i;
        match *b.get(i + 1)? {
            b'%' | b'_' => (len, i) = (len + 1, i + 2),
            b'-' => (len, i) = (len + 3, i + 2),
            b'{' => {
                let (m, end) = macro_body_fast(b, i + 2)?;
                if macros.capacity() == 0 {
                    macros = Vec::with_capacity(4);
                }
                macros.push((u32::try_from(len).unwrap_or(u32::MAX), m));
                i = end;
            }
            _ => return None,
        }
        expands[n] = (u32::try_from(start).ok()?, u32::try_from(i).ok()?);
        n += 1;
    }
    let mut text = String::with_capacity(len);
    // The end of the last expand: where the literal run to copy next starts.
    let mut run = 0;
    for &(at, end) in &expands[..n] {
        let at = at as usize;
        if at > run {
            text.push_str(&input[run..at]);
        }
        match b[at + 1] {
            b'%' => text.push('%'),
            b'_' => text.push(' '),
            b'-' => text.push_str("%20"),
            _ => {}
        }
        run = end as usize;
    }
    if run < b.len() {
        text.push_str(&input[run..]);
    }
    // The string ends with a macro-expand when no literal text follows the last `%`.
    let ends_with_expand = n > 0 && run == b.len();
    Some((MacroString::from_raw(text, macros), ends_with_expand))
}

/// How many `%` expands [`macro_string_fast`] takes in one string.
const MAX_EXPANDS: usize = 16;

/// The inside of `%{...}` from `at` (after the `{`): letter, keep digits (at most 9, not 0), `r`,
/// delimiters, `}`. Returns the macro and the end (after the `}`).
fn macro_body_fast(b: &[u8], mut at: usize) -> Option<(Macro, usize)> {
    let c = char::from(*b.get(at)?);
    let letter = MacroLetter::from_char(c)?;
    at += 1;
    if b.get(at) == Some(&b'}') {
        // The common `%{d}`: no transformers.
        let m = Macro {
            letter,
            url_escape: c.is_ascii_uppercase(),
            keep: None,
            reverse: false,
            delimiters: Delimiters::default(),
        };
        return Some((m, at + 1));
    }
    let start = at;
    let mut keep = 0u32;
    while let Some(d) = digit(b.get(at)) {
        if at - start == 9 {
            return None;
        }
        keep = keep * 10 + d;
        at += 1;
    }
    let keep = match (at > start, keep) {
        (false, _) => None,
        (true, 0) => return None,
        (true, n) => Some(n),
    };
    let reverse = matches!(b.get(at), Some(b'r' | b'R'));
    at += usize::from(reverse);
    let mut delimiters = Delimiters::default();
    loop {
        match *b.get(at)? {
            b'}' => break,
            d if delimiters.insert(char::from(d)) => at += 1,
            _ => return None,
        }
    }
    let m = Macro {
        letter,
        url_escape: c.is_ascii_uppercase(),
        keep,
        reverse,
        delimiters,
    };
    Some((m, at + 1))
}

/// A `<domain-spec>` (RFC 7208 §7.1) with macros: a macro string without `c`, `r` or `t` that ends
/// in a macro-expand or in `.` toplabel [ `.` ].
fn domain_spec(text: &str) -> Option<MacroString> {
    let (ms, ends_with_expand) = macro_string(text, false)?;
    if ms.has_explanation_only() {
        return None;
    }
    (ends_with_expand || ends_in_toplabel(ms.literal_tail())).then_some(ms)
}

/// A macro string (with spaces as literals when `allow_space`, as in explanations), and whether
/// it ends with a macro-expand; `None` for anything [`macro_string_fast`] does not accept.
pub(super) fn macro_string(input: &str, allow_space: bool) -> Option<(MacroString, bool)> {
    let plain = if allow_space {
        input.bytes().all(|b| scan::is_literal(b) || b == b' ')
    } else {
        scan::literal_end(input.as_bytes(), 0) == input.len()
    };
    if plain {
        // The common case: no macros at all.
        return Some((MacroString::literal(input), false));
    }
    macro_string_fast(input, allow_space)
}
