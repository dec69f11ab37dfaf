//! A librqbit session set up the way Seedstr needs it: peers from the DHT (with a configurable
//! bootstrap), from trackers and from explicit addresses; files written straight into the folder
//! we name; nothing persisted behind our back.

use std::net::{Ipv4Addr, SocketAddr, TcpListener};
use std::num::NonZeroU32;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use librqbit::{
    api::TorrentIdOrHash, limits::LimitsConfig, AddTorrent, AddTorrentOptions, AddTorrentResponse,
    ListenerMode, ListenerOptions, ManagedTorrent, Session, SessionOptions,
};

use crate::error::SwarmError;
use crate::torrent::Torrent;
use crate::tracker_gate::TrackerGate;

/// How a session finds and accepts peers. A session runs no DHT node of its own: each process
/// runs one Mainline node (the `dht` crate's), which announces what is seeded and finds peers
/// for what is fetched, handed to the session as [`Sources::peers`].
#[derive(Debug, Clone, Default)]
pub struct SwarmOptions {
    /// TCP address to accept peers on. Port 0 picks a free port. `None`: leech only.
    pub listen: Option<SocketAddr>,
    /// Contact trackers named by releases.
    pub trackers: bool,
    /// Upload cap in bytes per second for the whole session.
    pub upload_limit_bps: Option<NonZeroU32>,
}

/// Where a transfer may find peers beyond the DHT.
#[derive(Debug, Clone, Default)]
pub struct Sources {
    /// Peers to connect to directly (given, or found on the DHT).
    pub peers: Vec<SocketAddr>,
    /// Trackers to announce to.
    pub trackers: Vec<String>,
}

/// A BitTorrent session (librqbit's) seeding and fetching torrents.
pub struct Swarm {
    pub(crate) session: Arc<Session>,
    /// Where the session's HTTP tracker announces go (capped answers); none without trackers.
    gate: Option<TrackerGate>,
}

/// A torrent in the session, seeding or fetching.
#[derive(Clone)]
pub struct Transfer {
    pub(crate) handle: Arc<ManagedTorrent>,
}

/// A snapshot of a transfer, for progress bars and decisions.
#[derive(Debug, Clone, Copy, Default, serde::Serialize)]
pub struct Progress {
    /// Verified bytes held.
    pub done_bytes: u64,
    /// The payload's size.
    pub total_bytes: u64,
    /// Bytes received from peers in this run.
    pub fetched_bytes: u64,
    /// Bytes sent to peers in this run.
    pub uploaded_bytes: u64,
    /// Download speed now.
    pub download_bps: f64,
    /// Peers connected now.
    pub live_peers: u32,
    /// Peers heard of.
    pub seen_peers: u32,
    /// Every piece is held.
    pub finished: bool,
}

/// A torrent's metadata as announced by peers, before any payload byte is fetched.
pub struct Metadata {
    /// The torrent, parsed and checked.
    pub torrent: Torrent,
    /// The `.torrent` file as received.
    pub torrent_file: Vec<u8>,
    /// Peers met while asking.
    pub seen_peers: Vec<SocketAddr>,
}

/// Reserves a free TCP port on `ip`: librqbit needs the port up front to announce it.
fn free_port(ip: std::net::IpAddr) -> std::io::Result<u16> {
    Ok(TcpListener::bind((ip, 0))?.local_addr()?.port())
}

