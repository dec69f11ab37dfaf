//! Files that must be whole after a crash: written beside their final name, synced, renamed over
//! it, and the rename made durable.

use std::io::Write;
use std::path::Path;

/// Replaces `path` with `bytes`: a crash leaves either the old file or the new one.
pub fn replace_file(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().expect("a file has a folder");
    replace_file_written_in(path, bytes, dir)
}

/// [`replace_file`], with the new file written in `scratch` (a folder on the same file system)
/// so that a crash before the rename leaves its remains there and not beside `path`: an install
/// root must hold nothing but the files its lockfile names.
pub fn replace_file_written_in(path: &Path, bytes: &[u8], scratch: &Path) -> std::io::Result<()> {
    let dir = path.parent().expect("a file has a folder");
    let mut tmp = tempfile::NamedTempFile::new_in(scratch)?;
    tmp.write_all(bytes)?;
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    sync_dir(dir)
}

/// Makes a rename or a new entry in `dir` durable.
pub fn sync_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::File::open(dir)?.sync_all()
}

/// Removes what a crash left of [`replace_file`]'s new files in `dir` (written under a
/// temporary `.tmp…` name, never renamed into place, so never read). Call it only while no
/// other writer can be using `dir` (under its folder lock).
pub fn remove_unfinished_writes(dir: &Path) -> std::io::Result<()> {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e),
    };
    for entry in entries {
        let entry = entry?;
        let is_file = entry.file_type().is_ok_and(|t| t.is_file());
        if is_file && entry.file_name().to_string_lossy().starts_with(".tmp") {
            std::fs::remove_file(entry.path())?;
        }
    }
    Ok(())
}
