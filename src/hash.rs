//! Hashing for the crate's own hash maps: one fast hash (a folded multiply over 16-byte blocks),
//! keyed at random for names that come from the network ([`Keyed`]) and with fixed keys for names
//! the owner supplies ([`Fx`]).

use std::hash::{BuildHasher, Hasher};

/// An unkeyed hash for maps whose keys the crate or the owner supply (the zone's names, the memo
/// of one check): [`Keyed`]'s hash with fixed keys. Hash flooding is not a concern there, unlike in
/// caches keyed by names from the network, and fixed keys spare drawing random ones per map. (The
/// name is from the rustc "Fx" hash this once was; the folded multiply looks names up faster.)
#[derive(Debug)]
pub(crate) struct Fx(KeyedHasher);

impl Default for Fx {
    fn default() -> Self {
        const FIXED: Keyed = Keyed {
            k0: 0x243f_6a88_85a3_08d3,
            k1: 0x1319_8a2e_0370_7344 | 1,
        };
        Fx(FIXED.build_hasher())
    }
}

impl Hasher for Fx {
    fn finish(&self) -> u64 {
        self.0.finish()
    }
    fn write(&mut self, bytes: &[u8]) {
        self.0.write(bytes);
    }
    fn write_u8(&mut self, i: u8) {
        self.0.write_u8(i);
    }
}

/// A keyed hash for maps whose keys come from the network (the record cache): a folded 64x64-bit
/// multiply over 16-byte blocks, in the style of foldhash, with 128 bits of key drawn from the
/// standard library's random hasher keys for every map. Several times cheaper than SipHash on
/// domain names, and, unlike an unkeyed hash, a remote sender cannot choose names that collide
/// without knowing the key. Not a cryptographic MAC.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Keyed {
    k0: u64,
    k1: u64,
}

impl Keyed {
    /// A hasher builder with fresh random keys.
    pub(crate) fn new() -> Self {
        let random = std::collections::hash_map::RandomState::new();
        Keyed {
            k0: random.hash_one(0x243f_6a88_85a3_08d3_u64),
            k1: random.hash_one(0x1319_8a2e_0370_7344_u64) | 1,
        }
    }
}

impl BuildHasher for Keyed {
    type Hasher = KeyedHasher;
    fn build_hasher(&self) -> KeyedHasher {
        KeyedHasher {
            state: self.k0,
            k1: self.k1,
        }
    }
}

/// The hasher of [`Keyed`].
#[derive(Debug)]
pub(crate) struct KeyedHasher {
    state: u64,
    k1: u64,
}

/// The high and low halves of the 128-bit product, folded together.
fn fold(a: u64, b: u64) -> u64 {
    let p = u128::from(a) * u128::from(b);
    (p as u64) ^ ((p >> 64) as u64)
}

/// The little-endian `u64` of the first 8 bytes of `bytes` (zero-padded when shorter). A shorter
/// slice is read with two overlapping loads (or three single bytes), not copied into a buffer: a
/// load of eight bytes right after a narrower copy into them waits for the copy (store
/// forwarding fails), about as long as hashing a short name.
fn word(bytes: &[u8]) -> u64 {
    if let Some(w) = bytes.first_chunk::<8>() {
        return u64::from_le_bytes(*w);
    }
    let n = bytes.len();
    match (bytes.first_chunk::<4>(), bytes.last_chunk::<4>()) {
        // 4 to 7 bytes: the first four and the last four, which overlap in equal bytes.
        (Some(first), Some(last)) => {
            u64::from(u32::from_le_bytes(*first))
                | u64::from(u32::from_le_bytes(*last)) << (8 * (n - 4))
        }
        // 1 to 3 bytes: the first, the middle and the last byte (some the same byte).
        _ if n > 0 => {
            u64::from(bytes[0])
                | u64::from(bytes[n / 2]) << (8 * (n / 2))
                | u64::from(bytes[n - 1]) << (8 * (n - 1))
        }
        _ => 0,
    }
}

impl Hasher for KeyedHasher {
    fn finish(&self) -> u64 {
        fold(self.state, self.k1 ^ 0x9e37_79b9_7f4a_7c15)
    }
    fn write(&mut self, bytes: &[u8]) {
        let k1 = self.k1;
        let len = bytes.len();
        let mut s = self.state ^ len as u64;
        // The last block is read as two words that may overlap the previous block (the length,
        // folded in above, tells the cases apart); names of up to 16 bytes are a single multiply.
        let (a, b) = match len {
            0..=8 => (word(bytes), 0),
            9..=16 => (word(bytes), word(&bytes[len - 8..])),
            _ => {
                let mut rest = bytes;
                while rest.len() > 16 {
                    s = fold(s ^ word(rest), k1 ^ word(&rest[8..]));
                    rest = &rest[16..];
                }
                (word(&bytes[len - 16..]), word(&bytes[len - 8..]))
            }
        };
        self.state = fold(s ^ a, k1 ^ b ^ 0x2545_f491_4f6c_dd1d);
    }
    fn write_u8(&mut self, i: u8) {
        // `str` hashes end with a 0xff byte: fold it in cheaply.
        self.state = self.state.rotate_left(8) ^ u64::from(i);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn word_reads_up_to_eight_bytes_zero_padded() {
        let bytes: Vec<u8> = (1..=12).collect();
        for n in 0..=12 {
            let mut padded = [0u8; 8];
            let k = n.min(8);
            padded[..k].copy_from_slice(&bytes[..k]);
            assert_eq!(word(&bytes[..n]), u64::from_le_bytes(padded), "{n}");
        }
    }

    #[test]
    fn keyed_hash_separates_names_and_keys() {
        let a = Keyed::new();
        let b = Keyed::new();
        let names = [
            "example.com",
            "example.co",
            "example.com.",
            "",
            "a",
            "_spf.google.com",
        ];
        let mut seen = std::collections::HashSet::new();
        for n in names {
            assert_eq!(a.hash_one(n), a.hash_one(n), "deterministic per key");
            assert!(seen.insert(a.hash_one(n)), "{n:?} collides");
        }
        // Different maps get different keys (a 2^-64 chance of a false failure).
        assert_ne!(a.hash_one("example.com"), b.hash_one("example.com"));
        // Lengths that are not multiples of 16 and that are: tails matter.
        let long = "x".repeat(32);
        assert_ne!(a.hash_one(&long[..31]), a.hash_one(&long[..32]));
        assert_ne!(
            a.hash_one("abcdefghijklmnop\0"),
            a.hash_one("abcdefghijklmnop")
        );
    }

    #[test]
    fn fixed_hash_is_the_same_for_every_map() {
        use std::hash::BuildHasherDefault;
        let a = BuildHasherDefault::<Fx>::default();
        let b = BuildHasherDefault::<Fx>::default();
        let mut seen = std::collections::HashSet::new();
        for n in [
            "example.com",
            "example.co",
            "example.com.",
            "",
            "a",
            "_spf.google.com",
        ] {
            assert_eq!(a.hash_one(n), b.hash_one(n), "{n:?}");
            assert!(seen.insert(a.hash_one(n)), "{n:?} collides");
        }
    }
}
