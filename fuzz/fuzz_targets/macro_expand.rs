//! Macro strings (RFC 7208 §7): `parse_explanation` on any text, then expansion with macro values
//! of any length.
//!
//! The first byte picks the client (IPv4 or IPv6) and which values are long; the second how long
//! (up to 64 KB: `MacroContext` is public, and nothing bounds what a caller puts in it); the rest
//! is the macro string. Invariants:
//! - parsing and expansion never panic;
//! - `Display` of a parsed macro string parses again to the same value;
//! - `expand` appends at most `MAX_EXPLANATION_LEN` bytes: the longest prefix of the whole
//!   expansion (built here by a plain reference expander) that fits, cut at a character boundary;
//! - as a name (`expand_name`), the result is at most 253 bytes and is the longest whole-label
//!   suffix of the whole expansion (without one trailing dot) that fits (RFC 7208 §7.3);
//! - neither allocates more than `MAX_EXPLANATION_LEN` bytes in all, however long the values and
//!   however many the macros (counted with an instrumented global allocator);
//! - when the text also parses as the `<domain-spec>` of an `exists:`, the same holds for it.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sender_identity::spf::{
    MAX_EXPLANATION_LEN, Macro, MacroContext, MacroLetter, MacroPart, MacroString, Mechanism,
    Record, parse_explanation,
};
use stats_alloc::{INSTRUMENTED_SYSTEM, Region, StatsAlloc};
use std::alloc::System;
use std::net::IpAddr;

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

const MAX_NAME: usize = 253;
/// Whole expansions longer than this are not built by the reference (it would take too long per
/// input); the bounds are still checked.
const REFERENCE_LIMIT: usize = 1 << 20;

/// A value of `len` bytes or so, with every delimiter RFC 7208 allows and a multi-byte character.
fn long_value(len: usize) -> String {
    const PIECE: &str = "ab.c-d+e,f/g_h=i.é.";
    PIECE.repeat(len / PIECE.len() + 1)
}

/// The values: the short ones of a typical mail, or (per bit of `selector`) long ones.
struct Values {
    long: String,
    long_local: String,
    long_sender: String,
}

impl Values {
    fn new(len: usize) -> Self {
        let long = long_value(len);
        let long_local = long.replace('.', "-");
        let long_sender = format!("{long_local}@{long}");
        Values {
            long,
            long_local,
            long_sender,
        }
    }

    fn context<'a>(&'a self, selector: u8) -> MacroContext<'a> {
        let long = |bit: u8, short: &'static str, value: &'a str| -> &'a str {
            if selector & bit != 0 { value } else { short }
        };
        let mut ctx = MacroContext {
            sender: long(
                2,
                "first.last-x+y,z/w_v=u@Mail.Sub.Example.COM",
                &self.long_sender,
            ),
            local_part: long(2, "first.last-x+y,z/w_v=u", &self.long_local),
            sender_domain: long(4, "Mail.Sub.Example.COM", &self.long),
            domain: long(
                8,
                "a-very-long-label-to-make-names-grow-quickly.example.org",
                &self.long,
            ),
            ip: if selector & 1 == 1 {
                "2001:db8:1234:5678:9abc:def0:1234:5678".parse().unwrap()
            } else {
                "192.0.2.255".parse().unwrap()
            },
            helo: long(16, "helo.example.net", &self.long),
            validated_name: Some("ptr.validated.example.com"),
            receiver: long(32, "mx.receiver.example", &self.long),
            timestamp: u64::MAX,
        };
        if selector & 64 != 0 {
            ctx.validated_name = Some(&self.long);
        }
        ctx
    }
}

/// The whole expansion, built the plain way (split, reverse, keep, join, escape), or `None` when
/// it would be longer than [`REFERENCE_LIMIT`].
fn reference(ms: &MacroString, ctx: &MacroContext<'_>) -> Option<String> {
    let mut size = 0usize;
    for part in ms.parts() {
        size = size.saturating_add(match part {
            MacroPart::Literal(s) => s.len(),
            MacroPart::Macro(m) => 3 * value(m.letter, ctx).len() + 64,
        });
    }
    if size > REFERENCE_LIMIT {
        return None;
    }
    let mut out = String::new();
    for part in ms.parts() {
        match part {
            MacroPart::Literal(s) => out.push_str(s),
            MacroPart::Macro(m) => expand_macro(m, ctx, &mut out),
        }
    }
    Some(out)
}

