//! Domain names: the one place where case, trailing dots and length limits are handled.
//!
//! Every check in the crate compares names through these functions, so `Example.COM.` and
//! `example.com` are the same name everywhere, and `evilexample.com` is never inside `example.com`.

use crate::scan;
use std::borrow::Cow;

/// The longest domain name, in bytes, without the trailing dot (RFC 1035 §2.3.4, RFC 7208 §4.3).
pub const MAX_NAME_LEN: usize = 253;
/// The longest label, in bytes.
pub const MAX_LABEL_LEN: usize = 63;

/// Why a string is not a usable domain name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NameError {
    /// The name is empty.
    #[error("empty domain name")]
    Empty,
    /// The name has a single label (no dot).
    #[error("not a multi-label domain name")]
    SingleLabel,
    /// A label is empty (two dots in a row, or a leading dot).
    #[error("empty label")]
    EmptyLabel,
    /// A label is longer than 63 bytes.
    #[error("label longer than 63 bytes")]
    LabelTooLong,
    /// The name is longer than 253 bytes.
    #[error("name longer than 253 bytes")]
    TooLong,
    /// The last label is not a valid top-level label (RFC 7208 §7.1 `toplabel`): all digits, or
    /// characters other than letters, digits and inner hyphens.
    #[error("invalid top-level label")]
    BadTopLabel,
    /// The name holds a byte that cannot be sent in a DNS query name here (control, space, non-ASCII).
    #[error("invalid character in domain name")]
    BadChar,
}

/// `name` without one trailing dot.
///
/// ```
/// assert_eq!(sender_identity::name::strip_root("example.com."), "example.com");
/// assert_eq!(sender_identity::name::strip_root("example.com"), "example.com");
/// ```
pub fn strip_root(name: &str) -> &str {
    name.strip_suffix('.').unwrap_or(name)
}

/// `name` lower-cased (ASCII) and without a trailing dot; borrowed when already normal.
///
/// ```
/// assert_eq!(sender_identity::name::normalize("Mail.Example.COM."), "mail.example.com");
/// ```
pub fn normalize(name: &str) -> Cow<'_, str> {
    let stripped = strip_root(name);
    if scan::has_upper(stripped.as_bytes()) {
        Cow::Owned(stripped.to_ascii_lowercase())
    } else {
        Cow::Borrowed(stripped)
    }
}

/// `get(name)` from a map keyed by normal names ([`normalize`]): most names asked for already are
/// normal, so `name` is tried as it is and normalised only when that misses.
#[inline]
pub(crate) fn get_normal<T>(name: &str, get: impl Fn(&str) -> Option<T>) -> Option<T> {
    get(name).or_else(|| get_normalized(name, get))
}

/// The second half of [`get_normal`], for a caller that tried `name` as it is itself: `get` of the
/// normal form of `name`, if that differs from `name`.
pub(crate) fn get_normalized<T>(name: &str, get: impl Fn(&str) -> Option<T>) -> Option<T> {
    match normalize(name) {
        Cow::Owned(normal) => get(&normal),
        Cow::Borrowed(normal) if normal.len() < name.len() => get(normal),
        Cow::Borrowed(_) => None,
    }
}

/// Whether two names are the same, ignoring ASCII case and a trailing dot on either.
///
/// ```
/// assert!(sender_identity::name::same("Example.com.", "example.COM"));
/// ```
pub fn same(a: &str, b: &str) -> bool {
    strip_root(a).eq_ignore_ascii_case(strip_root(b))
}

/// Whether `name` is `parent` or a name below it, ignoring case and trailing dots.
///
/// ```
/// use sender_identity::name::is_within;
/// assert!(is_within("mx.example.com", "example.com"));
/// assert!(is_within("example.com.", "Example.com"));
/// assert!(!is_within("evilexample.com", "example.com"));
/// ```
pub fn is_within(name: &str, parent: &str) -> bool {
    let name = strip_root(name);
    let parent = strip_root(parent);
    if parent.is_empty() {
        return true;
    }
    if name.len() == parent.len() {
        return name.eq_ignore_ascii_case(parent);
    }
    name.len() > parent.len()
        && name.as_bytes()[name.len() - parent.len() - 1] == b'.'
        && name[name.len() - parent.len()..].eq_ignore_ascii_case(parent)
}

