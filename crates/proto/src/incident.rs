//! Security incidents (30085): the author says which versions are unsafe and what to do. The same
//! news goes out as a NIP-56 report (1984, `malware`) so other Nostr clients show it too.

use nostr::prelude::{Event, EventBuilder, EventId, Kind, PublicKey, ToBech32};

use crate::release::{parse_project_address, Coordinate, Release, Version, VersionReq};
use crate::tags::{tag, EventReadError, Tags};
use crate::verified::Verified;

/// Security incident (30085).
pub const INCIDENT_KIND: u16 = 30085;
/// NIP-56 report; an incident is also sent as one, type `malware`.
pub const REPORT_KIND: u16 = 1984;

/// How bad an incident is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Worth knowing.
    Low,
    /// Worth acting on.
    Medium,
    /// Act now.
    High,
    /// Act now: the release harms those who installed it.
    Critical,
}

impl Severity {
    /// The word the `severity` tag carries.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }

    /// Reads the `severity` tag's word.
    pub fn parse(s: &str) -> Option<Severity> {
        Some(match s {
            "low" => Severity::Low,
            "medium" => Severity::Medium,
            "high" => Severity::High,
            "critical" => Severity::Critical,
            _ => return None,
        })
    }
}

/// An incident as readers are shown it: who signed it and whether that signer speaks for the
/// project (only the author's incidents block installs).
#[derive(Debug, Clone, serde::Serialize)]
pub struct IncidentView {
    /// The incident's id among the project's.
    pub id: String,
    /// The signer's npub.
    pub signer: String,
    /// Signed by the project's author: enforced, not only shown.
    pub authoritative: bool,
    /// How bad it is.
    pub severity: Severity,
    /// The affected versions, as a range.
    pub versions: String,
    /// One line: what happened.
    pub summary: String,
    /// What to do (Markdown).
    pub instructions: String,
    /// Taken back by its signer.
    pub withdrawn: bool,
}

impl IncidentView {
    /// The view of `incident` as signed by `signer`.
    pub fn new(signer: &PublicKey, incident: &Incident) -> IncidentView {
        IncidentView {
            id: incident.id.clone(),
            signer: signer.to_bech32().unwrap_or_else(|_| signer.to_hex()),
            authoritative: incident.is_authoritative(signer),
            severity: incident.severity,
            versions: incident.versions.to_string(),
            summary: incident.summary.clone(),
            instructions: incident.instructions.clone(),
            withdrawn: incident.withdrawn,
        }
    }
}

/// A security incident (30085): which versions of a project are unsafe, and what to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Incident {
    /// The project's author and coordinate (the `a` tag).
    pub project_author: PublicKey,
    /// The project.
    pub coordinate: Coordinate,
    /// Names this incident among the project's incidents; the `d` tag ends with it.
    pub id: String,
    /// The affected versions.
    pub versions: VersionReq,
    /// How bad it is.
    pub severity: Severity,
    /// One line.
    pub summary: String,
    /// Markdown: what happened and what to do; the event's content.
    pub instructions: String,
    /// Release events known to be affected, for clients that match by id.
    pub affected_events: Vec<EventId>,
    /// The author has taken the incident back (a false alarm); a newer event with the same `d`.
    pub withdrawn: bool,
}

impl Incident {
    /// The event's `d`: `<ns>.<slug>:incident:<id>`.
    pub fn d(&self) -> String {
        format!("{}:incident:{}", self.coordinate, self.id)
    }

    /// Whether `version` is affected (a withdrawn incident affects nothing).
    pub fn affects(&self, version: &Version) -> bool {
        !self.withdrawn && self.versions.matches(version)
    }

    /// Only the project's author speaks for its releases; anyone else's incident is a warning.
    pub fn is_authoritative(&self, signer: &PublicKey) -> bool {
        *signer == self.project_author
    }

    /// The rule every install path applies: this incident, signed by `signer`, withdraws
    /// `version` of `author`'s project `coordinate` — its signer is that project's author, it
    /// names that project, it is not withdrawn itself, and its range covers the version.
    pub fn withdraws(
        &self,
        signer: &PublicKey,
        author: &PublicKey,
        coordinate: &Coordinate,
        version: &Version,
    ) -> bool {
        signer == author
            && self.project_author == *author
            && self.coordinate == *coordinate
            && self.affects(version)
    }

