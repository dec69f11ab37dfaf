#![warn(missing_docs)]
//! Seedstr's Nostr relay: NIP-01 over an event [`Store`], with NIP-09, 11, 40, 42, 45, 70, 77.
//!
//! One HTTP port: a WebSocket upgrade speaks Nostr; `Accept: application/nostr+json` gets the
//! NIP-11 document. Each connection has a reader loop and a writer task joined by a bounded
//! queue; new events reach live subscriptions through [`live::LiveIndex`].

pub mod auth;
pub mod client_address;
pub mod config;
mod connection;
pub mod gate;
pub mod limiter;
pub mod live;
pub mod nip11;
pub mod open_files;
pub mod policy;
pub mod refusal;
pub mod search;
pub mod session;

use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::ws::WebSocketUpgrade;
use axum::extract::{ConnectInfo, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::serve::ListenerExt;
use axum::Router;
use seedstr_proto::Event;
use seedstr_store::{QueryOptions, Store};
use tokio::net::TcpListener;

pub use config::RelayConfig;

/// The relay: its configuration, its store, live subscriptions and rate limits. One is
/// shared by every connection.
pub struct Relay {
    /// What the relay accepts and says about itself.
    pub config: RelayConfig,
    store: Arc<dyn Store>,
    gate: std::sync::OnceLock<Arc<dyn gate::Gate>>,
    search: std::sync::OnceLock<Arc<dyn search::Search>>,
    live: live::LiveIndex,
    ip_events: limiter::Limiter<IpAddr>,
    pubkey_events: limiter::Limiter<[u8; 32]>,
    ip_reqs: limiter::Limiter<IpAddr>,
    next_connection: AtomicU64,
    connections: AtomicUsize,
    per_address: client_address::ConnectionCounts,
    /// Room left in the relay-wide budget of records open negentropy sessions hold.
    negentropy_room: Arc<tokio::sync::Semaphore>,
    /// New events stored since start, for the node's metrics.
    pub(crate) events_saved: AtomicU64,
}

impl Relay {
    /// A relay over `store` with `config`.
    pub fn new(config: RelayConfig, store: Arc<dyn Store>) -> Arc<Relay> {
        let r = &config.rate;
        let negentropy_total = config
            .limits
            .max_negentropy_records_total
            .min(tokio::sync::Semaphore::MAX_PERMITS);
        Arc::new(Relay {
            ip_events: limiter::Limiter::new(r.events_per_ip_per_second, r.events_per_ip_burst),
            pubkey_events: limiter::Limiter::new(
                r.events_per_pubkey_per_second,
                r.events_per_pubkey_burst,
            ),
            ip_reqs: limiter::Limiter::new(r.reqs_per_ip_per_second, r.reqs_per_ip_burst),
            config,
            store,
            gate: std::sync::OnceLock::new(),
            search: std::sync::OnceLock::new(),
            live: live::LiveIndex::default(),
            next_connection: AtomicU64::new(1),
            connections: AtomicUsize::new(0),
            per_address: client_address::ConnectionCounts::default(),
            negentropy_room: Arc::new(tokio::sync::Semaphore::new(negentropy_total)),
            events_saved: AtomicU64::new(0),
        })
    }

    pub(crate) fn query_options(&self) -> QueryOptions {
        QueryOptions {
            max_limit: self.config.limits.max_limit,
            budget: Duration::from_millis(self.config.limits.query_budget_ms),
            now: seedstr_proto::clock::unix_now(),
        }
    }

    /// Puts `gate` in front of storage (once; false when a gate was already set).
    pub fn set_gate(&self, gate: Arc<dyn gate::Gate>) -> bool {
        self.gate.set(gate).is_ok()
    }

    pub(crate) fn gate(&self) -> Option<&Arc<dyn gate::Gate>> {
        self.gate.get()
    }

    /// Offers NIP-50 search through `search` (once; false when one was already set).
    pub fn set_search(&self, search: Arc<dyn search::Search>) -> bool {
        self.search.set(search).is_ok()
    }

    pub(crate) fn searcher(&self) -> Option<&Arc<dyn search::Search>> {
        self.search.get()
    }

    /// Open WebSocket connections.
    pub fn connection_count(&self) -> usize {
        self.connections.load(Ordering::Relaxed)
    }

    /// Open subscriptions, over every connection.
    pub fn subscription_count(&self) -> usize {
        self.live.len()
    }

    /// Takes one event (NIP-01 JSON) as an `EVENT` from an unauthenticated client at `ip`
    /// would be taken: the same size, rate, policy and signature checks, then stored and sent
    /// to live subscriptions. Ok: the event id and the OK message (empty for a plain accept);
    /// Err: the event id when known, and the refusal with its NIP-01 prefix.
    pub async fn submit(
        &self,
        ip: IpAddr,
        json: &str,
    ) -> Result<(String, String), (Option<String>, String)> {
        connection::accept_event(self, None, ip, false, json).await
    }

    /// [`Relay::submit`] for an event paid for another way (one a subscription over
    /// Interledger brought): a gate that charges for writes lets it through.
    pub async fn submit_paid(
        &self,
        ip: IpAddr,
        json: &str,
    ) -> Result<(String, String), (Option<String>, String)> {
        connection::accept_event(self, None, ip, true, json).await
    }

    /// New events stored since the relay started (duplicates and refusals not counted).
    pub fn events_saved(&self) -> u64 {
        self.events_saved.load(Ordering::Relaxed)
    }

    /// The relay's routes, for mounting in a larger server (the node).
    pub fn router(self: &Arc<Self>) -> Router {
        Router::new().route("/", get(root)).with_state(self.clone())
    }

    /// Serves until `shutdown` resolves. Also runs the expiration sweeper and, for shared
    /// stores, the fan-out of events saved by other front-ends.
    pub async fn serve(
        self: Arc<Self>,
        listener: TcpListener,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        self.start_background();
        // Small Nostr messages must not wait for Nagle's algorithm (40 ms stalls otherwise).
        let listener = listener.tap_io(|tcp| {
            if let Err(e) = tcp.set_nodelay(true) {
                tracing::debug!("TCP_NODELAY: {e}");
            }
        });
        axum::serve(
            listener,
            self.router()
                .into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(shutdown)
        .await
    }

    /// Serves on an ephemeral loopback port from a thread of its own, until the process ends;
    /// the address. For tests and benchmarks, which need a real relay beside their own runtime.
    pub fn serve_on_loopback(
        config: RelayConfig,
        store: Arc<dyn Store>,
    ) -> std::io::Result<SocketAddr> {
        let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
        let addr = listener.local_addr()?;
        listener.set_nonblocking(true)?;
        std::thread::spawn(move || {
            let rt = tokio::runtime::Runtime::new().expect("a runtime for the relay");
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).expect("a listener");
                if let Err(e) = Relay::new(config, store)
                    .serve(listener, std::future::pending())
                    .await
                {
                    tracing::error!("the loopback relay stopped: {e}");
                }
            });
        });
        Ok(addr)
    }

    /// Starts the expiration sweeper and, for shared stores, the fan-out of events saved by
    /// other front-ends; [`Relay::serve`] does this itself, a server mounting
    /// [`Relay::router`] calls it once.
    pub fn start_background(self: &Arc<Self>) {
        let relay = Arc::downgrade(self);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(60));
            loop {
                tick.tick().await;
                let Some(relay) = relay.upgrade() else { break };
                match relay
                    .store
                    .purge_expired(seedstr_proto::clock::unix_now())
                    .await
                {
                    Ok(0) => {}
                    Ok(n) => tracing::info!("purged {n} expired events"),
                    Err(e) => tracing::warn!("expiration sweep failed: {e}"),
                }
            }
        });
        if let Some(mut foreign) = self.store.foreign_events() {
            let relay = Arc::downgrade(self);
            tokio::spawn(async move {
                loop {
                    let event = match foreign.recv().await {
                        Ok(e) => e,
                        Err(tokio::sync::broadcast::error::RecvError::Lagged(n)) => {
                            tracing::warn!("missed {n} events from other front-ends");
                            continue;
                        }
                        Err(_) => break,
                    };
                    let Some(relay) = relay.upgrade() else { break };
                    relay.broadcast(&event);
                }
            });
        }
    }

    /// Sends an accepted event to every live subscription that matches and may see it.
    pub(crate) fn broadcast(&self, event: &Event) {
        self.live
            .dispatch(event, |conn| self.may_see(event, conn.authed().as_ref()));
    }

    /// Private-message protection: kinds 4 and 1059 go only to their author or a `p`-tagged
    /// recipient who authenticated.
    pub(crate) fn may_see(&self, event: &Event, authed: Option<&[u8; 32]>) -> bool {
        if !self.config.auth.protect_private_messages || !is_private_kind(event.kind.as_u16()) {
            return true;
        }
        let Some(pk) = authed else { return false };
        if event.pubkey.as_bytes() == pk {
            return true;
        }
        let pk_hex = hex::encode(pk);
        event
            .tags
            .iter()
            .any(|t| matches!(t.as_slice(), [n, v, ..] if n == "p" && *v == pk_hex))
    }
}

