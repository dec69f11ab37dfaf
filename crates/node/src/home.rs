//! The node as its owner's home (`social.owner`): their inbox kept by a gate in front of the
//! store, and their relay and inbox lists made to name the node once it listens.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use nostr::prelude::Keys;
use seedstr_client::publish::own_events::OwnEvents;
use seedstr_client::relays::live::{subscribe, LiveNote};
use seedstr_client::relays::{publish_all, query_all, RelaySet};
use seedstr_dht::transport::ATTESTATION_KIND;
use seedstr_social::home::{announce_home, InboxGate, InboxRules};

use crate::config::SocialConfig;

/// The owner's inbox gate, their blocks read from `data` (where `seedstr social friend block`
/// writes them when the node's data folder is their home).
pub fn inbox_gate(owner: &Keys, config: &SocialConfig, data: &Path) -> InboxGate {
    InboxGate::new(
        owner.clone(),
        InboxRules {
            window_secs: config.inbox_window_days.max(3) * 86_400,
            per_ip_per_minute: config.inbox_per_ip_per_minute,
            per_sender_per_minute: config.inbox_per_sender_per_minute,
            ..InboxRules::default()
        },
        data.to_owned(),
        Arc::new(seedstr_proto::clock::unix_now),
    )
}

/// Makes the owner's relay list (10002) and inbox list (10050) name `url`, on the node itself
/// and on the directories; then keeps the directories current: every profile, follow list,
/// relay list, inbox list and transport-key attestation of the owner the node holds or takes
/// later is sent on to them (registration is nothing more). Logged, since the node serves
/// either way.
pub async fn announce(
    owner: Keys,
    data: std::path::PathBuf,
    dht: Option<seedstr_dht::DhtNode>,
    url: String,
    own_relay: String,
    directories: Vec<String>,
) {
    let mut urls = vec![own_relay.clone()];
    urls.extend(directories.iter().cloned());
    let relays = RelaySet {
        urls,
        timeout: Duration::from_secs(10),
    };
    match announce_home(&owner, &url, &relays).await {
        Ok(changes) => {
            for c in &changes {
                tracing::info!(
                    target: "seedstr::social",
                    kind = c.kind,
                    changed = c.changed,
                    "the owner's list names {url}"
                );
            }
            // Kept among the owner's own events, so their feed on the DHT carries them: a
            // friend who met them once finds this node with every directory down.
            let lists: Vec<_> = changes.into_iter().map(|c| c.event).collect();
            let own = OwnEvents::new(&data);
            if let Err(e) = own.add(&lists) {
                tracing::warn!(target: "seedstr::social", "keeping the owner's lists: {e}");
            }
            // The transport-key attestation goes out now, with the lists: whoever finds the
            // owner through a directory also learns how to find them on the DHT later.
            let attestation = match own.newest(&owner.public_key(), ATTESTATION_KIND) {
                Some(e) => Some(e),
                None => match seedstr_dht::transport::attestation(&owner) {
                    Ok(e) => own.add(std::slice::from_ref(&e)).ok().map(|_| e),
                    Err(e) => {
                        tracing::warn!(target: "seedstr::social", "signing the attestation: {e}");
                        None
                    }
                },
            };
            if let Some(a) = attestation {
                publish_all(&relays.urls, &[a], relays.timeout).await;
            }
            if let Some(dht) = dht {
                // The DHT may take a while to join (or never, offline): not in the way of
                // the directories.
                let (owner, relays) = (owner.clone(), relays.clone());
                tokio::spawn(async move { feed_on_dht(&data, &owner, &relays, &dht).await });
            }
        }
        Err(e) => tracing::warn!(target: "seedstr::social", "announcing the owner's home: {e}"),
    }
    if directories.is_empty() {
        return;
    }
    let filter = serde_json::json!({
        "authors": [owner.public_key().to_hex()],
        "kinds": [0, 3, 10002, 10050, 10744],
    });
    let mut live = subscribe(&[own_relay], vec![filter]);
    while let Some(note) = live.recv().await {
        if let LiveNote::Event { event, .. } = note {
            let answers = publish_all(
                &directories,
                std::slice::from_ref(event.event()),
                relays.timeout,
            )
            .await;
            for a in answers.iter().filter(|a| !a.accepted) {
                tracing::warn!(
                    target: "seedstr::social",
                    "directory {} refused kind {} {}: {}",
                    a.relay,
                    event.kind.as_u16(),
                    a.event_id,
                    a.message
                );
            }
        }
    }
}

