//! A connector (RFC 27's forwarding rules): each peer with a balance, a credit limit and a
//! settlement threshold; a routing table of address prefixes (longest match wins, static routes
//! and those peers announce); ILDCP answered for children; Prepares for this node handed to its
//! local handler (a STREAM receiver); everything else forwarded to the next hop with the expiry
//! shortened and this node's fee taken, the answer passed back, and balances moved only by a
//! Fulfill whose fulfillment matches.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sha2::{Digest as _, Sha256};

use crate::address::Address;
use crate::ildcp::{is_request, IldcpResponse};
use crate::link::IlpLink;
use crate::packet::{ErrorCode, Fulfill, Prepare, Reject};

/// The longest a forwarded Prepare is held: one that expires later goes on with its expiry
/// brought to now plus this, so no sender ties up money and credit for longer.
pub const MAX_HOLD: Duration = Duration::from_secs(30);
/// The most routes learned from peers; past it new prefixes are ignored (changes to known ones
/// and withdrawals still apply).
pub const MAX_LEARNED_ROUTES: usize = 100_000;

/// How a connector treats one peer.
#[derive(Debug, Clone)]
pub struct PeerConfig {
    /// The peer's name (its BTP account).
    pub name: String,
    /// A child gets its address under ours by ILDCP.
    pub child: bool,
    /// The most the peer may owe us before its Prepares are refused (`T04`).
    pub credit_limit: u64,
    /// What it owes us when it is asked to settle.
    pub settle_threshold: u64,
    /// The largest Prepare taken from it (`F08` past it).
    pub max_packet_amount: u64,
}

/// A peer's account, as the economic view shows it.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct PeerAccount {
    /// What the peer owes us (negative: what we owe it).
    pub balance: i128,
    /// Prepares from it in flight.
    pub pending_in: u64,
    /// Prepares to it in flight.
    pub pending_out: u64,
    /// Everything it paid us through fulfilled packets.
    pub received: u64,
    /// Everything we paid it.
    pub paid: u64,
    /// What it settled (its payment channel claims, say).
    pub settled: u64,
    /// What we settled to it.
    pub settled_out: u64,
}

/// What a connector does for Prepares addressed to itself.
pub trait LocalHandler: Send + Sync {
    /// Answers `prepare`, sent by peer `from`.
    fn handle(&self, from: &str, prepare: &Prepare) -> Result<Fulfill, Reject>;
}

/// A connector's rules.
#[derive(Debug, Clone)]
pub struct ConnectorConfig {
    /// Its own address.
    pub address: Address,
    /// The asset all its peers use (this network settles in one).
    pub asset_code: String,
    /// Its scale.
    pub asset_scale: u8,
    /// Taken off every forwarded Prepare, in parts per million (what forwarding earns).
    pub fee_ppm: u64,
    /// Taken off the expiry of every forwarded Prepare, so this hop has time to pass the
    /// Fulfill back.
    pub expiry_decrement: Duration,
    /// The least time to expiry a forwarded Prepare must still have (`R02` otherwise).
    pub min_expiry_window: Duration,
}

struct Peer<L> {
    config: PeerConfig,
    account: PeerAccount,
    link: Option<Arc<L>>,
}

/// A connector over links of type `L`.
pub struct Connector<L> {
    config: ConnectorConfig,
    peers: Mutex<HashMap<String, Peer<L>>>,
    routes: Mutex<BTreeMap<String, String>>,
    /// The paths of routes learned from peers (CCP), by prefix.
    paths: Mutex<BTreeMap<String, Vec<String>>>,
    epoch: std::sync::atomic::AtomicU32,
    table_id: [u8; 16],
    local: Option<Arc<dyn LocalHandler>>,
    /// Told when the routes or the links change (what a route broadcast says may differ).
    changes: tokio::sync::Notify,
    /// What answers peers' settlement messages.
    settlement: std::sync::OnceLock<Arc<dyn crate::settle::SettlementHandler>>,
}

fn reject(code: ErrorCode, by: &Address, message: impl Into<String>) -> Reject {
    Reject {
        code,
        triggered_by: Some(by.clone()),
        message: message.into(),
        data: Vec::new(),
    }
}

