//! Receipts for unit tests: a real zap request, a real (regtest) invoice committing to it, and
//! the receipt signed by the key given, paid at the time given.

use std::time::Duration;

use nostr::prelude::{Event, Keys, PublicKey};
use sha2::{Digest as _, Sha256};

use crate::invoice::{make_invoice, NewInvoice};
use crate::receipt::make_receipt;
use crate::zap_request::{check_zap_request, make_zap_request, ZapTarget};

/// A receipt signed by `zapper` for `payer`'s zap of `msat` to `to` on `target`, its preimage
/// `[preimage; 32]`, paid at `paid_at`.
pub(crate) fn signed_receipt(
    zapper: &Keys,
    payer: &Keys,
    to: PublicKey,
    target: &ZapTarget,
    msat: u64,
    preimage: u8,
    paid_at: u64,
) -> Event {
    let relays = vec!["ws://127.0.0.1:7447/".to_owned()];
    let req = make_zap_request(payer, to, target, msat, &relays, None, "")
        .unwrap()
        .as_json();
    let checked = check_zap_request(&req, msat).unwrap();
    let bolt11 = make_invoice(
        &[1; 32],
        &NewInvoice {
            amount_msat: msat,
            description_hash: Sha256::digest(req.as_bytes()).into(),
            payment_hash: Sha256::digest([preimage; 32]).into(),
            payment_secret: [2; 32],
            created_at: paid_at,
            expiry: Duration::from_secs(600),
        },
    )
    .unwrap();
    make_receipt(zapper, &checked, &bolt11, Some([preimage; 32]), paid_at).unwrap()
}
