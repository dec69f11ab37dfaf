//! Why the swarm could not do what was asked.

use std::path::PathBuf;

/// A swarm operation that failed. librqbit reports its own failures as `anyhow` errors; they
/// are kept as text beside what was asked of it.
#[derive(Debug, thiserror::Error)]
pub enum SwarmError {
    /// librqbit failed.
    #[error("{what}: {why}")]
    Engine {
        /// What was asked of it.
        what: &'static str,
        /// Its words.
        why: String,
    },
    /// No free port for the session.
    #[error("finding a free port: {0}")]
    Port(std::io::Error),
    /// A `.torrent` file was refused.
    #[error(transparent)]
    TorrentFile(#[from] crate::torrent::TorrentFileError),
    /// A payload file's size changed since it was hashed.
    #[error("{} has {found} bytes, not the {expected} published; not seeding a changed copy", path.display())]
    SizeChanged {
        /// The file.
        path: PathBuf,
        /// Its size now.
        found: u64,
        /// Its size as published.
        expected: u64,
    },
    /// A payload path is not a regular file.
    #[error("{} is not a regular file; not seeding it", .0.display())]
    NotAFile(PathBuf),
    /// A payload file is missing.
    #[error("{}: {why}; not seeding an incomplete copy", path.display())]
    Missing {
        /// The file.
        path: PathBuf,
        /// Why it could not be read.
        why: std::io::Error,
    },
    /// The payload's pieces no longer all verify.
    #[error("{} holds {done} of the payload's {total} bytes as published; not seeding a changed or incomplete copy", dir.display())]
    Incomplete {
        /// The payload's folder.
        dir: PathBuf,
        /// Bytes that verify.
        done: u64,
        /// The payload's size.
        total: u64,
    },
    /// librqbit answered in a way it should not have.
    #[error("librqbit {0}")]
    Unexpected(&'static str),
    /// A fetched file could not be read back to hash it.
    #[error("hashing {}: {why}", path.display())]
    Hashing {
        /// The file.
        path: PathBuf,
        /// Why.
        why: std::io::Error,
    },
    /// Hashing was stopped before the payload completed.
    #[error("hashing stopped before the payload was complete")]
    HashingStopped,
    /// The hashing thread panicked.
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
