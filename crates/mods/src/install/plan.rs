//! Planning a change to a game folder: which releases to install, upgrade, roll back or remove,
//! with dependencies resolved, incidents and game versions respected, file conflicts and
//! incompatibilities found, and the load order that results. Nothing is fetched or written here;
//! the plan is shown before [`super::apply`] carries it out.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::time::Duration;

use nostr::prelude::{Event, EventId};
use seedstr_client::install::{check_file, Installed, Lockfile};
use seedstr_proto::release::{DependencyKind, Release, Version, VersionReq};
use serde::Serialize;

use super::catalog::{fetch_events, fetch_projects, FeedLookup, ProjectInfo, SignedIncident};
use super::error::ModError;
use super::load_order::order_plugins;
use super::state::{installed_mods, DeclaredDependency, GameState, ModKey};
use crate::games::{check_paths, FileRole, GameAdapter};

/// A mod the player asks for.
#[derive(Debug, Clone)]
pub struct Want {
    /// The mod.
    pub key: ModKey,
    /// `None`: the newest that fits.
    pub version: Option<Version>,
    /// A collection's exact event and torrent.
    pub pinned: Option<(EventId, [u8; 20])>,
}

/// How a plan is made.
#[derive(Debug, Clone, Default)]
pub struct PlanOptions {
    /// Relays to ask.
    pub relays: Vec<String>,
    /// How long to wait for each.
    pub relay_timeout: Duration,
    /// Install optional dependencies too.
    pub with_optional: bool,
    /// Move installed mods to the newest version that fits (`mod update`).
    pub update: bool,
    /// Allow installing an older version than installed.
    pub allow_downgrade: bool,
    /// Ignore the releases' game-version lists.
    pub any_game_version: bool,
    /// The load order to start from instead of the folder's (a collection's).
    pub load_order: Option<Vec<String>>,
    /// Recorded as the folder's collection.
    pub collection: Option<String>,
    /// The authors' feeds on the DHT, asked when no relay answers.
    pub feeds: Option<std::sync::Arc<FeedLookup>>,
}

/// What a plan does to one mod.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ActionKind {
    /// Installed new.
    Install,
    /// Moved to a newer version.
    Upgrade,
    /// Moved to an older version.
    Downgrade,
    /// Same release, damaged files put back.
    Repair,
    /// Removed.
    Remove,
}

/// One change of a plan.
#[derive(Debug, Clone, Serialize)]
pub struct Action {
    /// The mod's id, `<hex author>/<ns>.<slug>`.
    #[serde(rename = "mod")]
    pub key_id: String,
    /// The mod, for people.
    pub project: String,
    /// What happens to it.
    pub action: ActionKind,
    /// The version installed now.
    pub from: Option<String>,
    /// The version installed after.
    pub to: Option<String>,
    /// The mod that pulled it in, for dependencies.
    pub required_by: Option<String>,
    /// The mod.
    #[serde(skip)]
    pub key: Option<ModKey>,
    /// The release to install.
    #[serde(skip)]
    pub release: Option<Release>,
    /// Its event.
    #[serde(skip)]
    pub event: Option<Event>,
}

/// An optional dependency that was not installed.
#[derive(Debug, Clone, Serialize)]
pub struct Suggestion {
    /// The mod that suggests it.
    pub by: String,
    /// The mod, for people.
    pub project: String,
    /// The versions it suggests.
    pub versions: String,
}

/// What a change to a game folder will do, shown before it is done.
#[derive(Debug, Clone, Serialize)]
pub struct Plan {
    /// The game's id.
    pub game: String,
    /// Dependencies before the mods that need them.
    pub actions: Vec<Action>,
    /// Optional dependencies not installed.
    pub optional: Vec<Suggestion>,
    /// What the player should know.
    pub warnings: Vec<String>,
    /// The load order after the plan.
    pub load_order: Vec<String>,
    /// The load order before.
    #[serde(skip)]
    pub previous_load_order: Vec<String>,
    /// The folder's game state after the plan.
    #[serde(skip)]
    pub state: GameState,
    /// The lockfile before the change; [`super::apply`] updates its installs and game state.
    #[serde(skip)]
    pub lock: Lockfile,
}

