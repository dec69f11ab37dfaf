//! Looking packages up: the trusted publisher registries first, then, name by name, the
//! releases their publishers signed and any revocation those publishers signed of themselves.
//! Relays are asked first; when none answers, the same questions go to those authors' feeds
//! over the DHT (their transport keys known from attestations seen on relays before). Every
//! release is checked before the resolver sees it; refusals are kept with why.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use futures_util::future::join_all;
use nostr::prelude::PublicKey;
use seedstr_client::feed::{FeedReader, ResolveOptions};
use seedstr_client::install::InstallOptions;
use seedstr_client::keys::transport::remember_attestations;
use seedstr_client::relays::cache::{CachedAnswer, RelayCache};
use seedstr_client::relays::{list_failures, query_all};
use seedstr_client::resolve::names::get_name_record;
use seedstr_client::resolve::target::npub;
use seedstr_dht::transport::ATTESTATION_KIND;
use seedstr_proto::incident::INCIDENT_KIND;
use seedstr_proto::release::RELEASE_KIND;
use seedstr_proto::Verified;
use seedstr_swarm::Swarm;
use serde_json::json;

use crate::name::{Ecosystem, PackageName};
use crate::registry::{Registry, REGISTRY_D, REGISTRY_KIND};
use crate::release::PackageRelease;
use crate::resolve::Catalog;

/// Where and how to look.
#[derive(Debug, Clone)]
pub struct Sources {
    /// Relays to ask.
    pub relays: Vec<String>,
    /// How long to wait for each relay.
    pub relay_timeout: Duration,
    /// The registries trusted to say who may publish a name.
    pub trusted: Vec<PublicKey>,
    /// Where attestations seen on relays are kept for relay-less lookups.
    pub home: PathBuf,
    /// Answers kept by a long-running server (see [`Sources::with_cache`]); `None` asks the
    /// relays every time.
    pub cache: Option<Arc<RelayCache>>,
}

/// The kinds a package lookup reads: what a [`RelayCache`] for it must follow.
pub const LOOKUP_KINDS: [u16; 4] = [REGISTRY_KIND, RELEASE_KIND, INCIDENT_KIND, ATTESTATION_KIND];

impl Sources {
    /// These sources with a cache of the relays' answers, kept while the relays' live
    /// subscription says nothing they depend on changed. Must be called within a Tokio runtime.
    pub fn with_cache(self) -> Sources {
        let cache = RelayCache::start(self.relays.clone(), self.relay_timeout, &LOOKUP_KINDS);
        Sources {
            cache: Some(cache),
            ..self
        }
    }

    /// What the relays answer to `filter`, from the cache when it holds the answer.
    pub async fn query(&self, filter: &serde_json::Value) -> CachedAnswer {
        match &self.cache {
            Some(cache) if cache.relays() == self.relays => cache.query(filter).await,
            _ => CachedAnswer {
                gathered: Arc::new(query_all(&self.relays, filter, self.relay_timeout).await),
                from_cache: false,
            },
        }
    }
}

/// Where a lookup's answers come from.
pub enum Via<'a> {
    /// Relays answered.
    Relays,
    /// No relay answered: the authors' feeds over the DHT.
    Dht(Box<FeedReader<'a>>),
}

impl Via<'_> {
    /// `relays` or `dht`, as reports say it.
    pub fn name(&self) -> &'static str {
        match self {
            Via::Relays => "relays",
            Via::Dht(_) => "dht",
        }
    }
}

/// Why packages could not be looked up.
#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    /// No relay answered, and the DHT was not asked.
    #[error("no relay answered: {}", list_failures(.0))]
    NoRelay(Vec<(String, String)>),
    /// No registry is trusted.
    #[error("no publisher registry is trusted: trust one with `seedstr pkg registry trust <npub>` (or name it with --registry, or in the node's packages.registries); your own registry counts once you have one")]
    NoRegistry,
    /// No relay answered, and the DHT could not be joined.
    #[error("no relay answered ({}), and joining the DHT to read the registries' feeds failed: {why}", list_failures(.failed))]
    NoDht {
        /// Relays that could not be asked, and why.
        failed: Vec<(String, String)>,
        /// Why joining failed.
        why: String,
    },
    /// No relay answered, and no trusted registry's feed could be read.
    #[error("no relay answered ({}), and no trusted registry could be read over the DHT: {}", list_failures(.failed), .unread.join("; "))]
    NoFeed {
        /// Relays that could not be asked, and why.
        failed: Vec<(String, String)>,
        /// Each registry that could not be read, and why.
        unread: Vec<String>,
    },
}

