//! Who may publish a name: publisher registries (kind 30087), each a signed list that maps
//! package names to publisher keys and names revoked keys. A reader trusts the registries it
//! chose (its own among them); a key may also revoke itself. A release counts only when a
//! trusted registry maps its signer to its name and nobody trusted has revoked the signer.

use std::collections::{BTreeMap, BTreeSet};

use nostr::prelude::{Event, EventBuilder, Kind, PublicKey, Tag, Timestamp};
use seedstr_client::resolve::target::npub;
use seedstr_proto::event::{d_tag, newest_by_address};
use seedstr_proto::release::Coordinate;
use seedstr_proto::Verified;

/// Publisher registry (30087).
pub const REGISTRY_KIND: u16 = 30087;
/// The registry's `d`: one registry per maintainer.
pub const REGISTRY_D: &str = "libreseed";

/// A revoked key, and who said so.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Revocation {
    /// The revoked key.
    pub key: PublicKey,
    /// Unix seconds the revoker gives for the compromise or retirement.
    pub since: u64,
    /// Why, as the revoker says.
    pub reason: String,
    /// The registry (or the key itself) that signed it.
    pub by: PublicKey,
}

/// One maintainer's registry: the content of a 30087.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RegistryList {
    /// Package (`npm.<slug>`, `cargo.<slug>`) to the keys allowed to publish it.
    pub publishers: BTreeMap<Coordinate, BTreeSet<PublicKey>>,
    /// Revoked keys: key to (since, reason).
    pub revoked: BTreeMap<PublicKey, (u64, String)>,
    /// What the maintainer says of the registry.
    pub description: String,
}

/// Why a registry event was refused.
#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    /// Not a publisher registry.
    #[error("event {id} is not a publisher registry: {why}")]
    NotARegistry {
        /// The event.
        id: String,
        /// What is wrong.
        why: String,
    },
    /// A tag does not read.
    #[error("publisher registry {id}: malformed {tag:?} tag: {why}")]
    Tag {
        /// The event.
        id: String,
        /// The tag.
        tag: &'static str,
        /// What is wrong.
        why: String,
    },
}

impl RegistryList {
    /// Reads a registry event, checking its signature.
    pub fn from_event(event: &Event) -> Result<RegistryList, RegistryError> {
        let id = event.id.to_hex();
        let not = |why: &str| RegistryError::NotARegistry {
            id: id.clone(),
            why: why.to_owned(),
        };
        if event.kind.as_u16() != REGISTRY_KIND {
            return Err(not("wrong kind"));
        }
        event
            .verify()
            .map_err(|e| not(&format!("bad id or signature: {e}")))?;
        if event.tags.identifier().as_deref() != Some(REGISTRY_D) {
            return Err(not("its d tag is not \"libreseed\""));
        }
        let bad = |tag: &'static str, why: String| RegistryError::Tag {
            id: id.clone(),
            tag,
            why,
        };
        let mut list = RegistryList {
            description: event.content.clone(),
            ..RegistryList::default()
        };
        for t in event.tags.iter() {
            let s = t.as_slice();
            match s[0].as_str() {
                "publisher" => {
                    let [_, name, key, ..] = s else {
                        return Err(bad(
                            "publisher",
                            "expected [\"publisher\", <ns>.<slug>, <hex key>]".into(),
                        ));
                    };
                    let coordinate = Coordinate::parse(name)
                        .map_err(|e| bad("publisher", format!("{name:?}: {e}")))?;
                    let key = PublicKey::from_hex(key)
                        .map_err(|_| bad("publisher", format!("{key:?} is not a public key")))?;
                    list.publishers.entry(coordinate).or_default().insert(key);
                }
                "revoked" => {
                    let [_, key, since, rest @ ..] = s else {
                        return Err(bad(
                            "revoked",
                            "expected [\"revoked\", <hex key>, <unix seconds>, <reason>]".into(),
                        ));
                    };
                    let key = PublicKey::from_hex(key)
                        .map_err(|_| bad("revoked", format!("{key:?} is not a public key")))?;
                    let since = since
                        .parse()
                        .map_err(|_| bad("revoked", format!("{since:?} is not Unix seconds")))?;
                    let reason = rest.first().cloned().unwrap_or_default();
                    list.revoked.insert(key, (since, reason));
                }
                _ => {}
            }
        }
        Ok(list)
    }

    /// The unsigned event.
    pub fn to_builder(&self) -> EventBuilder {
        let mut tags = vec![Tag::identifier(REGISTRY_D)];
        for (coordinate, keys) in &self.publishers {
            for key in keys {
                tags.push(tag(["publisher", &coordinate.to_string(), &key.to_hex()]));
            }
        }
        for (key, (since, reason)) in &self.revoked {
            tags.push(tag(["revoked", &key.to_hex(), &since.to_string(), reason]));
        }
        tags.push(tag(["alt", "LibreSeed publisher registry"]));
        EventBuilder::new(Kind::from(REGISTRY_KIND), &self.description).tags(tags)
    }
}

