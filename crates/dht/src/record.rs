//! What Seedstr stores in BEP-44 mutable items, and the limits every put is checked against.
//!
//! `mainline` writes a value as one bencoded byte string, so a record is a bencoded dictionary
//! carried inside that string (BEP-46 puts the dictionary itself in `v`; the library cannot).
//! Layouts are in docs/dht.md.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Most raw bytes of value a node stores (BEP-44: the bencoded `v` is at most 1000 bytes, and
/// `996:` takes four of them).
pub const MAX_VALUE: usize = 996;
/// Most bytes of salt (BEP-44).
pub const MAX_SALT: usize = 64;
/// The salt of an identity's feed when none is named.
pub const DEFAULT_FEED_SALT: &str = "feed";

/// Why a record was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum RecordError {
    /// The value is over what nodes store.
    #[error("the value is {size} bytes; a DHT item holds at most {MAX_VALUE}")]
    ValueTooLarge {
        /// Its size in bytes.
        size: usize,
    },
    /// The salt is over what BEP-44 allows.
    #[error("the salt is {size} bytes; BEP-44 allows at most {MAX_SALT}")]
    SaltTooLarge {
        /// Its size in bytes.
        size: usize,
    },
    /// The value does not read as the record it should be.
    #[error("the value is not a Seedstr {what}: {why}")]
    Malformed {
        /// Which record.
        what: &'static str,
        /// Why.
        why: String,
    },
}

/// Checks sizes before anything goes on the wire: an oversized item is refused by nodes, which
/// the library reports only as a timeout.
pub fn check_sizes(value: &[u8], salt: &[u8]) -> Result<(), RecordError> {
    if value.len() > MAX_VALUE {
        return Err(RecordError::ValueTooLarge { size: value.len() });
    }
    if salt.len() > MAX_SALT {
        return Err(RecordError::SaltTooLarge { size: salt.len() });
    }
    Ok(())
}

/// Where an identity's newest feed index is: a mutable item under the transport key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeedPointer {
    /// Info hash of the feed-index torrent.
    #[serde(with = "serde_bytes")]
    pub ih: Vec<u8>,
    /// Unix seconds of the update.
    pub ts: i64,
    /// Web seeds for the feed index (BEP-19 URLs).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ws: Vec<String>,
}

/// The newest release of a package or project: a mutable item under the publisher's transport
/// key, salted by [`name_salt`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NameRecord {
    /// The name, so a reader can tell the record is the one it asked for.
    pub n: String,
    /// Version of the newest release.
    pub v: String,
    /// Id of the release event (30079).
    #[serde(with = "serde_bytes")]
    pub e: Vec<u8>,
    /// Info hash of the release's torrent.
    #[serde(with = "serde_bytes")]
    pub ih: Vec<u8>,
    /// Unix seconds of the update.
    pub ts: i64,
}

/// The salt of a name's record: `libreseed:<scope>/<name>` and `<ns>.<slug>` names can be longer
/// than a salt may be, so the salt is a labelled hash of the name.
pub fn name_salt(name: &str) -> Vec<u8> {
    let mut h = Sha256::new();
    h.update(b"seedstr/name/v1");
    h.update([0u8]);
    h.update(name.as_bytes());
    h.finalize().to_vec()
}

impl FeedPointer {
    /// The pointer as a DHT value.
    pub fn encode(&self) -> Result<Vec<u8>, RecordError> {
        encode(self)
    }

    /// Reads a pointer from a DHT value.
    pub fn decode(value: &[u8]) -> Result<FeedPointer, RecordError> {
        let p: FeedPointer = decode(value, "feed pointer")?;
        if p.ih.len() != 20 {
            return Err(RecordError::Malformed {
                what: "feed pointer",
                why: format!("ih is {} bytes, not 20", p.ih.len()),
            });
        }
        Ok(p)
    }
}

impl NameRecord {
    /// The record as a DHT value.
    pub fn encode(&self) -> Result<Vec<u8>, RecordError> {
        encode(self)
    }

    /// Reads a record from a DHT value.
    pub fn decode(value: &[u8]) -> Result<NameRecord, RecordError> {
        let r: NameRecord = decode(value, "name record")?;
        let why = if r.ih.len() != 20 {
            format!("ih is {} bytes, not 20", r.ih.len())
        } else if r.e.len() != 32 {
            format!("e is {} bytes, not 32", r.e.len())
        } else {
            return Ok(r);
        };
        Err(RecordError::Malformed {
            what: "name record",
            why,
        })
    }
}

fn encode<T: Serialize>(record: &T) -> Result<Vec<u8>, RecordError> {
    let bytes = serde_bencode::to_bytes(record).expect("records always encode");
    check_sizes(&bytes, b"")?;
    Ok(bytes)
}

fn decode<'a, T: Deserialize<'a>>(value: &'a [u8], what: &'static str) -> Result<T, RecordError> {
    serde_bencode::from_bytes(value).map_err(|e| RecordError::Malformed {
        what,
        why: e.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_feed_pointer_round_trips_as_a_bencoded_dictionary() {
        let p = FeedPointer {
            ih: vec![7; 20],
            ts: 1_700_000_000,
            ws: vec!["https://example.org/feed".into()],
        };
        let bytes = p.encode().unwrap();
        assert!(bytes.starts_with(b"d2:ih20:"), "{bytes:?}");
        assert_eq!(FeedPointer::decode(&bytes).unwrap(), p);
        let no_ws = FeedPointer { ws: vec![], ..p };
        let bytes = no_ws.encode().unwrap();
        assert!(!bytes.windows(4).any(|w| w == b"2:ws"));
        assert_eq!(FeedPointer::decode(&bytes).unwrap(), no_ws);
    }

    #[test]
    fn malformed_and_oversized_records_are_named() {
        assert!(matches!(
            FeedPointer::decode(b"d2:ih3:abc2:tsi1ee"),
            Err(RecordError::Malformed { why, .. }) if why.contains("3 bytes")
        ));
        assert!(matches!(
            NameRecord::decode(b"not bencode"),
            Err(RecordError::Malformed {
                what: "name record",
                ..
            })
        ));
        let many = FeedPointer {
            ih: vec![0; 20],
            ts: 0,
            ws: vec!["https://example.org/".repeat(60)],
        };
        let err = many.encode().unwrap_err();
        assert!(err.to_string().contains("at most 996"), "{err}");
        assert_eq!(
            check_sizes(&[0; 997], b""),
            Err(RecordError::ValueTooLarge { size: 997 })
        );
        assert_eq!(check_sizes(&[0; 996], &[0; 64]), Ok(()));
        let err = check_sizes(b"", &[0; 65]).unwrap_err();
        assert!(err.to_string().contains("at most 64"), "{err}");
    }

    #[test]
    fn name_salts_fit_and_differ() {
        let long = format!("libreseed:@scope/{}", "x".repeat(200));
        assert_eq!(name_salt(&long).len(), 32);
        assert_ne!(name_salt("generic.tool"), name_salt("generic.tool2"));
        assert!(check_sizes(b"", &name_salt(&long)).is_ok());
    }
}
