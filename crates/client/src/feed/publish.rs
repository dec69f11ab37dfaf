//! Writing an identity's feed: the index torrent from its kept events, registered for seeding,
//! and the feed pointer put under its transport key.

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use nostr::prelude::*;
use seedstr_dht::transport::derive;
use seedstr_dht::{DhtError, DhtNode, FeedPointer, Stored, Write};
use seedstr_swarm::{create, CreateError};

use super::index::{encode, select, FEED_FILE};
use crate::files::durable::sync_dir;
use crate::publish::own_events::{OwnEvents, OwnEventsError};
use crate::seeding::dht_items::{ItemStore, ItemStoreError};
use crate::seeding::registry::{Origin, SeedEntry, SeedRegistry, SeedsError};

/// Why a note could not be posted to the feed.
#[derive(Debug, thiserror::Error)]
pub enum PostError {
    /// Signing failed.
    #[error("signing the note: {0}")]
    Sign(String),
    /// The note could not be kept.
    #[error(transparent)]
    Keep(#[from] OwnEventsError),
}

/// Signs `text` as a note (kind 1) and keeps it with the identity's own events, so the next
/// [`publish_feed`] carries it: posting with no relay at all.
pub fn post_note(home: &Path, keys: &Keys, text: &str) -> Result<Event, PostError> {
    let note = EventBuilder::new(Kind::TextNote, text)
        .finalize(keys)
        .map_err(|e| PostError::Sign(e.to_string()))?;
    OwnEvents::new(home).add(std::slice::from_ref(&note))?;
    Ok(note)
}

/// Why a feed could not be published.
#[derive(Debug, thiserror::Error)]
pub enum FeedPublishError {
    /// The identity has signed nothing yet.
    #[error("there is nothing to put in the feed: this identity has signed no event here yet")]
    Empty,
    /// Writing the index failed.
    #[error("writing the feed index {path}: {source}")]
    Io {
        /// The index file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The index torrent could not be made.
    #[error("making the feed index torrent: {0}")]
    Torrent(#[from] CreateError),
    /// The seed registry could not be written.
    #[error(transparent)]
    Seeds(#[from] SeedsError),
    /// The pointer could not be put on the DHT.
    #[error("putting the feed pointer: {0}")]
    Dht(#[from] DhtError),
    /// The pointer could not be kept for republishing.
    #[error(transparent)]
    Items(#[from] ItemStoreError),
}

/// A feed as published: its index torrent and the DHT pointer to it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct FeedPublished {
    /// The DHT record's salt.
    pub salt: String,
    /// The index torrent's info hash.
    pub infohash: String,
    /// Events in the index.
    pub events: usize,
    /// The index's size in bytes.
    pub bytes: u64,
    /// Where the index file is (it is seeded from there).
    pub dir: PathBuf,
    /// How the pointer was stored on the DHT.
    pub pointer: Stored,
    /// Kept events that no longer verify and were left out.
    pub broken: Vec<String>,
}

/// The folder of one feed's indexes: `$SEEDSTR_HOME/feeds/<salt as hex>/`.
pub fn feed_dir(home: &Path, salt: &str) -> PathBuf {
    home.join("feeds").join(hex::encode(salt.as_bytes()))
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> FeedPublishError + '_ {
    move |source| FeedPublishError::Io {
        path: path.to_owned(),
        source,
    }
}

/// Writes the index of `keys`' kept events, registers it for seeding and points the feed
/// `salt` at it.
pub async fn publish_feed(
    home: &Path,
    keys: &Keys,
    dht: &DhtNode,
    salt: &str,
    web_seeds: &[String],
) -> Result<FeedPublished, FeedPublishError> {
    let (events, broken) = OwnEvents::new(home).list(&keys.public_key());
    let events = select(events);
    if events.is_empty() {
        return Err(FeedPublishError::Empty);
    }
    let bytes = encode(&events);
    let dir = feed_dir(home, salt);
    std::fs::create_dir_all(&dir).map_err(io(&dir))?;

    // The index is written and hashed in a staging folder, then renamed to its info hash: a
    // folder named by an info hash always holds that torrent's file, whole.
    let staging = tempfile::Builder::new()
        .prefix(".staging-")
        .tempdir_in(&dir)
        .map_err(io(&dir))?;
    let file = staging.path().join(FEED_FILE);
    crate::files::durable::replace_file(&file, &bytes).map_err(io(&file))?;
    let torrent = create(&file, FEED_FILE)?;
    let infohash = torrent.info_hash_hex();
    let final_dir = dir.join(&infohash);
    if !final_dir.join(FEED_FILE).is_file() {
        std::fs::rename(staging.path(), &final_dir).map_err(io(&final_dir))?;
        sync_dir(&dir).map_err(io(&dir))?;
    }
    let registry = SeedRegistry::new(home);
    registry.add(
        &SeedEntry {
            infohash: infohash.clone(),
            release: format!("feed:{salt}"),
            dir: final_dir.clone(),
            origin: Origin::Published,
            trackers: vec![],
        },
        &torrent.to_file_bytes(&[]),
    )?;

    let pointer = FeedPointer {
        ih: torrent.info_hash.to_vec(),
        ts: seedstr_proto::clock::unix_now() as i64,
        ws: web_seeds.to_vec(),
    };
    let key = derive(keys.secret_key());
    let stored = dht
        .put(
            &key,
            salt.as_bytes(),
            &pointer.encode().map_err(DhtError::from)?,
            Write::Next,
        )
        .await?;
    ItemStore::new(home).keep(
        &stored.item,
        &format!("feed:{salt}"),
        &keys.public_key().to_hex(),
        true,
    )?;
    retire_old_indexes(&dir, &infohash, &registry);
    Ok(FeedPublished {
        salt: salt.to_owned(),
        infohash,
        events: events.len(),
        bytes: bytes.len() as u64,
        dir: final_dir,
        pointer: stored,
        broken,
    })
}

/// Stops seeding and deletes all but the current index and the one before it (a reader that
/// read the previous pointer a moment ago can still fetch it).
fn retire_old_indexes(dir: &Path, current: &str, registry: &SeedRegistry) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut old: Vec<(SystemTime, PathBuf, String)> = entries
        .filter_map(Result::ok)
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            let is_index = name.len() == 40 && name != current;
            let at = e.metadata().and_then(|m| m.modified()).ok()?;
            is_index.then(|| (at, e.path(), name))
        })
        .collect();
    old.sort();
    old.pop();
    for (_, path, infohash) in old {
        // The registry entry goes first: a seeder never serves a folder being deleted.
        if registry.remove(&infohash).is_ok() {
            let _ = std::fs::remove_dir_all(&path);
        }
    }
}
