//! The package store, `$SEEDSTR_HOME/packages/store/<infohash>/<archive>`: every archive this
//! node fetched, checked against its signed release (size, SHA-256, and npm's SHA-512) before
//! anything reads it, and seeded afterwards. Installs and the registry views both read it.

use std::path::{Path, PathBuf};

use seedstr_client::install::InstallOptions;
use seedstr_client::seeding::payload_store::{PayloadStore, PayloadStoreError};
use seedstr_client::seeding::registry::{Origin, SeedRegistry};
use seedstr_swarm::Swarm;

use crate::archive::Digests;
use crate::release::PackageRelease;

/// Why an archive could not be had.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// It could not be fetched.
    #[error("fetching {spec}: {source}{}", bad_copy.as_ref().map(|w| format!(" (the stored copy was refused: {w})")).unwrap_or_default())]
    Fetch {
        /// The package, `<name>@<version>`.
        spec: String,
        /// Why.
        source: Box<PayloadStoreError>,
        /// Why the copy already held was refused, when there was one.
        bad_copy: Option<String>,
    },
    /// Its SHA-512 is not the signed integrity.
    #[error("{spec}: the archive's SHA-512 is not the signed integrity {integrity}; refused")]
    Integrity {
        /// The package, `<name>@<version>`.
        spec: String,
        /// The signed integrity.
        integrity: String,
    },
    /// Its package tags do not fit it.
    #[error("{spec}: {why}")]
    Tags {
        /// The package, `<name>@<version>`.
        spec: String,
        /// What is wrong.
        why: String,
    },
    /// A kept copy could not be read.
    #[error("reading {}: {source}", path.display())]
    Read {
        /// Where the archive is.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

/// A verified archive: the file whose size and digests were checked, read in blocks (an
/// archive is never held in memory whole).
pub struct Archive {
    /// Where the archive is.
    pub path: PathBuf,
    /// Whether it had to be fetched in this call.
    pub fetched: bool,
    /// Set when a copy already held failed its check and was fetched again.
    pub replaced_bad_copy: Option<String>,
}

/// The package store: verified archives kept by info hash, and seeded.
pub struct PackageStore {
    payloads: PayloadStore,
    /// Payloads registered for seeding, among them the packages this identity published.
    seeds: SeedRegistry,
}

/// The package store's folder under `$SEEDSTR_HOME`.
pub fn store_dir(home: &Path) -> PathBuf {
    home.join("packages").join("store")
}

impl PackageStore {
    /// The package store of `home`.
    pub fn new(home: &Path) -> PackageStore {
        PackageStore {
            payloads: PayloadStore::new(home, store_dir(home), Origin::Package),
            seeds: SeedRegistry::new(home),
        }
    }

    /// The held copy of `release`'s archive when it passes every check: the store's, or the
    /// one this node registered for seeding (a package it published). `Ok(None)` when none is
    /// held, `Err(why)` when the store's copy is refused.
    pub fn held(&self, release: &PackageRelease) -> Result<Option<Archive>, StoreError> {
        let infohash = release.release.infohash_hex();
        let path = self
            .payloads
            .dir()
            .join(&infohash)
            .join(&release.archive().path);
        if !path.exists() {
            let registered = self
                .seeds
                .entry(&infohash)
                .map(|e| e.dir.join(&release.archive().path))
                .filter(|p| p.is_file());
            // A registered copy that fails its check is not ours to replace; it is skipped.
            return Ok(registered.and_then(|path| {
                check(release, &path).ok().map(|()| Archive {
                    path,
                    fetched: false,
                    replaced_bad_copy: None,
                })
            }));
        }
        match check(release, &path) {
            Ok(()) => Ok(Some(Archive {
                path,
                fetched: false,
                replaced_bad_copy: None,
            })),
            Err(e) => Err(e),
        }
    }

    /// The archive of `release`, from the store when the copy there passes every check, else
    /// fetched (swarm first, then web mirrors), checked and kept. Bytes that fail a check are
    /// never returned.
    pub async fn archive(
        &self,
        swarm: &Swarm,
        release: &PackageRelease,
        opts: &InstallOptions,
    ) -> Result<Archive, StoreError> {
        let replaced_bad_copy = match self.held(release) {
            Ok(Some(archive)) => return Ok(archive),
            Ok(None) => None,
            Err(why) => Some(why.to_string()),
        };
        let place = self
            .payloads
            .fetch(swarm, &release.release, opts)
            .await
            .map_err(|source| StoreError::Fetch {
                spec: release.spec(),
                source: Box::new(source),
                bad_copy: replaced_bad_copy.clone(),
            })?;
        let path = place.join(&release.archive().path);
        check(release, &path)?;
        Ok(Archive {
            path,
            fetched: true,
            replaced_bad_copy,
        })
    }
}

/// Whether the archive at `path` is the one signed: size and SHA-256 (the release's file) and
/// SHA-512 (its integrity tag), computed in one pass over the file.
fn check(release: &PackageRelease, path: &Path) -> Result<(), StoreError> {
    let spec = release.spec();
    let unreadable = |source| StoreError::Read {
        path: path.to_owned(),
        source,
    };
    let file = std::fs::File::open(path).map_err(unreadable)?;
    let got = Digests::of_reader(std::io::BufReader::new(file)).map_err(unreadable)?;
    let f = release.archive();
    if got.size != f.size || got.sha256 != f.sha256 {
        return Err(StoreError::Tags {
                spec,
                why: format!(
                    "{}: {} bytes with SHA-256 {}, but the release signed {} bytes with SHA-256 {}; refused",
                    path.display(),
                    got.size,
                    hex::encode(got.sha256),
                    f.size,
                    hex::encode(f.sha256)
                ),
            });
    }
    let signed = release.tags.sha512().map_err(|e| StoreError::Tags {
        spec: spec.clone(),
        why: e.to_string(),
    })?;
    if got.sha512 != signed {
        return Err(StoreError::Integrity {
            spec,
            integrity: release.tags.integrity.clone(),
        });
    }
    Ok(())
}
