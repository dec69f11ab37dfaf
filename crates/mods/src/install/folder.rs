//! A game folder as a player sees it: opened for a change (its lockfile and game state, after
//! any interrupted transaction is rolled back), listed with the alerts its mods carry, and the
//! releases a change placed registered for seeding.

use std::path::Path;

use seedstr_client::files::lock::{log_wait, FolderLock};
use seedstr_client::install::{recover, register_installed, Lockfile};
use seedstr_client::relays::RelaySet;
use seedstr_client::seeding::registry::SeedsError;
use seedstr_proto::release::Version;

use super::apply::Applied;
use super::catalog::fetch_projects;
use super::error::ModError;
use super::plan::Folder;
use super::state::{installed_mods, GameState, ModKey};
use crate::games::game;

/// Opens `root` for a change: rolls back an interrupted transaction, reads the lockfile and
/// the game state. `game_id` names the game when the folder holds no mod yet; `game_version`,
/// when given, is checked and recorded.
pub fn open_folder<'a>(
    root: &'a Path,
    game_id: Option<&str>,
    game_version: Option<&str>,
) -> Result<Folder<'a>, ModError> {
    std::fs::create_dir_all(root).map_err(|source| ModError::Io {
        what: "creating",
        path: root.to_owned(),
        source,
    })?;
    // Held until the folder is dropped: planning, fetching and the commit see one state.
    let held = FolderLock::acquire(root, log_wait).map_err(|e| ModError::Io {
        what: "locking",
        path: e.folder,
        source: e.source,
    })?;
    recover(root)?;
    let lock = Lockfile::load(root)?;
    let mut state = GameState::load(&lock, &root.display().to_string(), game_id)?;
    if state.game.is_empty() {
        return Err(ModError::NoGame(root.display().to_string()));
    }
    if let Some(v) = game_version {
        seedstr_proto::release::check_game_version(v)?;
        state.game_version = Some(v.to_owned());
    }
    Ok(Folder {
        root,
        game: game(&state.game)?,
        lock,
        state,
        _held: held,
    })
}

/// Registers every release `applied` placed in `root` for seeding from there.
pub fn register_for_seeding(home: &Path, root: &Path, applied: &Applied) -> Result<(), SeedsError> {
    for (infohash, release, torrent) in &applied.torrents {
        if let Some(t) = torrent {
            register_installed(home, root, infohash, release, t)?;
        }
    }
    Ok(())
}

/// What a game folder holds, and what players should know about it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct FolderListing {
    /// The game's id.
    pub game: String,
    /// The game version the player stated, if any.
    pub game_version: Option<String>,
    /// The collection the folder was installed from, if any.
    pub collection: Option<String>,
    /// The mods installed.
    pub mods: Vec<ListedMod>,
    /// Plugin file names, first loaded first.
    pub load_order: Vec<String>,
    /// How many installed mods carry an incident from their author.
    pub alerts: usize,
}

/// One installed mod.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ListedMod {
    /// `<game>.<slug>`.
    #[serde(rename = "mod")]
    pub id: String,
    /// `<npub>/<game>.<slug>`.
    pub project: String,
    /// The version installed.
    pub version: String,
    /// Asked for by the player, not only installed as a dependency.
    pub requested: bool,
    /// Its files.
    pub files: ListedFiles,
    /// The author's incident that withdraws the installed version.
    pub alert: Option<Alert>,
    /// Summaries of incidents others signed about the installed version: shown, not enforced.
    pub warnings: Vec<String>,
    /// The newest stable version no author's incident withdraws, when newer than installed.
    pub update: Option<String>,
}

/// A mod's files: how many, or their paths when asked for.
#[derive(Debug, Clone, serde::Serialize)]
#[serde(untagged)]
pub enum ListedFiles {
    /// How many files.
    Count(usize),
    /// The files' paths.
    Paths(Vec<String>),
}

/// An incident that withdraws an installed version.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Alert {
    /// The incident's id.
    pub incident: String,
    /// How bad it is.
    pub severity: seedstr_proto::incident::Severity,
    /// What happened, in one line.
    pub summary: String,
    /// What to do (Markdown).
    pub instructions: String,
    /// The versions it covers.
    pub versions: String,
}

/// Lists the mods installed in `root`. With `relays`, each is checked against its project's
/// current releases and incidents (alerts, warnings, updates); without, only the lockfile is
/// read. `with_files` lists each mod's files instead of counting them.
pub async fn list_folder(
    root: &Path,
    relays: Option<&RelaySet>,
    with_files: bool,
) -> Result<FolderListing, ModError> {
    let lock = Lockfile::load(root)?;
    let state = GameState::load(&lock, &root.display().to_string(), None)?;
    let installed = installed_mods(&lock);
    let keys: Vec<ModKey> = installed.keys().cloned().collect();
    let catalog = match relays {
        Some(r) if !keys.is_empty() => Some(fetch_projects(&r.urls, r.timeout, &keys, None).await?),
        _ => None,
    };
    let mut mods = Vec::new();
    for (k, i) in &installed {
        let v = Version::parse(&i.version).ok();
        let info = catalog.as_ref().and_then(|c| c.get(k));
        let about = info.zip(v.as_ref());
        let alert = about.and_then(|(info, v)| info.blocking(v)).map(|b| Alert {
            incident: b.incident.id.clone(),
            severity: b.incident.severity,
            summary: b.incident.summary.clone(),
            instructions: b.incident.instructions.clone(),
            versions: b.incident.versions.to_string(),
        });
        let warnings = about
            .map(|(info, v)| {
                info.warnings(v)
                    .iter()
                    .map(|w| w.incident.summary.clone())
                    .collect()
            })
            .unwrap_or_default();
        let update = info.and_then(|info| {
            info.releases
                .keys()
                .rev()
                .find(|nv| nv.pre.is_empty() && info.blocking(nv).is_none())
                .filter(|nv| v.as_ref().is_some_and(|v| *nv > v))
                .map(ToString::to_string)
        });
        mods.push(ListedMod {
            id: k.id(),
            project: k.to_string(),
            version: i.version.clone(),
            requested: state.requested.contains(&k.id()),
            files: if with_files {
                ListedFiles::Paths(i.files.iter().map(|f| f.path.clone()).collect())
            } else {
                ListedFiles::Count(i.files.len())
            },
            alert,
            warnings,
            update,
        });
    }
    Ok(FolderListing {
        alerts: mods.iter().filter(|m| m.alert.is_some()).count(),
        game: state.game,
        game_version: state.game_version,
        collection: state.collection,
        mods,
        load_order: state.load_order,
    })
}