    /// The unsigned event.
    pub fn to_builder(&self) -> EventBuilder {
        let mut tags = vec![
            tag(["d", &self.d()]),
            tag(["a", &self.coordinate.project_address(&self.project_author)]),
            tag(["versions", &self.versions.to_string()]),
            tag(["severity", self.severity.as_str()]),
            tag(["summary", &self.summary]),
            tag([
                "alt",
                &format!(
                    "Security incident for {}: {}",
                    self.coordinate, self.summary
                ),
            ]),
        ];
        tags.extend(self.affected_events.iter().map(|e| tag(["e", &e.to_hex()])));
        if self.withdrawn {
            tags.push(tag(["status", "withdrawn"]));
        }
        EventBuilder::new(Kind::from(INCIDENT_KIND), &self.instructions).tags(tags)
    }

    /// Reads and checks an incident event (signature, kind, tags).
    ///
    /// To choose among incident events from outside, use [`current_incidents`].
    pub fn from_event(event: &Event) -> Result<Incident, EventReadError> {
        let t = Tags::of(event, INCIDENT_KIND, "incident (30085)")?;
        let a = t.one("a")?;
        let (project_author, coordinate) = parse_project_address(a)
            .map_err(|_| t.bad("a", format!("{a:?} is not a project address")))?;
        let d = t.one("d")?;
        let id = d
            .strip_prefix(&format!("{coordinate}:incident:"))
            .filter(|id| !id.is_empty())
            .ok_or_else(|| t.bad("d", format!("{d:?} is not {coordinate}:incident:<id>")))?;
        let versions = t.one("versions")?;
        let versions = VersionReq::parse(versions)
            .map_err(|_| t.bad("versions", format!("{versions:?} is not a version range")))?;
        let severity = t.one("severity")?;
        let severity = Severity::parse(severity).ok_or_else(|| {
            t.bad(
                "severity",
                format!("{severity:?} is not low, medium, high or critical"),
            )
        })?;
        let mut affected_events = Vec::new();
        for e in t.all("e") {
            let id = e.get(1).and_then(|h| EventId::from_hex(h).ok());
            affected_events.push(id.ok_or_else(|| t.bad("e", "not an event id"))?);
        }
        Ok(Incident {
            project_author,
            coordinate,
            id: id.to_owned(),
            versions,
            severity,
            summary: t.one("summary")?.to_owned(),
            instructions: event.content.clone(),
            affected_events,
            withdrawn: t.opt("status") == Some("withdrawn"),
        })
    }

    /// The NIP-56 report of this incident: the author, the affected release events and their
    /// files' hashes, each typed `malware`.
    pub fn malware_report(&self, affected: &[(EventId, &Release)]) -> EventBuilder {
        let mut tags = vec![tag(["p", &self.project_author.to_hex(), "malware"])];
        for (id, release) in affected {
            tags.push(tag(["e", &id.to_hex(), "malware"]));
            for f in &release.files {
                tags.push(tag(["x", &hex::encode(f.sha256), "malware"]));
            }
        }
        tags.push(tag([
            "a",
            &self.coordinate.project_address(&self.project_author),
        ]));
        let content = format!("{} ({} {})", self.summary, self.coordinate, self.versions);
        EventBuilder::new(Kind::from(REPORT_KIND), content).tags(tags)
    }
}

/// Verified events, then selection, for incidents: of `events` (any kinds, from any relays, each
/// verified), the current incident at each address (NIP-01: newest, lowest id on a tie), read,
/// with their signers. A forged newer version from a relay never displaces the real one: it is
/// not a [`Verified`] event.
pub fn current_incidents(events: &[Verified]) -> Vec<(PublicKey, Incident)> {
    let incidents = events.iter().filter(|e| e.kind.as_u16() == INCIDENT_KIND);
    crate::event::newest_by_address(incidents)
        .into_iter()
        .filter_map(|e| Some((e.pubkey, Incident::from_event(e).ok()?)))
        .collect()
}

/// The incident by which `author` withdraws `version` of `coordinate`, among `incidents`
/// (signer, incident): [`Incident::withdraws`] applied to each.
pub fn withdrawing<'i>(
    incidents: &'i [(PublicKey, Incident)],
    author: &PublicKey,
    coordinate: &Coordinate,
    version: &Version,
) -> Option<&'i Incident> {
    incidents
        .iter()
        .find(|(signer, i)| i.withdraws(signer, author, coordinate, version))
        .map(|(_, i)| i)
}

