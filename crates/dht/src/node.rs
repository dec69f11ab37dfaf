//! A Mainline DHT node that puts and gets Seedstr's mutable items with BEP-44's rules kept:
//! sizes checked first, `seq` only growing, compare-and-swap for concurrent writers.

use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::time::Duration;

use ed25519_dalek::SigningKey;
use futures_util::StreamExt;
use mainline::async_dht::AsyncDht;
use mainline::errors::{ConcurrencyError, PutMutableError, PutQueryError};
use mainline::{Dht, Id, MutableItem};

use crate::record::{check_sizes, RecordError};

/// The bootstrap list that names no node: the first node of a private DHT starts alone.
pub const NO_BOOTSTRAP: &str = "none";

/// How a node joins the DHT.
#[derive(Debug, Clone, Default)]
pub struct DhtOptions {
    /// `host:port` of nodes to join through; `None` uses the public routers.
    pub bootstrap: Option<Vec<String>>,
    /// UDP port (default: any free one).
    pub port: Option<u16>,
    /// The address to bind to (default: every address, or loopback with `loopback`).
    pub bind: Option<Ipv4Addr>,
    /// Bind to loopback only (tests).
    pub loopback: bool,
    /// Answer other nodes' queries and store their items (a long-running node should).
    pub server: bool,
    /// How long one request may wait for an answer (the library's default is 2 s).
    pub request_timeout: Option<Duration>,
}

impl DhtOptions {
    /// Listening on `addr` (port 0: any free one).
    pub fn listening_on(mut self, addr: SocketAddrV4) -> DhtOptions {
        self.bind = Some(*addr.ip());
        self.port = Some(addr.port());
        self
    }

    /// Joining through `bootstrap` (the public routers when empty; nobody with the single
    /// word `none`, for the first node of a private DHT). A bootstrap made only of loopback
    /// addresses is a local test network, and the node stays on loopback with it.
    pub fn joining(bootstrap: &[String]) -> DhtOptions {
        if bootstrap == [NO_BOOTSTRAP] {
            return DhtOptions {
                bootstrap: Some(Vec::new()),
                ..Default::default()
            };
        }
        let loopback = !bootstrap.is_empty()
            && bootstrap
                .iter()
                .all(|b| b.starts_with("127.") || b.starts_with("localhost:"));
        DhtOptions {
            bootstrap: (!bootstrap.is_empty()).then(|| bootstrap.to_vec()),
            loopback,
            ..Default::default()
        }
    }
}

/// How a put picks its `seq`.
#[derive(Debug, Clone, Copy)]
pub enum Write {
    /// Above whatever the DHT holds (the current Unix time, or one more than the stored `seq`
    /// if that is higher), with the stored `seq` as the compare-and-swap condition.
    Next,
    /// As `Next`, above the stored `seq` the caller has just read itself, so the put does not
    /// look the record up a second time.
    NextAfter(Option<i64>),
    /// Exactly this `seq`, refused unless it is above the stored one; `cas`, when set, must be
    /// the stored `seq`.
    Exact {
        /// The seq to write.
        seq: i64,
        /// The stored seq the write requires, if any.
        cas: Option<i64>,
    },
}

/// A stored item.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Stored {
    /// The seq written.
    pub seq: i64,
    /// Hex DHT target: SHA-1 of the key and salt.
    pub target: String,
    /// Nodes that acknowledged storing it.
    pub stored_at: u32,
    /// The signed item, for keeping and putting again later.
    #[serde(skip)]
    pub item: MutableItem,
}

/// Why a DHT operation failed.
#[derive(Debug, thiserror::Error)]
pub enum DhtError {
    /// The record is too large or not Seedstr's.
    #[error(transparent)]
    Record(#[from] RecordError),
    /// An exact seq at or below the stored one.
    #[error("seq {seq} is not above the stored seq {stored}; a record's seq only grows")]
    NotMostRecent {
        /// The seq asked for.
        seq: i64,
        /// The seq stored.
        stored: i64,
    },
    /// Nodes answered that they hold a newer record.
    #[error("DHT nodes hold a record with a seq at or above {seq}; a record's seq only grows")]
    NewerStored {
        /// The seq that was refused.
        seq: i64,
    },
    /// The stored seq is not the one the write required.
    #[error("compare-and-swap failed: expected stored seq {expected}, found {found:?}; another writer changed the record, read it again")]
    CasFailed {
        /// The seq required.
        expected: i64,
        /// The seq found, if any.
        found: Option<i64>,
    },
    /// Another write of the same record is under way.
    #[error("another writer is updating this record ({0}); read it again and retry")]
    Conflict(ConcurrencyError),
    /// No node answered the bootstrap.
    #[error("no DHT node is reachable; check the bootstrap nodes")]
    NoNodes,
    /// No node answered the put in time.
    #[error("no DHT node answered the put")]
    Timeout,
    /// Nodes refused the record with a BEP-44 error.
    #[error("DHT nodes refused the record: {code} {description}")]
    Refused {
        /// The BEP-44 error code.
        code: i32,
        /// The nodes' words.
        description: String,
    },
    /// The node's socket could not be opened.
    #[error("starting the DHT node: {0}")]
    Io(#[from] std::io::Error),
}

/// A handle on one DHT node; clones share it.
#[derive(Clone)]
pub struct DhtNode {
    dht: AsyncDht,
}

impl std::fmt::Debug for DhtNode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DhtNode").finish_non_exhaustive()
    }
}