fn expand_macro(m: &Macro, ctx: &MacroContext<'_>, out: &mut String) {
    let text = value(m.letter, ctx);
    let delims = m.delimiters;
    let mut parts: Vec<&str> = text.split(|c: char| delims.contains(c)).collect();
    if m.reverse {
        parts.reverse();
    }
    let keep = m
        .keep
        .map_or(parts.len(), |k| (k as usize).min(parts.len()));
    let joined = parts[parts.len() - keep..].join(".");
    if !m.url_escape {
        out.push_str(&joined);
        return;
    }
    for b in joined.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
}

fn value(letter: MacroLetter, ctx: &MacroContext<'_>) -> String {
    match letter {
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
        _ => String::new(),
    }
}

/// The longest prefix of `full` of at most `max` bytes, at a character boundary.
fn prefix(full: &str, max: usize) -> &str {
    let mut cut = full.len().min(max);
    while !full.is_char_boundary(cut) {
        cut -= 1;
    }
    &full[..cut]
}

/// `expand` and `expand_name`: bounded in size and allocation, and equal to what the reference
/// expansion gives.
fn check(ms: &MacroString, ctx: &MacroContext<'_>, text: &str) {
    let region = Region::new(GLOBAL);
    let mut out = String::new();
    ms.expand(ctx, &mut out);
    let stats = region.change();
    assert!(
        out.len() <= MAX_EXPLANATION_LEN,
        "{text:?}: {} bytes",
        out.len()
    );
    assert!(
        stats.bytes_allocated + stats.bytes_reallocated.max(0) as usize <= MAX_EXPLANATION_LEN,
        "{text:?}: expand allocated {stats:?}"
    );

    let region = Region::new(GLOBAL);
    let mut name = String::new();
    ms.expand_name(ctx, &mut name);
    let stats = region.change();
    assert!(name.len() <= MAX_NAME, "{text:?}: {} bytes", name.len());
    assert!(
        stats.bytes_allocated + stats.bytes_reallocated.max(0) as usize <= MAX_EXPLANATION_LEN,
        "{text:?}: expand_name allocated {stats:?}"
    );
    let mut again = String::from("junk that must be cleared");
    ms.expand_name(ctx, &mut again);
    assert_eq!(again, name, "{text:?}");

    let Some(full) = reference(ms, ctx) else {
        return;
    };
    assert_eq!(out, prefix(&full, MAX_EXPLANATION_LEN), "{text:?}");
    check_name(&full, &name, text);
}

/// `name` must be the longest whole-label suffix of `full` (without one trailing dot) of at most
/// 253 bytes.
fn check_name(full: &str, name: &str, text: &str) {
    let full = full.strip_suffix('.').unwrap_or(full);
    if full.len() <= MAX_NAME {
        assert_eq!(name, full, "{text:?}");
        return;
    }
    assert!(full.ends_with(name), "{text:?}: {name:?} not a suffix");
    // `name` starts after a dot, or is empty (every label removed).
    let chopped = &full[..full.len() - name.len()];
    let head = match chopped.strip_suffix('.') {
        Some(head) => head,
        None if name.is_empty() => chopped,
        None => panic!("{text:?}: cut inside a label"),
    };
    // Keeping one more label would not fit.
    let longer = head
        .rfind('.')
        .map_or(full.len(), |dot| full.len() - dot - 1);
    assert!(longer > MAX_NAME, "{text:?}: truncated too much");
}

fuzz_target!(|data: &[u8]| {
    let [selector, length, rest @ ..] = data else {
        return;
    };
    let Ok(text) = std::str::from_utf8(rest) else {
        return;
    };
    let values = Values::new(usize::from(*length) * 256);
    let ctx = values.context(*selector);
    if let Ok(ms) = parse_explanation(text) {
        let shown = ms.to_string();
        match parse_explanation(&shown) {
            Ok(again) => assert_eq!(again, ms, "{text:?} -> {shown:?}"),
            Err(e) => panic!("Display output does not parse: {text:?} -> {shown:?}: {e}"),
        }
        check(&ms, &ctx, text);
    }
    // The same text as a domain-spec, where spaces and c/r/t are not allowed.
    if let Ok(record) = format!("v=spf1 exists:{text}").parse::<Record>() {
        let Some(Mechanism::Exists(spec)) = record.directives().next().map(|d| &d.mechanism) else {
            panic!("{text:?}: exists: did not parse to exists");
        };
        check(spec, &ctx, text);
    }
});
