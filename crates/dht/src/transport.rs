//! Transport keys: the Ed25519 key an identity signs its DHT records with, and the Nostr event
//! that ties it to the identity's Nostr key.
//!
//! BEP-44 items are signed with Ed25519; Nostr signs with Schnorr over secp256k1. The two keys
//! are kept apart (one key in two signature schemes invites cross-protocol attacks). The
//! transport key is derived from the Nostr secret, so it needs no storage of its own and every
//! device holding the Nostr key signs with the same one.
//!
//! Derivation (docs/dht.md): seed = SHA-256("seedstr/transport-key/v1" || 0x00 || nostr secret),
//! the Ed25519 signing key is that seed. The label keeps the seed from equalling any other hash
//! of the same secret; SHA-256 keeps the Nostr secret from being learnt from the transport key.
//!
//! Attestation (kind 10744, replaceable, docs/kinds.md): signed by the Nostr key, it names the
//! transport key and carries the transport key's signature over the Nostr public key, so nobody
//! can claim a transport key that is not theirs.

use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use nostr::prelude::*;
use sha2::{Digest, Sha256};

/// Kind of the transport-key attestation: replaceable, one per identity, the newest wins.
pub const ATTESTATION_KIND: u16 = 10_744;

const DERIVATION_LABEL: &[u8] = b"seedstr/transport-key/v1";
const PROOF_LABEL: &str = "seedstr-transport-key:v1:";

/// The transport key of the identity whose Nostr secret is `secret`.
pub fn derive(secret: &SecretKey) -> SigningKey {
    let mut h = Sha256::new();
    h.update(DERIVATION_LABEL);
    h.update([0u8]);
    h.update(secret.secret_bytes());
    SigningKey::from_bytes(&h.finalize().into())
}

/// What the transport key signs to show it belongs to `author`.
fn proof_message(author: &PublicKey) -> Vec<u8> {
    format!("{PROOF_LABEL}{}", author.to_hex()).into_bytes()
}

/// Signing an attestation failed (the Nostr library refused the event).
#[derive(Debug, thiserror::Error)]
#[error("signing the transport-key attestation: {0}")]
pub struct SignError(String);

/// The attestation event, signed by the Nostr key.
pub fn attestation(keys: &Keys) -> Result<Event, SignError> {
    let transport = derive(keys.secret_key());
    let proof = transport.sign(&proof_message(&keys.public_key()));
    let tags = [
        vec![
            "transport".to_owned(),
            hex::encode(transport.verifying_key().to_bytes()),
            "ed25519".to_owned(),
        ],
        vec!["proof".to_owned(), hex::encode(proof.to_bytes())],
    ]
    .map(|t| Tag::parse(t).expect("a tag with a name"));
    EventBuilder::new(Kind::from(ATTESTATION_KIND), "")
        .tags(tags)
        .finalize(keys)
        .map_err(|e| SignError(e.to_string()))
}

/// Why an attestation was refused. Each names the event (`id`).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum AttestationError {
    /// Not an attestation at all.
    #[error("event {id} is kind {kind}, not a transport-key attestation ({ATTESTATION_KIND})")]
    Kind {
        /// The event.
        id: String,
        /// Its kind.
        kind: u16,
    },
    /// Signed by someone else than the identity it is read for.
    #[error("event {id} is signed by {found}, not by {expected}")]
    Author {
        /// The event.
        id: String,
        /// The identity asked about.
        expected: String,
        /// The signer.
        found: String,
    },
    /// The id or the Nostr signature does not verify.
    #[error("event {id} has a bad id or Nostr signature")]
    Signature {
        /// The event.
        id: String,
    },
    /// It names no transport key.
    #[error("event {id} has no valid [\"transport\", <64 hex>, \"ed25519\"] tag")]
    NoTransportKey {
        /// The event.
        id: String,
    },
    /// It carries no proof by the transport key.
    #[error("event {id} has no valid [\"proof\", <128 hex>] tag")]
    NoProof {
        /// The event.
        id: String,
    },
    /// The proof does not verify: the key was not attested by its holder.
    #[error("event {id}: the transport key's proof does not verify; the key was not attested by its holder")]
    BadProof {
        /// The event.
        id: String,
    },
}

