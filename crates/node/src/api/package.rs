//! `GET /api/v1/packages/<ns>/<name>`: a package as installs see it. Its versions are checked
//! by the same lookup `pkg install` and the registry views run (the trusted registries, the
//! publishers' revocations and incidents), and the page adds what only a whole store shows:
//! the packages that depend on it.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use axum::extract::{Path, State};
use axum::Json;
use nostr::prelude::{Event, PublicKey};
use seedstr_client::resolve::target::npub;
use seedstr_pkg::catalog::look_up_on_relays;
use seedstr_pkg::name::{Ecosystem, PackageName};
use seedstr_pkg::registry::Registry;
use seedstr_pkg::release::{DependencyLine, PackageRelease};
use seedstr_pkg::resolve::Catalog;
use seedstr_proto::event::first_tag_value;
use seedstr_proto::incident::IncidentView;
use seedstr_proto::release::RELEASE_KIND;
use serde::Serialize;
use serde_json::json;

use super::release::incidents_of;
use super::{ApiError, ApiState};

/// `GET /api/v1/packages/<ns>/<name>`.
pub async fn package(
    State(s): State<Arc<ApiState>>,
    Path((ns, name)): Path<(String, String)>,
) -> Result<Json<PackagePage>, ApiError> {
    package_view(&s, &ns, &name).await.map(Json)
}

/// A package as installs see it.
#[derive(Debug, Serialize)]
pub struct PackagePage {
    /// `npm` or `cargo`.
    pub ns: String,
    /// The package's name.
    pub name: String,
    /// Whether its versions were checked against the trusted registries.
    pub checked: bool,
    /// Why they could not be checked.
    pub check_error: Option<String>,
    /// Who may publish it.
    pub publishers: Vec<Publisher>,
    /// The versions an install would accept (or, unchecked, those the store holds), newest
    /// first.
    pub versions: Vec<PackageVersion>,
    /// Versions refused, with why.
    pub refused: Vec<RefusedVersion>,
    /// The newest version.
    pub latest: Option<String>,
    /// What the newest version needs.
    pub dependencies: Vec<DependencyLine>,
    /// Packages this node holds that need it.
    pub dependents: Vec<Dependent>,
    /// Its publishers' own incidents, not withdrawn.
    pub incidents: Vec<IncidentView>,
}

/// One publisher.
#[derive(Debug, Serialize)]
pub struct Publisher {
    /// Their npub.
    pub key: String,
    /// The trusted registries that map them to the package (npubs).
    pub mapped_by: Vec<String>,
}

/// One version.
#[derive(Debug, Serialize)]
pub struct PackageVersion {
    /// The version.
    pub version: String,
    /// Who signed it (npub).
    pub signer: String,
    /// `<npub>/<ns>.<slug>@<version>`, for the release page.
    pub release: String,
    /// When it was signed (Unix seconds).
    pub published_at: u64,
    /// The archive's size in bytes.
    pub size: u64,
    /// The archive's integrity string.
    pub integrity: String,
    /// The payload's info hash (hex).
    pub infohash: String,
    /// The release event's id (hex).
    pub event_id: String,
}

/// A version refused.
#[derive(Debug, Serialize)]
pub struct RefusedVersion {
    /// What was refused.
    pub spec: String,
    /// Why.
    pub why: String,
}

/// A package that needs this one.
#[derive(Debug, Serialize)]
pub struct Dependent {
    /// Its name.
    pub name: String,
    /// Its newest version that needs this one.
    pub version: String,
    /// The range it asks for.
    pub range: String,
    /// How it uses it.
    pub kind: String,
    /// Who signed it (npub).
    pub signer: String,
}

/// The package `name` of namespace `ns` (`npm` or `cargo`), for the API and the web UI alike.
pub async fn package_view(s: &ApiState, ns: &str, name: &str) -> Result<PackagePage, ApiError> {
    let ecosystem = Ecosystem::parse(ns).ok_or_else(|| {
        ApiError::BadRequest(format!("namespace {ns:?}: packages live in npm or cargo"))
    })?;
    let package =
        PackageName::parse(ecosystem, name).map_err(|e| ApiError::BadRequest(e.to_string()))?;
    let name = package.as_str().to_owned();

    let stored = stored_releases(s, ecosystem, &name).await?;
    let depends_on_it = |p: &PackageRelease| {
        p.dependencies()
            .is_ok_and(|deps| deps.iter().any(|d| d.name == name))
    };
    let candidates: BTreeSet<String> = stored
        .iter()
        .filter(|p| p.name.as_str() != name && depends_on_it(p))
        .map(|p| p.name.as_str().to_owned())
        .collect();
    if candidates.is_empty() && !stored.iter().any(|p| p.name.as_str() == name) {
        return Err(ApiError::NotFound(format!(
            "this node holds no release of the {ns} package {name}"
        )));
    }

    let checked = check(s, ecosystem, &name, &candidates).await;
    let (catalog, registry, check_error) = match checked {
        Ok((catalog, registry)) => (catalog, Some(registry), None),
        Err(why) => (Catalog::default(), None, Some(why)),
    };
    // Unchecked, the store's releases are shown as they are, and marked so.
    let mut versions: Vec<&PackageRelease> = match &registry {
        Some(_) => catalog.accepted.get(&name).into_iter().flatten().collect(),
        None => stored.iter().filter(|p| p.name.as_str() == name).collect(),
    };
    versions.sort_by(|a, b| b.version().cmp(a.version()));

    let publishers: BTreeSet<_> = match &registry {
        Some(r) => r.publishers(&package.coordinate()),
        None => versions.iter().map(|p| p.signer()).collect(),
    };
    let incidents = publisher_incidents(s, &package, &publishers).await?;
    let dependents = match &registry {
        Some(_) => dependents(catalog.accepted.iter().filter(|(n, _)| **n != name), &name),
        None => dependents(
            group(
                stored
                    .iter()
                    .filter(|p| candidates.contains(p.name.as_str())),
            )
            .iter(),
            &name,
        ),
    };
    let latest = versions.first();
    Ok(PackagePage {
        ns: ns.to_owned(),
        checked: check_error.is_none(),
        check_error,
        publishers: publishers
            .iter()
            .map(|k| Publisher {
                key: npub(k),
                mapped_by: registry
                    .as_ref()
                    .map(|r| mapped_by(r, &package, k))
                    .unwrap_or_default(),
            })
            .collect(),
        refused: catalog
            .refused
            .get(&name)
            .into_iter()
            .flatten()
            .map(|(spec, why)| RefusedVersion {
                spec: spec.clone(),
                why: why.clone(),
            })
            .collect(),
        latest: latest.map(|p| p.version().to_string()),
        dependencies: latest
            .and_then(|p| p.dependencies().ok())
            .unwrap_or_default(),
        versions: versions.iter().map(|p| version_of(p)).collect(),
        dependents,
        incidents,
        name,
    })
}

