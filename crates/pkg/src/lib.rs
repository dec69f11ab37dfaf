#![warn(missing_docs)]
//! LibreSeed: npm and Cargo packages published, resolved and installed through Seedstr.

pub mod archive;
pub mod catalog;
pub mod install;
pub mod maintain;
pub mod manifest;
pub mod name;
pub mod nodejs;
pub mod package;
pub mod project;
pub mod publish;
pub mod registry;
pub mod release;
pub mod resolve;
pub mod store;
pub mod trust;
pub mod unpack;
pub mod views;

pub use archive::{Archive, ArchiveError, Digests};
pub use manifest::{CargoManifest, ManifestError, NpmManifest};
pub use name::{Ecosystem, NameError, PackageName};
pub use package::{Manifest, Package, PackageError};
pub use release::{package_tags, NpmDependency, PackageRelease, PackageReleaseError};