fn tag<const N: usize>(parts: [&str; N]) -> Tag {
    Tag::parse(parts).expect("a tag with a name")
}

/// Why a release's signer may not publish its name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// The signer's key is revoked.
    #[error("{signer} is revoked ({}), since {since}{}", if by == signer { "by itself".to_owned() } else { format!("by the registry {by}") }, if reason.is_empty() { String::new() } else { format!(": {reason}") })]
    Revoked {
        /// The signer's npub.
        signer: String,
        /// Who revoked it: a trusted registry, or the key itself.
        by: String,
        /// From when it is distrusted.
        since: u64,
        /// Why, as the revoker says.
        reason: String,
    },
    /// No trusted registry allows the signer to publish the name.
    #[error("no trusted registry maps {name} to {signer}{}", if allowed.is_empty() { String::new() } else { format!(" (it allows {})", allowed.join(", ")) })]
    NotMapped {
        /// The package name.
        name: String,
        /// The signer's npub.
        signer: String,
        /// The keys the registries allow for the name.
        allowed: Vec<String>,
    },
}

/// What the trusted registries, and self-revocations, say together.
#[derive(Debug, Clone, Default)]
pub struct Registry {
    /// The registries trusted, in the order given.
    pub trusted: Vec<PublicKey>,
    /// The newest list of each trusted registry that was found.
    pub lists: BTreeMap<PublicKey, RegistryList>,
    /// Every revocation in force: by a trusted registry, or a key's own.
    pub revocations: BTreeMap<PublicKey, Revocation>,
}

impl Registry {
    /// A registry trusting `trusted`, with no list read yet.
    pub fn new(trusted: Vec<PublicKey>) -> Registry {
        Registry {
            trusted,
            ..Registry::default()
        }
    }

    /// Takes in the registry events found, from every source at once: the newest list of each
    /// trusted registry counts, and a key's own list counts for revoking that key only.
    /// Unreadable events are returned, described.
    pub fn absorb<'e>(&mut self, events: impl IntoIterator<Item = &'e Verified>) -> Vec<String> {
        let mut problems = Vec::new();
        let lists = events
            .into_iter()
            .filter(|e| e.kind.as_u16() == REGISTRY_KIND && d_tag(e) == REGISTRY_D);
        for event in newest_by_address(lists) {
            let author = event.pubkey;
            let list = match RegistryList::from_event(event) {
                Ok(l) => l,
                Err(e) => {
                    problems.push(e.to_string());
                    continue;
                }
            };
            let trusted = self.trusted.contains(&author);
            for (key, (since, reason)) in &list.revoked {
                if trusted || *key == author {
                    self.revocations.entry(*key).or_insert(Revocation {
                        key: *key,
                        since: *since,
                        reason: reason.clone(),
                        by: author,
                    });
                }
            }
            if trusted {
                self.lists.insert(author, list);
            }
        }
        problems
    }

    /// Every key some trusted registry maps to `coordinate`.
    pub fn publishers(&self, coordinate: &Coordinate) -> BTreeSet<PublicKey> {
        self.lists
            .values()
            .filter_map(|l| l.publishers.get(coordinate))
            .flatten()
            .copied()
            .collect()
    }

    /// Whether `signer` may publish `coordinate` (shown to people as `name`).
    pub fn check(
        &self,
        coordinate: &Coordinate,
        name: &str,
        signer: &PublicKey,
    ) -> Result<(), Refusal> {
        if let Some(r) = self.revocations.get(signer) {
            return Err(Refusal::Revoked {
                signer: npub(signer),
                by: npub(&r.by),
                since: r.since,
                reason: r.reason.clone(),
            });
        }
        let allowed = self.publishers(coordinate);
        if !allowed.contains(signer) {
            return Err(Refusal::NotMapped {
                name: name.to_owned(),
                signer: npub(signer),
                allowed: allowed.iter().map(npub).collect(),
            });
        }
        Ok(())
    }
}

