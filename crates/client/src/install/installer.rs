//! `install`: from a target to verified files in an install root, atomically.
//!
//! Resolve on relays → refuse downgrades, republished versions and files another install (or
//! nobody) owns → fetch into `.seedstr/staging/<infohash>/` from the swarm, falling back to web
//! mirrors → check every file's size and SHA-256 against the signed manifest → one transaction
//! moves them into place and commits the lockfile. The staging folder outlives a failed run, so
//! the next run resumes where this one stopped.

use std::collections::{BTreeSet, HashMap};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use nostr::prelude::ToBech32;
use seedstr_proto::release::{Release, Version};
use seedstr_swarm::{create, FileDigest, Progress, Sources, Swarm};

use super::lockfile::{Installed, Lockfile, LockfileError};
use super::mirror::{MirrorFailure, Mirrors};
use super::transaction::{commit, recover, Change, TransactionError, STATE_DIR};
use super::verify::{check_digest, check_file, FileProblem};
use crate::feed::ResolveOptions;
use crate::files::blocking::off_runtime;
use crate::files::lock::{log_wait, FolderLock};
use crate::relays::list_failures;
use crate::resolve::dht::{resolve_on_dht, DhtResolveError};
use crate::resolve::target::Target;
use crate::resolve::{resolve, Chain, Rejected, Resolution, ResolveError};
use crate::seeding::registry::{Origin, SeedEntry, SeedRegistry, SeedsError};
use seedstr_dht::{DhtNode, DhtOptions};

const STAGING: &str = "staging";

/// The largest release an install fetches unless told otherwise: 64 GiB. A release declares
/// its size, so a larger one is refused before any byte is fetched.
pub const DEFAULT_MAX_RELEASE_BYTES: u64 = 64 << 30;

/// How to install: where to ask and what to allow.
#[derive(Debug, Clone)]
pub struct InstallOptions {
    /// Relay URLs to ask.
    pub relays: Vec<String>,
    /// How long to wait for each relay.
    pub relay_timeout: Duration,
    /// Install an older version than the one installed.
    pub allow_downgrade: bool,
    /// Peers to try besides the DHT and the release's trackers.
    pub peers: Vec<SocketAddr>,
    /// How long the swarm may go without delivering metadata or a verified byte before the
    /// mirrors take over.
    pub stall_timeout: Duration,
    /// `$SEEDSTR_HOME`, where attestations seen before are kept.
    pub home: PathBuf,
    /// How to join the Mainline DHT, to find a release's peers and, when no relay answers, the
    /// author's records; `None`: no DHT.
    pub dht: Option<DhtOptions>,
    /// A DHT node this process already runs (a node's, a seeder's), used instead of joining
    /// a second one.
    pub dht_node: Option<DhtNode>,
    /// The largest release (sum of its signed file sizes) to fetch; see
    /// [`DEFAULT_MAX_RELEASE_BYTES`].
    pub max_release_bytes: u64,
}

/// Registers what `report` installed into `root` for seeding from there (when the torrent is
/// known: an install from mirrors alone has none to serve).
pub fn register_for_seeding(
    home: &Path,
    root: &Path,
    report: &InstallReport,
) -> Result<(), SeedsError> {
    match &report.torrent_file {
        Some(torrent) => register_installed(
            home,
            root,
            &report.infohash,
            &format!("{}@{}", report.coordinate, report.version),
            torrent,
        ),
        None => Ok(()),
    }
}

/// Registers the release `release` (`<ns>.<slug>@<version>`) installed into `root` for
/// seeding from there.
pub fn register_installed(
    home: &Path,
    root: &Path,
    infohash: &str,
    release: &str,
    torrent: &[u8],
) -> Result<(), SeedsError> {
    SeedRegistry::new(home).add(
        &SeedEntry {
            infohash: infohash.to_owned(),
            release: release.to_owned(),
            dir: std::fs::canonicalize(root).unwrap_or(root.to_path_buf()),
            origin: Origin::Installed,
            trackers: vec![],
        },
        torrent,
    )
}

/// How long a fetch waits for the DHT's first peers: briefly when peers or trackers are
/// known anyway, longer when the DHT is the only way to a seeder.
const DHT_PEERS_BESIDE: Duration = Duration::from_secs(3);
const DHT_PEERS_ALONE: Duration = Duration::from_secs(15);

/// Peers the DHT knows for `release`, through the process's node or one joined for it.
async fn dht_peers_for(
    opts: &InstallOptions,
    release: &Release,
    wait: Duration,
) -> Vec<SocketAddr> {
    let node = match (&opts.dht_node, &opts.dht) {
        (Some(node), _) => node.clone(),
        (None, Some(dht)) => match DhtNode::join(dht).await {
            Ok(node) => node,
            Err(e) => {
                tracing::debug!("no DHT peers: joining the DHT: {e}");
                return Vec::new();
            }
        },
        (None, None) => return Vec::new(),
    };
    node.first_peers(&release.infohash, wait).await
}

