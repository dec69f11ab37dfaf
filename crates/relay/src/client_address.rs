//! Who a connection counts as for per-address limits. An IPv6 user is usually given a whole
//! /64 and can change addresses within it at will, so every address of a /64 counts as one;
//! IPv4-mapped IPv6 addresses count as their IPv4 address.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv6Addr};
use std::sync::{Arc, Mutex};

/// The address limits are kept under: the IPv4 address, or the IPv6 /64 (low 64 bits zero).
pub fn limit_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let prefix = u128::from(v6) & !((1u128 << 64) - 1);
                IpAddr::V6(Ipv6Addr::from(prefix))
            }
        },
    }
}

/// Open connections per address key.
#[derive(Default, Clone)]
pub struct ConnectionCounts {
    open: Arc<Mutex<HashMap<IpAddr, usize>>>,
}

/// One counted connection; dropping it uncounts it.
pub struct CountedConnection {
    counts: ConnectionCounts,
    key: IpAddr,
}

impl ConnectionCounts {
    /// Counts a connection from `ip` unless its key already has `max` open (`max == 0`: no
    /// limit).
    pub fn admit(&self, ip: IpAddr, max: usize) -> Option<CountedConnection> {
        let key = limit_key(ip);
        let mut open = self.open.lock().expect("connection counts");
        let n = open.entry(key).or_insert(0);
        if max != 0 && *n >= max {
            return None;
        }
        *n += 1;
        Some(CountedConnection {
            counts: self.clone(),
            key,
        })
    }

    /// Connections open from `ip`'s key.
    pub fn open_from(&self, ip: IpAddr) -> usize {
        let open = self.open.lock().expect("connection counts");
        open.get(&limit_key(ip)).copied().unwrap_or(0)
    }
}

impl Drop for CountedConnection {
    fn drop(&mut self) {
        let mut open = self.counts.open.lock().expect("connection counts");
        if let Some(n) = open.get_mut(&self.key) {
            *n -= 1;
            if *n == 0 {
                open.remove(&self.key);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn a_slash_64_counts_as_one_address() {
        let counts = ConnectionCounts::default();
        let a: IpAddr = "2001:db8:1:2::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:ffff:ffff:ffff:ffff".parse().unwrap();
        let other: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        let first = counts.admit(a, 2).unwrap();
        let _second = counts.admit(b, 2).unwrap();
        assert!(counts.admit(a, 2).is_none(), "a third from the same /64");
        assert!(
            counts.admit(other, 2).is_some(),
            "the next /64 is someone else"
        );
        drop(first);
        assert!(
            counts.admit(b, 2).is_some(),
            "a closed connection frees its place"
        );
        let mapped: IpAddr = "::ffff:192.0.2.7".parse().unwrap();
        assert_eq!(limit_key(mapped), "192.0.2.7".parse::<IpAddr>().unwrap());
    }

    proptest! {
        #![proptest_config(ProptestConfig {
            rng_seed: proptest::test_runner::RngSeed::Fixed(0x5eed),
            failure_persistence: None,
            ..ProptestConfig::default()
        })]

        /// Every address in a /64 has the same key, and the key is an address of that /64.
        #[test]
        fn keys_depend_only_on_the_slash_64(hi in any::<u64>(), lo1 in any::<u64>(), lo2 in any::<u64>()) {
            // IPv4-mapped addresses (in ::ffff:0:0/96) count as their IPv4 address instead.
            prop_assume!(hi != 0);
            let a = IpAddr::V6(Ipv6Addr::from(((hi as u128) << 64) | lo1 as u128));
            let b = IpAddr::V6(Ipv6Addr::from(((hi as u128) << 64) | lo2 as u128));
            prop_assert_eq!(limit_key(a), limit_key(b));
            prop_assert_eq!(limit_key(limit_key(a)), limit_key(a));
        }
    }
}
