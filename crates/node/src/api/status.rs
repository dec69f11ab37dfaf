//! `GET /api/v1/status`: what the node is doing: relay, seeding (with each payload), DHT.

use std::sync::Arc;

use axum::extract::State;
use axum::Json;
use seedstr_client::seeding::registry::SeedRegistry;
use serde_json::{json, Value};

use super::ApiState;

/// `GET /api/v1/status`.
pub async fn status(State(s): State<Arc<ApiState>>) -> Json<Value> {
    Json(status_view(&s))
}

/// The payloads registered for seeding in `data` (as JSON), and the unreadable entries.
pub fn registered(data: &std::path::Path) -> (Vec<Value>, Vec<String>) {
    let (seeds, broken) = SeedRegistry::new(data).list();
    let payloads = seeds
        .iter()
        .map(|seed| {
            json!({
                "infohash": seed.entry.infohash,
                "release": seed.entry.release,
                "origin": seed.entry.origin,
            })
        })
        .collect();
    (payloads, broken)
}

/// The node's status, for the API and the web UI alike.
pub fn status_view(s: &ApiState) -> Value {
    let st = &s.status;
    let seeding = st.seeding_stats();
    let (payloads, broken) = registered(&s.data);
    json!({
        "version": env!("CARGO_PKG_VERSION"),
        "uptime_secs": st.started.elapsed().as_secs(),
        "relay": {
            "connections": st.relay.connection_count(),
            "subscriptions": st.relay.subscription_count(),
            "events_saved": st.relay.events_saved(),
        },
        "seeding": {
            "listen": st.torrent_listen.to_string(),
            "torrents": seeding.torrents,
            "peers": seeding.live_peers,
            "uploaded_bytes": seeding.uploaded_bytes,
            "registered": payloads,
            "broken_entries": broken,
        },
        "relays": st.relays,
        "dht": {
            "state": st.dht.get(),
            "listen": st.dht.listen().map(|a| a.to_string()),
            "announces": st.dht.announces(),
            "records_kept": st.kept_records(),
        },
    })
}
