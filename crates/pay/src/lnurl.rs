//! The LNURL-pay endpoint (LUD-06, LUD-16) a node serves for its owner, with NIP-57's
//! additions: the pay-request document says `allowsNostr` and names the key that signs zap
//! receipts; the callback checks the amount and, with a zap request, Appendix D and that the
//! request is for this node's owner, and says what the invoice's description hash must commit
//! to. The invoice itself comes from the owner's wallet.

use nostr::prelude::{Keys, PublicKey, SecretKey};
use serde_json::{json, Value};
use sha2::{Digest as _, Sha256};

use crate::zap_request::{check_zap_request, ZapRequest, ZapRequestError, MAX_COMMENT_BYTES};

/// The least a payment may be: 1 sat.
pub const MIN_SENDABLE_MSAT: u64 = 1_000;
/// The most: 1,000,000 sats.
pub const MAX_SENDABLE_MSAT: u64 = 1_000_000_000;

/// Why a callback is refused (answered `{"status":"ERROR","reason":…}`).
#[derive(Debug, thiserror::Error)]
pub enum LnurlError {
    /// No or a bad amount.
    #[error("amount must be between {MIN_SENDABLE_MSAT} and {MAX_SENDABLE_MSAT} msat")]
    Amount,
    /// The zap request fails Appendix D.
    #[error(transparent)]
    ZapRequest(#[from] ZapRequestError),
    /// The zap request is for someone else.
    #[error("this endpoint takes zaps for {0} only")]
    NotOurs(String),
}

/// The owner's pay endpoint.
#[derive(Debug, Clone)]
pub struct PayEndpoint {
    /// The name in `name@host` (LUD-16).
    pub name: String,
    /// The node's HTTP address as payers reach it (`https://home.example`).
    pub base: String,
    /// The owner.
    pub owner: PublicKey,
    /// The key that signs zap receipts (`nostrPubkey`).
    pub zapper: PublicKey,
}

/// What the callback asks the wallet for.
#[derive(Debug, Clone)]
pub struct InvoiceOrder {
    /// The amount, in msat.
    pub amount_msat: u64,
    /// What the invoice's description hash commits to: the zap request's JSON exactly as
    /// received, or the pay-request metadata for a plain payment.
    pub description: String,
    /// The zap request, when it is a zap.
    pub zap: Option<ZapRequest>,
}

impl InvoiceOrder {
    /// SHA-256 of the description.
    pub fn description_hash(&self) -> [u8; 32] {
        Sha256::digest(self.description.as_bytes()).into()
    }
}

/// The key that signs an owner's zap receipts: derived from their key, so it is stable and
/// theirs, yet distinct (NIP-57 wants a key of the LNURL server's).
pub fn zapper_keys(owner: &Keys) -> Keys {
    let seed: [u8; 32] = Sha256::digest(
        [
            b"seedstr-zapper:".as_slice(),
            owner.secret_key().as_secret_bytes(),
        ]
        .concat(),
    )
    .into();
    Keys::new(
        SecretKey::from_slice(&seed).expect("a SHA-256 is a valid key but for odds of 2^-128"),
    )
}

impl PayEndpoint {
    /// The callback's address.
    pub fn callback(&self) -> String {
        format!(
            "{}/lnurlp/{}/callback",
            self.base.trim_end_matches('/'),
            self.name
        )
    }

    /// LUD-06 metadata: what a plain payment's invoice commits to.
    pub fn metadata(&self) -> String {
        let host = self
            .base
            .split("://")
            .nth(1)
            .unwrap_or(&self.base)
            .trim_end_matches('/');
        json!([
            ["text/plain", format!("Zap {} on Seedstr", self.name)],
            ["text/identifier", format!("{}@{host}", self.name)],
        ])
        .to_string()
    }

    /// The pay-request document (`/.well-known/lnurlp/<name>`).
    pub fn document(&self) -> Value {
        json!({
            "tag": "payRequest",
            "callback": self.callback(),
            "minSendable": MIN_SENDABLE_MSAT,
            "maxSendable": MAX_SENDABLE_MSAT,
            "metadata": self.metadata(),
            "commentAllowed": MAX_COMMENT_BYTES,
            "allowsNostr": true,
            "nostrPubkey": self.zapper.to_hex(),
        })
    }

    /// Checks a callback's `amount` and `nostr` parameters.
    pub fn order(
        &self,
        amount_msat: Option<u64>,
        nostr: Option<&str>,
    ) -> Result<InvoiceOrder, LnurlError> {
        let amount = amount_msat
            .filter(|a| (MIN_SENDABLE_MSAT..=MAX_SENDABLE_MSAT).contains(a))
            .ok_or(LnurlError::Amount)?;
        let Some(json) = nostr else {
            return Ok(InvoiceOrder {
                amount_msat: amount,
                description: self.metadata(),
                zap: None,
            });
        };
        let zap = check_zap_request(json, amount)?;
        if zap.recipient != self.owner {
            return Err(LnurlError::NotOurs(self.owner.to_hex()));
        }
        Ok(InvoiceOrder {
            amount_msat: amount,
            description: json.to_owned(),
            zap: Some(zap),
        })
    }
}

/// The LNURL-pay error answer.
pub fn error_answer(why: &str) -> Value {
    json!({"status": "ERROR", "reason": why})
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::zap_request::{make_zap_request, ZapTarget};

    #[test]
    fn the_document_and_callback_follow_lud06_and_nip57() {
        let (owner, alice) = (Keys::generate(), Keys::generate());
        let zapper = zapper_keys(&owner);
        assert_eq!(
            zapper.public_key(),
            zapper_keys(&owner).public_key(),
            "stable"
        );
        assert_ne!(zapper.public_key(), owner.public_key());
        let ep = PayEndpoint {
            name: "bob".into(),
            base: "http://127.0.0.1:7447".into(),
            owner: owner.public_key(),
            zapper: zapper.public_key(),
        };
        let doc = ep.document();
        assert_eq!(doc["allowsNostr"], true);
        assert_eq!(doc["nostrPubkey"], zapper.public_key().to_hex());
        assert_eq!(doc["callback"], "http://127.0.0.1:7447/lnurlp/bob/callback");
        let relays = vec!["ws://127.0.0.1:7447/".to_owned()];
        let req = make_zap_request(
            &alice,
            owner.public_key(),
            &ZapTarget::default(),
            21_000,
            &relays,
            None,
            "",
        )
        .unwrap()
        .as_json();
        let order = ep.order(Some(21_000), Some(&req)).unwrap();
        assert_eq!(order.description, req);
        assert!(order.zap.is_some());
        assert!(matches!(ep.order(Some(5), None), Err(LnurlError::Amount)));
        assert!(matches!(ep.order(None, None), Err(LnurlError::Amount)));
        assert!(matches!(
            ep.order(Some(1_000), Some(&req)),
            Err(LnurlError::ZapRequest(_))
        ));
        let for_someone_else = make_zap_request(
            &alice,
            alice.public_key(),
            &ZapTarget::default(),
            21_000,
            &relays,
            None,
            "",
        )
        .unwrap()
        .as_json();
        assert!(matches!(
            ep.order(Some(21_000), Some(&for_someone_else)),
            Err(LnurlError::NotOurs(_))
        ));
        let plain = ep.order(Some(2_000), None).unwrap();
        assert_eq!(plain.description, ep.metadata());
    }
}
