//! Why a mod change was refused. Every variant names the mods, versions and files involved.

use seedstr_client::install::{InstallError, LockfileError, TransactionError};
use seedstr_client::resolve::ResolveError;

use super::catalog::NoRelay;
use super::state::StateError;
use crate::games::{RuleError, UnknownGame};

/// Why a mod change was refused (the folder is then as it was).
#[derive(Debug, thiserror::Error)]
pub enum ModError {
    /// No relay answered.
    #[error(transparent)]
    NoRelay(#[from] NoRelay),
    /// A game Seedstr does not know.
    #[error(transparent)]
    Game(#[from] UnknownGame),
    /// The folder's game state does not read.
    #[error(transparent)]
    State(#[from] StateError),
    /// The lockfile does not read.
    #[error(transparent)]
    Lockfile(#[from] LockfileError),
    /// The transaction failed.
    #[error(transparent)]
    Transaction(#[from] TransactionError),
    /// Boxed: an install error is large, and every plan result would carry its size.
    #[error(transparent)]
    Install(Box<InstallError>),
    /// A release could not be resolved.
    #[error("{project}: {source}")]
    Resolve {
        /// The project.
        project: String,
        /// Why.
        source: ResolveError,
    },
    /// A mod of another game.
    #[error("{project} is a mod for {found}, and this folder is for {game}")]
    ForeignGame {
        /// The project.
        project: String,
        /// The game it is for.
        found: String,
        /// The folder's game.
        game: String,
    },
    /// No relay holds a release of the project.
    #[error("no relay holds a release of {0}")]
    NotFound(String),
    /// No release fits.
    #[error("no release of {project} fits: {}", .why.join("; "))]
    NoVersion {
        /// The project.
        project: String,
        /// Why each release was refused.
        why: Vec<String>,
    },
    /// The version is withdrawn by its author's incident.
    #[error("{release} is withdrawn by its author: {incident}. {}", advice(.safe))]
    Blocked {
        /// `<project>@<version>`.
        release: String,
        /// `<severity> incident "<id>": <summary>`.
        incident: String,
        /// The newest version no incident names, if any.
        safe: Option<String>,
    },
    /// Two mods declared incompatible.
    #[error("{a} cannot be installed with {b}: {a} declares {b} {range} incompatible")]
    Incompatible {
        /// The mod that declares the incompatibility.
        a: String,
        /// The mod it declares incompatible.
        b: String,
        /// The versions it declares incompatible.
        range: String,
    },
    /// The release does not support the folder's game version.
    #[error("{project}@{version} does not support game version {game_version} (it names {})", .supported.join(", "))]
    GameVersion {
        /// The project.
        project: String,
        /// The version.
        version: String,
        /// The folder's game version.
        game_version: String,
        /// The game versions it names.
        supported: Vec<String>,
    },
    /// Files the game's rules refuse.
    #[error("{project}@{version} has files the game's rules refuse: {}", list(.refused))]
    Rules {
        /// The project.
        project: String,
        /// The version.
        version: String,
        /// Each path refused, and why.
        refused: Vec<RuleError>,
    },
    /// Two mods write the same file: (path, one, other).
    #[error("file conflicts, nothing was changed: {}", .0.iter().map(|(p, a, b)| format!("{p:?} is written by both {a} and {b}")).collect::<Vec<_>>().join("; "))]
    Conflicts(Vec<(String, String, String)>),
    /// A file no mod owns is in the way.
    #[error("{path:?} already exists in the game folder and no mod owns it (a game file or a manual install); move it away first")]
    Unmanaged {
        /// The file.
        path: String,
    },
    /// An older version than installed, not allowed.
    #[error("{chosen} of {project} is older than the installed {installed}; use `mod rollback`, or pass --allow-downgrade")]
    Downgrade {
        /// The project.
        project: String,
        /// The version installed.
        installed: String,
        /// The version chosen.
        chosen: String,
    },
    /// Other mods require the one to remove.
    #[error("{project} is required by {}; uninstall those first", .dependents.join(", "))]
    Required {
        /// The project.
        project: String,
        /// The mods that require it.
        dependents: Vec<String>,
    },
    /// The mod is not installed.
    #[error("{0} is not installed in this folder")]
    NotInstalled(String),
    /// An empty folder, and no mod named to tell its game.
    #[error("{0} holds no mods yet; name a mod so its game is known")]
    NoGame(String),
    /// The game version given does not read.
    #[error(transparent)]
    BadGameVersion(#[from] seedstr_proto::release::ManifestError),
    /// A short name that matches several mods.
    #[error("{name:?} matches several installed mods: {}; give <npub>/<game>.<slug>", .candidates.join(", "))]
    Ambiguous {
        /// The name given.
        name: String,
        /// The mods it could be.
        candidates: Vec<String>,
    },
    /// No older version to roll back to.
    #[error("{project} has no release older than {installed} that no incident names")]
    NothingToRollBackTo {
        /// The project.
        project: String,
        /// The version installed.
        installed: String,
    },
    /// A collection's pin is refused.
    #[error("the collection pins event {event_id} for {release}, but {why}")]
    Pin {
        /// The release.
        release: String,
        /// The pinned event.
        event_id: String,
        /// What is wrong with it.
        why: String,
    },
    /// Dependencies that do not settle.
    #[error("dependencies did not settle after {0} rounds (conflicting ranges?)")]
    Unsettled(usize),
    /// A file could not be read or written.
    #[error("{what} {path}: {source}")]
    Io {
        /// What was being done.
        what: &'static str,
        /// The file or folder.
        path: std::path::PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

fn advice(safe: &Option<String>) -> String {
    match safe {
        Some(v) => format!("Install {v} instead, or `mod rollback` to it"),
        None => "No unaffected version exists".into(),
    }
}

fn list(refused: &[RuleError]) -> String {
    refused
        .iter()
        .map(|r| format!("{:?} ({})", r.path, r.why))
        .collect::<Vec<_>>()
        .join("; ")
}

impl From<InstallError> for ModError {
    fn from(e: InstallError) -> ModError {
        ModError::Install(Box::new(e))
    }
}