/// Every package release the store holds in `ecosystem` that names `name`: its own, and the
/// candidates for its dependents, which the lookup then checks like any other.
async fn stored_releases(
    s: &ApiState,
    ecosystem: Ecosystem,
    name: &str,
) -> Result<Vec<PackageRelease>, ApiError> {
    // Checking a signature costs far more than reading a tag, so only events that name the
    // package (as their own, or quoted in their manifest, where any dependency on it is) are
    // read as releases.
    let quoted = serde_json::to_string(name).expect("a string serializes");
    let names_it = |e: &Event| match first_tag_value(e, "package") {
        Some(own) if own == name => true,
        Some(_) => first_tag_value(e, "manifest").is_some_and(|m| m.contains(&quoted)),
        None => false,
    };
    Ok(s.events(json!({"kinds": [RELEASE_KIND]}))
        .await?
        .iter()
        .filter(|e| names_it(e))
        .filter_map(|e| PackageRelease::from_event(e).ok())
        .filter(|p| p.name.ecosystem == ecosystem)
        .collect())
}

/// Each publisher's own incidents about the package, not withdrawn.
async fn publisher_incidents(
    s: &ApiState,
    package: &PackageName,
    publishers: &BTreeSet<PublicKey>,
) -> Result<Vec<IncidentView>, ApiError> {
    let mut incidents = Vec::new();
    for key in publishers {
        let address = package.coordinate().project_address(key);
        incidents.extend(
            incidents_of(s, &address)
                .await?
                .iter()
                .filter(|(signer, i)| signer == key && !i.withdrawn)
                .map(|(signer, i)| IncidentView::new(signer, i)),
        );
    }
    Ok(incidents)
}

/// `name` and `dependents` looked up as `pkg install` would, with the node's trusted
/// registries and relays; the error says why nothing could be checked.
async fn check(
    s: &ApiState,
    ecosystem: Ecosystem,
    name: &str,
    dependents: &BTreeSet<String>,
) -> Result<(Catalog, Registry), String> {
    let names: Vec<String> = std::iter::once(name.to_owned())
        .chain(dependents.iter().cloned())
        .collect();
    let (registry, catalog) = look_up_on_relays(&s.packages, ecosystem, &names)
        .await
        .map_err(|e| e.to_string())?;
    Ok((catalog, registry))
}

/// The registries, among those trusted, that map `key` to the package.
fn mapped_by(registry: &Registry, package: &PackageName, key: &PublicKey) -> Vec<String> {
    registry
        .lists
        .iter()
        .filter(|(_, list)| {
            list.publishers
                .get(&package.coordinate())
                .is_some_and(|keys| keys.contains(key))
        })
        .map(|(registry, _)| npub(registry))
        .collect()
}

fn group<'a>(
    releases: impl Iterator<Item = &'a PackageRelease>,
) -> BTreeMap<String, Vec<PackageRelease>> {
    let mut by_name: BTreeMap<String, Vec<PackageRelease>> = BTreeMap::new();
    for p in releases {
        by_name
            .entry(p.name.as_str().to_owned())
            .or_default()
            .push(p.clone());
    }
    by_name
}

/// For each package among `releases`, its newest release that depends on `name`.
fn dependents<'a>(
    releases: impl Iterator<Item = (&'a String, &'a Vec<PackageRelease>)>,
    name: &str,
) -> Vec<Dependent> {
    let mut out = Vec::new();
    for (dependent, list) in releases {
        let newest = list
            .iter()
            .filter_map(|p| {
                let deps = p.dependencies().ok()?;
                let line = deps.into_iter().find(|d| d.name == name)?;
                Some((p, line))
            })
            .max_by(|a, b| a.0.version().cmp(b.0.version()));
        if let Some((p, line)) = newest {
            out.push(Dependent {
                name: dependent.clone(),
                version: p.version().to_string(),
                range: line.range,
                kind: line.kind,
                signer: npub(&p.signer()),
            });
        }
    }
    out
}

fn version_of(p: &PackageRelease) -> PackageVersion {
    let signer = npub(&p.signer());
    PackageVersion {
        version: p.version().to_string(),
        release: format!("{signer}/{}@{}", p.release.coordinate, p.version()),
        signer,
        published_at: p.event.created_at.as_secs(),
        size: p.archive().size,
        integrity: p.tags.integrity.clone(),
        infohash: p.release.infohash_hex(),
        event_id: p.event.id.to_hex(),
    }
}