/// The trusted registries' newest lists, and where later lookups should go: the relays, or,
/// when none answered and `fallback` (the swarm and a DHT to join) is given, the DHT.
/// Registry events that fail their checks, and registries that could not be read, are
/// returned, described.
pub async fn load_registry<'a>(
    sources: &Sources,
    fallback: Option<(&'a Swarm, &InstallOptions)>,
) -> Result<(Registry, Vec<String>, Via<'a>), CatalogError> {
    // The trust file is read on every lookup: a long-running node then follows
    // `pkg registry trust` and `pkg registry add` without a restart.
    let mut trusted = sources.trusted.clone();
    match crate::trust::load(&sources.home) {
        Ok(keys) => {
            for k in keys {
                if !trusted.contains(&k) {
                    trusted.push(k);
                }
            }
        }
        Err(e) => tracing::warn!("{e}"),
    }
    if trusted.is_empty() {
        return Err(CatalogError::NoRegistry);
    }
    let filter = json!({
        "kinds": [REGISTRY_KIND],
        "authors": trusted.iter().map(|k| k.to_hex()).collect::<Vec<_>>(),
        "#d": [REGISTRY_D],
    });
    let (found, _) = tokio::join!(sources.query(&filter), keep_attestations(sources, &trusted));
    let found = found.gathered;
    let mut registry = Registry::new(trusted.clone());
    if !found.answered.is_empty() {
        let problems = registry.absorb(&found.events);
        return Ok((registry, problems, Via::Relays));
    }
    let Some((swarm, opts)) = fallback.filter(|(_, o)| o.dht.is_some()) else {
        return Err(CatalogError::NoRelay(found.failed.clone()));
    };
    let feed_opts = ResolveOptions {
        relays: Vec::new(),
        relay_timeout: sources.relay_timeout,
        peers: opts.peers.clone(),
        stall: opts.stall_timeout,
    };
    let dht = opts.dht.as_ref().expect("checked");
    let reader = FeedReader::join(sources.home.clone(), swarm, dht, feed_opts)
        .await
        .map_err(|e| CatalogError::NoDht {
            failed: found.failed.clone(),
            why: e.to_string(),
        })?;
    let (events, unread) = reader.query(&filter, &trusted).await;
    let unread: Vec<String> = unread.into_iter().map(|(_, why)| why).collect();
    if unread.len() == trusted.len() {
        return Err(CatalogError::NoFeed {
            failed: found.failed.clone(),
            unread,
        });
    }
    let mut problems = registry.absorb(&events);
    problems.extend(unread);
    Ok((registry, problems, Via::Dht(Box::new(reader))))
}

/// `names` looked up on the relays alone, as a long-running server does for each request
/// (joining the DHT for one request would cost more than the request): what the registries
/// say, and each release accepted or refused.
pub async fn look_up_on_relays(
    sources: &Sources,
    ecosystem: Ecosystem,
    names: &[String],
) -> Result<(Registry, Catalog), CatalogError> {
    let (mut registry, _, via) = load_registry(sources, None).await?;
    let mut catalog = Catalog::default();
    look_up(
        &mut registry,
        &mut catalog,
        ecosystem,
        names,
        &BTreeMap::new(),
        sources,
        &via,
    )
    .await?;
    Ok((registry, catalog))
}