impl Swarm {
    /// Starts a session as `opts` says.
    pub async fn start(opts: SwarmOptions) -> Result<Swarm, SwarmError> {
        let listen = match opts.listen {
            Some(mut addr) => {
                if addr.port() == 0 {
                    addr.set_port(free_port(addr.ip()).map_err(SwarmError::Port)?);
                }
                Some(ListenerOptions {
                    mode: ListenerMode::TcpOnly,
                    listen_addr: addr,
                    // librqbit announces no port for a loopback listener unless told.
                    announce_port: Some(addr.port()),
                    ipv4_only: addr.is_ipv4(),
                    ..Default::default()
                })
            }
            None => None,
        };
        let session = Session::new_with_opts(
            PathBuf::from("."),
            SessionOptions {
                dht: None,
                disable_trackers: !opts.trackers,
                fastresume: false,
                persistence: None,
                listen,
                disable_local_service_discovery: true,
                ipv4_only: true,
                client_name_and_version: Some(format!("seedstr {}", env!("CARGO_PKG_VERSION"))),
                ratelimits: LimitsConfig {
                    upload_bps: opts.upload_limit_bps,
                    download_bps: None,
                },
                ..Default::default()
            },
        )
        .await
        .map_err(SwarmError::engine("starting the BitTorrent session"))?;
        let gate = match opts.trackers {
            true => Some(TrackerGate::start().await.map_err(SwarmError::Port)?),
            false => None,
        };
        Ok(Swarm { session, gate })
    }

    /// The address the session accepts peers on, if it listens.
    pub fn listen_addr(&self) -> Option<SocketAddr> {
        self.session.listen_addr()
    }

    /// The address other peers on this machine reach us at (loopback when listening on all).
    pub fn local_peer_addr(&self) -> Option<SocketAddr> {
        let addr = self.listen_addr()?;
        if addr.ip().is_unspecified() {
            Some(SocketAddr::from((Ipv4Addr::LOCALHOST, addr.port())))
        } else {
            Some(addr)
        }
    }

    /// The options of a transfer into `dir`; `more_trackers` are those its torrent file or
    /// magnet named (taken out of it, so every tracker goes through the gate).
    fn options(
        &self,
        dir: &Path,
        sources: &Sources,
        more_trackers: &[String],
    ) -> AddTorrentOptions {
        let trackers: Vec<String> = match &self.gate {
            Some(gate) => sources
                .trackers
                .iter()
                .chain(more_trackers)
                .map(|t| gate.route(t))
                .collect(),
            None => Vec::new(),
        };
        AddTorrentOptions {
            output_folder: Some(dir.to_string_lossy().into_owned()),
            overwrite: true,
            initial_peers: (!sources.peers.is_empty()).then(|| sources.peers.clone()),
            trackers: (!trackers.is_empty()).then_some(trackers),
            ..Default::default()
        }
    }

    /// Seeding and fetching are one operation to librqbit: it checks what `dir` holds, serves
    /// the pieces it has and fetches the rest. `paused` adds it without starting.
    async fn add_file(
        &self,
        torrent_file: &[u8],
        dir: &Path,
        sources: &Sources,
        paused: bool,
    ) -> Result<Transfer, SwarmError> {
        // The file's own trackers are taken out and given as options, through the gate.
        let torrent = Torrent::from_file_bytes(torrent_file).map_err(SwarmError::TorrentFile)?;
        let announced = Torrent::announce_urls(torrent_file);
        let add = AddTorrent::from_bytes(torrent.to_file_bytes(&[]));
        let opts = AddTorrentOptions {
            paused,
            ..self.options(dir, sources, &announced)
        };
        let added = self
            .session
            .add_torrent(add, Some(opts))
            .await
            .map_err(SwarmError::engine("adding the torrent"))?;
        match added {
            AddTorrentResponse::Added(_, handle)
            | AddTorrentResponse::AlreadyManaged(_, handle) => Ok(Transfer { handle }),
            AddTorrentResponse::ListOnly(_) => {
                Err(SwarmError::Unexpected("only listed the torrent"))
            }
        }
    }

