//! The node as an Interledger peer (docs/ilp.md): a connector behind a BTP server, its peers
//! from the configuration, a STREAM receiver at `<address>.receiver` for what is paid to the
//! node (its secret kept in the data folder, so payment details survive restarts), SPSP to hand
//! out those details, Nostr served over STREAM to those who pay for it ([`served`]), and the
//! economic view for the API and `/metrics`.

pub mod credit;
pub mod following;
pub mod served;
pub mod settlement;
mod spsp;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use seedstr_ilp::address::Address;
use seedstr_ilp::announcement::{NodeInfo, Prices};
use seedstr_ilp::btp_session::{serve_btp, BtpPeer, ConnectorHandler};
use seedstr_ilp::connector::{Connector, ConnectorConfig, LocalHandler, PeerAccount, PeerConfig};
use seedstr_ilp::packet::{Fulfill, Prepare, Reject};
use seedstr_ilp::paid_messages::{MessagePrices, PaidMessages};
use seedstr_ilp::stream::receiver::{
    Decision, Delivered, Incoming, ReceiverLimits, StreamApp, StreamReceiver,
};
use seedstr_relay::Relay;
use serde::{Deserialize, Serialize};

/// The `[ilp]` section.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct IlpConfig {
    /// Run the node as an Interledger peer.
    pub peering: bool,
    /// Its ILP address.
    pub address: String,
    /// Where its BTP server listens.
    pub btp_listen: SocketAddr,
    /// Its BTP endpoint as other nodes reach it (`wss://home.example/btp`), announced in the
    /// owner's node announcement (32001); empty: `ws://` and the listening address.
    pub btp_url: String,
    /// Its asset.
    pub asset_code: String,
    /// Its asset's scale.
    pub asset_scale: u8,
    /// What forwarding takes, in parts per million.
    pub fee_ppm: u64,
    /// What storing an event sent over STREAM costs, in the asset's units.
    pub price_per_event: u64,
    /// What a subscription (REQ) sent over STREAM costs.
    pub price_per_subscription: u64,
    /// How long a paid subscription lasts, in seconds; then it is closed (`CLOSED`,
    /// `restricted:`) and a new REQ pays again.
    pub subscription_secs: u64,
    /// Open BTP sessions for nodes that sign a peering token (the nodes of people who follow
    /// the owner, say), each with the stranger limits below.
    pub accept_strangers: bool,
    /// The most a stranger's node may owe this one (and what this one lets the nodes of the
    /// people its owner follows owe it).
    pub stranger_credit_limit: u64,
    /// The largest packet taken from a stranger's node.
    pub stranger_max_packet: u64,
    /// How often the owner's follows are looked at for nodes to subscribe to, in seconds.
    pub follow_secs: u64,
    /// The most this node pays for one subscription at a followed person's node.
    pub max_subscription_price: u64,
    /// WebSocket writes to the node's relay cost `price_per_event` each, from credit bought
    /// with payment channel claims (`POST /api/v1/ilp/credit`; needs `[ilp.evm]`).
    pub paid_writes: bool,
    /// Settlement through payment channels on an EVM chain (`[ilp.evm]`).
    pub evm: settlement::EvmConfig,
    /// Its peers.
    pub peers: Vec<IlpPeerConfig>,
}

impl Default for IlpConfig {
    fn default() -> IlpConfig {
        IlpConfig {
            peering: false,
            address: "private.seedstr".into(),
            btp_listen: SocketAddr::from(([127, 0, 0, 1], 7448)),
            btp_url: String::new(),
            asset_code: "SAT".into(),
            asset_scale: 0,
            fee_ppm: 1000,
            price_per_event: 1,
            price_per_subscription: 10,
            subscription_secs: 86_400,
            accept_strangers: false,
            stranger_credit_limit: 1000,
            stranger_max_packet: 1000,
            follow_secs: 600,
            max_subscription_price: 100,
            paid_writes: false,
            evm: settlement::EvmConfig::default(),
            peers: Vec::new(),
        }
    }
}

