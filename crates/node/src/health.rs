//! `GET /health` (is the node up, in a few numbers) and `GET /metrics` (the same and more, in
//! Prometheus's text format).

use std::fmt::Write as _;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use seedstr_relay::Relay;
use serde::{Deserialize, Serialize};

use seedstr_client::seeding::seeder::{BootstrapReport, DhtState, DhtStateHandle, SeedingStats};

/// What the node's parts report, shared with the HTTP handlers.
pub struct Status {
    /// When the node started.
    pub started: Instant,
    /// The relay, for its connection count.
    pub relay: Arc<Relay>,
    /// As of the seeder's last look at its registry.
    pub seeding: Arc<Mutex<SeedingStats>>,
    /// The address the torrent session is bound to.
    pub torrent_listen: SocketAddr,
    /// The DHT node's state.
    pub dht: DhtStateHandle,
    /// The data folder, where the kept DHT records are counted.
    pub data: PathBuf,
    /// The relays the node's lookups ask: its own, then the configured ones.
    pub relays: Vec<String>,
    /// The Interledger peer, when the node is one.
    pub ilp: Option<Arc<crate::ilp::IlpNode>>,
}

impl Status {
    /// The seeder's summary, as of its last look.
    pub fn seeding_stats(&self) -> SeedingStats {
        *self.seeding.lock().expect("seeding stats lock")
    }

    /// DHT records kept for republishing (own and followed).
    pub fn kept_records(&self) -> usize {
        seedstr_client::seeding::dht_items::ItemStore::new(&self.data).count()
    }
}

/// `/health` and `/metrics`.
pub fn router(status: Arc<Status>) -> Router {
    Router::new()
        .route("/health", get(health))
        .route("/metrics", get(metrics))
        .with_state(status)
}

/// `GET /health`: that the node answers, with the figures a supervisor or script wants.
#[derive(Debug, Serialize, Deserialize)]
pub struct Health {
    /// Always `ok`.
    pub status: String,
    /// The node's version.
    pub version: String,
    /// Seconds since it started.
    pub uptime_secs: u64,
    /// Its relay.
    pub relay: HealthRelay,
    /// Its BitTorrent side.
    pub seeding: HealthSeeding,
    /// Its DHT node.
    pub dht: HealthDht,
}

/// The relay, in `/health`.
#[derive(Debug, Serialize, Deserialize)]
pub struct HealthRelay {
    /// Open WebSocket connections.
    pub connections: usize,
}

/// The BitTorrent side, in `/health`.
#[derive(Debug, Serialize, Deserialize)]
pub struct HealthSeeding {
    /// Torrents being seeded.
    pub torrents: usize,
    /// Connected peers.
    pub peers: u64,
    /// The address peers connect to.
    pub listen: String,
}

/// The DHT node, in `/health`.
#[derive(Debug, Serialize, Deserialize)]
pub struct HealthDht {
    /// Joined, joining, alone or off.
    pub state: DhtState,
    /// Its UDP address, when it runs.
    pub listen: Option<String>,
    /// Where it looked for other nodes (the routing table kept from the last run, the
    /// configured bootstrap nodes, the public routers), and which it started with.
    pub bootstrap: Option<BootstrapReport>,
}

async fn health(State(s): State<Arc<Status>>) -> Json<Health> {
    let seeding = s.seeding_stats();
    Json(Health {
        status: "ok".into(),
        version: env!("CARGO_PKG_VERSION").into(),
        uptime_secs: s.started.elapsed().as_secs(),
        relay: HealthRelay {
            connections: s.relay.connection_count(),
        },
        seeding: HealthSeeding {
            torrents: seeding.torrents,
            peers: seeding.live_peers,
            listen: s.torrent_listen.to_string(),
        },
        dht: HealthDht {
            state: s.dht.get(),
            listen: s.dht.listen().map(|a| a.to_string()),
            bootstrap: s.dht.bootstrap(),
        },
    })
}

async fn metrics(State(s): State<Arc<Status>>) -> impl IntoResponse {
    let seeding = s.seeding_stats();
    let dht_joined = u64::from(s.dht.get() == DhtState::Joined);
    let rows: [(&str, &str, &str, u64); 11] = [
        (
            "seedstr_uptime_seconds",
            "gauge",
            "Seconds since the node started.",
            s.started.elapsed().as_secs(),
        ),
        (
            "seedstr_relay_connections",
            "gauge",
            "Open WebSocket connections.",
            s.relay.connection_count() as u64,
        ),
        (
            "seedstr_relay_subscriptions",
            "gauge",
            "Open subscriptions over every connection.",
            s.relay.subscription_count() as u64,
        ),
        (
            "seedstr_relay_events_saved_total",
            "counter",
            "New events stored since start.",
            s.relay.events_saved(),
        ),
        (
            "seedstr_torrents_seeding",
            "gauge",
            "Payloads being served.",
            seeding.torrents as u64,
        ),
        (
            "seedstr_torrent_peers",
            "gauge",
            "Peers connected, over every torrent.",
            seeding.live_peers,
        ),
        (
            "seedstr_torrent_uploaded_bytes",
            "gauge",
            "Bytes sent to peers by the torrents being served, since each started.",
            seeding.uploaded_bytes,
        ),
        (
            "seedstr_torrent_served_bytes",
            "gauge",
            "Total size of the payloads being served.",
            seeding.served_bytes,
        ),
        (
            "seedstr_dht_joined",
            "gauge",
            "1 when the DHT node has joined the network.",
            dht_joined,
        ),
        (
            "seedstr_dht_announces_total",
            "counter",
            "Successful announces of seeded torrents.",
            s.dht.announces(),
        ),
        (
            "seedstr_dht_records_kept",
            "gauge",
            "DHT records kept and put again periodically.",
            s.kept_records() as u64,
        ),
    ];
    let mut text = String::new();
    for (name, kind, help, value) in rows {
        let _ = writeln!(
            text,
            "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}"
        );
    }
    if let Some(ilp) = &s.ilp {
        text.push_str(&ilp.metrics());
    }
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        text,
    )
}
