//! How well a release is seeded: its trackers' counts, the peers the trackers and the Mainline
//! DHT name, and what each of those peers holds when asked directly.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::Duration;

use futures_util::{stream, StreamExt};
use seedstr_dht::DhtNode;
use seedstr_proto::release::Release;
use seedstr_swarm::health::{
    list_peers, piece_count, probe_peer, scrape, Holding, PeerReport, Scrape,
};
use serde::Serialize;

use crate::reputation::{PeerRecord, Reputation};

/// Where and how long to ask.
pub struct HealthOptions<'a> {
    /// Where to look peers up; `None` skips the DHT.
    pub dht: Option<&'a DhtNode>,
    /// Peers to ask besides those found.
    pub peers: Vec<SocketAddr>,
    /// Ask the release's trackers.
    pub trackers: bool,
    /// For each tracker exchange, the DHT lookup and each peer.
    pub timeout: Duration,
    /// This machine's record of peers, shown beside each peer it knows.
    pub reputation: Option<Reputation>,
}

/// Who holds a payload: what each tracker and peer said.
#[derive(Debug, Serialize)]
pub struct SeedHealth {
    /// The payload's info hash.
    pub infohash: String,
    /// Pieces in the torrent.
    pub pieces: u64,
    /// Each tracker's answer.
    pub trackers: Vec<TrackerHealth>,
    /// Peers the DHT names; `None` when it was not asked.
    pub dht_peers: Option<usize>,
    /// Each peer's answer.
    pub peers: Vec<PeerHealth>,
}

/// One tracker's answer.
#[derive(Debug, Serialize)]
pub struct TrackerHealth {
    /// The tracker's URL.
    pub url: String,
    /// Seeders, leechers and downloads, when the scrape worked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub counts: Option<Scrape>,
    /// Why the scrape failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scrape_error: Option<String>,
    /// Peers it listed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub peers: Option<usize>,
    /// Why asking for peers failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub peers_error: Option<String>,
}

/// One peer's answer.
#[derive(Debug, Serialize)]
pub struct PeerHealth {
    /// The peer's address.
    pub addr: SocketAddr,
    /// Who named it: `given`, `dht` or a tracker's address.
    pub named_by: Vec<String>,
    /// What the peer holds, when it answered.
    #[serde(flatten)]
    pub report: Option<PeerReport>,
    /// Why it did not answer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// What this machine saw of it in earlier transfers, when it took part in any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reputation: Option<PeerRecord>,
}

/// Peers asked at once.
const PROBES_AT_ONCE: usize = 32;

/// Asks the trackers and the DHT for `release`'s peers and each peer what it holds.
pub async fn seed_health(release: &Release, opts: &HealthOptions<'_>) -> SeedHealth {
    let info_hash = release.infohash;
    let size = release.total_size();
    let trackers = if opts.trackers {
        release.trackers.clone()
    } else {
        vec![]
    };
    // One tracker at a time, counts before the peer list: our own brief announce must not show
    // up in the counts, nor in another address's list of the same tracker.
    let asked = async {
        let mut asked = Vec::new();
        for url in trackers {
            let counts = scrape(&url, &info_hash, opts.timeout).await;
            let listed = list_peers(&url, &info_hash, size, opts.timeout).await;
            asked.push((url, counts, listed));
        }
        asked
    };
    let (asked, dht_peers) = tokio::join!(asked, async {
        match opts.dht {
            Some(dht) => Some(dht.all_peers(&info_hash, opts.timeout).await),
            None => None,
        }
    });

    let mut named: BTreeMap<SocketAddr, Vec<String>> = BTreeMap::new();
    for p in crate::install::installer::publisher_seeders(release).await {
        named.entry(p).or_default().push("publisher".into());
    }
    for p in &opts.peers {
        named.entry(*p).or_default().push("given".into());
    }
    for p in dht_peers.iter().flatten() {
        named.entry(*p).or_default().push("dht".into());
    }
    let mut tracker_reports = Vec::new();
    for (url, counts, listed) in asked {
        let mut report = TrackerHealth {
            url: url.clone(),
            counts: None,
            scrape_error: None,
            peers: None,
            peers_error: None,
        };
        match counts {
            Ok(c) => report.counts = Some(c),
            Err(e) => report.scrape_error = Some(e.to_string()),
        }
        match listed {
            Ok(peers) => {
                report.peers = Some(peers.len());
                for p in peers {
                    named.entry(p).or_default().push(url.clone());
                }
            }
            Err(e) => report.peers_error = Some(e.to_string()),
        }
        tracker_reports.push(report);
    }

    let pieces = piece_count(size);
    let peers = stream::iter(named.into_iter().map(|(addr, named_by)| async move {
        let probed = probe_peer(addr, &info_hash, pieces, opts.timeout).await;
        PeerHealth {
            addr,
            named_by,
            error: probed.as_ref().err().map(|e| e.to_string()),
            report: probed.ok(),
            reputation: opts
                .reputation
                .as_ref()
                .and_then(|r| r.peers.get(&addr).cloned()),
        }
    }))
    .buffered(PROBES_AT_ONCE)
    .collect()
    .await;
    SeedHealth {
        infohash: release.infohash_hex(),
        pieces,
        trackers: tracker_reports,
        dht_peers: dht_peers.map(|p| p.len()),
        peers,
    }
}

/// A [`SeedHealth`] with its counts: what `mod seed-health --json` and the node's
/// `/api/v1/seeders` report.
#[derive(Debug, Serialize)]
pub struct CountedHealth {
    /// Peers that answered holding every piece.
    pub seeders: usize,
    /// Peers that answered holding some pieces.
    pub partial: usize,
    /// Peers that did not answer.
    pub unreachable: usize,
    /// The most seeders any tracker counts.
    pub tracker_seeders: u64,
    /// Each tracker's and peer's answer.
    pub health: SeedHealth,
}

impl CountedHealth {
    /// Whether anyone seeds: a peer answered holding everything, or a tracker counts a seeder.
    pub fn is_seeded(&self) -> bool {
        self.seeders > 0 || self.tracker_seeders > 0
    }
}

impl SeedHealth {
    /// The answers with their counts.
    pub fn counted(self) -> CountedHealth {
        CountedHealth {
            seeders: self.seeders(),
            partial: self.partial(),
            unreachable: self.unreachable(),
            tracker_seeders: self.tracker_seeders(),
            health: self,
        }
    }

    fn count(&self, want: impl Fn(&Holding) -> bool) -> usize {
        self.peers
            .iter()
            .filter(|p| p.report.as_ref().is_some_and(|r| want(&r.holding)))
            .count()
    }

    /// Peers that answered holding every piece.
    pub fn seeders(&self) -> usize {
        self.count(|h| *h == Holding::Everything)
    }

    /// Peers that answered holding some pieces.
    pub fn partial(&self) -> usize {
        self.count(|h| matches!(h, Holding::Part { .. }))
    }

    /// How many peers did not answer.
    pub fn unreachable(&self) -> usize {
        self.peers.iter().filter(|p| p.error.is_some()).count()
    }

    /// The most seeders any tracker counts.
    pub fn tracker_seeders(&self) -> u64 {
        self.trackers
            .iter()
            .filter_map(|t| t.counts.map(|c| c.seeders))
            .max()
            .unwrap_or(0)
    }
}
