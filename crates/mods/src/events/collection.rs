//! Collections (30083): a curator's list of exact releases and the load order they were tested
//! with. Installing one reproduces the same files and the same load order anywhere.

use std::collections::BTreeSet;

use nostr::prelude::{Event, EventBuilder, EventId, Kind};
use seedstr_proto::release::{Coordinate, ManifestError};
use seedstr_proto::zap_split::{
    check_zap_splits, read_zap_splits, zap_split_tags, ZapSplit, ZapSplitError,
};

use super::tags::{tag, EventReadError, ReleaseRef, Tags};
use super::COLLECTION_KIND;

/// One pinned release: which one, the exact event, and the torrent it names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pinned {
    /// The pinned release.
    pub release: ReleaseRef,
    /// Its event.
    pub event_id: EventId,
    /// Its torrent's info hash.
    pub infohash: [u8; 20],
}

/// A collection (30083): exact releases in install order, and a load order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Collection {
    /// The game's id.
    pub game: String,
    /// The collection's slug.
    pub slug: String,
    /// The collection's name for people.
    pub name: String,
    /// Markdown; the event's content.
    pub description: String,
    /// In install order.
    pub mods: Vec<Pinned>,
    /// Plugin file names, first loaded first.
    pub load_order: Vec<String>,
    /// The game version the curator tested with, if stated.
    pub game_version: Option<String>,
    /// Who shares the collection's tips (NIP-57 Appendix G): the curator and, say, the authors
    /// of the mods it pins.
    pub zap_splits: Vec<ZapSplit>,
}

