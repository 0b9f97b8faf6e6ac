//! The SPF record parser on any bytes.
//!
//! Invariants:
//! - parsing never panics, whatever the bytes (the evaluator parses TXT bytes as UTF-8 first, as
//!   here);
//! - a record that parses starts with `v=spf1` ([`is_spf1`]);
//! - `Display` of a parsed record parses again, to the same AST, and printing is a fixed point
//!   (printing the re-parsed record gives the same text).
#![no_main]

use libfuzzer_sys::fuzz_target;
use sender_identity::spf::{Record, is_spf1};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(record) = text.parse::<Record>() else {
        return;
    };
    assert!(is_spf1(data), "parsed without v=spf1: {text:?}");
    let shown = record.to_string();
    let again: Record = match shown.parse() {
        Ok(r) => r,
        Err(e) => panic!("Display output does not parse: {text:?} -> {shown:?}: {e}"),
    };
    assert_eq!(again, record, "{text:?} -> {shown:?}");
    assert_eq!(again.to_string(), shown, "{text:?}");
});
