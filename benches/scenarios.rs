//! The SPF evaluation scenarios over `benches/scenarios.zone`, shared by `benches/spf.rs` and
//! `tests/allocations.rs` (included with `#[path]`).

use sender_identity::spf::SpfResult;

/// The zone the scenarios are evaluated against.
pub const ZONE: &str = include_str!("scenarios.zone");

/// (name, client, HELO, sender (empty: the HELO identity), expected result)
pub const SCENARIOS: &[(&str, &str, &str, &str, SpfResult)] = &[
    (
        "first-ip4",
        "192.0.2.1",
        "mx.first.example",
        "user@first.example",
        SpfResult::Pass,
    ),
    (
        "include-3-deep",
        "203.0.113.5",
        "mx.deep.example",
        "user@deep.example",
        SpfResult::Pass,
    ),
    (
        "fail-whole-tree",
        "198.18.0.1",
        "mx.tree.example",
        "user@tree.example",
        SpfResult::Fail,
    ),
    (
        "macro-exists",
        "192.0.2.77",
        "mta.macro.example",
        "first.last@macro.example",
        SpfResult::Pass,
    ),
    (
        "helo-a",
        "192.0.2.25",
        "mail.helo.example",
        "",
        SpfResult::Pass,
    ),
    (
        "mx-5-hosts",
        "192.0.2.55",
        "mx.mx5.example",
        "user@mx5.example",
        SpfResult::Pass,
    ),
];