impl Plan {
    /// True when carrying the plan out would change nothing on disk.
    pub fn changes_nothing(&self) -> bool {
        self.actions.is_empty() && self.load_order == self.previous_load_order
    }
}

/// What a plan starts from: the folder's lockfile and game state.
pub struct Folder<'a> {
    /// The game folder.
    pub root: &'a Path,
    /// The game's id.
    pub game: &'static dyn GameAdapter,
    /// The folder's lockfile.
    pub lock: Lockfile,
    /// The folder's game state after the plan.
    pub state: GameState,
    /// The folder's lock, held while this is open: one writer per folder.
    pub(crate) _held: seedstr_client::files::lock::FolderLock,
}

impl Folder<'_> {
    /// The mods installed, by key.
    pub fn installed(&self) -> BTreeMap<ModKey, &Installed> {
        installed_mods(&self.lock)
    }

    /// Finds an installed mod by `<slug>`, `<game>.<slug>` or `<npub or hex>/<game>.<slug>`.
    pub fn find(&self, name: &str) -> Result<ModKey, ModError> {
        let installed = self.installed();
        let matches: Vec<&ModKey> = installed
            .keys()
            .filter(|k| {
                let coordinate = k.coordinate.to_string();
                name == k.coordinate.slug
                    || name == coordinate
                    || name.split_once('/').is_some_and(|(a, c)| {
                        c == coordinate
                            && seedstr_client::resolve::target::parse_public_key(a)
                                .is_ok_and(|p| p == k.author)
                    })
            })
            .collect();
        match matches.as_slice() {
            [one] => Ok((*one).clone()),
            [] => Err(ModError::NotInstalled(name.to_owned())),
            many => Err(ModError::Ambiguous {
                name: name.to_owned(),
                candidates: many.iter().map(|k| k.to_string()).collect(),
            }),
        }
    }
}

struct Chosen {
    release: Release,
    event: Event,
    required_by: Option<ModKey>,
    /// Requested by the player (or a collection), not pulled in.
    requested: bool,
}

fn declared_of(release: &Release) -> Vec<DeclaredDependency> {
    release
        .dependencies
        .iter()
        .map(|d| DeclaredDependency {
            project: ModKey {
                author: d.author,
                coordinate: d.coordinate.clone(),
            }
            .id(),
            range: d.range.to_string(),
            kind: d.kind,
        })
        .collect()
}

/// Plans installing (or updating, or rolling back) `wants`.
pub async fn plan_install(
    folder: &Folder<'_>,
    wants: &[Want],
    opts: &PlanOptions,
) -> Result<Plan, ModError> {
    plan_with(folder, wants, opts, BTreeMap::new()).await
}

/// Plans putting `key` back to version `to`, or by default to the newest version below the
/// installed one that no incident of the author names and that supports the folder's game
/// version.
pub async fn plan_rollback(
    folder: &Folder<'_>,
    key: &ModKey,
    to: Option<Version>,
    opts: &PlanOptions,
) -> Result<Plan, ModError> {
    let installed = folder
        .installed()
        .get(key)
        .map(|i| i.version.clone())
        .ok_or_else(|| ModError::NotInstalled(key.to_string()))?;
    let catalog = fetch_projects(
        &opts.relays,
        opts.relay_timeout,
        std::slice::from_ref(key),
        opts.feeds.as_deref(),
    )
    .await?;
    let version = match to {
        Some(v) => v,
        None => {
            let info = &catalog[key];
            let below = Version::parse(&installed).ok();
            info.releases
                .iter()
                .rev()
                .filter(|(v, _)| below.as_ref().is_some_and(|b| *v < b))
                .find(|(v, (r, _))| info.blocking(v).is_none() && game_version_ok(r, folder, opts))
                .map(|(v, _)| v.clone())
                .ok_or_else(|| ModError::NothingToRollBackTo {
                    project: key.to_string(),
                    installed,
                })?
        }
    };
    let wants = [Want {
        key: key.clone(),
        version: Some(version),
        pinned: None,
    }];
    let opts = PlanOptions {
        allow_downgrade: true,
        ..opts.clone()
    };
    plan_with(folder, &wants, &opts, catalog).await
}

