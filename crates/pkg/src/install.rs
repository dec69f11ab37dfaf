//! `pkg install`: what the project asks for, resolved over the releases the trusted registries
//! allow, each archive fetched into the package store and checked, then laid out and locked.

use seedstr_client::files::lock::{log_wait, FolderLock};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use seedstr_client::install::InstallOptions;
use seedstr_swarm::Swarm;

use crate::catalog::{load_registry, look_up, CatalogError, Sources, Via};
use crate::name::Ecosystem;
use crate::project::{lay_out, package_json_requires, recover, Lock, ProjectError};
use crate::resolve::{resolve, Catalog, ResolveError, Step, Tree};
use crate::store::{PackageStore, StoreError};

/// Lookups stop after this many rounds: each round is one more level of the dependency graph.
const MAX_ROUNDS: usize = 100;

/// How long to wait for the DHT's first peers of an archive.
const PEER_WAIT: Duration = Duration::from_secs(3);

/// What `pkg install` is asked to do.
pub struct InstallRequest {
    /// The project folder (the one with `package.json`).
    pub project: PathBuf,
    /// Packages to add: name and range (`None`: the newest, locked as `^<version>`).
    pub add: Vec<(String, Option<String>)>,
    /// Where and how to look.
    pub sources: Sources,
    /// How archives are fetched.
    pub fetch: InstallOptions,
    /// `$SEEDSTR_HOME`: the package store and kept attestations.
    pub home: PathBuf,
}

/// One package installed.
#[derive(Debug, serde::Serialize)]
pub struct InstalledPackage {
    /// Where it is installed (`node_modules/…`).
    pub path: String,
    /// The package name.
    pub name: String,
    /// The version installed.
    pub version: String,
    /// The signer's npub.
    pub signer: String,
    /// The release's info hash.
    pub infohash: String,
    /// Fetched in this run (otherwise it came from the package store).
    pub fetched: bool,
    /// Why the store's copy was refused and fetched again, when it was.
    pub replaced_bad_copy: Option<String>,
}

/// What `pkg install` did.
#[derive(Debug, serde::Serialize)]
pub struct InstallReport {
    /// Every package installed.
    pub packages: Vec<InstalledPackage>,
    /// What the project asks for: name to range.
    pub requires: BTreeMap<String, String>,
    /// Files unpacked.
    pub files: usize,
    /// Optional dependencies left out: (dependent, name, range).
    pub skipped: Vec<(String, String, String)>,
    /// Releases of installed names that were refused, and why.
    pub refused: Vec<(String, String)>,
    /// Registry events that failed their checks, and registries that could not be read.
    pub registry_problems: Vec<String>,
    /// `relays`, or `dht` when no relay answered and the authors' feeds were read instead.
    pub resolved_via: &'static str,
}

