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
