//! Paid admission to a relay: writers pay its operator by zap, and a payment admits the zap's
//! sender for a period from the time it was paid. The relay sees the payment as the zap receipt
//! the operator's zapper publishes to it (the zap request names the relay among its `relays`);
//! the receipt is checked as every reader checks one (Appendix F against the operator's zapper
//! key, for at least the price) before it admits anyone. Admissions are kept in a file, written
//! before the receipt is acknowledged.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use nostr::prelude::{PublicKey, ToBech32 as _};
use seedstr_client::files::durable::replace_file;
use seedstr_proto::Event;
use seedstr_relay::gate::{Gate, Verdict};

use crate::receipt::{check_receipt, ZAP_RECEIPT_KIND};

/// The most admissions kept; past it, expired ones are dropped, and new payers are refused
/// until some expire (the operator raises the price or the period).
pub const MAX_ADMITTED: usize = 1_000_000;

/// What admission costs and whom it pays.
#[derive(Debug, Clone)]
pub struct AdmissionPolicy {
    /// The price, in msat.
    pub price_msat: u64,
    /// How long one payment admits its payer, in seconds.
    pub period_secs: u64,
    /// The relay's operator, who is paid (a zap's `p`), and may always write.
    pub operator: PublicKey,
    /// The key that signs the operator's zap receipts (their LNURL endpoint's `nostrPubkey`).
    pub zapper: PublicKey,
    /// The operator's lightning address, named in refusals.
    pub lightning_address: String,
}

/// Why admissions could not be kept.
#[derive(Debug, thiserror::Error)]
pub enum AdmissionError {
    /// The file could not be read or written.
    #[error("admissions file {path}: {why}")]
    File {
        /// Where.
        path: PathBuf,
        /// Why.
        why: String,
    },
}

/// The relay's admissions: who paid, until when (Unix seconds).
pub struct Admissions {
    policy: AdmissionPolicy,
    file: PathBuf,
    paid_until: Mutex<BTreeMap<String, u64>>,
    clock: Arc<dyn Fn() -> u64 + Send + Sync>,
}