fn salt_opt(salt: &[u8]) -> Option<&[u8]> {
    (!salt.is_empty()).then_some(salt)
}

impl DhtNode {
    /// Starts a node as `opts` says, without waiting for it to join.
    pub fn start(opts: &DhtOptions) -> Result<DhtNode, DhtError> {
        let mut builder = Dht::builder();
        match &opts.bootstrap {
            Some(nodes) if nodes.is_empty() => builder.no_bootstrap(),
            Some(nodes) => builder.bootstrap(nodes),
            None => &mut builder,
        };
        if let Some(port) = opts.port {
            builder.port(port);
        }
        match opts.bind {
            Some(ip) => {
                builder.bind_address(ip);
            }
            None if opts.loopback => {
                builder.bind_address(Ipv4Addr::LOCALHOST);
            }
            None => {}
        }
        if opts.server {
            builder.server_mode();
        }
        if let Some(t) = opts.request_timeout {
            builder.request_timeout(t);
        }
        Ok(DhtNode {
            dht: builder.build()?.as_async(),
        })
    }

    /// Starts a node and waits until it has joined the DHT: a put made before then finds no
    /// node to store at.
    pub async fn join(opts: &DhtOptions) -> Result<DhtNode, DhtError> {
        let node = DhtNode::start(opts)?;
        if !node.bootstrapped().await {
            return Err(DhtError::NoNodes);
        }
        Ok(node)
    }

    /// Waits until the node has joined the DHT; false if it found nobody.
    pub async fn bootstrapped(&self) -> bool {
        self.dht.bootstrapped().await
    }

    /// The UDP address the node is bound to: others join through it.
    pub async fn local_addr(&self) -> SocketAddrV4 {
        self.dht.info().await.local_addr()
    }

    /// Whether the node knows other nodes now (its routing table is not empty).
    pub async fn has_peers(&self) -> bool {
        !self.dht.to_bootstrap().await.is_empty()
    }

    /// The nodes in its routing table, as `ip:port`: what a later start can join through.
    pub async fn routing_table(&self) -> Vec<String> {
        self.dht.to_bootstrap().await
    }

    /// Signs `value` under `key` and `salt` and stores it.
    pub async fn put(
        &self,
        key: &SigningKey,
        salt: &[u8],
        value: &[u8],
        write: Write,
    ) -> Result<Stored, DhtError> {
        check_sizes(value, salt)?;
        let public = key.verifying_key().to_bytes();
        let stored = match write {
            Write::NextAfter(stored) => stored,
            _ => self.most_recent(&public, salt).await.map(|i| i.seq()),
        };
        let (seq, cas) = match write {
            Write::Next | Write::NextAfter(_) => {
                let now = seedstr_proto::clock::unix_now() as i64;
                (now.max(stored.map_or(0, |s| s + 1)), stored)
            }
            Write::Exact { seq, cas } => {
                if let Some(stored) = stored.filter(|s| *s >= seq) {
                    return Err(DhtError::NotMostRecent { seq, stored });
                }
                if let Some(expected) = cas.filter(|c| Some(*c) != stored) {
                    return Err(DhtError::CasFailed {
                        expected,
                        found: stored,
                    });
                }
                (seq, cas)
            }
        };
        let item = MutableItem::new(key.clone(), value, seq, salt_opt(salt));
        self.store(item, cas).await
    }

    /// Puts an item someone already signed, unchanged: how records outlive their author's
    /// absence (items expire from nodes after about two hours).
    pub async fn republish(&self, item: MutableItem) -> Result<Stored, DhtError> {
        check_sizes(item.value(), item.salt().unwrap_or_default())?;
        self.store(item, None).await
    }

