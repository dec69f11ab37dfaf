//! Zap receipts (NIP-57 kind 9735): signed by the recipient's LNURL server once the invoice is
//! paid (Appendix E), and checked by every reader before it counts (Appendix F, and more: the
//! invoice's own signature, its description hash against the request, the request against
//! Appendix D, the receipt's tags against the request's, the preimage against the payment hash).

use nostr::prelude::{
    Event, EventBuilder, FinalizeEvent as _, Keys, Kind, PublicKey, Tag, Timestamp,
};
use serde::Serialize;
use sha2::{Digest as _, Sha256};

use crate::invoice::{read_invoice, InvoiceError};
use crate::zap_request::{check_zap_request, ZapRequest, ZapRequestError, ZapTarget};

/// NIP-57's zap receipt kind.
pub const ZAP_RECEIPT_KIND: u16 = 9735;

/// Why a receipt does not count.
#[derive(Debug, thiserror::Error)]
pub enum ReceiptError {
    /// Not kind 9735, or its id or signature does not verify.
    #[error("not a signed zap receipt: {0}")]
    NotAReceipt(String),
    /// Appendix F: signed by someone other than the recipient's zapper.
    #[error("the receipt is signed by {signer}, not by the recipient's zapper {zapper}")]
    WrongSigner {
        /// Who signed it.
        signer: String,
        /// Whose key the recipient's LNURL endpoint named.
        zapper: String,
    },
    /// A required tag is missing.
    #[error("the receipt has no {0} tag")]
    Missing(&'static str),
    /// The invoice does not read or its signature does not hold.
    #[error("the receipt's invoice: {0}")]
    Invoice(#[from] InvoiceError),
    /// The invoice commits to another description.
    #[error("the invoice's description hash is not the SHA-256 of the zap request it carries")]
    DescriptionHash,
    /// The request inside does not pass Appendix D.
    #[error("the zap request inside: {0}")]
    Request(#[from] ZapRequestError),
    /// Appendix F: the invoice is for another amount than the request says.
    #[error("the invoice is for {invoice} msat but the zap request says {request} msat")]
    Amount {
        /// The invoice's amount.
        invoice: u64,
        /// The request's.
        request: u64,
    },
    /// The invoice names no amount.
    #[error("the invoice names no amount")]
    NoAmount,
    /// The receipt's `p`, `e`, `a` or `P` differ from the request's.
    #[error("the receipt's {0} tag is not the zap request's")]
    TagMismatch(&'static str),
    /// The preimage does not hash to the payment hash.
    #[error("the receipt's preimage does not hash to the invoice's payment hash")]
    Preimage,
}

/// A zap that counts.
#[derive(Debug, Clone, Serialize)]
pub struct Zap {
    /// The receipt's id (hex).
    pub receipt: String,
    /// Who paid (npub-independent hex; the request's signer).
    pub sender: String,
    /// Who was paid (hex).
    pub recipient: String,
    /// What was zapped.
    pub target: ZapTarget,
    /// The amount, in millisatoshis (the invoice's).
    pub amount_msat: u64,
    /// The sender's comment.
    pub comment: String,
    /// When it was paid (the receipt's date).
    pub paid_at: u64,
}

/// The receipt for `request`, paid through `bolt11` at `paid_at` (Appendix E): `p`, `e`, `a`
/// copied, `P` the sender, `bolt11`, `description` (the request's JSON, exactly as hashed), and
/// the preimage when known; signed by the zapper key.
pub fn make_receipt(
    zapper: &Keys,
    request: &ZapRequest,
    bolt11: &str,
    preimage: Option<[u8; 32]>,
    paid_at: u64,
) -> Result<Event, ReceiptError> {
    let mut tags = vec![Tag::public_key(request.recipient)];
    if let Some(e) = request.target.event {
        tags.push(Tag::event(e));
    }
    if let Some(a) = &request.target.address {
        tags.push(Tag::parse(["a", a]).expect("a valid tag"));
    }
    tags.push(Tag::parse(["P", &request.sender.to_hex()]).expect("a valid tag"));
    tags.push(Tag::parse(["bolt11", bolt11]).expect("a valid tag"));
    tags.push(Tag::parse(["description", &request.json]).expect("a valid tag"));
    if let Some(p) = preimage {
        tags.push(Tag::parse(["preimage", &hex::encode(p)]).expect("a valid tag"));
    }
    EventBuilder::new(Kind::from(ZAP_RECEIPT_KIND), "")
        .tags(tags)
        .custom_created_at(Timestamp::from(paid_at))
        .finalize(zapper)
        .map_err(|e| ReceiptError::NotAReceipt(e.to_string()))
}

/// Checks `receipt` against the recipient's zapper key (their LNURL endpoint's `nostrPubkey`).
pub fn check_receipt(receipt: &Event, zapper: &PublicKey) -> Result<Zap, ReceiptError> {
    if receipt.kind.as_u16() != ZAP_RECEIPT_KIND {
        return Err(ReceiptError::NotAReceipt(format!(
            "kind {}",
            receipt.kind.as_u16()
        )));
    }
    if receipt.verify().is_err() {
        return Err(ReceiptError::NotAReceipt(
            "its id or signature does not verify".into(),
        ));
    }
    signed_by_zapper(receipt, zapper)
}

/// [`check_receipt`] for a receipt whose id and signature were checked when it was read
/// (a source's events are): everything but the signature again.
pub fn check_verified_receipt(
    receipt: &seedstr_proto::Verified,
    zapper: &PublicKey,
) -> Result<Zap, ReceiptError> {
    if receipt.kind.as_u16() != ZAP_RECEIPT_KIND {
        return Err(ReceiptError::NotAReceipt(format!(
            "kind {}",
            receipt.kind.as_u16()
        )));
    }
    signed_by_zapper(receipt.event(), zapper)
}

fn signed_by_zapper(receipt: &Event, zapper: &PublicKey) -> Result<Zap, ReceiptError> {
    if receipt.pubkey != *zapper {
        return Err(ReceiptError::WrongSigner {
            signer: receipt.pubkey.to_hex(),
            zapper: zapper.to_hex(),
        });
    }
    check_receipt_contents(receipt)
}

/// The checks of a receipt's contents, its own signature aside: the invoice's signature, its
/// description hash against the request carried, the request against Appendix D with the
/// invoice's amount, the receipt's tags against the request's, the preimage.
pub fn check_receipt_contents(receipt: &Event) -> Result<Zap, ReceiptError> {
    let tag = |name: &str| {
        receipt.tags.iter().find_map(|t| match t.as_slice() {
            [n, v, ..] if n == name => Some(v.clone()),
            _ => None,
        })
    };
    let bolt11 = tag("bolt11").ok_or(ReceiptError::Missing("bolt11"))?;
    let description = tag("description").ok_or(ReceiptError::Missing("description"))?;
    let invoice = read_invoice(&bolt11)?;
    let hashed = hex::encode(Sha256::digest(description.as_bytes()));
    if invoice.description_hash.as_deref() != Some(hashed.as_str()) {
        return Err(ReceiptError::DescriptionHash);
    }
    let amount = invoice.amount_msat.ok_or(ReceiptError::NoAmount)?;
    let request = check_zap_request(&description, amount).map_err(|e| match e {
        ZapRequestError::AmountMismatch { tag, .. } => ReceiptError::Amount {
            invoice: amount,
            request: tag.parse().unwrap_or(0),
        },
        other => ReceiptError::Request(other),
    })?;
    if tag("p") != Some(request.recipient.to_hex()) {
        return Err(ReceiptError::TagMismatch("p"));
    }
    if tag("e") != request.target.event.map(|e| e.to_hex()) {
        return Err(ReceiptError::TagMismatch("e"));
    }
    if tag("a") != request.target.address {
        return Err(ReceiptError::TagMismatch("a"));
    }
    if tag("P").is_some_and(|p| p != request.sender.to_hex()) {
        return Err(ReceiptError::TagMismatch("P"));
    }
    if let Some(p) = tag("preimage") {
        let bytes = hex::decode(&p).map_err(|_| ReceiptError::Preimage)?;
        if hex::encode(Sha256::digest(&bytes)) != invoice.payment_hash {
            return Err(ReceiptError::Preimage);
        }
    }
    Ok(Zap {
        receipt: receipt.id.to_hex(),
        sender: request.sender.to_hex(),
        recipient: request.recipient.to_hex(),
        target: request.target,
        amount_msat: amount,
        comment: request.comment,
        paid_at: receipt.created_at.as_secs(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::invoice::{make_invoice, NewInvoice};
    use crate::zap_request::{check_zap_request_event, make_zap_request};
    use std::time::Duration;

    const REAL: &str = include_str!("../tests/vectors/real_zap_receipt.json");

    #[test]
    fn a_real_zap_from_the_network_checks_out() {
        // As published, the receipt's id does not match its content (the page re-serialized
        // it), so its own signature is not checked here; everything it carries is: the zap
        // request's signature, the invoice's signature and amount, the description hash and
        // the preimage.
        let receipt = Event::from_json(REAL).unwrap();
        assert!(check_receipt(&receipt, &receipt.pubkey).is_err());
        let zap = check_receipt_contents(&receipt).unwrap();
        assert_eq!(zap.amount_msat, 971_000);
        assert_eq!(
            zap.recipient,
            "3e5b8d197f4a9279278fd61d9d033058e13d62f6652e3f868dcab54fac8c9658"
        );
        assert_eq!(
            zap.sender,
            "17e2889fba01021d048a13fd0ba108ad31c38326295460c21e69c43fa8fbe515"
        );
        assert!(zap.comment.starts_with("🎁 Nostria Premium Gift"));
        assert_eq!(zap.paid_at, 1_762_431_233);
        // Its preimage altered: refused.
        let altered = REAL.replace(
            "e96135b7cea71f86c365614944cbda0f68b05b9242262b06e0aa0d012806cd0c",
            "e96135b7cea71f86c365614944cbda0f68b05b9242262b06e0aa0d012806cd0d",
        );
        assert!(matches!(
            check_receipt_contents(&Event::from_json(altered).unwrap()),
            Err(ReceiptError::Preimage)
        ));
    }

    /// A zap through our own pieces: request, regtest invoice over its hash, receipt.
    fn zap(amount_in_invoice: u64, description: Option<&str>) -> (Keys, Event) {
        let (alice, bob, zapper) = (Keys::generate(), Keys::generate(), Keys::generate());
        let relays = vec!["ws://127.0.0.1:7447/".to_owned()];
        let req = make_zap_request(
            &alice,
            bob.public_key(),
            &ZapTarget::default(),
            21_000,
            &relays,
            None,
            "",
        )
        .unwrap();
        let checked = check_zap_request_event(req.clone(), Some(21_000)).unwrap();
        let hashed: [u8; 32] =
            Sha256::digest(description.unwrap_or(&req.as_json()).as_bytes()).into();
        let preimage = [4u8; 32];
        let bolt11 = make_invoice(
            &[1; 32],
            &NewInvoice {
                amount_msat: amount_in_invoice,
                description_hash: hashed,
                payment_hash: Sha256::digest(preimage).into(),
                payment_secret: [2; 32],
                created_at: 1_700_000_000,
                expiry: Duration::from_secs(600),
            },
        )
        .unwrap();
        let receipt =
            make_receipt(&zapper, &checked, &bolt11, Some(preimage), 1_700_000_010).unwrap();
        (zapper, receipt)
    }

    #[test]
    fn a_receipt_carries_the_request_exactly_as_received() {
        // Another client's serialization (keys in another order, as nostr-tools writes them):
        // the invoice commits to those bytes, so the receipt must carry those bytes.
        let (alice, bob, zapper) = (Keys::generate(), Keys::generate(), Keys::generate());
        let relays = vec!["ws://127.0.0.1:7447/".to_owned()];
        let req = make_zap_request(
            &alice,
            bob.public_key(),
            &ZapTarget::default(),
            21_000,
            &relays,
            None,
            "",
        )
        .unwrap();
        let theirs = serde_json::to_string(
            &serde_json::from_str::<serde_json::Value>(&req.as_json()).unwrap(),
        )
        .unwrap();
        assert_ne!(theirs, req.as_json(), "a different serialization");
        let checked = crate::zap_request::check_zap_request(&theirs, 21_000).unwrap();
        let bolt11 = make_invoice(
            &[1; 32],
            &NewInvoice {
                amount_msat: 21_000,
                description_hash: Sha256::digest(theirs.as_bytes()).into(),
                payment_hash: [3; 32],
                payment_secret: [2; 32],
                created_at: 1_700_000_000,
                expiry: Duration::from_secs(600),
            },
        )
        .unwrap();
        let receipt = make_receipt(&zapper, &checked, &bolt11, None, 1_700_000_001).unwrap();
        assert!(check_receipt(&receipt, &zapper.public_key()).is_ok());
    }

    #[test]
    fn our_receipts_check_out_and_each_appendix_f_rule_broken_is_refused() {
        let (zapper, receipt) = zap(21_000, None);
        let ok = check_receipt(&receipt, &zapper.public_key()).unwrap();
        assert_eq!(ok.amount_msat, 21_000);
        // An invoice for another amount than the request's.
        let (zapper, receipt) = zap(1_000, None);
        let err = check_receipt(&receipt, &zapper.public_key()).unwrap_err();
        assert!(
            matches!(
                err,
                ReceiptError::Amount {
                    invoice: 1_000,
                    request: 21_000
                }
            ),
            "{err}"
        );
        // An invoice over another description than the request carried.
        let (zapper, receipt) = zap(21_000, Some("{}"));
        assert!(matches!(
            check_receipt(&receipt, &zapper.public_key()),
            Err(ReceiptError::DescriptionHash)
        ));
        // A receipt re-signed by someone else.
        let (_, receipt) = zap(21_000, None);
        assert!(matches!(
            check_receipt(&receipt, &Keys::generate().public_key()),
            Err(ReceiptError::WrongSigner { .. })
        ));
    }
}
