//! Why a mod change was refused. Every variant names the mods, versions and files involved.

use seedstr_client::install::{InstallError, LockfileError, TransactionError};
use seedstr_client::resolve::ResolveError;

use super::catalog::NoRelay;
use super::state::StateError;
use crate::games::{RuleError, UnknownGame};

#[derive(Debug, thiserror::Error)]
pub enum ModError {
    #[error(transparent)]
    NoRelay(#[from] NoRelay),
    #[error(transparent)]
    Game(#[from] UnknownGame),
    #[error(transparent)]
    State(#[from] StateError),
    #[error(transparent)]
    Lockfile(#[from] LockfileError),
    #[error(transparent)]
    Transaction(#[from] TransactionError),
    /// Boxed: an install error is large, and every plan result would carry its size.
    #[error(transparent)]
    Install(Box<InstallError>),
    #[error("{project}: {source}")]
    Resolve {
        project: String,
        source: ResolveError,
    },
    #[error("{project} is a mod for {found}, and this folder is for {game}")]
    ForeignGame {
        project: String,
        found: String,
        game: String,
    },
    #[error("no relay holds a release of {0}")]
    NotFound(String),
    #[error("no release of {project} fits: {}", .why.join("; "))]
    NoVersion { project: String, why: Vec<String> },
    #[error("{release} is withdrawn by its author: {incident}. {}", advice(.safe))]
    Blocked {
        /// `<project>@<version>`.
        release: String,
        /// `<severity> incident "<id>": <summary>`.
        incident: String,
        /// The newest version no incident names, if any.
        safe: Option<String>,
    },
    #[error("{a} cannot be installed with {b}: {a} declares {b} {range} incompatible")]
    Incompatible { a: String, b: String, range: String },
    #[error("{project}@{version} does not support game version {game_version} (it names {})", .supported.join(", "))]
    GameVersion {
        project: String,
        version: String,
        game_version: String,
        supported: Vec<String>,
    },
    #[error("{project}@{version} has files the game's rules refuse: {}", list(.refused))]
    Rules {
        project: String,
        version: String,
        refused: Vec<RuleError>,
    },
    #[error("file conflicts, nothing was changed: {}", .0.iter().map(|(p, a, b)| format!("{p:?} is written by both {a} and {b}")).collect::<Vec<_>>().join("; "))]
    Conflicts(Vec<(String, String, String)>),
    #[error("{path:?} already exists in the game folder and no mod owns it (a game file or a manual install); move it away first")]
    Unmanaged { path: String },
    #[error("{chosen} of {project} is older than the installed {installed}; use `mod rollback`, or pass --allow-downgrade")]
    Downgrade {
        project: String,
        installed: String,
        chosen: String,
    },
    #[error("{project} is required by {}; uninstall those first", .dependents.join(", "))]
    Required {
        project: String,
        dependents: Vec<String>,
    },
    #[error("{0} is not installed in this folder")]
    NotInstalled(String),
    #[error("{0} holds no mods yet; name a mod so its game is known")]
    NoGame(String),
    #[error(transparent)]
    BadGameVersion(#[from] seedstr_proto::release::ManifestError),
    #[error("{name:?} matches several installed mods: {}; give <npub>/<game>.<slug>", .candidates.join(", "))]
    Ambiguous {
        name: String,
        candidates: Vec<String>,
    },
    #[error("{project} has no release older than {installed} that no incident names")]
    NothingToRollBackTo { project: String, installed: String },
    #[error("the collection pins event {event_id} for {release}, but {why}")]
    Pin {
        release: String,
        event_id: String,
        why: String,
    },
    #[error("dependencies did not settle after {0} rounds (conflicting ranges?)")]
    Unsettled(usize),
    #[error("{what} {path}: {source}")]
    Io {
        what: &'static str,
        path: std::path::PathBuf,
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