/// Adds to `catalog` the projects among `keys` it lacks, from the relays (or the feeds).
async fn fetch_missing(
    catalog: &mut BTreeMap<ModKey, ProjectInfo>,
    keys: impl Iterator<Item = &ModKey>,
    opts: &PlanOptions,
) -> Result<(), ModError> {
    let missing: Vec<ModKey> = keys
        .filter(|k| !catalog.contains_key(*k))
        .cloned()
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    catalog.extend(
        fetch_projects(
            &opts.relays,
            opts.relay_timeout,
            &missing,
            opts.feeds.as_deref(),
        )
        .await?,
    );
    Ok(())
}

/// Refuses a project of another game: its namespace must be the folder's game.
fn same_game(key: &ModKey, game: &dyn GameAdapter) -> Result<(), ModError> {
    if key.coordinate.ns == game.id() {
        return Ok(());
    }
    Err(ModError::ForeignGame {
        project: key.to_string(),
        found: key.coordinate.ns.clone(),
        game: game.id().to_owned(),
    })
}

/// [`plan_install`], starting from what is already known of some projects.
async fn plan_with(
    folder: &Folder<'_>,
    wants: &[Want],
    opts: &PlanOptions,
    mut catalog: BTreeMap<ModKey, ProjectInfo>,
) -> Result<Plan, ModError> {
    let installed = folder.installed();
    let game = folder.game;
    for w in wants {
        same_game(&w.key, game)?;
    }
    let pins: Vec<EventId> = wants.iter().filter_map(|w| w.pinned.map(|p| p.0)).collect();
    let pinned_events: BTreeMap<EventId, Event> =
        fetch_events(&opts.relays, opts.relay_timeout, &pins)
            .await?
            .into_iter()
            .map(|e| (e.id, e.into_event()))
            .collect();

    let mut chosen: BTreeMap<ModKey, Chosen> = BTreeMap::new();
    let mut optional = Vec::new();
    let mut warnings = Vec::new();
    let mut queue: Vec<(Want, Option<ModKey>, bool)> =
        wants.iter().map(|w| (w.clone(), None, true)).collect();
    let mut rounds = 0;
    while !queue.is_empty() {
        rounds += 1;
        if rounds > 64 {
            return Err(ModError::Unsettled(rounds));
        }
        let missing = queue.iter().map(|(w, _, _)| &w.key);
        fetch_missing(&mut catalog, missing, opts).await?;
        let mut next = Vec::new();
        for (want, by, requested) in std::mem::take(&mut queue) {
            let key = want.key.clone();
            same_game(&key, game)?;
            let info = &catalog[&key];
            let ranges = constraints(&key, &chosen, folder, &installed);
            // Already chosen this run (pinned, or named) and fitting: a dependency changes nothing.
            if want.version.is_none() && want.pinned.is_none() {
                if let Some(c) = chosen.get(&key) {
                    if ranges.iter().all(|(r, _)| r.matches(&c.release.version)) {
                        continue;
                    }
                }
            }
            let current = installed
                .get(&key)
                .and_then(|i| Version::parse(&i.version).ok());
            let asked = Asked {
                want: &want,
                requested,
                current: current.as_ref(),
            };
            let Some((release, event)) =
                release_for(&key, asked, info, &ranges, &pinned_events, folder, opts)?
            else {
                continue;
            };
            warnings.extend(fit_warnings(&key, &release, info, &ranges));
            check_game_version(&key, &release, folder, opts)?;
            if chosen
                .get(&key)
                .is_some_and(|held| held.event.id == event.id)
            {
                continue;
            }
            let (required, suggested) =
                dependencies_to_queue(&key, &release, &chosen, &installed, opts);
            next.extend(required.into_iter().map(|w| (w, Some(key.clone()), false)));
            optional.extend(suggested);
            chosen.insert(
                key,
                Chosen {
                    release,
                    event,
                    required_by: by,
                    requested,
                },
            );
        }
        queue = next;
    }
    if catalog.values().any(|i| i.from_feed) {
        warnings.push(
            "no relay answered: releases and incidents were read from the authors' feeds on the DHT, so incidents signed by others are not shown".into(),
        );
    }
    finish(folder, chosen, Vec::new(), optional, warnings, opts)
}

