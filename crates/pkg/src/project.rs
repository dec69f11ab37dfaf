//! A project's packages: what it asks for, the lockfile that pins what it got
//! (`libreseed-lock.json`), and the `.libreseed_modules/node_modules` tree, which is built
//! beside the old one and swapped in whole, so a failed install leaves the old tree and lock.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use nostr::prelude::PublicKey;
use seedstr_client::files::durable::{replace_file, sync_dir};
use seedstr_client::resolve::target::{npub, parse_public_key};
use serde::{Deserialize, Serialize};

use crate::release::PackageRelease;
use crate::resolve::Tree;
use crate::unpack::{unpack_npm_from, UnpackError, UnpackLimits};

/// The folder packages are installed in.
pub const MODULES_DIR: &str = ".libreseed_modules";
/// The lockfile, beside `package.json`.
pub const LOCKFILE: &str = "libreseed-lock.json";
const STAGING: &str = ".staging";
const PREVIOUS: &str = ".previous";

/// One installed package, as the lockfile pins it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LockedPackage {
    /// The package name.
    pub name: String,
    /// The version installed.
    pub version: String,
    /// npm's `sha512-…` of the archive.
    pub integrity: String,
    /// The release's info hash.
    pub infohash: String,
    /// Who signed the release (npub).
    pub signer: String,
    /// The release event's id.
    pub event: String,
}

/// `libreseed-lock.json`: what the project asked for and exactly what was installed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Lock {
    /// The lockfile format's version.
    pub lockfile_version: u32,
    /// What the project asked for: name to range.
    pub requires: BTreeMap<String, String>,
    /// Install path (`node_modules/a/node_modules/b`) to the package there.
    pub packages: BTreeMap<String, LockedPackage>,
}

