//! What the owner decided that is nobody else's business and is never published: whom they
//! blocked, which friend requests they turned down. Kept in one file in their home folder
//! (`social.json`), which their node reads too.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use nostr::prelude::{EventId, PublicKey};
use seedstr_client::files::durable::replace_file;
use serde::{Deserialize, Serialize};

/// The file's name in the home folder.
pub const LOCAL_FILE: &str = "social.json";
/// The most entries each set keeps: the file is read on every inbox read.
pub const MAX_ENTRIES: usize = 100_000;

/// Why the file could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum LocalError {
    /// Reading or writing it failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// It is not what we write.
    #[error("{} is not a social settings file: {why}", path.display())]
    Invalid {
        /// The file.
        path: PathBuf,
        /// Why.
        why: String,
    },
    /// A set is full.
    #[error("{0} holds {MAX_ENTRIES} entries already")]
    Full(&'static str),
}

/// The owner's local decisions.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LocalState {
    /// Keys whose messages, requests and posts the owner never sees, and whose events their
    /// node refuses into the inbox.
    #[serde(default)]
    pub blocked: BTreeSet<PublicKey>,
    /// Friend requests (their ids) the owner turned down.
    #[serde(default)]
    pub rejected: BTreeSet<EventId>,
}

impl LocalState {
    /// The file in `home`.
    pub fn path(home: &Path) -> PathBuf {
        home.join(LOCAL_FILE)
    }

    /// Reads the file in `home`; none yet is an empty state.
    pub fn load(home: &Path) -> Result<LocalState, LocalError> {
        let path = Self::path(home);
        let bytes = match std::fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Self::default()),
            Err(source) => return Err(LocalError::Io { path, source }),
        };
        let state: LocalState =
            serde_json::from_slice(&bytes).map_err(|e| LocalError::Invalid {
                path: path.clone(),
                why: e.to_string(),
            })?;
        if state.blocked.len() > MAX_ENTRIES || state.rejected.len() > MAX_ENTRIES {
            return Err(LocalError::Invalid {
                path,
                why: format!("more than {MAX_ENTRIES} entries"),
            });
        }
        Ok(state)
    }

    /// Writes the state to `home`, whole or not at all.
    pub fn save(&self, home: &Path) -> Result<(), LocalError> {
        let path = Self::path(home);
        let bytes = serde_json::to_vec_pretty(self).expect("the state serializes");
        replace_file(&path, &bytes).map_err(|source| LocalError::Io { path, source })
    }

    /// Whether `who` is blocked.
    pub fn is_blocked(&self, who: &PublicKey) -> bool {
        self.blocked.contains(who)
    }

    /// Blocks `who`; false if they already were.
    pub fn block(&mut self, who: PublicKey) -> Result<bool, LocalError> {
        if self.blocked.len() >= MAX_ENTRIES && !self.blocked.contains(&who) {
            return Err(LocalError::Full("the block list"));
        }
        Ok(self.blocked.insert(who))
    }

    /// Turns request `id` down; false if it already was.
    pub fn reject(&mut self, id: EventId) -> Result<bool, LocalError> {
        if self.rejected.len() >= MAX_ENTRIES && !self.rejected.contains(&id) {
            return Err(LocalError::Full("the rejected requests"));
        }
        Ok(self.rejected.insert(id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use nostr::prelude::Keys;

    #[test]
    fn the_state_round_trips_and_a_damaged_file_is_named() {
        let dir = std::env::temp_dir().join(format!("seedstr-local-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        assert_eq!(LocalState::load(&dir).unwrap(), LocalState::default());
        let mut s = LocalState::default();
        let k = Keys::generate().public_key();
        assert!(s.block(k).unwrap());
        assert!(!s.block(k).unwrap());
        assert!(s.reject(EventId::from_byte_array([1; 32])).unwrap());
        s.save(&dir).unwrap();
        let back = LocalState::load(&dir).unwrap();
        assert_eq!(back, s);
        assert!(back.is_blocked(&k));
        std::fs::write(LocalState::path(&dir), b"{\"blocked\": 3}").unwrap();
        let err = LocalState::load(&dir).unwrap_err().to_string();
        assert!(
            err.contains("social.json is not a social settings file"),
            "{err}"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