/// The release to plan for `key` as `asked`: the pinned event, or the version that fits
/// `ranges` best; `None` when nothing needs to change.
fn release_for(
    key: &ModKey,
    asked: Asked<'_>,
    info: &ProjectInfo,
    ranges: &[(VersionReq, String)],
    pinned_events: &BTreeMap<EventId, Event>,
    folder: &Folder<'_>,
    opts: &PlanOptions,
) -> Result<Option<(Release, Event)>, ModError> {
    if let Some((id, infohash)) = &asked.want.pinned {
        // A pin does not outrank the author: a version they withdrew is refused here too.
        let (release, event) = pinned_release(key, id, infohash, pinned_events)?;
        if let Some(b) = info.blocking(&release.version) {
            return Err(blocked(key, &release.version, b, info));
        }
        return Ok(Some((release, event)));
    }
    let Some(version) = version_to_install(key, asked, info, ranges, folder, opts)? else {
        return Ok(None);
    };
    if let Some(b) = info.blocking(&version) {
        return Err(blocked(key, &version, b, info));
    }
    let resolution = info
        .resolve(key, &version)
        .map_err(|source| ModError::Resolve {
            project: key.to_string(),
            source,
        })?;
    Ok(Some((resolution.release, resolution.event)))
}

/// The release a collection pins for `key`: the pinned event, which must be that project's
/// release by its author with the pinned torrent.
fn pinned_release(
    key: &ModKey,
    id: &EventId,
    infohash: &[u8; 20],
    pinned_events: &BTreeMap<EventId, Event>,
) -> Result<(Release, Event), ModError> {
    let refused = |why: String| ModError::Pin {
        release: key.to_string(),
        event_id: id.to_hex(),
        why,
    };
    let e = pinned_events
        .get(id)
        .ok_or_else(|| refused("no relay holds that event".into()))?;
    let r = Release::from_event(e).map_err(|err| refused(err.to_string()))?;
    if r.infohash != *infohash || e.pubkey != key.author || r.coordinate != key.coordinate {
        return Err(refused(
            "that event names another release or torrent".into(),
        ));
    }
    Ok((r, e.clone()))
}

/// One project as the planner meets it: what was asked, whether the player named it, and
/// the version installed now.
struct Asked<'a> {
    want: &'a Want,
    requested: bool,
    current: Option<&'a Version>,
}

/// The version of `key` this plan installs, or `None` when it leaves the project as it is
/// (a dependency already installed and fitting, or an update already at the newest).
fn version_to_install(
    key: &ModKey,
    asked: Asked<'_>,
    info: &ProjectInfo,
    ranges: &[(VersionReq, String)],
    folder: &Folder<'_>,
    opts: &PlanOptions,
) -> Result<Option<Version>, ModError> {
    let Asked {
        want,
        requested,
        current,
    } = asked;
    if let Some(v) = &want.version {
        return Ok(Some(v.clone()));
    }
    let keep = current.filter(|v| {
        !opts.update && ranges.iter().all(|(r, _)| r.matches(v)) && info.blocking(v).is_none()
    });
    match keep {
        // A dependency already installed and fitting stays.
        Some(_) if !requested => Ok(None),
        Some(v) => Ok(Some(v.clone())),
        None => {
            let v = newest_fitting(key, info, ranges, folder, opts)?;
            // Already the newest: an update leaves it alone rather than re-reading its files
            // for a repair check.
            Ok((!(opts.update && current == Some(&v))).then_some(v))
        }
    }
}

/// What the plan should say about `release`: incidents others signed about it (shown, not
/// enforced), and ranges other mods declare that it does not fit.
fn fit_warnings(
    key: &ModKey,
    release: &Release,
    info: &ProjectInfo,
    ranges: &[(VersionReq, String)],
) -> Vec<String> {
    let mut warnings: Vec<String> = info
        .warnings(&release.version)
        .into_iter()
        .map(|w| {
            format!(
                "{} reports an incident on {}@{} (not the author, so not enforced): {}",
                w.signer.to_hex(),
                key,
                release.version,
                w.incident.summary
            )
        })
        .collect();
    if let Some((_, who)) = ranges.iter().find(|(r, _)| !r.matches(&release.version)) {
        warnings.push(format!(
            "{key}@{} does not fit the range {who} declares; that mod may misbehave",
            release.version
        ));
    }
    warnings
}

