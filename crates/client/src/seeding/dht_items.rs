//! The signed DHT items this node keeps alive: its own records and those of identities it
//! follows, one file per item under `$SEEDSTR_HOME/dht/items/<target>.json`.
//!
//! DHT nodes drop an item about two hours after its last put, so `seedstr seed` puts every kept
//! item again each hour. Items are kept as signed (a follower cannot sign) and checked again
//! when read.

use std::path::{Path, PathBuf};

use seedstr_dht::{MutableItem, SignedItem};
use serde::{Deserialize, Serialize};

use crate::files::durable::replace_file;
use crate::files::json::read_all;

/// One kept item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeptItem {
    /// The signed item, as put on the DHT.
    #[serde(flatten)]
    pub item: SignedItem,
    /// What the record is, for people: `feed:<salt>` or `name:<name>`.
    pub label: String,
    /// The Nostr identity behind the transport key (hex).
    pub author: String,
    /// Signed here (true) or kept for someone followed.
    pub own: bool,
}

/// Why a DHT item could not be kept.
#[derive(Debug, thiserror::Error)]
pub enum ItemStoreError {
    /// Writing it failed.
    #[error("keeping the DHT item {path}: {source}")]
    Io {
        /// The file concerned.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
}

/// The signed DHT items this process keeps alive by putting them again.
pub struct ItemStore {
    dir: PathBuf,
}

impl ItemStore {
    /// The item store in `home`.
    pub fn new(home: &Path) -> ItemStore {
        ItemStore {
            dir: home.join("dht").join("items"),
        }
    }

    /// How many items are kept, counted without reading them (for status reports).
    pub fn count(&self) -> usize {
        std::fs::read_dir(&self.dir)
            .map(|d| d.filter_map(Result::ok).count())
            .unwrap_or(0)
    }

    fn path(&self, target: &str) -> PathBuf {
        self.dir.join(format!("{target}.json"))
    }

    /// Keeps `item` unless an item with a higher or equal `seq` is kept for its target; true
    /// when it was written.
    pub fn keep(
        &self,
        item: &MutableItem,
        label: &str,
        author: &str,
        own: bool,
    ) -> Result<bool, ItemStoreError> {
        let signed = SignedItem::of(item);
        let path = self.path(&signed.target());
        if let Some(held) = self.read(&path).ok().filter(|h| h.item.verified().is_ok()) {
            if held.item.seq >= signed.seq {
                return Ok(false);
            }
        }
        let kept = KeptItem {
            item: signed,
            label: label.to_owned(),
            author: author.to_owned(),
            own,
        };
        let io = |source| ItemStoreError::Io {
            path: path.clone(),
            source,
        };
        std::fs::create_dir_all(&self.dir).map_err(io)?;
        let json = serde_json::to_vec_pretty(&kept).expect("items serialize");
        replace_file(&path, &json).map_err(io)?;
        Ok(true)
    }

    fn read(&self, path: &Path) -> Result<KeptItem, String> {
        let bytes = std::fs::read(path).map_err(|e| e.to_string())?;
        serde_json::from_slice(&bytes).map_err(|e| e.to_string())
    }

    /// Every kept item whose signature still holds, and a description of each other file.
    pub fn list(&self) -> (Vec<(KeptItem, MutableItem)>, Vec<String>) {
        read_all(&self.dir, |path| {
            let kept = self.read(path)?;
            let item = kept.item.verified().map_err(|e| e.to_string())?;
            Ok((kept, item))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use seedstr_dht::SigningKey;

    #[test]
    fn the_highest_seq_is_kept_and_edited_files_are_reported() {
        let home = tempfile::tempdir().unwrap();
        let store = ItemStore::new(home.path());
        let key = SigningKey::from_bytes(&[3u8; 32]);
        let v1 = MutableItem::new(key.clone(), b"one", 1, Some(b"feed"));
        let v2 = MutableItem::new(key.clone(), b"two", 2, Some(b"feed"));
        assert!(store.keep(&v2, "feed:feed", "ab", true).unwrap());
        assert!(!store.keep(&v1, "feed:feed", "ab", true).unwrap());
        let other = MutableItem::new(key, b"name", 7, Some(b"other"));
        assert!(store.keep(&other, "name:x", "ab", false).unwrap());
        let (items, broken) = store.list();
        assert!(broken.is_empty(), "{broken:?}");
        let held: Vec<(i64, bool)> = items.iter().map(|(k, i)| (i.seq(), k.own)).collect();
        assert_eq!(items.len(), 2);
        assert!(
            held.contains(&(2, true)) && held.contains(&(7, false)),
            "{held:?}"
        );

        let path = store.path(&SignedItem::of(&v2).target());
        let text = std::fs::read_to_string(&path).unwrap();
        std::fs::write(&path, text.replace("\"seq\": 2", "\"seq\": 3")).unwrap();
        let (items, broken) = store.list();
        assert_eq!(items.len(), 1);
        assert_eq!(broken.len(), 1);
        assert!(broken[0].contains("signature"), "{broken:?}");
    }
}