/// Writes the owner's feed (their attestation, lists and other own events) and points their
/// DHT record at it, once the DHT node has joined; logged either way.
async fn feed_on_dht(data: &Path, owner: &Keys, relays: &RelaySet, dht: &seedstr_dht::DhtNode) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while !dht.bootstrapped().await {
        if tokio::time::Instant::now() > deadline {
            tracing::warn!(target: "seedstr::social", "the DHT did not join: the owner's feed is not written");
            return;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    match seedstr_client::feed::announce_feed(data, owner, relays, dht).await {
        Ok(a) => tracing::info!(
            target: "seedstr::social",
            feed = %a.feed.infohash,
            events = a.feed.events,
            "the owner's feed names this node"
        ),
        Err(e) => tracing::warn!(target: "seedstr::social", "writing the owner's feed: {e}"),
    }
}

/// What one catch-up did, node by node.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct CatchUp {
    /// People whose posts were looked for (follows and friends).
    pub people: usize,
    /// Per node address: events fetched (posts and wraps), parents backfilled, or the error.
    pub nodes: Vec<NodeCatchUp>,
}

/// One node's part of a catch-up.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct NodeCatchUp {
    /// The node's address.
    pub url: String,
    /// Public events of the people living there copied in.
    pub posts: usize,
    /// Gift wraps addressed to the owner copied in.
    pub wraps: usize,
    /// Missing thread parents fetched.
    pub parents: usize,
    /// Fetched events turned down (wraps that do not open, blocked senders).
    pub turned_down: usize,
    /// Why it failed, when it did.
    pub error: Option<String>,
}

/// The public kinds a catch-up copies: profiles, posts, deletions, reposts, reactions,
/// statuses.
const CAUGHT_UP_KINDS: [u16; 6] = [0, 1, 5, 6, 7, 30315];
/// The most people one catch-up looks at.
const MAX_CAUGHT_UP: usize = 2_000;

/// Catches the owner's store up with the nodes of the people they follow and befriended
/// (NIP-77): their public posts, and the gift wraps addressed to the owner those nodes hold
/// (copies sent while this node was away), then the missing parents of the threads fetched.
pub async fn catch_up(
    owner: &Keys,
    store: &dyn seedstr_store::Store,
    gate: &InboxGate,
    own_relay: &str,
    own_urls: &[String],
    directories: &[String],
) -> CatchUp {
    use seedstr_social::friends::friends_list;
    use seedstr_social::home::home_nodes;
    use seedstr_social::people::follow_list;
    let timeout = Duration::from_secs(10);
    let own = RelaySet {
        urls: vec![own_relay.to_owned()],
        timeout,
    };
    let me = owner.public_key();
    let mut people: Vec<nostr::prelude::PublicKey> = Vec::new();
    if let Ok((follows, _)) = follow_list(&own, &me).await {
        people.extend(follows.following);
    }
    if let Ok(list) = friends_list(owner, &own).await {
        people.extend(list.friends);
    }
    people.sort();
    people.dedup();
    people.retain(|p| *p != me);
    people.truncate(MAX_CAUGHT_UP);
    let mut report = CatchUp {
        people: people.len(),
        ..CatchUp::default()
    };
    let mut where_from = own.clone();
    where_from.urls.extend(directories.iter().cloned());
    let homes = home_nodes(&where_from, &people).await;
    let mut by_node: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    for (who, url) in homes {
        if own_urls.contains(&url) {
            continue;
        }
        by_node.entry(url).or_default().push(who.to_hex());
    }
    let admit = |e: &seedstr_proto::Event| gate.admits_synced(e);
    for (url, authors) in by_node {
        let mut node = NodeCatchUp {
            url: url.clone(),
            ..NodeCatchUp::default()
        };
        let posts = serde_json::json!({"authors": authors, "kinds": CAUGHT_UP_KINDS});
        let wraps = serde_json::json!({"kinds": [1059], "#p": [me.to_hex()]});
        let mut fetched = Vec::new();
        match crate::sync::sync_store(store, &url, &posts, true, None, &admit).await {
            Ok(r) => {
                node.posts = r.fetched;
                node.turned_down += r.turned_down;
                fetched = r.fetched_events;
            }
            Err(e) => node.error = Some(e.to_string()),
        }
        if node.error.is_none() {
            match crate::sync::sync_store(store, &url, &wraps, true, Some(owner), &admit).await {
                Ok(r) => {
                    node.wraps = r.fetched;
                    node.turned_down += r.turned_down;
                }
                Err(e) => node.error = Some(e.to_string()),
            }
            node.parents = backfill_parents(store, &fetched, &url, directories, timeout).await;
        }
        report.nodes.push(node);
    }
    report
}