    /// Seeds the payload whose files sit below `dir`, once librqbit's check finds every piece.
    /// A payload that changed since it was hashed is refused rather than started: started,
    /// librqbit would "repair" the folder with bytes from other peers.
    pub async fn seed(
        &self,
        torrent_file: &[u8],
        dir: &Path,
        sources: &Sources,
    ) -> Result<Transfer, SwarmError> {
        // librqbit sets every file to its torrent length when it opens it, so a file that grew or
        // shrank since hashing would be cut or padded: compare sizes before it sees the folder.
        let torrent = Torrent::from_file_bytes(torrent_file).map_err(SwarmError::TorrentFile)?;
        for f in &torrent.files {
            let at = dir.join(&f.path);
            match std::fs::symlink_metadata(&at) {
                Ok(m) if m.is_file() && m.len() == f.size => {}
                Ok(m) if m.is_file() => {
                    return Err(SwarmError::SizeChanged {
                        path: at,
                        found: m.len(),
                        expected: f.size,
                    })
                }
                Ok(_) => return Err(SwarmError::NotAFile(at)),
                Err(why) => return Err(SwarmError::Missing { path: at, why }),
            }
        }
        let transfer = self.add_file(torrent_file, dir, sources, true).await?;
        transfer
            .handle
            .wait_until_initialized()
            .await
            .map_err(SwarmError::engine("checking the payload"))?;
        let p = transfer.progress();
        if p.done_bytes < p.total_bytes {
            self.remove(&transfer).await?;
            return Err(SwarmError::Incomplete {
                dir: dir.to_owned(),
                done: p.done_bytes,
                total: p.total_bytes,
            });
        }
        self.session
            .unpause(&transfer.handle)
            .await
            .map_err(SwarmError::engine("starting to seed"))?;
        Ok(transfer)
    }

    /// Asks peers for the torrent's metadata (BEP 9) without fetching any of the payload, so the
    /// caller can check the file list before a byte lands on disk.
    pub async fn metadata(&self, magnet: &str, sources: &Sources) -> Result<Metadata, SwarmError> {
        // The magnet's trackers are taken out and given as options, through the gate.
        let parsed =
            librqbit_core::magnet::Magnet::parse(magnet).map_err(|e| SwarmError::Engine {
                what: "reading the magnet link",
                why: e.to_string(),
            })?;
        let info_hash = parsed.as_id20().ok_or(SwarmError::Unexpected(
            "a magnet link without a BitTorrent v1 info hash",
        ))?;
        let opts = AddTorrentOptions {
            list_only: true,
            ..self.options(Path::new("."), sources, &parsed.trackers)
        };
        // librqbit resolves a magnet with the magnet's own trackers only.
        let mut bare = format!("magnet:?xt=urn:btih:{}", info_hash.as_string());
        for t in opts.trackers.iter().flatten() {
            bare.push_str("&tr=");
            bare.push_str(&seedstr_proto::uri::component(t.as_bytes()));
        }
        let listed = self
            .session
            .add_torrent(AddTorrent::from_url(bare), Some(opts))
            .await
            .map_err(SwarmError::engine(
                "asking peers for the torrent's metadata",
            ))?;
        match listed {
            AddTorrentResponse::ListOnly(r) => {
                let torrent_file = r.torrent_bytes.to_vec();
                let torrent =
                    Torrent::from_file_bytes(&torrent_file).map_err(SwarmError::TorrentFile)?;
                Ok(Metadata {
                    torrent,
                    torrent_file,
                    seen_peers: r.seen_peers,
                })
            }
            _ => Err(SwarmError::Unexpected(
                "started the torrent instead of listing it",
            )),
        }
    }

    /// Fetches (or resumes) a payload into `dir` from a torrent file.
    pub async fn fetch(
        &self,
        torrent_file: &[u8],
        dir: &Path,
        sources: &Sources,
    ) -> Result<Transfer, SwarmError> {
        self.add_file(torrent_file, dir, sources, false).await
    }

    /// Takes a transfer out of the session; its files stay where they are.
    pub async fn remove(&self, transfer: &Transfer) -> Result<(), SwarmError> {
        self.session
            .delete(TorrentIdOrHash::Id(transfer.handle.id()), false)
            .await
            .map_err(SwarmError::engine("removing the torrent"))
    }

    /// Stops every transfer and the session.
    pub async fn stop(&self) {
        self.session.stop().await;
    }
}

/// What one peer delivered to a transfer, as librqbit counted it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerDelivery {
    /// The peer.
    pub addr: SocketAddr,
    /// Bytes received from it.
    pub fetched_bytes: u64,
    /// Its pieces that passed their hash check.
    pub good_pieces: u32,
    /// Its pieces that failed their hash check (librqbit then drops the connection).
    pub bad_pieces: u32,
    /// How long its first verified piece took, from request to check.
    pub first_piece_ms: Option<u64>,
}