#[cfg(test)]
mod tests {
    use super::*;
    use nostr::prelude::{FinalizeEvent as _, Keys, Timestamp};

    fn sample(author: &Keys) -> Incident {
        Incident {
            project_author: author.public_key(),
            coordinate: Coordinate::new("skyrim-se", "trees").unwrap(),
            id: "2026-11-stolen-key".into(),
            versions: VersionReq::parse(">=1.1.0, <1.2.0").unwrap(),
            severity: Severity::Critical,
            summary: "1.1.x was built on a compromised machine".into(),
            instructions: "Roll back to 1.0.0.".into(),
            affected_events: vec![EventId::from_byte_array([0; 32])],
            withdrawn: false,
        }
    }

    #[test]
    fn an_incident_round_trips_and_names_affected_versions() {
        let keys = Keys::generate();
        let i = sample(&keys);
        let e = i.to_builder().finalize(&keys).unwrap();
        let back = Incident::from_event(&e).unwrap();
        assert_eq!(back, i);
        assert!(back.affects(&Version::new(1, 1, 3)));
        assert!(!back.affects(&Version::new(1, 0, 0)));
        assert!(back.is_authoritative(&e.pubkey));
        assert!(!back.is_authoritative(&Keys::generate().public_key()));
        let mut w = i.clone();
        w.withdrawn = true;
        let w = Incident::from_event(&w.to_builder().finalize(&keys).unwrap()).unwrap();
        assert!(!w.affects(&Version::new(1, 1, 3)));
    }

    #[test]
    fn malformed_tags_are_named() {
        let keys = Keys::generate();
        let e = EventBuilder::new(Kind::from(INCIDENT_KIND), "")
            .tags([
                tag(["d", "skyrim-se.trees:incident:x"]),
                tag([
                    "a",
                    &format!("30078:{}:skyrim-se.trees", keys.public_key().to_hex()),
                ]),
                tag(["versions", "not a range"]),
                tag(["severity", "low"]),
                tag(["summary", "s"]),
            ])
            .finalize(&keys)
            .unwrap();
        let err = Incident::from_event(&e).unwrap_err().to_string();
        assert!(
            err.contains("\"versions\"") && err.contains("not a range"),
            "{err}"
        );
    }

    #[test]
    fn the_current_incident_verifies_before_it_is_chosen_and_binds_only_its_project() {
        let keys = Keys::generate();
        let i = sample(&keys);
        let real = i
            .to_builder()
            .custom_created_at(Timestamp::from_secs(1_000))
            .finalize(&keys)
            .unwrap();
        // A newer version at the same address, withdrawing it, that does not verify.
        let mut forged = i.clone();
        forged.withdrawn = true;
        let mut forged = forged
            .to_builder()
            .custom_created_at(Timestamp::from_secs(2_000))
            .finalize(&keys)
            .unwrap();
        forged.sig = real.sig;
        for events in [
            vec![forged.clone(), real.clone()],
            vec![real.clone(), forged.clone()],
        ] {
            // The forgery never becomes a Verified event, whatever the order.
            let current = current_incidents(&Verified::keep_valid(events));
            assert_eq!(current, vec![(keys.public_key(), i.clone())]);
            let v = Version::new(1, 1, 0);
            let author = keys.public_key();
            assert!(withdrawing(&current, &author, &i.coordinate, &v).is_some());
            let other = Coordinate::new("skyrim-se", "grass").unwrap();
            assert!(withdrawing(&current, &author, &other, &v).is_none());
            let stranger = Keys::generate().public_key();
            assert!(withdrawing(&current, &stranger, &i.coordinate, &v).is_none());
            assert!(
                withdrawing(&current, &author, &i.coordinate, &Version::new(1, 2, 0)).is_none()
            );
        }
        // Someone else's incident about this project is read, but withdraws nothing.
        let stranger = Keys::generate();
        let theirs = i.to_builder().finalize(&stranger).unwrap();
        let current = current_incidents(&Verified::keep_valid([theirs]));
        assert_eq!(current.len(), 1);
        let v = Version::new(1, 1, 0);
        assert!(withdrawing(&current, &keys.public_key(), &i.coordinate, &v).is_none());
    }
}
