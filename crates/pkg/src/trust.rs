//! The registries this node trusts, kept in `$SEEDSTR_HOME/pkg/trusted-registries`: one npub
//! per line, `#` comments allowed. `--registry` adds to them for one command.

use std::path::{Path, PathBuf};

use nostr::prelude::PublicKey;
use seedstr_client::files::durable::replace_file;
use seedstr_client::resolve::target::{npub, parse_public_key};

/// Why the trust file could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum TrustError {
    /// A line that is not a key.
    #[error("{}, line {line}: {text:?} is not an npub or hex public key", path.display())]
    Line {
        /// The trust file.
        path: PathBuf,
        /// The line.
        line: usize,
        /// What it says.
        text: String,
    },
    /// The file could not be read or written.
    #[error("{} {}: {source}", what, path.display())]
    Io {
        /// What was being done.
        what: &'static str,
        /// The trust file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

/// The file listing the registries trusted.
pub fn trust_file(home: &Path) -> PathBuf {
    home.join("pkg").join("trusted-registries")
}

/// The registries trusted (none when the file does not exist).
pub fn load(home: &Path) -> Result<Vec<PublicKey>, TrustError> {
    let path = trust_file(home);
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(source) => {
            return Err(TrustError::Io {
                what: "reading",
                path,
                source,
            })
        }
    };
    let mut keys = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.split('#').next().unwrap_or_default().trim();
        if line.is_empty() {
            continue;
        }
        let key = parse_public_key(line).map_err(|_| TrustError::Line {
            path: path.clone(),
            line: i + 1,
            text: line.to_owned(),
        })?;
        if !keys.contains(&key) {
            keys.push(key);
        }
    }
    Ok(keys)
}

/// Writes `keys` as the trusted list.
pub fn save(home: &Path, keys: &[PublicKey]) -> Result<(), TrustError> {
    let path = trust_file(home);
    let mut text =
        String::from("# Publisher registries trusted by `seedstr pkg` (one npub per line)\n");
    for k in keys {
        text.push_str(&npub(k));
        text.push('\n');
    }
    let io = |what, source| TrustError::Io {
        what,
        path: path.clone(),
        source,
    };
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| io("creating the folder of", e))?;
    }
    replace_file(&path, text.as_bytes()).map_err(|e| io("writing", e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use nostr::prelude::Keys;

    #[test]
    fn the_list_round_trips_and_a_bad_line_is_named() {
        let home = tempfile::tempdir().unwrap();
        assert!(load(home.path()).unwrap().is_empty());
        let keys = [Keys::generate().public_key(), Keys::generate().public_key()];
        save(home.path(), &keys).unwrap();
        assert_eq!(load(home.path()).unwrap(), keys);
        std::fs::write(
            trust_file(home.path()),
            format!("{}  # ours\nnot-a-key\n", keys[0].to_hex()),
        )
        .unwrap();
        let why = load(home.path()).unwrap_err().to_string();
        assert!(why.contains("line 2: \"not-a-key\""), "{why}");
    }
}