/// Asks the relays for `authors`' transport-key attestations and keeps those that verify, so
/// a lookup can turn to those authors' feeds on the DHT when the relays are gone. Best effort:
/// a relay that fails here fails the lookup itself too.
async fn keep_attestations(sources: &Sources, authors: &[PublicKey]) {
    let filter = json!({
        "kinds": [ATTESTATION_KIND],
        "authors": authors.iter().map(|k| k.to_hex()).collect::<Vec<_>>(),
    });
    let found = sources.query(&filter).await;
    // An answer from the cache was kept when it was first asked for.
    if found.from_cache {
        return;
    }
    if let Err(e) = remember_attestations(&sources.home, &found.gathered.events) {
        tracing::warn!("keeping transport-key attestations: {e}");
    }
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
    via: &Via<'_>,
) -> Result<(), CatalogError> {
    let mut wanted: BTreeMap<String, PackageName> = BTreeMap::new();
    let mut addresses = Vec::new();
    // Who is asked about which name.
    let mut asked: BTreeMap<PublicKey, Vec<PackageName>> = BTreeMap::new();
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
            asked.entry(*k).or_default().push(name.clone());
        }
        wanted.insert(name.coordinate().d(), name);
    }
    if asked.is_empty() {
        return Ok(());
    }
    let publishers: Vec<PublicKey> = asked.keys().copied().collect();
    let authors: Vec<String> = publishers.iter().map(|k| k.to_hex()).collect();
    // A publisher's incidents name the project by the same address as its releases.
    let releases =
        json!({"kinds": [RELEASE_KIND, INCIDENT_KIND], "authors": authors, "#a": addresses});
    let own = json!({"kinds": [REGISTRY_KIND], "authors": authors, "#d": [REGISTRY_D]});
    // The answers are borrowed where they are held (a cached answer is shared, not copied).
    let from_relays;
    let from_dht;
    let (release_events, own_events): (&[Verified], &[Verified]) = match via {
        Via::Relays => {
            let (releases, own, _) = tokio::join!(
                sources.query(&releases),
                sources.query(&own),
                keep_attestations(sources, &publishers),
            );
            if releases.gathered.answered.is_empty() {
                return Err(CatalogError::NoRelay(releases.gathered.failed.clone()));
            }
            from_relays = (releases.gathered, own.gathered);
            (&from_relays.0.events, &from_relays.1.events)
        }
        Via::Dht(reader) => {
            let (release_events, unread) = reader.query(&releases, &publishers).await;
            for (key, why) in unread {
                for name in &asked[&key] {
                    refuse(catalog, name.as_str(), &npub(&key), why.clone());
                }
            }
            let (own_events, _) = reader.query(&own, &publishers).await;
            check_name_records(reader, catalog, &asked).await;
            from_dht = (release_events, own_events);
            (&from_dht.0, &from_dht.1)
        }
    };
    registry.absorb(own_events);
    file_releases(registry, catalog, &wanted, release_events);
    Ok(())
}

/// On the DHT, each publisher's name record (`libreseed:<name>`) names its newest release of
/// the name. A feed index that does not hold that release is older than the record: what it
/// offers is still signed, but may not be the newest, and the refusals say so.
async fn check_name_records(
    reader: &FeedReader<'_>,
    catalog: &mut Catalog,
    asked: &BTreeMap<PublicKey, Vec<PackageName>>,
) {
    let mut checks = Vec::new();
    for (key, names) in asked {
        let Ok(feed) = reader.feed(key).await else {
            continue;
        };
        for name in names {
            let feed = feed.clone();
            checks.push(async move {
                let record_name = name.dht_name();
                let stale = match get_name_record(reader.dht(), &feed.transport_key, &record_name).await {
                    Ok(None) => None,
                    Ok(Some((record, version, _))) => (!feed
                        .events
                        .iter()
                        .any(|e| e.id.as_bytes()[..] == record.e[..]))
                    .then(|| {
                        format!(
                            "the DHT name record of {record_name} names {version} (event {}), which {}'s feed index does not hold yet; the feed's releases were used",
                            hex::encode(&record.e),
                            npub(key)
                        )
                    }),
                    Err(e) => Some(e.to_string()),
                };
                stale.map(|why| (name, record_name, why))
            });
        }
    }
    // Each lookup waits out the DHT's request timeout, so they run side by side.
    for (name, record_name, why) in join_all(checks).await.into_iter().flatten() {
        refuse(catalog, name.as_str(), &record_name, why);
    }
}

fn refuse(catalog: &mut Catalog, name: &str, spec: &str, why: String) {
    catalog
        .refused
        .entry(name.to_owned())
        .or_default()
        .push((spec.to_owned(), why));
}

