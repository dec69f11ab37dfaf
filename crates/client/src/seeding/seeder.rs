//! Seeding: serve every registered payload until stopped. The registry is a folder, so
//! payloads published or installed while this runs are picked up, and a restart resumes them
//! all. Beside the swarm, the DHT upkeep announces every seeded torrent and puts the kept
//! records again. `seedstr seed`, `seedstr mirror` and the node each run one [`Seeder`].
//! What it does reaches its owner as [`SeedNote`]s.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;
use std::time::Duration;

use std::net::SocketAddrV4;
use std::path::PathBuf;

use seedstr_dht::join::{BootstrapSource, JoinPlan, Tried};
use seedstr_dht::{routing_cache, DhtNode, DhtOptions};
use seedstr_swarm::{Sources, Swarm, SwarmOptions, Transfer};

use super::registry::SeedRegistry;
use super::republish::{republish_kept, Republished, ANNOUNCE_EVERY};

/// What a seeder did. It serializes to one JSON object per note (`{"seeding": …}`) and
/// displays as a line for people; the CLI prints one or the other, the node logs it.
#[derive(Debug, Clone, serde::Serialize)]
#[serde(untagged)]
pub enum SeedNote {
    /// The session listens; printed first, and scripts read it to find the port.
    Listening {
        /// The address the session listens on.
        listening: String,
        /// The seed registry folder.
        registry: PathBuf,
    },
    /// A payload is being seeded.
    Seeding {
        /// The payload's info hash.
        seeding: String,
        /// The release, as `namespace/slug@version`.
        release: String,
        /// The folder served.
        dir: PathBuf,
    },
    /// A registered payload whose files are gone was dropped from the registry.
    Dropped {
        /// The payload's info hash.
        dropped: String,
        /// The release, as `namespace/slug@version`.
        release: String,
        /// Why, in words.
        why: String,
    },
    /// A payload that could not be served (its files no longer match, say).
    Refused {
        /// The payload's info hash.
        refused: String,
        /// The release, as `namespace/slug@version`.
        release: String,
        /// Why, in words.
        why: String,
    },
    /// A payload left the registry and is no longer seeded.
    Stopped {
        /// The payload's info hash.
        stopped: String,
    },
    /// A payload was announced on the DHT.
    Announced {
        /// The payload's info hash.
        announced: String,
        /// The port announced.
        port: u16,
    },
    /// A kept DHT item was put again.
    Republished {
        /// What was put.
        republished: Republished,
    },
    /// The process's DHT node started on this UDP address (others may join through it).
    DhtListening {
        /// The DHT node's UDP address.
        dht_listening: String,
    },
    /// The process's DHT node joined the DHT; it listens on this UDP address.
    DhtJoined {
        /// The DHT node's UDP address.
        dht_joined: String,
    },
    /// Something that did not stop the seeder but that its operator should see.
    Warning {
        /// What went wrong.
        warning: String,
    },
}

impl std::fmt::Display for SeedNote {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SeedNote::Listening { listening, .. } => {
                write!(f, "seedstr seed listening on {listening}")
            }
            SeedNote::Seeding {
                seeding,
                release,
                dir,
            } => write!(f, "seeding {release} ({seeding}) from {}", dir.display()),
            SeedNote::Dropped {
                dropped, release, ..
            } => write!(f, "dropped {release} ({dropped}): its files are gone"),
            SeedNote::Refused { release, why, .. } => write!(f, "not seeding {release}: {why}"),
            SeedNote::Stopped { stopped } => {
                write!(f, "stopped {stopped}: no longer registered")
            }
            SeedNote::Announced { announced, .. } => {
                write!(f, "announced {announced} on the DHT")
            }
            SeedNote::Republished { republished: r } => match &r.outcome {
                Ok(n) => write!(
                    f,
                    "republished {} of {} (seq {}) at {n} nodes",
                    r.label, r.author, r.seq
                ),
                Err(e) => write!(f, "could not republish {} of {}: {e}", r.label, r.author),
            },
            SeedNote::DhtListening { dht_listening } => {
                write!(f, "DHT node listening on {dht_listening}")
            }
            SeedNote::DhtJoined { dht_joined } => {
                write!(f, "joined the DHT; its node listens on {dht_joined}")
            }
            SeedNote::Warning { warning } => write!(f, "warning: {warning}"),
        }
    }
}