/// Kinds served only to their author or recipient (sorted).
pub(crate) const PRIVATE_KINDS: [u16; 2] = [
    seedstr_proto::kind::ENCRYPTED_DM,
    seedstr_proto::kind::GIFT_WRAP,
];

pub(crate) fn is_private_kind(kind: u16) -> bool {
    PRIVATE_KINDS.contains(&kind)
}

/// Whether a request asks for the NIP-11 document.
pub fn wants_nip11(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("application/nostr+json"))
}

/// `GET /`: a WebSocket upgrade speaks Nostr, `Accept: application/nostr+json` gets NIP-11,
/// anything else a line saying what this is. Public so a server that puts its own page at `/`
/// (the node) can hand the first two here.
pub async fn root(
    State(relay): State<Arc<Relay>>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    ws: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Response {
    if let Ok(ws) = ws {
        let limits = &relay.config.limits;
        if relay.connections.load(Ordering::Relaxed) >= limits.max_connections {
            return (StatusCode::SERVICE_UNAVAILABLE, "too many connections").into_response();
        }
        let ip = addr.ip();
        let per_ip = if limits.exempt_loopback && ip.is_loopback() {
            0
        } else {
            limits.max_connections_per_ip
        };
        let Some(counted) = relay.per_address.admit(ip, per_ip) else {
            return (
                StatusCode::TOO_MANY_REQUESTS,
                format!("too many connections from your address (at most {per_ip})"),
            )
                .into_response();
        };
        let mut hosts: Vec<String> = relay
            .config
            .info
            .url
            .iter()
            .map(|u| auth::host_of(u))
            .collect();
        if let Some(h) = headers.get(header::HOST).and_then(|h| h.to_str().ok()) {
            hosts.push(h.to_string());
        }
        let max = (relay.config.limits.max_event_bytes * 2).max(1 << 20) + 4096;
        return ws
            .max_message_size(max)
            .max_frame_size(max)
            .on_upgrade(move |socket| async move {
                connection::run(relay, socket, ip, hosts).await;
                drop(counted);
            });
    }
    let wants_nip11 = wants_nip11(&headers);
    let cors = [
        (header::ACCESS_CONTROL_ALLOW_ORIGIN, "*"),
        (header::ACCESS_CONTROL_ALLOW_HEADERS, "*"),
        (header::ACCESS_CONTROL_ALLOW_METHODS, "GET"),
    ];
    if wants_nip11 {
        let doc = nip11::document(&relay.config);
        let body = doc.to_string();
        return (
            cors,
            [(header::CONTENT_TYPE, "application/nostr+json")],
            body,
        )
            .into_response();
    }
    (
        cors,
        "This is a Seedstr Nostr relay: connect with a WebSocket, or ask for Accept: application/nostr+json.\n",
    )
        .into_response()
}
