//! Finding people through directories none of which is trusted: by key, by NIP-05 identifier
//! (checked against the domain) or by name (NIP-50 search). Every event is verified, the newest
//! of each list kept, search answers ranked again here (a profile that does not match the name
//! is dropped whatever a directory says), and each person's node is asked itself: its own lists
//! confirm the address, and a newer profile or list it holds wins.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use nostr::prelude::PublicKey;
use seedstr_client::feed::{resolve_feed, FeedResolveError, ResolveOptions};
use seedstr_client::keys::transport::remember_attestations;
use seedstr_client::relays::{list_failures, query_all, RelaySet};
use seedstr_client::resolve::target::{npub, parse_public_key};
use seedstr_dht::record::DEFAULT_FEED_SALT;
use seedstr_dht::transport::ATTESTATION_KIND;
use seedstr_proto::event::newest_by_address;
use seedstr_proto::Verified;
use serde_json::{json, Map, Value};

use super::index::DirectoryIndex;
use super::status::RELAY_STATUS_KIND;
use crate::home::RELAY_LIST_KIND;
use crate::inbox::INBOX_RELAYS_KIND;
use crate::nip05::{lookup_nip05, Nip05Error};
use crate::profile::{fields_of, PROFILE_KIND};

/// The most people one discovery returns.
pub const MAX_FOUND: usize = 50;

/// What to look for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Query {
    /// A key (npub or hex).
    Key(PublicKey),
    /// A NIP-05 identifier (`name@domain`).
    Nip05(String),
    /// Words of a name.
    Name(String),
}

impl Query {
    /// A key if it reads as one, an identifier if it has an `@`, else a name.
    pub fn parse(text: &str) -> Query {
        if let Ok(k) = parse_public_key(text) {
            Query::Key(k)
        } else if text.contains('@') {
            Query::Nip05(text.to_owned())
        } else {
            Query::Name(text.to_owned())
        }
    }
}

/// Why nobody could be looked for.
#[derive(Debug, thiserror::Error)]
pub enum DiscoverError {
    /// No directory answered.
    #[error("no directory answered: {}", list_failures(.0))]
    NoDirectory(Vec<(String, String)>),
    /// The identifier's domain did not give a key.
    #[error(transparent)]
    Nip05(#[from] Nip05Error),
}

/// A directory's report on a node.
#[derive(Debug, Clone, serde::Serialize)]
pub struct StatusReport {
    /// The directory that probed it (npub).
    pub directory: String,
    /// When it last saw the node answer.
    pub seen_at: u64,
    /// Milliseconds to connect.
    pub rtt_open_ms: Option<u64>,
    /// Milliseconds from REQ to EOSE.
    pub rtt_read_ms: Option<u64>,
}

/// A person's node.
#[derive(Debug, Clone, serde::Serialize)]
pub struct NodeStatus {
    /// Its address (their inbox list's first, else their relay list's).
    pub url: String,
    /// What directories saw of it, newest first.
    pub reports: Vec<StatusReport>,
    /// Whether the node answered and its own list names it.
    pub confirmed: bool,
    /// Why not, when not.
    pub why: Option<String>,
}

/// A person found.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Person {
    /// Their key (npub).
    pub npub: String,
    /// Their newest profile's fields.
    pub profile: Map<String, Value>,
    /// Their relay list (10002).
    pub relays: Vec<String>,
    /// Their inbox list (10050).
    pub inbox: Vec<String>,
    /// Their node, when their lists name one.
    pub node: Option<NodeStatus>,
}

/// What [`discover`] found.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Discovery {
    /// The people, most relevant first.
    pub people: Vec<Person>,
    /// Directories that answered.
    pub directories_answered: Vec<String>,
    /// Directories that did not, and why.
    pub directories_failed: Vec<(String, String)>,
}

