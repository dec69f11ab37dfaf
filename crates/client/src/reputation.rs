//! What this machine has seen of each BitTorrent peer, kept locally (no global reputation
//! service): bytes delivered, pieces that passed or failed their hash check, how long the first
//! verified piece took. A peer that sent a piece failing its check is not asked again for a
//! while (an hour, doubling with each offence up to a day); the others are asked best first.
//! Kept in `<home>/peers/reputation.json`.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use seedstr_swarm::PeerDelivery;
use serde::{Deserialize, Serialize};

/// How long a peer is left out after its first bad piece, in seconds; each later offence
/// doubles it, up to [`LONGEST_BAN`].
pub const FIRST_BAN: u64 = 3600;
/// The longest a peer is left out, in seconds.
pub const LONGEST_BAN: u64 = 86_400;
/// The most peers remembered; beyond it, those seen longest ago go.
pub const MAX_PEERS: usize = 4096;
/// The largest reputation file read.
pub const MAX_FILE_BYTES: usize = 4 << 20;

/// What one peer did for this machine.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PeerRecord {
    /// Bytes received from it.
    pub delivered_bytes: u64,
    /// Its pieces that passed their hash check.
    pub good_pieces: u64,
    /// Its pieces that failed their hash check.
    pub bad_pieces: u64,
    /// Transfers it took part in.
    pub transfers: u64,
    /// Its most recent first-piece time (request to verified piece), in milliseconds.
    pub first_piece_ms: Option<u64>,
    /// Unix seconds it was last seen delivering (or failing).
    pub last_seen: u64,
    /// Unix seconds until which it is not asked, after a bad piece.
    pub banned_until: Option<u64>,
    /// Times it sent a bad piece in a transfer.
    pub offences: u32,
}

impl PeerRecord {
    /// Whether it is left out at `now`.
    pub fn banned(&self, now: u64) -> bool {
        self.banned_until.is_some_and(|until| now < until)
    }
}

/// Why a reputation file was not read.
#[derive(Debug, thiserror::Error)]
pub enum ReputationError {
    /// Over [`MAX_FILE_BYTES`].
    #[error("the peer reputation file holds {0} bytes, over the {MAX_FILE_BYTES}-byte cap")]
    TooLarge(usize),
    /// Over [`MAX_PEERS`].
    #[error("the peer reputation file names {0} peers, over the cap of {MAX_PEERS}")]
    TooMany(usize),
    /// Not the format.
    #[error("the peer reputation file does not read: {0}")]
    Format(String),
}

/// Every peer's record.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Reputation {
    /// By address.
    pub peers: BTreeMap<SocketAddr, PeerRecord>,
}

/// Load-change-save runs one at a time in a process (a view fetches many archives at once).
static UPDATING: Mutex<()> = Mutex::new(());

/// Where `home`'s reputation file is.
pub fn reputation_path(home: &Path) -> PathBuf {
    home.join("peers").join("reputation.json")
}

impl Reputation {
    /// Reads a reputation file's bytes, refusing what is over its caps.
    pub fn parse(bytes: &[u8]) -> Result<Reputation, ReputationError> {
        if bytes.len() > MAX_FILE_BYTES {
            return Err(ReputationError::TooLarge(bytes.len()));
        }
        let r: Reputation =
            serde_json::from_slice(bytes).map_err(|e| ReputationError::Format(e.to_string()))?;
        if r.peers.len() > MAX_PEERS {
            return Err(ReputationError::TooMany(r.peers.len()));
        }
        Ok(r)
    }

