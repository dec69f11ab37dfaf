//! SPSP (RFC 9): the JSON an SPSP endpoint answers with, `destination_account` (an ILP address)
//! and `shared_secret` (32 bytes, base64), the details of one STREAM connection. Read with
//! limits: a body over [`MAX_BODY_BYTES`] is refused before it is parsed.

use base64::Engine as _;

use crate::address::Address;

/// SPSP's media type.
pub const CONTENT_TYPE: &str = "application/spsp4+json";
/// The largest answer read (real ones are about 150 bytes).
pub const MAX_BODY_BYTES: usize = 16 * 1024;

/// One STREAM connection's details.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpspDetails {
    /// Where to send.
    pub destination: Address,
    /// The connection's shared secret.
    pub shared_secret: [u8; 32],
}

/// Why an answer is not SPSP.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SpspError {
    /// Longer than [`MAX_BODY_BYTES`].
    #[error("an SPSP answer over {MAX_BODY_BYTES} bytes")]
    TooLarge,
    /// Not the JSON object SPSP answers with.
    #[error("not an SPSP answer: {0}")]
    NotSpsp(String),
}

impl SpspDetails {
    /// The answer's JSON.
    pub fn to_json(&self) -> String {
        serde_json::json!({
            "destination_account": self.destination.as_str(),
            "shared_secret": base64::engine::general_purpose::STANDARD.encode(self.shared_secret),
        })
        .to_string()
    }

    /// Reads an answer's body.
    pub fn parse(body: &[u8]) -> Result<SpspDetails, SpspError> {
        if body.len() > MAX_BODY_BYTES {
            return Err(SpspError::TooLarge);
        }
        let doc: serde_json::Value =
            serde_json::from_slice(body).map_err(|e| SpspError::NotSpsp(e.to_string()))?;
        let text = |name: &str| {
            doc.get(name)
                .and_then(|v| v.as_str())
                .ok_or_else(|| SpspError::NotSpsp(format!("no {name}")))
        };
        let destination = Address::new(text("destination_account")?)
            .map_err(|e| SpspError::NotSpsp(format!("destination_account: {e}")))?;
        let secret = text("shared_secret")?;
        // RFC 9 says base64; some servers send it unpadded or URL-safe.
        let bytes = [
            &base64::engine::general_purpose::STANDARD,
            &base64::engine::general_purpose::STANDARD_NO_PAD,
            &base64::engine::general_purpose::URL_SAFE,
            &base64::engine::general_purpose::URL_SAFE_NO_PAD,
        ]
        .iter()
        .find_map(|engine| engine.decode(secret).ok())
        .ok_or_else(|| SpspError::NotSpsp("shared_secret is not base64".into()))?;
        let shared_secret = <[u8; 32]>::try_from(bytes.as_slice()).map_err(|_| {
            SpspError::NotSpsp(format!("shared_secret is {} bytes, not 32", bytes.len()))
        })?;
        Ok(SpspDetails {
            destination,
            shared_secret,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn answers_read_and_bad_ones_are_named() {
        let d = SpspDetails {
            destination: Address::new("g.node.receiver.abc").unwrap(),
            shared_secret: [5; 32],
        };
        assert_eq!(SpspDetails::parse(d.to_json().as_bytes()), Ok(d));
        let bad = |body: &str| SpspDetails::parse(body.as_bytes()).unwrap_err().to_string();
        assert!(bad("[]").contains("no destination_account"));
        assert!(
            bad(r#"{"destination_account":"nowhere","shared_secret":""}"#)
                .contains("destination_account")
        );
        assert!(
            bad(r#"{"destination_account":"g.a","shared_secret":"AAAA"}"#)
                .contains("3 bytes, not 32")
        );
        assert!(bad(r#"{"destination_account":"g.a","shared_secret":"**"}"#).contains("base64"));
        assert_eq!(
            SpspDetails::parse(&vec![b' '; MAX_BODY_BYTES + 1]),
            Err(SpspError::TooLarge)
        );
    }

    proptest! {
        #![proptest_config(ProptestConfig {
            rng_seed: proptest::test_runner::RngSeed::Fixed(0x5eed),
            failure_persistence: None,
            ..ProptestConfig::default()
        })]

        #[test]
        fn details_round_trip(segment in "[a-zA-Z0-9_~-]{1,40}", secret in any::<[u8; 32]>()) {
            let d = SpspDetails {
                destination: Address::new(&format!("g.{segment}")).unwrap(),
                shared_secret: secret,
            };
            prop_assert_eq!(SpspDetails::parse(d.to_json().as_bytes()), Ok(d));
        }

        #[test]
        fn any_bytes_are_read_or_refused(body in proptest::collection::vec(any::<u8>(), 0..400)) {
            let _ = SpspDetails::parse(&body);
        }
    }
}