/// Where a seeder tells what it does.
pub type Report = Arc<dyn Fn(&SeedNote) + Send + Sync>;

/// Why a seeder could not start or look at its registry.
#[derive(Debug, thiserror::Error)]
pub enum SeederError {
    /// The BitTorrent session did not start.
    #[error("starting the BitTorrent session: {0}")]
    Session(String),
    /// The session has no listening port.
    #[error("the BitTorrent session is not listening")]
    NotListening,
    /// The DHT node did not start.
    #[error("starting the DHT node: {0}")]
    Dht(String),
    /// The registry could not be read.
    #[error(transparent)]
    Registry(#[from] super::registry::SeedsError),
}

/// How a seeder runs.
pub struct SeedOptions {
    /// BitTorrent session options.
    pub swarm: SwarmOptions,
    /// How the process's DHT node joins (and where it listens); `None`: no DHT.
    pub dht: Option<DhtOptions>,
    /// Between puts of the kept DHT records.
    pub republish: Duration,
}

/// Serves what the seed registry lists, one [`Seeder::pass`] at a time; `seed` and `mirror`
/// both run one.
pub struct Seeder {
    /// BitTorrent session options.
    pub swarm: Arc<Swarm>,
    registry: SeedRegistry,
    active: BTreeMap<String, Transfer>,
    warned: BTreeSet<String>,
    /// Payloads whose files no longer match; checking them again each pass would rehash them
    /// every time. A restart tries again.
    failed: BTreeSet<String>,
    /// Started payloads, for the DHT side to announce; `None` without the DHT.
    announce: Option<tokio::sync::mpsc::UnboundedSender<[u8; 20]>>,
    report: Report,
    dht_state: Arc<DhtStatus>,
}

/// A summary of the payloads a seeder serves.
#[derive(Debug, Clone, Copy, Default, serde::Serialize)]
pub struct SeedingStats {
    /// Torrents being seeded.
    pub torrents: usize,
    /// Peers connected now, over every torrent.
    pub live_peers: u64,
    /// Sent to peers since each torrent started.
    pub uploaded_bytes: u64,
    /// The payloads' total size.
    pub served_bytes: u64,
}

/// The DHT side's state and work, shared with status reports.
#[derive(Default)]
struct DhtStatus {
    state: AtomicU8,
    announces: std::sync::atomic::AtomicU64,
    /// The node, for lookups others make through it (seeders, feeds).
    node: std::sync::OnceLock<DhtNode>,
    /// The UDP address it is bound to.
    listen: std::sync::OnceLock<SocketAddrV4>,
    /// Where it looked for other nodes.
    bootstrap: std::sync::OnceLock<BootstrapReport>,
}

/// Where the DHT node looked for other nodes when it started.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct BootstrapReport {
    /// The source it started with: the first that answered a probe, or the last one, which the
    /// node keeps asking.
    pub source: BootstrapSource,
    /// Each source tried, in order.
    pub tried: Vec<Tried>,
}

/// Reads a seeder's [`DhtState`] and announce count from elsewhere.
#[derive(Clone)]
pub struct DhtStateHandle(Arc<DhtStatus>);

impl DhtStateHandle {
    /// The current state.
    pub fn get(&self) -> DhtState {
        DhtState::from_u8(self.0.state.load(Ordering::Relaxed))
    }

    /// Announces that succeeded since start.
    pub fn announces(&self) -> u64 {
        self.0.announces.load(Ordering::Relaxed)
    }

    /// The DHT node, once started.
    pub fn node(&self) -> Option<DhtNode> {
        self.0.node.get().cloned()
    }

    /// The UDP address the DHT node is bound to, once started.
    pub fn listen(&self) -> Option<SocketAddrV4> {
        self.0.listen.get().copied()
    }

    /// Where the DHT node looked for other nodes, once started.
    pub fn bootstrap(&self) -> Option<BootstrapReport> {
        self.0.bootstrap.get().cloned()
    }
}

