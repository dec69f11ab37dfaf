//! NIP-44 v2 encryption, as private messages, seals, gift wraps and encrypted lists use it.
//!
//! The cipher is nostr's implementation (checked here against the official vectors); this module
//! adds what a reader of outside events needs around it: a cap on what it will decrypt, checked
//! on the payload's length before anything is decoded (NIP-44 allows up to 4 GiB of plaintext),
//! and one error type that names what failed.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use nostr::nips::nip44::v2::{self, ConversationKey};
use nostr::prelude::{PublicKey, SecretKey};

/// The longest plaintext Seedstr encrypts or decrypts: 1 MiB. A private message, the seal around
/// it and the wrap around that stay far below; larger things travel as files.
pub const MAX_PLAINTEXT_BYTES: usize = 1 << 20;

/// The longest base64 payload that can hold [`MAX_PLAINTEXT_BYTES`]: version, nonce, the 6-byte
/// length prefix of long messages, the padded plaintext (1 MiB pads to itself) and the MAC.
pub const MAX_PAYLOAD_CHARS: usize = (1 + 32 + 6 + MAX_PLAINTEXT_BYTES + 32).div_ceil(3) * 4;

/// Why a payload could not be made or read.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum EncryptionError {
    /// An empty plaintext: NIP-44 has no encoding for it.
    #[error("an empty message cannot be encrypted (NIP-44 needs at least one byte)")]
    Empty,
    /// Over the cap.
    #[error("{what} of {len} bytes is over the {max}-byte cap for private messages")]
    TooLarge {
        /// "a message" or "an encrypted payload".
        what: &'static str,
        /// Its length.
        len: usize,
        /// The cap.
        max: usize,
    },
    /// The payload is not base64.
    #[error("the encrypted payload is not base64: {0}")]
    NotBase64(String),
    /// A key cannot be used (not a point on the curve, say).
    #[error("no shared key with {0}: {1}")]
    Key(String, String),
    /// The cipher refused it: wrong key, altered bytes, bad padding or an unknown version.
    #[error("the encrypted payload does not open: {0}")]
    Refused(String),
    /// It opened, but is not UTF-8 text.
    #[error("the decrypted message is not UTF-8 text")]
    NotText,
}

/// The NIP-44 conversation between two keys: the same from either side.
#[derive(Clone)]
pub struct Conversation {
    key: ConversationKey,
}

impl std::fmt::Debug for Conversation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Conversation(..)")
    }
}

impl Conversation {
    /// The conversation of `ours` with `theirs`.
    pub fn between(ours: &SecretKey, theirs: &PublicKey) -> Result<Conversation, EncryptionError> {
        let key = ConversationKey::derive(ours, theirs)
            .map_err(|e| EncryptionError::Key(theirs.to_hex(), e.to_string()))?;
        Ok(Conversation { key })
    }

    /// Encrypts `plaintext` with a fresh random nonce; base64, as events carry it.
    pub fn encrypt(&self, plaintext: &str) -> Result<String, EncryptionError> {
        self.encrypt_with_nonce(plaintext.as_bytes(), rand::random())
    }

    fn encrypt_with_nonce(
        &self,
        plaintext: &[u8],
        nonce: [u8; 32],
    ) -> Result<String, EncryptionError> {
        if plaintext.is_empty() {
            return Err(EncryptionError::Empty);
        }
        if plaintext.len() > MAX_PLAINTEXT_BYTES {
            return Err(EncryptionError::TooLarge {
                what: "a message",
                len: plaintext.len(),
                max: MAX_PLAINTEXT_BYTES,
            });
        }
        let payload = v2::encrypt_to_bytes_with_nonce(&self.key, plaintext, nonce)
            .map_err(|e| EncryptionError::Refused(e.to_string()))?;
        Ok(STANDARD.encode(payload))
    }

    /// Decrypts a base64 payload from outside; refused past the cap before it is decoded.
    pub fn decrypt(&self, payload: &str) -> Result<String, EncryptionError> {
        let bytes = self.decrypt_to_bytes(payload)?;
        String::from_utf8(bytes).map_err(|_| EncryptionError::NotText)
    }