/// Whether `label` is a valid top-level label (RFC 7208 §7.1):
/// `( *alphanum ALPHA *alphanum ) / ( 1*alphanum "-" *( alphanum / "-" ) alphanum )`.
pub fn is_toplabel(label: &str) -> bool {
    let b = label.as_bytes();
    let (Some(&first), Some(&last)) = (b.first(), b.last()) else {
        return false;
    };
    // One pass without branches: which classes occur, and whether every byte has one.
    let (any, all) = b.iter().fold((0u8, CLASS_ANY), |(any, all), &c| {
        let class = CLASS[usize::from(c)];
        (any | class, all & class)
    });
    if all & CLASS_ANY == 0 {
        return false;
    }
    if any & CLASS_HYPHEN != 0 {
        CLASS[usize::from(first)] & CLASS[usize::from(last)] & CLASS_ALNUM != 0
    } else {
        any & CLASS_ALPHA != 0
    }
}

/// Byte classes of top-level labels: every allowed byte has [`CLASS_ANY`].
const CLASS_ANY: u8 = 1;
const CLASS_ALPHA: u8 = 2;
const CLASS_ALNUM: u8 = 4;
const CLASS_HYPHEN: u8 = 8;
const CLASS: [u8; 256] = {
    let mut table = [0u8; 256];
    let mut i = 0;
    while i < 256 {
        let c = i as u8;
        table[i] = if c.is_ascii_alphabetic() {
            CLASS_ANY | CLASS_ALPHA | CLASS_ALNUM
        } else if c.is_ascii_digit() {
            CLASS_ANY | CLASS_ALNUM
        } else if c == b'-' {
            CLASS_ANY | CLASS_HYPHEN
        } else {
            0
        };
        i += 1;
    }
    table
};

/// Checks that `name` (one trailing dot allowed) is a multi-label domain name within the DNS length
/// limits whose last label is a valid top-level label. Inner labels may hold any printable ASCII
/// except space, as SPF targets built from macros can (RFC 7208 §7.3).
///
/// ```
/// use sender_identity::name::{check_domain, NameError};
/// assert_eq!(check_domain("mail.example.com."), Ok(()));
/// assert_eq!(check_domain("localhost"), Err(NameError::SingleLabel));
/// assert_eq!(check_domain("[192.0.2.1]"), Err(NameError::BadTopLabel));
/// ```
pub fn check_domain(name: &str) -> Result<(), NameError> {
    let name = strip_root(name);
    let b = name.as_bytes();
    if b.is_empty() {
        return Err(NameError::Empty);
    }
    if b.len() > MAX_NAME_LEN {
        return Err(NameError::TooLong);
    }
    let scan = scan::<true>(b);
    if !scan.graphic {
        return Err(NameError::BadChar);
    }
    if !scan.labels_fit {
        return Err(label_error(b));
    }
    // The last label is short (at most 63 bytes): found from the end.
    let Some(dot) = b.iter().rposition(|&c| c == b'.') else {
        return Err(NameError::SingleLabel);
    };
    if !is_toplabel(name.get(dot + 1..).unwrap_or_default()) {
        return Err(NameError::BadTopLabel);
    }
    Ok(())
}

/// The first label of `b` (in order) that is empty or too long, as an error; [`scan`] found one.
#[cold]
fn label_error(b: &[u8]) -> NameError {
    b.split(|&c| c == b'.')
        .find_map(|label| match label.len() {
            0 => Some(NameError::EmptyLabel),
            n if n > MAX_LABEL_LEN => Some(NameError::LabelTooLong),
            _ => None,
        })
        .unwrap_or(NameError::EmptyLabel)
}