/// A link into a connector for the packets its own node makes ([`Connector::send_own`]), so a
/// STREAM sender can use it as its next hop.
pub struct OwnPackets<L> {
    /// The connector.
    pub connector: Arc<Connector<L>>,
    /// Now, in Unix milliseconds.
    pub clock: Arc<dyn Fn() -> u64 + Send + Sync>,
}

impl<L: IlpLink + 'static> IlpLink for OwnPackets<L> {
    async fn send(&self, prepare: Prepare) -> Result<Fulfill, Reject> {
        self.connector.send_own(prepare, (self.clock)()).await
    }
}

impl<L: IlpLink + 'static> Connector<L> {
    /// A connector with no peers; `local` answers Prepares for its own address.
    pub fn new(config: ConnectorConfig, local: Option<Arc<dyn LocalHandler>>) -> Connector<L> {
        Connector {
            config,
            peers: Mutex::new(HashMap::new()),
            routes: Mutex::new(BTreeMap::new()),
            paths: Mutex::new(BTreeMap::new()),
            epoch: std::sync::atomic::AtomicU32::new(0),
            table_id: rand::random(),
            local,
            changes: tokio::sync::Notify::new(),
            settlement: std::sync::OnceLock::new(),
        }
    }

    /// Its address.
    pub fn address(&self) -> &Address {
        &self.config.address
    }

    /// Adds (or replaces) a peer, reachable over `link` when there is one; a child is routed
    /// to under our address.
    pub fn add_peer(&self, config: PeerConfig, link: Option<Arc<L>>) {
        if config.child {
            let prefix = format!("{}.{}", self.config.address, config.name);
            self.add_route(&prefix, &config.name);
        }
        let mut peers = self.peers.lock().unwrap_or_else(|p| p.into_inner());
        let account = peers
            .remove(&config.name)
            .map(|p| p.account)
            .unwrap_or_default();
        peers.insert(
            config.name.clone(),
            Peer {
                config,
                account,
                link,
            },
        );
    }

    /// Gives (or replaces) the link to `peer`, once its session is up.
    pub fn set_link(&self, peer: &str, link: Arc<L>) {
        if let Some(p) = self
            .peers
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get_mut(peer)
        {
            p.link = Some(link);
        }
        self.changes.notify_one();
    }

    /// Waits until the routes or the links change (after the last wait returned): the time to
    /// broadcast routes again.
    pub async fn changed(&self) {
        self.changes.notified().await
    }

    /// Routes addresses under `prefix` to `peer`.
    pub fn add_route(&self, prefix: &str, peer: &str) {
        self.routes
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(prefix.to_owned(), peer.to_owned());
    }

    /// The routing table: prefix → peer.
    pub fn routes(&self) -> BTreeMap<String, String> {
        self.routes
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Each peer's account.
    pub fn accounts(&self) -> BTreeMap<String, PeerAccount> {
        self.peers
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .map(|(n, p)| (n.clone(), p.account.clone()))
            .collect()
    }

    /// The peers that owe us at least their settlement threshold.
    pub fn due_for_settlement(&self) -> Vec<(String, u64)> {
        self.peers
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .filter(|(_, p)| {
                p.account.balance > 0
                    && p.account.balance as u128 >= u128::from(p.config.settle_threshold)
            })
            .map(|(n, p)| (n.clone(), p.account.balance as u64))
            .collect()
    }

    /// Answers peers' settlement messages with `handler` (once; false when one was set).
    pub fn set_settlement(&self, handler: Arc<dyn crate::settle::SettlementHandler>) -> bool {
        self.settlement.set(handler).is_ok()
    }

    /// Records that we settled `amount` to `peer` (a claim it took): we owe it that much less.
    pub fn settled_out(&self, peer: &str, amount: u64) {
        if let Some(p) = self
            .peers
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get_mut(peer)
        {
            p.account.balance += i128::from(amount);
            p.account.settled_out += amount;
        }
    }

    /// A peer's settlement message, answered by the settlement handler.
    async fn settlement_message(&self, from: &str, prepare: &Prepare) -> Result<Fulfill, Reject> {
        let me = &self.config.address;
        let known = self
            .peers
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .contains_key(from);
        if !known {
            return Err(reject(
                ErrorCode::F00_BAD_REQUEST,
                me,
                "not a peer of this connector",
            ));
        }
        let Some(handler) = self.settlement.get() else {
            return Err(reject(
                ErrorCode::F02_UNREACHABLE,
                me,
                "this connector takes no settlement",
            ));
        };
        match handler
            .handle(from, prepare.destination.as_str(), &prepare.data)
            .await
        {
            Ok(data) => Ok(crate::settle::answer(data)),
            Err(why) => Err(reject(ErrorCode::F00_BAD_REQUEST, me, why)),
        }
    }

    /// Sends a peer-protocol packet (a settlement message) straight to `peer`, outside any
    /// account: it carries no money.
    pub async fn send_to_peer(&self, peer: &str, prepare: Prepare) -> Result<Fulfill, Reject> {
        let me = &self.config.address;
        let link = {
            let peers = self.peers.lock().unwrap_or_else(|p| p.into_inner());
            peers.get(peer).and_then(|p| p.link.clone())
        };
        let Some(link) = link else {
            return Err(reject(
                ErrorCode::T01_PEER_UNREACHABLE,
                me,
                "the peer is not connected",
            ));
        };
        link.send(prepare).await
    }

    /// Records that `peer` settled `amount` (a payment channel claim checked elsewhere).
    pub fn settled(&self, peer: &str, amount: u64) {
        if let Some(p) = self
            .peers
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get_mut(peer)
        {
            p.account.balance -= i128::from(amount);
            p.account.settled += amount;
        }
    }

    /// The next hop for `destination`: the longest prefix that matches it segment-wise.
    pub fn next_hop(&self, destination: &Address) -> Option<String> {
        let routes = self.routes.lock().unwrap_or_else(|p| p.into_inner());
        routes
            .iter()
            .filter(|(prefix, _)| destination.starts_with(prefix))
            .max_by_key(|(prefix, _)| prefix.len())
            .map(|(_, peer)| peer.clone())
    }

    /// Handles a Prepare from peer `from`, at time `now_ms`.
    pub async fn handle(
        &self,
        from: &str,
        prepare: Prepare,
        now_ms: u64,
    ) -> Result<Fulfill, Reject> {
        let me = &self.config.address;
        // The sender must be a peer, within its limits.
        if prepare
            .destination
            .as_str()
            .starts_with(crate::settle::PREFIX)
        {
            return self.settlement_message(from, &prepare).await;
        }
        {
            let mut peers = self.peers.lock().unwrap_or_else(|p| p.into_inner());
            let Some(peer) = peers.get_mut(from) else {
                return Err(reject(
                    ErrorCode::F00_BAD_REQUEST,
                    me,
                    "not a peer of this connector",
                ));
            };
            if prepare.destination.as_str() == crate::ccp::UPDATE_DESTINATION {
                if peer.config.child {
                    return Err(reject(
                        ErrorCode::F00_BAD_REQUEST,
                        me,
                        "children do not announce routes",
                    ));
                }
                return self.take_routes(from, &prepare.data);
            }
            if prepare.destination.as_str() == crate::ccp::CONTROL_DESTINATION {
                return Ok(crate::ccp::ccp_response());
            }
            if is_request(&prepare) {
                if !peer.config.child {
                    return Err(reject(
                        ErrorCode::F00_BAD_REQUEST,
                        me,
                        "ILDCP is for children",
                    ));
                }
                let address = me
                    .with_segment(from)
                    .map_err(|e| reject(ErrorCode::F00_BAD_REQUEST, me, e.to_string()))?;
                return Ok(IldcpResponse {
                    client_address: address,
                    asset_scale: self.config.asset_scale,
                    asset_code: self.config.asset_code.clone(),
                }
                .to_fulfill());
            }
            if prepare.amount > peer.config.max_packet_amount {
                let mut data = Vec::with_capacity(16);
                data.extend_from_slice(&prepare.amount.to_be_bytes());
                data.extend_from_slice(&peer.config.max_packet_amount.to_be_bytes());
                return Err(Reject {
                    data,
                    ..reject(
                        ErrorCode::F08_AMOUNT_TOO_LARGE,
                        me,
                        "packet amount too large",
                    )
                });
            }
            let owed = peer.account.balance
                + i128::from(peer.account.pending_in)
                + i128::from(prepare.amount);
            if owed > i128::from(peer.config.credit_limit) {
                return Err(reject(
                    ErrorCode::T04_INSUFFICIENT_LIQUIDITY,
                    me,
                    "over the credit this connector gives you; settle first",
                ));
            }
            peer.account.pending_in += prepare.amount;
        }
        let answer = self.route(Some(from), prepare.clone(), now_ms).await;
        // Moved only by a Fulfill: what it owes us grows by what it sent.
        let mut peers = self.peers.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(peer) = peers.get_mut(from) {
            peer.account.pending_in -= prepare.amount;
            if answer.is_ok() {
                peer.account.balance += i128::from(prepare.amount);
                peer.account.received += prepare.amount;
            }
        }
        answer
    }

    /// Sends a packet this node makes itself (its own payments, the messages it pushes to
    /// subscribers): routed as a forwarded one, with no fee taken, the next hop's account
    /// moved by the Fulfill.
    pub async fn send_own(&self, prepare: Prepare, now_ms: u64) -> Result<Fulfill, Reject> {
        self.route(None, prepare, now_ms).await
    }

    /// Routes `prepare`, from peer `from` (None: made here).
    async fn route(
        &self,
        from: Option<&str>,
        prepare: Prepare,
        now_ms: u64,
    ) -> Result<Fulfill, Reject> {
        let me = self.config.address.clone();
        if prepare.destination.starts_with(me.as_str())
            && !self.is_child_address(&prepare.destination)
        {
            return match &self.local {
                Some(local) => local.handle(from.unwrap_or_default(), &prepare),
                None => Err(reject(
                    ErrorCode::F02_UNREACHABLE,
                    &me,
                    "nothing here receives",
                )),
            };
        }
        let Some(next) = self.next_hop(&prepare.destination) else {
            return Err(reject(
                ErrorCode::F02_UNREACHABLE,
                &me,
                "no route to the destination",
            ));
        };
        if Some(next.as_str()) == from {
            return Err(reject(
                ErrorCode::F02_UNREACHABLE,
                &me,
                "the route leads back to you",
            ));
        }
        let left = prepare.expires_at.saturating_sub(now_ms);
        let decrement = self.config.expiry_decrement.as_millis() as u64;
        let window = self.config.min_expiry_window.as_millis() as u64;
        if left < decrement.saturating_add(window) {
            return Err(reject(
                ErrorCode::R02_INSUFFICIENT_TIMEOUT,
                &me,
                "too little time left to forward",
            ));
        }
        let fee = match from {
            Some(_) => (u128::from(prepare.amount) * u128::from(self.config.fee_ppm))
                .div_ceil(1_000_000) as u64,
            None => 0,
        };
        let out_amount = prepare.amount - fee.min(prepare.amount);
        let link = {
            let mut peers = self.peers.lock().unwrap_or_else(|p| p.into_inner());
            let Some(peer) = peers.get_mut(&next) else {
                return Err(reject(
                    ErrorCode::F02_UNREACHABLE,
                    &me,
                    "the route's peer is gone",
                ));
            };
            let Some(link) = peer.link.clone() else {
                return Err(reject(
                    ErrorCode::T01_PEER_UNREACHABLE,
                    &me,
                    "the next hop is not connected",
                ));
            };
            peer.account.pending_out += out_amount;
            link
        };
        let condition = prepare.execution_condition;
        let hold = (left - decrement).min(MAX_HOLD.as_millis() as u64);
        let forwarded = Prepare {
            amount: out_amount,
            expires_at: now_ms + hold,
            ..prepare
        };
        let wait = Duration::from_millis(hold);
        let answer = match tokio::time::timeout(wait, link.send(forwarded)).await {
            Err(_) => Err(reject(
                ErrorCode::R00_TRANSFER_TIMED_OUT,
                &me,
                "the next hop did not answer in time",
            )),
            Ok(Ok(f)) if <[u8; 32]>::from(Sha256::digest(f.fulfillment)) != condition => {
                Err(reject(
                    ErrorCode::F05_WRONG_CONDITION,
                    &me,
                    "the next hop's fulfillment does not match",
                ))
            }
            Ok(other) => other,
        };
        let mut peers = self.peers.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(peer) = peers.get_mut(&next) {
            peer.account.pending_out -= out_amount;
            if answer.is_ok() {
                peer.account.balance -= i128::from(out_amount);
                peer.account.paid += out_amount;
            }
        }
        answer
    }

    /// Takes a peer's route update (CCP): each new route is routed to the peer unless its path
    /// already passes here (a loop) or it names our own addresses; withdrawn routes that went
    /// to the peer go.
    fn take_routes(&self, from: &str, data: &[u8]) -> Result<Fulfill, Reject> {
        let me = &self.config.address;
        let update = crate::ccp::RouteUpdate::read(data)
            .map_err(|e| reject(ErrorCode::F01_INVALID_PACKET, me, e.to_string()))?;
        let mut routes = self.routes.lock().unwrap_or_else(|p| p.into_inner());
        let mut paths = self.paths.lock().unwrap_or_else(|p| p.into_inner());
        let mut changed = false;
        for r in &update.new_routes {
            let prefix = r.prefix.as_str();
            if r.path.iter().any(|hop| hop == me.as_str())
                || prefix == me.as_str()
                || r.prefix.starts_with(me.as_str())
            {
                continue;
            }
            if !paths.contains_key(prefix) && paths.len() >= MAX_LEARNED_ROUTES {
                continue;
            }
            if routes.get(prefix).map(String::as_str) != Some(from)
                || paths.get(prefix) != Some(&r.path)
            {
                routes.insert(prefix.to_owned(), from.to_owned());
                paths.insert(prefix.to_owned(), r.path.clone());
                changed = true;
            }
        }
        for prefix in &update.withdrawn_routes {
            if routes.get(prefix).map(String::as_str) == Some(from) {
                routes.remove(prefix);
                paths.remove(prefix);
                changed = true;
            }
        }
        if changed {
            self.epoch
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            self.changes.notify_one();
        }
        Ok(crate::ccp::ccp_response())
    }

    /// This connector's routes as a CCP update: its own address, and every route learned from a
    /// peer with this connector added to the front of its path.
    pub fn route_update(&self) -> crate::ccp::RouteUpdate {
        let me = self.config.address.as_str().to_owned();
        let mut new_routes = vec![crate::ccp::Route {
            prefix: self.config.address.clone(),
            path: vec![me.clone()],
            auth: [0; 32],
            props: Vec::new(),
        }];
        let paths = self.paths.lock().unwrap_or_else(|p| p.into_inner());
        for (prefix, path) in paths.iter() {
            if let Ok(prefix) = Address::new(prefix) {
                let mut full = vec![me.clone()];
                full.extend(path.iter().cloned());
                new_routes.push(crate::ccp::Route {
                    prefix,
                    path: full,
                    auth: [0; 32],
                    props: Vec::new(),
                });
            }
        }
        let epoch = self.epoch.load(std::sync::atomic::Ordering::Relaxed);
        crate::ccp::RouteUpdate {
            routing_table_id: self.table_id,
            current_epoch: epoch,
            from_epoch: 0,
            to_epoch: epoch,
            hold_down_time: 45_000,
            speaker: self.config.address.clone(),
            new_routes,
            withdrawn_routes: Vec::new(),
        }
    }

    /// Sends this connector's routes to every connected peer that is not a child; the names
    /// of those that took them.
    pub async fn broadcast_routes(&self, expires_at: u64) -> Vec<String> {
        let update = self.route_update();
        let targets: Vec<(String, Arc<L>)> = self
            .peers
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .filter(|(_, p)| !p.config.child)
            .filter_map(|(n, p)| p.link.clone().map(|l| (n.clone(), l)))
            .collect();
        let mut took = Vec::new();
        for (name, link) in targets {
            if link.send(update.to_prepare(expires_at)).await.is_ok() {
                took.push(name);
            }
        }
        took
    }

    fn is_child_address(&self, destination: &Address) -> bool {
        let peers = self.peers.lock().unwrap_or_else(|p| p.into_inner());
        peers.values().any(|p| {
            p.config.child
                && destination.starts_with(&format!("{}.{}", self.config.address, p.config.name))
        })
    }
}
