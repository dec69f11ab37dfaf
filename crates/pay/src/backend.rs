//! Where a zap receiver's invoices come from, and how it hears they are paid. Nostr Wallet
//! Connect ([`WalletClient`]) is the real backend, so any NWC wallet serves; a Lightning node's
//! own API (LND, Core Lightning) or a custodial account would plug in here with the same three
//! operations.

use std::future::Future;

use tokio::sync::mpsc;

use crate::nwc::{WalletClient, WalletError, NOTIFICATION_KINDS};

/// An invoice a backend made.
#[derive(Debug, Clone)]
pub struct MadeInvoice {
    /// BOLT11.
    pub bolt11: String,
}

/// A payment a backend received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settled {
    /// The invoice's payment hash (hex).
    pub payment_hash: String,
    /// Its preimage (hex), when the backend says.
    pub preimage: Option<String>,
    /// When it was paid (Unix seconds).
    pub settled_at: u64,
}

/// A receiver's wallet.
pub trait InvoiceBackend: Send + Sync + 'static {
    /// An invoice for `amount_msat` whose description hash is `description_hash` (hex).
    fn make_invoice(
        &self,
        amount_msat: u64,
        description_hash: &str,
    ) -> impl Future<Output = Result<MadeInvoice, WalletError>> + Send;

    /// Whether the invoice with `payment_hash` (hex) was paid: `None` while it is not.
    fn settled(
        &self,
        payment_hash: &str,
    ) -> impl Future<Output = Result<Option<Settled>, WalletError>> + Send;

    /// Payments as they arrive, until the process ends.
    fn payments(&self) -> mpsc::Receiver<Settled>;
}

impl InvoiceBackend for WalletClient {
    async fn make_invoice(
        &self,
        amount_msat: u64,
        description_hash: &str,
    ) -> Result<MadeInvoice, WalletError> {
        let made = WalletClient::make_invoice(self, amount_msat, description_hash).await?;
        Ok(MadeInvoice {
            bolt11: made.invoice,
        })
    }

    async fn settled(&self, payment_hash: &str) -> Result<Option<Settled>, WalletError> {
        let found = self.lookup_invoice(payment_hash).await?;
        Ok(found.settled_at.map(|at| Settled {
            payment_hash: payment_hash.to_owned(),
            preimage: found.preimage,
            settled_at: at.as_secs(),
        }))
    }

    /// NIP-47 `payment_received` notifications addressed to this connection.
    fn payments(&self) -> mpsc::Receiver<Settled> {
        use seedstr_client::relays::live::{subscribe, LiveNote};
        let (tx, rx) = mpsc::channel(256);
        let me = self.client_keys().public_key().to_hex();
        let relays: Vec<String> = self.uri.relays.iter().map(|r| r.to_string()).collect();
        let filter = serde_json::json!({"kinds": NOTIFICATION_KINDS, "#p": [me], "limit": 0});
        let wallet = self.clone();
        tokio::spawn(async move {
            let mut live = subscribe(&relays, vec![filter]);
            while let Some(note) = live.recv().await {
                let LiveNote::Event { event, .. } = note else {
                    continue;
                };
                let Ok(n) = wallet.notification(event.event()) else {
                    continue;
                };
                if n.notification_type != nostr::nips::nip47::NotificationType::PaymentReceived {
                    continue;
                }
                let Ok(p) = n.to_pay_notification() else {
                    continue;
                };
                let settled = Settled {
                    payment_hash: p.payment_hash,
                    preimage: Some(p.preimage),
                    settled_at: p.settled_at.as_secs(),
                };
                if tx.send(settled).await.is_err() {
                    break;
                }
            }
        });
        rx
    }
}
