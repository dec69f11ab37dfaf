//! Seedstr's swarm layer: deterministic torrents, and librqbit sessions that seed and fetch them.

pub mod torrent;

pub use torrent::{create, CreateError, PayloadFile, Torrent};