/// Why the project could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum ProjectError {
    /// The lockfile does not read.
    #[error("{}: {why}", path.display())]
    Lockfile {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        why: String,
    },
    /// `package.json` does not read.
    #[error("{}: {why}", path.display())]
    PackageJson {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        why: String,
    },
    /// An archive could not be unpacked.
    #[error(transparent)]
    Unpack(#[from] UnpackError),
    /// A package's `bin` names a file outside the package.
    #[error(
        "{package}: its command {command:?} points at {target:?}, outside the package; refused"
    )]
    BinOutside {
        /// The package.
        package: String,
        /// The command.
        command: String,
        /// Where it points.
        target: String,
    },
    /// A file could not be read or written.
    #[error("{what} {}: {source}", path.display())]
    Io {
        /// What was being done.
        what: &'static str,
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

fn io<'a>(what: &'static str, path: &'a Path) -> impl FnOnce(std::io::Error) -> ProjectError + 'a {
    move |source| ProjectError::Io {
        what,
        path: path.to_owned(),
        source,
    }
}

impl Lock {
    /// The project's lockfile, if it has one.
    pub fn load(project: &Path) -> Result<Option<Lock>, ProjectError> {
        let path = project.join(LOCKFILE);
        match std::fs::read(&path) {
            Ok(bytes) => {
                serde_json::from_slice(&bytes)
                    .map(Some)
                    .map_err(|e| ProjectError::Lockfile {
                        path,
                        why: format!("not a LibreSeed lockfile: {e}"),
                    })
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io("reading", &path)(e)),
        }
    }

    /// The lock for `tree`, asked for as `requires`.
    pub fn of(tree: &Tree, requires: BTreeMap<String, String>) -> Lock {
        let packages = tree
            .placed
            .values()
            .map(|p| {
                let r = &p.release;
                (
                    p.path.clone(),
                    LockedPackage {
                        name: r.name.as_str().to_owned(),
                        version: r.version().to_string(),
                        integrity: r.tags.integrity.clone(),
                        infohash: r.release.infohash_hex(),
                        signer: Lock::signer_of(r),
                        event: r.event.id.to_hex(),
                    },
                )
            })
            .collect();
        Lock {
            lockfile_version: 1,
            requires,
            packages,
        }
    }

    /// The signer as the lockfile and reports show it: an npub.
    pub fn signer_of(release: &PackageRelease) -> String {
        npub(&release.signer())
    }

    /// Package name to the keys that signed what the lock holds.
    pub fn signers(&self) -> BTreeMap<String, BTreeSet<PublicKey>> {
        let mut out: BTreeMap<String, BTreeSet<PublicKey>> = BTreeMap::new();
        for p in self.packages.values() {
            if let Ok(key) = parse_public_key(&p.signer) {
                out.entry(p.name.clone()).or_default().insert(key);
            }
        }
        out
    }

    /// Install path to version, for the resolver to prefer.
    pub fn versions(&self) -> BTreeMap<String, String> {
        self.packages
            .iter()
            .map(|(path, p)| (path.clone(), p.version.clone()))
            .collect()
    }
}

/// The `dependencies` and `optionalDependencies` of the project's `package.json`, if it has
/// one.
pub fn package_json_requires(project: &Path) -> Result<BTreeMap<String, String>, ProjectError> {
    let path = project.join("package.json");
    let bytes = match std::fs::read(&path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(BTreeMap::new()),
        Err(e) => return Err(io("reading", &path)(e)),
    };
    let bad = |why: String| ProjectError::PackageJson {
        path: path.clone(),
        why,
    };
    let doc: serde_json::Value =
        serde_json::from_slice(&bytes).map_err(|e| bad(format!("not JSON: {e}")))?;
    let mut out = BTreeMap::new();
    for field in ["dependencies", "optionalDependencies"] {
        let Some(map) = doc.get(field) else { continue };
        let map = map
            .as_object()
            .ok_or_else(|| bad(format!("{field} is not an object")))?;
        for (name, range) in map {
            let range = range
                .as_str()
                .ok_or_else(|| bad(format!("{field}.{name} is not a string")))?;
            out.insert(name.clone(), range.to_owned());
        }
    }
    Ok(out)
}

/// Puts back the previous tree if a swap stopped halfway; clears a leftover staging folder.
pub fn recover(project: &Path) -> Result<(), ProjectError> {
    let modules = project.join(MODULES_DIR);
    let current = modules.join("node_modules");
    let previous = modules.join(PREVIOUS);
    if previous.exists() {
        if current.exists() {
            std::fs::remove_dir_all(&previous).map_err(io("removing", &previous))?;
        } else {
            std::fs::rename(&previous, &current).map_err(io("restoring", &current))?;
        }
    }
    let staging = modules.join(STAGING);
    if staging.exists() {
        std::fs::remove_dir_all(&staging).map_err(io("removing", &staging))?;
    }
    Ok(())
}

/// Builds the tree from verified archives (`archives`: install path to bytes), links the
/// top-level packages' commands into `node_modules/.bin`, then swaps the tree in and commits
/// the lock. Until the swap, the old tree and lock stay as they were.
pub fn lay_out(
    project: &Path,
    tree: &Tree,
    archives: &BTreeMap<String, PathBuf>,
    lock: &Lock,
) -> Result<usize, ProjectError> {
    recover(project)?;
    let modules = project.join(MODULES_DIR);
    let staging = modules.join(STAGING);
    let mut files = 0;
    for p in tree.placed.values() {
        let into = staging.join(&p.path);
        let path = &archives[&p.path];
        let file = std::fs::File::open(path).map_err(io("reading", path))?;
        files += unpack_npm_from(
            &p.release.archive().path,
            std::io::BufReader::new(file),
            &into,
            UnpackLimits::default(),
        )?;
    }
    let bin = staging.join("node_modules").join(".bin");
    for p in tree.placed.values().filter(|p| p.parent.is_none()) {
        for (command, target) in p.release.npm_bin() {
            if command.contains('/') || command.starts_with('.') {
                continue;
            }
            // The link must land inside the package: a relative, normal path within it.
            let inside = target.trim_start_matches("./");
            if seedstr_proto::path::check_payload_path(inside).is_err() {
                return Err(ProjectError::BinOutside {
                    package: p.release.name.to_string(),
                    command,
                    target,
                });
            }
            link_command(&bin, &command, &format!("../{}/{inside}", p.release.name))?;
        }
    }
    let staged = staging.join("node_modules");
    std::fs::create_dir_all(&staged).map_err(io("creating", &staged))?;
    let current = modules.join("node_modules");
    let previous = modules.join(PREVIOUS);
    if current.exists() {
        std::fs::rename(&current, &previous).map_err(io("moving aside", &current))?;
    }
    std::fs::rename(&staged, &current).map_err(io("moving into place", &current))?;
    sync_dir(&modules).map_err(io("syncing", &modules))?;
    let lock_path = project.join(LOCKFILE);
    let text = serde_json::to_vec_pretty(lock).expect("a lock serializes");
    replace_file(&lock_path, &text).map_err(io("writing", &lock_path))?;
    for leftover in [&previous, &staging] {
        if leftover.exists() {
            std::fs::remove_dir_all(leftover).map_err(io("removing", leftover))?;
        }
    }
    Ok(files)
}

#[cfg(unix)]
fn link_command(bin: &Path, command: &str, target: &str) -> Result<(), ProjectError> {
    std::fs::create_dir_all(bin).map_err(io("creating", bin))?;
    let link = bin.join(command);
    std::os::unix::fs::symlink(target, &link).map_err(io("linking", &link))
}

#[cfg(not(unix))]
fn link_command(_: &Path, _: &str, _: &str) -> Result<(), ProjectError> {
    Ok(())
}
