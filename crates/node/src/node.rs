//! Running the node: the event store and relay, the seeder with its DHT upkeep, and the
//! registry views, served together on one HTTP port until shutdown.

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context;
use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::ws::WebSocketUpgrade;
use axum::extract::{ConnectInfo, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::get;
use axum::serve::ListenerExt;
use axum::Router;
use seedstr_client::install::InstallOptions;
use seedstr_client::resolve::target::parse_public_key;
use seedstr_client::seeding::payload_store::PayloadStore;
use seedstr_client::seeding::registry::Origin;
use seedstr_dht::DhtOptions;
use seedstr_pkg::catalog::Sources;
use seedstr_pkg::store::PackageStore;
use seedstr_pkg::views::server::ViewState;
use seedstr_relay::Relay;
use seedstr_store::lmdb::LmdbStore;
use seedstr_store::postgres::PgStore;
use seedstr_store::Store;
use seedstr_swarm::SwarmOptions;
use tokio::net::TcpListener;

use crate::api::{self, ApiState};
use crate::config::NodeConfig;
use crate::discovery::{self, loopback_for, NodeFile};
use crate::health::{self, Status};
use crate::ui;
use seedstr_client::seeding::seeder::{Report, SeedNote, SeedOptions, Seeder, SeedingStats};

/// Where a started node can be reached.
#[derive(Debug, Clone)]
pub struct Addresses {
    pub http: SocketAddr,
    /// Where peers on this machine reach the torrent session (loopback when it listens on
    /// every address).
    pub torrent: SocketAddr,
    /// The address the torrent session is bound to, as configured (`0.0.0.0:6881`, say).
    pub torrent_listen: SocketAddr,
}

/// Runs the node from `config` (its data folder defaulting to `home`) until `shutdown`
/// resolves; `started` hears where it listens once everything is up. On shutdown the HTTP
/// server stops taking connections and lets open requests finish, the seeder stops, and the
/// store, which commits every event before the relay acknowledges it, is closed.
pub async fn run(
    home: &Path,
    config: NodeConfig,
    started: impl FnOnce(&Addresses),
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let data = config.data_dir(home);
    std::fs::create_dir_all(&data)
        .with_context(|| format!("creating the data folder {}", data.display()))?;
    let store = open_store(&config, &data).await?;
    let listener = TcpListener::bind(config.http.listen)
        .await
        .with_context(|| format!("cannot listen on {}", config.http.listen))?;
    let http = listener.local_addr()?;
    let own_relay = format!("ws://{}/", loopback_for(http));

    let relay = Relay::new(config.relay.clone(), store.clone());
    relay.start_background();

    let dht_bootstrap = config.dht.enabled.then(|| config.dht.bootstrap.clone());
    let report: Report = Arc::new(|note: &SeedNote| {
        let event = serde_json::to_string(note).unwrap_or_default();
        tracing::info!(target: "seedstr::seeding", %event, "{note}");
    });
    let mut seeder = Seeder::start(
        &data,
        SeedOptions {
            swarm: SwarmOptions {
                listen: Some(config.torrent.listen),
                dht_bootstrap: dht_bootstrap.clone(),
                dht_port: None,
                trackers: config.torrent.trackers,
                upload_limit_bps: std::num::NonZeroU32::new(config.torrent.upload_limit),
            },
            dht: dht_bootstrap.clone(),
            republish: Duration::from_secs(config.dht.republish_secs.max(1)),
        },
        report,
    )
    .await
    .context("starting the BitTorrent session")?;
    let torrent = seeder
        .swarm
        .local_peer_addr()
        .context("the BitTorrent session is not listening")?;
    let torrent_listen = seeder.swarm.listen_addr().unwrap_or(torrent);

    let fetch = InstallOptions {
        relays: vec![own_relay.clone()],
        relay_timeout: Duration::from_secs(config.packages.relay_timeout_secs.max(1)),
        allow_downgrade: true,
        peers: Vec::new(),
        stall_timeout: Duration::from_secs(config.packages.stall_timeout_secs.max(1)),
        home: data.clone(),
        dht: dht_bootstrap.as_deref().map(DhtOptions::joining),
    };
    // The relays lookups ask: the node's own first, then the configured ones.
    let relays: Vec<String> = std::iter::once(own_relay.clone())
        .chain(config.packages.relays.iter().cloned())
        .collect();
    let views = Arc::new(ViewState {
        sources: Sources {
            relays: relays.clone(),
            relay_timeout: Duration::from_secs(config.packages.relay_timeout_secs.max(1)),
            trusted: trusted_registries(&data, &config.packages.registries)?,
            home: data.clone(),
        },
        swarm: seeder.swarm.clone(),
        store: PackageStore::new(&data),
        fetch: fetch.clone(),
    });

    let seeding_stats = Arc::new(Mutex::new(SeedingStats::default()));
    // Uploads ask for a look at the registry at once, and wait to see their payload served.
    let (served_tx, served) = tokio::sync::watch::channel(BTreeSet::new());
    let look_now = Arc::new(tokio::sync::Notify::new());
    let status = Arc::new(Status {
        started: Instant::now(),
        relay: relay.clone(),
        seeding: seeding_stats.clone(),
        torrent_listen,
        dht: seeder.dht_state(),
        data: data.clone(),
        relays,
    });
    let api_state = Arc::new(ApiState {
        store,
        status: status.clone(),
        data: data.clone(),
        swarm: seeder.swarm.clone(),
        fetch,
        // Releases fetched for a download are kept and seeded, as a mirror's are.
        downloads: PayloadStore::new(&data, data.join("downloads"), Origin::Mirrored),
        packages: views.sources.clone(),
        seeders: api::seeders::SeedersCache::new(status.dht.clone()),
        feeds: api::feed::FeedCache::default(),
        uploads: api::payloads::UploadPolicy {
            who: config.http.uploads,
            max_bytes: config.http.max_upload_mib.saturating_mul(1024 * 1024),
        },
        seeder: api::payloads::SeederLink {
            look_now: look_now.clone(),
            served,
        },
    });
    let app: Router = Router::new()
        .route("/", get(root))
        .with_state(Arc::new(Root {
            relay: relay.clone(),
            api: api_state.clone(),
        }))
        .merge(seedstr_pkg::views::server::router(views))
        .merge(health::router(status))
        .merge(api::router(api_state.clone()))
        .merge(ui::router(api_state));

    // The seeder looks at its registry on its own schedule; the HTTP server only reads the
    // summary it publishes after each look.
    let poll = Duration::from_secs(config.torrent.poll_secs.max(1));
    let (stop_seeding, mut seeding_stopped) = tokio::sync::watch::channel(false);
    let seeding = tokio::spawn(async move {
        loop {
            if let Err(e) = seeder.pass().await {
                tracing::warn!("seed registry: {e:#}");
            }
            *seeding_stats.lock().expect("seeding stats lock") = seeder.stats();
            served_tx.send_replace(seeder.active());
            tokio::select! {
                _ = tokio::time::sleep(poll) => {}
                _ = look_now.notified() => {}
                _ = seeding_stopped.changed() => break,
            }
        }
        seeder.swarm.stop().await;
    });

    started(&Addresses {
        http,
        torrent,
        torrent_listen,
    });
    // Commands find the node through this file; it goes when the node stops.
    if let Err(e) = discovery::announce(
        &data,
        &NodeFile {
            http,
            torrent,
            pid: std::process::id(),
        },
    ) {
        tracing::warn!(
            "writing {}: {e}; commands will not find this node",
            data.join(discovery::NODE_FILE).display()
        );
    }
    // Small Nostr messages must not wait for Nagle's algorithm (40 ms stalls otherwise).
    let listener = listener.tap_io(|tcp| {
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::debug!("TCP_NODELAY: {e}");
        }
    });
    let served = axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await;
    discovery::withdraw(&data);
    let _ = stop_seeding.send(true);
    let _ = seeding.await;
    served.context("serving HTTP")
}