    /// The file's bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        serde_json::to_vec_pretty(self).expect("records encode")
    }

    /// `home`'s reputation; empty when there is none, or it does not read (said in the log:
    /// a reputation is advice, never a reason to stop an install).
    pub fn load(home: &Path) -> Reputation {
        let path = reputation_path(home);
        match std::fs::read(&path) {
            Ok(bytes) => Reputation::parse(&bytes).unwrap_or_else(|e| {
                tracing::warn!("{}: {e}; starting afresh", path.display());
                Reputation::default()
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Reputation::default(),
            Err(e) => {
                tracing::warn!("reading {}: {e}", path.display());
                Reputation::default()
            }
        }
    }

    fn save(&self, home: &Path) -> std::io::Result<()> {
        let path = reputation_path(home);
        let dir = path.parent().expect("inside peers/");
        std::fs::create_dir_all(dir)?;
        let staged = dir.join(".reputation.json.tmp");
        std::fs::write(&staged, self.to_bytes())?;
        std::fs::rename(&staged, &path)
    }

    /// Takes in what each peer delivered to one transfer at `now` (Unix seconds).
    pub fn record(&mut self, deliveries: &[PeerDelivery], now: u64) {
        for d in deliveries {
            let r = self.peers.entry(d.addr).or_default();
            r.delivered_bytes = r.delivered_bytes.saturating_add(d.fetched_bytes);
            r.good_pieces = r.good_pieces.saturating_add(u64::from(d.good_pieces));
            r.bad_pieces = r.bad_pieces.saturating_add(u64::from(d.bad_pieces));
            r.transfers = r.transfers.saturating_add(1);
            if d.first_piece_ms.is_some() {
                r.first_piece_ms = d.first_piece_ms;
            }
            r.last_seen = now;
            if d.bad_pieces > 0 {
                r.offences = r.offences.saturating_add(1);
                let ban = FIRST_BAN
                    .saturating_mul(1u64 << (r.offences - 1).min(16))
                    .min(LONGEST_BAN);
                r.banned_until = Some(now.saturating_add(ban));
            }
        }
        if self.peers.len() > MAX_PEERS {
            let mut by_age: Vec<(u64, SocketAddr)> =
                self.peers.iter().map(|(a, r)| (r.last_seen, *a)).collect();
            by_age.sort_unstable();
            for (_, a) in by_age.iter().take(self.peers.len() - MAX_PEERS) {
                self.peers.remove(a);
            }
        }
    }

    /// Records `deliveries` in `home`'s reputation file.
    pub fn update(home: &Path, deliveries: &[PeerDelivery], now: u64) {
        if deliveries.is_empty() {
            return;
        }
        let _one_at_a_time = UPDATING.lock().unwrap_or_else(|p| p.into_inner());
        let mut r = Reputation::load(home);
        r.record(deliveries, now);
        if let Err(e) = r.save(home) {
            tracing::warn!("keeping peer reputation: {e}");
        }
    }

    /// Until when `peer` is left out, if it is at `now`.
    fn left_out_until(&self, peer: &SocketAddr, now: u64) -> Option<u64> {
        self.peers
            .get(peer)
            .filter(|r| r.banned(now))
            .and_then(|r| r.banned_until)
    }

    /// Those of `peers` left out at `now`, each with until when.
    pub fn left_out(&self, peers: &[SocketAddr], now: u64) -> Vec<(SocketAddr, u64)> {
        peers
            .iter()
            .filter_map(|p| Some((*p, self.left_out_until(p, now)?)))
            .collect()
    }

    /// `peers` with those left out at `now` removed, the first `keep_first` in their order
    /// (the publisher's seeders), then the rest best first: those that delivered verified
    /// pieces, fastest first piece first, then peers never seen, in their order.
    pub fn rank(&self, peers: &[SocketAddr], keep_first: usize, now: u64) -> Vec<SocketAddr> {
        let allowed = |p: &&SocketAddr| self.left_out_until(p, now).is_none();
        let (first, rest) = peers.split_at(keep_first.min(peers.len()));
        let mut ranked: Vec<SocketAddr> = first.iter().filter(allowed).copied().collect();
        let mut others: Vec<SocketAddr> = rest.iter().filter(allowed).copied().collect();
        // A stable sort: peers with the same standing keep the order they were named in.
        others.sort_by_key(|p| match self.peers.get(p) {
            Some(r) if r.good_pieces > 0 => (0, r.first_piece_ms.unwrap_or(u64::MAX)),
            _ => (1, 0),
        });
        ranked.extend(others);
        ranked
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn delivery(addr: &str, bytes: u64, good: u32, bad: u32, ms: Option<u64>) -> PeerDelivery {
        PeerDelivery {
            addr: addr.parse().unwrap(),
            fetched_bytes: bytes,
            good_pieces: good,
            bad_pieces: bad,
            first_piece_ms: ms,
        }
    }

    #[test]
    fn a_bad_piece_leaves_a_peer_out_for_a_while_and_good_peers_come_first() {
        let mut r = Reputation::default();
        let (slow, fast, liar, new) = (
            "10.0.0.1:1".parse().unwrap(),
            "10.0.0.2:1".parse().unwrap(),
            "10.0.0.3:1".parse().unwrap(),
            "10.0.0.4:1".parse().unwrap(),
        );
        r.record(
            &[
                delivery("10.0.0.1:1", 1000, 4, 0, Some(90)),
                delivery("10.0.0.2:1", 1000, 4, 0, Some(5)),
                delivery("10.0.0.3:1", 16, 0, 1, None),
            ],
            1000,
        );
        assert!(r.peers[&liar].banned(1000 + FIRST_BAN - 1));
        assert!(!r.peers[&liar].banned(1000 + FIRST_BAN));
        // The publisher's seeder stays first; the liar is left out; known good peers come
        // before one never seen, fastest first.
        let publisher: SocketAddr = "10.0.0.9:1".parse().unwrap();
        assert_eq!(
            r.rank(&[publisher, new, slow, liar, fast], 1, 1001),
            vec![publisher, fast, slow, new]
        );
        // A second offence doubles the time left out; a banned publisher seeder is left out too.
        r.record(&[delivery("10.0.0.3:1", 0, 0, 2, None)], 5000);
        assert_eq!(r.peers[&liar].banned_until, Some(5000 + 2 * FIRST_BAN));
        assert_eq!(r.rank(&[liar, new], 1, 5001), vec![new]);
        assert_eq!(
            r.left_out(&[liar, new], 5001),
            vec![(liar, 5000 + 2 * FIRST_BAN)]
        );
        assert_eq!(r.peers[&liar].bad_pieces, 3);
        assert_eq!(r.peers[&fast].delivered_bytes, 1000);
    }

    #[test]
    fn oversized_or_unknown_files_are_refused_by_name_and_load_starts_afresh() {
        let home = tempfile::tempdir().unwrap();
        let mut r = Reputation::default();
        r.record(&[delivery("10.0.0.1:1", 5, 1, 0, Some(3))], 7);
        Reputation::update(home.path(), &[delivery("10.0.0.1:1", 5, 1, 0, Some(3))], 7);
        assert_eq!(Reputation::load(home.path()), r);
        let why = Reputation::parse(b"{\"peers\":{},\"extra\":1}")
            .unwrap_err()
            .to_string();
        assert!(why.contains("does not read"), "{why}");
        let big = vec![b' '; MAX_FILE_BYTES + 1];
        assert!(matches!(
            Reputation::parse(&big),
            Err(ReputationError::TooLarge(_))
        ));
        std::fs::write(reputation_path(home.path()), b"not json").unwrap();
        assert_eq!(Reputation::load(home.path()), Reputation::default());
    }

    proptest! {
        #![proptest_config(ProptestConfig {
            rng_seed: proptest::test_runner::RngSeed::Fixed(0x5eed),
            failure_persistence: None,
            ..ProptestConfig::default()
        })]

        #[test]
        fn a_reputation_reads_back_as_written_and_never_grows_past_its_cap(
            rounds in prop::collection::vec(
                prop::collection::vec((any::<[u8; 4]>(), 1u16.., any::<u32>(), 0u32..3, prop::option::of(1u64..10_000)), 0..20),
                0..8,
            ),
        ) {
            let mut r = Reputation::default();
            for (i, round) in rounds.iter().enumerate() {
                let ds: Vec<PeerDelivery> = round
                    .iter()
                    .map(|(ip, port, bytes, bad, ms)| PeerDelivery {
                        addr: SocketAddr::from((*ip, *port)),
                        fetched_bytes: u64::from(*bytes),
                        good_pieces: 1,
                        bad_pieces: *bad,
                        first_piece_ms: *ms,
                    })
                    .collect();
                r.record(&ds, 1000 + i as u64);
            }
            prop_assert!(r.peers.len() <= MAX_PEERS);
            prop_assert_eq!(Reputation::parse(&r.to_bytes()).unwrap(), r.clone());
            // Ranking keeps only peers it was given, each once.
            let given: Vec<SocketAddr> = r.peers.keys().copied().collect();
            let ranked = r.rank(&given, 0, 0);
            prop_assert!(ranked.iter().all(|p| given.contains(p)));
        }
    }
}
