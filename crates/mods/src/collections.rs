//! Collections as operations: a curator's collection made from a game folder (its exact
//! releases and load order), a collection found by its address (verified answers only), and
//! what installing one asks the planner for.

use seedstr_proto::zap_split::ZapSplit;
use std::path::Path;

use nostr::prelude::{EventId, PublicKey};
use seedstr_client::install::{Lockfile, LockfileError};
use seedstr_client::relays::source::{newest_addressable, EventSource, SourceError};
use seedstr_client::resolve::target::{parse_public_key, TargetError};
use seedstr_proto::release::{Coordinate, ManifestError, Version};

use crate::events::collection::{Collection, CollectionError, Pinned};
use crate::events::{ReleaseRef, COLLECTION_KIND};
use crate::install::state::StateError;
use crate::install::{GameState, ModKey, Want};

/// Why a collection could not be made or found.
#[derive(Debug, thiserror::Error)]
pub enum CollectionOpError {
    /// The lockfile does not read.
    #[error(transparent)]
    Lockfile(#[from] LockfileError),
    /// The game state does not read.
    #[error(transparent)]
    State(#[from] StateError),
    /// The folder holds no mod.
    #[error("{0} holds no mods to collect")]
    Empty(String),
    /// A lockfile entry does not read.
    #[error("unreadable lockfile entry {0}")]
    Entry(String),
    /// The collection breaks a rule.
    #[error(transparent)]
    Invalid(#[from] CollectionError),
    /// Not a collection's address.
    #[error("{0:?} is not <npub>/<game>.collection.<slug>")]
    NotAnAddress(String),
    /// The curator's key does not read.
    #[error(transparent)]
    Key(#[from] TargetError),
    /// The game and slug do not make a coordinate.
    #[error(transparent)]
    Coordinate(#[from] ManifestError),
    /// The relays could not be asked.
    #[error(transparent)]
    Source(#[from] SourceError),
    /// No relay holds the collection.
    #[error("no relay holds the collection {0}")]
    NotFound(String),
}

/// The collection `slug` pinning every mod installed in `root` by its exact release event and
/// info hash, with the folder's load order and game version, its tips shared as `zap_splits`
/// says.
pub fn collection_of_folder(
    root: &Path,
    slug: &str,
    name: Option<&str>,
    description: &str,
    zap_splits: &[ZapSplit],
) -> Result<Collection, CollectionOpError> {
    let lock = Lockfile::load(root)?;
    let state = GameState::load(&lock, &root.display().to_string(), None)?;
    if lock.installs.is_empty() {
        return Err(CollectionOpError::Empty(root.display().to_string()));
    }
    let mut mods = Vec::new();
    for i in &lock.installs {
        let bad = || CollectionOpError::Entry(i.coordinate.clone());
        let key = ModKey::of(i).ok_or_else(bad)?;
        let mut infohash = [0u8; 20];
        hex::decode_to_slice(&i.infohash, &mut infohash).map_err(|_| bad())?;
        mods.push(Pinned {
            release: ReleaseRef {
                author: key.author,
                coordinate: key.coordinate,
                version: Version::parse(&i.version).map_err(|_| bad())?,
            },
            event_id: EventId::from_hex(&i.event_id).map_err(|_| bad())?,
            infohash,
        });
    }
    let collection = Collection {
        game: state.game,
        slug: slug.to_owned(),
        name: name.unwrap_or(slug).to_owned(),
        description: description.to_owned(),
        mods,
        load_order: state.load_order,
        game_version: state.game_version,
        zap_splits: zap_splits.to_vec(),
    };
    collection.validate()?;
    Ok(collection)
}

/// Reads `<npub>/<game>.collection.<slug>`: the curator and the collection's `d`.
pub fn parse_collection_address(s: &str) -> Result<(PublicKey, String), CollectionOpError> {
    let not = || CollectionOpError::NotAnAddress(s.to_owned());
    let (author, d) = s.split_once('/').ok_or_else(not)?;
    let (game, slug) = d.split_once(".collection.").ok_or_else(not)?;
    Coordinate::new(game, slug)?;
    Ok((parse_public_key(author)?, d.to_owned()))
}

/// The newest collection `d` by `author` that `source` holds.
pub async fn fetch_collection(
    source: &impl EventSource,
    author: &PublicKey,
    d: &str,
) -> Result<Collection, CollectionOpError> {
    let newest = newest_addressable(source, COLLECTION_KIND, author, d)
        .await?
        .ok_or_else(|| CollectionOpError::NotFound(d.to_owned()))?;
    Ok(Collection::from_event(&newest)?)
}

/// What installing `collection` asks of the planner: each pinned release, by version, event
/// and info hash.
pub fn collection_wants(collection: &Collection) -> Vec<Want> {
    collection
        .mods
        .iter()
        .map(|m| Want {
            key: ModKey {
                author: m.release.author,
                coordinate: m.release.coordinate.clone(),
            },
            version: Some(m.release.version.clone()),
            pinned: Some((m.event_id, m.infohash)),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use nostr::prelude::Keys;
    use proptest::prelude::*;

    use super::*;

    proptest! {
        // A fixed seed and no regression files: the same cases on every run.
        #![proptest_config(ProptestConfig {
            rng_seed: proptest::test_runner::RngSeed::Fixed(0x5eed),
            failure_persistence: None,
            ..ProptestConfig::default()
        })]

        /// Any text typed or quoted as a collection address is read or refused, never a panic;
        /// what is read names a `<game>.collection.<slug>`.
        #[test]
        fn any_text_is_read_or_refused(text in "\\PC{0,120}") {
            if let Ok((_, d)) = parse_collection_address(&text) {
                prop_assert!(d.contains(".collection."));
                prop_assert!(text.ends_with(&d));
            }
        }

        /// A well-formed address comes back as the curator and the `d` it was made of.
        #[test]
        fn a_made_address_is_read_back(game in "[a-z][a-z0-9-]{0,20}", slug in "[a-z][a-z0-9-]{0,30}") {
            prop_assume!(Coordinate::new(&game, &slug).is_ok());
            let curator = Keys::generate().public_key();
            let d = format!("{game}.collection.{slug}");
            let (author, read) = parse_collection_address(&format!("{}/{d}", curator.to_hex())).unwrap();
            prop_assert_eq!(author, curator);
            prop_assert_eq!(read, d);
        }
    }
}
