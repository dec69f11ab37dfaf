//! The manifests packages carry, read as their own tools read them.

pub mod cargo;
pub mod npm;

use std::path::{Path, PathBuf};

use crate::archive::ArchiveError;
use crate::name::NameError;

pub use cargo::{CargoDependency, CargoManifest, DependencyKind};
pub use npm::NpmManifest;

/// Why a package manifest was refused.
#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    /// The archive could not be read.
    #[error(transparent)]
    Archive(#[from] ArchiveError),
    /// Not valid JSON or TOML.
    #[error("not valid: {0}")]
    Syntax(String),
    /// A required field is missing.
    #[error("no {0:?} field")]
    Missing(&'static str),
    /// A field does not read.
    #[error("{field} {why}")]
    Field {
        /// The field.
        field: String,
        /// What is wrong with it.
        why: String,
    },
    /// The name is not valid in its ecosystem.
    #[error(transparent)]
    Name(#[from] NameError),
    /// The manifest inside an archive was refused.
    #[error("{}: {entry}: {source}", path.display())]
    Inside {
        /// The archive.
        path: PathBuf,
        /// The manifest's entry.
        entry: String,
        /// What is wrong with the manifest.
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
