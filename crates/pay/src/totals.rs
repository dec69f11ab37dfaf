//! Zap totals as every reader counts them: only receipts that pass every check (Appendix F
//! against the recipient's zapper key, and the rest of [`check_receipt`]), each invoice once
//! however many receipts name it; everything else is reported, never counted.

use std::collections::{BTreeMap, BTreeSet};

use nostr::prelude::PublicKey;
use seedstr_proto::Verified;
use serde::Serialize;

use crate::receipt::{check_receipt, Zap};

/// What a set of receipts adds up to.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Totals {
    /// Every zap counted, each invoice once.
    pub zaps: Vec<Zap>,
    /// The sum, in msat.
    pub total_msat: u64,
    /// Per recipient (hex), in msat.
    pub by_recipient: BTreeMap<String, u64>,
    /// Per zapped event (hex id) or address (coordinate), in msat.
    pub by_target: BTreeMap<String, u64>,
    /// Receipts not counted (id, why).
    pub refused: Vec<(String, String)>,
}

/// Adds up `receipts`, each checked against the zapper key its recipient's LNURL endpoint
/// announced (`zapper_of`; a recipient without one counts nothing).
pub fn tally(receipts: &[Verified], zapper_of: impl Fn(&PublicKey) -> Option<PublicKey>) -> Totals {
    let mut out = Totals::default();
    let mut invoices = BTreeSet::new();
    let mut seen = BTreeSet::new();
    for r in receipts {
        if !seen.insert(r.id) {
            continue;
        }
        let recipient = r.tags.public_keys().next();
        let Some(zapper) = recipient.as_ref().and_then(&zapper_of) else {
            out.refused.push((
                r.id.to_hex(),
                "no zapper key is known for its recipient".into(),
            ));
            continue;
        };
        match check_receipt(r.event(), &zapper) {
            Ok(zap) => {
                let invoice = r.tags.iter().find_map(|t| match t.as_slice() {
                    [n, b, ..] if n == "bolt11" => Some(b.clone()),
                    _ => None,
                });
                if !invoices.insert(invoice.unwrap_or_default()) {
                    out.refused.push((
                        r.id.to_hex(),
                        "another receipt already counted this invoice".into(),
                    ));
                    continue;
                }
                out.total_msat += zap.amount_msat;
                *out.by_recipient.entry(zap.recipient.clone()).or_default() += zap.amount_msat;
                for target in zap
                    .target
                    .event
                    .map(|e| e.to_hex())
                    .into_iter()
                    .chain(zap.target.address.clone())
                {
                    *out.by_target.entry(target).or_default() += zap.amount_msat;
                }
                out.zaps.push(zap);
            }
            Err(e) => out.refused.push((r.id.to_hex(), e.to_string())),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::invoice::{make_invoice, NewInvoice};
    use crate::receipt::make_receipt;
    use crate::zap_request::{check_zap_request, make_zap_request, ZapTarget};
    use nostr::prelude::{EventId, FinalizeEvent as _, Keys};
    use sha2::{Digest as _, Sha256};
    use std::time::Duration;

    fn receipt(
        zapper: &Keys,
        to: &Keys,
        target: &ZapTarget,
        msat: u64,
        preimage: u8,
        at: u64,
    ) -> Verified {
        let payer = Keys::generate();
        let relays = vec!["ws://127.0.0.1:7447/".to_owned()];
        let req = make_zap_request(&payer, to.public_key(), target, msat, &relays, None, "")
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
                created_at: 1_700_000_000,
                expiry: Duration::from_secs(600),
            },
        )
        .unwrap();
        let e = make_receipt(zapper, &checked, &bolt11, Some([preimage; 32]), at).unwrap();
        Verified::check(e).unwrap()
    }

    #[test]
    fn only_receipts_that_check_count_and_each_invoice_once() {
        let (bob, bobs_zapper, mallory) = (Keys::generate(), Keys::generate(), Keys::generate());
        let release = ZapTarget {
            event: None,
            address: Some(format!(
                "30079:{}:generic.tool@1.0.0",
                bob.public_key().to_hex()
            )),
        };
        let post = ZapTarget {
            event: Some(EventId::from_byte_array([4; 32])),
            address: None,
        };
        let a = receipt(&bobs_zapper, &bob, &release, 21_000, 1, 10);
        let b = receipt(&bobs_zapper, &bob, &post, 5_000, 2, 11);
        // Signed by someone other than bob's zapper: counted nowhere.
        let forged = receipt(&mallory, &bob, &release, 1_000_000, 3, 12);
        // The same invoice's receipt again, re-signed by bob's zapper at another time.
        let tags: Vec<_> = a.tags.iter().cloned().collect();
        let again = nostr::prelude::EventBuilder::new(a.kind, "")
            .tags(tags)
            .custom_created_at(nostr::prelude::Timestamp::from(99))
            .finalize(&bobs_zapper)
            .unwrap();
        let again = Verified::check(again).unwrap();
        let zapper = bobs_zapper.public_key();
        let bob_key = bob.public_key();
        let t = tally(&[a.clone(), b, forged.clone(), again, a], |who| {
            (*who == bob_key).then_some(zapper)
        });
        assert_eq!(t.zaps.len(), 2);
        assert_eq!(t.total_msat, 26_000);
        assert_eq!(t.by_recipient[&bob.public_key().to_hex()], 26_000);
        assert_eq!(t.by_target[release.address.as_ref().unwrap()], 21_000);
        assert_eq!(
            t.by_target[&EventId::from_byte_array([4; 32]).to_hex()],
            5_000
        );
        let why: Vec<&str> = t.refused.iter().map(|(_, w)| w.as_str()).collect();
        assert!(
            why.iter()
                .any(|w| w.contains("not by the recipient's zapper") || w.contains("signed by")),
            "{why:?}"
        );
        assert!(why.iter().any(|w| w.contains("already counted")), "{why:?}");
        // Nobody's zapper known: nothing counts.
        assert_eq!(tally(&[forged], |_| None).total_msat, 0);
    }
}
