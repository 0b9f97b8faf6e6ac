//! Byte scans eight bytes at a time (SWAR: one `u64` holds eight bytes), for the loops that run on
//! every record, name and MAIL FROM argument: a byte loop (or `memchr` for such short inputs) costs
//! more than the rest of the work there.
//!
//! Every mask below is exact per byte unless it says otherwise: the sums and differences are
//! taken on the low seven bits of each byte (`x & LOWS`), which never carry into the next byte,
//! and the high bit of the byte itself is handled apart. Each scan has a byte-at-a-time
//! reference in the tests, checked on every byte value at every position of a word and of the
//! tail.

/// `0x01` in every byte.
pub(crate) const ONES: u64 = u64::from_le_bytes([1; 8]);
/// `0x80` in every byte.
pub(crate) const HIGHS: u64 = ONES * 0x80;
/// `0x7f` in every byte.
pub(crate) const LOWS: u64 = ONES * 0x7f;

/// The high bit of each byte of `w` that equals `byte`.
#[inline(always)]
pub(crate) fn bytes_equal(w: u64, byte: u8) -> u64 {
    let x = w ^ (ONES * u64::from(byte));
    // A byte of `x` is zero exactly when neither its low seven bits plus 0x7f nor its high bit
    // reach the high bit.
    !(((x & LOWS) + LOWS) | x | LOWS)
}

/// The high bit of each byte of `w` that is an ASCII capital letter: from below 0x80, at least
/// `A` plus `0x80 - 'A'` reaches 0x80 and above `Z` does too; bytes with the high bit set are no
/// letters.
#[inline(always)]
fn upper(w: u64) -> u64 {
    let x = w & LOWS;
    (x + ONES * u64::from(0x80 - b'A')) & !(x + ONES * u64::from(0x80 - b'Z' - 1)) & !w & HIGHS
}

/// The high bit of each byte of `w` at or below space: the low seven bits plus 0x5f reach 0x80
/// exactly when they are at least 0x21; a byte with the high bit set is above space anyway.
#[inline(always)]
fn space_or_below(w: u64) -> u64 {
    !((w & LOWS) + ONES * u64::from(0x80 - b'!')) & !w & HIGHS
}

/// Non-zero when a byte of `w` is below `low` or above `0x7e` (not per byte: a borrow from such a
/// byte may mark the next one too, so this says whether there is one, not where). Below `low`
/// borrows (only such a byte starts a borrow); above `0x7e`, adding 1 sets the high bit (or it
/// is set already).
#[inline(always)]
fn outside_ascii(w: u64, low: u8) -> u64 {
    ((w.wrapping_sub(ONES * u64::from(low)) & !w) | w.wrapping_add(ONES) | w) & HIGHS
}

/// Non-zero when a byte of `w` is not printable ASCII other than space (`0x21..=0x7e`).
#[inline(always)]
pub(crate) fn non_graphic(w: u64) -> u64 {
    outside_ascii(w, 0x21)
}

/// The high bit of each byte of `w` that is not a `macro-literal` (RFC 7208 §7.1:
/// `%x21-24 / %x26-7E`): with `lo` the low seven bits, `x | (lo + 0x01) | !(lo + 0x5f) |
/// !((lo ^ 0x25) + 0x7f)` has the high bit set exactly when the byte is `>= 0x80`, `0x7f`, `< 0x21`
/// or `0x25`.
#[inline(always)]
fn non_literal(x: u64) -> u64 {
    let lo = x & LOWS;
    (x | (lo + ONES) | !(lo + ONES * 0x5f) | !((lo ^ (ONES * 0x25)) + LOWS)) & HIGHS
}

/// Whether `b` holds an ASCII capital letter.
pub(crate) fn has_upper(b: &[u8]) -> bool {
    let (words, rest) = b.as_chunks::<8>();
    // No early exit: the names are short, and a branch per word costs more than the words.
    words
        .iter()
        .fold(0, |any, w| any | upper(u64::from_le_bytes(*w)))
        != 0
        || rest.iter().any(u8::is_ascii_uppercase)
}

/// Whether `b` holds a byte at or below space (a space, a tab or another control).
pub(crate) fn has_space_or_below(b: &[u8]) -> bool {
    let (words, rest) = b.as_chunks::<8>();
    words
        .iter()
        .fold(0, |any, w| any | space_or_below(u64::from_le_bytes(*w)))
        != 0
        || rest.iter().any(|&c| c <= b' ')
}

/// Whether `b` holds a byte that is neither printable ASCII nor a space (outside `0x20..=0x7e`).
pub(crate) fn has_non_printable(b: &[u8]) -> bool {
    let (words, rest) = b.as_chunks::<8>();
    words.iter().fold(0, |any, w| {
        any | outside_ascii(u64::from_le_bytes(*w), 0x20)
    }) != 0
        || rest.iter().any(|c| !(0x20..=0x7e).contains(c))
}

/// How many bytes of `b` equal `byte`.
pub(crate) fn count(b: &[u8], byte: u8) -> usize {
    let (words, rest) = b.as_chunks::<8>();
    let mut n = 0;
    for w in words {
        // One bit per match, summed into the top byte by the multiplication.
        let found = bytes_equal(u64::from_le_bytes(*w), byte) >> 7;
        n += (found.wrapping_mul(ONES) >> 56) as usize;
    }
    n + rest.iter().filter(|&&c| c == byte).count()
}