/// The dependencies of `release` the plan must still look at (required ones not met, and
/// optional ones when asked for), and the optional ones only suggested.
fn dependencies_to_queue(
    key: &ModKey,
    release: &Release,
    chosen: &BTreeMap<ModKey, Chosen>,
    installed: &BTreeMap<ModKey, &Installed>,
    opts: &PlanOptions,
) -> (Vec<Want>, Vec<Suggestion>) {
    let mut wants = Vec::new();
    let mut suggested = Vec::new();
    for d in &release.dependencies {
        let dep = ModKey {
            author: d.author,
            coordinate: d.coordinate.clone(),
        };
        let have = chosen
            .get(&dep)
            .map(|c| c.release.version.clone())
            .or_else(|| {
                installed
                    .get(&dep)
                    .and_then(|i| Version::parse(&i.version).ok())
            });
        let want = || Want {
            key: dep.clone(),
            version: None,
            pinned: None,
        };
        match d.kind {
            DependencyKind::Required if !have.as_ref().is_some_and(|v| d.range.matches(v)) => {
                wants.push(want())
            }
            DependencyKind::Optional if have.is_none() && opts.with_optional => wants.push(want()),
            DependencyKind::Optional if have.is_none() => suggested.push(Suggestion {
                by: key.to_string(),
                project: dep.to_string(),
                versions: d.range.to_string(),
            }),
            _ => {}
        }
    }
    (wants, suggested)
}

fn blocked(key: &ModKey, version: &Version, b: &SignedIncident, info: &ProjectInfo) -> ModError {
    ModError::Blocked {
        release: format!("{key}@{version}"),
        incident: format!(
            "{} incident {:?}: {}",
            b.incident.severity.as_str(),
            b.incident.id,
            b.incident.summary
        ),
        safe: info
            .releases
            .keys()
            .rev()
            .find(|v| info.blocking(v).is_none())
            .map(|v| v.to_string()),
    }
}

/// Plans removing `keys`; refused while another remaining mod requires one of them.
pub fn plan_remove(folder: &Folder<'_>, keys: &[ModKey]) -> Result<Plan, ModError> {
    let installed = folder.installed();
    for k in keys {
        if !installed.contains_key(k) {
            return Err(ModError::NotInstalled(k.to_string()));
        }
    }
    let gone: BTreeSet<String> = keys.iter().map(ModKey::id).collect();
    for k in keys {
        let dependents: Vec<String> = folder
            .state
            .declared
            .iter()
            .filter(|(id, _)| !gone.contains(*id))
            .filter(|(_, deps)| {
                deps.iter()
                    .any(|d| d.kind == DependencyKind::Required && d.project == k.id())
            })
            .map(|(id, _)| ModKey::parse_id(id).map_or(id.clone(), |m| m.to_string()))
            .collect();
        if !dependents.is_empty() {
            return Err(ModError::Required {
                project: k.to_string(),
                dependents,
            });
        }
    }
    finish(
        folder,
        BTreeMap::new(),
        keys.to_vec(),
        Vec::new(),
        Vec::new(),
        &PlanOptions::default(),
    )
}

/// Ranges other mods put on `key`: those being installed, and those installed that stay.
fn constraints(
    key: &ModKey,
    chosen: &BTreeMap<ModKey, Chosen>,
    folder: &Folder<'_>,
    installed: &BTreeMap<ModKey, &Installed>,
) -> Vec<(VersionReq, String)> {
    let mut out = Vec::new();
    for (k, c) in chosen {
        for d in &c.release.dependencies {
            if d.kind == DependencyKind::Required
                && d.author == key.author
                && d.coordinate == key.coordinate
            {
                out.push((d.range.clone(), format!("{k}@{}", c.release.version)));
            }
        }
    }
    for (id, deps) in &folder.state.declared {
        let Some(k) = ModKey::parse_id(id) else {
            continue;
        };
        if chosen.contains_key(&k) || !installed.contains_key(&k) {
            continue;
        }
        for d in deps {
            if d.kind == DependencyKind::Required && d.project == key.id() {
                if let Ok(r) = VersionReq::parse(&d.range) {
                    out.push((r, format!("{k} (installed)")));
                }
            }
        }
    }
    out
}