/// The addresses a list names under `tag`, WebSocket only.
fn urls(list: Option<&Verified>, tag: &str) -> Vec<String> {
    list.map(|l| {
        l.tags
            .iter()
            .filter_map(|t| match t.as_slice() {
                [n, u, ..] if n == tag && (u.starts_with("ws://") || u.starts_with("wss://")) => {
                    Some(u.clone())
                }
                _ => None,
            })
            .take(super::index::MAX_NODES_PER_PERSON)
            .collect()
    })
    .unwrap_or_default()
}

/// Looks for `query` through `directories` and confirms each person found with their node.
/// With `home`, the transport-key attestations found are remembered there, so the people met
/// can be found again through the DHT with every directory down ([`discover_by_feed`]).
pub async fn discover(
    directories: &RelaySet,
    query: &Query,
    limit: usize,
    home: Option<&Path>,
) -> Result<Discovery, DiscoverError> {
    let limit = limit.clamp(1, MAX_FOUND);
    let timeout = directories.timeout;
    let (people, answered, failed): (Vec<PublicKey>, _, _) = match query {
        Query::Key(k) => (vec![*k], Vec::new(), Vec::new()),
        Query::Nip05(id) => (
            vec![lookup_nip05(id, timeout).await?],
            Vec::new(),
            Vec::new(),
        ),
        Query::Name(words) => {
            let filter = json!({"kinds": [PROFILE_KIND], "search": words, "limit": limit});
            let found = query_all(&directories.urls, &filter, timeout).await;
            if found.answered.is_empty() {
                return Err(DiscoverError::NoDirectory(found.failed));
            }
            // Ranked here, by the same rule a directory uses: only what matches stays.
            let index = DirectoryIndex::new();
            let mut by_id = BTreeMap::new();
            for e in found
                .events
                .iter()
                .filter(|e| e.kind.as_u16() == PROFILE_KIND)
            {
                index.absorb(e);
                by_id.insert(e.id.to_bytes(), e.pubkey);
            }
            let ranked = index
                .search_profiles(words, limit)
                .iter()
                .filter_map(|id| by_id.get(id).copied())
                .collect();
            (ranked, found.answered, found.failed)
        }
    };
    let authors: Vec<String> = people.iter().map(|p| p.to_hex()).collect();
    let lists = json!({
        "kinds": [PROFILE_KIND, RELAY_LIST_KIND, INBOX_RELAYS_KIND, ATTESTATION_KIND],
        "authors": authors,
    });
    let found = query_all(&directories.urls, &lists, timeout).await;
    let (answered, failed) = if answered.is_empty() {
        if found.answered.is_empty() && !directories.urls.is_empty() {
            return Err(DiscoverError::NoDirectory(found.failed));
        }
        (found.answered.clone(), found.failed.clone())
    } else {
        (answered, failed)
    };
    if let Some(home) = home {
        if let Err(e) = remember_attestations(home, &found.events) {
            tracing::warn!("remembering transport keys: {e}");
        }
    }
    let mut out = Vec::new();
    for who in people {
        let events: Vec<Verified> = found
            .events
            .iter()
            .filter(|e| e.pubkey == who)
            .cloned()
            .collect();
        out.push(person(&who, events, &directories.urls, timeout).await);
    }
    Ok(Discovery {
        people: out,
        directories_answered: answered,
        directories_failed: failed,
    })
}

/// Finds `who` with no directory: their feed on the DHT (their transport key as remembered
/// from an earlier meeting, or from `opts.relays` if any answers), whose index holds their
/// signed lists; then their node is asked itself, as [`discover`] does.
pub async fn discover_by_feed(
    home: &Path,
    swarm: &seedstr_swarm::Swarm,
    dht: &seedstr_dht::DhtNode,
    who: &PublicKey,
    opts: &ResolveOptions,
) -> Result<Discovery, FeedResolveError> {
    let feed = resolve_feed(home, swarm, dht, who, DEFAULT_FEED_SALT, opts).await?;
    let events: Vec<Verified> = feed
        .events
        .into_iter()
        .filter(|e| e.pubkey == *who)
        .collect();
    let found = person(who, events, &opts.relays, opts.relay_timeout).await;
    Ok(Discovery {
        people: vec![found],
        directories_answered: Vec::new(),
        directories_failed: Vec::new(),
    })
}

