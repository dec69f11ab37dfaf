//! Signing a security incident (30085) about a project, mods and packages alike: the affected
//! releases found on the relays, the incident and its NIP-56 report sent, and the signer's DHT
//! feed rewritten so readers without relays see it too.

use std::path::Path;

use nostr::prelude::{EventId, FinalizeEvent as _, Keys, PublicKey};
use seedstr_dht::DhtOptions;
use seedstr_proto::clock::unix_now;
use seedstr_proto::incident::{Incident, Severity};
use seedstr_proto::release::{Coordinate, Release, VersionReq, RELEASE_KIND};
use serde_json::json;

use super::outbox::{send_and_keep, SendError};
use crate::feed::{update_feed, FeedUpdate};
use crate::relays::source::{EventSource, SourceError};
use crate::relays::{PublishAnswer, RelaySet};

/// What an incident says.
#[derive(Debug, Clone)]
pub struct IncidentRequest {
    /// The project's author; an incident about someone else's project is shown to readers,
    /// never enforced.
    pub author: PublicKey,
    /// The project, as `namespace/slug`.
    pub coordinate: Coordinate,
    /// The versions affected.
    pub versions: VersionReq,
    /// How bad it is.
    pub severity: Severity,
    /// One line: what happened.
    pub summary: String,
    /// What users should do (Markdown).
    pub instructions: String,
    /// Names the incident among the project's; `None`: the current Unix time.
    pub id: Option<String>,
    /// Takes an incident back (a false alarm); give the same id.
    pub withdraw: bool,
}

/// Why an incident was not signed.
#[derive(Debug, thiserror::Error)]
pub enum IncidentError {
    /// The project's events could not be read.
    #[error(transparent)]
    Source(#[from] SourceError),
    /// Signing failed.
    #[error("signing the incident: {0}")]
    Sign(String),
    /// The incident could not be sent.
    #[error(transparent)]
    Send(#[from] SendError),
}

/// What signing an incident did.
#[derive(Debug, Clone, serde::Serialize)]
pub struct IncidentSigned {
    /// The incident's event id.
    pub incident: String,
    /// The NIP-56 report's event id (none for a withdrawal).
    pub report: Option<String>,
    /// The incident's `d`.
    pub d: String,
    /// The versions of the releases the relays hold that it covers.
    pub affected: Vec<String>,
    /// What each relay answered.
    pub answers: Vec<PublishAnswer>,
    /// What rewriting the DHT feed did; `None` when not asked for. Serialized as the new feed
    /// index's info hash, or null.
    #[serde(serialize_with = "feed_index")]
    pub feed: Option<FeedUpdate>,
}

fn feed_index<S: serde::Serializer>(feed: &Option<FeedUpdate>, s: S) -> Result<S::Ok, S::Error> {
    match feed {
        Some(FeedUpdate::Written { feed, .. }) => s.serialize_some(feed),
        _ => s.serialize_none(),
    }
}

/// Signs the incident `req` with `keys`, with its NIP-56 report naming the affected release
/// events the relays hold, sends both, keeps them and, unless `dht` is `None`, rewrites the
/// signer's DHT feed.
pub async fn sign_incident(
    home: &Path,
    keys: &Keys,
    relays: &RelaySet,
    dht: Option<&DhtOptions>,
    req: IncidentRequest,
) -> Result<IncidentSigned, IncidentError> {
    // The affected releases, so the incident and the report can name their events.
    let releases = relays
        .events(json!({"kinds": [RELEASE_KIND], "authors": [req.author.to_hex()], "#a": [req.coordinate.project_address(&req.author)]}))
        .await?;
    let affected: Vec<(EventId, Release)> = releases
        .iter()
        .filter_map(|e| Release::from_event(e).ok().map(|r| (e.id, r)))
        .filter(|(_, r)| r.coordinate == req.coordinate && req.versions.matches(&r.version))
        .collect();
    let incident = Incident {
        project_author: req.author,
        coordinate: req.coordinate,
        id: req.id.unwrap_or_else(|| unix_now().to_string()),
        versions: req.versions,
        severity: req.severity,
        summary: req.summary,
        instructions: req.instructions,
        affected_events: affected.iter().map(|(id, _)| *id).collect(),
        withdrawn: req.withdraw,
    };
    let sign = |e: nostr::prelude::EventBuilder| {
        e.finalize(keys)
            .map_err(|e| IncidentError::Sign(e.to_string()))
    };
    let mut events = vec![sign(incident.to_builder())?];
    if !req.withdraw {
        let refs: Vec<(EventId, &Release)> = affected.iter().map(|(id, r)| (*id, r)).collect();
        events.push(sign(incident.malware_report(&refs))?);
    }
    let answers = send_and_keep(home, &events, relays).await?;
    // The feed holds the signer's kept events, the incident now among them: readers whose
    // relays are down read it there.
    let feed = match dht {
        Some(options) => Some(update_feed(home, keys, relays, options).await),
        None => None,
    };
    Ok(IncidentSigned {
        incident: events[0].id.to_hex(),
        report: events.get(1).map(|e| e.id.to_hex()),
        d: incident.d(),
        affected: affected
            .iter()
            .map(|(_, r)| r.version.to_string())
            .collect(),
        answers,
        feed,
    })
}
