//! Unpacking an npm archive into a package folder, as npm does: the archive's one top folder
//! (`package/`) is dropped, files keep their executable bit, and nothing may land outside the
//! folder (no `..`, no absolute path, no link, no device).

use std::io::Read as _;
use std::path::{Path, PathBuf};

/// How much one archive may unpack to: the archive's own size is signed, but gzip can
/// expand it a thousandfold, so the unpacked bytes and entries are capped too.
#[derive(Debug, Clone, Copy)]
pub struct UnpackLimits {
    /// The most bytes of file content.
    pub max_bytes: u64,
    /// The most entries (files and folders).
    pub max_entries: usize,
}

impl Default for UnpackLimits {
    /// 2 GiB and 200,000 entries: past the largest packages on npm.
    fn default() -> UnpackLimits {
        UnpackLimits {
            max_bytes: 2 << 30,
            max_entries: 200_000,
        }
    }
}

use seedstr_proto::path::check_payload_path;

/// Why an archive could not be unpacked.
#[derive(Debug, thiserror::Error)]
pub enum UnpackError {
    /// Not a gzip'd tar archive.
    #[error("{archive}: not a gzip'd tar archive: {why}")]
    NotTarGz {
        /// The archive.
        archive: String,
        /// Why it is refused.
        why: String,
    },
    /// An entry that would write outside, or is not a plain file or folder.
    #[error("{archive}: entry {entry:?} is refused: {why}")]
    Entry {
        /// The archive.
        archive: String,
        /// The entry.
        entry: String,
        /// Why it is refused.
        why: String,
    },
    /// The archive unpacks to more than the limits allow.
    #[error("{archive}: refused, it unpacks to {what}")]
    TooLarge {
        /// The archive.
        archive: String,
        /// Which limit, in words.
        what: String,
    },
    /// A file could not be written.
    #[error("{what} {}: {source}", path.display())]
    Io {
        /// What was being done.
        what: &'static str,
        /// The file or folder.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

/// Unpacks `bytes` (named `archive` in errors) into `into`, which must not exist yet, within
/// the default [`UnpackLimits`].
pub fn unpack_npm(archive: &str, bytes: &[u8], into: &Path) -> Result<usize, UnpackError> {
    unpack_npm_within(archive, bytes, into, UnpackLimits::default())
}

/// [`unpack_npm`] within `limits`; file contents are streamed to disk, never held whole.
pub fn unpack_npm_within(
    archive: &str,
    bytes: &[u8],
    into: &Path,
    limits: UnpackLimits,
) -> Result<usize, UnpackError> {
    unpack_npm_from(archive, bytes, into, limits)
}

/// Unpacks the archive `reader` yields (an open file, say) within `limits`, read as it goes.
pub fn unpack_npm_from(
    archive: &str,
    reader: impl std::io::Read,
    into: &Path,
    limits: UnpackLimits,
) -> Result<usize, UnpackError> {
    let not_tar = |e: std::io::Error| UnpackError::NotTarGz {
        archive: archive.to_owned(),
        why: e.to_string(),
    };
    let io = |what: &'static str, path: &Path| {
        let path = path.to_owned();
        move |source| UnpackError::Io { what, path, source }
    };
    std::fs::create_dir_all(into).map_err(io("creating", into))?;
    let mut tar = tar::Archive::new(flate2::read::GzDecoder::new(reader));
    let mut files = 0;
    let mut entries = 0usize;
    let mut unpacked = 0u64;
    for entry in tar.entries().map_err(not_tar)? {
        let mut entry = entry.map_err(not_tar)?;
        entries += 1;
        if entries > limits.max_entries {
            return Err(UnpackError::TooLarge {
                archive: archive.to_owned(),
                what: format!("more than {} entries", limits.max_entries),
            });
        }
        let raw = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        let refused = |why: &str| UnpackError::Entry {
            archive: archive.to_owned(),
            entry: raw.clone(),
            why: why.to_owned(),
        };
        let kind = entry.header().entry_type();
        if kind.is_pax_global_extensions() || kind.is_pax_local_extensions() {
            continue;
        }
        // npm packs into `package/`; older tools used other names for the one top folder.
        let Some((_, inner)) = raw.trim_end_matches('/').split_once('/') else {
            if kind.is_dir() {
                continue;
            }
            return Err(refused("a file outside the archive's top folder"));
        };
        check_payload_path(inner).map_err(|e| refused(&e.to_string()))?;
        // Seedstr places every package itself; one carried inside another would mix its files
        // into the folder of the package placed there.
        if inner.split('/').any(|c| c == "node_modules") {
            return Err(refused(
                "a node_modules folder inside a package (Seedstr places every package itself)",
            ));
        }
        let target = into.join(inner);
        if kind.is_dir() {
            std::fs::create_dir_all(&target).map_err(io("creating", &target))?;
            continue;
        }
        if !kind.is_file() {
            return Err(refused(
                "only files and folders are unpacked (not links or devices)",
            ));
        }
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent).map_err(io("creating", parent))?;
        }
        // The header's size is checked before a byte is written; the copy is bounded by it.
        unpacked = unpacked.saturating_add(entry.size());
        if unpacked > limits.max_bytes {
            return Err(UnpackError::TooLarge {
                archive: archive.to_owned(),
                what: format!("more than {} bytes", limits.max_bytes),
            });
        }
        let mut out = std::fs::File::create(&target).map_err(io("writing", &target))?;
        let size = entry.size();
        let copied = std::io::copy(&mut (&mut entry).take(size), &mut out).map_err(|e| {
            // A read error is the archive's; a write error is the disk's.
            UnpackError::Io {
                what: "writing",
                path: target.clone(),
                source: e,
            }
        })?;
        if copied != size {
            return Err(not_tar(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                format!("{raw:?} ends after {copied} of its {size} bytes"),
            )));
        }
        let executable = entry
            .header()
            .mode()
            .map(|m| m & 0o111 != 0)
            .unwrap_or(false);
        set_mode(&target, if executable { 0o755 } else { 0o644 })
            .map_err(io("setting the mode of", &target))?;
        files += 1;
    }
    Ok(files)
}

