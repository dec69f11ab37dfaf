//! Published payloads are seeded from a copy kept under `$SEEDSTR_HOME/published/<infohash>/`,
//! so an author can go on editing their folder for the next version while the last one stays
//! served. The copy is made before hashing, so the release names exactly the bytes kept.
//! `std::fs::copy` uses `copy_file_range`, which clones the blocks instead (a reflink) on file
//! systems that can, so the copy costs no space there.

use std::path::{Path, PathBuf};

use seedstr_swarm::torrent::list_payload;
use seedstr_swarm::CreateError;

use crate::files::durable::sync_dir;

/// Why the copy could not be made or kept.
#[derive(Debug, thiserror::Error)]
pub enum KeptCopyError {
    /// The kept copy could not be hashed.
    #[error(transparent)]
    Payload(#[from] CreateError),
    /// The copy could not be made.
    #[error("keeping a copy of the payload in {}: {source}", path.display())]
    Io {
        /// The file concerned.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> KeptCopyError + '_ {
    move |source| KeptCopyError::Io {
        path: path.to_owned(),
        source,
    }
}

/// The folder of kept payloads.
pub fn kept_dir(home: &Path) -> PathBuf {
    home.join("published")
}

/// A payload copied into a staging folder, not yet named by its info hash. Dropping it
/// removes the copy.
pub struct StagedCopy {
    staging: tempfile::TempDir,
    /// What to hash and publish: the copied file, or the copied folder.
    pub payload: PathBuf,
}

/// Copies the payload at `path` (a file or a folder) into a staging folder under
/// [`kept_dir`], every file synced.
pub fn stage_copy(home: &Path, path: &Path) -> Result<StagedCopy, KeptCopyError> {
    let files = list_payload(path)?;
    let dir = kept_dir(home);
    std::fs::create_dir_all(&dir).map_err(io(&dir))?;
    let staging = tempfile::Builder::new()
        .prefix(".staging-")
        .tempdir_in(&dir)
        .map_err(io(&dir))?;
    for (rel, from) in &files {
        let to = staging.path().join(rel);
        if let Some(parent) = to.parent() {
            std::fs::create_dir_all(parent).map_err(io(parent))?;
        }
        std::fs::copy(from, &to).map_err(io(&to))?;
        std::fs::File::open(&to)
            .and_then(|f| f.sync_all())
            .map_err(io(&to))?;
    }
    let payload = if std::fs::metadata(path).map_err(io(path))?.is_file() {
        staging.path().join(&files[0].0)
    } else {
        staging.path().to_owned()
    };
    Ok(StagedCopy { staging, payload })
}

impl StagedCopy {
    /// Names the copy by `infohash` and returns its folder, the one to seed from. A copy
    /// already kept under that name holds the same bytes (the info hash says so) and stays.
    pub fn keep(self, home: &Path, infohash: &str) -> Result<PathBuf, KeptCopyError> {
        let dir = kept_dir(home);
        let place = dir.join(infohash);
        if !place.is_dir() {
            let staged = self.staging.keep();
            std::fs::rename(&staged, &place).map_err(io(&place))?;
            sync_dir(&dir).map_err(io(&dir))?;
        }
        // Absolute, as the seed registry keeps every folder.
        Ok(std::fs::canonicalize(&place).unwrap_or(place))
    }
}
