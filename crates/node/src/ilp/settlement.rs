//! Settling accounts with peers through payment channels on an EVM chain (docs/channels.md,
//! "Between peers"). As payer: when the node owes a peer at least `settle_at`, it opens a
//! channel to the recipient address the peer gives (`peer.settle.info`), topping it up as
//! needed, and hands the peer a claim of everything paid so far (`peer.settle.claim`); the
//! peer's acknowledgement moves the account. As recipient: a claim is checked against the
//! channel on the chain and the best claim taken (forged, replayed, older and over-deposit
//! claims refused), kept on disk before the account is credited, and cashed once enough is
//! uncashed, or at once when the sender starts closing (the challenge).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Weak};
use std::time::Duration;

use alloy_primitives::{Address, B256, U256};
use seedstr_channel::chain::{Chain, Wallet};
use seedstr_channel::channels::Channels;
use seedstr_channel::claim::{self, IncomingChannel, SignedClaim};
use seedstr_channel::rpc::RpcChain;
use seedstr_ilp::btp_session::BtpPeer;
use seedstr_ilp::connector::Connector;
use seedstr_ilp::settle::{self, Handling, SettlementHandler};
use serde::{Deserialize, Serialize};
use std::sync::Mutex;

/// The `[ilp.evm]` section.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EvmConfig {
    /// The chain node's JSON-RPC endpoint; empty: no EVM settlement.
    pub rpc: String,
    /// The channel contract's address on that chain (`0x…`).
    pub contract: String,
    /// The least deposit of a channel this node opens, in the asset's units (one a wei).
    pub deposit: u64,
    /// How long a close the node starts waits for a later claim, in seconds.
    pub challenge_secs: u64,
    /// How long a channel the node opens lasts before the rest may be taken back, in days.
    pub channel_days: u64,
    /// How often accounts are looked at, in seconds.
    pub settle_secs: u64,
    /// Settle with a peer once the node owes it at least this much.
    pub settle_at: u64,
    /// Cash a channel's best claim once this much of it is uncashed.
    pub cash_at: u64,
}

impl Default for EvmConfig {
    fn default() -> EvmConfig {
        EvmConfig {
            rpc: String::new(),
            contract: String::new(),
            deposit: 1_000_000,
            challenge_secs: 86_400,
            channel_days: 30,
            settle_secs: 10,
            settle_at: 1,
            cash_at: 1_000_000,
        }
    }
}

/// A channel this node pays through.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Outgoing {
    /// The channel.
    pub id: B256,
    /// Whom it pays.
    pub recipient: Address,
    /// Its deposit.
    pub deposit: U256,
    /// The highest claim signed.
    pub signed: U256,
    /// The highest claim the peer took.
    pub acknowledged: U256,
}

/// A channel this node is paid through.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Incoming {
    /// The channel and its best claim.
    pub channel: IncomingChannel,
    /// What of it was cashed on the chain.
    pub cashed: U256,
}

/// Every channel, by peer account; kept in `channels.json`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Book {
    /// Channels this node pays through.
    pub outgoing: BTreeMap<String, Outgoing>,
    /// Channels it is paid through.
    pub incoming: BTreeMap<String, Incoming>,
}

/// What `peer.settle.info` answers.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
struct Info {
    chain_id: u64,
    contract: Address,
    recipient: Address,
}

