//! The SMTP envelope: the sender address of a `MAIL FROM` argument, in one normal form.
//!
//! [`sender`] is the one place where a `MAIL FROM` argument becomes the sender address. The SPF
//! check ([`crate::spf::Verifier::check_mail_from`]), `Received-SPF` and `Authentication-Results`
//! in a [`crate::session::Session`] all read the sender through it, so they always name the same
//! address.

use crate::scan;

/// The sender address of a `MAIL FROM` argument: the text after `MAIL FROM:`, as received
/// (RFC 5321 §4.1.1.2: `Reverse-path [SP Mail-parameters]`). Empty for the null sender.
///
/// - Leading and trailing whitespace is ignored.
/// - `<path>`: the address inside the angle brackets. A `>` inside a quoted local part
///   (`<"a>b"@example.com>`) does not end the path.
/// - ESMTP parameters after the path (`<a@example.com> SIZE=100 BODY=8BITMIME`) are dropped,
///   so the raw argument can be passed as it came.
/// - A source route (`<@relay1,@relay2:user@example.com>`, RFC 5321 §4.1.2 `A-d-l`) is dropped:
///   RFC 5321 §4.1.1.3 says receivers "MUST recognize source route syntax but SHOULD strip off the
///   source route specification and utilize the domain name associated with the mailbox".
/// - An address without brackets may be a bare address from a policy protocol or a milter, whose
///   local part can hold spaces (Postfix sends `"Macro Error"@example.com` as `Macro
///   Error@example.com`), or a raw argument without brackets (`a@example.com SIZE=100`, which
///   Postfix accepts unless `strict_rfc821_envelopes` is set). A domain holds no space, so such an
///   address ends at the first space or tab (outside a quoted string) after its `@`; what follows
///   is taken as parameters. Before the `@`, spaces are kept.
/// - `<>` (or an empty argument) is the null sender: the result is empty.
/// - A `<` without its `>` is not a path: the argument is returned trimmed and unchanged (an MTA
///   refuses such a command with a syntax error before any check). Checked anyway, its domain is
///   what follows the last `@` (`<a@example.com` is checked for `example.com`, local part `<a`).
///
/// Nothing else is checked or changed: the local part keeps its case and quoting.
///
/// ```
/// use sender_identity::envelope::sender;
///
/// assert_eq!(sender("<alice@example.com>"), "alice@example.com");
/// assert_eq!(sender(" <alice@example.com> SIZE=100 BODY=8BITMIME"), "alice@example.com");
/// assert_eq!(sender("<@relay.example,@gw.example:bob@example.org>"), "bob@example.org");
/// assert_eq!(sender("<\"odd> name\"@example.com>"), "\"odd> name\"@example.com");
/// assert_eq!(sender("alice@example.com SIZE=100"), "alice@example.com");
/// assert_eq!(sender("Macro Error@example.com"), "Macro Error@example.com");
/// assert_eq!(sender("<>"), "");
/// assert_eq!(sender("<> SIZE=100"), "");
/// ```
pub fn sender(arg: &str) -> &str {
    // The common shapes (`a@example.com`, `<a@example.com>`, no quoted local part) are found with
    // plain scans; the quote-aware one is for the rest. This runs on every MAIL FROM check.
    // Parameters follow a space or tab (RFC 5321 `SP`, and Postfix's leniency): with no byte at or
    // below space, nothing is trimmed and an argument without `<` is the address as it is.
    if !arg.starts_with('<') && !scan::has_space_or_below(arg.as_bytes()) {
        return arg;
    }
    let arg = arg.trim_ascii();
    let Some(rest) = arg.strip_prefix('<') else {
        let mut seen_at = false;
        let end = token_end(arg, |b| {
            seen_at |= b == b'@';
            seen_at && is_blank(b)
        });
        return &arg[..end];
    };
    let end = match rest.bytes().position(|b| b == b'>' || b == b'"') {
        Some(end) if rest.as_bytes()[end] == b'>' => end,
        _ => token_end(rest, |b| b == b'>'),
    };
    if end == rest.len() {
        return arg;
    }
    let path = rest[..end].trim_ascii();
    match path
        .strip_prefix('@')
        .and_then(|route| route.split_once(':'))
    {
        Some((_, mailbox)) => mailbox,
        None => path,
    }
}

