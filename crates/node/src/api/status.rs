//! `GET /api/v1/status`: what the node is doing: relay, seeding (with each payload), DHT.

use std::path::Path;
use std::sync::Arc;

use axum::extract::State;
use axum::Json;
use seedstr_client::seeding::registry::{Origin, SeedRegistry};
use seedstr_client::seeding::seeder::DhtState;
use serde::{Deserialize, Serialize};

use super::ApiState;

/// What a running node is doing.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NodeStatus {
    /// The node's version.
    pub version: String,
    /// Seconds since it started.
    pub uptime_secs: u64,
    /// Its relay.
    pub relay: RelayActivity,
    /// Its BitTorrent side.
    pub seeding: SeedingActivity,
    /// The relays its lookups ask: its own, then the configured ones.
    pub relays: Vec<String>,
    /// Its DHT node.
    pub dht: DhtActivity,
}

/// The relay's counters.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RelayActivity {
    /// Open WebSocket connections.
    pub connections: usize,
    /// Open subscriptions.
    pub subscriptions: usize,
    /// Events stored since start.
    pub events_saved: u64,
}

/// The BitTorrent side: live figures and what is registered.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SeedingActivity {
    /// The address peers connect to.
    pub listen: String,
    /// Torrents being seeded.
    pub torrents: usize,
    /// Connected peers.
    pub peers: u64,
    /// Bytes uploaded since start.
    pub uploaded_bytes: u64,
    /// Every payload registered for seeding.
    pub registered: Vec<RegisteredPayload>,
    /// Registry entries that could not be read.
    pub broken_entries: Vec<String>,
}

/// The DHT node's state.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DhtActivity {
    /// Joined, joining, alone or off.
    pub state: DhtState,
    /// Its UDP address, when it runs.
    pub listen: Option<String>,
    /// Announces made since start.
    pub announces: u64,
    /// Signed records kept for republishing.
    pub records_kept: usize,
}

/// One payload registered for seeding.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RegisteredPayload {
    /// Its info hash (hex).
    pub infohash: String,
    /// The release, as `namespace/slug@version`.
    pub release: String,
    /// Why it is held.
    pub origin: Origin,
}

/// `GET /api/v1/status`.
pub async fn status(State(s): State<Arc<ApiState>>) -> Json<NodeStatus> {
    Json(status_view(&s))
}

/// The payloads registered for seeding in `data`, and the unreadable entries.
pub fn registered(data: &Path) -> (Vec<RegisteredPayload>, Vec<String>) {
    let (seeds, broken) = SeedRegistry::new(data).list();
    let payloads = seeds
        .into_iter()
        .map(|seed| RegisteredPayload {
            infohash: seed.entry.infohash,
            release: seed.entry.release,
            origin: seed.entry.origin,
        })
        .collect();
    (payloads, broken)
}

/// The node's status, for the API and the web UI alike.
pub fn status_view(s: &ApiState) -> NodeStatus {
    let st = &s.status;
    let seeding = st.seeding_stats();
    let (registered, broken_entries) = registered(&s.data);
    NodeStatus {
        version: env!("CARGO_PKG_VERSION").to_owned(),
        uptime_secs: st.started.elapsed().as_secs(),
        relay: RelayActivity {
            connections: st.relay.connection_count(),
            subscriptions: st.relay.subscription_count(),
            events_saved: st.relay.events_saved(),
        },
        seeding: SeedingActivity {
            listen: st.torrent_listen.to_string(),
            torrents: seeding.torrents,
            peers: seeding.live_peers,
            uploaded_bytes: seeding.uploaded_bytes,
            registered,
            broken_entries,
        },
        relays: st.relays.clone(),
        dht: DhtActivity {
            state: st.dht.get(),
            listen: st.dht.listen().map(|a| a.to_string()),
            announces: st.dht.announces(),
            records_kept: st.kept_records(),
        },
    }
}