impl Transfer {
    /// What each peer that connected delivered so far (none once the transfer is removed).
    pub fn peer_deliveries(&self) -> Vec<PeerDelivery> {
        let Some(live) = self.handle.live() else {
            return Vec::new();
        };
        let snapshot = live.per_peer_stats_snapshot(librqbit::PeerStatsFilter {
            state: librqbit::PeerStatsFilterState::All,
        });
        let mut out: Vec<PeerDelivery> = snapshot
            .peers
            .iter()
            .filter_map(|(addr, stats)| {
                let c = &stats.counters;
                Some(PeerDelivery {
                    addr: addr.parse().ok()?,
                    fetched_bytes: c.fetched_bytes,
                    good_pieces: c.downloaded_and_checked_pieces,
                    bad_pieces: c.pieces_failed_hash,
                    first_piece_ms: (c.first_piece_ms > 0).then_some(c.first_piece_ms),
                })
            })
            .filter(|d| d.fetched_bytes > 0 || d.bad_pieces > 0)
            .collect();
        out.sort_by_key(|d| d.addr);
        out
    }

    /// Where the transfer is now.
    pub fn progress(&self) -> Progress {
        progress_of(&self.handle.stats())
    }

    /// Verified bytes per file, in the torrent's file order.
    pub fn file_progress(&self) -> Vec<u64> {
        self.handle.stats().file_progress
    }

    /// Waits until every piece is held.
    pub async fn wait_until_completed(&self) -> Result<(), SwarmError> {
        self.handle
            .wait_until_completed()
            .await
            .map_err(SwarmError::engine("fetching"))
    }

    /// Waits until complete, or until `stall` passes with no new verified byte. `on_tick` sees
    /// the progress four times a second.
    pub async fn wait_or_stall(
        &self,
        stall: Duration,
        mut on_tick: impl FnMut(&Progress),
    ) -> Result<(), Stalled> {
        let completed = self.handle.wait_until_completed();
        tokio::pin!(completed);
        let mut last = self.progress().done_bytes;
        let mut last_change = tokio::time::Instant::now();
        loop {
            tokio::select! {
                r = &mut completed => {
                    return r.map_err(|e| Stalled { progress: self.progress(), reason: format!("{e:#}") });
                }
                _ = tokio::time::sleep(Duration::from_millis(250)) => {}
            }
            let stats = self.handle.stats();
            let progress = progress_of(&stats);
            on_tick(&progress);
            if let Some(reason) = stats.error {
                return Err(Stalled { progress, reason });
            }
            if stats.progress_bytes != last {
                last = stats.progress_bytes;
                last_change = tokio::time::Instant::now();
            } else if last_change.elapsed() >= stall {
                return Err(Stalled {
                    progress: self.progress(),
                    reason: format!("no verified data for {}s", stall.as_secs()),
                });
            }
        }
    }
}

fn progress_of(stats: &librqbit::TorrentStats) -> Progress {
    let mut p = Progress {
        done_bytes: stats.progress_bytes,
        total_bytes: stats.total_bytes,
        uploaded_bytes: stats.uploaded_bytes,
        finished: stats.finished,
        ..Default::default()
    };
    if let Some(live) = &stats.live {
        p.fetched_bytes = live.snapshot.fetched_bytes;
        p.download_bps = live.download_speed.as_bytes() as f64;
        p.live_peers = live.snapshot.peer_stats.live;
        p.seen_peers = live.snapshot.peer_stats.seen;
    }
    p
}

/// A transfer that stopped making progress.
#[derive(Debug, thiserror::Error)]
#[error("the swarm stalled at {}/{} bytes ({} peers live, {} seen): {reason}", progress.done_bytes, progress.total_bytes, progress.live_peers, progress.seen_peers)]
pub struct Stalled {
    /// Where the transfer stopped.
    pub progress: Progress,
    /// Why it counts as stalled.
    pub reason: String,
}
