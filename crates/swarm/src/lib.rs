//! Seedstr's swarm layer: deterministic torrents, and librqbit sessions that seed and fetch them.

pub mod digest;
pub mod health;
pub mod session;
pub mod testnet;
pub mod torrent;

pub use digest::{Digests, FileDigest};
pub use session::{Metadata, Progress, Sources, Stalled, Swarm, SwarmOptions, Transfer};
pub use testnet::PeerDhtTestnet;
pub use torrent::{create, sha256_file, CreateError, PayloadFile, Torrent};