/// One peer in `[[ilp.peers]]`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IlpPeerConfig {
    /// Its name (its account here).
    pub name: String,
    /// The token its BTP session authenticates with.
    pub token: String,
    /// Its BTP endpoint, when this node opens the session (with `token`); empty: it connects
    /// here.
    #[serde(default)]
    pub btp_url: String,
    /// A child gets its address under the node's.
    #[serde(default)]
    pub child: bool,
    /// The most it may owe the node.
    pub credit_limit: u64,
    /// What it owes when it is asked to settle.
    pub settle_threshold: u64,
    /// The largest packet taken from it.
    pub max_packet_amount: u64,
}

/// Why the peer could not start.
#[derive(Debug, thiserror::Error)]
pub enum IlpError {
    /// A configured address.
    #[error("ilp: {0}")]
    Address(#[from] seedstr_ilp::address::AddressError),
    /// The BTP port.
    #[error("ilp: cannot listen on {addr}: {source}")]
    Listen {
        /// The address.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// Settlement could not start.
    #[error("ilp.evm: {0}")]
    Settlement(String),
    /// A secret the node keeps.
    #[error("ilp: the secret in {path}: {source}")]
    Secret {
        /// Its file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
}

/// What the node's receiver took.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct Received {
    /// Money, in the node's units.
    pub money: u64,
    /// Stream bytes.
    pub data_bytes: u64,
    /// Connections that closed.
    pub connections_closed: u64,
}

/// The node's STREAM application: Nostr messages for a price, served by relay sessions.
struct NodeApp {
    paid: PaidMessages<served::Sessions>,
    /// Connections this node opened (its subscriptions), by the token of the address their
    /// answers come to: those answers are taken, not charged.
    replies: std::collections::HashMap<String, following::FollowEnd>,
}

impl StreamApp for NodeApp {
    fn decide(&mut self, connection: &str, incoming: &Incoming<'_>) -> Decision {
        if let Some(end) = self.replies.get_mut(connection) {
            return end.decide(incoming);
        }
        let decision = self.paid.decide(connection, incoming);
        if decision.refuse.is_none() {
            if let Some(address) = incoming.client_address {
                self.paid
                    .handler_mut()
                    .set_client(connection, address.clone());
            }
        }
        decision
    }
}

/// The node's receiver and what answers on it. Locks are taken app first, then receiver.
struct NodeReceiver {
    receiver: Mutex<StreamReceiver>,
    app: Mutex<NodeApp>,
    received: Mutex<Received>,
}

impl NodeReceiver {
    fn app_lock(&self) -> MutexGuard<'_, NodeApp> {
        self.app.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn receiver_lock(&self) -> MutexGuard<'_, StreamReceiver> {
        self.receiver.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Ends what the node serves on `connection`.
    fn close(&self, connection: &str) {
        let mut app = self.app_lock();
        app.paid.handler_mut().close(connection);
        app.paid.forget(connection);
    }
}

impl LocalHandler for NodeReceiver {
    fn handle(&self, _from: &str, prepare: &Prepare) -> Result<Fulfill, Reject> {
        let handled = {
            let mut app = self.app_lock();
            self.receiver_lock().handle_with(prepare, &mut *app)
        };
        let mut closed = Vec::new();
        {
            let mut r = self.received.lock().unwrap_or_else(|p| p.into_inner());
            for d in handled.delivered {
                match d {
                    Delivered::Money { amount, .. } => r.money += amount,
                    Delivered::Data { bytes, .. } => r.data_bytes += bytes.len() as u64,
                    Delivered::ConnectionClosed { connection, .. } => {
                        r.connections_closed += 1;
                        closed.push(connection);
                    }
                    Delivered::StreamClosed { .. } => {}
                }
            }
        }
        for connection in closed {
            self.close(&connection);
        }
        handled.reply
    }
}

/// The node's Interledger side, running.
pub struct IlpNode {
    /// The connector.
    pub connector: Arc<Connector<BtpPeer>>,
    receiver: Arc<NodeReceiver>,
    /// What answers its peers' packets.
    handler: Arc<ConnectorHandler>,
    /// The people its owner follows, over STREAM.
    followed: following::Followed,
    /// Settlement through payment channels, when configured.
    pub settlement: Option<Arc<settlement::EvmSettlement>>,
    /// Paid writes for WebSocket clients, when `paid_writes` is on.
    pub credit: std::sync::OnceLock<credit::CreditDesk>,
    /// Where its BTP server listens.
    pub btp: SocketAddr,
    asset: (String, u8),
}

/// The economic view: the node's accounts with its peers and what it received.
#[derive(Debug, Clone, Serialize)]
pub struct EconomicView {
    /// The node's ILP address.
    pub address: String,
    /// Its BTP endpoint.
    pub btp: String,
    /// Its asset code and scale.
    pub asset: (String, u8),
    /// Each peer's account: what it owes (negative: what the node owes it), in flight, received,
    /// paid, settled.
    pub accounts: BTreeMap<String, PeerAccount>,
    /// The peers owing at least their settlement threshold.
    pub due_for_settlement: Vec<(String, u64)>,
    /// What the node's own receiver took.
    pub received: Received,
    /// Nostr served over STREAM: sessions, messages taken, answers pushed, credit refunded.
    pub served: served::ServedCounts,
    /// The people the owner follows whose nodes this node subscribes to.
    pub following: Vec<following::FollowStatus>,
    /// Its payment channels, when it settles on an EVM chain.
    pub settlement: Option<settlement::SettlementView>,
    /// The routing table: prefix → peer.
    pub routes: BTreeMap<String, String>,
}

/// A secret of 32 random bytes made once and kept in the data folder as `name`, owner-only
/// (the receiver's secret, the node's EVM key).
pub(crate) fn secret_file(data: &Path, name: &str) -> Result<[u8; 32], IlpError> {
    let path = data.join(name);
    let fail = |source| IlpError::Secret {
        path: path.display().to_string(),
        source,
    };
    match std::fs::read(&path) {
        Ok(bytes) => {
            // Not replaced when it does not read: payment details handed out rest on it.
            return <[u8; 32]>::try_from(bytes.as_slice()).map_err(|_| {
                fail(std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    format!("{} bytes, not 32", bytes.len()),
                ))
            });
        }
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(fail(e)),
        Err(_) => {}
    }
    let secret: [u8; 32] = rand::random();
    seedstr_client::files::durable::replace_file(&path, &secret).map_err(fail)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).map_err(fail)?;
    }
    Ok(secret)
}

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

