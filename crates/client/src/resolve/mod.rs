//! Resolution: from a target (author, project, maybe a version) to one verified release event.
//!
//! Relays are untrusted: every event they return is checked here (signature, namespace, the
//! agreement of its tags) and a refused event is reported, never silently used. The `supersedes`
//! chain is walked through whatever releases the relays hold, and a link that names a different
//! event than the one a relay holds for that version is a fork, refused.

pub mod dht;
pub mod names;
pub mod target;

use std::collections::BTreeMap;
use std::time::Duration;

use nostr::prelude::{Event, EventId};
use seedstr_proto::event::newest_by_address;
use seedstr_proto::incident::{current_incidents, withdrawing, Incident, INCIDENT_KIND};
use seedstr_proto::release::{Release, Version, RELEASE_KIND};
use seedstr_proto::Verified;
use serde_json::json;

use crate::relays::{list_failures, query_all};
use crate::resolve::target::Target;

/// A release event that was found and refused.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Rejected {
    /// The event's id (hex).
    pub event_id: String,
    /// The `d` tag as the event claims it.
    pub claims: String,
    /// Why, in words.
    pub reason: String,
}

/// How far the chosen release's `supersedes` links could be followed.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Chain {
    /// Every link as the releases claim it, newest first: (version, event id).
    pub links: Vec<(Version, String)>,
    /// The link where the relays held nothing to compare with, if any.
    pub unverified_from: Option<Version>,
}

/// The release chosen and what was refused on the way.
#[derive(Debug, Clone)]
pub struct Resolution {
    /// The chosen release.
    pub release: Release,
    /// Its signed event.
    pub event: Event,
    /// How the chosen release links to those it supersedes.
    pub chain: Chain,
    /// Candidates refused, each with the reason.
    pub rejected: Vec<Rejected>,
    /// Relays that answered.
    pub relays_answered: Vec<String>,
    /// Relays that did not answer, each with the error.
    pub relays_failed: Vec<(String, String)>,
    /// Resolved through the author's DHT records because no relay answered.
    pub via_dht: bool,
    /// The author's incident that withdraws the chosen version, when a version was asked for
    /// by name (an unnamed version is never a withdrawn one). Installs refuse it; pages show it.
    pub withdrawn_by: Option<Incident>,
    /// The current incidents about the project among the events read, with their signers.
    pub incidents: Vec<(nostr::prelude::PublicKey, Incident)>,
    /// Relays that answered without the chosen release although others hold it: stale, or
    /// hiding it. A relay that only ever answers this way could freeze a reader on an old
    /// version; with others beside it, it is named.
    pub stale_relays: Vec<String>,
}

/// Why no release could be chosen.
#[derive(Debug, thiserror::Error)]
pub enum ResolveError {
    /// No relay answered.
    #[error("no relay answered: {}", list_failures(.0))]
    NoRelay(Vec<(String, String)>),
    /// No relay holds a release of the project.
    #[error("no relay holds a release of {target}")]
    NotFound {
        /// What was asked for.
        target: String,
    },
    /// No relay holds the version asked for.
    #[error("no relay holds {target}; versions found: {}", list_versions(.available))]
    VersionNotFound {
        /// What was asked for.
        target: String,
        /// Versions the relays hold.
        available: Vec<Version>,
    },
    /// Every candidate was refused.
    #[error("every release of {target} that relays returned was refused: {}", list_rejected(.rejected))]
    AllRejected {
        /// What was asked for.
        target: String,
        /// Candidates refused, each with the reason.
        rejected: Vec<Rejected>,
    },
    /// `held` says what the relays hold instead.
    #[error("the supersedes chain of {version} forks: it names event {claimed} for {linked}, but {held}")]
    ChainFork {
        /// The version whose link is broken.
        version: String,
        /// The event that makes the link.
        linked: String,
        /// The event id the chain claims.
        claimed: String,
        /// The event the relays hold for that version.
        held: String,
    },
}