/// Checks each event and files it under its package name. A version an incident of its
/// publisher covers is refused, and so is a version published twice with different archives:
/// a reader cannot tell which is meant.
fn file_releases(
    registry: &Registry,
    catalog: &mut Catalog,
    wanted: &BTreeMap<String, PackageName>,
    events: &[Verified],
) {
    let incidents = seedstr_proto::incident::current_incidents(events);
    let mut by_version: BTreeMap<(String, String), Vec<PackageRelease>> = BTreeMap::new();
    for e in events
        .iter()
        .map(Verified::event)
        .filter(|e| e.kind.as_u16() != INCIDENT_KIND)
    {
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
        if let Some(i) = seedstr_proto::incident::withdrawing(
            &incidents,
            &p.signer(),
            &p.release.coordinate,
            p.version(),
        ) {
            let what_to_do = if i.instructions.is_empty() {
                String::new()
            } else {
                format!(" ({})", i.instructions.trim())
            };
            refuse(
                catalog,
                name.as_str(),
                &p.spec(),
                format!(
                    "its publisher declared incident {} ({}, versions {}): {}{what_to_do}",
                    i.id,
                    i.severity.as_str(),
                    i.versions,
                    i.summary
                ),
            );
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::{with_publisher, RegistryList};
    use crate::release::test_release;
    use nostr::prelude::{FinalizeEvent as _, Keys, Timestamp};
    use seedstr_proto::incident::{Incident, Severity};
    use seedstr_proto::release::VersionReq;

    fn incident(author: &Keys, signer: &Keys, range: &str, withdrawn: bool, at: u64) -> Verified {
        let name = PackageName::parse(Ecosystem::Npm, "pad").unwrap();
        Incident {
            project_author: author.public_key(),
            coordinate: name.coordinate(),
            id: "bad".into(),
            versions: VersionReq::parse(range).unwrap(),
            severity: Severity::Critical,
            summary: "broken".into(),
            instructions: String::new(),
            affected_events: vec![],
            withdrawn,
        }
        .to_builder()
        .custom_created_at(Timestamp::from(at))
        .finalize(signer)
        .map(|e| Verified::check(e).unwrap())
        .unwrap()
    }

    /// Files pad 1.0.0 and 1.1.0 by `alice` (mapped by the maintainer) with `incidents`; the
    /// accepted versions and the refusals.
    fn file_with(alice: &Keys, incidents: Vec<Verified>) -> (Vec<String>, Vec<(String, String)>) {
        let maintainer = Keys::generate();
        let name = PackageName::parse(Ecosystem::Npm, "pad").unwrap();
        let list = with_publisher(
            RegistryList::default(),
            name.coordinate(),
            alice.public_key(),
        );
        let mut registry = Registry::new(vec![maintainer.public_key()]);
        let list = Verified::check(list.to_builder().finalize(&maintainer).unwrap()).unwrap();
        registry.absorb([&list]);
        let mut events: Vec<Verified> = Verified::keep_valid(
            ["1.0.0", "1.1.0"]
                .iter()
                .map(|v| test_release(alice, "pad", v, serde_json::json!({})).event),
        );
        events.extend(incidents);
        let mut catalog = Catalog::default();
        let wanted = BTreeMap::from([(name.coordinate().d(), name)]);
        file_releases(&registry, &mut catalog, &wanted, &events);
        let accepted = catalog.accepted["pad"]
            .iter()
            .map(|p| p.version().to_string())
            .collect();
        (accepted, catalog.refused.remove("pad").unwrap_or_default())
    }

    #[test]
    fn the_publishers_own_newest_incident_refuses_the_versions_it_covers() {
        let alice = Keys::generate();
        let (accepted, refused) =
            file_with(&alice, vec![incident(&alice, &alice, "=1.1.0", false, 10)]);
        assert_eq!(accepted, ["1.0.0"]);
        assert_eq!(refused[0].0, "pad@1.1.0");
        assert!(
            refused[0].1.contains("declared incident bad (critical"),
            "{refused:?}"
        );

        // Someone else's incident about alice's package is not hers to enforce.
        let mallory = Keys::generate();
        let (accepted, _) = file_with(&alice, vec![incident(&alice, &mallory, "*", false, 10)]);
        assert_eq!(accepted.len(), 2);

        // A newer event withdrawing the incident replaces it.
        let (accepted, _) = file_with(
            &alice,
            vec![
                incident(&alice, &alice, "=1.1.0", false, 10),
                incident(&alice, &alice, "=1.1.0", true, 20),
            ],
        );
        assert_eq!(accepted.len(), 2);
    }
}