fn newest_fitting(
    key: &ModKey,
    info: &ProjectInfo,
    ranges: &[(VersionReq, String)],
    folder: &Folder<'_>,
    opts: &PlanOptions,
) -> Result<Version, ModError> {
    if info.releases.is_empty() {
        return Err(ModError::NotFound(key.to_string()));
    }
    let fits = |v: &Version, r: &Release| {
        ranges.iter().all(|(req, _)| req.matches(v))
            && info.blocking(v).is_none()
            && game_version_ok(r, folder, opts)
    };
    // Stable releases first; a prerelease only when nothing stable fits.
    let found = info
        .releases
        .iter()
        .rev()
        .find(|(v, (r, _))| v.pre.is_empty() && fits(v, r))
        .or_else(|| info.releases.iter().rev().find(|(v, (r, _))| fits(v, r)));
    if let Some((v, _)) = found {
        return Ok(v.clone());
    }
    // When only the game version stands in the way, say so with what the newest release supports.
    let ignoring_game =
        info.releases.iter().rev().find(|(v, _)| {
            ranges.iter().all(|(req, _)| req.matches(v)) && info.blocking(v).is_none()
        });
    if let Some((_, (r, _))) = ignoring_game {
        check_game_version(key, r, folder, opts)?;
    }
    let mut why: Vec<String> = ranges
        .iter()
        .map(|(r, who)| format!("{who} needs {r}"))
        .collect();
    for v in info.releases.keys() {
        if let Some(b) = info.blocking(v) {
            why.push(format!("{v} is withdrawn ({})", b.incident.summary));
        }
    }
    if let (Some(gv), false) = (&folder.state.game_version, opts.any_game_version) {
        why.push(format!("game version {gv}"));
    }
    why.push(format!(
        "versions held: {}",
        info.releases
            .keys()
            .map(|v| v.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    ));
    Err(ModError::NoVersion {
        project: key.to_string(),
        why,
    })
}

fn game_version_ok(r: &Release, folder: &Folder<'_>, opts: &PlanOptions) -> bool {
    opts.any_game_version
        || folder
            .state
            .game_version
            .as_ref()
            .is_none_or(|gv| r.supports_game_version(gv))
}

fn check_game_version(
    key: &ModKey,
    r: &Release,
    folder: &Folder<'_>,
    opts: &PlanOptions,
) -> Result<(), ModError> {
    if game_version_ok(r, folder, opts) {
        return Ok(());
    }
    Err(ModError::GameVersion {
        project: key.to_string(),
        version: r.version.to_string(),
        game_version: folder.state.game_version.clone().unwrap_or_default(),
        supported: r.game_versions.clone(),
    })
}

/// A mod of the folder after the change: its version, files and declared dependencies.
struct Final<'r> {
    version: Version,
    files: Vec<&'r str>,
    declared: Vec<DeclaredDependency>,
}

/// Checks the result as a whole and turns it into actions, a new state and a new load order.
fn finish(
    folder: &Folder<'_>,
    chosen: BTreeMap<ModKey, Chosen>,
    removed: Vec<ModKey>,
    optional: Vec<Suggestion>,
    mut warnings: Vec<String>,
    opts: &PlanOptions,
) -> Result<Plan, ModError> {
    let result = resulting_mods(folder, &chosen, &removed)?;
    warnings.extend(check_dependencies(&result)?);
    check_files(folder, &chosen, &result)?;
    let order = dependency_order(&result);
    let actions = plan_actions(folder, &chosen, &removed, &order, opts)?;
    let state = next_state(folder, &chosen, &removed, &result, &order, opts);
    Ok(Plan {
        game: folder.game.id().to_owned(),
        load_order: state.load_order.clone(),
        previous_load_order: folder.state.load_order.clone(),
        actions,
        optional,
        warnings,
        state,
        lock: folder.lock.clone(),
    })
}