/// Fetches the thread parents (NIP-10 `e` tags of posts) that `fetched` names and the store
/// lacks, from the node they came from and the directories' relays; stores the verified ones.
async fn backfill_parents(
    store: &dyn seedstr_store::Store,
    fetched: &[seedstr_proto::Event],
    url: &str,
    others: &[String],
    timeout: Duration,
) -> usize {
    let mut wanted: Vec<[u8; 32]> = fetched
        .iter()
        .filter(|e| e.kind.as_u16() == 1)
        .flat_map(|e| {
            e.tags.iter().filter_map(|t| match t.as_slice() {
                [n, id, ..] if n == "e" => nostr::prelude::EventId::from_hex(id).ok(),
                _ => None,
            })
        })
        .map(|id| id.to_bytes())
        .collect();
    wanted.sort_unstable();
    wanted.dedup();
    wanted.truncate(5_000);
    if wanted.is_empty() {
        return 0;
    }
    let opts = seedstr_store::QueryOptions::default();
    let held: std::collections::HashSet<[u8; 32]> = match store
        .ids(seedstr_proto::Filter::for_ids(wanted.iter().copied()), opts)
        .await
    {
        Ok(ids) => ids.into_iter().map(|(_, id)| id).collect(),
        Err(_) => return 0,
    };
    let missing: Vec<String> = wanted
        .iter()
        .filter(|id| !held.contains(*id))
        .map(hex::encode)
        .collect();
    if missing.is_empty() {
        return 0;
    }
    let mut ask = vec![url.to_owned()];
    ask.extend(others.iter().cloned());
    let found = query_all(&ask, &serde_json::json!({"ids": missing}), timeout).await;
    let mut stored = 0;
    for e in found.events {
        if e.kind.as_u16() == 1
            && missing.contains(&e.id.to_hex())
            && store.save(e.event().clone()).await.is_ok()
        {
            stored += 1;
        }
    }
    stored
}

/// Catches up at start and every `every`, logging what each round did.
pub async fn keep_caught_up(
    owner: Keys,
    store: Arc<dyn seedstr_store::Store>,
    gate: Arc<InboxGate>,
    own_relay: String,
    own_urls: Vec<String>,
    directories: Vec<String>,
    every: Duration,
) {
    let mut tick = tokio::time::interval(every);
    loop {
        tick.tick().await;
        let r = catch_up(
            &owner,
            store.as_ref(),
            &gate,
            &own_relay,
            &own_urls,
            &directories,
        )
        .await;
        for n in &r.nodes {
            match &n.error {
                None => tracing::info!(
                    target: "seedstr::social",
                    url = %n.url,
                    posts = n.posts,
                    wraps = n.wraps,
                    parents = n.parents,
                    turned_down = n.turned_down,
                    "caught up"
                ),
                Some(e) => {
                    tracing::warn!(target: "seedstr::social", url = %n.url, "catching up: {e}")
                }
            }
        }
    }
}