/// A person from the events known of them (verified), their node asked itself.
async fn person(
    who: &PublicKey,
    mut events: Vec<Verified>,
    directories: &[String],
    timeout: Duration,
) -> Person {
    let newest = |events: &[Verified], kind: u16| {
        newest_by_address(events.iter().filter(|e| e.kind.as_u16() == kind))
            .into_iter()
            .next()
            .cloned()
    };
    let listed = urls(newest(&events, INBOX_RELAYS_KIND).as_ref(), "relay")
        .into_iter()
        .chain(urls(newest(&events, RELAY_LIST_KIND).as_ref(), "r"))
        .next();
    let node = match listed {
        Some(url) => {
            let (status, theirs) = confirm(directories, &url, who, &events, timeout).await;
            events.extend(theirs);
            Some(status)
        }
        None => None,
    };
    let profile = newest(&events, PROFILE_KIND)
        .and_then(|e| fields_of(&e.content, &e.id.to_hex()).ok())
        .unwrap_or_default();
    Person {
        npub: npub(who),
        profile,
        relays: urls(newest(&events, RELAY_LIST_KIND).as_ref(), "r"),
        inbox: urls(newest(&events, INBOX_RELAYS_KIND).as_ref(), "relay"),
        node,
    }
}

/// The directories' reports on the node at `url`, and the node's own word: its lists and
/// profile of `who`, verified.
async fn confirm(
    directories: &[String],
    url: &str,
    who: &PublicKey,
    known: &[Verified],
    timeout: Duration,
) -> (NodeStatus, Vec<Verified>) {
    let reports_filter = json!({"kinds": [RELAY_STATUS_KIND], "#d": [url]});
    let reports = query_all(directories, &reports_filter, timeout).await;
    let mut seen: Vec<StatusReport> = reports
        .events
        .iter()
        .filter(|e| e.tags.identifier().as_deref() == Some(url))
        .map(|e| {
            let ms = |name: &str| {
                e.tags.iter().find_map(|t| match t.as_slice() {
                    [n, v, ..] if n == name => v.parse().ok(),
                    _ => None,
                })
            };
            StatusReport {
                directory: npub(&e.pubkey),
                seen_at: e.created_at.as_secs(),
                rtt_open_ms: ms("rtt-open"),
                rtt_read_ms: ms("rtt-read"),
            }
        })
        .collect();
    seen.sort_by_key(|r| std::cmp::Reverse(r.seen_at));
    let filter = json!({
        "kinds": [PROFILE_KIND, RELAY_LIST_KIND, INBOX_RELAYS_KIND],
        "authors": [who.to_hex()],
    });
    let asked = query_all(&[url.to_owned()], &filter, timeout).await;
    let theirs: Vec<Verified> = asked
        .events
        .into_iter()
        .filter(|e| e.pubkey == *who)
        .collect();
    let mut status = NodeStatus {
        url: url.to_owned(),
        reports: seen,
        confirmed: false,
        why: None,
    };
    if asked.answered.is_empty() {
        status.why = Some(format!(
            "the node did not answer: {}",
            list_failures(&asked.failed)
        ));
        return (status, theirs);
    }
    // The node's newest lists, all told (directories' copies too): one must name it.
    let all: Vec<&Verified> = known.iter().chain(theirs.iter()).collect();
    let names_it = [(INBOX_RELAYS_KIND, "relay"), (RELAY_LIST_KIND, "r")]
        .iter()
        .any(|(kind, tag)| {
            let newest =
                newest_by_address(all.iter().copied().filter(|e| e.kind.as_u16() == *kind))
                    .into_iter()
                    .next();
            let held_by_node = newest.is_some_and(|n| theirs.iter().any(|t| t.id == n.id));
            held_by_node && urls(newest, tag).iter().any(|u| u == url)
        });
    if names_it {
        status.confirmed = true;
    } else {
        status.why = Some("the node does not hold a current list of theirs naming it".into());
    }
    (status, theirs)
}