/// Every mod the folder holds once the plan is applied: those kept as they are, and the
/// chosen releases (each checked against the game's file rules).
fn resulting_mods<'c>(
    folder: &'c Folder<'_>,
    chosen: &'c BTreeMap<ModKey, Chosen>,
    removed: &[ModKey],
) -> Result<BTreeMap<ModKey, Final<'c>>, ModError> {
    let mut result: BTreeMap<ModKey, Final<'_>> = BTreeMap::new();
    for (k, i) in folder.installed() {
        if removed.contains(&k) || chosen.contains_key(&k) {
            continue;
        }
        let declared = folder
            .state
            .declared
            .get(&k.id())
            .cloned()
            .unwrap_or_default();
        result.insert(
            k,
            Final {
                version: Version::parse(&i.version).unwrap_or(Version::new(0, 0, 0)),
                files: i.files.iter().map(|f| f.path.as_str()).collect(),
                declared,
            },
        );
    }
    for (k, c) in chosen {
        let refused = check_paths(folder.game, c.release.files.iter().map(|f| f.path.as_str()));
        if let Err(refused) = refused {
            return Err(ModError::Rules {
                project: k.to_string(),
                version: c.release.version.to_string(),
                refused,
            });
        }
        result.insert(
            k.clone(),
            Final {
                version: c.release.version.clone(),
                files: c.release.files.iter().map(|f| f.path.as_str()).collect(),
                declared: declared_of(&c.release),
            },
        );
    }
    Ok(result)
}

/// Requirements and incompatibilities across the whole result: an incompatibility refuses
/// the plan, a requirement not met is a warning.
fn check_dependencies(result: &BTreeMap<ModKey, Final<'_>>) -> Result<Vec<String>, ModError> {
    let mut warnings = Vec::new();
    for (k, f) in result {
        for d in &f.declared {
            let Some(dep) = ModKey::parse_id(&d.project) else {
                continue;
            };
            let Ok(range) = VersionReq::parse(&d.range) else {
                continue;
            };
            let have = result.get(&dep).map(|x| &x.version);
            match (d.kind, have) {
                (DependencyKind::Incompatible, Some(v)) if range.matches(v) => {
                    return Err(ModError::Incompatible {
                        a: format!("{k}@{}", f.version),
                        b: format!("{dep}@{v}"),
                        range: d.range.clone(),
                    });
                }
                (DependencyKind::Required, None) => {
                    warnings.push(format!(
                        "{k} requires {dep} {range}, which is not installed"
                    ));
                }
                _ => {}
            }
        }
    }
    Ok(warnings)
}

/// Files: every path has one owner, and nothing unmanaged is overwritten.
fn check_files(
    folder: &Folder<'_>,
    chosen: &BTreeMap<ModKey, Chosen>,
    result: &BTreeMap<ModKey, Final<'_>>,
) -> Result<(), ModError> {
    let mut owner: BTreeMap<&str, &ModKey> = BTreeMap::new();
    let mut conflicts = Vec::new();
    for (k, f) in result {
        for p in &f.files {
            if let Some(other) = owner.insert(p, k) {
                conflicts.push((p.to_string(), other.to_string(), k.to_string()));
            }
        }
    }
    if !conflicts.is_empty() {
        return Err(ModError::Conflicts(conflicts));
    }
    let owned_before: BTreeSet<&str> = folder
        .lock
        .installs
        .iter()
        .flat_map(|i| i.files.iter().map(|f| f.path.as_str()))
        .collect();
    for c in chosen.values() {
        for f in &c.release.files {
            if !owned_before.contains(f.path.as_str())
                && std::fs::symlink_metadata(folder.root.join(&f.path)).is_ok()
            {
                return Err(ModError::Unmanaged {
                    path: f.path.clone(),
                });
            }
        }
    }
    Ok(())
}

