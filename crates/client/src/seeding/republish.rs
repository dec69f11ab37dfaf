//! Keeping records alive on the DHT: nodes forget an item about two hours after its last put
//! and an announced peer after about half an hour, so a long-running node puts its kept items
//! again every hour and announces what it seeds every fifteen minutes.

use std::path::Path;

use seedstr_dht::{DhtNode, SignedItem};

use crate::seeding::dht_items::ItemStore;

/// How often kept items are put again.
pub const REPUBLISH_EVERY: std::time::Duration = std::time::Duration::from_secs(3600);
/// How often seeded torrents are announced again.
pub const ANNOUNCE_EVERY: std::time::Duration = std::time::Duration::from_secs(15 * 60);

/// What happened to one kept item.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Republished {
    /// The record's DHT target (hex).
    pub target: String,
    /// What the record is, for people.
    pub label: String,
    /// The identity behind the record (hex).
    pub author: String,
    /// The sequence number put.
    pub seq: i64,
    /// Nodes that stored it, or why none did.
    pub outcome: Result<u32, String>,
    /// The DHT held a newer item than the one kept, and that one was kept and put instead.
    pub refreshed: bool,
}

/// Puts every kept item again, first taking any newer item the DHT holds for it (the signer may
/// have updated it from elsewhere); broken files are described in the second list.
pub async fn republish_kept(home: &Path, dht: &DhtNode) -> (Vec<Republished>, Vec<String>) {
    let store = ItemStore::new(home);
    let (items, broken) = store.list();
    let mut done = Vec::new();
    for (kept, mut item) in items {
        let mut refreshed = false;
        if let Some(newer) = dht
            .most_recent(item.key(), item.salt().unwrap_or_default())
            .await
            .filter(|n| n.seq() > item.seq())
        {
            // The library checked the newer item's signature; the store checks it again on read.
            if store
                .keep(&newer, &kept.label, &kept.author, kept.own)
                .is_ok()
            {
                item = newer;
                refreshed = true;
            }
        }
        let outcome = dht
            .republish(item.clone())
            .await
            .map(|s| s.stored_at)
            .map_err(|e| e.to_string());
        done.push(Republished {
            target: SignedItem::of(&item).target(),
            label: kept.label,
            author: kept.author,
            seq: item.seq(),
            outcome,
            refreshed,
        });
    }
    (done, broken)
}
