//! HELO/EHLO argument classification and the engine presets on any text.
//!
//! Invariants:
//! - classification and every preset's verdict never panic;
//! - a name the checks would look up ([`HeloName::domain`]) is a valid multi-label domain name
//!   within the DNS limits (`name::check_domain`), so no lookup is ever built from junk;
//! - an address literal carries its address, and classifying the normalised form again gives the
//!   same class (classification is stable).
#![no_main]

use libfuzzer_sys::fuzz_target;
use sender_identity::helo::{HeloName, HeloPolicy, HeloSyntax};
use sender_identity::name::check_domain;

fuzz_target!(|data: &[u8]| {
    let Ok(arg) = std::str::from_utf8(data) else {
        return;
    };
    let name = HeloName::parse(arg);
    for policy in [
        HeloPolicy::Strict,
        HeloPolicy::PostfixInvalid,
        HeloPolicy::PostfixNonFqdn { smtputf8: false },
        HeloPolicy::PostfixNonFqdn { smtputf8: true },
        HeloPolicy::Exim {
            allow_chars: "_".into(),
        },
    ] {
        let _ = policy.check(arg);
    }
    if let Some(domain) = name.domain() {
        assert_eq!(check_domain(domain), Ok(()), "{arg:?} -> {domain:?}");
    }
    if let HeloSyntax::AddressLiteral(ip) = name.syntax() {
        assert_eq!(name.ip(), Some(ip), "{arg:?}");
    }
    let again = HeloName::parse(name.normalized());
    if name.syntax() == HeloSyntax::Fqdn && !name.trailing_dot() {
        assert_eq!(
            again.syntax(),
            HeloSyntax::Fqdn,
            "{arg:?} -> {:?}",
            name.normalized()
        );
    }
});