impl IlpNode {
    /// Starts the peer: the connector with its peers, the receiver, the BTP server.
    /// `relay_url` is the node's relay as others reach it (what NIP-42 AUTH events over
    /// STREAM name).
    pub async fn start(
        config: &IlpConfig,
        data: &Path,
        relay: Arc<Relay>,
        relay_url: &str,
    ) -> Result<Arc<IlpNode>, IlpError> {
        let address = Address::new(&config.address)?;
        let receiver_address = address.with_segment("receiver")?;
        let secret = secret_file(data, "ilp-secret")?;
        let prices = MessagePrices {
            per_event: config.price_per_event,
            per_subscription: config.price_per_subscription,
        };
        let connector_config = ConnectorConfig {
            address,
            asset_code: config.asset_code.clone(),
            asset_scale: config.asset_scale,
            fee_ppm: config.fee_ppm,
            expiry_decrement: Duration::from_secs(1),
            min_expiry_window: Duration::from_secs(1),
        };
        // The receiver's sessions push through the connector, which hands the receiver what
        // comes for it: each holds the other weakly on one side.
        let mut made = None;
        let connector = Arc::new_cyclic(|connector| {
            let receiver = Arc::new_cyclic(|node| NodeReceiver {
                receiver: Mutex::new(StreamReceiver::new(
                    receiver_address,
                    secret,
                    &config.asset_code,
                    config.asset_scale,
                    ReceiverLimits::default(),
                )),
                app: Mutex::new(NodeApp {
                    paid: PaidMessages::new(
                        prices,
                        served::Sessions::new(
                            relay,
                            relay_url,
                            Duration::from_secs(config.subscription_secs.max(1)),
                            Arc::new(served::Pushing {
                                connector: connector.clone(),
                                node: node.clone(),
                                prices,
                            }),
                        ),
                    ),
                    replies: Default::default(),
                }),
                received: Mutex::new(Received::default()),
            });
            made = Some(receiver.clone());
            Connector::new(connector_config, Some(receiver as Arc<dyn LocalHandler>))
        });
        let receiver = made.expect("made with the connector");
        let mut tokens = BTreeMap::new();
        for p in &config.peers {
            connector.add_peer(
                PeerConfig {
                    name: p.name.clone(),
                    child: p.child,
                    credit_limit: p.credit_limit,
                    settle_threshold: p.settle_threshold,
                    max_packet_amount: p.max_packet_amount,
                },
                None,
            );
            tokens.insert(p.token.clone(), p.name.clone());
        }
        let listener = tokio::net::TcpListener::bind(config.btp_listen)
            .await
            .map_err(|source| IlpError::Listen {
                addr: config.btp_listen,
                source,
            })?;
        let btp = listener.local_addr().map_err(|source| IlpError::Listen {
            addr: config.btp_listen,
            source,
        })?;
        let (sessions, mut incoming) = tokio::sync::mpsc::channel::<BtpPeer>(64);
        let linking = connector.clone();
        tokio::spawn(async move {
            while let Some(peer) = incoming.recv().await {
                let name = peer.account().to_owned();
                linking.set_link(&name, Arc::new(peer));
            }
        });
        let announced = if config.btp_url.is_empty() {
            format!("ws://{btp}")
        } else {
            config.btp_url.clone()
        };
        let authenticate = authenticate(tokens, config, &announced, connector.clone());
        let handler = Arc::new(ConnectorHandler {
            connector: connector.clone(),
            clock: Arc::new(now_ms),
        });
        tokio::spawn(serve_btp(
            listener,
            authenticate,
            handler.clone(),
            sessions,
            Duration::from_secs(30),
        ));
        for p in config.peers.iter().filter(|p| !p.btp_url.is_empty()) {
            let token = p.token.clone();
            tokio::spawn(keep_linked(
                connector.clone(),
                handler.clone(),
                p.name.clone(),
                p.btp_url.clone(),
                Arc::new(move || token.clone()),
                config.address.clone(),
                None,
            ));
        }
        tokio::spawn(keep_routes_told(connector.clone()));
        let settlement = if config.evm.rpc.is_empty() {
            None
        } else {
            let s = settlement::EvmSettlement::start(&config.evm, data, Arc::downgrade(&connector))
                .await
                .map_err(IlpError::Settlement)?;
            connector.set_settlement(s.clone());
            tokio::spawn(s.clone().keep_settling());
            Some(s)
        };
        Ok(Arc::new(IlpNode {
            connector,
            receiver,
            handler,
            settlement,
            credit: std::sync::OnceLock::new(),
            followed: following::Followed::default(),
            btp,
            asset: (config.asset_code.clone(), config.asset_scale),
        }))
    }

