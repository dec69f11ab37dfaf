//! What relays know about mod projects: every release of each (checked, newest event per
//! version) and every incident naming it. One query serves a whole batch of projects. When no
//! relay answers, the authors' own feeds on the DHT stand in (they hold each author's releases
//! and incidents).

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::time::Duration;

use nostr::prelude::{Event, EventId, PublicKey};
use seedstr_client::feed::{read_feed, ResolveOptions};
use seedstr_client::keys::transport::cached_transport_key;
use seedstr_client::relays::{list_failures, query_all};
use seedstr_client::resolve::target::Target;
use seedstr_client::resolve::{choose, Resolution, ResolveError};
use seedstr_dht::record::DEFAULT_FEED_SALT;
use seedstr_dht::{DhtNode, DhtOptions};
use seedstr_proto::event::newest_by_address;
use seedstr_proto::release::{Release, Version, RELEASE_KIND};
use seedstr_proto::Verified;
use seedstr_swarm::{Swarm, SwarmOptions};
use serde_json::json;
use tokio::sync::{Mutex, OnceCell};

use super::state::ModKey;
use crate::events::incident::Incident;
use crate::events::INCIDENT_KIND;

/// An incident and who signed it.
#[derive(Debug, Clone)]
pub struct SignedIncident {
    /// The incident.
    pub incident: Incident,
    /// Who signed it.
    pub signer: PublicKey,
}

impl SignedIncident {
    /// Whether the project's author signed it.
    pub fn authoritative(&self) -> bool {
        self.incident.is_authoritative(&self.signer)
    }
}

/// What the relays (or the author's feed) hold of one project.
#[derive(Debug, Clone, Default)]
pub struct ProjectInfo {
    /// Read from the author's feed on the DHT because no relay answered.
    pub from_feed: bool,
    /// Release events by the project's author (unchecked; [`ProjectInfo::resolve`] checks them).
    pub release_events: Vec<Verified>,
    /// Checked releases, the current event per version.
    pub releases: BTreeMap<Version, (Release, Event)>,
    /// The current event of each incident, whoever signed it.
    pub incidents: Vec<SignedIncident>,
}

impl ProjectInfo {
    /// The author's incident that blocks `version`, if any ([`Incident::withdraws`]; the
    /// incidents here are filed under the project they name, so theirs is the project asked).
    pub fn blocking(&self, version: &Version) -> Option<&SignedIncident> {
        self.incidents.iter().find(|i| {
            let project = (&i.incident.project_author, &i.incident.coordinate);
            i.incident
                .withdraws(&i.signer, project.0, project.1, version)
        })
    }

    /// Incidents by others than the author that name `version`: shown, never enforced.
    pub fn warnings(&self, version: &Version) -> Vec<&SignedIncident> {
        self.incidents
            .iter()
            .filter(|i| !i.authoritative() && i.incident.affects(version))
            .collect()
    }

    /// Resolves `version` of `key` with the usual checks (signature, namespace, supersedes
    /// chain).
    pub fn resolve(&self, key: &ModKey, version: &Version) -> Result<Resolution, ResolveError> {
        choose(
            &Target {
                author: key.author,
                coordinate: key.coordinate.clone(),
                version: Some(version.clone()),
            },
            &self.release_events,
            &[],
        )
    }
}

/// No relay answered, and the feeds did not stand in.
#[derive(Debug, thiserror::Error)]
#[error("no relay answered: {}{}", list_failures(.relays), .dht.as_ref().map(|d| format!("; and the DHT fallback failed: {d}")).unwrap_or_default())]
pub struct NoRelay {
    /// Each relay and why it did not answer.
    pub relays: Vec<(String, String)>,
    /// Why the authors' feeds on the DHT did not stand in, when they were asked.
    pub dht: Option<String>,
}

/// How to read the authors' feeds on the DHT when no relay answers. The DHT node and the
/// session that fetches feed indexes start at the first need, and each author's feed is read
/// once per command.
pub struct FeedLookup {
    /// `$SEEDSTR_HOME`, where attestations seen before are kept.
    pub home: PathBuf,
    /// How to join the DHT.
    pub dht: DhtOptions,
    /// How to fetch the feeds' indexes.
    pub feed: ResolveOptions,
    joined: OnceCell<(Swarm, DhtNode)>,
    read: Mutex<BTreeMap<PublicKey, Vec<Verified>>>,
}

impl std::fmt::Debug for FeedLookup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FeedLookup")
            .field("dht", &self.dht)
            .finish()
    }
}

impl FeedLookup {
    /// A lookup that joins the DHT at its first need.
    pub fn new(home: PathBuf, dht: DhtOptions, feed: ResolveOptions) -> FeedLookup {
        FeedLookup {
            home,
            dht,
            feed,
            joined: OnceCell::new(),
            read: Mutex::new(BTreeMap::new()),
        }
    }