impl Seeder {
    /// Starts the BitTorrent session for the registry in `home` and, with a DHT, the DHT
    /// upkeep beside it.
    pub async fn start(
        home: &Path,
        opts: SeedOptions,
        report: Report,
    ) -> Result<Seeder, SeederError> {
        let registry = SeedRegistry::new(home);
        let swarm = Arc::new(
            Swarm::start(opts.swarm)
                .await
                .map_err(|e| SeederError::Session(format!("{e:#}")))?,
        );
        let addr = swarm.local_peer_addr().ok_or(SeederError::NotListening)?;
        report(&SeedNote::Listening {
            listening: addr.to_string(),
            registry: registry.dir().to_owned(),
        });
        // The process's one DHT node starts now, so its address is known at once; joining
        // takes a while on the real network, so it runs beside seeding, and announcements wait
        // in the channel meanwhile.
        let dht_state = Arc::new(DhtStatus::default());
        let announce = match opts.dht {
            None => None,
            Some(dht_opts) => {
                // The nodes known last time first, then the configured ones, then the public
                // routers: the first source that answers is the one the node starts with.
                let plan = JoinPlan::new(&routing_cache::load(home), &dht_opts);
                let (chosen, source, tried) = plan.choose(&dht_opts).await;
                let _ = dht_state.bootstrap.set(BootstrapReport { source, tried });
                let node = DhtNode::start(&DhtOptions {
                    // A long-running seeder answers other nodes and stores their items.
                    server: true,
                    ..chosen
                })
                .map_err(|e| SeederError::Dht(e.to_string()))?;
                let listen = node.local_addr().await;
                let _ = dht_state.listen.set(listen);
                report(&SeedNote::DhtListening {
                    dht_listening: listen.to_string(),
                });
                let _ = dht_state.node.set(node.clone());
                dht_state
                    .state
                    .store(DhtState::Joining as u8, Ordering::Relaxed);
                let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
                let upkeep = DhtUpkeep {
                    home: home.to_owned(),
                    node,
                    port: addr.port(),
                    republish: opts.republish,
                    report: report.clone(),
                    state: dht_state.clone(),
                };
                tokio::spawn(upkeep.run(rx));
                Some(tx)
            }
        };
        Ok(Seeder {
            swarm,
            registry,
            active: BTreeMap::new(),
            warned: BTreeSet::new(),
            failed: BTreeSet::new(),
            announce,
            report,
            dht_state,
        })
    }

    /// A handle on where the DHT side is, for status reports.
    pub fn dht_state(&self) -> DhtStateHandle {
        DhtStateHandle(self.dht_state.clone())
    }

    /// The infohashes being served.
    pub fn active(&self) -> BTreeSet<String> {
        self.active.keys().cloned().collect()
    }

    /// What is being served, summed over the payloads.
    pub fn stats(&self) -> SeedingStats {
        let mut stats = SeedingStats {
            torrents: self.active.len(),
            ..SeedingStats::default()
        };
        for t in self.active.values() {
            let p = t.progress();
            stats.live_peers += u64::from(p.live_peers);
            stats.uploaded_bytes += p.uploaded_bytes;
            stats.served_bytes += p.total_bytes;
        }
        stats
    }