/// What an install is doing, for progress displays.
#[derive(Debug, Clone)]
pub enum Step {
    /// The release was chosen.
    Resolved {
        /// The release, as `namespace/slug@version`.
        release: String,
        /// The event's id (hex).
        event_id: String,
        /// The payload's size.
        total_bytes: u64,
    },
    /// Peers sent the torrent; the download starts.
    Metadata {
        /// Peers known when the torrent arrived.
        peers: usize,
    },
    /// Bytes arriving, from the swarm or a mirror.
    Transfer {
        /// Bytes so far.
        progress: Progress,
        /// Whether the bytes come from a web mirror.
        from_mirror: bool,
    },
    /// The swarm did not deliver; mirrors take over for the rest.
    MirrorFallback {
        /// Why, in words.
        reason: String,
    },
    /// The files are being checked against the manifest.
    Verifying,
}

/// What an install did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Nothing of the project was installed before.
    Installed,
    /// An older version was replaced.
    Upgraded,
    /// A newer version was replaced, as asked.
    Downgraded,
    /// The same release was already installed and its files were intact.
    AlreadyInstalled,
    /// The same release was installed but files had changed; they were put back.
    Repaired,
}

/// What an install did, where the release came from and what was refused on the way.
#[derive(Debug, serde::Serialize)]
pub struct InstallReport {
    /// The author's public key (hex).
    pub author: String,
    /// The project, as `namespace/slug`.
    pub coordinate: String,
    /// The release's version.
    pub version: String,
    /// The event's id (hex).
    pub event_id: String,
    /// The payload's BitTorrent info hash (hex).
    pub infohash: String,
    /// What the install did.
    pub outcome: Outcome,
    /// The version replaced, if any.
    pub previous: Option<String>,
    /// Number of files.
    pub files: usize,
    /// Bytes installed.
    pub bytes: u64,
    /// Bytes that came from peers in this run (a resumed run counts only the rest).
    pub swarm_bytes: u64,
    /// Bytes that came from web mirrors in this run.
    pub mirror_bytes: u64,
    /// How the chosen release links to those it supersedes.
    pub chain: Chain,
    /// Candidates refused, each with the reason.
    pub rejected: Vec<Rejected>,
    /// Relays that answered.
    pub relays_answered: Vec<String>,
    /// Relays that did not answer, each with the error.
    pub relays_failed: Vec<(String, String)>,
    /// Relays that answered without the release chosen, which others hold: stale or hiding.
    pub stale_relays: Vec<String>,
    /// `relays`, or `dht` when no relay answered and the author's DHT records were used.
    pub resolved_via: &'static str,
    /// The torrent, when known, so the caller can keep seeding the installed files.
    #[serde(skip)]
    pub torrent_file: Option<Vec<u8>>,
}