    /// A new connection's destination and shared secret (SPSP).
    pub fn new_connection(&self) -> (Address, [u8; 32]) {
        self.receiver
            .receiver
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .new_connection()
    }

    /// The owner's node announcement (32001): this node's address, BTP endpoint (`btp_url`, or
    /// the listening address), asset, prices and SPSP endpoint (under `public_http`).
    pub fn announcement(&self, config: &IlpConfig, public_http: &str) -> NodeInfo {
        let btp = if config.btp_url.is_empty() {
            format!("ws://{}", self.btp)
        } else {
            config.btp_url.clone()
        };
        NodeInfo {
            address: self.connector.address().clone(),
            btp,
            asset_code: self.asset.0.clone(),
            asset_scale: self.asset.1,
            settlement: self.settlement.iter().map(|s| s.announced()).collect(),
            prices: Prices {
                per_event: Some(config.price_per_event),
                per_subscription: Some((config.price_per_subscription, config.subscription_secs)),
                forward_ppm: Some(config.fee_ppm),
            },
            spsp: Some(format!(
                "{}/.well-known/pay",
                public_http.trim_end_matches('/')
            )),
            about: "A Seedstr node in the Nostr-ILP peer network".into(),
        }
    }

    /// The economic view.
    pub fn view(&self) -> EconomicView {
        EconomicView {
            address: self.connector.address().to_string(),
            btp: format!("ws://{}", self.btp),
            asset: self.asset.clone(),
            accounts: self.connector.accounts(),
            due_for_settlement: self.connector.due_for_settlement(),
            received: *self
                .receiver
                .received
                .lock()
                .unwrap_or_else(|p| p.into_inner()),
            routes: self.connector.routes(),
            served: self.receiver.app_lock().paid.handler().counts(),
            following: self.followed.statuses(),
            settlement: self.settlement.as_ref().map(|s| s.view()),
        }
    }