/// Whether `name` can be sent as a DNS query name at all: non-empty, at most 253 bytes, labels of 1 to
/// 63 bytes (one trailing dot allowed). Any bytes are allowed in labels, as SPF macros can produce them.
///
/// ```
/// use sender_identity::name::fits_dns;
/// assert!(fits_dns("a b%20.example.com"));
/// assert!(!fits_dns("a..example.com"));
/// assert!(!fits_dns(""));
/// ```
pub fn fits_dns(name: &str) -> bool {
    let name = strip_root(name).as_bytes();
    if name.is_empty() || name.len() > MAX_NAME_LEN {
        return false;
    }
    scan::<false>(name).labels_fit
}

/// What [`scan`] found.
struct Scan {
    /// Whether every label is 1 to 63 bytes.
    labels_fit: bool,
    /// Whether every byte is printable ASCII other than space (when asked).
    graphic: bool,
}

/// One pass over `b` (not empty), eight bytes at a time: whether the labels fit, and (if `GRAPHIC`)
/// whether every byte is printable ASCII other than space. No work per dot: an empty label is two
/// dots in a row (or one at either end), and a label of 64 bytes or more spans seven whole words
/// without a dot, which only then are the labels measured one by one.
#[inline(always)]
fn scan<const GRAPHIC: bool>(b: &[u8]) -> Scan {
    let mut state = Words::default();
    let (words, rest) = b.as_chunks::<8>();
    for w in words {
        state.word::<GRAPHIC>(u64::from_le_bytes(*w), 0);
    }
    if !rest.is_empty() {
        // The remaining bytes in the low end of a word: the last eight bytes shifted down when
        // there are eight, else gathered one by one. The high end is padding, neither a dot
        // nor bad.
        let w = match b.last_chunk::<8>() {
            Some(last) => u64::from_le_bytes(*last) >> (8 * (8 - rest.len())),
            None => rest
                .iter()
                .rev()
                .fold(0u64, |w, &c| (w << 8) | u64::from(c)),
        };
        state.word::<GRAPHIC>(w, (scan::ONES * u64::from(b'a')) << (8 * rest.len()));
    }
    let ends = b.first() == Some(&b'.') || b.last() == Some(&b'.');
    Scan {
        labels_fit: state.adjacent == 0 && !ends && (state.run_max < 7 || labels_fit(b)),
        graphic: state.bad == 0,
    }
}

/// What [`scan`] carries from word to word.
#[derive(Default)]
struct Words {
    /// Non-zero when two dots were in a row, within a word or across words.
    adjacent: u64,
    /// The last word's last byte's dot bit, moved to the first byte's.
    carry: u64,
    /// Words in a row without a dot, and the most there were.
    run: u32,
    run_max: u32,
    /// Non-zero when a byte was not printable.
    bad: u64,
}

impl Words {
    /// Takes in the word `w`, whose bytes set in `padding` are not part of the name.
    #[inline(always)]
    fn word<const GRAPHIC: bool>(&mut self, w: u64, padding: u64) {
        let d = scan::bytes_equal(w, b'.');
        self.adjacent |= d & ((d >> 8) | self.carry);
        self.carry = d >> 56;
        self.run = if d == 0 { self.run + 1 } else { 0 };
        self.run_max = self.run_max.max(self.run);
        if GRAPHIC {
            self.bad |= scan::non_graphic(w | padding);
        }
    }
}

/// Whether every label of `b` is at most 63 bytes, measured one by one.
#[cold]
fn labels_fit(b: &[u8]) -> bool {
    b.split(|&c| c == b'.').all(|l| l.len() <= MAX_LABEL_LEN)
}