    fn decrypt_to_bytes(&self, payload: &str) -> Result<Vec<u8>, EncryptionError> {
        if payload.len() > MAX_PAYLOAD_CHARS {
            return Err(EncryptionError::TooLarge {
                what: "an encrypted payload",
                len: payload.len(),
                max: MAX_PAYLOAD_CHARS,
            });
        }
        // NIP-44: a payload starting with '#' is a future, unsupported version.
        if payload.starts_with('#') {
            return Err(EncryptionError::Refused("unknown version".into()));
        }
        let bytes = STANDARD
            .decode(payload)
            .map_err(|e| EncryptionError::NotBase64(e.to_string()))?;
        // nostr's v2 reader takes the version byte on trust (its top-level `decrypt` checks it).
        match bytes.first() {
            Some(2) => {}
            Some(v) => return Err(EncryptionError::Refused(format!("unknown version {v}"))),
            None => return Err(EncryptionError::Refused("empty payload".into())),
        }
        v2::decrypt_to_bytes(&self.key, &bytes).map_err(|e| EncryptionError::Refused(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use nostr::prelude::Keys;
    use proptest::prelude::*;
    use serde_json::Value;
    use sha2::{Digest, Sha256};

    /// The official vectors, checked against the sha256 NIP-44 prints (tests/vectors/README.md).
    fn vectors() -> Value {
        let bytes = include_bytes!("../tests/vectors/nip44.vectors.json");
        assert_eq!(
            hex::encode(Sha256::digest(bytes)),
            "269ed0f69e4c192512cc779e78c555090cebc7c785b609e338a62afc3ce25040",
            "nip44.vectors.json is not the published file"
        );
        serde_json::from_slice(bytes).unwrap()
    }

    fn text<'v>(v: &'v Value, key: &str) -> &'v str {
        v[key].as_str().unwrap()
    }

    fn secret(hex_key: &str) -> SecretKey {
        SecretKey::from_hex(hex_key).unwrap()
    }

    fn with_key(hex_key: &str) -> Conversation {
        Conversation {
            key: ConversationKey::from_slice(&hex::decode(hex_key).unwrap()).unwrap(),
        }
    }

    fn nonce(hex_nonce: &str) -> [u8; 32] {
        hex::decode(hex_nonce).unwrap().try_into().unwrap()
    }

    #[test]
    fn conversation_keys_match_the_vectors() {
        let v = vectors();
        let cases = v["v2"]["valid"]["get_conversation_key"].as_array().unwrap();
        assert_eq!(cases.len(), 35);
        for c in cases {
            let theirs = PublicKey::from_hex(text(c, "pub2")).unwrap();
            let conv = Conversation::between(&secret(text(c, "sec1")), &theirs).unwrap();
            assert_eq!(
                hex::encode(conv.key.as_bytes()),
                text(c, "conversation_key")
            );
        }
    }

    #[test]
    fn invalid_keys_give_no_conversation() {
        let v = vectors();
        for c in v["v2"]["invalid"]["get_conversation_key"]
            .as_array()
            .unwrap()
        {
            // Either key may be the invalid one; neither may yield a conversation.
            let refused = match (
                SecretKey::from_hex(text(c, "sec1")),
                PublicKey::from_hex(text(c, "pub2")),
            ) {
                (Ok(s), Ok(p)) => Conversation::between(&s, &p).is_err(),
                _ => true,
            };
            assert!(refused, "{}", text(c, "note"));
        }
    }

    #[test]
    fn encryption_with_the_vectors_nonces_gives_their_payloads_and_both_sides_open_them() {
        let v = vectors();
        let cases = v["v2"]["valid"]["encrypt_decrypt"].as_array().unwrap();
        assert_eq!(cases.len(), 10);
        for c in cases {
            let (sec1, sec2) = (secret(text(c, "sec1")), secret(text(c, "sec2")));
            let one = Conversation::between(&sec1, &Keys::new(sec2.clone()).public_key()).unwrap();
            let two = Conversation::between(&sec2, &Keys::new(sec1).public_key()).unwrap();
            assert_eq!(hex::encode(one.key.as_bytes()), text(c, "conversation_key"));
            let plaintext = text(c, "plaintext");
            let payload = one
                .encrypt_with_nonce(plaintext.as_bytes(), nonce(text(c, "nonce")))
                .unwrap();
            assert_eq!(payload, text(c, "payload"));
            assert_eq!(two.decrypt(&payload).unwrap(), plaintext);
        }
    }

    #[test]
    fn long_messages_match_the_vectors_digests() {
        let v = vectors();
        for c in v["v2"]["valid"]["encrypt_decrypt_long_msg"]
            .as_array()
            .unwrap()
        {
            let conv = with_key(text(c, "conversation_key"));
            let plaintext = text(c, "pattern").repeat(c["repeat"].as_u64().unwrap() as usize);
            assert_eq!(
                hex::encode(Sha256::digest(plaintext.as_bytes())),
                text(c, "plaintext_sha256")
            );
            let payload = conv
                .encrypt_with_nonce(plaintext.as_bytes(), nonce(text(c, "nonce")))
                .unwrap();
            assert_eq!(
                hex::encode(Sha256::digest(payload.as_bytes())),
                text(c, "payload_sha256")
            );
            assert_eq!(conv.decrypt(&payload).unwrap(), plaintext);
        }
    }

    #[test]
    fn padded_lengths_match_the_vectors() {
        let v = vectors();
        let conv = with_key(&"11".repeat(32));
        for pair in v["v2"]["valid"]["calc_padded_len"].as_array().unwrap() {
            let (len, padded) = (
                pair[0].as_u64().unwrap() as usize,
                pair[1].as_u64().unwrap() as usize,
            );
            if len > MAX_PLAINTEXT_BYTES {
                continue;
            }
            let payload = STANDARD
                .decode(conv.encrypt_with_nonce(&vec![b'a'; len], [0; 32]).unwrap())
                .unwrap();
            // version, nonce, length prefix (2 bytes, 6 past 65,535), padded text, MAC
            let prefix = if len <= 65_535 { 2 } else { 6 };
            assert_eq!(payload.len() - 1 - 32 - prefix - 32, padded, "length {len}");
        }
    }

    #[test]
    fn message_lengths_are_refused_as_the_amended_spec_and_our_cap_say() {
        let v = vectors();
        let conv = with_key(&"22".repeat(32));
        let lengths: Vec<usize> = v["v2"]["invalid"]["encrypt_msg_lengths"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n.as_u64().unwrap() as usize)
            .collect();
        assert_eq!(lengths, [0, 65_536, 100_000, 10_000_000]);
        assert_eq!(conv.encrypt(""), Err(EncryptionError::Empty));
        for len in [65_536, 100_000] {
            let long = "b".repeat(len);
            assert_eq!(conv.decrypt(&conv.encrypt(&long).unwrap()).unwrap(), long);
        }
        let err = conv.encrypt(&"c".repeat(10_000_000)).unwrap_err();
        assert!(
            matches!(
                err,
                EncryptionError::TooLarge {
                    max: MAX_PLAINTEXT_BYTES,
                    ..
                }
            ),
            "{err}"
        );
        // The largest message passes both ways; a payload one character over the cap is refused
        // before it is decoded.
        let largest = "d".repeat(MAX_PLAINTEXT_BYTES);
        let payload = conv.encrypt(&largest).unwrap();
        assert!(payload.len() <= MAX_PAYLOAD_CHARS);
        assert_eq!(conv.decrypt(&payload).unwrap(), largest);
        let over = "A".repeat(MAX_PAYLOAD_CHARS + 1);
        assert!(matches!(
            conv.decrypt(&over),
            Err(EncryptionError::TooLarge { .. })
        ));
    }

    #[test]
    fn invalid_payloads_do_not_open() {
        let v = vectors();
        let cases = v["v2"]["invalid"]["decrypt"].as_array().unwrap();
        assert_eq!(cases.len(), 12);
        for c in cases {
            let conv = with_key(text(c, "conversation_key"));
            assert!(
                conv.decrypt(text(c, "payload")).is_err(),
                "{}",
                text(c, "note")
            );
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig {
            rng_seed: proptest::test_runner::RngSeed::Fixed(0x5eed),
            failure_persistence: None,
            cases: 64,
            ..ProptestConfig::default()
        })]

        /// What one side encrypts, the other opens, whatever the text.
        #[test]
        fn what_is_encrypted_opens_on_the_other_side(message in "\\PC{1,300}") {
            let (a, b) = (Keys::generate(), Keys::generate());
            let ab = Conversation::between(a.secret_key(), &b.public_key()).unwrap();
            let ba = Conversation::between(b.secret_key(), &a.public_key()).unwrap();
            prop_assert_eq!(ba.decrypt(&ab.encrypt(&message).unwrap()).unwrap(), message);
        }

        /// Arbitrary text from outside never opens and never panics.
        #[test]
        fn arbitrary_payloads_are_refused(payload in "[A-Za-z0-9+/=#]{0,400}") {
            let conv = with_key(&"33".repeat(32));
            prop_assert!(conv.decrypt(&payload).is_err());
        }
    }
}
