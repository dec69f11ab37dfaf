//! STREAM's cryptography (RFC 29): keys derived from the connection's shared secret with
//! HMAC-SHA256, packets sealed with AES-256-GCM and laid out IV (12) ‖ tag (16) ‖ ciphertext
//! (RustCrypto writes ciphertext ‖ tag, so the tag is moved), and each Prepare's fulfillment an
//! HMAC of its data, so only the receiver, who holds the secret, can fulfill.

use aes_gcm::aead::{Aead, KeyInit};
use aes_gcm::{Aes256Gcm, Nonce};
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

/// The most ciphertext a STREAM packet carries (RFC 29's envelope).
pub const MAX_CIPHERTEXT_BYTES: usize = 32_739;

const IV: usize = 12;
const TAG: usize = 16;

/// Why a packet does not open.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CryptoError {
    /// Shorter than an IV and a tag.
    #[error("a STREAM packet of {0} bytes is shorter than its IV and tag")]
    Short(usize),
    /// Longer than the envelope allows.
    #[error("a STREAM packet of {0} bytes is longer than the envelope allows")]
    Long(usize),
    /// The tag does not verify: another secret, or bytes changed.
    #[error("the STREAM packet does not decrypt with this connection's secret")]
    Tag,
}

/// HMAC-SHA256 of `message` under `key`.
pub fn hmac_sha256(key: &[u8], message: &[u8]) -> [u8; 32] {
    let mut mac =
        <Hmac<Sha256> as hmac::KeyInit>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(message);
    mac.finalize().into_bytes().into()
}

/// The AES key of a connection: HMAC(secret, "ilp_stream_encryption").
pub fn encryption_key(shared_secret: &[u8]) -> [u8; 32] {
    hmac_sha256(shared_secret, b"ilp_stream_encryption")
}

/// The fulfillment key of a connection: HMAC(secret, "ilp_stream_fulfillment").
pub fn fulfillment_key(shared_secret: &[u8]) -> [u8; 32] {
    hmac_sha256(shared_secret, b"ilp_stream_fulfillment")
}

/// The fulfillment of a Prepare carrying `data`: HMAC(fulfillment key, data).
pub fn fulfillment(fulfillment_key: &[u8; 32], data: &[u8]) -> [u8; 32] {
    hmac_sha256(fulfillment_key, data)
}

/// The condition of a fulfillment: its SHA-256.
pub fn condition(fulfillment: &[u8; 32]) -> [u8; 32] {
    Sha256::digest(fulfillment).into()
}

/// Seals `plaintext` under `key` with `iv`: IV ‖ tag ‖ ciphertext.
pub fn encrypt_with_iv(key: &[u8; 32], iv: [u8; IV], plaintext: &[u8]) -> Vec<u8> {
    let cipher = Aes256Gcm::new_from_slice(key).expect("a 32-byte key");
    let sealed = cipher
        .encrypt(Nonce::from_slice(&iv), plaintext)
        .expect("AES-GCM seals any length a packet holds");
    let (ciphertext, tag) = sealed.split_at(sealed.len() - TAG);
    let mut out = Vec::with_capacity(IV + TAG + ciphertext.len());
    out.extend_from_slice(&iv);
    out.extend_from_slice(tag);
    out.extend_from_slice(ciphertext);
    out
}

/// Seals `plaintext` under `key` with a random IV.
pub fn encrypt(key: &[u8; 32], plaintext: &[u8]) -> Vec<u8> {
    encrypt_with_iv(key, rand::random(), plaintext)
}

/// Opens IV ‖ tag ‖ ciphertext under `key`.
pub fn decrypt(key: &[u8; 32], sealed: &[u8]) -> Result<Vec<u8>, CryptoError> {
    if sealed.len() < IV + TAG {
        return Err(CryptoError::Short(sealed.len()));
    }
    if sealed.len() > IV + TAG + MAX_CIPHERTEXT_BYTES {
        return Err(CryptoError::Long(sealed.len()));
    }
    let (iv, rest) = sealed.split_at(IV);
    let (tag, ciphertext) = rest.split_at(TAG);
    let mut joined = Vec::with_capacity(ciphertext.len() + TAG);
    joined.extend_from_slice(ciphertext);
    joined.extend_from_slice(tag);
    let cipher = Aes256Gcm::new_from_slice(key).expect("a 32-byte key");
    cipher
        .decrypt(Nonce::from_slice(iv), joined.as_slice())
        .map_err(|_| CryptoError::Tag)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig {
            rng_seed: proptest::test_runner::RngSeed::Fixed(0x5eed),
            failure_persistence: None,
            ..ProptestConfig::default()
        })]

        #[test]
        fn sealed_packets_open_and_changed_ones_do_not(
            key in any::<[u8; 32]>(),
            text in proptest::collection::vec(any::<u8>(), 0..500),
            flip in any::<usize>(),
        ) {
            let sealed = encrypt(&key, &text);
            prop_assert_eq!(decrypt(&key, &sealed).unwrap(), text);
            let mut changed = sealed.clone();
            let i = flip % changed.len();
            changed[i] ^= 1;
            prop_assert_eq!(decrypt(&key, &changed), Err(CryptoError::Tag));
        }

        #[test]
        fn any_bytes_open_or_are_refused(key in any::<[u8; 32]>(), bytes in proptest::collection::vec(any::<u8>(), 0..100)) {
            let _ = decrypt(&key, &bytes);
        }
    }
}