    async fn store(&self, item: MutableItem, cas: Option<i64>) -> Result<Stored, DhtError> {
        let seq = item.seq();
        match self.dht.put_mutable(item.clone(), cas).await {
            Ok(outcome) => Ok(Stored {
                seq,
                target: hex::encode(outcome.target.as_bytes()),
                stored_at: outcome.stored_at,
                item,
            }),
            Err(PutMutableError::Concurrency(ConcurrencyError::NotMostRecent)) => {
                Err(DhtError::NewerStored { seq })
            }
            Err(PutMutableError::Concurrency(ConcurrencyError::CasFailed)) => {
                Err(DhtError::CasFailed {
                    expected: cas.unwrap_or_default(),
                    found: None,
                })
            }
            Err(PutMutableError::Concurrency(e)) => Err(DhtError::Conflict(e)),
            Err(PutMutableError::Query(PutQueryError::NoClosestNodes)) => Err(DhtError::NoNodes),
            Err(PutMutableError::Query(PutQueryError::Timeout)) => Err(DhtError::Timeout),
            Err(PutMutableError::Query(PutQueryError::ErrorResponse(e))) => {
                Err(DhtError::Refused {
                    code: e.code,
                    description: e.description,
                })
            }
        }
    }

    /// The first valid item any node returns (the library checks each signature).
    pub async fn first(&self, public_key: &[u8; 32], salt: &[u8]) -> Option<MutableItem> {
        self.dht
            .get_mutable(public_key, salt_opt(salt), None)
            .next()
            .await
    }

    /// The item with the highest `seq` once the lookup has asked every close node.
    pub async fn most_recent(&self, public_key: &[u8; 32], salt: &[u8]) -> Option<MutableItem> {
        self.dht
            .get_mutable_most_recent(public_key, salt_opt(salt))
            .await
    }

    /// Tells the nodes closest to `info_hash` that this host serves it on TCP `port`.
    pub async fn announce_peer(&self, info_hash: &[u8; 20], port: u16) -> Result<(), DhtError> {
        let id = Id::from_bytes(info_hash).expect("20 bytes are an id");
        match self.dht.announce_peer(id, Some(port)).await {
            Ok(_) => Ok(()),
            Err(PutQueryError::NoClosestNodes) => Err(DhtError::NoNodes),
            Err(PutQueryError::Timeout) => Err(DhtError::Timeout),
            Err(PutQueryError::ErrorResponse(e)) => Err(DhtError::Refused {
                code: e.code,
                description: e.description,
            }),
        }
    }

    /// Peers announced for `info_hash`, in batches as nodes answer.
    pub fn get_peers(
        &self,
        info_hash: &[u8; 20],
    ) -> impl futures_util::Stream<Item = Vec<SocketAddrV4>> + Unpin {
        let id = Id::from_bytes(info_hash).expect("20 bytes are an id");
        self.dht.get_peers(id)
    }

    /// Every peer a complete lookup for `info_hash` names, or those named within `wait`.
    pub async fn all_peers(&self, info_hash: &[u8; 20], wait: Duration) -> Vec<SocketAddr> {
        let mut peers = Vec::new();
        let mut found = self.get_peers(info_hash);
        let _ = tokio::time::timeout(wait, async {
            while let Some(batch) = found.next().await {
                for p in batch.into_iter().map(SocketAddr::V4) {
                    if !peers.contains(&p) {
                        peers.push(p);
                    }
                }
            }
        })
        .await;
        peers
    }

    /// The first peers nodes name for `info_hash`, without waiting for the complete lookup
    /// (which waits out nodes that never answer); empty if none come within `wait`.
    pub async fn first_peers(&self, info_hash: &[u8; 20], wait: Duration) -> Vec<SocketAddr> {
        let mut peers = Vec::new();
        let mut announced = self.get_peers(info_hash);
        let _ = tokio::time::timeout(wait, async {
            while let Some(batch) = announced.next().await {
                peers.extend(batch.into_iter().map(SocketAddr::V4));
                if !peers.is_empty() {
                    break;
                }
            }
        })
        .await;
        peers
    }

    /// Every valid item as nodes return them, for callers that act on the first and keep
    /// listening for newer ones.
    pub fn items(
        &self,
        public_key: &[u8; 32],
        salt: &[u8],
    ) -> impl futures_util::Stream<Item = MutableItem> + Unpin {
        self.dht.get_mutable(public_key, salt_opt(salt), None)
    }
}