/// A space or tab: what separates a path from its parameters.
fn is_blank(b: u8) -> bool {
    b == b' ' || b == b'\t'
}

/// Where the first byte `stop` accepts, outside a quoted string, is in `s` (its length if there is
/// none). In a quoted string a backslash escapes the next byte (RFC 5321 `quoted-pairSMTP`).
fn token_end(s: &str, mut stop: impl FnMut(u8) -> bool) -> usize {
    let (mut quoted, mut escaped) = (false, false);
    for (i, b) in s.bytes().enumerate() {
        match b {
            _ if escaped => escaped = false,
            b'\\' if quoted => escaped = true,
            b'"' => quoted = !quoted,
            _ if !quoted && stop(b) => return i,
            _ => {}
        }
    }
    s.len()
}

#[cfg(test)]
mod tests {
    use super::{is_blank, sender, token_end};
    use proptest::prelude::*;

    /// `sender` with the quote-aware scan only (no plain-scan shortcuts).
    fn reference(arg: &str) -> &str {
        let arg = arg.trim_ascii();
        let Some(rest) = arg.strip_prefix('<') else {
            let mut seen_at = false;
            let end = token_end(arg, |b| {
                seen_at |= b == b'@';
                seen_at && is_blank(b)
            });
            return &arg[..end];
        };
        let end = token_end(rest, |b| b == b'>');
        if end == rest.len() {
            return arg;
        }
        let path = rest[..end].trim_ascii();
        match path.strip_prefix('@').and_then(|r| r.split_once(':')) {
            Some((_, mailbox)) => mailbox,
            None => path,
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(crate::cases::cases(2000)))]

        #[test]
        fn shortcuts_agree_with_the_quote_aware_scan(arg in "[<>\"\\@:, \tax.]{0,24}") {
            prop_assert_eq!(sender(&arg), reference(&arg));
        }
    }

    #[test]
    fn paths_parameters_and_routes() {
        let cases = [
            ("alice@example.com", "alice@example.com"),
            ("<alice@example.com>", "alice@example.com"),
            ("  <Alice@Example.COM>\r\n", "Alice@Example.COM"),
            ("<a@example.com> SIZE=100", "a@example.com"),
            ("<a@example.com>SIZE=100", "a@example.com"),
            ("<a@example.com> SIZE=100 BODY=8BITMIME", "a@example.com"),
            ("a@example.com SIZE=100", "a@example.com"),
            ("a@example.com\tBODY=8BITMIME", "a@example.com"),
            ("<@a.example,@b.example:user@d.example>", "user@d.example"),
            ("<@a.example:user@d.example> SIZE=1", "user@d.example"),
            ("<\"a>b\"@example.com> SIZE=1", "\"a>b\"@example.com"),
            ("<\"a\\\"> b\"@example.com>", "\"a\\\"> b\"@example.com"),
            ("\"a b\"@example.com SIZE=1", "\"a b\"@example.com"),
            ("\"a@b c\"@example.com SIZE=1", "\"a@b c\"@example.com"),
            ("Macro Error@example.com", "Macro Error@example.com"),
            ("Macro Error@example.com SIZE=1", "Macro Error@example.com"),
            ("a@example.com AUTH=b@example.net", "a@example.com"),
            ("example.com SIZE=1", "example.com SIZE=1"),
            ("<>", ""),
            ("<> SIZE=100", ""),
            ("", ""),
            ("   ", ""),
            ("<a@example.com", "<a@example.com"),
            ("<a@example.com SIZE=1", "<a@example.com SIZE=1"),
            ("postmaster", "postmaster"),
        ];
        for (arg, want) in cases {
            assert_eq!(sender(arg), want, "{arg:?}");
        }
    }
}