    /// `/metrics` lines: each peer's balance and what was settled each way, what the receiver
    /// took, and the STREAM sessions served.
    pub fn metrics(&self) -> String {
        use std::fmt::Write as _;
        // Only what the lines need: not the whole view (routes, follows, the channel book).
        let accounts = self.connector.accounts();
        let received = self
            .receiver
            .received
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .money;
        let sessions = self.receiver.app_lock().paid.handler().counts().sessions;
        let mut out = String::new();
        let per_peer: [PerPeerMetric; 3] = [
            (
                "seedstr_ilp_peer_balance",
                "gauge",
                "What each peer owes the node (negative: what the node owes it).",
                |a| a.balance,
            ),
            (
                "seedstr_ilp_peer_settled_total",
                "counter",
                "What each peer settled.",
                |a| i128::from(a.settled),
            ),
            (
                "seedstr_ilp_peer_settled_out_total",
                "counter",
                "What the node settled to each peer.",
                |a| i128::from(a.settled_out),
            ),
        ];
        for (name, kind, help, value) in per_peer {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
            for (peer, a) in &accounts {
                let _ = writeln!(out, "{name}{{peer=\"{peer}\"}} {}", value(a));
            }
        }
        let _ = writeln!(
            out,
            "# HELP seedstr_ilp_received_total Money the node's own receiver took.\n# TYPE seedstr_ilp_received_total counter\nseedstr_ilp_received_total {}",
            received
        );
        let _ = writeln!(
            out,
            "# HELP seedstr_ilp_served_sessions Nostr sessions served over STREAM now.\n# TYPE seedstr_ilp_served_sessions gauge\nseedstr_ilp_served_sessions {}",
            sessions
        );
        out
    }
}

/// A per-peer metric: its name, type, help and value.
type PerPeerMetric = (
    &'static str,
    &'static str,
    &'static str,
    fn(&PeerAccount) -> i128,
);

/// Makes the token a session opens with (a fresh peering token each time, say).
type TokenMaker = Arc<dyn Fn() -> String + Send + Sync>;
/// Hears whether a session is up.
type OnLink = Arc<dyn Fn(bool) + Send + Sync>;

/// Strangers' nodes with a session at once, at most.
const MAX_STRANGERS: usize = 256;

