//! LibreSeed: npm and Cargo packages published, resolved and installed through Seedstr.

pub mod archive;
pub mod manifest;
pub mod name;
pub mod package;
pub mod publish;
pub mod registry;
pub mod release;
pub mod resolve;

pub use archive::{Archive, ArchiveError, Digests};
pub use manifest::{CargoManifest, ManifestError, NpmManifest};
pub use name::{Ecosystem, NameError, PackageName};
pub use package::{Manifest, Package, PackageError};
pub use release::{package_tags, NpmDependency, PackageRelease, PackageReleaseError};
