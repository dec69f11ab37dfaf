//! Publishing a package: its archive is kept where the publisher's node seeds it from, and
//! becomes a release whose one file is that archive, carrying the package tags.

use std::path::{Path, PathBuf};

use seedstr_client::files::durable::replace_file;
use seedstr_client::publish::{PublishRequest, SeedFrom};

use crate::package::{Manifest, Package};
use crate::release::package_tags;

/// Why a package's archive could not be kept.
#[derive(Debug, thiserror::Error)]
pub enum KeepError {
    /// The version was published from other bytes.
    #[error("{spec} was already published from other bytes ({}); a published version never changes: raise the version", path.display())]
    Changed {
        /// The package, `<name>@<version>`.
        spec: String,
        /// The copy already kept.
        path: PathBuf,
    },
    /// A file could not be read or written.
    #[error("{what} {}: {source}", path.display())]
    Io {
        /// What was being done.
        what: &'static str,
        /// The copy already kept.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

/// The folder published archives are seeded from.
pub fn published_dir(home: &Path) -> PathBuf {
    home.join("packages").join("published")
}

/// Copies the archive to `<home>/packages/published/<stem>-<version>/<archive name>`
/// durably. The same bytes there already are kept; other bytes are refused.
pub fn keep_archive(home: &Path, package: &Package) -> Result<PathBuf, KeepError> {
    let name = package.name();
    let version = package.version().to_string();
    let folder = published_dir(home).join(format!("{}-{version}", name.coordinate().file_stem()));
    let path = folder.join(name.archive_name(&version));
    let io = |what: &'static str, path: &Path| {
        let path = path.to_owned();
        move |source| KeepError::Io { what, path, source }
    };
    match std::fs::read(&path) {
        Ok(held) if held == package.archive.bytes => return Ok(path),
        Ok(_) => {
            return Err(KeepError::Changed {
                spec: format!("{name}@{version}"),
                path,
            })
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(io("reading", &path)(e)),
    }
    std::fs::create_dir_all(&folder).map_err(io("creating", &folder))?;
    replace_file(&path, &package.archive.bytes).map_err(io("writing", &path))?;
    Ok(path)
}

/// The release request for `package`, kept at `archive`: the package's name and description
/// become the project's, the archive its one file.
pub fn publish_request(
    package: &Package,
    archive: PathBuf,
    relays: Vec<String>,
    relay_timeout: std::time::Duration,
) -> PublishRequest {
    let description = match &package.manifest {
        Manifest::Npm(m) => m
            .document
            .get("description")
            .and_then(|d| d.as_str())
            .map(str::to_owned),
        Manifest::Cargo(m) => m.description.clone(),
    };
    PublishRequest {
        path: archive,
        coordinate: package.name().coordinate(),
        version: package.version().clone(),
        relays,
        mirrors: Vec::new(),
        seeders: Vec::new(),
        trackers: Vec::new(),
        changelog: String::new(),
        dependencies: Vec::new(),
        game_versions: Vec::new(),
        zap_target: None,
        zap_splits: Vec::new(),
        package: Some(package_tags(package)),
        name: Some(package.name().as_str().to_owned()),
        summary: description,
        description: None,
        relay_timeout,
        // The archive is already a kept copy (see keep_archive).
        seed_from: SeedFrom::InPlace,
    }
}