/// Who may open a BTP session: a configured peer by its token; with `accept_strangers`, any
/// node by a fresh peering token for this endpoint, its account made on first use with the
/// stranger limits.
fn authenticate(
    tokens: BTreeMap<String, String>,
    config: &IlpConfig,
    endpoint: &str,
    connector: Arc<Connector<BtpPeer>>,
) -> seedstr_ilp::btp_session::Authenticate {
    let peer_auth = seedstr_ilp::peer_auth::PeerAuth::new(endpoint);
    let strangers = Mutex::new(std::collections::BTreeSet::new());
    let (accept, credit, max_packet) = (
        config.accept_strangers,
        config.stranger_credit_limit,
        config.stranger_max_packet,
    );
    Arc::new(move |_user: &str, token: &str| {
        if let Some(name) = tokens.get(token) {
            return Some(name.clone());
        }
        if !accept {
            return None;
        }
        let key = match peer_auth.check(token, seedstr_proto::clock::unix_now()) {
            Ok(key) => key,
            Err(e) => {
                tracing::info!(target: "seedstr::ilp", "a BTP session refused: {e}");
                return None;
            }
        };
        let name = seedstr_ilp::peer_auth::account_name(&key);
        let mut known = strangers.lock().unwrap_or_else(|p| p.into_inner());
        if !known.contains(&name) {
            if known.len() >= MAX_STRANGERS || tokens.values().any(|n| *n == name) {
                return None;
            }
            known.insert(name.clone());
            connector.add_peer(
                PeerConfig {
                    name: name.clone(),
                    child: false,
                    credit_limit: credit,
                    settle_threshold: credit,
                    max_packet_amount: max_packet,
                },
                None,
            );
        }
        Some(name)
    })
}

/// Keeps a session open to a peer this node connects to, opening it again after it ends
/// (waiting longer after each failure, up to a minute; ten minutes after a refusal).
async fn keep_linked(
    connector: Arc<Connector<BtpPeer>>,
    handler: Arc<ConnectorHandler>,
    name: String,
    url: String,
    token: TokenMaker,
    username: String,
    on_link: Option<OnLink>,
) {
    let mut wait = Duration::from_secs(1);
    let told = |up: bool| {
        if let Some(f) = &on_link {
            f(up)
        }
    };
    loop {
        match seedstr_ilp::btp_session::connect_btp(
            &url,
            &username,
            &token(),
            &name,
            handler.clone(),
            Duration::from_secs(30),
        )
        .await
        {
            Ok(session) => {
                let session = Arc::new(session);
                connector.set_link(&name, session.clone());
                told(true);
                tracing::info!(target: "seedstr::ilp", "linked to peer {name} at {url}");
                wait = Duration::from_secs(1);
                session.closed().await;
                told(false);
                tracing::info!(target: "seedstr::ilp", "the session with peer {name} ended");
            }
            Err(seedstr_ilp::btp_session::SessionError::Refused(why)) => {
                tracing::info!(target: "seedstr::ilp", "peer {name} at {url} refused a session: {why}");
                wait = Duration::from_secs(600);
            }
            Err(e) => {
                tracing::warn!(target: "seedstr::ilp", "peer {name} at {url}: {e}");
                wait = (wait * 2).min(Duration::from_secs(60));
            }
        }
        tokio::time::sleep(wait).await;
    }
}

/// Tells the peers this node's routes (CCP) whenever its routes or links change, and every
/// thirty seconds besides.
async fn keep_routes_told(connector: Arc<Connector<BtpPeer>>) {
    loop {
        connector.broadcast_routes(now_ms() + 30_000).await;
        let _ = tokio::time::timeout(Duration::from_secs(30), connector.changed()).await;
    }
}

/// Signs the owner's node announcement and sends it to the node's relay and the directories,
/// keeping it among the owner's own events. Logged: the node serves either way.
pub async fn announce(
    owner: nostr::prelude::Keys,
    info: NodeInfo,
    data: std::path::PathBuf,
    relays: Vec<String>,
) {
    let relays = seedstr_client::relays::RelaySet {
        urls: relays,
        timeout: Duration::from_secs(10),
    };
    match seedstr_client::publish::outbox::sign_and_send(&data, &owner, info.to_builder(), &relays)
        .await
    {
        Ok(sent) => {
            tracing::info!(target: "seedstr::ilp", event = %sent.event_id, "node announcement sent")
        }
        Err(e) => tracing::warn!(target: "seedstr::ilp", "sending the node announcement: {e}"),
    }
}
