//! The manifests packages carry, read as their own tools read them.

pub mod cargo;
pub mod npm;

use std::path::{Path, PathBuf};

use crate::archive::ArchiveError;
use crate::name::NameError;

pub use cargo::{CargoDependency, CargoManifest, DependencyKind};
pub use npm::NpmManifest;

#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    #[error(transparent)]
    Archive(#[from] ArchiveError),
    #[error("not valid: {0}")]
    Syntax(String),
    #[error("no {0:?} field")]
    Missing(&'static str),
    #[error("{field} {why}")]
    Field { field: String, why: String },
    #[error(transparent)]
    Name(#[from] NameError),
    #[error("{}: {entry}: {source}", path.display())]
    Inside {
        path: PathBuf,
        entry: String,
        source: Box<ManifestError>,
    },
}

impl ManifestError {
    /// Names the archive and entry the manifest came from.
    fn inside(self, path: &Path, entry: &str) -> ManifestError {
        ManifestError::Inside {
            path: path.to_owned(),
            entry: entry.to_owned(),
            source: Box::new(self),
        }
    }
}
