//! CIDR matching for network lists: for each prefix length present, a hash map from the masked
//! network to its earliest entry, so a lookup costs one probe per distinct prefix length, not one
//! per entry, and still finds the first entry in list order.

use std::collections::HashMap;
use std::net::IpAddr;

/// The index key of an address: IPv6 as is, IPv4 in the top 32 bits, so one mask works for both.
pub(super) fn address_key(ip: IpAddr) -> u128 {
    match ip {
        IpAddr::V4(v4) => u128::from(u32::from(v4)) << 96,
        IpAddr::V6(v6) => u128::from(v6),
    }
}

/// The mask that keeps the top `len` bits of a key.
fn prefix_mask(len: u8) -> u128 {
    u128::MAX.checked_shl(128 - u32::from(len)).unwrap_or(0)
}

/// One address family's entries: for each prefix length present, the masked networks of that
/// length, mapped to the position of the earliest entry with that network.
#[derive(Debug, Clone, Default)]
pub(super) struct PrefixIndex {
    levels: Vec<(u8, HashMap<u128, usize>)>,
}

impl PrefixIndex {
    /// Records the entry at `position`. Entries must be added in list order, so that the first
    /// position stored for a network is its earliest entry.
    pub(super) fn insert(&mut self, len: u8, key: u128, position: usize) {
        let level = match self.levels.iter().position(|(l, _)| *l == len) {
            Some(i) => &mut self.levels[i].1,
            None => {
                self.levels.push((len, HashMap::new()));
                &mut self.levels.last_mut().expect("just pushed").1
            }
        };
        level.entry(key).or_insert(position);
    }

    /// The position of the earliest entry that contains `key`.
    pub(super) fn first_match(&self, key: u128) -> Option<usize> {
        self.levels
            .iter()
            .filter_map(|(len, networks)| networks.get(&(key & prefix_mask(*len))))
            .min()
            .copied()
    }
}