/// Why an install failed; nothing was changed in the install root.
#[derive(Debug, thiserror::Error)]
pub enum InstallError {
    /// No release could be chosen from the relays.
    #[error(transparent)]
    Resolve(#[from] ResolveError),
    /// No relay answered and the DHT fallback failed too.
    #[error("no relay answered ({}), and the DHT fallback failed: {source}", list_failures(.relays))]
    Dht {
        /// Relay URLs to ask.
        relays: Vec<(String, String)>,
        /// The underlying error.
        source: DhtResolveError,
    },
    /// The lockfile could not be read or written.
    #[error(transparent)]
    Lockfile(#[from] LockfileError),
    /// The version asked for is withdrawn by its author.
    #[error("{release} is {why}; nothing was installed")]
    Withdrawn {
        /// The release's `d` tag.
        release: String,
        /// The incident, in words.
        why: String,
    },
    /// The install folder's lock could not be taken.
    #[error(transparent)]
    FolderLock(#[from] crate::files::lock::FolderLockError),
    /// Applying the files failed and was rolled back.
    #[error(transparent)]
    Transaction(#[from] TransactionError),
    /// The chosen version is older than the installed one.
    #[error("{chosen} is older than the installed {installed}; pass --allow-downgrade to install it anyway")]
    Downgrade {
        /// The version installed.
        installed: Version,
        /// The version chosen.
        chosen: Version,
    },
    /// The installed version's event was replaced by another.
    #[error("release {version} changed after you installed it (installed event {installed_event}, relays now hold event {event}); a published version must never change, so this is refused")]
    Republished {
        /// The release's version.
        version: Version,
        /// The event installed.
        installed_event: String,
        /// The event the relays hold now.
        event: String,
    },
    /// The chain of the new version does not lead to what was installed.
    #[error("the supersedes chain of {version} names event {claimed} for {installed}, but you installed {installed} as event {held}; refusing a forked history")]
    ForkFromInstalled {
        /// The release's version.
        version: String,
        /// The version installed.
        installed: String,
        /// The event id the chain claims.
        claimed: String,
        /// The event installed for that version.
        held: String,
    },
    /// A file would overwrite another project's file.
    #[error("the release would write {path:?}, which belongs to {owner}")]
    OwnedByOther {
        /// The file concerned.
        path: String,
        /// The project that owns it.
        owner: String,
    },
    /// A file would overwrite a file Seedstr did not install.
    #[error(
        "{path:?} already exists in the install folder and no install owns it; move it away first"
    )]
    Unmanaged {
        /// The file concerned.
        path: String,
    },
    /// The release names a file Seedstr keeps for itself.
    #[error("the release lists {path:?}, a name Seedstr keeps for its own state")]
    Reserved {
        /// The file concerned.
        path: String,
    },
    /// The torrent peers sent does not match the manifest.
    #[error("the torrent peers sent for {infohash} does not match the signed manifest: {why}")]
    TorrentMismatch {
        /// The payload's BitTorrent info hash (hex).
        infohash: String,
        /// Why, in words.
        why: String,
    },
    /// A file's bytes do not match the manifest.
    #[error("wrong bytes for {path:?} from {from}: {problem}; nothing was installed")]
    WrongBytes {
        /// The file concerned.
        path: String,
        /// Where the bytes came from.
        from: String,
        /// What is wrong with the file.
        problem: FileProblem,
    },
    /// The release declares more bytes than this install may fetch.
    #[error("{release} declares {declared} bytes ({}), more than the {cap}-byte cap ({}); nothing was fetched. Raise the cap (--max-release-bytes, or max_release_bytes in the node's [packages]) to install it", crate::display::human_bytes(*.declared), crate::display::human_bytes(*.cap))]
    TooLarge {
        /// The release's `d` tag.
        release: String,
        /// The sum of its signed file sizes.
        declared: u64,
        /// The cap in force.
        cap: u64,
    },
    /// The swarm stalled and the release names no mirror.
    #[error("the swarm did not deliver ({reason}); incomplete: {}; the release names no mirror. Run again to resume", incomplete.join(", "))]
    Stalled {
        /// Why, in words.
        reason: String,
        /// Files not complete.
        incomplete: Vec<String>,
    },
    /// The swarm stalled and no mirror delivered.
    #[error("the swarm did not deliver ({reason}), nor did the mirrors: {}", list_mirror_failures(.failures))]
    MirrorsFailed {
        /// Why, in words.
        reason: String,
        /// Each mirror failure.
        failures: Vec<MirrorFailure>,
    },
    /// A mirror sent bytes that do not match the manifest.
    #[error("wrong bytes for {path:?}: {0}; nothing was installed", path = .0.path)]
    MirrorWrongBytes(MirrorFailure),
    /// The lockfile's version is not semantic versioning.
    #[error("the lockfile records version {0:?}, which is not semantic versioning; fix or remove that entry")]
    LockedVersion(String),
    /// The BitTorrent session failed.
    #[error("the BitTorrent session failed: {0}")]
    Swarm(String),
    /// A local file operation failed.
    #[error("{what} {path}: {source}")]
    Io {
        /// What was being done ("reading", "renaming", …).
        what: &'static str,
        /// The file concerned.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
}

fn list_mirror_failures(f: &[MirrorFailure]) -> String {
    f.iter()
        .map(|m| m.to_string())
        .collect::<Vec<_>>()
        .join("; ")
}

fn io<'a>(what: &'static str, path: &'a Path) -> impl FnOnce(std::io::Error) -> InstallError + 'a {
    move |source| InstallError::Io {
        what,
        path: path.to_owned(),
        source,
    }
}

/// The release `target` names, from the relays, or from the author's DHT records when no
/// relay answers (with the peers the DHT named on the way).
async fn resolve_for_install(
    swarm: &Swarm,
    target: &Target,
    opts: &InstallOptions,
) -> Result<(Resolution, Vec<SocketAddr>), InstallError> {
    Ok(
        match resolve(target, &opts.relays, opts.relay_timeout).await {
            Err(ResolveError::NoRelay(failed)) if opts.dht.is_some() => {
                let feed_opts = ResolveOptions {
                    relays: opts.relays.clone(),
                    relay_timeout: opts.relay_timeout,
                    peers: opts.peers.clone(),
                    stall: opts.stall_timeout,
                };
                let dht_opts = opts.dht.as_ref().expect("checked");
                let found = resolve_on_dht(&opts.home, swarm, dht_opts, target, &feed_opts)
                    .await
                    .map_err(|source| InstallError::Dht {
                        relays: failed.clone(),
                        source,
                    })?;
                let mut resolution = found.resolution;
                resolution.relays_failed = failed;
                resolution.via_dht = true;
                (resolution, found.peers)
            }
            r => (r?, Vec::new()),
        },
    )
}

/// Moves the staged files into `root` and records `installed` in the lockfile, in one
/// transaction; files of `previous` the new release lacks are removed.
fn commit_staged(
    root: &Path,
    lock: Lockfile,
    staging: &Path,
    previous: Option<&Installed>,
    installed: Installed,
) -> Result<(), InstallError> {
    let new_paths: BTreeSet<&str> = installed.files.iter().map(|f| f.path.as_str()).collect();
    let change = Change {
        place: installed
            .files
            .iter()
            .map(|f| (f.path.clone(), staging.join(&f.path)))
            .collect(),
        remove: previous
            .iter()
            .flat_map(|p| p.files.iter())
            .filter(|f| !new_paths.contains(f.path.as_str()))
            .map(|f| f.path.clone())
            .collect(),
    };
    let mut new_lock = lock;
    new_lock.upsert(installed);
    commit(root, &change, new_lock)?;
    Ok(())
}

/// Installs `target` into `root`, fetching through `swarm`.
pub async fn install(
    swarm: &Swarm,
    root: &Path,
    target: &Target,
    opts: &InstallOptions,
    on_step: &(dyn Fn(Step) + Sync),
) -> Result<InstallReport, InstallError> {
    std::fs::create_dir_all(root).map_err(io("creating", root))?;
    // One writer per folder, from the first read of the lockfile to the commit.
    let _folder = FolderLock::acquire_async(root.to_owned(), log_wait).await?;
    let lock = {
        let root = root.to_owned();
        off_runtime(move || {
            recover(&root)?;
            Ok::<_, InstallError>(Lockfile::load(&root)?)
        })
        .await?
    };
    let (resolution, dht_peers) = resolve_for_install(swarm, target, opts).await?;
    let release = &resolution.release;
    if let Some(incident) = &resolution.withdrawn_by {
        return Err(InstallError::Withdrawn {
            release: release.d(),
            why: crate::resolve::withdrawal(incident),
        });
    }
    let event_id = resolution.event.id.to_hex();
    on_step(Step::Resolved {
        release: release.d(),
        event_id: event_id.clone(),
        total_bytes: release.total_size(),
    });

    let author = target.author.to_hex();
    let coordinate = target.coordinate.to_string();
    let previous = lock
        .installs
        .iter()
        .find(|i| i.author == author && i.coordinate == coordinate)
        .cloned();
    let outcome = match judge_previous(previous.as_ref(), &resolution, opts.allow_downgrade)? {
        Outcome::AlreadyInstalled if all_files_intact(root, release).await => {
            return Ok(report(
                &resolution,
                Outcome::AlreadyInstalled,
                previous,
                0,
                0,
                None,
            ));
        }
        // The same release with a changed or missing file: put it back.
        Outcome::AlreadyInstalled => Outcome::Repaired,
        outcome => outcome,
    };
    check_ownership(root, &lock, release, &author, &coordinate)?;

    let staged = stage_release(swarm, root, release, opts, &dht_peers, on_step).await?;
    let staging = staged.dir.clone();
    let torrent_file = staged.torrent_file.clone();

    let installed = Installed::of(&target.author, release, &resolution.event.id);
    {
        let (root, staging, previous) = (root.to_owned(), staging.clone(), previous.clone());
        off_runtime(move || {
            commit_staged(&root, lock, &staging, previous.as_ref(), installed)?;
            // Only leftovers remain (empty folders); the install is already committed.
            let _ = std::fs::remove_dir_all(&staging);
            Ok::<_, InstallError>(())
        })
        .await?;
    }
    Ok(report(
        &resolution,
        outcome,
        previous,
        staged.swarm_bytes,
        staged.mirror_bytes,
        torrent_file,
    ))
}

/// A release's files, fetched and verified, waiting in the root's staging folder.
#[derive(Debug)]
pub struct Staged {
    /// The staging folder.
    pub dir: PathBuf,
    /// The torrent, when known, for seeding the installed files.
    pub torrent_file: Option<Vec<u8>>,
    /// Bytes that came from peers in this run.
    pub swarm_bytes: u64,
    /// Bytes that came from web mirrors in this run.
    pub mirror_bytes: u64,
}

/// Fetches `release` into `<root>/.seedstr/staging/<infohash>/` (from the swarm, then mirrors)
/// and checks every file's size and SHA-256 against the signed manifest. A failed run leaves
/// what it verified for the next run to resume from; wrong bytes never stay.
pub async fn stage_release(
    swarm: &Swarm,
    root: &Path,
    release: &Release,
    opts: &InstallOptions,
    extra_peers: &[SocketAddr],
    on_step: &(dyn Fn(Step) + Sync),
) -> Result<Staged, InstallError> {
    if release.total_size() > opts.max_release_bytes {
        return Err(InstallError::TooLarge {
            release: release.d(),
            declared: release.total_size(),
            cap: opts.max_release_bytes,
        });
    }
    let staging = root
        .join(STATE_DIR)
        .join(STAGING)
        .join(release.infohash_hex());
    std::fs::create_dir_all(&staging).map_err(io("creating", &staging))?;
    let fetched = fetch(swarm, &staging, release, opts, extra_peers, on_step).await?;

    on_step(Step::Verifying);
    {
        let (staging, files, digests, from) = (
            staging.clone(),
            release.files.clone(),
            fetched.digests.clone(),
            fetched.source(),
        );
        off_runtime(move || verify_staged(&staging, &files, &digests, from)).await?;
    }
    // Mirror-only installs have no torrent from peers; ours is deterministic, so rebuild it and
    // keep it only if it is the very torrent the release names.
    let torrent_file = match fetched.torrent_file.clone() {
        Some(t) => Some(t),
        None => {
            let (staging, release) = (staging.clone(), release.clone());
            off_runtime(move || {
                create(&staging, &release.torrent_name)
                    .ok()
                    .filter(|t| t.info_hash == release.infohash)
                    .map(|t| t.to_file_bytes(&release.trackers))
            })
            .await
        }
    };

    Ok(Staged {
        dir: staging,
        torrent_file,
        swarm_bytes: fetched.swarm_bytes,
        mirror_bytes: fetched.mirror_bytes,
    })
}

/// Checks every staged file's size and SHA-256 against the signed manifest (with the digests
/// taken while they arrived, where there are some). Wrong bytes are deleted, so a resumed run
/// never keeps them.
fn verify_staged(
    staging: &Path,
    files: &[seedstr_proto::release::ReleaseFile],
    digests: &HashMap<String, FileDigest>,
    from: String,
) -> Result<(), InstallError> {
    for f in files {
        let at = staging.join(&f.path);
        if f.size == 0 && !at.exists() {
            // Zero-length files carry no pieces, so peers never write them.
            if let Some(parent) = at.parent() {
                std::fs::create_dir_all(parent).map_err(io("creating", parent))?;
            }
            std::fs::File::create(&at).map_err(io("creating", &at))?;
        }
        let checked = match digests.get(&f.path) {
            Some(digest) => check_digest(&at, digest, &f.sha256, f.size),
            None => check_file(&at, &f.sha256, f.size),
        };
        if let Err(problem) = checked {
            let _ = std::fs::remove_file(&at);
            return Err(InstallError::WrongBytes {
                path: f.path.clone(),
                from,
                problem,
            });
        }
    }
    Ok(())
}

/// Whether every file of `release` is in `root` as signed (hashed off the runtime).
async fn all_files_intact(root: &Path, release: &Release) -> bool {
    let (root, files) = (root.to_owned(), release.files.clone());
    off_runtime(move || {
        files
            .iter()
            .all(|f| check_file(&root.join(&f.path), &f.sha256, f.size).is_ok())
    })
    .await
}

fn report(
    resolution: &Resolution,
    outcome: Outcome,
    previous: Option<Installed>,
    swarm_bytes: u64,
    mirror_bytes: u64,
    torrent_file: Option<Vec<u8>>,
) -> InstallReport {
    let r = &resolution.release;
    InstallReport {
        author: resolution
            .event
            .pubkey
            .to_bech32()
            .unwrap_or_else(|_| resolution.event.pubkey.to_hex()),
        coordinate: r.coordinate.to_string(),
        version: r.version.to_string(),
        event_id: resolution.event.id.to_hex(),
        infohash: r.infohash_hex(),
        outcome,
        previous: previous
            .filter(|p| p.version != r.version.to_string())
            .map(|p| p.version),
        files: r.files.len(),
        bytes: r.total_size(),
        swarm_bytes,
        mirror_bytes,
        chain: resolution.chain.clone(),
        rejected: resolution.rejected.clone(),
        relays_answered: resolution.relays_answered.clone(),
        relays_failed: resolution.relays_failed.clone(),
        stale_relays: resolution.stale_relays.clone(),
        resolved_via: if resolution.via_dht { "dht" } else { "relays" },
        torrent_file,
    }
}

/// Compares the chosen release with what the lockfile holds for the same project.
fn judge_previous(
    previous: Option<&Installed>,
    resolution: &Resolution,
    allow_downgrade: bool,
) -> Result<Outcome, InstallError> {
    let Some(prev) = previous else {
        return Ok(Outcome::Installed);
    };
    let chosen = &resolution.release.version;
    let event_id = resolution.event.id.to_hex();
    let installed = Version::parse(&prev.version)
        .map_err(|_| InstallError::LockedVersion(prev.version.clone()))?;
    if installed == *chosen {
        if prev.event_id != event_id {
            return Err(InstallError::Republished {
                version: installed,
                installed_event: prev.event_id.clone(),
                event: event_id,
            });
        }
        return Ok(Outcome::AlreadyInstalled);
    }
    if let Some((_, claimed)) = resolution.chain.links.iter().find(|(v, _)| *v == installed) {
        if *claimed != prev.event_id {
            return Err(InstallError::ForkFromInstalled {
                version: chosen.to_string(),
                installed: installed.to_string(),
                claimed: claimed.clone(),
                held: prev.event_id.clone(),
            });
        }
    }
    if *chosen < installed {
        // Moving off a version its author withdrew is the point of the incident.
        let r = &resolution.release;
        let installed_withdrawn = seedstr_proto::incident::withdrawing(
            &resolution.incidents,
            &resolution.event.pubkey,
            &r.coordinate,
            &installed,
        )
        .is_some();
        if !allow_downgrade && !installed_withdrawn {
            return Err(InstallError::Downgrade {
                installed,
                chosen: chosen.clone(),
            });
        }
        return Ok(Outcome::Downgraded);
    }
    Ok(Outcome::Upgraded)
}

/// Refuses paths Seedstr keeps for itself, files other installs own, and files nobody owns.
fn check_ownership(
    root: &Path,
    lock: &Lockfile,
    release: &Release,
    author: &str,
    coordinate: &str,
) -> Result<(), InstallError> {
    for f in &release.files {
        let first = f.path.split('/').next().unwrap_or_default();
        if first == STATE_DIR || f.path == super::lockfile::LOCKFILE {
            return Err(InstallError::Reserved {
                path: f.path.clone(),
            });
        }
        match lock.owner_of(&f.path) {
            Some(owner) if owner.author == author && owner.coordinate == coordinate => {}
            Some(owner) => {
                return Err(InstallError::OwnedByOther {
                    path: f.path.clone(),
                    owner: format!("{}@{} by {}", owner.coordinate, owner.version, owner.author),
                })
            }
            None => {
                if std::fs::symlink_metadata(root.join(&f.path)).is_ok() {
                    return Err(InstallError::Unmanaged {
                        path: f.path.clone(),
                    });
                }
            }
        }
    }
    Ok(())
}

/// What the fetch phase brought.
struct Fetched {
    torrent_file: Option<Vec<u8>>,
    /// SHA-256 of files already read, by path: taken while they streamed in from the swarm, or
    /// checked when the mirror fallback looked at them. Files missing here (hashing stopped)
    /// are read again to check them.
    digests: HashMap<String, FileDigest>,
    swarm_bytes: u64,
    mirror_bytes: u64,
}

impl Fetched {
    fn source(&self) -> String {
        match (self.swarm_bytes > 0, self.mirror_bytes > 0) {
            (_, false) => "the swarm".into(),
            (false, true) => "a mirror".into(),
            (true, true) => "the swarm and a mirror".into(),
        }
    }
}

/// Fills `staging` with the release's files: from the swarm, then mirrors for what it lacks.
async fn fetch(
    swarm: &Swarm,
    staging: &Path,
    release: &Release,
    opts: &InstallOptions,
    dht_peers: &[SocketAddr],
    on_step: &(dyn Fn(Step) + Sync),
) -> Result<Fetched, InstallError> {
    let (peers, left_out) = gather_peers(opts, release, dht_peers).await;
    let sources = Sources {
        peers,
        trackers: release.trackers.clone(),
    };
    let mut fetched = Fetched {
        torrent_file: None,
        digests: HashMap::new(),
        swarm_bytes: 0,
        mirror_bytes: 0,
    };
    let stall = opts.stall_timeout;
    let reason =
        match tokio::time::timeout(stall, swarm.metadata(&release.magnet(), &sources)).await {
            Err(_) => format!("no peer sent the torrent within {}s", stall.as_secs()),
            Ok(Err(e)) => format!("fetching the torrent failed: {e:#}"),
            Ok(Ok(meta)) => {
                let swarm_fetch = SwarmFetch {
                    swarm,
                    home: &opts.home,
                    staging,
                    release,
                    sources: &sources,
                    stall,
                    on_step,
                };
                match swarm_fetch.transfer(meta, &mut fetched).await? {
                    None => return Ok(fetched),
                    Some(reason) => reason,
                }
            }
        };
    let reason = match left_out {
        Some(said) => format!("{reason}; {said}"),
        None => reason,
    };
    if release.mirrors.is_empty() {
        return Err(InstallError::Stalled {
            reason,
            incomplete: release.files.iter().map(|f| f.path.clone()).collect(),
        });
    }
    on_step(Step::MirrorFallback {
        reason: reason.clone(),
    });
    from_mirrors(staging, release, stall, reason, on_step, fetched).await
}

/// The peers to ask, first to last: the seeders the publisher named in the signed release,
/// those given, those the DHT named, and when the DHT named none yet, a short wait for it
/// (longer when there is nobody else to ask). With them, what was said of peers left out for
/// sending bad pieces, if any were.
async fn gather_peers(
    opts: &InstallOptions,
    release: &Release,
    dht_peers: &[SocketAddr],
) -> (Vec<SocketAddr>, Option<String>) {
    let mut peers = publisher_seeders(release).await;
    let named_by_publisher = peers.len();
    for p in [&opts.peers[..], dht_peers].concat() {
        if !peers.contains(&p) {
            peers.push(p);
        }
    }
    if dht_peers.is_empty() {
        let alone = peers.is_empty() && release.trackers.is_empty();
        let wait = if alone {
            DHT_PEERS_ALONE.min(opts.stall_timeout)
        } else {
            DHT_PEERS_BESIDE
        };
        for p in dht_peers_for(opts, release, wait).await {
            if !peers.contains(&p) {
                peers.push(p);
            }
        }
    }
    // What this machine saw of them: peers that sent bad pieces are left out for a while, the
    // rest asked best first (the publisher's seeders before all).
    let (home, now) = (opts.home.clone(), seedstr_proto::clock::unix_now());
    let (ranked, left_out) = off_runtime(move || {
        let reputation = crate::reputation::Reputation::load(&home);
        (
            reputation.rank(&peers, named_by_publisher, now),
            reputation.left_out(&peers, now),
        )
    })
    .await;
    let left_out = (!left_out.is_empty()).then(|| describe_left_out(&left_out, now));
    if let Some(said) = &left_out {
        tracing::info!("{said}");
    }
    (ranked, left_out)
}

/// `left out for sending bad pieces: <peer> (N more minutes), …`.
fn describe_left_out(left_out: &[(SocketAddr, u64)], now: u64) -> String {
    let peers: Vec<String> = left_out
        .iter()
        .map(|(p, until)| {
            format!(
                "{p} (not asked for {} more minutes)",
                until.saturating_sub(now).div_ceil(60)
            )
        })
        .collect();
    format!("left out for sending bad pieces: {}", peers.join(", "))
}

/// How long a publisher-named seeder's name may take to resolve.
const SEEDER_LOOKUP: Duration = Duration::from_secs(3);

/// The addresses of the seeders `release` names (names resolved at once, each within
/// [`SEEDER_LOOKUP`]; one that does not resolve is skipped and logged), in the release's order.
pub(crate) async fn publisher_seeders(release: &Release) -> Vec<SocketAddr> {
    let lookups = release.seeders.iter().map(|named| async move {
        match tokio::time::timeout(SEEDER_LOOKUP, tokio::net::lookup_host(named.as_str())).await {
            Ok(Ok(mut found)) => found.next(),
            Ok(Err(e)) => {
                tracing::warn!("the publisher's seeder {named}: {e}");
                None
            }
            Err(_) => {
                tracing::warn!(
                    "the publisher's seeder {named}: no address within {SEEDER_LOOKUP:?}"
                );
                None
            }
        }
    });
    let mut peers = Vec::new();
    for p in futures_util::future::join_all(lookups)
        .await
        .into_iter()
        .flatten()
    {
        if !peers.contains(&p) {
            peers.push(p);
        }
    }
    peers
}

/// One release's transfer from the swarm, once peers sent its torrent.
struct SwarmFetch<'a> {
    swarm: &'a Swarm,
    /// Where this machine's peer reputation is kept.
    home: &'a Path,
    staging: &'a Path,
    release: &'a Release,
    sources: &'a Sources,
    stall: Duration,
    on_step: &'a (dyn Fn(Step) + Sync),
}

impl SwarmFetch<'_> {
    /// Downloads into the staging folder, hashing as the pieces arrive. `None` when every
    /// file arrived; otherwise why the swarm stalled, for the mirrors to take over (or the
    /// stall as an error when the release names no mirror).
    async fn transfer(
        &self,
        meta: seedstr_swarm::Metadata,
        fetched: &mut Fetched,
    ) -> Result<Option<String>, InstallError> {
        let on_step = self.on_step;
        check_torrent(self.release, &meta.torrent)?;
        on_step(Step::Metadata {
            peers: meta.seen_peers.len(),
        });
        fetched.torrent_file = Some(meta.torrent_file.clone());
        let mut peers = self.sources.peers.clone();
        for p in &meta.seen_peers {
            if !peers.contains(p) {
                peers.push(*p);
            }
        }
        let swarm_error = |e: seedstr_swarm::SwarmError| InstallError::Swarm(format!("{e:#}"));
        let transfer = self
            .swarm
            .fetch(
                &meta.torrent_file,
                self.staging,
                &Sources {
                    peers,
                    trackers: self.sources.trackers.clone(),
                },
            )
            .await
            .map_err(swarm_error)?;
        let digests = self
            .swarm
            .digest_files(&transfer, self.staging, &meta.torrent);
        let waited = transfer
            .wait_or_stall(self.stall, |p| {
                on_step(Step::Transfer {
                    progress: *p,
                    from_mirror: false,
                })
            })
            .await;
        fetched.swarm_bytes = transfer.progress().fetched_bytes;
        if waited.is_ok() {
            on_step(Step::Verifying);
            // A hashing failure only costs time: those files are read again later.
            match digests.finish().await {
                Ok(all) => {
                    fetched.digests = meta
                        .torrent
                        .files
                        .iter()
                        .map(|f| f.path.clone())
                        .zip(all)
                        .collect()
                }
                Err(e) => tracing::warn!(
                    "hashing during the transfer failed ({e:#}); reading the files again"
                ),
            }
        } else {
            drop(digests);
        }
        // What each peer delivered, for this machine's reputation of it.
        let (home, deliveries) = (self.home.to_owned(), transfer.peer_deliveries());
        let now = seedstr_proto::clock::unix_now();
        off_runtime(move || crate::reputation::Reputation::update(&home, &deliveries, now)).await;
        // librqbit must let go of the staged files before they move or a mirror rewrites them.
        let file_progress = transfer.file_progress();
        self.swarm.remove(&transfer).await.map_err(swarm_error)?;
        let Err(stalled) = waited else {
            return Ok(None);
        };
        if self.release.mirrors.is_empty() {
            let incomplete: Vec<String> = meta
                .torrent
                .files
                .iter()
                .zip(file_progress.iter().copied().chain(std::iter::repeat(0)))
                .filter(|(f, done)| *done < f.size)
                .map(|(f, _)| f.path.clone())
                .collect();
            return Err(InstallError::Stalled {
                reason: stalled.reason,
                incomplete,
            });
        }
        Ok(Some(stalled.reason))
    }
}

/// Fetches from the release's mirrors every file the staging folder lacks; `reason` says why
/// the swarm did not deliver.
async fn from_mirrors(
    staging: &Path,
    release: &Release,
    stall: Duration,
    reason: String,
    on_step: &(dyn Fn(Step) + Sync),
    mut fetched: Fetched,
) -> Result<Fetched, InstallError> {
    let mirrors = Mirrors::new(&release.mirrors, stall);
    let total = release.total_size();
    let mut done: u64 = 0;
    let mut failures = Vec::new();
    let mut wrong: Option<MirrorFailure> = None;
    for f in &release.files {
        // Files checked here (what the swarm delivered, or a mirror's bytes checked on arrival)
        // match the manifest: record that, so the final check does not read them again.
        let checked = (f.sha256, f.size);
        if check_file(&staging.join(&f.path), &f.sha256, f.size).is_ok() {
            done += f.size;
            fetched.digests.insert(f.path.clone(), checked);
            continue;
        }
        let base = done;
        let received = std::sync::atomic::AtomicU64::new(0);
        let on_bytes = |n: u64| {
            let got = received.fetch_add(n, std::sync::atomic::Ordering::Relaxed) + n;
            on_step(Step::Transfer {
                progress: Progress {
                    done_bytes: base + got,
                    total_bytes: total,
                    ..Default::default()
                },
                from_mirror: true,
            });
        };
        match mirrors.fetch(staging, f, &on_bytes).await {
            Ok(()) => {
                fetched.mirror_bytes += f.size;
                done += f.size;
                fetched.digests.insert(f.path.clone(), checked);
            }
            Err(failure) => {
                if failure.wrong_bytes && wrong.is_none() {
                    wrong = Some(failure.clone());
                }
                failures.push(failure);
            }
        }
    }
    if let Some(w) = wrong {
        return Err(InstallError::MirrorWrongBytes(w));
    }
    if !failures.is_empty() {
        return Err(InstallError::MirrorsFailed { reason, failures });
    }
    Ok(fetched)
}

/// The torrent from peers must describe exactly the manifest's files (its info hash already
/// matched the magnet, or librqbit would not have returned it).
fn check_torrent(release: &Release, torrent: &seedstr_swarm::Torrent) -> Result<(), InstallError> {
    let mismatch = |why: String| InstallError::TorrentMismatch {
        infohash: release.infohash_hex(),
        why,
    };
    if torrent.info_hash != release.infohash {
        return Err(mismatch(format!(
            "its info hash is {}",
            torrent.info_hash_hex()
        )));
    }
    let listed: BTreeSet<(&str, u64)> = torrent
        .files
        .iter()
        .map(|f| (f.path.as_str(), f.size))
        .collect();
    let signed: BTreeSet<(&str, u64)> = release
        .files
        .iter()
        .map(|f| (f.path.as_str(), f.size))
        .collect();
    if let Some((p, s)) = listed.difference(&signed).next() {
        return Err(mismatch(format!(
            "it lists {p:?} ({s} bytes), which the manifest does not"
        )));
    }
    if let Some((p, s)) = signed.difference(&listed).next() {
        return Err(mismatch(format!(
            "it lacks {p:?} ({s} bytes), which the manifest lists"
        )));
    }
    Ok(())
}
