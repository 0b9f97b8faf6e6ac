//! Macro strings (RFC 7208 §7): `parse_explanation` on any text, then expansion.
//!
//! The first byte picks the client (IPv4 or IPv6); the rest is the macro string. Invariants:
//! - parsing and expansion never panic;
//! - `Display` of a parsed macro string parses again to the same value;
//! - the expansion is bounded: no output byte comes from nowhere. A literal byte gives at most
//!   1.5 bytes (`%-`, two bytes, gives `%20`); a macro (at least 4 bytes, `%{x}`) gives at most
//!   3 bytes per byte of its value (URL escaping), and no value here is longer than
//!   [`MAX_VALUE`]. So `out.len() <= input.len() * (3 * MAX_VALUE / 4 + 2)`.
//! - as a name (`expand_name`), the result is at most 253 bytes and is the
//!   longest whole-label suffix of the full expansion that fits (RFC 7208 §7.3);
//! - when the text also parses as the `<domain-spec>` of an `exists:`, the same holds for it.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sender_identity::spf::{parse_explanation, MacroContext, MacroString, Mechanism, Record};

/// The longest value of any macro letter in the contexts below.
const MAX_VALUE: usize = 120;
const MAX_NAME: usize = 253;

fn context(v6: bool) -> MacroContext<'static> {
    MacroContext {
        // 58 bytes, with every delimiter RFC 7208 allows.
        sender: "first.last-x+y,z/w_v=u@Mail.Sub.Example.COM",
        local_part: "first.last-x+y,z/w_v=u",
        sender_domain: "Mail.Sub.Example.COM",
        domain: "a-very-long-label-to-make-names-grow-quickly.example.org",
        ip: if v6 {
            "2001:db8:1234:5678:9abc:def0:1234:5678".parse().unwrap()
        } else {
            "192.0.2.255".parse().unwrap()
        },
        helo: "helo.example.net",
        validated_name: Some("ptr.validated.example.com"),
        receiver: "mx.receiver.example",
        timestamp: u64::MAX,
    }
}

/// The expansion as a name must be the longest whole-label suffix of `full` (without one trailing
/// dot) of at most 253 bytes.
fn check_name(ms: &MacroString, ctx: &MacroContext<'_>, text: &str) {
    let mut full = String::new();
    ms.expand(ctx, &mut full);
    let full = full.strip_suffix('.').unwrap_or(&full);
    let mut name = String::from("junk that must be cleared");
    ms.expand_name(ctx, &mut name);
    assert!(name.len() <= MAX_NAME, "{text:?}: {} bytes", name.len());
    if full.len() <= MAX_NAME {
        assert_eq!(name, full, "{text:?}");
        return;
    }
    assert!(
        full.ends_with(name.as_str()),
        "{text:?}: {name:?} not a suffix"
    );
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
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let Ok(text) = std::str::from_utf8(rest) else {
        return;
    };
    let ctx = context(selector & 1 == 1);
    if let Ok(ms) = parse_explanation(text) {
        let shown = ms.to_string();
        match parse_explanation(&shown) {
            Ok(again) => assert_eq!(again, ms, "{text:?} -> {shown:?}"),
            Err(e) => panic!("Display output does not parse: {text:?} -> {shown:?}: {e}"),
        }
        let mut out = String::new();
        ms.expand(&ctx, &mut out);
        let bound = text.len() * (3 * MAX_VALUE / 4 + 2);
        assert!(out.len() <= bound, "{text:?}: {} > {bound}", out.len());
        check_name(&ms, &ctx, text);
    }
    // The same text as a domain-spec, where spaces and c/r/t are not allowed.
    if let Ok(record) = format!("v=spf1 exists:{text}").parse::<Record>() {
        let Some(Mechanism::Exists(spec)) = record.directives().next().map(|d| &d.mechanism) else {
            panic!("{text:?}: exists: did not parse to exists");
        };
        check_name(spec, &ctx, text);
    }
});
