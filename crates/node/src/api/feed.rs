//! `GET /api/v1/feeds/<npub>`: an author's relay-less feed as the DHT serves it — the signed
//! pointer, the index torrent it names, and each event in it checked against the author's key.
//! Reading takes DHT round trips and a torrent fetch, so a read is kept for a minute.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Path, State};
use axum::Json;
use moka::future::Cache;
use nostr::prelude::{Event, PublicKey};
use seedstr_client::feed::{
    resolve_feed, FeedResolveError, RefusedLine, ResolveOptions, ResolvedFeed,
};
use seedstr_client::keys::transport::KeySource;
use seedstr_client::resolve::target::{npub, parse_public_key};
use seedstr_dht::record::DEFAULT_FEED_SALT;
use seedstr_mods::events::{COLLECTION_KIND, COMPAT_KIND, REVIEW_KIND};
use seedstr_pkg::registry::REGISTRY_KIND;
use seedstr_proto::incident::{Incident, INCIDENT_KIND};
use seedstr_proto::release::{Project, Release, PROJECT_KIND, RELEASE_KIND};
use seedstr_proto::Verified;
use serde::Serialize;

use super::{ApiError, ApiState};

/// How long one read answers for.
const KEPT_FOR: Duration = Duration::from_secs(60);

/// Recent reads by author; concurrent asks for one author share one read. Failed reads are
/// not kept: the next ask tries again.
#[derive(Clone)]
pub struct FeedCache {
    reads: Cache<PublicKey, Arc<FeedView>>,
}

impl Default for FeedCache {
    fn default() -> FeedCache {
        FeedCache {
            reads: Cache::builder()
                .max_capacity(10_000)
                .time_to_live(KEPT_FOR)
                .build(),
        }
    }
}

/// `GET /api/v1/feeds/<npub>`: an author's feed read from the DHT.
pub async fn feed(
    State(s): State<Arc<ApiState>>,
    Path(author): Path<String>,
) -> Result<Json<Arc<FeedView>>, ApiError> {
    feed_view(&s, &author).await.map(Json)
}

/// An author's feed as read from the DHT.
#[derive(Debug, Serialize)]
pub struct FeedView {
    /// The author (hex).
    pub author: String,
    /// The pointer's salt.
    pub salt: String,
    /// The pointer's sequence number.
    pub seq: i64,
    /// The pointer's own timestamp (Unix seconds).
    pub updated_at: i64,
    /// The index torrent's info hash (hex).
    pub infohash: String,
    /// `swarm`, `cache` or the web seed's URL.
    pub fetched_from: String,
    /// Where the transport key came from.
    pub key_source: KeySource,
    /// When this node read it (Unix seconds).
    pub read_at: u64,
    /// The events, newest first, each checked against the author's key.
    pub events: Vec<FeedEntry>,
    /// Index lines refused, with why.
    pub refused: Vec<RefusedLine>,
}

/// An event of a feed, in words.
#[derive(Debug, Serialize)]
pub struct FeedEntry {
    /// The event's id (hex).
    pub id: String,
    /// Its kind.
    pub kind: u16,
    /// When it was signed (Unix seconds).
    pub created_at: u64,
    /// What it is, for people.
    pub what: String,
    /// The page that shows it, when there is one.
    pub link: Option<String>,
}

/// `author`'s feed, for the API and the web UI alike.
pub async fn feed_view(s: &ApiState, author: &str) -> Result<Arc<FeedView>, ApiError> {
    let author = parse_public_key(author).map_err(|e| ApiError::BadRequest(e.to_string()))?;
    s.feeds
        .reads
        .try_get_with(author, read(s, author))
        .await
        .map_err(|e| (*e).clone())
}

async fn read(s: &ApiState, author: PublicKey) -> Result<Arc<FeedView>, ApiError> {
    let Some(dht) = s.status.dht.node() else {
        return Err(ApiError::Upstream(format!(
            "feeds are read from the DHT, and this node has not joined it (it is {})",
            s.status.dht.get().as_str()
        )));
    };
    let opts = ResolveOptions {
        relays: s.packages.relays.clone(),
        relay_timeout: s.packages.relay_timeout,
        peers: Vec::new(),
        stall: s.fetch.stall_timeout,
    };
    let feed = resolve_feed(&s.data, &s.swarm, &dht, &author, DEFAULT_FEED_SALT, &opts)
        .await
        .map_err(|e| match e {
            FeedResolveError::Key(_) | FeedResolveError::NoPointer { .. } => {
                ApiError::NotFound(e.to_string())
            }
            other => ApiError::Upstream(other.to_string()),
        })?;
    Ok(Arc::new(feed_view_of(feed)))
}

fn feed_view_of(feed: ResolvedFeed) -> FeedView {
    let mut events: Vec<&Event> = feed.events.iter().map(Verified::event).collect();
    events.sort_by_key(|e| std::cmp::Reverse(e.created_at));
    FeedView {
        events: events.iter().map(|e| entry(e)).collect(),
        author: feed.author,
        salt: feed.salt,
        seq: feed.seq,
        updated_at: feed.updated_at,
        infohash: feed.infohash,
        fetched_from: feed.fetched_from,
        key_source: feed.key_source,
        read_at: seedstr_proto::clock::unix_now(),
        refused: feed.refused,
    }
}

/// One event of a feed, said in words, with the page that shows it when there is one.
fn entry(e: &Event) -> FeedEntry {
    let author = npub(&e.pubkey);
    let kind = e.kind.as_u16();
    let (what, link) = match kind {
        PROJECT_KIND => match Project::from_event(e) {
            Ok(p) => (
                format!("project {} ({})", p.name, p.coordinate),
                Some(format!("/p/{author}/{}", p.coordinate)),
            ),
            Err(_) => ("an unreadable project".to_owned(), None),
        },
        RELEASE_KIND => match Release::from_event(e) {
            Ok(r) => {
                let label = match &r.package {
                    Some(p) => format!("package {} {}", p.name, r.version),
                    None => format!("release {} {}", r.coordinate, r.version),
                };
                (
                    label,
                    Some(format!("/r/{author}/{}@{}", r.coordinate, r.version)),
                )
            }
            Err(_) => ("an unreadable release".to_owned(), None),
        },
        INCIDENT_KIND => match Incident::from_event(e) {
            Ok(i) => (
                format!(
                    "incident {} ({}, versions {}): {}",
                    i.id,
                    i.severity.as_str(),
                    i.versions,
                    i.summary
                ),
                None,
            ),
            Err(_) => ("an unreadable incident".to_owned(), None),
        },
        COLLECTION_KIND => {
            let d = seedstr_proto::event::d_tag(e);
            (format!("collection {d}"), Some(format!("/c/{author}/{d}")))
        }
        REGISTRY_KIND => ("publisher registry".to_owned(), None),
        REVIEW_KIND => ("review".to_owned(), None),
        COMPAT_KIND => ("compatibility report".to_owned(), None),
        0 => ("profile".to_owned(), None),
        1 => ("note".to_owned(), None),
        other => (format!("kind {other}"), None),
    };
    FeedEntry {
        id: e.id.to_hex(),
        kind,
        created_at: e.created_at.as_secs(),
        what,
        link,
    }
}
