//! The receiving side of zaps, run by an owner's node: invoices for the LNURL callback come
//! from the owner's wallet (NIP-47) and are checked before they are handed out (amount and
//! description hash); each zap waiting for payment is kept on disk before its invoice is
//! answered; when the wallet reports the payment (a notification, or a look-up at start), the
//! receipt is signed with the zapper key and sent to the relays the request named and the
//! node's own.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use nostr::prelude::{Event, Keys};
use seedstr_client::files::durable::replace_file;
use seedstr_client::relays::publish_all;
use serde::{Deserialize, Serialize};

use crate::backend::InvoiceBackend;
use crate::invoice::read_invoice;
use crate::lnurl::{InvoiceOrder, LnurlError, PayEndpoint};
use crate::nwc::WalletClient;
use crate::receipt::make_receipt;
use crate::zap_request::check_zap_request_json;

/// The most zaps kept waiting for payment.
pub const MAX_PENDING: usize = 10_000;

/// A zap whose invoice is out, kept until it is paid.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PendingZap {
    /// The zap request's JSON, exactly as received (what the invoice commits to).
    pub request: String,
    /// The invoice handed out.
    pub bolt11: String,
}

/// Why an invoice could not be handed out.
#[derive(Debug, thiserror::Error)]
pub enum ZapperError {
    /// The callback's parameters.
    #[error(transparent)]
    Lnurl(#[from] LnurlError),
    /// The wallet failed or refused.
    #[error("the wallet: {0}")]
    Wallet(String),
    /// The wallet's invoice is not what was asked for.
    #[error("the wallet's invoice does not match the order: {0}")]
    Mismatch(String),
    /// Keeping the pending zap failed.
    #[error("keeping the zap: {0}")]
    Keep(String),
}

/// The owner's zap receiver, over their wallet (NWC by default).
pub struct Zapper<W: InvoiceBackend = WalletClient> {
    /// The pay endpoint it answers for.
    pub endpoint: PayEndpoint,
    /// The key that signs receipts.
    pub zapper: Keys,
    /// The owner's wallet.
    pub wallet: W,
    /// Where pending zaps are kept.
    pub pending_dir: PathBuf,
    /// Relays every receipt also goes to (the node's own).
    pub publish_to: Vec<String>,
}

impl<W: InvoiceBackend> Zapper<W> {
    /// An invoice for the callback's `amount` and `nostr`: ordered from the wallet, checked,
    /// and, for a zap, kept as pending before it is returned.
    pub async fn invoice(
        &self,
        amount_msat: Option<u64>,
        nostr: Option<&str>,
    ) -> Result<String, ZapperError> {
        let order: InvoiceOrder = self.endpoint.order(amount_msat, nostr)?;
        let hash = hex::encode(order.description_hash());
        let made = self
            .wallet
            .make_invoice(order.amount_msat, &hash)
            .await
            .map_err(|e| ZapperError::Wallet(e.to_string()))?;
        let read = read_invoice(&made.bolt11).map_err(|e| ZapperError::Mismatch(e.to_string()))?;
        if read.amount_msat != Some(order.amount_msat) {
            return Err(ZapperError::Mismatch(format!(
                "amount {:?}",
                read.amount_msat
            )));
        }
        if read.description_hash.as_deref() != Some(hash.as_str()) {
            return Err(ZapperError::Mismatch("description hash".into()));
        }
        if order.zap.is_some() {
            // Anyone may call the callback: the zaps kept waiting are bounded.
            let waiting = std::fs::read_dir(&self.pending_dir).map_or(0, |d| d.count());
            if waiting >= MAX_PENDING {
                return Err(ZapperError::Keep(format!(
                    "{MAX_PENDING} zaps are waiting for payment already; try later"
                )));
            }
            let pending = PendingZap {
                request: order.description.clone(),
                bolt11: made.bolt11.clone(),
            };
            std::fs::create_dir_all(&self.pending_dir)
                .map_err(|e| ZapperError::Keep(e.to_string()))?;
            let path = self.pending_dir.join(format!("{}.json", read.payment_hash));
            replace_file(&path, &serde_json::to_vec(&pending).expect("serializes"))
                .map_err(|e| ZapperError::Keep(e.to_string()))?;
        }
        Ok(made.bolt11)
    }

    /// The receipt for the pending zap with `payment_hash`, paid at `settled_at` with
    /// `preimage`: signed, sent, and the pending entry removed. None when nothing was pending.
    pub async fn settle(
        &self,
        payment_hash: &str,
        preimage: Option<&str>,
        settled_at: u64,
    ) -> Option<Event> {
        let path = self.pending_dir.join(format!("{payment_hash}.json"));
        let pending: PendingZap = serde_json::from_slice(&std::fs::read(&path).ok()?).ok()?;
        // The request exactly as received: the invoice's description hash commits to it.
        let zap = check_zap_request_json(&pending.request, None).ok()?;
        let preimage = preimage
            .and_then(|p| hex::decode(p).ok())
            .and_then(|p| <[u8; 32]>::try_from(p).ok());
        let receipt =
            make_receipt(&self.zapper, &zap, &pending.bolt11, preimage, settled_at).ok()?;
        let mut relays = zap.relays.clone();
        for r in &self.publish_to {
            if !relays.contains(r) {
                relays.push(r.clone());
            }
        }
        let answers = publish_all(
            &relays,
            std::slice::from_ref(&receipt),
            Duration::from_secs(10),
        )
        .await;
        if answers.iter().any(|a| a.accepted) {
            let _ = std::fs::remove_file(&path);
        }
        Some(receipt)
    }

    /// Settles what was paid while the node was away (looked up), then every payment the
    /// wallet reports, until the process ends.
    pub async fn watch(self: Arc<Self>) {
        // Listening first, so a payment made during the look-ups is not missed.
        let mut payments = self.wallet.payments();
        if let Ok(dir) = std::fs::read_dir(&self.pending_dir) {
            for entry in dir.flatten() {
                let name = entry.file_name().to_string_lossy().to_string();
                let Some(hash) = name.strip_suffix(".json") else {
                    continue;
                };
                if let Ok(Some(paid)) = self.wallet.settled(hash).await {
                    self.settle(hash, paid.preimage.as_deref(), paid.settled_at)
                        .await;
                }
            }
        }
        while let Some(paid) = payments.recv().await {
            self.settle(
                &paid.payment_hash,
                paid.preimage.as_deref(),
                paid.settled_at,
            )
            .await;
        }
    }
}
