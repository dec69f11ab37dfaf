//! What a mirror should hold: every current release of the authors it follows, less the
//! versions their own incidents withdraw. Built up event by event as relays send them.

use std::collections::{BTreeMap, BTreeSet};

use nostr::prelude::{Event, PublicKey};
use seedstr_proto::event::{d_tag, replaces_at};
use seedstr_proto::release::{Release, RELEASE_KIND};
use seedstr_proto::Verified;

use crate::events::incident::Incident;
use crate::events::INCIDENT_KIND;

/// The followed authors' releases and incidents, the current event at each address.
pub struct Followed {
    authors: BTreeSet<PublicKey>,
    releases: BTreeMap<(PublicKey, String), (Release, Event)>,
    incidents: BTreeMap<(PublicKey, String), (Incident, Event)>,
    /// Every payload a followed release ever named, and the address that named it, so that a
    /// replaced or withdrawn payload can be let go.
    named: BTreeMap<String, (PublicKey, String)>,
}

/// What to change so that the mirror holds what it should.
#[derive(Debug, Default)]
pub struct MirrorPlan {
    /// Current releases not held yet.
    pub fetch: Vec<(Release, Event)>,
    /// Payloads to let go.
    pub drop: Vec<Dropped>,
    /// Current releases an incident withdraws, and the incident: not fetched.
    pub withheld: Vec<(Release, Incident)>,
}

/// A payload the mirror lets go.
#[derive(Debug)]
pub struct Dropped {
    /// The payload's info hash.
    pub infohash: String,
    /// `<ns>.<slug>@<version>`
    pub release: String,
    /// Why it goes.
    pub why: String,
}

