//! Paid writes on the node's relay for WebSocket clients, through payment channels
//! (docs/channels.md, "Paid writes"): a writer opens a channel to the node's address on the
//! chain and posts claims to `/api/v1/ilp/credit`, authorized as their Nostr key (NIP-98); what
//! each claim adds is credit for that key, and each event the key writes costs
//! `ilp.price_per_event` of it. Without credit, the relay's zap admission decides when there is
//! one, else the write is refused with `restricted:`, the price and how to pay. The owner always
//! writes; events paid for over Interledger pass.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use nostr::prelude::PublicKey;
use seedstr_proto::Event;
use seedstr_relay::gate::{Gate, Verdict};

/// Credit per writer, kept in `credits.json`.
pub struct Credits {
    file: PathBuf,
    held: Mutex<BTreeMap<String, u64>>,
    /// Debits not yet on disk: written by [`Credits::keep_writing`], off the gate's path.
    unwritten: tokio::sync::Notify,
    price: u64,
    owner: PublicKey,
    /// Zap admission, asked when a writer has no credit.
    fallback: Option<Arc<dyn Gate>>,
    refusal: String,
}

impl Credits {
    /// Opens the credits kept in `data/credits.json`; each event costs `price`.
    pub fn open(
        data: &std::path::Path,
        price: u64,
        owner: PublicKey,
        fallback: Option<Arc<dyn Gate>>,
        refusal: String,
    ) -> Result<Credits, String> {
        let file = data.join("credits.json");
        let held = match std::fs::read(&file) {
            Ok(bytes) => {
                serde_json::from_slice(&bytes).map_err(|e| format!("{}: {e}", file.display()))?
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => BTreeMap::new(),
            Err(e) => return Err(format!("{}: {e}", file.display())),
        };
        Ok(Credits {
            file,
            held: Mutex::new(held),
            unwritten: tokio::sync::Notify::new(),
            price,
            owner,
            fallback,
            refusal,
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, u64>> {
        self.held.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Writes the credits as they are now, durably, on the blocking pool.
    async fn write(self: &Arc<Self>) -> std::io::Result<()> {
        let this = self.clone();
        seedstr_client::files::blocking::off_runtime(move || {
            // The snapshot and the write under one lock: a later write never loses to an
            // earlier one.
            let held = this.lock();
            let bytes = serde_json::to_vec(&*held).expect("credits serialize");
            seedstr_client::files::durable::replace_file(&this.file, &bytes)
        })
        .await
    }

    /// Adds `amount` to `who`'s credit, kept before it is reported: the credit now.
    pub async fn add(self: &Arc<Self>, who: &PublicKey, amount: u64) -> std::io::Result<u64> {
        let now = {
            let mut held = self.lock();
            let c = held.entry(who.to_hex()).or_default();
            *c = c.saturating_add(amount);
            *c
        };
        self.write().await?;
        Ok(now)
    }

    /// Writes debits as they come, a moment after the events they paid for (a gate answers on
    /// the connection's task and must not wait on the disk; a crash may forget the last
    /// moment's debits, in the writer's favour, never a credit bought).
    pub async fn keep_writing(self: Arc<Self>) {
        loop {
            self.unwritten.notified().await;
            if let Err(e) = self.write().await {
                tracing::warn!(target: "seedstr::ilp", "keeping write credit: {e}");
            }
        }
    }

    /// `who`'s credit.
    pub fn credit(&self, who: &PublicKey) -> u64 {
        self.lock().get(&who.to_hex()).copied().unwrap_or(0)
    }
}

/// Credits as a relay gate.
pub struct CreditGate(pub Arc<Credits>);

impl Gate for CreditGate {
    fn check(&self, event: &Event, ip: IpAddr, authed: Option<&[u8; 32]>) -> Verdict {
        let c = &self.0;
        if event.pubkey == c.owner {
            return Verdict::Admit;
        }
        {
            let mut held = c.lock();
            let key = event.pubkey.to_hex();
            if let Some(credit) = held.get_mut(&key).filter(|credit| **credit >= c.price) {
                *credit -= c.price;
                c.unwritten.notify_one();
                return Verdict::Admit;
            }
        }
        match &c.fallback {
            Some(g) => match g.check(event, ip, authed) {
                Verdict::Refuse(why) => Verdict::Refuse(format!("{why}; or {}", c.refusal)),
                other => other,
            },
            None => Verdict::Refuse(format!("restricted: {}", c.refusal)),
        }
    }

    fn check_paid(&self, _event: &Event, _ip: IpAddr, _authed: Option<&[u8; 32]>) -> Verdict {
        Verdict::Admit
    }
}

/// What `/api/v1/ilp/credit` needs: the credits and a check of NIP-98 authorizations for its
/// URL.
pub struct CreditDesk {
    /// The credits.
    pub credits: Arc<Credits>,
    /// Checks authorizations (fresh, for this URL, used once).
    pub auth: seedstr_ilp::peer_auth::PeerAuth,
}
