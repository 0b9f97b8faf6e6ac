//! SPF (RFC 7208): the record grammar, macros, and `check_host()` for the MAIL FROM and HELO
//! identities.
//!
//! - [`Record`]: the typed AST of a `v=spf1` record; `str::parse` builds it, `Display` writes it back.
//! - [`Verifier`]: evaluates a client against DNS through any [`crate::dns::Resolver`].
//! - [`SpfOutput`]: the result, the explanation on fail, the directive that matched or the error, and
//!   the DNS-term and void-lookup counts.
//!
//! ```
//! use sender_identity::dns::ZoneResolver;
//! use sender_identity::spf::{SpfResult, Verifier};
//!
//! let zone: ZoneResolver = r#"
//!     example.org.  TXT "v=spf1 ip4:192.0.2.0/24 -all"
//! "#.parse().unwrap();
//! let spf = Verifier::new(zone);
//! # let rt = tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap();
//! # rt.block_on(async {
//! let out = spf.check_helo("192.0.2.77".parse().unwrap(), "example.org").await;
//! assert_eq!(out.result, SpfResult::Pass);
//! # });
//! ```

mod cache;
mod config;
mod eval;
mod macros;
mod memo;
mod parse;
mod record;
mod result;
mod target;
mod trace;
mod verdict;
mod verifier;

pub use cache::RecordCache;
pub use config::{Config, DEFAULT_EXPLANATION};
pub use macros::{MAX_EXPLANATION_LEN, MacroContext};
pub use parse::{ParseError, ParseErrorKind, is_spf1, parse_explanation};
pub use record::{
    Delimiters, Directive, DomainRecord, DomainSpec, DualCidr, DuplicateModifier, Macro,
    MacroLetter, MacroPart, MacroString, Mechanism, Modifier, Qualifier, Record, Term,
};
pub use result::{Cause, Identity, SpfError, SpfOutput, SpfResult};
pub use trace::{Trace, TraceEvent};
pub use verifier::{MAX_HELO_LEN, MAX_LOCAL_PART_LEN, Verifier};

/// The longest prefix of `s` of at most `max` bytes that ends at a character boundary: how every
/// value from outside is cut to a limit (a local part, a HELO, an explanation, an error's term).
pub(crate) fn cut_to(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut cut = max;
    while !s.is_char_boundary(cut) {
        cut -= 1;
    }
    s.get(..cut).unwrap_or_default()
}