/// What `/` needs: the relay for WebSocket and NIP-11 requests, the UI's state for browsers.
struct Root {
    relay: Arc<Relay>,
    api: Arc<ApiState>,
}

/// `GET /`: Nostr clients get the relay (WebSocket, NIP-11), browsers the home page.
async fn root(
    State(app): State<Arc<Root>>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    ws: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Response {
    if ws.is_ok() || seedstr_relay::wants_nip11(&headers) {
        return seedstr_relay::root(State(app.relay.clone()), ConnectInfo(addr), headers, ws).await;
    }
    ui::home(app.api.clone()).await
}

async fn open_store(config: &NodeConfig, data: &Path) -> anyhow::Result<Arc<dyn Store>> {
    if !config.store.database.is_empty() {
        let store = PgStore::connect(&config.store.database)
            .await
            .context("opening the PostgreSQL store")?;
        return Ok(store);
    }
    let dir = if config.store.lmdb.as_os_str().is_empty() {
        data.join("relay")
    } else {
        config.store.lmdb.clone()
    };
    let store = LmdbStore::open(&dir)
        .with_context(|| format!("opening the event store in {}", dir.display()))?;
    Ok(store)
}

/// The registries the views trust: those kept in the data folder, plus the configured ones.
fn trusted_registries(
    data: &Path,
    configured: &[String],
) -> anyhow::Result<Vec<nostr::prelude::PublicKey>> {
    let mut keys = seedstr_pkg::trust::load(data)?;
    for text in configured {
        let key = parse_public_key(text)
            .with_context(|| format!("packages.registries: {text:?} is not a public key"))?;
        if !keys.contains(&key) {
            keys.push(key);
        }
    }
    Ok(keys)
}
