//! How many cases each property test runs: a modest default so that `cargo test` stays quick, and
//! `PROPTEST_CASES` (proptest's own variable) for a deep run, e.g. `PROPTEST_CASES=20000 cargo test`.
//! Shared by the unit tests (included from `src/lib.rs`) and the integration tests.

/// `PROPTEST_CASES` when it is set to a number, else `default`.
pub fn cases(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}
