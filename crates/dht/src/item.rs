//! A signed mutable item as it is kept on disk for republishing, and the check that it is
//! still the item its key signed.

use ed25519_dalek::{Signature, Verifier, VerifyingKey};
use mainline::MutableItem;
use serde::{Deserialize, Serialize};

/// An item's fields, hex-encoded: what a node keeps so it can put the item again unchanged
/// when the signer is away.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedItem {
    /// The signer's Ed25519 public key.
    #[serde(with = "hex::serde")]
    pub k: [u8; 32],
    /// The salt naming the item among the key's items (may be empty).
    #[serde(with = "hex::serde", default)]
    pub salt: Vec<u8>,
    /// The item's sequence number; a newer item has a higher one.
    pub seq: i64,
    /// The value (a bencoded byte string's contents).
    #[serde(with = "hex::serde")]
    pub v: Vec<u8>,
    /// The Ed25519 signature over salt, seq and value.
    #[serde(with = "hex::serde")]
    pub sig: Vec<u8>,
}

/// Why a kept item does not verify.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ItemError {
    /// The key is not an Ed25519 public key.
    #[error("the item's key is not an Ed25519 public key")]
    Key,
    /// The signature does not verify.
    #[error("the item's signature is malformed or does not match its key, salt, seq and value")]
    Signature,
}

/// The bytes BEP-44 signs: the bencoded salt (when there is one), seq and value, without the
/// outer dictionary.
pub fn signable(salt: &[u8], seq: i64, value: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(value.len() + salt.len() + 40);
    if !salt.is_empty() {
        out.extend_from_slice(format!("4:salt{}:", salt.len()).as_bytes());
        out.extend_from_slice(salt);
    }
    out.extend_from_slice(format!("3:seqi{seq}e1:v{}:", value.len()).as_bytes());
    out.extend_from_slice(value);
    out
}

impl SignedItem {
    /// The fields of `item`.
    pub fn of(item: &MutableItem) -> SignedItem {
        SignedItem {
            k: *item.key(),
            salt: item.salt().unwrap_or_default().to_vec(),
            seq: item.seq(),
            v: item.value().to_vec(),
            sig: item.signature().to_vec(),
        }
    }

    /// The item, once its signature is checked: a file edited on disk is not put again.
    pub fn verified(&self) -> Result<MutableItem, ItemError> {
        let key = VerifyingKey::from_bytes(&self.k).map_err(|_| ItemError::Key)?;
        let sig: [u8; 64] = self
            .sig
            .as_slice()
            .try_into()
            .map_err(|_| ItemError::Signature)?;
        key.verify(
            &signable(&self.salt, self.seq, &self.v),
            &Signature::from_bytes(&sig),
        )
        .map_err(|_| ItemError::Signature)?;
        Ok(MutableItem::new_signed_unchecked(
            self.k,
            sig,
            &self.v,
            self.seq,
            (!self.salt.is_empty()).then_some(self.salt.as_slice()),
        ))
    }

    /// Hex DHT target: SHA-1 of the key and salt.
    pub fn target(&self) -> String {
        let salt = (!self.salt.is_empty()).then_some(self.salt.as_slice());
        hex::encode(MutableItem::target_from_key(&self.k, salt).as_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ed25519_dalek::SigningKey;

    #[test]
    fn a_kept_item_verifies_and_an_edited_one_does_not() {
        let key = SigningKey::from_bytes(&[7u8; 32]);
        for salt in [&b""[..], b"feed"] {
            let item = MutableItem::new(
                key.clone(),
                b"value",
                42,
                (!salt.is_empty()).then_some(salt),
            );
            let kept = SignedItem::of(&item);
            let json = serde_json::to_string(&kept).unwrap();
            let back: SignedItem = serde_json::from_str(&json).unwrap();
            let again = back.verified().unwrap();
            assert_eq!(again, item);
            assert_eq!(back.target(), hex::encode(item.target().as_bytes()));

            let mut edited = back.clone();
            edited.seq += 1;
            assert_eq!(edited.verified(), Err(ItemError::Signature));
            let mut edited = back.clone();
            edited.v = b"other".to_vec();
            assert_eq!(edited.verified(), Err(ItemError::Signature));
            let mut edited = back;
            edited.sig.pop();
            assert_eq!(edited.verified(), Err(ItemError::Signature));
        }
    }
}
