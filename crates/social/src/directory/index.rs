//! What a directory knows: each person's newest profile (kind 0), relay list (10002) and inbox
//! list (10050), kept in memory for NIP-50 search over names and for the nodes to probe. It is
//! fed by the directory's own relay (a subscription, like any client's), so every front-end
//! of a shared store builds the same index.

use std::collections::{BTreeSet, HashMap};
use std::sync::RwLock;

use nostr::prelude::PublicKey;
use seedstr_proto::filter::{search_terms, Filter};
use seedstr_proto::Verified;
use seedstr_relay::search::Search;

use crate::home::RELAY_LIST_KIND;
use crate::inbox::INBOX_RELAYS_KIND;
use crate::profile::{fields_of, PROFILE_KIND};

/// The most people a directory front-end indexes; more are not indexed (and logged).
pub const MAX_PEOPLE: usize = 500_000;
/// The most node addresses one person's lists contribute.
pub const MAX_NODES_PER_PERSON: usize = 8;
/// The longest text of a profile field that is indexed.
const MAX_FIELD_CHARS: usize = 256;

/// One person's indexed profile.
#[derive(Debug, Clone)]
struct Entry {
    id: [u8; 32],
    created_at: u64,
    /// Lowercased name and display name.
    names: Vec<String>,
    /// Lowercased NIP-05 identifier.
    nip05: String,
    /// Lowercased about text.
    about: String,
}

#[derive(Debug, Default)]
struct Inner {
    profiles: HashMap<PublicKey, Entry>,
    /// Per person and list kind: when it was signed and the WebSocket addresses it names.
    lists: HashMap<(PublicKey, u16), (u64, Vec<String>)>,
    full_logged: bool,
}

/// The directory's index of people.
#[derive(Debug, Default)]
pub struct DirectoryIndex {
    inner: RwLock<Inner>,
}

/// A field of a profile, lowercased and cut to the indexed length.
fn field(fields: &serde_json::Map<String, serde_json::Value>, name: &str) -> String {
    fields
        .get(name)
        .and_then(|v| v.as_str())
        .unwrap_or_default()
        .chars()
        .take(MAX_FIELD_CHARS)
        .collect::<String>()
        .to_lowercase()
}

impl DirectoryIndex {
    /// An empty index.
    pub fn new() -> DirectoryIndex {
        DirectoryIndex::default()
    }

    /// Takes `event` in if it is a profile or a list newer than the one held.
    pub fn absorb(&self, event: &Verified) {
        let kind = event.kind.as_u16();
        let at = event.created_at.as_secs();
        let mut inner = self.inner.write().expect("not poisoned");
        let known = inner.profiles.contains_key(&event.pubkey)
            || inner.lists.contains_key(&(event.pubkey, RELAY_LIST_KIND))
            || inner.lists.contains_key(&(event.pubkey, INBOX_RELAYS_KIND));
        if !known && inner.profiles.len() >= MAX_PEOPLE {
            if !inner.full_logged {
                tracing::warn!(
                    "the directory index holds {MAX_PEOPLE} people; newcomers are not indexed"
                );
                inner.full_logged = true;
            }
            return;
        }
        match kind {
            PROFILE_KIND => {
                if inner
                    .profiles
                    .get(&event.pubkey)
                    .is_some_and(|e| e.created_at >= at)
                {
                    return;
                }
                let Ok(fields) = fields_of(&event.content, "") else {
                    return;
                };
                let names = [field(&fields, "name"), field(&fields, "display_name")]
                    .into_iter()
                    .filter(|n| !n.is_empty())
                    .collect();
                inner.profiles.insert(
                    event.pubkey,
                    Entry {
                        id: event.id.to_bytes(),
                        created_at: at,
                        names,
                        nip05: field(&fields, "nip05"),
                        about: field(&fields, "about"),
                    },
                );
            }
            RELAY_LIST_KIND | INBOX_RELAYS_KIND => {
                let key = (event.pubkey, kind);
                if inner.lists.get(&key).is_some_and(|(t, _)| *t >= at) {
                    return;
                }
                let tag = if kind == RELAY_LIST_KIND {
                    "r"
                } else {
                    "relay"
                };
                let urls: Vec<String> = event
                    .tags
                    .iter()
                    .filter_map(|t| match t.as_slice() {
                        [n, u, ..]
                            if n == tag
                                && (u.starts_with("ws://") || u.starts_with("wss://"))
                                && u.len() <= 256 =>
                        {
                            Some(u.clone())
                        }
                        _ => None,
                    })
                    .take(MAX_NODES_PER_PERSON)
                    .collect();
                inner.lists.insert(key, (at, urls));
            }
            _ => {}
        }
    }

    /// How many people have an indexed profile.
    pub fn people(&self) -> usize {
        self.inner.read().expect("not poisoned").profiles.len()
    }