/// Checks an attestation claimed for `author` and returns the transport public key it names.
pub fn verify_attestation(event: &Event, author: &PublicKey) -> Result<[u8; 32], AttestationError> {
    let id = event.id.to_hex();
    if event.kind.as_u16() != ATTESTATION_KIND {
        return Err(AttestationError::Kind {
            id,
            kind: event.kind.as_u16(),
        });
    }
    if event.pubkey != *author {
        return Err(AttestationError::Author {
            id,
            expected: author.to_hex(),
            found: event.pubkey.to_hex(),
        });
    }
    if event.verify().is_err() {
        return Err(AttestationError::Signature { id });
    }
    let tag = |name: &str| {
        event
            .tags
            .iter()
            .map(|t| t.as_slice())
            .find(|t| t.first().map(String::as_str) == Some(name))
    };
    let key: [u8; 32] = tag("transport")
        .filter(|t| t.get(2).map(String::as_str) == Some("ed25519"))
        .and_then(|t| t.get(1))
        .and_then(|h| hex::decode(h).ok())
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| AttestationError::NoTransportKey { id: id.clone() })?;
    let proof: [u8; 64] = tag("proof")
        .and_then(|t| t.get(1))
        .and_then(|h| hex::decode(h).ok())
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| AttestationError::NoProof { id: id.clone() })?;
    let verifying = VerifyingKey::from_bytes(&key)
        .map_err(|_| AttestationError::NoTransportKey { id: id.clone() })?;
    verifying
        .verify_strict(&proof_message(author), &Signature::from_bytes(&proof))
        .map_err(|_| AttestationError::BadProof { id })?;
    Ok(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    // Computed independently: Python `cryptography`, Ed25519 from SHA-256(label || 0 || 0x00..01).
    const PINNED_KEY_OF_SECRET_1: &str =
        "c730f6857f73a9ecc2075b47ac46628fe6a601a5c897b7b6837c7f2fd2b5a385";

    #[test]
    fn derivation_is_stable_and_separates_identities() {
        let keys = Keys::parse("0000000000000000000000000000000000000000000000000000000000000001")
            .unwrap();
        let a = derive(keys.secret_key());
        assert_eq!(a.to_bytes(), derive(keys.secret_key()).to_bytes());
        // Pinned so the derivation can never change under existing records.
        assert_eq!(
            hex::encode(a.verifying_key().to_bytes()),
            PINNED_KEY_OF_SECRET_1
        );
        assert_ne!(
            a.to_bytes(),
            derive(Keys::generate().secret_key()).to_bytes()
        );
    }

    #[test]
    fn an_attestation_verifies_and_forgeries_do_not() {
        let keys = Keys::generate();
        let event = attestation(&keys).unwrap();
        let key = verify_attestation(&event, &keys.public_key()).unwrap();
        assert_eq!(key, derive(keys.secret_key()).verifying_key().to_bytes());

        // Someone else's attestation is not this author's.
        let other = Keys::generate();
        assert!(matches!(
            verify_attestation(&event, &other.public_key()),
            Err(AttestationError::Author { .. })
        ));
        // Claiming another identity's transport key: the proof names the other Nostr key.
        let claim = EventBuilder::new(Kind::from(ATTESTATION_KIND), "")
            .tags(event.tags.iter().cloned())
            .finalize(&other)
            .unwrap();
        assert_eq!(
            verify_attestation(&claim, &other.public_key()),
            Err(AttestationError::BadProof {
                id: claim.id.to_hex()
            })
        );
        // No proof at all.
        let bare = EventBuilder::new(Kind::from(ATTESTATION_KIND), "")
            .tags(event.tags.iter().take(1).cloned())
            .finalize(&keys)
            .unwrap();
        assert!(matches!(
            verify_attestation(&bare, &keys.public_key()),
            Err(AttestationError::NoProof { .. })
        ));
        // A tampered event fails its Nostr signature.
        let mut json: serde_json::Value = serde_json::to_value(&event).unwrap();
        json["content"] = "changed".into();
        let tampered: Event = serde_json::from_value(json).unwrap();
        assert!(matches!(
            verify_attestation(&tampered, &keys.public_key()),
            Err(AttestationError::Signature { .. })
        ));
    }
}