fn list_versions(v: &[Version]) -> String {
    if v.is_empty() {
        return "none".into();
    }
    v.iter()
        .map(Version::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

fn list_rejected(r: &[Rejected]) -> String {
    r.iter()
        .map(|r| format!("event {} ({}): {}", r.event_id, r.claims, r.reason))
        .collect::<Vec<_>>()
        .join("; ")
}

/// Asks the relays for the author's releases of the project, and the author's incidents about
/// it, and picks one.
pub async fn resolve(
    target: &Target,
    relays: &[String],
    timeout: Duration,
) -> Result<Resolution, ResolveError> {
    let filter = json!({
        "kinds": [RELEASE_KIND, INCIDENT_KIND],
        "authors": [target.author.to_hex()],
        "#a": [target.coordinate.project_address(&target.author)],
    });
    let gathered = query_all(relays, &filter, timeout).await;
    if gathered.answered.is_empty() {
        return Err(ResolveError::NoRelay(gathered.failed));
    }
    // The forged copies go to `choose` too, which refuses them by name; it selects only among
    // the releases that verify.
    let mut resolution = choose(target, &gathered.events, &gathered.forged)?;
    let chosen = resolution.event.id;
    resolution.stale_relays = gathered
        .held_by
        .iter()
        .filter(|(_, held)| !held.contains(&chosen))
        .map(|(relay, _)| relay.clone())
        .collect();
    resolution.relays_answered = gathered.answered;
    resolution.relays_failed = gathered.failed;
    Ok(resolution)
}

/// Whether `event` is a candidate for `target`: a release event (30079) that names the
/// project, by its `a` tag or its `d`, or an incident (30085) that names it. What a relay
/// returns for the release filter is one by construction; an author's DHT feed also holds
/// notes, projects and the attestation, which are not releases that failed and are left out
/// before [`choose`] reports refusals.
pub fn is_candidate(target: &Target, event: &Event) -> bool {
    let names_project = || {
        seedstr_proto::event::first_tag_value(event, "a")
            == Some(target.coordinate.project_address(&target.author).as_str())
    };
    let claims_version = || {
        seedstr_proto::event::first_tag_value(event, "d")
            .and_then(|d| d.strip_prefix(target.coordinate.to_string().as_str()))
            .is_some_and(|rest| rest.starts_with('@'))
    };
    match event.kind.as_u16() {
        RELEASE_KIND => names_project() || claims_version(),
        INCIDENT_KIND => names_project(),
        _ => false,
    }
}

/// Picks the release `target` asks for among `events`, checking each one. Incident events
/// among them bind the choice ([`withdrawing`]): a version the author withdrew is never chosen
/// for an unnamed version, and is marked [`Resolution::withdrawn_by`] when named.
/// `forged` are copies that did not verify, refused by name and never chosen.
pub fn choose(
    target: &Target,
    events: &[Verified],
    forged: &[Event],
) -> Result<Resolution, ResolveError> {
    let incidents = current_incidents(events);
    let withdrawn = |v: &Version| withdrawing(&incidents, &target.author, &target.coordinate, v);
    let mut rejected: Vec<Rejected> = forged
        .iter()
        .filter(|e| e.kind.as_u16() != INCIDENT_KIND)
        .map(|e| {
            // The release reader names what does not verify, as for any refused release.
            let why = Release::from_event(e).err().map(|err| err.to_string());
            refusal(
                e,
                why.unwrap_or_else(|| "its id or signature does not verify".into()),
            )
        })
        .collect();
    let mut valid: BTreeMap<EventId, (Release, &Event)> = BTreeMap::new();
    let mut readable: Vec<&Verified> = Vec::new();
    for verified in events.iter().filter(|e| e.kind.as_u16() != INCIDENT_KIND) {
        let event = verified.event();
        let checked = Release::from_event(event).and_then(|r| {
            r.expect_coordinate(&target.coordinate)?;
            Ok(r)
        });
        let release = match checked {
            Ok(r) if event.pubkey == target.author => r,
            Ok(_) => {
                rejected.push(refusal(event, "signed by another author".into()));
                continue;
            }
            Err(e) => {
                rejected.push(refusal(event, e.to_string()));
                continue;
            }
        };
        valid.insert(event.id, (release, event));
        readable.push(verified);
    }
    // Per version, the current event by the one selection rule (NIP-01; dated far ahead set
    // aside): 30079 is addressable, so a later event replaces an earlier one. The chain may
    // still name a replaced one, so `valid` keeps them all.
    let mut newest: BTreeMap<Version, &Event> = BTreeMap::new();
    for current in newest_by_address(readable) {
        let event = current.event();
        let slot = newest
            .entry(valid[&event.id].0.version.clone())
            .or_insert(event);
        if seedstr_proto::event::supersedes(event, slot) {
            *slot = event;
        }
    }
    let name = target.to_string();
    if newest.is_empty() {
        return Err(if rejected.is_empty() {
            ResolveError::NotFound { target: name }
        } else {
            ResolveError::AllRejected {
                target: name,
                rejected,
            }
        });
    }
    let chosen = match &target.version {
        Some(v) => *newest.get(v).ok_or_else(|| {
            let suffix = format!("@{v}");
            let refused: Vec<Rejected> = rejected
                .iter()
                .filter(|r| r.claims.ends_with(&suffix))
                .cloned()
                .collect();
            if refused.is_empty() {
                ResolveError::VersionNotFound {
                    target: name.clone(),
                    available: newest.keys().cloned().collect(),
                }
            } else {
                ResolveError::AllRejected {
                    target: name.clone(),
                    rejected: refused,
                }
            }
        })?,
        // The newest stable release its author did not withdraw; prereleases only when there
        // is nothing else.
        None => {
            let allowed: Vec<(&Version, &&Event)> = newest
                .iter()
                .filter(|(v, e)| match withdrawn(v) {
                    Some(i) => {
                        rejected.push(refusal(e, withdrawal(i)));
                        false
                    }
                    None => true,
                })
                .collect();
            let Some(e) = allowed
                .iter()
                .rev()
                .find(|(v, _)| v.pre.is_empty())
                .or_else(|| allowed.last())
                .map(|(_, e)| **e)
            else {
                return Err(ResolveError::AllRejected {
                    target: name,
                    rejected,
                });
            };
            e
        }
    };
    let (release, event) = valid[&chosen.id].clone();
    let chain = walk_chain(&release, &valid, &newest)?;
    let withdrawn_by = withdrawn(&release.version).cloned();
    Ok(Resolution {
        release,
        event: event.clone(),
        chain,
        rejected,
        relays_answered: Vec::new(),
        relays_failed: Vec::new(),
        via_dht: false,
        withdrawn_by,
        incidents,
        stale_relays: Vec::new(),
    })
}

/// Why a withdrawn version is refused, in words: the incident, its severity and summary, and
/// what the author says to do.
pub fn withdrawal(i: &Incident) -> String {
    let mut why = format!(
        "withdrawn by its author's incident {} ({}): {}",
        i.id,
        i.severity.as_str(),
        i.summary
    );
    if !i.instructions.trim().is_empty() {
        why.push_str(&format!(" ({})", i.instructions.trim()));
    }
    why
}

fn refusal(event: &Event, reason: String) -> Rejected {
    Rejected {
        event_id: event.id.to_hex(),
        claims: seedstr_proto::event::first_tag_value(event, "d")
            .unwrap_or("?")
            .to_owned(),
        reason,
    }
}

/// Follows `supersedes` links down through the releases the relays hold.
fn walk_chain(
    from: &Release,
    valid: &BTreeMap<EventId, (Release, &Event)>,
    newest: &BTreeMap<Version, &Event>,
) -> Result<Chain, ResolveError> {
    let mut chain = Chain {
        links: Vec::new(),
        unverified_from: None,
    };
    let mut at = from;
    // Versions strictly fall along the chain (every release checks its own link), so this ends.
    while let Some(link) = &at.supersedes {
        chain
            .links
            .push((link.version.clone(), link.event_id.to_hex()));
        match valid.get(&link.event_id) {
            Some((linked, _)) if linked.version == link.version => at = linked,
            Some((linked, _)) => {
                return Err(ResolveError::ChainFork {
                    version: at.version.to_string(),
                    linked: link.version.to_string(),
                    claimed: link.event_id.to_hex(),
                    held: format!("that event is release {}", linked.version),
                })
            }
            None => {
                if let Some(held) = newest.get(&link.version) {
                    return Err(ResolveError::ChainFork {
                        version: at.version.to_string(),
                        linked: link.version.to_string(),
                        claimed: link.event_id.to_hex(),
                        held: format!("the author's {} is event {}", link.version, held.id),
                    });
                }
                chain.unverified_from = Some(link.version.clone());
                break;
            }
        }
    }
    Ok(chain)
}

#[cfg(test)]
mod tests {
    use super::*;
    use nostr::prelude::FinalizeEvent as _;
    use nostr::prelude::{EventBuilder, Keys, Kind, Timestamp};
    use seedstr_proto::release::{Coordinate, ReleaseFile, Supersedes};

    fn release(version: &str, supersedes: Option<(&str, EventId)>) -> Release {
        Release {
            coordinate: Coordinate::new("generic", "tool").unwrap(),
            version: Version::parse(version).unwrap(),
            files: vec![ReleaseFile {
                path: "tool.bin".into(),
                sha256: [7; 32],
                size: 3,
            }],
            infohash: [1; 20],
            torrent_name: format!("tool-{version}"),
            trackers: vec![],
            mirrors: vec![],
            seeders: Vec::new(),
            supersedes: supersedes.map(|(v, id)| Supersedes {
                version: Version::parse(v).unwrap(),
                event_id: id,
            }),
            changelog: String::new(),
            dependencies: vec![],
            game_versions: vec![],
            zap_target: None,
            zap_splits: Vec::new(),
            package: None,
        }
    }

    /// [`choose`] over events as relays sent them: the ones that verify, and the rest apart.
    fn choose_among(target: &Target, events: &[Event]) -> Result<Resolution, ResolveError> {
        let (valid, forged): (Vec<Event>, Vec<Event>) =
            events.iter().cloned().partition(|e| e.verify().is_ok());
        choose(target, &Verified::keep_valid(valid), &forged)
    }

    fn sign(keys: &Keys, r: &Release, at: u64) -> Event {
        r.to_builder(&keys.public_key())
            .custom_created_at(Timestamp::from_secs(at))
            .finalize(keys)
            .unwrap()
    }

    fn target(keys: &Keys, version: Option<&str>) -> Target {
        Target {
            author: keys.public_key(),
            coordinate: Coordinate::new("generic", "tool").unwrap(),
            version: version.map(|v| Version::parse(v).unwrap()),
        }
    }

    #[test]
    fn the_newest_stable_release_wins_and_its_chain_is_followed() {
        let k = Keys::generate();
        let v1 = sign(&k, &release("1.0.0", None), 10);
        let v2 = sign(&k, &release("1.1.0", Some(("1.0.0", v1.id))), 20);
        let v3 = sign(&k, &release("2.0.0-rc.1", Some(("1.1.0", v2.id))), 30);
        let events = [v3.clone(), v1.clone(), v2.clone()];
        let r = choose_among(&target(&k, None), &events).unwrap();
        assert_eq!(r.release.version.to_string(), "1.1.0");
        assert_eq!(r.chain.links, vec![(Version::new(1, 0, 0), v1.id.to_hex())]);
        assert_eq!(r.chain.unverified_from, None);
        // An exact version may be a prerelease.
        let r = choose_among(&target(&k, Some("2.0.0-rc.1")), &events).unwrap();
        assert_eq!(r.event.id, v3.id);
        assert_eq!(r.chain.links.len(), 2);
        // A chain reaching below what relays hold is reported, not refused.
        let r = choose_among(&target(&k, None), std::slice::from_ref(&v2)).unwrap();
        assert_eq!(r.chain.unverified_from, Some(Version::new(1, 0, 0)));
    }

    #[test]
    fn only_releases_naming_the_project_are_candidates() {
        let k = Keys::generate();
        let t = target(&k, None);
        let v1 = sign(&k, &release("1.0.0", None), 10);
        assert!(is_candidate(&t, &v1));
        let note = EventBuilder::new(Kind::from(1u16), "hello")
            .finalize(&k)
            .unwrap();
        assert!(!is_candidate(&t, &note));
        let project = seedstr_proto::release::Project {
            coordinate: t.coordinate.clone(),
            name: "Tool".into(),
            summary: String::new(),
            description: String::new(),
        };
        assert!(!is_candidate(
            &t,
            &project.to_builder().finalize(&k).unwrap()
        ));
        let mut other = release("1.0.0", None);
        other.coordinate = Coordinate::new("generic", "toolbox").unwrap();
        assert!(!is_candidate(&t, &sign(&k, &other, 10)));
        // Someone else's release of the same name is a candidate: it is refused, with why.
        assert!(is_candidate(
            &t,
            &sign(&Keys::generate(), &release("1.0.0", None), 10)
        ));
    }

    #[test]
    fn a_missing_version_lists_what_exists() {
        let k = Keys::generate();
        let v1 = sign(&k, &release("1.0.0", None), 10);
        let err = choose_among(&target(&k, Some("3.0.0")), &[v1]).unwrap_err();
        assert!(err.to_string().contains("versions found: 1.0.0"), "{err}");
        let err = choose_among(&target(&k, None), &[]).unwrap_err();
        assert!(matches!(err, ResolveError::NotFound { .. }));
    }

    #[test]
    fn forged_foreign_and_other_authors_releases_are_refused_with_reasons() {
        let k = Keys::generate();
        let good = sign(&k, &release("1.0.0", None), 10);
        // A valid signature over different content: the id no longer matches.
        let mut forged: serde_json::Value = serde_json::from_str(&good.as_json()).unwrap();
        forged["content"] = "tampered".into();
        let forged = Event::from_json(forged.to_string()).unwrap();
        let stranger = sign(&Keys::generate(), &release("1.0.0", None), 10);
        let err = choose_among(&target(&k, None), &[forged.clone(), stranger]).unwrap_err();
        let text = err.to_string();
        assert!(text.contains("signature or id is invalid"), "{text}");
        assert!(text.contains("signed by another author"), "{text}");
        // With a good event beside it, the forged one is reported and skipped.
        let r = choose_among(&target(&k, None), &[forged, good.clone()]).unwrap();
        assert_eq!(r.event.id, good.id);
        assert_eq!(r.rejected.len(), 1);

        let mut foreign = release("1.0.0", None);
        foreign.coordinate = Coordinate::new("fallout-4", "tool").unwrap();
        let foreign = sign(&k, &foreign, 10);
        let err = choose_among(&target(&k, None), &[foreign]).unwrap_err();
        assert!(err.to_string().contains("namespace \"fallout-4\""), "{err}");
    }

    #[test]
    fn a_chain_naming_another_event_for_a_held_version_is_a_fork() {
        let k = Keys::generate();
        let v1 = sign(&k, &release("1.0.0", None), 10);
        let v2 = sign(&k, &release("2.0.0", Some(("1.0.0", v1.id))), 20);
        // 1.0.0 republished later with other bytes: relays now hold only the replacement.
        let mut other = release("1.0.0", None);
        other.infohash = [9; 20];
        let v1b = sign(&k, &other, 30);
        let err = choose_among(&target(&k, None), &[v2.clone(), v1b.clone()]).unwrap_err();
        assert!(matches!(err, ResolveError::ChainFork { .. }), "{err}");
        assert!(err.to_string().contains(&v1b.id.to_hex()), "{err}");
        // Both held: the chain follows the event it names.
        let r = choose_among(&target(&k, Some("2.0.0")), &[v2, v1, v1b]).unwrap();
        assert_eq!(r.chain.unverified_from, None);
    }
}