    /// The profile events matching `query`, most relevant first: a term equal to a name
    /// counts most, then a name starting with it, a name or NIP-05 identifier holding it, and
    /// the about text; every term must be found somewhere; newer profiles first among equals.
    pub fn search_profiles(&self, query: &str, limit: usize) -> Vec<[u8; 32]> {
        let terms = search_terms(query);
        if terms.is_empty() {
            return Vec::new();
        }
        let inner = self.inner.read().expect("not poisoned");
        let mut scored: Vec<(u32, u64, [u8; 32])> = inner
            .profiles
            .values()
            .filter_map(|e| {
                let mut score = 0;
                for t in &terms {
                    let s = if e.names.iter().any(|n| n == t) {
                        8
                    } else if e.names.iter().any(|n| n.starts_with(t.as_str())) {
                        4
                    } else if e.names.iter().any(|n| n.contains(t.as_str()))
                        || e.nip05.contains(t.as_str())
                    {
                        2
                    } else if e.about.contains(t.as_str()) {
                        1
                    } else {
                        return None;
                    };
                    score += s;
                }
                Some((score, e.created_at, e.id))
            })
            .collect();
        scored.sort_by(|a, b| b.0.cmp(&a.0).then(b.1.cmp(&a.1)).then(a.2.cmp(&b.2)));
        scored
            .into_iter()
            .take(limit)
            .map(|(_, _, id)| id)
            .collect()
    }

    /// Every node address the indexed lists name (WebSocket only), each once.
    pub fn node_urls(&self) -> Vec<String> {
        let inner = self.inner.read().expect("not poisoned");
        let set: BTreeSet<&String> = inner.lists.values().flat_map(|(_, urls)| urls).collect();
        set.into_iter().cloned().collect()
    }
}

impl Search for DirectoryIndex {
    fn search(&self, filter: &Filter, limit: usize) -> Vec<[u8; 32]> {
        let wants_profiles = filter
            .kinds
            .as_ref()
            .is_none_or(|k| k.binary_search(&PROFILE_KIND).is_ok());
        match (&filter.search, wants_profiles) {
            (Some(q), true) => self.search_profiles(q, limit),
            _ => Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use nostr::prelude::{EventBuilder, FinalizeEvent as _, Keys, Kind, Tag, Timestamp};
    use proptest::prelude::*;

    fn profile(keys: &Keys, at: u64, content: &str) -> Verified {
        let e = EventBuilder::new(Kind::Metadata, content)
            .custom_created_at(Timestamp::from(at))
            .finalize(keys)
            .unwrap();
        Verified::check(e).unwrap()
    }

    #[test]
    fn names_rank_above_about_text_and_newer_profiles_replace_older() {
        let (ann, annabel, bob) = (Keys::generate(), Keys::generate(), Keys::generate());
        let index = DirectoryIndex::new();
        let a_old = profile(&ann, 1, r#"{"name":"zed"}"#);
        let a = profile(&ann, 2, r#"{"name":"Ann","about":"maps"}"#);
        let ab = profile(&annabel, 2, r#"{"display_name":"Annabel"}"#);
        let b = profile(
            &bob,
            2,
            r#"{"name":"bob","about":"friend of ann","nip05":"bob@maps.example"}"#,
        );
        for e in [&a, &a_old, &ab, &b] {
            index.absorb(e);
        }
        let ids = |q: &str| index.search_profiles(q, 10);
        assert_eq!(
            ids("ann"),
            [a.id.to_bytes(), ab.id.to_bytes(), b.id.to_bytes()]
        );
        assert_eq!(
            ids("zed"),
            Vec::<[u8; 32]>::new(),
            "the older profile was replaced"
        );
        assert_eq!(ids("ann maps"), [a.id.to_bytes(), b.id.to_bytes()]);
        assert!(ids("").is_empty());
        let list = EventBuilder::new(Kind::from(10050), "")
            .tags([
                Tag::parse(["relay", "ws://127.0.0.1:1/"]).unwrap(),
                Tag::parse(["relay", "https://not.example"]).unwrap(),
            ])
            .finalize(&bob)
            .unwrap();
        index.absorb(&Verified::check(list).unwrap());
        assert_eq!(index.node_urls(), ["ws://127.0.0.1:1/"]);
    }

    proptest! {
        #![proptest_config(ProptestConfig {
            rng_seed: proptest::test_runner::RngSeed::Fixed(0x5eed),
            failure_persistence: None,
            cases: 64,
            ..ProptestConfig::default()
        })]

        /// Whatever a profile says, indexing it never panics, and a profile is found by its
        /// own name.
        #[test]
        fn any_profile_indexes_and_is_found_by_name(name in "[a-z]{1,12}", junk in "\\PC{0,200}") {
            let k = Keys::generate();
            let index = DirectoryIndex::new();
            index.absorb(&profile(&k, 1, &junk));
            let p = profile(&k, 2, &serde_json::json!({"name": name}).to_string());
            index.absorb(&p);
            prop_assert_eq!(index.search_profiles(&name, 5).first().copied(), Some(p.id.to_bytes()));
        }
    }
}