/// Why settling failed.
#[derive(Debug, thiserror::Error)]
pub enum SettleError {
    /// The chain.
    #[error(transparent)]
    Chain(#[from] seedstr_channel::chain::ChainError),
    /// The peer.
    #[error("the peer: {0}")]
    Peer(String),
    /// The channel book could not be kept.
    #[error("keeping {path}: {source}")]
    Keep {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
}

/// The largest settlement message read.
const MAX_MESSAGE_BYTES: usize = 4096;

/// EVM settlement, running.
pub struct EvmSettlement {
    chain: RpcChain,
    contract: Address,
    /// The node's key on the chain.
    pub wallet: Wallet,
    config: EvmConfig,
    /// Never held across a wait: changed and written in one go.
    book: Mutex<Book>,
    /// One payment round at a time.
    paying: tokio::sync::Mutex<()>,
    /// One write of the book at a time.
    writing: tokio::sync::Mutex<()>,
    path: PathBuf,
    connector: Weak<Connector<BtpPeer>>,
}

/// The settlement view: the node's address on the chain and its channels.
#[derive(Debug, Clone, Serialize)]
pub struct SettlementView {
    /// The chain.
    pub chain_id: u64,
    /// The channel contract.
    pub contract: Address,
    /// The node's address there.
    pub address: Address,
    /// Its channels.
    pub channels: Book,
}

impl EvmSettlement {
    /// Connects to the chain, reads the node's key (made once, kept in `evm-key`) and the
    /// channel book.
    pub async fn start(
        config: &EvmConfig,
        data: &std::path::Path,
        connector: Weak<Connector<BtpPeer>>,
    ) -> Result<Arc<EvmSettlement>, String> {
        let (contract, chain) = contract_and_chain(config).await?;
        let wallet = node_wallet(data)?;
        let path = data.join("channels.json");
        let book = match std::fs::read(&path) {
            Ok(bytes) => {
                serde_json::from_slice(&bytes).map_err(|e| format!("{}: {e}", path.display()))?
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Book::default(),
            Err(e) => return Err(format!("{}: {e}", path.display())),
        };
        Ok(Arc::new(EvmSettlement {
            chain,
            contract,
            wallet,
            config: config.clone(),
            book: Mutex::new(book),
            paying: tokio::sync::Mutex::new(()),
            writing: tokio::sync::Mutex::new(()),
            path,
            connector,
        }))
    }

    /// How the node takes settlement, for its announcement (32001).
    pub fn announced(&self) -> seedstr_ilp::announcement::Settlement {
        seedstr_ilp::announcement::Settlement::Evm {
            chain_id: self.chain.chain_id(),
            contract: self.contract.to_string().to_lowercase(),
            recipient: self.wallet.address.to_string().to_lowercase(),
        }
    }

    /// The settlement view.
    pub fn view(&self) -> SettlementView {
        SettlementView {
            chain_id: self.chain.chain_id(),
            contract: self.contract,
            address: self.wallet.address,
            channels: self.book().clone(),
        }
    }

    fn book(&self) -> std::sync::MutexGuard<'_, Book> {
        self.book.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn channels(&self) -> Channels<'_, RpcChain> {
        Channels::at(&self.chain, self.contract)
    }

    /// Writes the book as it is now, durably, on the blocking pool: done before a claim is
    /// sent or an account credited. One write at a time, each of the book as its turn comes,
    /// so a later state is never overwritten by an earlier one.
    async fn keep(&self) -> Result<(), SettleError> {
        let _turn = self.writing.lock().await;
        let bytes = serde_json::to_vec_pretty(&*self.book()).expect("the book serializes");
        let path = self.path.clone();
        seedstr_client::files::blocking::off_runtime(move || {
            seedstr_client::files::durable::replace_file(&path, &bytes)
        })
        .await
        .map_err(|source| SettleError::Keep {
            path: self.path.display().to_string(),
            source,
        })
    }

    /// Looks at the accounts and channels every `settle_secs`.
    pub async fn keep_settling(self: Arc<Self>) {
        let every = Duration::from_secs(self.config.settle_secs.max(1));
        loop {
            if let Err(e) = self.settle_round().await {
                tracing::info!(target: "seedstr::ilp", "settling: {e}");
            }
            tokio::time::sleep(every).await;
        }
    }

    /// One round: pays what the node owes, cashes what it is owed when due.
    pub async fn settle_round(&self) -> Result<(), SettleError> {
        let Some(connector) = self.connector.upgrade() else {
            return Ok(());
        };
        for (peer, account) in connector.accounts() {
            let owed = u64::try_from(-account.balance.min(0)).unwrap_or(u64::MAX);
            let unacknowledged = {
                let book = self.book();
                book.outgoing
                    .get(&peer)
                    .is_some_and(|o| o.signed > o.acknowledged)
            };
            if unacknowledged || (owed > 0 && owed >= self.config.settle_at) {
                if let Err(e) = self.pay(&connector, &peer, owed).await {
                    tracing::info!(target: "seedstr::ilp", "settling with {peer}: {e}");
                }
            }
        }
        self.cash_due().await
    }

    async fn ask(
        &self,
        connector: &Connector<BtpPeer>,
        peer: &str,
        destination: &str,
        data: Vec<u8>,
    ) -> Result<Vec<u8>, SettleError> {
        let message = settle::message(destination, data, super::now_ms() + 30_000);
        connector
            .send_to_peer(peer, message)
            .await
            .map(|f| f.data)
            .map_err(|r| SettleError::Peer(format!("{} {}", r.code, r.message)))
    }

    /// Pays `peer` what the node owes it (and first re-sends a claim it did not acknowledge).
    async fn pay(
        &self,
        connector: &Connector<BtpPeer>,
        peer: &str,
        owed: u64,
    ) -> Result<(), SettleError> {
        let _one_round = self.paying.lock().await;
        let channels = self.channels();
        let mut existing = self.book().outgoing.get(peer).cloned();
        if let Some(out) = &existing {
            // A channel its sender closed (or is closing) takes no more claims: a new one is
            // opened once everything signed on it was acknowledged.
            let open = channels
                .channel(out.id)
                .await?
                .is_some_and(|c| c.closes_at == 0);
            if !open && out.signed == out.acknowledged {
                tracing::info!(target: "seedstr::ilp", "channel {} to {peer} is closed or closing", out.id);
                existing = None;
            }
        }
        let mut out = match existing {
            Some(out) => out,
            None => {
                let info: Info = serde_json::from_slice(
                    &self
                        .ask(connector, peer, settle::INFO_DESTINATION, Vec::new())
                        .await?,
                )
                .map_err(|e| SettleError::Peer(format!("its settlement info: {e}")))?;
                if info.chain_id != self.chain.chain_id() || info.contract != self.contract {
                    return Err(SettleError::Peer(format!(
                        "it settles on chain {} with contract {}, not this node's",
                        info.chain_id, info.contract
                    )));
                }
                let deposit = U256::from(self.config.deposit.max(owed));
                let expires = self.chain.now().await? + self.config.channel_days.max(1) * 86_400;
                let id = channels
                    .open(
                        &self.wallet,
                        info.recipient,
                        deposit,
                        self.config.challenge_secs,
                        expires,
                    )
                    .await?
                    .value;
                tracing::info!(target: "seedstr::ilp", "opened channel {id} to {peer} with {deposit}");
                Outgoing {
                    id,
                    recipient: info.recipient,
                    deposit,
                    signed: U256::ZERO,
                    acknowledged: U256::ZERO,
                }
            }
        };
        if out.signed == out.acknowledged {
            let next = out.signed + U256::from(owed);
            if next > out.deposit {
                let more = U256::from(self.config.deposit).max(next - out.deposit);
                let expires = self.chain.now().await? + self.config.channel_days.max(1) * 86_400;
                channels.top_up(&self.wallet, out.id, more, expires).await?;
                out.deposit += more;
            }
            // Kept before it goes: a claim once signed is never signed lower again.
            out.signed = next;
        }
        self.keep_outgoing(peer, &out).await?;
        let claim = claim::sign(&self.wallet.key, &channels.domain(), out.id, out.signed);
        let data = serde_json::to_vec(&claim).expect("a claim serializes");
        self.ask(connector, peer, settle::CLAIM_DESTINATION, data)
            .await?;
        let paid = out.signed - out.acknowledged;
        out.acknowledged = out.signed;
        self.keep_outgoing(peer, &out).await?;
        connector.settled_out(peer, u64::try_from(paid).unwrap_or(u64::MAX));
        Ok(())
    }

    async fn keep_outgoing(&self, peer: &str, out: &Outgoing) -> Result<(), SettleError> {
        self.book().outgoing.insert(peer.to_owned(), out.clone());
        self.keep().await
    }

    /// Takes a claim from `peer` (a peer's account, or `nostr:<hex>` for a writer buying
    /// credit): what it adds, kept on disk, then credited to the account.
    pub async fn take_claim(&self, peer: &str, data: &[u8]) -> Result<U256, String> {
        if data.len() > MAX_MESSAGE_BYTES {
            return Err(format!("a claim over {MAX_MESSAGE_BYTES} bytes"));
        }
        let claim: SignedClaim =
            serde_json::from_slice(data).map_err(|e| format!("not a claim: {e}"))?;
        let channels = self.channels();
        let (taken_by_other, held) = {
            let book = self.book();
            (
                book.incoming
                    .iter()
                    .find(|(p, i)| *p != peer && i.channel.id == claim.channel)
                    .map(|(p, _)| p.clone()),
                book.incoming.get(peer).cloned(),
            )
        };
        if let Some(other) = taken_by_other {
            return Err(format!("channel {} pays for {other}", claim.channel));
        }
        // What the chain says, read before the book is locked: a new channel (the first, or one
        // after the last was closed), or a deposit topped up since it was read.
        let fresh = match &held {
            Some(i) if i.channel.id == claim.channel => {
                if claim.cumulative > i.channel.deposit {
                    channels
                        .channel(claim.channel)
                        .await
                        .map_err(|e| e.to_string())?
                        .map(|c| c.deposit)
                } else {
                    None
                }
            }
            Some(old) => {
                if channels
                    .channel(old.channel.id)
                    .await
                    .map_err(|e| e.to_string())?
                    .is_some()
                {
                    return Err(format!(
                        "claims for this account come through channel {}",
                        old.channel.id
                    ));
                }
                None
            }
            None => None,
        };
        let new_channel = match &held {
            Some(i) if i.channel.id == claim.channel => None,
            _ => Some(
                channels
                    .incoming(claim.channel, self.wallet.address)
                    .await
                    .map_err(|e| e.to_string())?,
            ),
        };
        let domain = channels.domain();
        let added = {
            let mut book = self.book();
            if let Some(channel) = new_channel {
                book.incoming.insert(
                    peer.to_owned(),
                    Incoming {
                        channel,
                        cashed: U256::ZERO,
                    },
                );
            }
            let incoming = book
                .incoming
                .get_mut(peer)
                .ok_or_else(|| "the channel went while it was read".to_owned())?;
            if let Some(deposit) = fresh {
                incoming.channel.deposit = incoming.channel.deposit.max(deposit);
            }
            incoming
                .channel
                .take(&domain, &claim)
                .map_err(|e| e.to_string())?
        };
        self.keep().await.map_err(|e| e.to_string())?;
        if let Some(connector) = self.connector.upgrade() {
            connector.settled(peer, u64::try_from(added).unwrap_or(u64::MAX));
        }
        Ok(added)
    }

    /// Cashes the best claims that are due: once `cash_at` is uncashed, or at once when the
    /// sender started closing (answering its close with the latest claim).
    async fn cash_due(&self) -> Result<(), SettleError> {
        let channels = self.channels();
        let held: Vec<(String, Incoming)> = self
            .book()
            .incoming
            .iter()
            .map(|(p, i)| (p.clone(), i.clone()))
            .collect();
        for (peer, entry) in held {
            let Some(best) = entry.channel.best.clone() else {
                continue;
            };
            if best.cumulative <= entry.cashed {
                continue;
            }
            let closing = match channels.channel(entry.channel.id).await? {
                Some(c) => c.closes_at != 0,
                None => continue,
            };
            let uncashed = best.cumulative - entry.cashed;
            if !closing && uncashed < U256::from(self.config.cash_at) {
                continue;
            }
            match channels.cash(&self.wallet, &best).await {
                Ok(done) => {
                    tracing::info!(target: "seedstr::ilp", "cashed {} from {peer}'s channel {}", done.value, entry.channel.id);
                    if let Some(i) = self.book().incoming.get_mut(&peer) {
                        i.cashed = i.cashed.max(best.cumulative);
                    }
                    self.keep().await?;
                }
                Err(e) => {
                    tracing::info!(target: "seedstr::ilp", "cashing {peer}'s channel: {e}")
                }
            }
        }
        Ok(())
    }
}

impl SettlementHandler for EvmSettlement {
    fn handle<'a>(&'a self, from: &'a str, destination: &'a str, data: &'a [u8]) -> Handling<'a> {
        Box::pin(async move {
            match destination {
                settle::INFO_DESTINATION => Ok(serde_json::to_vec(&Info {
                    chain_id: self.chain.chain_id(),
                    contract: self.contract,
                    recipient: self.wallet.address,
                })
                .expect("info serializes")),
                settle::CLAIM_DESTINATION => {
                    let added = self.take_claim(from, data).await?;
                    Ok(serde_json::json!({"taken": added.to_string()})
                        .to_string()
                        .into_bytes())
                }
                other => Err(format!("no settlement message {other}")),
            }
        })
    }
}

/// What closing a channel did.
#[derive(Debug, Clone, Serialize)]
pub struct CloseReport {
    /// The peer account the channel paid.
    pub peer: String,
    /// The channel.
    pub channel: B256,
    /// When the close may finish (Unix seconds on the chain), once started.
    pub closes_at: Option<u64>,
    /// What came back to the node's address, once finished.
    pub refunded: Option<U256>,
    /// The fee the node's address paid for it.
    pub fee: U256,
}

/// The contract `[ilp.evm]` names and a connection to its chain.
async fn contract_and_chain(config: &EvmConfig) -> Result<(Address, RpcChain), String> {
    let contract: Address = config
        .contract
        .parse()
        .map_err(|e| format!("ilp.evm.contract {:?}: {e}", config.contract))?;
    let chain = RpcChain::connect(&config.rpc)
        .await
        .map_err(|e| format!("ilp.evm.rpc {}: {e}", config.rpc))?;
    Ok((contract, chain))
}

/// The node's EVM wallet: its key, made once and kept in `evm-key` in the data folder.
fn node_wallet(data: &std::path::Path) -> Result<Wallet, String> {
    let secret = super::secret_file(data, "evm-key").map_err(|e| e.to_string())?;
    let key = k256::ecdsa::SigningKey::from_slice(&secret)
        .map_err(|e| format!("the node's EVM key: {e}"))?;
    Ok(Wallet::new(key))
}

/// Closes the channel through which the node pays `peer` (from its data folder: its key and
/// channel book, the chain from `[ilp.evm]`): starts the close, or with `finish` ends one whose
/// challenge period is over and takes back what was not claimed. The running node notices and
/// opens a new channel when it next owes that peer.
pub async fn close_outgoing(
    config: &EvmConfig,
    data: &std::path::Path,
    peer: &str,
    finish: bool,
) -> Result<CloseReport, String> {
    let (contract, chain) = contract_and_chain(config).await?;
    let path = data.join("channels.json");
    let book: Book = serde_json::from_slice(
        &std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?,
    )
    .map_err(|e| format!("{}: {e}", path.display()))?;
    let out = book.outgoing.get(peer).ok_or_else(|| {
        let known: Vec<&String> = book.outgoing.keys().collect();
        format!("no channel pays {peer} (channels pay: {known:?})")
    })?;
    let wallet = node_wallet(data)?;
    let channels = Channels::at(&chain, contract);
    let mut report = CloseReport {
        peer: peer.to_owned(),
        channel: out.id,
        closes_at: None,
        refunded: None,
        fee: U256::ZERO,
    };
    if finish {
        let done = channels
            .finish_close(&wallet, out.id)
            .await
            .map_err(|e| e.to_string())?;
        report.refunded = Some(done.value);
        report.fee = done.fee;
    } else {
        let done = channels
            .start_close(&wallet, out.id)
            .await
            .map_err(|e| e.to_string())?;
        report.closes_at = Some(done.value);
        report.fee = done.fee;
    }
    Ok(report)
}
