//! Looking packages up on relays: the trusted publisher registries first, then, name by name,
//! the releases their publishers signed and any revocation those publishers signed of
//! themselves. Every release is checked before the resolver sees it; refusals are kept with why.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use nostr::prelude::{Event, PublicKey};
use seedstr_client::relays::{list_failures, query_all};
use seedstr_proto::release::RELEASE_KIND;
use serde_json::json;

use crate::name::{Ecosystem, PackageName};
use crate::registry::{Registry, REGISTRY_D, REGISTRY_KIND};
use crate::release::PackageRelease;
use crate::resolve::Catalog;

/// Where and how to look.
#[derive(Debug, Clone)]
pub struct Sources {
    pub relays: Vec<String>,
    pub relay_timeout: Duration,
    /// The registries trusted to say who may publish a name.
    pub trusted: Vec<PublicKey>,
}

#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    #[error("no relay answered: {}", list_failures(.0))]
    NoRelay(Vec<(String, String)>),
    #[error("no publisher registry is trusted: name one with --registry <npub> (your own key counts once you have one)")]
    NoRegistry,
}

/// The trusted registries' newest lists. Registry events that fail their checks are returned,
/// described.
pub async fn load_registry(sources: &Sources) -> Result<(Registry, Vec<String>), CatalogError> {
    if sources.trusted.is_empty() {
        return Err(CatalogError::NoRegistry);
    }
    let filter = json!({
        "kinds": [REGISTRY_KIND],
        "authors": sources.trusted.iter().map(|k| k.to_hex()).collect::<Vec<_>>(),
        "#d": [REGISTRY_D],
    });
    let found = query_all(&sources.relays, &filter, sources.relay_timeout).await;
    if found.answered.is_empty() {
        return Err(CatalogError::NoRelay(found.failed));
    }
    let mut registry = Registry::new(sources.trusted.clone());
    let problems = registry.absorb(&found.events);
    Ok((registry, problems))
}

/// Looks `names` up and files each release as accepted or refused in `catalog`; revocations
/// the publishers signed of themselves join `registry`. Releases are asked of the keys the
/// registries map to each name, and of `known` signers (say, a lockfile's), whose releases
/// are refused, saying why, when no registry maps them. A name nobody may publish gets an
/// empty list and a refusal saying so.
pub async fn look_up(
    registry: &mut Registry,
    catalog: &mut Catalog,
    ecosystem: Ecosystem,
    names: &[String],
    known: &BTreeMap<String, BTreeSet<PublicKey>>,
    sources: &Sources,
) -> Result<(), CatalogError> {
    let mut wanted: BTreeMap<String, PackageName> = BTreeMap::new();
    let mut addresses = Vec::new();
    let mut publishers: BTreeSet<PublicKey> = BTreeSet::new();
    for n in names {
        catalog.accepted.entry(n.clone()).or_default();
        let name = match PackageName::parse(ecosystem, n) {
            Ok(name) => name,
            Err(e) => {
                refuse(catalog, n, n, e.to_string());
                continue;
            }
        };
        let mut keys = registry.publishers(&name.coordinate());
        let mapped = !keys.is_empty();
        keys.extend(known.get(n).into_iter().flatten());
        if !mapped {
            refuse(
                catalog,
                n,
                n,
                "no trusted registry names a publisher for it".into(),
            );
            if keys.is_empty() {
                continue;
            }
        }
        for k in &keys {
            addresses.push(name.coordinate().project_address(k));
        }
        publishers.extend(keys);
        wanted.insert(name.coordinate().d(), name);
    }
    if publishers.is_empty() {
        return Ok(());
    }
    let authors: Vec<String> = publishers.iter().map(|k| k.to_hex()).collect();
    let releases = json!({"kinds": [RELEASE_KIND], "authors": authors, "#a": addresses});
    let own = json!({"kinds": [REGISTRY_KIND], "authors": authors, "#d": [REGISTRY_D]});
    let (releases, own) = tokio::join!(
        query_all(&sources.relays, &releases, sources.relay_timeout),
        query_all(&sources.relays, &own, sources.relay_timeout),
    );
    if releases.answered.is_empty() {
        return Err(CatalogError::NoRelay(releases.failed));
    }
    registry.absorb(&own.events);
    file_releases(registry, catalog, &wanted, &releases.events);
    Ok(())
}

fn refuse(catalog: &mut Catalog, name: &str, spec: &str, why: String) {
    catalog
        .refused
        .entry(name.to_owned())
        .or_default()
        .push((spec.to_owned(), why));
}

/// Checks each event and files it under its package name. A version published twice with
/// different archives is refused whole: a reader cannot tell which is meant.
fn file_releases(
    registry: &Registry,
    catalog: &mut Catalog,
    wanted: &BTreeMap<String, PackageName>,
    events: &[Event],
) {
    let mut by_version: BTreeMap<(String, String), Vec<PackageRelease>> = BTreeMap::new();
    for e in events {
        let p = match PackageRelease::from_event(e) {
            Ok(p) => p,
            Err(err) => {
                // Only events about a wanted package are worth a word.
                let about = wanted
                    .values()
                    .find(|n| {
                        e.tags
                            .identifier()
                            .is_some_and(|d| d.starts_with(&format!("{}@", n.coordinate().d())))
                    })
                    .map(|n| n.as_str().to_owned());
                if let Some(name) = about {
                    refuse(catalog, &name, &format!("event {}", e.id), err.to_string());
                }
                continue;
            }
        };
        let Some(name) = wanted.get(&p.release.coordinate.d()) else {
            continue;
        };
        if let Err(why) = registry.check(&p.release.coordinate, name.as_str(), &p.signer()) {
            refuse(catalog, name.as_str(), &p.spec(), why.to_string());
            continue;
        }
        by_version
            .entry((name.as_str().to_owned(), p.version().to_string()))
            .or_default()
            .push(p);
    }
    for ((name, _), mut same) in by_version {
        same.sort_by_key(|p| std::cmp::Reverse(p.event.created_at));
        let archives: BTreeSet<[u8; 20]> = same.iter().map(|p| p.release.infohash).collect();
        if archives.len() > 1 {
            let spec = same[0].spec();
            refuse(
                catalog,
                &name,
                &spec,
                format!(
                    "published {} times with different archives (events {})",
                    same.len(),
                    same.iter()
                        .map(|p| p.event.id.to_hex())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            );
            continue;
        }
        catalog
            .accepted
            .entry(name)
            .or_default()
            .push(same.remove(0));
    }
}
