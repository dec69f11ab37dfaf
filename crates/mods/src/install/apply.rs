//! Carrying a plan out: every release it installs is fetched and verified into the folder's
//! staging area first; then one transaction moves all files, removes what goes, writes the
//! load-order file and commits the lockfile with the new game state. Any failure before the
//! commit leaves the folder exactly as it was.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use seedstr_client::install::{
    commit, recover, stage_release, Change, InstallOptions, Installed, Step, STATE_DIR,
};
use seedstr_swarm::Swarm;

use super::error::ModError;
use super::plan::{ActionKind, Plan};
use crate::games::GameAdapter;

/// What carrying a plan out fetched.
#[derive(Debug, Default, serde::Serialize)]
pub struct Applied {
    /// Bytes fetched from peers.
    pub swarm_bytes: u64,
    /// Bytes fetched from web mirrors.
    pub mirror_bytes: u64,
    /// (infohash, `<ns>.<slug>@<version>`, torrent) of each release placed, for seeding.
    #[serde(skip)]
    pub torrents: Vec<(String, String, Option<Vec<u8>>)>,
}

fn io<'a>(what: &'static str, path: &'a Path) -> impl FnOnce(std::io::Error) -> ModError + 'a {
    move |source| ModError::Io {
        what,
        path: path.to_owned(),
        source,
    }
}

/// Writes the plan's load-order file into the staging folder, to be placed with the mods.
fn stage_load_order(root: &Path, game: &dyn GameAdapter, plan: &Plan) -> Result<PathBuf, ModError> {
    let staged = root.join(STATE_DIR).join("staging").join(format!(
        "{}.{}",
        game.load_order_file(),
        hex::encode(rand::random::<[u8; 8]>())
    ));
    std::fs::create_dir_all(staged.parent().expect("in staging"))
        .map_err(io("creating", &staged))?;
    std::fs::write(&staged, game.render_load_order(&plan.load_order))
        .map_err(io("writing", &staged))?;
    Ok(staged)
}

/// Carries `plan` out in `root`: fetches and checks every release, then one transaction.
pub async fn apply(
    swarm: &Swarm,
    root: &Path,
    game: &dyn GameAdapter,
    plan: &Plan,
    opts: &InstallOptions,
    on_step: &(dyn Fn(&str, Step) + Sync),
) -> Result<Applied, ModError> {
    recover(root)?;
    let mut applied = Applied::default();
    let mut change = Change::default();
    let mut lock = plan.lock.clone();
    let mut staged_dirs = Vec::new();
    for a in &plan.actions {
        let key = a.key.as_ref().expect("plans name their mods");
        let previous = lock
            .installs
            .iter()
            .find(|i| i.author == key.author.to_hex() && i.coordinate == key.coordinate.to_string())
            .cloned();
        match a.action {
            ActionKind::Remove => {
                if let Some(p) = previous {
                    change.remove.extend(p.files.iter().map(|f| f.path.clone()));
                }
                lock.installs.retain(|i| {
                    !(i.author == key.author.to_hex() && i.coordinate == key.coordinate.to_string())
                });
            }
            _ => {
                let release = a.release.as_ref().expect("an install names its release");
                let event = a.event.as_ref().expect("an install names its event");
                let label = release.d();
                let step = |s: Step| on_step(&label, s);
                let staged = stage_release(swarm, root, release, opts, &[], &step).await?;
                applied.swarm_bytes += staged.swarm_bytes;
                applied.mirror_bytes += staged.mirror_bytes;
                let new_paths: BTreeSet<&str> =
                    release.files.iter().map(|f| f.path.as_str()).collect();
                change.place.extend(
                    release
                        .files
                        .iter()
                        .map(|f| (f.path.clone(), staged.dir.join(&f.path))),
                );
                if let Some(p) = &previous {
                    change.remove.extend(
                        p.files
                            .iter()
                            .filter(|f| !new_paths.contains(f.path.as_str()))
                            .map(|f| f.path.clone()),
                    );
                }
                lock.upsert(Installed::of(&key.author, release, &event.id));
                applied.torrents.push((
                    release.infohash_hex(),
                    label.clone(),
                    staged.torrent_file.clone(),
                ));
                staged_dirs.push(staged.dir);
            }
        }
    }
    // The load-order file goes through the same transaction as the plugins it lists.
    let order_file = game.load_order_file();
    let staged_order = stage_load_order(root, game, plan)?;
    change
        .place
        .push((order_file.to_owned(), staged_order.clone()));
    lock.app = Some(plan.state.to_value());
    // Renames and fsyncs run off the runtime.
    let root = root.to_owned();
    seedstr_client::files::blocking::off_runtime(move || {
        let committed = commit(&root, &change, lock);
        let _ = std::fs::remove_file(&staged_order);
        committed?;
        for d in staged_dirs {
            // Only empty folders remain; the change is already committed.
            let _ = std::fs::remove_dir_all(d);
        }
        Ok::<_, ModError>(())
    })
    .await?;
    Ok(applied)
}
