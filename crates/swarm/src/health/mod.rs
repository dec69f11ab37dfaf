//! How well a torrent is seeded, asked of trackers and peers without fetching it.

pub mod peer_probe;
pub mod tracker;

pub use peer_probe::{probe_peer, Holding, PeerReport, ProbeError};
pub use tracker::{list_peers, scrape, Scrape, TrackerError};

use crate::torrent::piece_length_for;

/// The peer id our probes give trackers and peers: Azureus-style `-SD0001-` and 12 random
/// digits.
fn probe_peer_id() -> [u8; 20] {
    let mut id = *b"-SD0001-000000000000";
    for b in &mut id[8..] {
        *b = b'0' + rand::random_range(0..10u8);
    }
    id
}

/// The piece count of a Seedstr torrent of `total` bytes: its layout is fixed by the payload
/// (docs/release.md), so a release's size is enough to read a peer's bitfield.
pub fn piece_count(total: u64) -> u64 {
    total.div_ceil(piece_length_for(total) as u64)
}