#[cfg(unix)]
fn set_mode(path: &Path, mode: u32) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
}

#[cfg(not(unix))]
fn set_mode(_: &Path, _: u32) -> std::io::Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tgz(entries: &[(&str, &[u8], u32, tar::EntryType)]) -> Vec<u8> {
        let mut b = tar::Builder::new(flate2::write::GzEncoder::new(
            Vec::new(),
            flate2::Compression::default(),
        ));
        for (path, data, mode, kind) in entries {
            let mut h = tar::Header::new_gnu();
            h.set_entry_type(*kind);
            h.set_size(data.len() as u64);
            h.set_mode(*mode);
            // Written raw so that hostile names reach the reader as they are.
            h.as_gnu_mut().unwrap().name[..path.len()].copy_from_slice(path.as_bytes());
            h.set_cksum();
            b.append(&h, *data).unwrap();
        }
        b.into_inner().unwrap().finish().unwrap()
    }

    #[test]
    fn a_gzip_bomb_and_a_lying_header_are_refused_at_the_cap() {
        let dir = tempfile::tempdir().unwrap();
        let zeros = vec![0u8; 10 << 20];
        let bomb = tgz(&[("package/zeros", &zeros, 0o644, tar::EntryType::Regular)]);
        assert!(bomb.len() < 100_000, "{} bytes", bomb.len());
        let limits = UnpackLimits {
            max_bytes: 1 << 20,
            max_entries: 10,
        };
        let e = unpack_npm_within("bomb.tgz", &bomb, &dir.path().join("a"), limits).unwrap_err();
        assert_eq!(
            e.to_string(),
            "bomb.tgz: refused, it unpacks to more than 1048576 bytes"
        );
        assert!(!dir.path().join("a/zeros").exists());

        let many: Vec<(String, &[u8], u32, tar::EntryType)> = (0..11)
            .map(|n| {
                (
                    format!("package/f{n}"),
                    &b"x"[..],
                    0o644,
                    tar::EntryType::Regular,
                )
            })
            .collect();
        let many: Vec<_> = many
            .iter()
            .map(|(p, d, m, k)| (p.as_str(), *d, *m, *k))
            .collect();
        let e =
            unpack_npm_within("many.tgz", &tgz(&many), &dir.path().join("b"), limits).unwrap_err();
        assert!(e.to_string().contains("more than 10 entries"), "{e}");

        // A header claiming 4 GiB over a few bytes: refused before anything is allocated.
        let mut h = tar::Header::new_gnu();
        h.set_path("package/huge").unwrap();
        h.set_size(4 << 30);
        h.set_mode(0o644);
        h.set_cksum();
        let mut raw = h.as_bytes().to_vec();
        raw.extend_from_slice(&[1u8; 512]);
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        std::io::Write::write_all(&mut gz, &raw).unwrap();
        let e = unpack_npm("huge.tgz", &gz.finish().unwrap(), &dir.path().join("c")).unwrap_err();
        assert!(e.to_string().contains("more than 2147483648 bytes"), "{e}");
    }

    #[test]
    fn the_top_folder_is_dropped_and_modes_kept() {
        let dir = tempfile::tempdir().unwrap();
        let bytes = tgz(&[
            (
                "package/package.json",
                b"{}",
                0o644,
                tar::EntryType::Regular,
            ),
            (
                "package/bin/cli.js",
                b"#!/usr/bin/env node",
                0o755,
                tar::EntryType::Regular,
            ),
        ]);
        let into = dir.path().join("greet");
        assert_eq!(unpack_npm("greet.tgz", &bytes, &into).unwrap(), 2);
        assert_eq!(std::fs::read(into.join("package.json")).unwrap(), b"{}");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(into.join("bin/cli.js"))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o755);
        }
    }

    #[test]
    fn escapes_links_and_loose_files_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        for (entries, why) in [
            (
                vec![(
                    "package/../../evil",
                    &b"x"[..],
                    0o644,
                    tar::EntryType::Regular,
                )],
                "escapes",
            ),
            (
                vec![("package/link", &b""[..], 0o777, tar::EntryType::Symlink)],
                "only files",
            ),
            (
                vec![("loose.js", &b"x"[..], 0o644, tar::EntryType::Regular)],
                "outside the archive's top folder",
            ),
            (
                vec![(
                    "package/node_modules/other/index.js",
                    &b"x"[..],
                    0o644,
                    tar::EntryType::Regular,
                )],
                "a node_modules folder inside a package",
            ),
        ] {
            let into = dir.path().join(format!("p{}", why.len()));
            let e = unpack_npm("bad.tgz", &tgz(&entries), &into)
                .unwrap_err()
                .to_string();
            assert!(e.contains(why), "{e}");
        }
        assert!(!dir.path().join("evil").exists());
    }
}
