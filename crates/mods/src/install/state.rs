//! What a game folder holds besides files: which game, the load order, which mods the player
//! asked for and what each installed mod requires. It lives in the lockfile's `app` section, so
//! it commits in the same atomic write as the files it describes.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use nostr::prelude::{PublicKey, ToBech32};
use seedstr_client::install::{Installed, Lockfile};
use seedstr_proto::release::{Coordinate, DependencyKind};
use serde::{Deserialize, Serialize};

/// A mod project: author and coordinate. Written `<hex author>/<ns>.<slug>`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ModKey {
    /// The mod's author.
    pub author: PublicKey,
    /// The mod's project.
    pub coordinate: Coordinate,
}

impl ModKey {
    /// The key of a lockfile entry.
    pub fn of(installed: &Installed) -> Option<ModKey> {
        Some(ModKey {
            author: PublicKey::from_hex(&installed.author).ok()?,
            coordinate: Coordinate::parse(&installed.coordinate).ok()?,
        })
    }

    /// `<hex author>/<ns>.<slug>`.
    pub fn id(&self) -> String {
        format!("{}/{}", self.author.to_hex(), self.coordinate)
    }

    /// Reads an id.
    pub fn parse_id(s: &str) -> Option<ModKey> {
        let (a, c) = s.split_once('/')?;
        Some(ModKey {
            author: PublicKey::from_hex(a).ok()?,
            coordinate: Coordinate::parse(c).ok()?,
        })
    }

    /// The project's address, `30078:<hex>:<ns>.<slug>`.
    pub fn project_address(&self) -> String {
        self.coordinate.project_address(&self.author)
    }
}

impl fmt::Display for ModKey {
    /// `<ns>.<slug> by npub1…` for people.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let npub = self.author.to_bech32().map_err(|_| fmt::Error)?;
        write!(
            f,
            "{} by {}…{}",
            self.coordinate,
            &npub[..12],
            &npub[npub.len() - 6..]
        )
    }
}

/// The mods a lockfile records, by project.
pub fn installed_mods(lock: &Lockfile) -> BTreeMap<ModKey, &Installed> {
    lock.installs
        .iter()
        .filter_map(|i| ModKey::of(i).map(|k| (k, i)))
        .collect()
}

/// One dependency an installed mod declared.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeclaredDependency {
    /// `<hex author>/<ns>.<slug>`.
    pub project: String,
    /// The versions it accepts.
    pub range: String,
    /// How it depends on it.
    pub kind: DependencyKind,
}

/// What the lockfile keeps about a game folder beside its installs.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GameState {
    /// The game's id.
    pub game: String,
    /// The game's own version, when the player stated it; releases must support it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub game_version: Option<String>,
    /// Plugin file names, first loaded first; what the load-order file says.
    #[serde(default)]
    pub load_order: Vec<String>,
    /// Mods the player named (the others came as dependencies), by id.
    #[serde(default)]
    pub requested: BTreeSet<String>,
    /// Per installed mod id, the dependencies its release declares.
    #[serde(default)]
    pub declared: BTreeMap<String, Vec<DeclaredDependency>>,
    /// The collection this folder was last set up from, if any (`<npub>/<d>`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub collection: Option<String>,
}

/// Why a folder's game state does not read.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    #[error(
        "{0} holds installs that are not mods of a game (no game recorded); use another folder"
    )]
    /// The folder holds installs but no game.
    NotAGameFolder(String),
    /// The folder is another game's.
    #[error("{folder} is a {held} folder, not {wanted}")]
    OtherGame {
        /// The folder.
        folder: String,
        /// The game it holds mods of.
        held: String,
        /// The game asked for.
        wanted: String,
    },
    /// The state is corrupt: (folder, why).
    #[error("the game state in {0} is unreadable: {1}")]
    Corrupt(String, String),
}

impl GameState {
    /// The state kept in `lock`, or a new one for `game` when the folder holds nothing yet.
    pub fn load(
        lock: &Lockfile,
        folder: &str,
        game: Option<&str>,
    ) -> Result<GameState, StateError> {
        let state = match &lock.app {
            Some(v) => serde_json::from_value::<GameState>(v.clone())
                .map_err(|e| StateError::Corrupt(folder.to_owned(), e.to_string()))?,
            None if lock.installs.is_empty() => GameState {
                game: game.unwrap_or_default().to_owned(),
                ..GameState::default()
            },
            None => return Err(StateError::NotAGameFolder(folder.to_owned())),
        };
        if let Some(wanted) = game {
            if !state.game.is_empty() && state.game != wanted {
                return Err(StateError::OtherGame {
                    folder: folder.to_owned(),
                    held: state.game,
                    wanted: wanted.to_owned(),
                });
            }
        }
        Ok(state)
    }

    /// The state as the lockfile keeps it.
    pub fn to_value(&self) -> serde_json::Value {
        serde_json::to_value(self).expect("state serializes")
    }
}
