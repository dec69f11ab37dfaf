//! `GET /health`: whether the node is up, and the few numbers that say it is working.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use seedstr_relay::Relay;
use serde_json::{json, Value};

use crate::seeding::DhtStateHandle;

/// What the node's parts report, shared with the HTTP handlers.
pub struct Status {
    pub started: Instant,
    pub relay: Arc<Relay>,
    /// Payloads the seeder serves, as of its last look at the registry.
    pub serving: Arc<AtomicUsize>,
    pub torrent: SocketAddr,
    pub dht: DhtStateHandle,
}

pub fn router(status: Arc<Status>) -> Router {
    Router::new()
        .route("/health", get(health))
        .with_state(status)
}

async fn health(State(s): State<Arc<Status>>) -> Json<Value> {
    Json(json!({
        "status": "ok",
        "version": env!("CARGO_PKG_VERSION"),
        "uptime_secs": s.started.elapsed().as_secs(),
        "relay": {"connections": s.relay.connection_count()},
        "seeding": {"torrents": s.serving.load(Ordering::Relaxed), "listen": s.torrent.to_string()},
        "dht": {"state": s.dht.get()},
    }))
}
