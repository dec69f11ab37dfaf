#![warn(missing_docs)]
//! Seedstr's swarm layer: deterministic torrents, and librqbit sessions that seed and fetch them.

pub mod bencode_check;
pub mod digest;
pub mod error;
pub mod health;
pub mod runtime;
pub mod session;
pub mod torrent;
pub mod tracker_gate;

pub use digest::{Digests, FileDigest};
pub use error::SwarmError;
pub use runtime::transfer_runtime;
pub use session::{
    Metadata, PeerDelivery, Progress, Sources, Stalled, Swarm, SwarmOptions, Transfer,
};
pub use torrent::{create, sha256_file, CreateError, PayloadFile, Torrent, TorrentFileError};