/// Why a collection was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CollectionError {
    /// The event does not read.
    #[error(transparent)]
    Read(#[from] EventReadError),
    /// A pinned release's coordinate or version does not read.
    #[error(transparent)]
    Manifest(#[from] ManifestError),
    /// It pins a mod of another game.
    #[error("the collection is for {game}, but it pins {release}, a mod for another game")]
    ForeignMod {
        /// The game's id.
        game: String,
        /// The pinned release.
        release: String,
    },
    /// It pins a release twice.
    #[error("the collection pins {0} twice")]
    Duplicate(String),
    /// Its zap splits do not read.
    #[error(transparent)]
    ZapSplit(#[from] ZapSplitError),
    /// Its load order names a file that is not a plugin.
    #[error("the collection's load order names {0:?}, which is not a plugin file name")]
    Plugin(String),
}

impl Collection {
    /// `<game>.collection.<slug>`.
    pub fn d(&self) -> String {
        format!("{}.collection.{}", self.game, self.slug)
    }

    /// Checks the collection's rules.
    pub fn validate(&self) -> Result<(), CollectionError> {
        Coordinate::new(&self.game, &self.slug)?;
        let mut seen = BTreeSet::new();
        for m in &self.mods {
            if m.release.coordinate.ns != self.game {
                return Err(CollectionError::ForeignMod {
                    game: self.game.clone(),
                    release: m.release.to_string(),
                });
            }
            if !seen.insert((m.release.author, m.release.coordinate.clone())) {
                return Err(CollectionError::Duplicate(m.release.coordinate.to_string()));
            }
        }
        if let Some(p) = self
            .load_order
            .iter()
            .find(|p| p.is_empty() || p.contains(['/', '\\', '\r', '\n']))
        {
            return Err(CollectionError::Plugin(p.clone()));
        }
        check_zap_splits(&self.zap_splits)?;
        Ok(())
    }

    /// The unsigned event.
    pub fn to_builder(&self) -> EventBuilder {
        let mut tags = vec![
            tag(["d", &self.d()]),
            tag(["name", &self.name]),
            tag(["game", &self.game]),
            tag(["alt", &format!("Seedstr mod collection {}", self.name)]),
        ];
        if let Some(v) = &self.game_version {
            tags.push(tag(["game-version", v]));
        }
        for m in &self.mods {
            tags.push(tag([
                "mod",
                &m.release.address(),
                &m.event_id.to_hex(),
                &hex::encode(m.infohash),
            ]));
        }
        tags.extend(self.load_order.iter().map(|p| tag(["plugin", p])));
        tags.extend(zap_split_tags(&self.zap_splits));
        EventBuilder::new(Kind::from(COLLECTION_KIND), &self.description).tags(tags)
    }

    /// Reads and checks a collection event.
    pub fn from_event(event: &Event) -> Result<Collection, CollectionError> {
        let t = Tags::of(event, COLLECTION_KIND, "collection (30083)")?;
        let d = t.one("d")?;
        let (game, slug) = d
            .split_once(".collection.")
            .ok_or_else(|| t.bad("d", format!("{d:?} is not <game>.collection.<slug>")))?;
        let mut mods = Vec::new();
        for m in t.all("mod") {
            if m.len() < 4 {
                return Err(t
                    .bad(
                        "mod",
                        "expected [\"mod\", release address, event id, infohash]",
                    )
                    .into());
            }
            let release = ReleaseRef::parse_address(&m[1])
                .map_err(|_| t.bad("mod", format!("{:?} is not a release address", m[1])))?;
            let event_id = EventId::from_hex(&m[2])
                .map_err(|_| t.bad("mod", format!("{:?} is not an event id", m[2])))?;
            let mut infohash = [0u8; 20];
            hex::decode_to_slice(&m[3], &mut infohash)
                .map_err(|_| t.bad("mod", format!("{:?} is not a 40-digit info hash", m[3])))?;
            mods.push(Pinned {
                release,
                event_id,
                infohash,
            });
        }
        let c = Collection {
            game: game.to_owned(),
            slug: slug.to_owned(),
            name: t.opt("name").unwrap_or(slug).to_owned(),
            description: event.content.clone(),
            mods,
            load_order: t.all("plugin").filter_map(|p| p.get(1).cloned()).collect(),
            game_version: t.opt("game-version").map(str::to_owned),
            zap_splits: read_zap_splits(event)?,
        };
        c.validate()?;
        Ok(c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use nostr::prelude::{FinalizeEvent as _, Keys};
    use seedstr_proto::release::Version;

    fn pinned(author: &Keys, ns: &str, slug: &str) -> Pinned {
        Pinned {
            release: ReleaseRef {
                author: author.public_key(),
                coordinate: Coordinate::new(ns, slug).unwrap(),
                version: Version::new(1, 2, 0),
            },
            event_id: EventId::from_byte_array([0; 32]),
            infohash: [9; 20],
        }
    }

    #[test]
    fn a_collection_round_trips_in_order() {
        let keys = Keys::generate();
        let c = Collection {
            game: "skyrim-se".into(),
            slug: "winter".into(),
            name: "Winter".into(),
            description: "Snow everywhere".into(),
            mods: vec![
                pinned(&keys, "skyrim-se", "b"),
                pinned(&keys, "skyrim-se", "a"),
            ],
            load_order: vec!["B.esm".into(), "A.esp".into()],
            game_version: Some("1.6.1170".into()),
            zap_splits: vec![ZapSplit {
                pubkey: keys.public_key(),
                relay: String::new(),
                weight: Some(3),
            }],
        };
        let e = c.to_builder().finalize(&keys).unwrap();
        assert_eq!(Collection::from_event(&e).unwrap(), c);
    }

    #[test]
    fn foreign_and_duplicate_mods_are_refused() {
        let keys = Keys::generate();
        let mut c = Collection {
            game: "skyrim-se".into(),
            slug: "x".into(),
            name: "x".into(),
            description: String::new(),
            mods: vec![pinned(&keys, "fallout-4", "a")],
            load_order: vec![],
            game_version: None,
            zap_splits: Vec::new(),
        };
        assert!(matches!(
            c.validate(),
            Err(CollectionError::ForeignMod { .. })
        ));
        c.mods = vec![
            pinned(&keys, "skyrim-se", "a"),
            pinned(&keys, "skyrim-se", "a"),
        ];
        assert!(matches!(c.validate(), Err(CollectionError::Duplicate(_))));
    }
}
