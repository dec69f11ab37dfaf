//! Every event this identity signs, kept under `$SEEDSTR_HOME/events/<id>.json`.
//!
//! Relays may lose or refuse our events, and the feed index must be buildable when none
//! answers, so the node keeps its own copy: one file per event, written whole before the
//! command reports success.

use std::path::{Path, PathBuf};

use nostr::prelude::*;

use crate::files::durable::replace_file;
use crate::files::json::read_all;

/// Why an own event could not be kept.
#[derive(Debug, thiserror::Error)]
pub enum OwnEventsError {
    /// Writing it failed.
    #[error("keeping event {id} in {path}: {source}")]
    Io {
        /// The event's id (hex).
        id: String,
        /// The file concerned.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The event does not verify.
    #[error("event {id} does not verify ({why}); refusing to keep it")]
    Invalid {
        /// The event's id (hex).
        id: String,
        /// Why, in words.
        why: String,
    },
}

/// Copies of the events this identity signed, kept to rebuild its feed.
pub struct OwnEvents {
    dir: PathBuf,
}

impl OwnEvents {
    /// The kept events in `home`.
    pub fn new(home: &Path) -> OwnEvents {
        OwnEvents {
            dir: home.join("events"),
        }
    }

    /// The folder they are kept in.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Keeps `events` (already kept ones are left as they are).
    pub fn add(&self, events: &[Event]) -> Result<(), OwnEventsError> {
        for event in events {
            let id = event.id.to_hex();
            event.verify().map_err(|e| OwnEventsError::Invalid {
                id: id.clone(),
                why: e.to_string(),
            })?;
            let path = self.dir.join(format!("{id}.json"));
            if path.exists() {
                continue;
            }
            let io = |source| OwnEventsError::Io {
                id: id.clone(),
                path: path.clone(),
                source,
            };
            std::fs::create_dir_all(&self.dir).map_err(io)?;
            replace_file(&path, event.as_json().as_bytes()).map_err(io)?;
        }
        Ok(())
    }

    /// Every kept event signed by `author` that still verifies, oldest first; unreadable or
    /// altered files are described in the second list.
    pub fn list(&self, author: &PublicKey) -> (Vec<Event>, Vec<String>) {
        let (events, broken) = read_all(&self.dir, |path| {
            let text = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
            let event = Event::from_json(text).map_err(|e| e.to_string())?;
            event.verify().map_err(|e| e.to_string())?;
            Ok(event)
        });
        let mut events: Vec<Event> = events.into_iter().filter(|e| e.pubkey == *author).collect();
        events.sort_by_key(|e| (e.created_at, e.id));
        (events, broken)
    }

    /// The newest kept event by `author` at a replaceable or addressable `address`
    /// (`kind:pubkey:d`).
    pub fn newest_at(&self, author: &PublicKey, address: &str) -> Option<Event> {
        self.list(author)
            .0
            .into_iter()
            .rfind(|e| seedstr_proto::event::address(e).as_deref() == Some(address))
    }

    /// The newest kept event of `kind` by `author`.
    pub fn newest(&self, author: &PublicKey, kind: u16) -> Option<Event> {
        self.list(author)
            .0
            .into_iter()
            .rfind(|e| e.kind.as_u16() == kind)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_are_kept_once_and_altered_files_reported() {
        let home = tempfile::tempdir().unwrap();
        let store = OwnEvents::new(home.path());
        let keys = Keys::generate();
        let a = EventBuilder::new(Kind::TextNote, "one")
            .custom_created_at(Timestamp::from(100))
            .finalize(&keys)
            .unwrap();
        let b = EventBuilder::new(Kind::TextNote, "two")
            .custom_created_at(Timestamp::from(200))
            .finalize(&keys)
            .unwrap();
        store.add(&[b.clone(), a.clone()]).unwrap();
        store.add(std::slice::from_ref(&a)).unwrap();
        let (events, broken) = store.list(&keys.public_key());
        assert_eq!(events, vec![a.clone(), b.clone()]);
        assert!(broken.is_empty());
        assert_eq!(store.newest(&keys.public_key(), 1), Some(b.clone()));
        // Someone else's events are kept apart from ours.
        assert!(store.list(&Keys::generate().public_key()).0.is_empty());

        let path = store.dir().join(format!("{}.json", a.id.to_hex()));
        let altered = a.as_json().replace("one", "ONE");
        std::fs::write(&path, altered).unwrap();
        let (events, broken) = store.list(&keys.public_key());
        assert_eq!(events, vec![b]);
        assert_eq!(broken.len(), 1, "{broken:?}");
        assert!(broken[0].contains(&a.id.to_hex()), "{broken:?}");
    }
}
