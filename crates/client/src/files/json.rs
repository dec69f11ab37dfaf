//! Stores kept as one JSON file per entry in a folder (seed registry, kept events, kept DHT
//! items): how they are listed.

use std::path::{Path, PathBuf};

/// Reads every `*.json` file directly in `dir`, in name order, with `read`; the second list
/// describes each file `read` refused as `<path>: <why>`. A missing folder holds nothing.
pub fn read_all<T>(
    dir: &Path,
    mut read: impl FnMut(&Path) -> Result<T, String>,
) -> (Vec<T>, Vec<String>) {
    let mut found = Vec::new();
    let mut broken = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return (found, broken);
    };
    let mut paths: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    paths.sort();
    for path in paths {
        match read(&path) {
            Ok(t) => found.push(t),
            Err(why) => broken.push(format!("{}: {why}", path.display())),
        }
    }
    (found, broken)
}