/// `list` with `key` allowed to publish `coordinate`.
pub fn with_publisher(
    mut list: RegistryList,
    coordinate: Coordinate,
    key: PublicKey,
) -> RegistryList {
    list.publishers.entry(coordinate).or_default().insert(key);
    list
}

/// `list` with `key` revoked from `since`.
pub fn with_revoked(
    mut list: RegistryList,
    key: PublicKey,
    since: Timestamp,
    reason: &str,
) -> RegistryList {
    list.revoked
        .insert(key, (since.as_secs(), reason.to_owned()));
    list
}

#[cfg(test)]
mod tests {
    use super::*;
    use nostr::prelude::{FinalizeEvent as _, Keys};

    fn sign(list: &RegistryList, keys: &Keys, at: u64) -> Verified {
        let e = list
            .to_builder()
            .custom_created_at(Timestamp::from(at))
            .finalize(keys)
            .unwrap();
        Verified::check(e).unwrap()
    }

    #[test]
    fn trusted_registries_map_names_and_revocations_hold_from_any_signer_of_their_own() {
        let (maintainer, alice, mallory, stranger) = (
            Keys::generate(),
            Keys::generate(),
            Keys::generate(),
            Keys::generate(),
        );
        let greet = Coordinate::new("npm", "@acme/greet").unwrap();
        let list = with_publisher(RegistryList::default(), greet.clone(), alice.public_key());
        let old = sign(&RegistryList::default(), &maintainer, 10);
        let current = sign(&list, &maintainer, 20);
        // A stranger's registry maps greet to mallory: not trusted, so it counts for nothing.
        let rogue = sign(
            &with_publisher(RegistryList::default(), greet.clone(), mallory.public_key()),
            &stranger,
            30,
        );
        let mut reg = Registry::new(vec![maintainer.public_key()]);
        assert!(reg.absorb([&old, &current, &rogue]).is_empty());
        assert_eq!(reg.publishers(&greet), BTreeSet::from([alice.public_key()]));
        reg.check(&greet, "@acme/greet", &alice.public_key())
            .unwrap();
        let why = reg
            .check(&greet, "@acme/greet", &mallory.public_key())
            .unwrap_err()
            .to_string();
        assert!(
            why.contains("no trusted registry maps @acme/greet"),
            "{why}"
        );
        assert!(why.contains("it allows npub1"), "{why}");

        // Alice revokes her own key; the revocation holds though she is no registry.
        let own = sign(
            &with_revoked(
                RegistryList::default(),
                alice.public_key(),
                Timestamp::from(15),
                "laptop stolen",
            ),
            &alice,
            40,
        );
        // The stranger's revocation of alice does not count.
        let mut reg2 = Registry::new(vec![maintainer.public_key()]);
        let hostile = sign(
            &with_revoked(
                RegistryList::default(),
                alice.public_key(),
                Timestamp::from(1),
                "spite",
            ),
            &stranger,
            41,
        );
        reg2.absorb([&current, &hostile]);
        reg2.check(&greet, "@acme/greet", &alice.public_key())
            .unwrap();
        reg.absorb([&own]);
        let why = reg
            .check(&greet, "@acme/greet", &alice.public_key())
            .unwrap_err()
            .to_string();
        assert!(why.contains("revoked (by itself)"), "{why}");
        assert!(why.contains("since 15: laptop stolen"), "{why}");
    }

    #[test]
    fn a_registry_round_trips_and_bad_tags_are_named() {
        let keys = Keys::generate();
        let list = with_revoked(
            with_publisher(
                RegistryList::default(),
                Coordinate::new("cargo", "greet").unwrap(),
                keys.public_key(),
            ),
            Keys::generate().public_key(),
            Timestamp::from(99),
            "compromised",
        );
        let e = sign(&list, &keys, 5);
        assert_eq!(RegistryList::from_event(&e).unwrap(), list);
        let broken = EventBuilder::new(Kind::from(REGISTRY_KIND), "")
            .tags([
                Tag::identifier(REGISTRY_D),
                tag(["publisher", "npm.x", "nothex"]),
            ])
            .finalize(&keys)
            .unwrap();
        let why = RegistryList::from_event(&broken).unwrap_err().to_string();
        assert!(why.contains("\"nothex\" is not a public key"), "{why}");
        let other_d = EventBuilder::new(Kind::from(REGISTRY_KIND), "")
            .tags([Tag::identifier("other")])
            .finalize(&keys)
            .unwrap();
        assert!(RegistryList::from_event(&other_d).is_err());
    }
}
