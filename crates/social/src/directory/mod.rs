//! The directory (`seedstr directory`): a relay that takes people's profiles, follow lists,
//! relay and inbox lists and transport-key attestations, answers NIP-50 searches over names,
//! and publishes signed status reports of the nodes it indexes. Nobody has to trust it:
//! [`discover`] verifies every signature, keeps the newest of each list, and confirms with the
//! node itself.

pub mod discover;
pub mod index;
pub mod status;

use std::sync::Arc;
use std::time::Duration;

use seedstr_client::relays::live::{subscribe, LiveNote};
use seedstr_client::relays::query_all;
use serde_json::json;

use crate::home::RELAY_LIST_KIND;
use crate::inbox::INBOX_RELAYS_KIND;
use crate::people::FOLLOW_LIST_KIND;
use crate::profile::PROFILE_KIND;
use index::DirectoryIndex;

/// The kinds a directory takes: profiles, follow lists, relay lists, inbox lists, transport
/// key attestations, and status reports and monitor announcements (its own and other
/// directories').
pub const DIRECTORY_KINDS: [u16; 7] = [
    PROFILE_KIND,
    FOLLOW_LIST_KIND,
    RELAY_LIST_KIND,
    INBOX_RELAYS_KIND,
    10744,
    status::RELAY_STATUS_KIND,
    status::MONITOR_KIND,
];

/// Events read per page while the index is first filled.
const PAGE: usize = 2_000;

/// Fills `index` from the relay at `url` (the directory's own), page by page back in time,
/// then keeps it current from a live subscription until the process ends. Returns once the
/// first fill is done (so searches see everything stored), the subscription running on.
pub async fn feed_index(index: Arc<DirectoryIndex>, url: String, timeout: Duration) {
    let kinds = [PROFILE_KIND, RELAY_LIST_KIND, INBOX_RELAYS_KIND];
    let started = seedstr_proto::clock::unix_now();
    let mut until: Option<u64> = None;
    let mut seen = std::collections::HashSet::new();
    loop {
        let mut filter = json!({"kinds": kinds, "limit": PAGE});
        if let Some(u) = until {
            filter["until"] = u.into();
        }
        let found = query_all(std::slice::from_ref(&url), &filter, timeout).await;
        if found.answered.is_empty() {
            tracing::warn!("filling the directory index from {url}: {:?}", found.failed);
            break;
        }
        let mut fresh = 0;
        let mut oldest = u64::MAX;
        for e in &found.events {
            oldest = oldest.min(e.created_at.as_secs());
            if seen.insert(e.id) {
                fresh += 1;
                index.absorb(e);
            }
        }
        if fresh == 0 || found.events.len() < PAGE {
            break;
        }
        until = Some(oldest);
    }
    tracing::info!("directory index: {} people", index.people());
    let mut live = subscribe(
        &[url],
        vec![json!({"kinds": kinds, "since": started.saturating_sub(60)})],
    );
    tokio::spawn(async move {
        while let Some(note) = live.recv().await {
            if let LiveNote::Event { event, .. } = note {
                index.absorb(&event);
            }
        }
    });
}
