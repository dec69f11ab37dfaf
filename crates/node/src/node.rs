//! Running the node: the event store and relay, the seeder with its DHT upkeep, and the
//! registry views, served together on one HTTP port until shutdown.

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

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
use seedstr_pkg::catalog::Sources;
use seedstr_pkg::store::PackageStore;
use seedstr_pkg::trust::TrustError;
use seedstr_pkg::views::server::ViewState;
use seedstr_relay::Relay;
use seedstr_store::lmdb::LmdbStore;
use seedstr_store::postgres::PgStore;
use seedstr_store::{Store, StoreError};
use seedstr_swarm::SwarmOptions;
use tokio::net::TcpListener;

use crate::api::{self, ApiState};
use crate::bounds::Bounds;
use crate::config::{HttpConfig, NodeConfig};
use crate::discovery::{self, loopback_for, NodeFile};
use crate::health::{self, Status};
use crate::ui;
use seedstr_client::seeding::seeder::{
    Report, SeedNote, SeedOptions, Seeder, SeederError, SeedingStats,
};

/// The node's owner, unlocked at start: their key, and their wallet connection (NIP-47 URI)
/// when they made one.
#[derive(Clone)]
pub struct Owner {
    /// Their key.
    pub keys: nostr::prelude::Keys,
    /// Their wallet connection, which serves their lightning address.
    pub wallet: Option<String>,
}

/// Where a started node can be reached.
#[derive(Debug, Clone)]
pub struct Addresses {
    /// The HTTP address.
    pub http: SocketAddr,
    /// Where peers on this machine reach the torrent session (loopback when it listens on
    /// every address).
    pub torrent: SocketAddr,
    /// The address the torrent session is bound to, as configured (`0.0.0.0:6881`, say).
    pub torrent_listen: SocketAddr,
    /// The UDP address of the node's DHT node, when the DHT is on.
    pub dht: Option<std::net::SocketAddrV4>,
}