/// Why a mirror passed over an event.
#[derive(Debug, thiserror::Error)]
pub enum Ignored {
    /// Not by a followed author.
    #[error("not by a followed author")]
    NotFollowed,
    /// A release that does not read.
    #[error(transparent)]
    Release(#[from] seedstr_proto::release::ManifestError),
    /// An incident that does not read.
    #[error(transparent)]
    Incident(#[from] seedstr_proto::tags::EventReadError),
    /// An incident about another author's project.
    #[error("an incident about another author's project")]
    OthersIncident,
    /// Another kind of event.
    #[error("kind {0} is not a release or an incident")]
    Kind(u16),
}

/// How an event changed what is known.
#[derive(Debug, PartialEq, Eq)]
pub enum Taken {
    /// A new current event at its address.
    New,
    /// Known already, or older than the one held.
    Known,
}

impl Followed {
    /// Following `authors`, nothing known yet.
    pub fn new(authors: impl IntoIterator<Item = PublicKey>) -> Followed {
        Followed {
            authors: authors.into_iter().collect(),
            releases: BTreeMap::new(),
            incidents: BTreeMap::new(),
            named: BTreeMap::new(),
        }
    }

    /// Takes one event from a relay. Events by others, of other kinds, or that fail their
    /// checks (the signature first) are refused with the reason.
    pub fn take(&mut self, event: &Verified) -> Result<Taken, Ignored> {
        if !self.authors.contains(&event.pubkey) {
            return Err(Ignored::NotFollowed);
        }
        let key = (event.pubkey, d_tag(event).to_owned());
        match event.kind.as_u16() {
            RELEASE_KIND => {
                let release = Release::from_event(event)?;
                self.named
                    .entry(release.infohash_hex())
                    .or_insert_with(|| key.clone());
                Ok(keep_newest(&mut self.releases, key, release, event))
            }
            INCIDENT_KIND => {
                let incident = Incident::from_event(event)?;
                if !incident.is_authoritative(&event.pubkey) {
                    // A follower's word on someone else's mod: not the mirror's business.
                    return Err(Ignored::OthersIncident);
                }
                Ok(keep_newest(&mut self.incidents, key, incident, event))
            }
            k => Err(Ignored::Kind(k)),
        }
    }

    /// The author's incident that withdraws `release`, if any.
    fn withdrawing(&self, author: &PublicKey, release: &Release) -> Option<&Incident> {
        self.incidents
            .iter()
            .filter(|((a, _), _)| a == author)
            .map(|(_, (i, _))| i)
            .find(|i| i.withdraws(author, author, &release.coordinate, &release.version))
    }

    /// What to fetch and what to let go, given the payloads held: `held` (any origin, so that a
    /// payload published or installed here is not fetched again) and `mirrored` (what the
    /// mirror may drop). A payload is dropped only for a reason seen in an event — an incident
    /// or a newer event at its address — never because a relay stopped listing it.
    pub fn plan(&self, held: &BTreeSet<String>, mirrored: &BTreeSet<String>) -> MirrorPlan {
        let mut plan = MirrorPlan::default();
        let mut wanted = BTreeSet::new();
        for ((author, _), (release, event)) in &self.releases {
            match self.withdrawing(author, release) {
                Some(incident) => plan.withheld.push((release.clone(), incident.clone())),
                None => {
                    let ih = release.infohash_hex();
                    if !held.contains(&ih) {
                        plan.fetch.push((release.clone(), event.clone()));
                    }
                    wanted.insert(ih);
                }
            }
        }
        for ih in mirrored.difference(&wanted) {
            let Some(key) = self.named.get(ih) else {
                continue;
            };
            let Some((current, _)) = self.releases.get(key) else {
                continue;
            };
            let name = current.d();
            let why = if current.infohash_hex() != *ih {
                format!(
                    "replaced by a newer event of {name} naming {}",
                    current.infohash_hex()
                )
            } else {
                match self.withdrawing(&key.0, current) {
                    Some(i) => format!("withdrawn by incident {}: {}", i.id, i.summary),
                    None => continue,
                }
            };
            plan.drop.push(Dropped {
                infohash: ih.clone(),
                release: name,
                why,
            });
        }
        plan
    }
}

/// Keeps `event` at `key` when it replaces what is held there (the shared selection rule, one
/// event at a time: NIP-01 order, dates far ahead set aside).
fn keep_newest<T>(
    at: &mut BTreeMap<(PublicKey, String), (T, Event)>,
    key: (PublicKey, String),
    value: T,
    event: &Verified,
) -> Taken {
    let held = at.get(&key).map(|(_, held)| held);
    if replaces_at(event, held, seedstr_proto::clock::unix_now()) {
        at.insert(key, (value, event.event().clone()));
        Taken::New
    } else {
        Taken::Known
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::incident::Severity;
    use nostr::prelude::{EventBuilder, FinalizeEvent as _, Keys, Timestamp};
    use seedstr_proto::release::{Coordinate, ReleaseFile, Version, VersionReq};

    fn release(version: &str, seed: u8) -> Release {
        Release {
            coordinate: Coordinate::parse("skyrim-se.lamps").unwrap(),
            version: Version::parse(version).unwrap(),
            files: vec![ReleaseFile {
                path: "Data/Lamps.esp".into(),
                sha256: [seed; 32],
                size: 10,
            }],
            infohash: [seed; 20],
            torrent_name: "lamps".into(),
            trackers: vec![],
            mirrors: vec![],
            seeders: Vec::new(),
            supersedes: None,
            changelog: String::new(),
            dependencies: vec![],
            game_versions: vec![],
            zap_target: None,
            zap_splits: Vec::new(),
            package: None,
        }
    }

    fn sign(keys: &Keys, builder: EventBuilder, at: u64) -> Event {
        builder
            .custom_created_at(Timestamp::from_secs(at))
            .finalize(keys)
            .unwrap()
    }

    fn sign_release(keys: &Keys, r: &Release, at: u64) -> Verified {
        Verified::check(sign(keys, r.to_builder(&keys.public_key()), at)).unwrap()
    }

    fn incident(keys: &Keys, versions: &str, withdrawn: bool, at: u64) -> Verified {
        let i = Incident {
            project_author: keys.public_key(),
            coordinate: Coordinate::parse("skyrim-se.lamps").unwrap(),
            id: "bad-dll".into(),
            versions: VersionReq::parse(versions).unwrap(),
            severity: Severity::Critical,
            summary: "ships a bad dll".into(),
            instructions: String::new(),
            affected_events: vec![],
            withdrawn,
        };
        Verified::check(sign(keys, i.to_builder(), at)).unwrap()
    }

    fn sets(ihs: &[&str]) -> BTreeSet<String> {
        ihs.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn releases_are_fetched_withheld_dropped_and_fetched_again_as_events_arrive() {
        let author = Keys::generate();
        let stranger = Keys::generate();
        let mut f = Followed::new([author.public_key()]);
        let v1 = release("1.0.0", 1);
        let v2 = release("1.1.0", 2);
        let e1 = sign_release(&author, &v1, 100);
        let e2 = sign_release(&author, &v2, 200);
        assert_eq!(f.take(&e1).unwrap(), Taken::New);
        assert_eq!(f.take(&e1).unwrap(), Taken::Known);
        assert_eq!(f.take(&e2).unwrap(), Taken::New);
        let by_stranger = sign_release(&stranger, &release("9.0.0", 9), 100);
        assert!(f
            .take(&by_stranger)
            .unwrap_err()
            .to_string()
            .contains("not by a followed"));

        let none = BTreeSet::new();
        let plan = f.plan(&none, &none);
        assert_eq!(plan.fetch.len(), 2);
        let (ih1, ih2) = (v1.infohash_hex(), v2.infohash_hex());
        let both = sets(&[&ih1, &ih2]);
        assert!(f.plan(&both, &both).fetch.is_empty());

        // The author withdraws 1.1.0: it is dropped and not fetched again.
        assert_eq!(
            f.take(&incident(&author, ">=1.1.0", false, 300)).unwrap(),
            Taken::New
        );
        let plan = f.plan(&both, &both);
        assert_eq!(plan.drop.len(), 1, "{plan:?}");
        assert_eq!(plan.drop[0].infohash, ih2);
        assert!(plan.drop[0].why.contains("bad-dll"), "{}", plan.drop[0].why);
        assert_eq!(plan.withheld.len(), 1);
        let after = sets(&[&ih1]);
        assert!(f.plan(&after, &after).fetch.is_empty());

        // The incident is taken back: 1.1.0 is wanted again.
        assert_eq!(
            f.take(&incident(&author, ">=1.1.0", true, 400)).unwrap(),
            Taken::New
        );
        let plan = f.plan(&after, &after);
        assert_eq!(plan.fetch.len(), 1);
        assert_eq!(plan.fetch[0].0.version, v2.version);

        // A newer event for 1.0.0 names other bytes: the old payload goes, the new one comes.
        let v1b = release("1.0.0", 3);
        f.take(&sign_release(&author, &v1b, 500)).unwrap();
        let plan = f.plan(&both, &both);
        assert_eq!(plan.drop.len(), 1);
        assert_eq!(plan.drop[0].infohash, ih1);
        assert!(
            plan.drop[0].why.contains("replaced"),
            "{}",
            plan.drop[0].why
        );
        assert_eq!(plan.fetch.len(), 1);
        assert_eq!(plan.fetch[0].0.infohash, [3; 20]);

        // A payload held for another reason (published here) is never fetched or dropped.
        let mirrored = sets(&[&ih2]);
        let held = sets(&[&ih2, &v1b.infohash_hex()]);
        let plan = f.plan(&held, &mirrored);
        assert!(plan.fetch.is_empty() && plan.drop.is_empty(), "{plan:?}");
    }
}
