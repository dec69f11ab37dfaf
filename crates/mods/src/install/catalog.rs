//! What relays know about mod projects: every release of each (checked, newest event per
//! version) and every incident naming it. One query serves a whole batch of projects.

use std::collections::BTreeMap;
use std::time::Duration;

use nostr::prelude::{Event, EventId, PublicKey};
use seedstr_client::relays::{list_failures, query_all};
use seedstr_client::resolve::{choose, Resolution, ResolveError};
use seedstr_client::target::Target;
use seedstr_proto::event::newest_by_address;
use seedstr_proto::release::{Release, Version, RELEASE_KIND};
use serde_json::json;

use super::state::ModKey;
use crate::events::incident::Incident;
use crate::events::INCIDENT_KIND;

/// An incident and who signed it.
#[derive(Debug, Clone)]
pub struct SignedIncident {
    pub incident: Incident,
    pub signer: PublicKey,
}

impl SignedIncident {
    pub fn authoritative(&self) -> bool {
        self.incident.is_authoritative(&self.signer)
    }
}

#[derive(Debug, Clone, Default)]
pub struct ProjectInfo {
    /// Release events by the project's author (unchecked; [`ProjectInfo::resolve`] checks them).
    pub release_events: Vec<Event>,
    /// Checked releases, the current event per version.
    pub releases: BTreeMap<Version, (Release, Event)>,
    /// The current event of each incident, whoever signed it.
    pub incidents: Vec<SignedIncident>,
}

impl ProjectInfo {
    /// The author's incident that blocks `version`, if any.
    pub fn blocking(&self, version: &Version) -> Option<&SignedIncident> {
        self.incidents
            .iter()
            .find(|i| i.authoritative() && i.incident.affects(version))
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
        )
    }
}

#[derive(Debug, thiserror::Error)]
#[error("no relay answered: {}", list_failures(.0))]
pub struct NoRelay(pub Vec<(String, String)>);

/// Asks the relays about every project in `keys` at once.
pub async fn fetch_projects(
    relays: &[String],
    timeout: Duration,
    keys: &[ModKey],
) -> Result<BTreeMap<ModKey, ProjectInfo>, NoRelay> {
    let mut out: BTreeMap<ModKey, ProjectInfo> = keys
        .iter()
        .map(|k| (k.clone(), ProjectInfo::default()))
        .collect();
    if keys.is_empty() {
        return Ok(out);
    }
    let addresses: Vec<String> = keys.iter().map(ModKey::project_address).collect();
    let filter = json!({ "kinds": [RELEASE_KIND, INCIDENT_KIND], "#a": addresses });
    let gathered = query_all(relays, &filter, timeout).await;
    if gathered.answered.is_empty() {
        return Err(NoRelay(gathered.failed));
    }
    for e in &gathered.events {
        if e.kind.as_u16() != RELEASE_KIND {
            continue;
        }
        // All of them for `choose`, which reports why it refuses one and walks the chain
        // through replaced events too.
        if let Some(info) = info_for_address(&mut out, e) {
            info.release_events.push(e.clone());
        }
    }
    for e in newest_by_address(&gathered.events) {
        if e.kind.as_u16() == RELEASE_KIND {
            let Ok(r) = Release::from_event(e) else {
                continue;
            };
            let key = ModKey {
                author: e.pubkey,
                coordinate: r.coordinate.clone(),
            };
            if let Some(info) = out.get_mut(&key) {
                info.releases.insert(r.version.clone(), (r, e.clone()));
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
    Ok(out)
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
) -> Result<Vec<Event>, NoRelay> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<String> = ids.iter().map(|i| i.to_hex()).collect();
    let gathered = query_all(relays, &json!({ "ids": ids }), timeout).await;
    if gathered.answered.is_empty() {
        return Err(NoRelay(gathered.failed));
    }
    Ok(gathered.events)
}