/// The actions, removals first, then installs in dependency order; a release already in
/// place and intact is left out, an older one refused unless downgrades are allowed.
fn plan_actions(
    folder: &Folder<'_>,
    chosen: &BTreeMap<ModKey, Chosen>,
    removed: &[ModKey],
    order: &[ModKey],
    opts: &PlanOptions,
) -> Result<Vec<Action>, ModError> {
    let installed = folder.installed();
    let mut actions = Vec::new();
    for k in removed {
        actions.push(Action {
            key_id: k.id(),
            project: k.to_string(),
            action: ActionKind::Remove,
            from: installed.get(k).map(|i| i.version.clone()),
            to: None,
            required_by: None,
            key: Some(k.clone()),
            release: None,
            event: None,
        });
    }
    for k in order.iter().filter(|k| chosen.contains_key(*k)) {
        let c = &chosen[k];
        let from = installed.get(k).map(|i| i.version.clone());
        let kind = match from.as_deref().map(Version::parse) {
            None => ActionKind::Install,
            Some(Ok(v)) if v == c.release.version => {
                let intact = c
                    .release
                    .files
                    .iter()
                    .all(|f| check_file(&folder.root.join(&f.path), &f.sha256, f.size).is_ok());
                if intact && installed[k].event_id == c.event.id.to_hex() {
                    continue;
                }
                ActionKind::Repair
            }
            Some(Ok(v)) if v > c.release.version => {
                if !opts.allow_downgrade {
                    return Err(ModError::Downgrade {
                        project: k.to_string(),
                        installed: v.to_string(),
                        chosen: c.release.version.to_string(),
                    });
                }
                ActionKind::Downgrade
            }
            _ => ActionKind::Upgrade,
        };
        actions.push(Action {
            key_id: k.id(),
            project: k.to_string(),
            action: kind,
            from,
            to: Some(c.release.version.to_string()),
            required_by: c.required_by.as_ref().map(ModKey::to_string),
            key: Some(k.clone()),
            release: Some(c.release.clone()),
            event: Some(c.event.clone()),
        });
    }
    Ok(actions)
}

/// The folder's game state once the plan is applied, with its load order.
fn next_state(
    folder: &Folder<'_>,
    chosen: &BTreeMap<ModKey, Chosen>,
    removed: &[ModKey],
    result: &BTreeMap<ModKey, Final<'_>>,
    order: &[ModKey],
    opts: &PlanOptions,
) -> GameState {
    let game = folder.game;
    let mut state = folder.state.clone();
    state.game = game.id().to_owned();
    for k in removed {
        state.requested.remove(&k.id());
        state.declared.remove(&k.id());
    }
    for (k, c) in chosen {
        if c.requested {
            state.requested.insert(k.id());
        }
        state.declared.insert(k.id(), declared_of(&c.release));
    }
    if let Some(c) = &opts.collection {
        state.collection = Some(c.clone());
    }
    let plugins_by_mod: Vec<Vec<(String, bool)>> = order
        .iter()
        .map(|k| {
            let mut mine: Vec<(String, bool)> = result[k]
                .files
                .iter()
                .filter_map(|p| match game.check_path(p) {
                    Ok(FileRole::Plugin { master }) => {
                        Some((p.rsplit('/').next().unwrap_or(p).to_owned(), master))
                    }
                    _ => None,
                })
                .collect();
            mine.sort();
            mine
        })
        .collect();
    let start = opts
        .load_order
        .clone()
        .unwrap_or_else(|| state.load_order.clone());
    state.load_order = order_plugins(&start, &plugins_by_mod);
    state
}

/// The mods of the result, each after the mods it requires or may use.
fn dependency_order(result: &BTreeMap<ModKey, Final<'_>>) -> Vec<ModKey> {
    topological(result.keys().cloned().collect(), |k| {
        result[k]
            .declared
            .iter()
            .filter(|d| d.kind != DependencyKind::Incompatible)
            .filter_map(|d| ModKey::parse_id(&d.project))
            .filter(|d| result.contains_key(d))
            .collect()
    })
}

fn topological(keys: Vec<ModKey>, deps: impl Fn(&ModKey) -> Vec<ModKey>) -> Vec<ModKey> {
    fn visit(
        k: &ModKey,
        deps: &dyn Fn(&ModKey) -> Vec<ModKey>,
        seen: &mut BTreeSet<ModKey>,
        out: &mut Vec<ModKey>,
    ) {
        if !seen.insert(k.clone()) {
            return;
        }
        for d in deps(k) {
            visit(&d, deps, seen, out);
        }
        out.push(k.clone());
    }
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    for k in &keys {
        visit(k, &deps, &mut seen, &mut out);
    }
    out
}