impl Admissions {
    /// Opens the admissions kept in `file` (none yet when it does not exist), judged by
    /// `clock` (Unix seconds; passed in so tests need no wall clock).
    pub fn open(
        policy: AdmissionPolicy,
        file: &Path,
        clock: Arc<dyn Fn() -> u64 + Send + Sync>,
    ) -> Result<Admissions, AdmissionError> {
        let fail = |why: String| AdmissionError::File {
            path: file.to_owned(),
            why,
        };
        let paid_until = match std::fs::read(file) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| fail(e.to_string()))?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => BTreeMap::new(),
            Err(e) => return Err(fail(e.to_string())),
        };
        Ok(Admissions {
            policy,
            file: file.to_owned(),
            paid_until: Mutex::new(paid_until),
            clock,
        })
    }

    /// Until when `who` is admitted, if they are now.
    pub fn admitted_until(&self, who: &PublicKey) -> Option<u64> {
        let now = (self.clock)();
        self.lock()
            .get(&who.to_hex())
            .copied()
            .filter(|until| *until > now)
    }

    /// The refusal for a writer who has not paid.
    pub fn refusal(&self) -> String {
        let p = &self.policy;
        let npub = p
            .operator
            .to_bech32()
            .unwrap_or_else(|_| p.operator.to_hex());
        let days = p.period_secs / 86_400;
        format!(
            "restricted: writing here costs {} sats for {days} day{}: zap the operator {npub} ({}) that amount with this relay among the zap's relays, then write again",
            p.price_msat.div_ceil(1000),
            if days == 1 { "" } else { "s" },
            p.lightning_address
        )
    }

    /// The verdict on `event`: the operator and their zapper always write; a valid receipt of
    /// a zap to the operator for at least the price admits its sender (from the paid time, for
    /// the period) before it is stored; anyone else must be admitted.
    pub fn judge(&self, event: &Event) -> Verdict {
        let p = &self.policy;
        if event.pubkey == p.zapper {
            if event.kind.as_u16() == ZAP_RECEIPT_KIND {
                if let Err(e) = self.take_payment(event) {
                    return Verdict::Refuse(format!("error: {e}"));
                }
            }
            return Verdict::Admit;
        }
        if event.pubkey == p.operator || self.admitted_until(&event.pubkey).is_some() {
            return Verdict::Admit;
        }
        Verdict::Refuse(self.refusal())
    }

    /// Records the admission a receipt pays for, if it does.
    fn take_payment(&self, receipt: &Event) -> Result<(), AdmissionError> {
        let p = &self.policy;
        let Ok(zap) = check_receipt(receipt, &p.zapper) else {
            return Ok(());
        };
        let Ok(sender) = PublicKey::from_hex(&zap.sender) else {
            return Ok(());
        };
        if zap.recipient != p.operator.to_hex() || zap.amount_msat < p.price_msat {
            return Ok(());
        }
        let until = zap.paid_at.saturating_add(p.period_secs);
        let now = (self.clock)();
        if until <= now {
            return Ok(());
        }
        let mut admitted = self.lock();
        let key = sender.to_hex();
        if admitted.get(&key).is_some_and(|u| *u >= until) {
            return Ok(());
        }
        if admitted.len() >= MAX_ADMITTED && !admitted.contains_key(&key) {
            admitted.retain(|_, u| *u > now);
            if admitted.len() >= MAX_ADMITTED {
                return Ok(());
            }
        }
        let before = admitted.insert(key.clone(), until);
        // Kept before the receipt is acknowledged: a restart must not forget a payment.
        let bytes = serde_json::to_vec(&*admitted).expect("a map of numbers serializes");
        if let Err(e) = replace_file(&self.file, &bytes) {
            match before {
                Some(b) => admitted.insert(key, b),
                None => admitted.remove(&key),
            };
            return Err(AdmissionError::File {
                path: self.file.clone(),
                why: e.to_string(),
            });
        }
        Ok(())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, u64>> {
        self.paid_until.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Admissions as a relay gate.
pub struct AdmissionGate(pub Arc<Admissions>);

impl Gate for AdmissionGate {
    fn check(&self, event: &Event, _ip: IpAddr, _authed: Option<&[u8; 32]>) -> Verdict {
        self.0.judge(event)
    }

    fn check_paid(&self, _event: &Event, _ip: IpAddr, _authed: Option<&[u8; 32]>) -> Verdict {
        Verdict::Admit
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_receipts::signed_receipt;
    use crate::zap_request::ZapTarget;
    use nostr::prelude::{EventBuilder, FinalizeEvent as _, Keys, Kind};
    use std::sync::atomic::{AtomicU64, Ordering};

    const DAY: u64 = 86_400;

    fn receipt(zapper: &Keys, payer: &Keys, to: PublicKey, msat: u64, paid_at: u64) -> Event {
        signed_receipt(zapper, payer, to, &ZapTarget::default(), msat, 5, paid_at)
    }

    fn note(by: &Keys) -> Event {
        EventBuilder::new(Kind::from(1u16), "hi")
            .finalize(by)
            .unwrap()
    }

    #[test]
    fn a_paid_zap_admits_its_sender_for_the_period_and_no_longer() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("admissions.json");
        let (operator, zapper, alice, bob) = (
            Keys::generate(),
            Keys::generate(),
            Keys::generate(),
            Keys::generate(),
        );
        let now = Arc::new(AtomicU64::new(1_800_000_000));
        let clock = {
            let now = now.clone();
            Arc::new(move || now.load(Ordering::SeqCst))
        };
        let policy = AdmissionPolicy {
            price_msat: 1_000_000,
            period_secs: 30 * DAY,
            operator: operator.public_key(),
            zapper: zapper.public_key(),
            lightning_address: "me@relay.example".into(),
        };
        let admissions = Admissions::open(policy.clone(), &file, clock.clone()).unwrap();
        // Unpaid: refused with the price.
        let Verdict::Refuse(why) = admissions.judge(&note(&alice)) else {
            panic!("an unpaid writer was admitted")
        };
        assert!(
            why.starts_with("restricted: writing here costs 1000 sats for 30 days"),
            "{why}"
        );
        assert_eq!(admissions.judge(&note(&operator)), Verdict::Admit);
        let t = now.load(Ordering::SeqCst);
        // Too little, to someone else, or signed by another key than the zapper: no admission.
        let cheap = receipt(&zapper, &alice, operator.public_key(), 999_000, t);
        let elsewhere = receipt(&zapper, &alice, bob.public_key(), 1_000_000, t);
        let forged = receipt(&bob, &alice, operator.public_key(), 1_000_000, t);
        assert_eq!(admissions.judge(&cheap), Verdict::Admit);
        assert_eq!(admissions.judge(&elsewhere), Verdict::Admit);
        assert!(matches!(admissions.judge(&forged), Verdict::Refuse(_)));
        assert!(admissions.admitted_until(&alice.public_key()).is_none());
        // Paid: admitted from the paid time for the period, kept across a restart.
        let paid = receipt(&zapper, &alice, operator.public_key(), 1_000_000, t - DAY);
        assert_eq!(admissions.judge(&paid), Verdict::Admit);
        assert_eq!(
            admissions.admitted_until(&alice.public_key()),
            Some(t - DAY + 30 * DAY)
        );
        assert_eq!(admissions.judge(&note(&alice)), Verdict::Admit);
        assert!(matches!(admissions.judge(&note(&bob)), Verdict::Refuse(_)));
        let reopened = Admissions::open(policy.clone(), &file, clock.clone()).unwrap();
        assert_eq!(reopened.judge(&note(&alice)), Verdict::Admit);
        // The period over, refused again; the old receipt sent again admits nobody.
        now.store(t - DAY + 30 * DAY, Ordering::SeqCst);
        assert!(matches!(reopened.judge(&note(&alice)), Verdict::Refuse(_)));
        assert_eq!(reopened.judge(&paid), Verdict::Admit);
        assert!(reopened.admitted_until(&alice.public_key()).is_none());
    }
}
