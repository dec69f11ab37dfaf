//! Why the swarm could not do what was asked.

use std::path::PathBuf;

/// A swarm operation that failed. librqbit reports its own failures as `anyhow` errors; they
/// are kept as text beside what was asked of it.
#[derive(Debug, thiserror::Error)]
pub enum SwarmError {
    #[error("{what}: {why}")]
    Engine { what: &'static str, why: String },
    #[error("finding a free port: {0}")]
    Port(std::io::Error),
    #[error(transparent)]
    TorrentFile(#[from] crate::torrent::TorrentFileError),
    #[error("{} has {found} bytes, not the {expected} published; not seeding a changed copy", path.display())]
    SizeChanged {
        path: PathBuf,
        found: u64,
        expected: u64,
    },
    #[error("{} is not a regular file; not seeding it", .0.display())]
    NotAFile(PathBuf),
    #[error("{}: {why}; not seeding an incomplete copy", path.display())]
    Missing { path: PathBuf, why: std::io::Error },
    #[error("{} holds {done} of the payload's {total} bytes as published; not seeding a changed or incomplete copy", dir.display())]
    Incomplete { dir: PathBuf, done: u64, total: u64 },
    #[error("librqbit {0}")]
    Unexpected(&'static str),
    #[error("hashing {}: {why}", path.display())]
    Hashing { path: PathBuf, why: std::io::Error },
    #[error("hashing stopped before the payload was complete")]
    HashingStopped,
    #[error("the hashing thread panicked")]
    HashingPanicked,
}

impl SwarmError {
    /// librqbit's `error`, while doing `what`.
    pub(crate) fn engine(what: &'static str) -> impl FnOnce(anyhow::Error) -> SwarmError {
        move |e| SwarmError::Engine {
            what,
            why: format!("{e:#}"),
        }
    }
}
