//! Byte layouts of the LMDB index keys.
//!
//! Every index key ends in `created_at` (8 bytes, big-endian) and the event's serial number
//! (8 bytes, big-endian), so a reverse range scan within a prefix walks events newest first and
//! `since`/`until` become the scan's bounds.

use sha2::{Digest, Sha256};

/// Bytes every index key ends with: `created_at` and a serial, both big-endian.
pub const SUFFIX: usize = 16;

/// Tag values up to this length are stored as is; longer ones are hashed.
const MAX_INLINE_TAG: usize = 200;
const HASHED_MARK: u8 = 0xff;

/// Encodes a tag value (or `d` identifier) so that no encoded value is a prefix of another.
pub fn value_key(out: &mut Vec<u8>, value: &str) {
    let bytes = value.as_bytes();
    if bytes.len() <= MAX_INLINE_TAG {
        out.push(bytes.len() as u8);
        out.extend_from_slice(bytes);
    } else {
        out.push(HASHED_MARK);
        out.extend_from_slice(&Sha256::digest(bytes));
    }
}

/// `prefix` with the suffix that orders keys by `created_at`, then by arrival.
pub fn with_suffix(mut prefix: Vec<u8>, created_at: u64, serial: u64) -> Vec<u8> {
    prefix.extend_from_slice(&created_at.to_be_bytes());
    prefix.extend_from_slice(&serial.to_be_bytes());
    prefix
}

/// `(created_at, serial)` from the end of an index key.
pub fn split_suffix(key: &[u8]) -> (u64, u64) {
    let n = key.len();
    let at = u64::from_be_bytes(key[n - 16..n - 8].try_into().expect("8 bytes"));
    let serial = u64::from_be_bytes(key[n - 8..].try_into().expect("8 bytes"));
    (at, serial)
}

/// The index prefix of one kind's events.
pub fn kind(kind: u16) -> Vec<u8> {
    kind.to_be_bytes().to_vec()
}

/// The index prefix of one author's events of one kind.
pub fn author_kind(pubkey: &[u8; 32], kind: u16) -> Vec<u8> {
    let mut k = pubkey.to_vec();
    k.extend_from_slice(&kind.to_be_bytes());
    k
}

/// The index prefix of events carrying the single-letter tag `letter` with `value`.
pub fn tag(letter: u8, value: &str) -> Vec<u8> {
    let mut k = vec![letter];
    value_key(&mut k, value);
    k
}

/// Address of a replaceable (`d` empty) or addressable event.
pub fn address(kind: u16, pubkey: &[u8; 32], d: &str) -> Vec<u8> {
    let mut k = kind.to_be_bytes().to_vec();
    k.extend_from_slice(pubkey);
    value_key(&mut k, d);
    k
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_never_prefix_each_other() {
        let a = tag(b'e', "ab");
        let b = tag(b'e', "abc");
        assert!(!b.starts_with(&a));
        let long = "x".repeat(500);
        assert_eq!(tag(b't', &long).len(), 1 + 1 + 32);
    }

    #[test]
    fn suffix_round_trips_and_orders_by_time() {
        let k1 = with_suffix(kind(1), 5, 9);
        let k2 = with_suffix(kind(1), 6, 1);
        assert!(k1 < k2);
        assert_eq!(split_suffix(&k1), (5, 9));
    }
}