/// Whether `name` (one trailing dot allowed) is a host name the HELO and iprev checks look up: a
/// multi-label name within the DNS limits whose top label is valid ([`check_domain`]), whose labels
/// hold only letters, digits, `-` and `_` and neither start nor end with `-`, and that is not
/// `localhost`, a name under it, or `localhost.localdomain`.
///
/// [`crate::helo::HeloName::domain`] gives a name for exactly these (its tests check that they
/// agree); iprev looks up only PTR names that are host names, as Postfix and Exim skip the others.
pub(crate) fn is_host_name(name: &str) -> bool {
    if check_domain(name).is_err() {
        return false;
    }
    let name = strip_root(name);
    let host_label = |label: &str| {
        let b = label.as_bytes();
        b.first() != Some(&b'-')
            && b.last() != Some(&b'-')
            && b.iter()
                .all(|&c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_')
    };
    name.split('.').all(host_label)
        && !is_within(name, "localhost")
        && !same(name, "localhost.localdomain")
}

#[cfg(test)]
mod host_name_tests {
    use super::is_host_name;

    #[test]
    fn host_names() {
        for name in [
            "mail.example.com",
            "Mail.Example.COM.",
            "foo_bar.example.com",
            "a.1-1",
        ] {
            assert!(is_host_name(name), "{name:?}");
        }
        let not = [
            "",
            ".",
            "mail",
            "localhost",
            "mx.LOCALHOST",
            "localhost.localdomain.",
            "192.0.2.1",
            "[192.0.2.1]",
            "2001:db8::1",
            "-a.example.com",
            "a-.example.com",
            "a..example.com",
            "example.com..",
            "a+b.example.com",
            "m\u{fc}ller.example",
            "mail.example.123",
            "mail.example.c_m",
        ];
        for name in not {
            assert!(!is_host_name(name), "{name:?}");
        }
    }
}

/// The checks as first written (a byte loop each), kept as the reference the fast ones are checked
/// against.
#[cfg(test)]
mod reference {
    use super::*;

    /// Whether `label` is a valid top-level label (RFC 7208 §7.1):
    /// `( *alphanum ALPHA *alphanum ) / ( 1*alphanum "-" *( alphanum / "-" ) alphanum )`.
    pub(super) fn is_toplabel(label: &str) -> bool {
        let b = label.as_bytes();
        let (Some(&first), Some(&last)) = (b.first(), b.last()) else {
            return false;
        };
        let (mut alpha, mut hyphen) = (false, false);
        for &c in b {
            match c {
                b'a'..=b'z' | b'A'..=b'Z' => alpha = true,
                b'0'..=b'9' => {}
                b'-' => hyphen = true,
                _ => return false,
            }
        }
        if hyphen {
            first.is_ascii_alphanumeric() && last.is_ascii_alphanumeric()
        } else {
            alpha
        }
    }

    /// Checks that `name` (one trailing dot allowed) is a multi-label domain name within the DNS length
    /// limits whose last label is a valid top-level label. Inner labels may hold any printable ASCII
    /// except space, as SPF targets built from macros can (RFC 7208 §7.3).
    pub(super) fn check_domain(name: &str) -> Result<(), NameError> {
        let name = strip_root(name);
        let b = name.as_bytes();
        if b.is_empty() {
            return Err(NameError::Empty);
        }
        if b.len() > MAX_NAME_LEN {
            return Err(NameError::TooLong);
        }
        // One branch-free pass for the characters, one for the labels.
        if b.iter().fold(false, |bad, c| bad | !c.is_ascii_graphic()) {
            return Err(NameError::BadChar);
        }
        let mut start = 0usize;
        for (i, &c) in b.iter().enumerate() {
            if c == b'.' {
                match i - start {
                    0 => return Err(NameError::EmptyLabel),
                    n if n > MAX_LABEL_LEN => return Err(NameError::LabelTooLong),
                    _ => start = i + 1,
                }
            }
        }
        match b.len() - start {
            0 => return Err(NameError::EmptyLabel),
            n if n > MAX_LABEL_LEN => return Err(NameError::LabelTooLong),
            _ => {}
        }
        if start == 0 {
            return Err(NameError::SingleLabel);
        }
        if !is_toplabel(&name[start..]) {
            return Err(NameError::BadTopLabel);
        }
        Ok(())
    }

    /// Whether `name` can be sent as a DNS query name at all: non-empty, at most 253 bytes, labels of 1 to
    /// 63 bytes (one trailing dot allowed). Any bytes are allowed in labels, as SPF macros can produce them.
    pub(super) fn fits_dns(name: &str) -> bool {
        let name = strip_root(name).as_bytes();
        if name.is_empty() || name.len() > MAX_NAME_LEN {
            return false;
        }
        let mut label = 0usize;
        for &b in name {
            if b == b'.' {
                if label == 0 {
                    return false;
                }
                label = 0;
            } else {
                label += 1;
                if label > MAX_LABEL_LEN {
                    return false;
                }
            }
        }
        label > 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn within() {
        assert!(is_within("a.b.example.com", "example.com"));
        assert!(!is_within("example.com", "a.example.com"));
        assert!(!is_within("xexample.com", "example.com"));
        assert!(is_within("anything", ""));
    }

    #[test]
    fn toplabels() {
        assert!(is_toplabel("com"));
        assert!(is_toplabel("xn--p1ai"));
        assert!(is_toplabel("a1"));
        assert!(!is_toplabel("123"));
        assert!(!is_toplabel("-com"));
        assert!(!is_toplabel("com-"));
        assert!(!is_toplabel("c_m"));
        assert!(is_toplabel("1-1"));
    }

    #[test]
    fn domains() {
        assert_eq!(check_domain(""), Err(NameError::Empty));
        assert_eq!(check_domain("."), Err(NameError::Empty));
        assert_eq!(check_domain("a..com"), Err(NameError::EmptyLabel));
        assert_eq!(check_domain(".a.com"), Err(NameError::EmptyLabel));
        let long = format!("{}.com", "a".repeat(64));
        assert_eq!(check_domain(&long), Err(NameError::LabelTooLong));
        let ok63 = format!("{}.com", "a".repeat(63));
        assert_eq!(check_domain(&ok63), Ok(()));
        let too_long = format!("{}com", "abcdefghi.".repeat(26));
        assert_eq!(check_domain(&too_long), Err(NameError::TooLong));
        assert_eq!(check_domain("1.2.3.4"), Err(NameError::BadTopLabel));
        assert_eq!(check_domain("a b.com"), Err(NameError::BadChar));
        assert_eq!(check_domain("foo+bar=x.example.com"), Ok(()));
    }
    /// Names with labels of around the limits, dots in odd places and bytes of every class.
    fn name() -> impl Strategy<Value = String> {
        let label = prop_oneof![
            4 => "[a-z0-9-]{0,8}",
            1 => "[a-zA-Z0-9 _~+=/%\t\u{7f}é-]{0,8}",
            1 => (60usize..66).prop_map(|n| "x".repeat(n)),
        ];
        prop_oneof![
            8 => (prop::collection::vec(label, 1..8), "\\.?").prop_map(|(labels, root)| labels.join(".") + &root),
            1 => (prop::collection::vec("[a-z]{1,9}", 24..30)).prop_map(|labels| labels.join(".")),
            1 => any::<String>(),
            1 => "[.a1-]{0,20}",
        ]
    }

    proptest! {
        #[test]
        fn checks_match_reference(name in name()) {
            prop_assert_eq!(fits_dns(&name), reference::fits_dns(&name), "{:?}", name);
            let upper = name.bytes().any(|b| b.is_ascii_uppercase());
            prop_assert_eq!(scan::has_upper(name.as_bytes()), upper, "{:?}", name);
            prop_assert_eq!(check_domain(&name), reference::check_domain(&name), "{:?}", name);
            let last = name.rsplit('.').next().unwrap_or_default();
            prop_assert_eq!(is_toplabel(last), reference::is_toplabel(last), "{:?}", last);
        }
    }

    #[test]
    fn checks_match_reference_at_every_length() {
        // Every length up to past the limit, a dot at every place in turn (word edges included).
        for len in 0..=260 {
            for dot in 0..len.min(70) {
                let mut name: Vec<u8> = (0..len).map(|i| b"abc9-"[i % 5]).collect();
                name[dot] = b'.';
                if len % 3 == 0 && dot + 1 < len {
                    name[dot + 1] = b'.';
                }
                for tail in [&b""[..], b".", b"..", b" ", b"\x80"] {
                    let mut n = name.clone();
                    n.extend_from_slice(tail);
                    let n = String::from_utf8_lossy(&n).into_owned();
                    assert_eq!(fits_dns(&n), reference::fits_dns(&n), "{n:?}");
                    assert_eq!(check_domain(&n), reference::check_domain(&n), "{n:?}");
                }
            }
        }
    }
}