/// Where the first byte equal to `byte` at or after `at` is in `b` (`b.len()` if there is none).
pub(crate) fn find(b: &[u8], mut at: usize, byte: u8) -> usize {
    while let Some(word) = b.get(at..).and_then(|s| s.first_chunk::<8>()) {
        let found = bytes_equal(u64::from_le_bytes(*word), byte);
        if found != 0 {
            return at + (found.trailing_zeros() / 8) as usize;
        }
        at += 8;
    }
    while at < b.len() && b[at] != byte {
        at += 1;
    }
    at
}

/// Where the `macro-literal` run from `at` ends: at the first byte that is not `%x21-24 /
/// %x26-7E` (a space, a `%`, a control or non-ASCII byte), or at the end of `b`.
///
/// The last (partial) word is read as the last eight bytes of `b`, its bytes before `at` shifted
/// out: the terms are short, and a byte loop over their tails would cost as much as the words.
pub(crate) fn literal_end(b: &[u8], mut at: usize) -> usize {
    while let Some(word) = b.get(at..at + 8) {
        let mut w = [0u8; 8];
        w.copy_from_slice(word);
        let found = non_literal(u64::from_le_bytes(w));
        if found != 0 {
            return at + (found.trailing_zeros() / 8) as usize;
        }
        at += 8;
    }
    if at >= b.len() {
        return b.len();
    }
    match b.last_chunk::<8>() {
        Some(last) => {
            // `b[b.len() - 8..]` holds the rest from `at` in its top `b.len() - at` bytes.
            let skip = 8 - (b.len() - at);
            let found = non_literal(u64::from_le_bytes(*last)) >> (8 * skip);
            if found != 0 {
                at + (found.trailing_zeros() / 8) as usize
            } else {
                b.len()
            }
        }
        None => {
            while at < b.len() && is_literal(b[at]) {
                at += 1;
            }
            at
        }
    }
}

/// Whether `c` is a `macro-literal` byte (`%x21-24 / %x26-7E`).
pub(crate) fn is_literal(c: u8) -> bool {
    matches!(c, 0x21..=0x24 | 0x26..=0x7e)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Texts of every length up to 17 (two words and a tail), filled with `fill` and one byte of
    /// every value at every position in turn.
    fn every_byte_everywhere(fill: u8, mut check: impl FnMut(&[u8])) {
        for len in 0..=17 {
            for at in 0..len {
                for b in 0..=255u8 {
                    let mut text = vec![fill; len];
                    text[at] = b;
                    check(&text);
                }
            }
            check(&vec![fill; len]);
        }
    }

    #[test]
    fn has_upper_matches_bytewise() {
        every_byte_everywhere(b'a', |t| {
            assert_eq!(has_upper(t), t.iter().any(u8::is_ascii_uppercase), "{t:?}");
        });
    }

    #[test]
    fn has_space_or_below_matches_bytewise() {
        every_byte_everywhere(b'a', |t| {
            assert_eq!(has_space_or_below(t), t.iter().any(|&c| c <= b' '), "{t:?}");
        });
    }

    #[test]
    fn has_non_printable_matches_bytewise() {
        for fill in [b'a', b' ', b'~'] {
            every_byte_everywhere(fill, |t| {
                let bytewise = t.iter().any(|c| !(0x20..=0x7e).contains(c));
                assert_eq!(has_non_printable(t), bytewise, "{t:?}");
            });
        }
    }

    #[test]
    fn non_graphic_matches_bytewise() {
        for fill in [b'a', b'!', b'~'] {
            every_byte_everywhere(fill, |t| {
                for w in t.chunks_exact(8) {
                    let word = u64::from_le_bytes(w.try_into().unwrap());
                    let bytewise = w.iter().any(|c| !(0x21..=0x7e).contains(c));
                    assert_eq!(non_graphic(word) != 0, bytewise, "{w:?}");
                }
            });
        }
    }

    #[test]
    fn count_and_find_match_bytewise() {
        for byte in [b' ', b'.', 0x00, 0x80, 0xff] {
            for fill in [b'a', byte ^ 0x80, byte.wrapping_add(1)] {
                every_byte_everywhere(fill, |t| {
                    let n = t.iter().filter(|&&c| c == byte).count();
                    assert_eq!(count(t, byte), n, "{t:?}");
                    for at in 0..=t.len() {
                        let first = t[at..].iter().position(|&c| c == byte);
                        assert_eq!(find(t, at, byte), first.map_or(t.len(), |p| at + p));
                    }
                });
            }
        }
    }

    #[test]
    fn bytes_equal_is_exact_per_byte() {
        every_byte_everywhere(b'.', |t| {
            for w in t.chunks_exact(8) {
                let word = u64::from_le_bytes(w.try_into().unwrap());
                let mask = w
                    .iter()
                    .enumerate()
                    .fold(0, |m, (k, &c)| m | (u64::from(c == b'.') << (8 * k + 7)));
                assert_eq!(bytes_equal(word, b'.'), mask, "{w:?}");
            }
        });
    }

    #[test]
    fn literal_end_matches_bytewise() {
        let bytewise = |b: &[u8], mut at: usize| {
            while at < b.len() && is_literal(b[at]) {
                at += 1;
            }
            at
        };
        let mut text = Vec::new();
        for len in 0..40 {
            for bad in 0u8..=255 {
                if is_literal(bad) {
                    continue;
                }
                for pos in 0..=len {
                    text.clear();
                    text.extend((0..len).map(|k| b"a.-_!~$&z09}{"[k % 13]));
                    if pos < len {
                        text[pos] = bad;
                    }
                    for at in 0..=len {
                        assert_eq!(
                            literal_end(&text, at),
                            bytewise(&text, at),
                            "{text:?} at {at}"
                        );
                    }
                }
            }
        }
    }
}