    /// Every event in the feeds of `authors`, for when the relays did not answer: the
    /// transport keys come from attestations verified before.
    async fn events(&self, authors: &BTreeSet<PublicKey>) -> Result<Vec<Verified>, String> {
        let (swarm, dht) = self
            .joined
            .get_or_try_init(|| async {
                let swarm = Swarm::start(SwarmOptions {
                    listen: None,
                    trackers: false,
                    upload_limit_bps: None,
                })
                .await
                .map_err(|e| format!("{e:#}"))?;
                let dht = DhtNode::join(&self.dht)
                    .await
                    .map_err(|e| format!("joining the Mainline DHT: {e}"))?;
                Ok::<_, String>((swarm, dht))
            })
            .await?;
        let mut read = self.read.lock().await;
        let mut events = Vec::new();
        for author in authors {
            if !read.contains_key(author) {
                let key = cached_transport_key(&self.home, author).map_err(|e| e.to_string())?;
                let feed = read_feed(
                    &self.home,
                    swarm,
                    dht,
                    author,
                    &key,
                    DEFAULT_FEED_SALT,
                    &self.feed,
                )
                .await
                .map_err(|e| format!("reading the feed of {}: {e}", author.to_hex()))?;
                read.insert(*author, feed.events);
            }
            events.extend(read[author].iter().cloned());
        }
        Ok(events)
    }
}

/// Asks the relays about every project in `keys` at once.
pub async fn fetch_projects(
    relays: &[String],
    timeout: Duration,
    keys: &[ModKey],
    feeds: Option<&FeedLookup>,
) -> Result<BTreeMap<ModKey, ProjectInfo>, NoRelay> {
    if keys.is_empty() {
        return Ok(BTreeMap::new());
    }
    let addresses: Vec<String> = keys.iter().map(ModKey::project_address).collect();
    let filter = json!({ "kinds": [RELEASE_KIND, INCIDENT_KIND], "#a": addresses });
    let gathered = query_all(relays, &filter, timeout).await;
    if !gathered.answered.is_empty() {
        return Ok(catalog_of(keys, &gathered.events, false));
    }
    let Some(feeds) = feeds else {
        return Err(NoRelay {
            relays: gathered.failed,
            dht: None,
        });
    };
    let authors: BTreeSet<PublicKey> = keys.iter().map(|k| k.author).collect();
    match feeds.events(&authors).await {
        // Only the authors' own events: other people's incidents need a relay.
        Ok(events) => Ok(catalog_of(keys, &events, true)),
        Err(why) => Err(NoRelay {
            relays: gathered.failed,
            dht: Some(why),
        }),
    }
}

/// The projects `keys` as `events` describe them.
fn catalog_of(
    keys: &[ModKey],
    events: &[Verified],
    from_feed: bool,
) -> BTreeMap<ModKey, ProjectInfo> {
    let mut out: BTreeMap<ModKey, ProjectInfo> = keys
        .iter()
        .map(|k| {
            let info = ProjectInfo {
                from_feed,
                ..ProjectInfo::default()
            };
            (k.clone(), info)
        })
        .collect();
    for e in events {
        if e.kind.as_u16() != RELEASE_KIND {
            continue;
        }
        // All of them for `choose`, which reports why it refuses one and walks the chain
        // through replaced events too.
        if let Some(info) = info_for_address(&mut out, e) {
            info.release_events.push(e.clone());
        }
    }
    for e in newest_by_address(events) {
        if e.kind.as_u16() == RELEASE_KIND {
            let Ok(r) = Release::from_event(e) else {
                continue;
            };
            let key = ModKey {
                author: e.pubkey,
                coordinate: r.coordinate.clone(),
            };
            if let Some(info) = out.get_mut(&key) {
                info.releases
                    .insert(r.version.clone(), (r, e.event().clone()));
            }
        } else if let Ok(incident) = Incident::from_event(e) {
            let key = ModKey {
                author: incident.project_author,
                coordinate: incident.coordinate.clone(),
            };
            if let Some(info) = out.get_mut(&key) {
                info.incidents.push(SignedIncident {
                    incident,
                    signer: e.pubkey,
                });
            }
        }
    }
    out
}

/// The project a release event claims by its `a` tag, when that project was asked for.
fn info_for_address<'a>(
    out: &'a mut BTreeMap<ModKey, ProjectInfo>,
    e: &Event,
) -> Option<&'a mut ProjectInfo> {
    let a = seedstr_proto::event::first_tag_value(e, "a")?;
    let (author, coordinate) = seedstr_proto::release::parse_project_address(a).ok()?;
    out.get_mut(&ModKey { author, coordinate })
}

/// Fetches exact release events by id (collections pin them).
pub async fn fetch_events(
    relays: &[String],
    timeout: Duration,
    ids: &[EventId],
) -> Result<Vec<Verified>, NoRelay> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<String> = ids.iter().map(|i| i.to_hex()).collect();
    let gathered = query_all(relays, &json!({ "ids": ids }), timeout).await;
    if gathered.answered.is_empty() {
        return Err(NoRelay {
            relays: gathered.failed,
            dht: None,
        });
    }
    Ok(gathered.events)
}
