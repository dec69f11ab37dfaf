//! A package archive (npm `.tgz`, Cargo `.crate`: both gzip'd tar): its digests, as the
//! ecosystems name them, and the manifest inside it. The bytes are read, never rewritten.

use std::io::Read;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use sha2::{Digest, Sha256, Sha512};

/// The digests registries publish for an archive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Digests {
    /// SHA-256, Cargo's checksum.
    pub sha256: [u8; 32],
    /// SHA-512, npm's integrity.
    pub sha512: [u8; 64],
    /// The archive's size in bytes.
    pub size: u64,
}

impl Digests {
    /// The digests of `bytes`.
    pub fn of(bytes: &[u8]) -> Digests {
        Digests {
            sha256: Sha256::digest(bytes).into(),
            sha512: Sha512::digest(bytes).into(),
            size: bytes.len() as u64,
        }
    }

    /// The digests of what `reader` yields, read in blocks (never held whole).
    pub fn of_reader(mut reader: impl Read) -> std::io::Result<Digests> {
        let (mut sha256, mut sha512, mut size) = (Sha256::new(), Sha512::new(), 0u64);
        let mut block = vec![0u8; 1 << 16];
        loop {
            let n = reader.read(&mut block)?;
            if n == 0 {
                break;
            }
            sha256.update(&block[..n]);
            sha512.update(&block[..n]);
            size += n as u64;
        }
        Ok(Digests {
            sha256: sha256.finalize().into(),
            sha512: sha512.finalize().into(),
            size,
        })
    }

    /// npm's Subresource Integrity string: `sha512-<base64>`.
    pub fn integrity(&self) -> String {
        format!(
            "sha512-{}",
            base64::engine::general_purpose::STANDARD.encode(self.sha512)
        )
    }

    /// Cargo's index `cksum`: the archive's SHA-256 in hex.
    pub fn cksum(&self) -> String {
        hex::encode(self.sha256)
    }
}

/// Why an archive could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ArchiveError {
    /// The file could not be read.
    #[error("{}: {source}", path.display())]
    Io {
        /// The archive file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// Not a gzip'd tar archive.
    #[error("{}: not a gzip'd tar archive: {why}", path.display())]
    NotTarGz {
        /// The archive file.
        path: PathBuf,
        /// What is wrong.
        why: String,
    },
    /// No manifest where the ecosystem puts it.
    #[error("{}: no {wanted} in the archive (entries start with {found:?})", path.display())]
    NoManifest {
        /// The archive file.
        path: PathBuf,
        /// The manifest looked for.
        wanted: String,
        /// The archive's first entries.
        found: Vec<String>,
    },
    /// A manifest too large to be one.
    #[error("{}: {entry} is {size} bytes; a manifest over 1 MiB is refused", path.display())]
    ManifestTooLarge {
        /// The archive file.
        path: PathBuf,
        /// The manifest's entry.
        entry: String,
        /// The archive's size in bytes.
        size: u64,
    },
}

/// An archive read into memory: packages are small, and the same bytes are hashed, searched
/// and later seeded, so nothing can change between the three.
pub struct Archive {
    /// The archive file.
    pub path: PathBuf,
    /// The archive's bytes.
    pub bytes: Vec<u8>,
    /// Its digests.
    pub digests: Digests,
}

const MAX_MANIFEST: u64 = 1 << 20;

impl Archive {
    /// Reads the archive at `path` and its digests.
    pub fn read(path: &Path) -> Result<Archive, ArchiveError> {
        let bytes = std::fs::read(path).map_err(|source| ArchiveError::Io {
            path: path.to_owned(),
            source,
        })?;
        Ok(Archive {
            path: path.to_owned(),
            digests: Digests::of(&bytes),
            bytes,
        })
    }

    /// The bytes of the first entry `wanted` accepts (given its path inside the archive), and
    /// that path.
    pub fn find(
        &self,
        describe: &str,
        wanted: impl Fn(&str) -> bool,
    ) -> Result<(String, Vec<u8>), ArchiveError> {
        let not_tar = |e: std::io::Error| ArchiveError::NotTarGz {
            path: self.path.clone(),
            why: e.to_string(),
        };
        let gz = flate2::read::GzDecoder::new(&self.bytes[..]);
        let mut tar = tar::Archive::new(gz);
        let mut found = Vec::new();
        for entry in tar.entries().map_err(not_tar)? {
            let mut entry = entry.map_err(not_tar)?;
            let name = entry
                .path()
                .map_err(not_tar)?
                .to_string_lossy()
                .into_owned();
            if wanted(&name) && entry.header().entry_type().is_file() {
                let size = entry.size();
                if size > MAX_MANIFEST {
                    return Err(ArchiveError::ManifestTooLarge {
                        path: self.path.clone(),
                        entry: name,
                        size,
                    });
                }
                let mut bytes = Vec::with_capacity(size as usize);
                entry.read_to_end(&mut bytes).map_err(not_tar)?;
                return Ok((name, bytes));
            }
            if found.len() < 5 {
                found.push(name);
            }
        }
        Err(ArchiveError::NoManifest {
            path: self.path.clone(),
            wanted: describe.to_owned(),
            found,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig {
            rng_seed: proptest::test_runner::RngSeed::Fixed(0x5eed),
            failure_persistence: None,
            cases: 64,
            ..ProptestConfig::default()
        })]

        /// Digests read in blocks equal those of the whole bytes, across block boundaries.
        #[test]
        fn streamed_digests_equal_whole_ones(bytes in proptest::collection::vec(any::<u8>(), 0..200_000)) {
            prop_assert_eq!(Digests::of_reader(&bytes[..]).unwrap(), Digests::of(&bytes));
        }
    }

    #[test]
    fn digests_use_each_ecosystems_spelling() {
        let d = Digests::of(b"hello");
        assert_eq!(
            d.cksum(),
            "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"
        );
        assert_eq!(
            d.integrity(),
            "sha512-m3HSJL1i83hdltRq0+o9czGb+8KJDKra4t/3JRlnPKcjI8PZm6XBHXx6zG4UuMXaDEZjR1wuXDre9G9zvN7AQw=="
        );
        assert_eq!(d.size, 5);
    }

    #[test]
    fn a_file_that_is_not_an_archive_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x.tgz");
        std::fs::write(&p, b"plain text").unwrap();
        let a = Archive::read(&p).unwrap();
        let e = a.find("package.json", |_| true).unwrap_err().to_string();
        assert!(e.contains("not a gzip'd tar archive"), "{e}");
    }
}