/// Why an install did not happen (the project is then as it was).
#[derive(Debug, thiserror::Error)]
pub enum InstallError {
    /// A spec that is not `<name>[@<range>]`.
    #[error("{0:?} is not <name>[@<range>]")]
    Spec(String),
    /// Packages could not be looked up.
    #[error(transparent)]
    Catalog(#[from] CatalogError),
    /// The tree could not be resolved.
    #[error(transparent)]
    Resolve(#[from] ResolveError),
    /// The graph kept growing past the lookups allowed.
    #[error("the dependency graph is still growing after {MAX_ROUNDS} lookups")]
    Endless,
    /// An archive could not be had.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The project could not be written.
    #[error(transparent)]
    Project(#[from] ProjectError),
    /// The project's lock could not be taken.
    #[error(transparent)]
    FolderLock(#[from] seedstr_client::files::lock::FolderLockError),
    /// Nothing named and nothing to install from the project.
    #[error("nothing to install: name packages, or run this in a project with a package.json or a libreseed-lock.json")]
    Nothing,
}

/// `<name>[@<range>]`, where a scoped name's own `@` comes first.
pub fn parse_spec(spec: &str) -> Result<(String, Option<String>), InstallError> {
    let at = spec
        .char_indices()
        .skip(1)
        .find(|(_, c)| *c == '@')
        .map(|(i, _)| i);
    let (name, range) = match at {
        Some(i) => (&spec[..i], Some(spec[i + 1..].to_owned())),
        None => (spec, None),
    };
    if name.is_empty() || range.as_deref() == Some("") {
        return Err(InstallError::Spec(spec.to_owned()));
    }
    Ok((name.to_owned(), range))
}

/// A resolved tree, with every release looked at and where the answers came from.
pub struct Resolved<'a> {
    /// The packages and where each goes.
    pub tree: Tree,
    /// Every release looked at, by name.
    pub catalog: Catalog,
    /// Registry events that failed their checks, and registries that could not be read.
    pub registry_problems: Vec<String>,
    /// Where the answers came from.
    pub via: Via<'a>,
}

/// Resolves `roots` against the relays (or, when none answers and `fallback` is given, the
/// publishers' feeds on the DHT), looking up each new level of names as it appears. `lock`'s
/// versions are preferred, and its signers asked too, so that one the registries no longer
/// allow is refused by name rather than silently replaced.
pub async fn resolve_tree<'a>(
    roots: &[(String, String)],
    lock: Option<&Lock>,
    sources: &Sources,
    fallback: Option<(&'a Swarm, &InstallOptions)>,
) -> Result<Resolved<'a>, InstallError> {
    let locked = lock.map(Lock::versions).unwrap_or_default();
    let known = lock.map(Lock::signers).unwrap_or_default();
    let (mut registry, registry_problems, via) = load_registry(sources, fallback).await?;
    let mut catalog = Catalog::default();
    for _ in 0..MAX_ROUNDS {
        match resolve(roots, &catalog, &locked)? {
            Step::Done(tree) => {
                return Ok(Resolved {
                    tree,
                    catalog,
                    registry_problems,
                    via,
                })
            }
            Step::Lookup(names) => {
                look_up(
                    &mut registry,
                    &mut catalog,
                    Ecosystem::Npm,
                    &names,
                    &known,
                    sources,
                    &via,
                )
                .await?
            }
        }
    }
    Err(InstallError::Endless)
}

/// Resolves, fetches, checks and lays out the project's packages in one transaction.
pub async fn install(swarm: &Swarm, req: &InstallRequest) -> Result<InstallReport, InstallError> {
    // One writer per project, from reading the lock to the swap.
    let _held = FolderLock::acquire_async(req.project.clone(), log_wait).await?;
    recover(&req.project)?;
    let lock = Lock::load(&req.project)?;
    let mut requires = package_json_requires(&req.project)?;
    if let Some(l) = &lock {
        for (name, range) in &l.requires {
            requires.entry(name.clone()).or_insert(range.clone());
        }
    }
    for (name, range) in &req.add {
        requires.insert(
            name.clone(),
            range.clone().unwrap_or_else(|| "latest".into()),
        );
    }
    if requires.is_empty() {
        return Err(InstallError::Nothing);
    }
    let roots: Vec<(String, String)> = requires.clone().into_iter().collect();
    let Resolved {
        tree,
        catalog,
        registry_problems,
        via,
    } = resolve_tree(
        &roots,
        lock.as_ref(),
        &req.sources,
        Some((swarm, &req.fetch)),
    )
    .await?;
    // A package added without a range is recorded as npm records it: ^<version installed>.
    for (name, range) in requires.iter_mut() {
        if range == "latest" {
            if let Some(p) = tree.placed.get(&format!("node_modules/{name}")) {
                *range = format!("^{}", p.release.version());
            }
        }
    }

    let store = PackageStore::new(&req.home);
    let mut archives = BTreeMap::new();
    let mut packages = Vec::new();
    for p in tree.placed.values() {
        let archive = match store.held(&p.release) {
            Ok(Some(held)) => held,
            _ => {
                let mut fetch = req.fetch.clone();
                if let Via::Dht(reader) = &via {
                    // With no relay, the publishers' seeders are found where their feeds
                    // were: on the DHT, which they announce to, through the node already
                    // joined to read the feeds.
                    let peers = reader.peers(&p.release.release.infohash, PEER_WAIT).await;
                    fetch.peers.extend(peers);
                    fetch.dht_node = Some(reader.dht().clone());
                }
                store.archive(swarm, &p.release, &fetch).await?
            }
        };
        packages.push(InstalledPackage {
            path: p.path.clone(),
            name: p.release.name.as_str().to_owned(),
            version: p.release.version().to_string(),
            signer: Lock::signer_of(&p.release),
            infohash: p.release.release.infohash_hex(),
            fetched: archive.fetched,
            replaced_bad_copy: archive.replaced_bad_copy,
        });
        archives.insert(p.path.clone(), archive.path);
    }
    let new_lock = Lock::of(&tree, requires.clone());
    // Unpacking, renames and fsyncs run off the runtime.
    let files = {
        let (project, tree, lock) = (req.project.clone(), tree.clone(), new_lock.clone());
        seedstr_client::files::blocking::off_runtime(move || {
            lay_out(&project, &tree, &archives, &lock)
        })
        .await?
    };
    let installed: Vec<&str> = packages.iter().map(|p| p.name.as_str()).collect();
    let refused = catalog
        .refused
        .iter()
        .filter(|(name, _)| installed.contains(&name.as_str()))
        .flat_map(|(_, r)| r.iter().cloned())
        .collect();
    Ok(InstallReport {
        packages,
        requires,
        files,
        skipped: tree.skipped,
        refused,
        registry_problems,
        resolved_via: via.name(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs_split_after_a_scope() {
        let p = |s: &str| parse_spec(s).unwrap();
        assert_eq!(p("left-pad"), ("left-pad".into(), None));
        assert_eq!(p("left-pad@^1.3"), ("left-pad".into(), Some("^1.3".into())));
        assert_eq!(p("@acme/greet"), ("@acme/greet".into(), None));
        assert_eq!(
            p("@acme/greet@2.x"),
            ("@acme/greet".into(), Some("2.x".into()))
        );
        assert!(parse_spec("greet@").is_err());
    }
}
