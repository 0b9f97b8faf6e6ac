//! Inputs found by the fuzz targets (`fuzz/`), kept as ordinary tests.

use sender_identity::spf::{Mechanism, Record, parse_explanation};

/// Found by `fuzz/fuzz_targets/record.rs` (the Display round trip).
///
/// `%-` is a macro-expand (RFC 7208 §7.1), so a domain-spec may end with it:
/// `a:%{d}%-` parses. The AST keeps it as the literal text `%20`, and `Display` writes a literal
/// `%` as `%%`, giving `a:%{d}%%20`, which ends in the literal `20` rather than a macro-expand
/// and is rejected (`BadDomainSpec`). So a parsed record's text does not parse again, against the
/// promise of `src/spf/record.rs` ("`Display` ... parses to the same AST"). The same happens for
/// `redirect=`, `exp=`, `include:`, `exists:`, `ptr:` and `mx:` targets ending in `%-`.
///
/// Fixed: `MacroString`'s `Display` writes literal `%20` as `%-` (both decode to the same text).
#[test]
fn display_of_trailing_percent_dash_reparses() {
    for text in [
        "v=spf1 a:%{d}%- -all",
        "v=spf1 exists:%{i}.%- -all",
        "v=spf1 redirect=%{d}%-",
        "v=spf1 mx:%{d}%-/24 -all",
    ] {
        let record: Record = text.parse().unwrap();
        let shown = record.to_string();
        assert_eq!(shown.parse::<Record>(), Ok(record), "{text} -> {shown}");
    }
}

/// `%-` anywhere in a domain-spec is written back as `%-`, and round-trips.
#[test]
fn percent_dash_parses_and_round_trips_inside_a_name() {
    let record: Record = "v=spf1 a:%{d}%- -all".parse().unwrap();
    let Some(Mechanism::A {
        domain: Some(spec), ..
    }) = record.directives().next().map(|d| &d.mechanism)
    else {
        panic!("{record:?}");
    };
    assert_eq!(spec.to_string(), "%{d}%-");

    let record: Record = "v=spf1 exists:x%-y.%{d} -all".parse().unwrap();
    let shown = record.to_string();
    assert_eq!(shown, "v=spf1 exists:x%-y.%{d} -all");
    assert_eq!(shown.parse::<Record>(), Ok(record));

    // In explanation text any ending is allowed, so the round trip holds there.
    let ms = parse_explanation("see %{d}%-").unwrap();
    assert_eq!(parse_explanation(&ms.to_string()), Ok(ms));
}