    /// One look at the registry: starts what is new, drops entries whose files are gone, and
    /// stops what is no longer registered.
    pub async fn pass(&mut self) -> Result<(), SeederError> {
        let report = self.report.clone();
        let (seeds, broken) = self.registry.list();
        for b in broken {
            if self.warned.insert(b.clone()) {
                report(&SeedNote::Warning {
                    warning: format!("skipping a broken registry entry: {b}"),
                });
            }
        }
        let mut listed = BTreeSet::new();
        for seed in seeds {
            let e = &seed.entry;
            listed.insert(e.infohash.clone());
            if self.active.contains_key(&e.infohash) || self.failed.contains(&e.infohash) {
                continue;
            }
            if !e.still_valid() {
                // The install was upgraded or removed, or the published folder is gone.
                self.registry.remove(&e.infohash)?;
                report(&SeedNote::Dropped {
                    dropped: e.infohash.clone(),
                    release: e.release.clone(),
                    why: "files gone".into(),
                });
                continue;
            }
            let sources = Sources {
                peers: vec![],
                trackers: e.trackers.clone(),
            };
            match self.swarm.seed(&seed.torrent_file, &e.dir, &sources).await {
                Ok(t) => {
                    report(&SeedNote::Seeding {
                        seeding: e.infohash.clone(),
                        release: e.release.clone(),
                        dir: e.dir.clone(),
                    });
                    self.active.insert(e.infohash.clone(), t);
                    if let (Some(tx), Ok(ih)) = (&self.announce, hex::decode(&e.infohash)) {
                        if let Ok(ih) = <[u8; 20]>::try_from(ih) {
                            let _ = tx.send(ih);
                        }
                    }
                }
                Err(err) => {
                    self.failed.insert(e.infohash.clone());
                    report(&SeedNote::Refused {
                        refused: e.infohash.clone(),
                        release: e.release.clone(),
                        why: format!("{err:#}"),
                    });
                }
            }
        }
        let gone: Vec<String> = self
            .active
            .keys()
            .filter(|ih| !listed.contains(*ih))
            .cloned()
            .collect();
        for ih in gone {
            self.stop(&ih).await;
        }
        Ok(())
    }

    /// Stops serving one payload, so its files can go.
    pub async fn stop(&mut self, infohash: &str) {
        if let Some(t) = self.active.remove(infohash) {
            let _ = self.swarm.remove(&t).await;
            (self.report)(&SeedNote::Stopped {
                stopped: infohash.to_owned(),
            });
        }
    }
}

/// The Mainline DHT side of seeding: every seeded torrent announced when it starts and every
/// fifteen minutes, every kept record put again every `republish` (and once at the start).
struct DhtUpkeep {
    home: std::path::PathBuf,
    node: DhtNode,
    /// The BitTorrent port announced.
    port: u16,
    republish: Duration,
    report: Report,
    state: Arc<DhtStatus>,
}

/// Where the seeder's DHT side is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DhtState {
    /// No DHT node.
    Off = 0,
    /// Looking for bootstrap nodes.
    Joining = 1,
    /// Joined the DHT.
    Joined = 2,
    /// No bootstrap node answered: the node serves alone (others may join through it) and
    /// joins as soon as another node answers.
    Unreachable = 3,
}

impl DhtState {
    /// The state's name, as in `/health`.
    pub fn as_str(self) -> &'static str {
        match self {
            DhtState::Off => "off",
            DhtState::Joining => "joining",
            DhtState::Joined => "joined",
            DhtState::Unreachable => "unreachable",
        }
    }

    fn from_u8(v: u8) -> DhtState {
        match v {
            1 => DhtState::Joining,
            2 => DhtState::Joined,
            3 => DhtState::Unreachable,
            _ => DhtState::Off,
        }
    }
}

/// Announces in flight at once: enough to start a large registry in minutes, few enough not to
/// flood the node's DHT actor.
const ANNOUNCES_AT_ONCE: usize = 16;