/// Why the node could not start or serve.
#[derive(Debug, thiserror::Error)]
pub enum NodeError {
    /// The data folder could not be made.
    #[error("creating the data folder {}: {source}", path.display())]
    DataDir {
        /// The folder.
        path: std::path::PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The PostgreSQL store could not be opened.
    #[error("opening the PostgreSQL store: {0}")]
    Postgres(StoreError),
    /// The LMDB store could not be opened.
    #[error("opening the event store in {}: {source}", path.display())]
    Lmdb {
        /// Its folder.
        path: std::path::PathBuf,
        /// Why.
        source: StoreError,
    },
    /// The Interledger peer could not start.
    #[error(transparent)]
    Ilp(#[from] crate::ilp::IlpError),
    /// Something the node's configuration asks that it does not do.
    #[error("{0}")]
    Unsupported(&'static str),
    /// Paid admission's records could not be read.
    #[error("relay.admission: {0}")]
    Admission(String),
    /// The HTTP port could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        /// The address.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// The seeder could not start.
    #[error(transparent)]
    Seeder(#[from] SeederError),
    /// The torrent session is not listening.
    #[error("the BitTorrent session is not listening")]
    NotListening,
    /// The trusted registries could not be read.
    #[error(transparent)]
    Trust(#[from] TrustError),
    /// A configured registry is not a key.
    #[error("packages.registries: {text:?} is not a public key")]
    Registry {
        /// The entry as written.
        text: String,
    },
    /// Serving HTTP failed.
    #[error("serving HTTP: {0}")]
    Serve(std::io::Error),
}

/// The gates in front of the node's relay: the owner's inbox first, then what writes cost —
/// credit bought with payment channel claims (`ilp.paid_writes`), zap admission for writers
/// without it (`relay.admission`), or zap admission alone.
fn relay_gates(
    config: &NodeConfig,
    owner: Option<&nostr::prelude::Keys>,
    inbox: Option<Arc<dyn seedstr_relay::gate::Gate>>,
    ilp: Option<&Arc<crate::ilp::IlpNode>>,
    data: &Path,
    public_http: &str,
    admission_address: &str,
) -> Result<Option<Arc<dyn seedstr_relay::gate::Gate>>, NodeError> {
    let mut gates: Vec<Arc<dyn seedstr_relay::gate::Gate>> = Vec::new();
    if let Some(gate) = inbox {
        gates.push(gate);
    }
    let mut paying: Option<Arc<dyn seedstr_relay::gate::Gate>> = None;
    if let (true, Some(keys)) = (config.relay.admission.by_zap(), owner) {
        // Paid writes: a zap to the owner for the price admits its sender (docs/relay.md).
        let a = &config.relay.admission;
        let policy = seedstr_pay::admission::AdmissionPolicy {
            price_msat: a.price_sats.saturating_mul(1000),
            period_secs: a.period_days.saturating_mul(86_400),
            operator: keys.public_key(),
            zapper: seedstr_pay::lnurl::zapper_keys(keys).public_key(),
            lightning_address: admission_address.to_owned(),
        };
        let admissions = seedstr_pay::admission::Admissions::open(
            policy,
            &data.join("admissions.json"),
            Arc::new(seedstr_proto::clock::unix_now),
        )
        .map_err(|e| NodeError::Admission(e.to_string()))?;
        paying = Some(Arc::new(seedstr_pay::admission::AdmissionGate(Arc::new(
            admissions,
        ))));
    }
    if let (true, Some(keys), Some(ilp)) = (config.ilp.paid_writes, owner, ilp) {
        // Paid writes through payment channels; zap admission, when there is one, for writers
        // without credit (docs/channels.md).
        let s = ilp.settlement.as_ref().expect("paid writes need [ilp.evm]");
        let url = format!("{public_http}/api/v1/ilp/credit");
        let view = s.view();
        let refusal = format!(
            "writing here costs {} {} per event: open a payment channel to {} on chain {} (contract {}) and POST its claims to {url} (NIP-98 as your key)",
            config.ilp.price_per_event, config.ilp.asset_code, view.address, view.chain_id, view.contract
        );
        let credits = Arc::new(
            crate::ilp::credit::Credits::open(
                data,
                config.ilp.price_per_event,
                keys.public_key(),
                paying.take(),
                refusal,
            )
            .map_err(NodeError::Admission)?,
        );
        tokio::spawn(credits.clone().keep_writing());
        let _ = ilp.credit.set(crate::ilp::credit::CreditDesk {
            credits: credits.clone(),
            auth: seedstr_ilp::peer_auth::PeerAuth::new(&url),
        });
        paying = Some(Arc::new(crate::ilp::credit::CreditGate(credits)));
    }
    gates.extend(paying);
    Ok(match gates.len() {
        0 => None,
        1 => Some(gates.remove(0)),
        _ => Some(Arc::new(seedstr_relay::gate::Gates(gates))),
    })
}

/// Runs the node from `config` (its data folder defaulting to `home`) until `shutdown`
/// resolves; `started` hears where it listens once everything is up. On shutdown the HTTP
/// server stops taking connections and lets open requests finish, the seeder stops, and the
/// store, which commits every event before the relay acknowledges it, is closed.
pub async fn run(
    home: &Path,
    config: NodeConfig,
    owner: Option<Owner>,
    started: impl FnOnce(&Addresses),
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), NodeError> {
    if config.relay.admission.by_zap() && owner.as_ref().is_none_or(|o| o.wallet.is_none()) {
        // The owner is the operator writers pay, and the node their lightning address.
        return Err(NodeError::Unsupported(
            "relay.admission: paid writes on a node need its owner (social.owner) with a connected wallet (seedstr wallet connect), so that the node is the lightning address writers zap",
        ));
    }
    if config.ilp.paid_writes
        && (!config.ilp.peering || config.ilp.evm.rpc.is_empty() || owner.is_none())
    {
        return Err(NodeError::Unsupported(
            "ilp.paid_writes: writes paid through payment channels need the node's owner (social.owner), ilp.peering and [ilp.evm]",
        ));
    }
    let mut config = config;
    let data = config.data_dir(home);
    std::fs::create_dir_all(&data).map_err(|source| NodeError::DataDir {
        path: data.clone(),
        source,
    })?;
    let store = open_store(&config, &data).await?;
    let (listener, http) = bind_http(config.http.listen).await?;
    let own_relay = format!("ws://{}/", loopback_for(http));
    // Where others fetch what this node serves: its public address when it has one.
    let public_http =
        http_base(&config.social.url).unwrap_or_else(|| format!("http://{}", loopback_for(http)));
    let admission_address = format!(
        "{}@{}",
        config.social.lightning_name,
        public_http
            .trim_start_matches("https://")
            .trim_start_matches("http://")
    );
    if config.ilp.paid_writes {
        config.relay.admission.per_event =
            Some((config.ilp.price_per_event, config.ilp.asset_code.clone()));
        config.relay.admission.payments_url = Some(format!("{public_http}/api/v1/ilp/credit"));
    }
    if config.relay.admission.by_zap() {
        config.relay.admission.lightning_address = Some(admission_address.clone());
        config.relay.admission.payments_url = Some(format!(
            "{public_http}/.well-known/lnurlp/{}",
            config.social.lightning_name
        ));
    }
    let relay = Relay::new(config.relay.clone(), store.clone());
    relay.start_background();
    let home_url = if config.social.url.is_empty() {
        own_relay.clone()
    } else {
        config.social.url.clone()
    };
    let wallet_uri = owner.as_ref().and_then(|o| o.wallet.clone());
    let owner: Option<nostr::prelude::Keys> = owner.map(|o| o.keys);
    let gate = owner
        .as_ref()
        .map(|keys| Arc::new(crate::home::inbox_gate(keys, &config.social, &data)));
    let owner_store = store.clone();

    let seeder = start_seeder(&config, &data).await?;
    let owner_dht = seeder.dht_state().node();
    let torrent = seeder
        .swarm
        .local_peer_addr()
        .ok_or(NodeError::NotListening)?;
    let torrent_listen = seeder.swarm.listen_addr().unwrap_or(torrent);
    let addresses = Addresses {
        http,
        torrent,
        torrent_listen,
        dht: seeder.dht_state().listen(),
    };

    let ilp = match config.ilp.peering {
        true => {
            Some(crate::ilp::IlpNode::start(&config.ilp, &data, relay.clone(), &home_url).await?)
        }
        false => None,
    };
    if let Some(g) = relay_gates(
        &config,
        owner.as_ref(),
        gate.clone()
            .map(|g| g as Arc<dyn seedstr_relay::gate::Gate>),
        ilp.as_ref(),
        &data,
        &public_http,
        &admission_address,
    )? {
        relay.set_gate(g);
    }
    let ilp_for_announce = ilp.clone();
    let seeding_stats = Arc::new(Mutex::new(SeedingStats::default()));
    // Uploads ask for a look at the registry at once, and wait to see their payload served.
    let (served_tx, served) = tokio::sync::watch::channel(BTreeSet::new());
    let look_now = Arc::new(tokio::sync::Notify::new());
    let Shared {
        views,
        api: api_state,
        status,
    } = shared_state(Parts {
        config: &config,
        data: &data,
        own_relay: &own_relay,
        store,
        relay: &relay,
        seeder: &seeder,
        addresses: &addresses,
        seeding: seeding_stats.clone(),
        link: api::payloads::SeederLink {
            look_now: look_now.clone(),
            served,
        },
        ilp,
    })?;
    let social_ui = owner.as_ref().map(|keys| {
        let timeout = Duration::from_secs(10);
        let mut urls = vec![own_relay.clone()];
        urls.extend(config.social.directories.iter().cloned());
        Arc::new(ui::social::SocialUi {
            owner: keys.clone(),
            data: data.clone(),
            relays: seedstr_client::relays::RelaySet { urls, timeout },
            directories: seedstr_client::relays::RelaySet {
                urls: config.social.directories.clone(),
                timeout,
            },
            http_base: public_http.clone(),
            sessions: ui::session::Sessions::new(data.clone(), config.social.remote_login),
        })
    });
    let zapper = match (&owner, wallet_uri) {
        (Some(keys), Some(uri)) => {
            match seedstr_pay::nwc::WalletClient::new(&uri, Duration::from_secs(30)) {
                Ok(wallet) => {
                    let zapper_keys = seedstr_pay::lnurl::zapper_keys(keys);
                    let z = Arc::new(seedstr_pay::zapper::Zapper {
                        endpoint: seedstr_pay::lnurl::PayEndpoint {
                            name: config.social.lightning_name.clone(),
                            base: public_http.clone(),
                            owner: keys.public_key(),
                            zapper: zapper_keys.public_key(),
                        },
                        zapper: zapper_keys,
                        wallet,
                        pending_dir: data.join("zaps").join("pending"),
                        publish_to: vec![own_relay.clone()],
                    });
                    tokio::spawn(z.clone().watch());
                    Some(z)
                }
                Err(e) => {
                    tracing::warn!("the owner's wallet connection: {e}; no lightning address");
                    None
                }
            }
        }
        _ => None,
    };
    let app = app(
        &relay,
        api_state,
        views,
        status,
        social_ui,
        zapper,
        &config.http,
    );

    let poll = Duration::from_secs(config.torrent.poll_secs.max(1));
    let (stop_seeding, seeding_stopped) = tokio::sync::watch::channel(false);
    let seeding = tokio::spawn(keep_seeding(
        seeder,
        poll,
        seeding_stats,
        served_tx,
        look_now,
        seeding_stopped,
    ));

    if let (Some(keys), Some(ilp)) = (&owner, &ilp_for_announce) {
        let mut relays = vec![own_relay.clone()];
        relays.extend(config.social.directories.iter().cloned());
        tokio::spawn(crate::ilp::announce(
            keys.clone(),
            ilp.announcement(&config.ilp, &public_http),
            data.clone(),
            relays.clone(),
        ));
        tokio::spawn(crate::ilp::following::keep_following(
            ilp.clone(),
            keys.clone(),
            relay.clone(),
            seedstr_client::relays::RelaySet {
                urls: relays,
                timeout: Duration::from_secs(10),
            },
            config.ilp.clone(),
        ));
    }
    if let (Some(keys), Some(gate)) = (owner, gate) {
        tokio::spawn(crate::home::announce(
            keys.clone(),
            data.clone(),
            owner_dht,
            home_url.clone(),
            own_relay.clone(),
            config.social.directories.clone(),
        ));
        tokio::spawn(crate::home::keep_caught_up(
            keys,
            owner_store,
            gate,
            own_relay.clone(),
            vec![own_relay.clone(), home_url],
            config.social.directories.clone(),
            Duration::from_secs(config.social.sync_secs.max(1)),
        ));
    }
    started(&addresses);
    // Commands find the node through this file; it goes when the node stops.
    announce_node(
        &data,
        &NodeFile {
            http,
            torrent,
            pid: std::process::id(),
        },
    );
    let served = serve(listener, app, shutdown).await;
    discovery::withdraw(&data);
    let _ = stop_seeding.send(true);
    let _ = seeding.await;
    served.map_err(NodeError::Serve)
}

/// The HTTP address matching the node's public relay address (`ws://h/` → `http://h`,
/// `wss://h/` → `https://h`): where others fetch what it serves, attachments among them.
pub fn http_base(relay_url: &str) -> Option<String> {
    let (scheme, rest) = if let Some(r) = relay_url.strip_prefix("wss://") {
        ("https", r)
    } else {
        ("http", relay_url.strip_prefix("ws://")?)
    };
    let host = rest.trim_end_matches('/');
    (!host.is_empty()).then(|| format!("{scheme}://{host}"))
}

/// The HTTP listener on `addr`, and the address it is bound to.
async fn bind_http(addr: SocketAddr) -> Result<(TcpListener, SocketAddr), NodeError> {
    let listen = |source| NodeError::Listen { addr, source };
    let listener = TcpListener::bind(addr).await.map_err(listen)?;
    let bound = listener.local_addr().map_err(listen)?;
    Ok((listener, bound))
}

/// Every route on the one port: the relay's WebSocket and NIP-11 at `/`, the registry views,
/// `/health`, the API and the pages, each class under its bounds ([`Bounds`]).
fn app(
    relay: &Arc<Relay>,
    api: Arc<ApiState>,
    views: Arc<ViewState>,
    status: Arc<Status>,
    social: Option<Arc<ui::social::SocialUi>>,
    zapper: Option<Arc<seedstr_pay::zapper::Zapper>>,
    http: &HttpConfig,
) -> Router {
    let bounds = Bounds::new(http);
    let quick = Duration::from_secs(http.query_timeout_secs.max(1));
    let long = Duration::from_secs(http.transfer_timeout_secs.max(1));
    let queries = Router::new()
        .route("/", get(root))
        .with_state(Arc::new(Root {
            relay: relay.clone(),
            api: api.clone(),
        }))
        .merge(health::router(status))
        .merge(api::query_router(api.clone()))
        .merge(ui::router(api.clone()));
    let transfers = Router::new()
        .merge(seedstr_pkg::views::server::router(views))
        .merge(api::transfer_router(api));
    let mut routes = bounds
        .queries(queries, quick)
        .merge(bounds.transfers(transfers, long));
    if let Some(z) = zapper {
        // The callback waits on the wallet: the transfer class's longer limit.
        routes = routes.merge(bounds.transfers(api::lnurl::router(z), long));
    }
    match social {
        // The owner's pages take attachments in their compose form: the upload limit.
        Some(s) => routes.merge(bounds.transfers(
            ui::social::router(s).layer(axum::extract::DefaultBodyLimit::max(
                (http.max_upload_mib.max(1) * 1024 * 1024) as usize,
            )),
            long,
        )),
        None => routes,
    }
}

/// Writes the file commands find the node through; without it the node still serves.
fn announce_node(data: &Path, file: &NodeFile) {
    if let Err(e) = discovery::announce(data, file) {
        tracing::warn!(
            "writing {}: {e}; commands will not find this node",
            data.join(discovery::NODE_FILE).display()
        );
    }
}

/// The seeder over the node's data folder, its news logged.
async fn start_seeder(config: &NodeConfig, data: &Path) -> Result<Seeder, NodeError> {
    let report: Report = Arc::new(|note: &SeedNote| {
        let event = serde_json::to_string(note).unwrap_or_default();
        tracing::info!(target: "seedstr::seeding", %event, "{note}");
    });
    Ok(Seeder::start(
        data,
        SeedOptions {
            swarm: SwarmOptions {
                listen: Some(config.torrent.listen),
                trackers: config.torrent.trackers,
                upload_limit_bps: std::num::NonZeroU32::new(config.torrent.upload_limit),
            },
            dht: config.dht.options(),
            republish: Duration::from_secs(config.dht.republish_secs.max(1)),
        },
        report,
    )
    .await?)
}

/// What the HTTP handlers are built from.
struct Parts<'a> {
    config: &'a NodeConfig,
    data: &'a Path,
    own_relay: &'a str,
    store: Arc<dyn Store>,
    relay: &'a Arc<Relay>,
    seeder: &'a Seeder,
    addresses: &'a Addresses,
    seeding: Arc<Mutex<SeedingStats>>,
    link: api::payloads::SeederLink,
    ilp: Option<Arc<crate::ilp::IlpNode>>,
}

/// What the HTTP handlers share: the registry views', the API's and the status.
struct Shared {
    views: Arc<ViewState>,
    api: Arc<ApiState>,
    status: Arc<Status>,
}

fn shared_state(parts: Parts<'_>) -> Result<Shared, NodeError> {
    let Parts {
        config,
        data,
        own_relay,
        store,
        relay,
        seeder,
        addresses,
        seeding,
        link,
        ilp,
    } = parts;
    let relay_timeout = Duration::from_secs(config.packages.relay_timeout_secs.max(1));
    let fetch = InstallOptions {
        relays: vec![own_relay.to_owned()],
        relay_timeout,
        allow_downgrade: true,
        peers: Vec::new(),
        stall_timeout: Duration::from_secs(config.packages.stall_timeout_secs.max(1)),
        home: data.to_owned(),
        dht: config.dht.options(),
        // The process's one DHT node: downloads look peers up through it.
        dht_node: seeder.dht_state().node(),
        max_release_bytes: config.packages.max_release_bytes,
    };
    // The relays lookups ask: the node's own first, then the configured ones.
    let relays: Vec<String> = std::iter::once(own_relay.to_owned())
        .chain(config.packages.relays.iter().cloned())
        .collect();
    let views = Arc::new(ViewState {
        sources: Sources {
            relays: relays.clone(),
            relay_timeout,
            trusted: trusted_registries(data, &config.packages.registries)?,
            home: data.to_owned(),
            cache: None,
        }
        // The views and the package API ask the same questions for every request.
        .with_cache(),
        swarm: seeder.swarm.clone(),
        store: PackageStore::new(data),
        fetch: fetch.clone(),
    });
    let status = Arc::new(Status {
        started: Instant::now(),
        relay: relay.clone(),
        seeding,
        torrent_listen: addresses.torrent_listen,
        dht: seeder.dht_state(),
        data: data.to_owned(),
        relays,
        ilp: ilp.clone(),
    });
    let api_state = Arc::new(ApiState {
        store,
        status: status.clone(),
        data: data.to_owned(),
        swarm: seeder.swarm.clone(),
        fetch,
        // Releases fetched for a download are kept and seeded, as a mirror's are.
        downloads: PayloadStore::new(data, data.join("downloads"), Origin::Mirrored)
            .with_max_bytes(config.packages.download_store_max_bytes),
        packages: views.sources.clone(),
        seeders: api::seeders::SeedersCache::new(status.dht.clone(), data),
        feeds: api::feed::FeedCache::default(),
        uploads: api::payloads::UploadPolicy {
            who: config.http.uploads,
            max_bytes: config.http.max_upload_mib.saturating_mul(1024 * 1024),
        },
        seeder: link,
        zappers: seedstr_pay::totals::ZapperKeys::new(std::time::Duration::from_secs(3)),
        ilp,
    });
    Ok(Shared {
        views,
        api: api_state,
        status,
    })
}

/// The seeder looks at its registry on its own schedule; the HTTP server only reads the
/// summary it publishes after each look.
async fn keep_seeding(
    mut seeder: Seeder,
    poll: Duration,
    stats: Arc<Mutex<SeedingStats>>,
    served: tokio::sync::watch::Sender<BTreeSet<String>>,
    look_now: Arc<tokio::sync::Notify>,
    mut stopped: tokio::sync::watch::Receiver<bool>,
) {
    loop {
        if let Err(e) = seeder.pass().await {
            tracing::warn!("seed registry: {e:#}");
        }
        *stats.lock().expect("seeding stats lock") = seeder.stats();
        served.send_replace(seeder.active());
        tokio::select! {
            _ = tokio::time::sleep(poll) => {}
            _ = look_now.notified() => {}
            _ = stopped.changed() => break,
        }
    }
    seeder.swarm.stop().await;
}

/// Serves `app` on `listener` until `shutdown`; small Nostr messages must not wait for
/// Nagle's algorithm (40 ms stalls otherwise).
async fn serve(
    listener: TcpListener,
    app: Router,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let listener = listener.tap_io(|tcp| {
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::debug!("TCP_NODELAY: {e}");
        }
    });
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
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

async fn open_store(config: &NodeConfig, data: &Path) -> Result<Arc<dyn Store>, NodeError> {
    if !config.store.database.is_empty() {
        let store = PgStore::connect(&config.store.database)
            .await
            .map_err(NodeError::Postgres)?;
        return Ok(store);
    }
    let dir = if config.store.lmdb.as_os_str().is_empty() {
        data.join("relay")
    } else {
        config.store.lmdb.clone()
    };
    let store = LmdbStore::open(&dir).map_err(|source| NodeError::Lmdb { path: dir, source })?;
    Ok(store)
}

/// The registries the views trust: those kept in the data folder, plus the configured ones.
fn trusted_registries(
    data: &Path,
    configured: &[String],
) -> Result<Vec<nostr::prelude::PublicKey>, NodeError> {
    let mut keys = seedstr_pkg::trust::load(data)?;
    for text in configured {
        let key = parse_public_key(text).map_err(|_| NodeError::Registry { text: text.clone() })?;
        if !keys.contains(&key) {
            keys.push(key);
        }
    }
    Ok(keys)
}

#[cfg(test)]
mod http_base_tests {
    #[test]
    fn the_public_http_address_follows_the_relay_address() {
        assert_eq!(
            super::http_base("wss://home.example/").as_deref(),
            Some("https://home.example")
        );
        assert_eq!(
            super::http_base("ws://10.0.0.2:7447/").as_deref(),
            Some("http://10.0.0.2:7447")
        );
        assert_eq!(super::http_base(""), None);
        assert_eq!(super::http_base("https://x"), None);
    }
}
