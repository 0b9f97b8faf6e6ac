//! Domain names: the one place where case, trailing dots and length limits are handled.
//!
//! Every check in the crate compares names through these functions, so `Example.COM.` and
//! `example.com` are the same name everywhere, and `evilexample.com` is never inside `example.com`.

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
    if stripped.bytes().any(|b| b.is_ascii_uppercase()) {
        Cow::Owned(stripped.to_ascii_lowercase())
    } else {
        Cow::Borrowed(stripped)
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