impl DhtUpkeep {
    async fn run(self, mut started: tokio::sync::mpsc::UnboundedReceiver<[u8; 20]>) {
        let dht = self.node.clone();
        tokio::spawn(keep_routing_table(self.home.clone(), dht.clone()));
        if dht.bootstrapped().await {
            joined(&self.state, &self.report);
            save_routing_table(&self.home, &dht).await;
        } else {
            // Said once. The node keeps serving, so others may join through it (the first node
            // of a private DHT), and it keeps asking its bootstrap nodes.
            self.state
                .state
                .store(DhtState::Unreachable as u8, Ordering::Relaxed);
            let listen = self.state.listen.get().map(ToString::to_string);
            (self.report)(&SeedNote::Warning {
                warning: format!(
                    "no DHT node answered; serving the DHT alone on {} and joining when another node answers",
                    listen.unwrap_or_default()
                ),
            });
            tokio::spawn(watch_join(
                self.home.clone(),
                dht.clone(),
                self.state.clone(),
                self.report.clone(),
            ));
        }
        // Each put and announce waits out the DHT's request timeout, so republishing runs
        // beside the announces (a torrent started meanwhile is findable at once), and
        // announces run several at a time.
        tokio::spawn(republish_every(
            self.home.clone(),
            dht.clone(),
            self.republish,
            self.report.clone(),
        ));
        let mut seeded: Vec<[u8; 20]> = Vec::new();
        let mut waiting: std::collections::VecDeque<[u8; 20]> = Default::default();
        let mut in_flight = futures_util::stream::FuturesUnordered::new();
        let mut announce_tick = tokio::time::interval(ANNOUNCE_EVERY);
        // The first tick is immediate; torrents are announced as they start.
        announce_tick.tick().await;
        loop {
            while in_flight.len() < ANNOUNCES_AT_ONCE {
                let Some(ih) = waiting.pop_front() else { break };
                in_flight.push(announce_one(&dht, ih, self.port, &self.report, &self.state));
            }
            tokio::select! {
                ih = started.recv() => {
                    let Some(ih) = ih else { return };
                    seeded.push(ih);
                    waiting.push_back(ih);
                }
                _ = announce_tick.tick() => waiting.extend(&seeded),
                Some(()) = futures_util::StreamExt::next(&mut in_flight), if !in_flight.is_empty() => {}
            }
        }
    }
}

/// Marks the DHT joined and says so.
fn joined(state: &DhtStatus, report: &Report) {
    state.state.store(DhtState::Joined as u8, Ordering::Relaxed);
    if let Some(listen) = state.listen.get() {
        report(&SeedNote::DhtJoined {
            dht_joined: listen.to_string(),
        });
    }
}

/// Looks, less and less often, for the first node that answers an unreachable DHT.
async fn watch_join(home: std::path::PathBuf, dht: DhtNode, state: Arc<DhtStatus>, report: Report) {
    let mut pause = Duration::from_secs(5);
    loop {
        tokio::time::sleep(pause).await;
        if dht.has_peers().await {
            joined(&state, &report);
            save_routing_table(&home, &dht).await;
            return;
        }
        pause = (pause * 2).min(Duration::from_secs(300));
    }
}

/// How often the routing table is kept for the next start (and once on joining).
const KEEP_ROUTING_TABLE_EVERY: Duration = Duration::from_secs(300);

/// Keeps the node's routing table in `home` for the next start; an empty one is not kept.
async fn save_routing_table(home: &std::path::Path, dht: &DhtNode) {
    let nodes = dht.routing_table().await;
    if let Err(e) = routing_cache::save(home, &nodes) {
        tracing::warn!("keeping the DHT routing table: {e}");
    }
}

async fn keep_routing_table(home: std::path::PathBuf, dht: DhtNode) {
    let mut tick = tokio::time::interval(KEEP_ROUTING_TABLE_EVERY);
    // The first tick is immediate, before the node has joined.
    tick.tick().await;
    loop {
        tick.tick().await;
        save_routing_table(&home, &dht).await;
    }
}

async fn republish_every(home: std::path::PathBuf, dht: DhtNode, every: Duration, report: Report) {
    let mut tick = tokio::time::interval(every);
    loop {
        tick.tick().await;
        let (done, broken) = republish_kept(&home, &dht).await;
        for b in broken {
            report(&SeedNote::Warning {
                warning: format!("not republishing a kept DHT item: {b}"),
            });
        }
        for republished in done {
            report(&SeedNote::Republished { republished });
        }
    }
}

async fn announce_one(dht: &DhtNode, ih: [u8; 20], port: u16, report: &Report, status: &DhtStatus) {
    let infohash = hex::encode(ih);
    match dht.announce_peer(&ih, port).await {
        Ok(()) => {
            status.announces.fetch_add(1, Ordering::Relaxed);
            report(&SeedNote::Announced {
                announced: infohash,
                port,
            })
        }
        // While the DHT is unreachable that was said once; each failed announce is not news.
        Err(e) if DhtState::from_u8(status.state.load(Ordering::Relaxed)) != DhtState::Joined => {
            tracing::debug!("announcing {infohash} on the DHT: {e}")
        }
        Err(e) => report(&SeedNote::Warning {
            warning: format!("announcing {infohash} on the DHT: {e}"),
        }),
    }
}
