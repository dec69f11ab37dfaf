//! A package to publish: an archive made by the ecosystem's own packer (or given as made), and
//! the manifest inside it. Seedstr never builds an archive itself, so what npm or cargo would
//! upload to their registries is byte for byte what Seedstr publishes.

use std::path::{Path, PathBuf};
use std::process::Command;

use seedstr_proto::release::Version;

use crate::archive::{Archive, ArchiveError};
use crate::manifest::{CargoManifest, ManifestError, NpmManifest};
use crate::name::{Ecosystem, PackageName};

/// What a package's manifest says.
#[derive(Debug, Clone)]
pub enum Manifest {
    /// An npm package.
    Npm(NpmManifest),
    /// A crate.
    Cargo(CargoManifest),
}

/// A package to publish: its archive and what its manifest says.
pub struct Package {
    /// The archive, read.
    pub archive: Archive,
    /// What its manifest says.
    pub manifest: Manifest,
}

/// Why a package could not be read.
#[derive(Debug, thiserror::Error)]
pub enum PackageError {
    /// Neither a folder nor the ecosystem's archive.
    #[error("{}: an {ecosystem} package is a folder or a .{extension} file", path.display())]
    Kind {
        /// The path given.
        path: PathBuf,
        /// npm or Cargo.
        ecosystem: Ecosystem,
        /// The archive's extension.
        extension: &'static str,
    },
    /// The ecosystem's packer failed.
    #[error("running `{command}` in {}: {why}", dir.display())]
    Packer {
        /// The packer (`npm pack`, `cargo package`).
        command: &'static str,
        /// The package folder.
        dir: PathBuf,
        /// What went wrong.
        why: String,
    },
    /// The archive could not be read.
    #[error(transparent)]
    Archive(#[from] ArchiveError),
    /// The manifest was refused.
    #[error(transparent)]
    Manifest(#[from] ManifestError),
}

impl Package {
    /// Opens `path`: an archive as it is, or a folder packed by `npm pack` or `cargo package`
    /// into `scratch`, a fresh folder.
    pub fn open(
        ecosystem: Ecosystem,
        path: &Path,
        scratch: &Path,
    ) -> Result<Package, PackageError> {
        let extension = match ecosystem {
            Ecosystem::Npm => "tgz",
            Ecosystem::Cargo => "crate",
        };
        let archive_path = if path.is_dir() {
            pack(ecosystem, path, scratch)?
        } else if path.extension().and_then(|e| e.to_str()) == Some(extension) {
            path.to_owned()
        } else {
            return Err(PackageError::Kind {
                path: path.to_owned(),
                ecosystem,
                extension,
            });
        };
        let archive = Archive::read(&archive_path)?;
        let manifest = match ecosystem {
            Ecosystem::Npm => Manifest::Npm(NpmManifest::from_archive(&archive)?),
            Ecosystem::Cargo => Manifest::Cargo(CargoManifest::from_archive(&archive)?),
        };
        Ok(Package { archive, manifest })
    }

    /// The package's name.
    pub fn name(&self) -> &PackageName {
        match &self.manifest {
            Manifest::Npm(m) => &m.name,
            Manifest::Cargo(m) => &m.name,
        }
    }

    /// The package's version.
    pub fn version(&self) -> &Version {
        match &self.manifest {
            Manifest::Npm(m) => &m.version,
            Manifest::Cargo(m) => &m.version,
        }
    }
}

/// Runs the ecosystem's packer on `dir`, writing into `scratch`; returns the archive.
fn pack(ecosystem: Ecosystem, dir: &Path, scratch: &Path) -> Result<PathBuf, PackageError> {
    let (command, mut cmd) = match ecosystem {
        Ecosystem::Npm => {
            let mut c = Command::new("npm");
            c.args(["pack", "--json", "--pack-destination"])
                .arg(scratch);
            ("npm pack", c)
        }
        Ecosystem::Cargo => {
            // --no-verify: building the crate is the publisher's business, not a condition of
            // publishing; cargo still refuses uncommitted changes in a git checkout.
            let mut c = Command::new("cargo");
            c.args(["package", "--no-verify", "--quiet", "--target-dir"])
                .arg(scratch);
            ("cargo package", c)
        }
    };
    let failed = |why: String| PackageError::Packer {
        command,
        dir: dir.to_owned(),
        why,
    };
    std::fs::create_dir_all(scratch).map_err(|e| failed(e.to_string()))?;
    let out = cmd
        .current_dir(dir)
        .output()
        .map_err(|e| failed(format!("cannot start it ({e}); is it installed?")))?;
    if !out.status.success() {
        return Err(failed(format!(
            "{}: {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    let produced = match ecosystem {
        Ecosystem::Npm => {
            // `npm pack --json` names what it wrote: [{"filename": …}].
            let listed: serde_json::Value = serde_json::from_slice(&out.stdout)
                .map_err(|e| failed(format!("its --json output does not parse: {e}")))?;
            listed[0]["filename"]
                .as_str()
                .map(|f| scratch.join(f))
                .ok_or_else(|| failed("its --json output names no file".into()))?
        }
        Ecosystem::Cargo => {
            let folder = scratch.join("package");
            let mut crates: Vec<PathBuf> = std::fs::read_dir(&folder)
                .map_err(|e| failed(format!("{}: {e}", folder.display())))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|e| e == "crate"))
                .collect();
            if crates.len() != 1 {
                return Err(failed(format!(
                    "expected one .crate in {}, found {}",
                    folder.display(),
                    crates.len()
                )));
            }
            crates.remove(0)
        }
    };
    Ok(produced)
}
