//! The catalogue search: projects, releases, packages and collections among a set of events,
//! by words, namespace and author. The node runs it over its store; `seedstr search` without a
//! node runs it over the relays' answers.

use std::collections::HashSet;

use nostr::prelude::Event;
use seedstr_client::relays::source::{EventSource, SourceError};
use seedstr_client::resolve::target::{npub, parse_public_key};
use seedstr_proto::event::{d_tag, first_tag_value};
use seedstr_proto::release::{Project, Release, PROJECT_KIND, RELEASE_KIND};
use seedstr_proto::Verified;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::events::COLLECTION_KIND;

/// Results a search returns when no limit is given.
pub const DEFAULT_LIMIT: usize = 20;
/// The most results a search returns.
pub const MAX_LIMIT: usize = 100;

/// What to look for.
#[derive(Debug, Default, Clone, Deserialize)]
pub struct SearchParams {
    /// Words that must all appear (case-insensitive) in the name, slug, summary or text.
    #[serde(default)]
    pub q: String,
    /// project (default), release, package or collection.
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
    /// Only this namespace.
    pub ns: Option<String>,
    /// Only this author (npub or hex).
    pub author: Option<String>,
    /// At most this many results.
    pub limit: Option<usize>,
}

/// The kind of thing searched for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SearchKind {
    /// Projects (kind 30401), by name, coordinate, summary and description.
    Project,
    /// Releases that are not packages.
    Release,
    /// Package releases (LibreSeed).
    Package,
    /// Curated collections.
    Collection,
}

impl SearchKind {
    /// The event kind this search reads.
    pub fn event_kind(self) -> u16 {
        match self {
            SearchKind::Project => PROJECT_KIND,
            SearchKind::Release | SearchKind::Package => RELEASE_KIND,
            SearchKind::Collection => COLLECTION_KIND,
        }
    }
}

/// Why a search cannot run.
#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    /// The type is none of those searched.
    #[error("type {0:?}: use project, release, package or collection")]
    UnknownType(String),
    /// The author is not a public key.
    #[error("author: {0}")]
    Author(String),
    /// The events could not be read.
    #[error(transparent)]
    Source(#[from] SourceError),
}

impl SearchParams {
    /// The kind searched for (projects when none is given).
    pub fn search_kind(&self) -> Result<SearchKind, SearchError> {
        match self.kind.as_deref().unwrap_or("project") {
            "project" => Ok(SearchKind::Project),
            "release" => Ok(SearchKind::Release),
            "package" => Ok(SearchKind::Package),
            "collection" => Ok(SearchKind::Collection),
            other => Err(SearchError::UnknownType(other.to_owned())),
        }
    }

    /// The NIP-01 filter that fetches what the search looks through: with words, a NIP-50
    /// `search` (the relay or store answers the best matches first); without, the newest
    /// `limit` events of the kind.
    pub fn filter(&self, limit: usize) -> Result<Value, SearchError> {
        let mut filter = json!({ "kinds": [self.search_kind()?.event_kind()], "limit": limit });
        if let Some(a) = &self.author {
            let key = parse_public_key(a).map_err(|e| SearchError::Author(e.to_string()))?;
            filter["authors"] = json!([key.to_hex()]);
        }
        let words = self.words();
        if !words.is_empty() {
            // The words alone: bounded in number and length, so within NIP-50's query limit
            // whatever was typed.
            filter["search"] = json!(words.join(" "));
        }
        Ok(filter)
    }

    /// The words of the query, as NIP-50 search cuts them.
    pub fn words(&self) -> Vec<String> {
        seedstr_proto::search::query_words(&self.q)
    }
}

/// A search's answer.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SearchResults {
    /// What was searched for.
    #[serde(rename = "type")]
    pub kind: SearchKind,
    /// The hits: most relevant first when words were given (newest first among equals),
    /// else newest first.
    pub results: Vec<SearchHit>,
}

/// One hit.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum SearchHit {
    /// A project.
    Project(ProjectHit),
    /// A release that is not a package.
    Release(ReleaseHit),
    /// A package release.
    Package(ReleaseHit),
    /// A collection.
    Collection(CollectionHit),
}

/// A project found.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ProjectHit {
    /// Its author (npub).
    pub author: String,
    /// `namespace.slug`.
    pub coordinate: String,
    /// Its display name.
    pub name: String,
    /// Its one-line summary.
    pub summary: String,
    /// When the project event was signed (Unix seconds).
    pub updated_at: u64,
    /// The project event's id (hex).
    pub event_id: String,
}

/// A release (or package release) found.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ReleaseHit {
    /// The namespace.
    pub ns: String,
    /// Its author (npub).
    pub author: String,
    /// `namespace.slug`.
    pub coordinate: String,
    /// The version.
    pub version: String,
    /// The package's name, for a package release.
    pub package: Option<String>,
    /// The payload's info hash (hex).
    pub infohash: String,
    /// The payload's size in bytes.
    pub size: u64,
    /// When the release was signed (Unix seconds).
    pub published_at: u64,
    /// The release event's id (hex).
    pub event_id: String,
}

/// A collection found.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CollectionHit {
    /// Its author (npub).
    pub author: String,
    /// `<game>.collection.<slug>`.
    pub d: String,
    /// Its display name.
    pub name: String,
    /// Its one-line summary.
    pub summary: String,
    /// When the collection was signed (Unix seconds).
    pub updated_at: u64,
    /// The collection event's id (hex).
    pub event_id: String,
}

impl SearchHit {
    /// One line for a terminal: the address to install or open, and the name.
    pub fn line(&self) -> String {
        match self {
            SearchHit::Project(p) => {
                format!("{}/{}  {}  {}", p.author, p.coordinate, p.name, p.summary)
            }
            SearchHit::Collection(c) => format!("{}/{}  {}", c.author, c.d, c.name),
            SearchHit::Release(r) | SearchHit::Package(r) => format!(
                "{}/{}@{}  {}",
                r.author,
                r.coordinate,
                r.version,
                r.package.as_deref().unwrap_or_default()
            ),
        }
    }
}

/// Events a search asks for in its first round: a few per result wanted, since some are not
/// hits (another namespace, a release where a package is wanted).
const FIRST_ROUND_PER_RESULT: usize = 4;
/// The most events one search reads from its source.
pub const MAX_READ: usize = 5_000;

/// Searches what `source` holds (the relays, or a node's store): with words, the best matches
/// the source finds (NIP-50, most relevant first); without, the newest events. Reads a few
/// events per result wanted, and more (four times as many each round, at most [`MAX_READ`])
/// while there are too few hits and the source had more to give.
pub async fn search(
    source: &impl EventSource,
    p: &SearchParams,
) -> Result<SearchResults, SearchError> {
    search_within(source, p, MAX_READ).await
}

/// [`search`], reading at most `max_read` events: "recent" lists look only among the newest.
pub async fn search_within(
    source: &impl EventSource,
    p: &SearchParams,
    max_read: usize,
) -> Result<SearchResults, SearchError> {
    let max_read = max_read.clamp(1, MAX_READ);
    let limit = p.limit.unwrap_or(DEFAULT_LIMIT).clamp(1, MAX_LIMIT);
    let mut asked = (limit * FIRST_ROUND_PER_RESULT).min(max_read);
    loop {
        let mut events = source.events(p.filter(asked)?).await?;
        let got = events.len();
        if p.words().is_empty() {
            events.sort_by_key(|e| std::cmp::Reverse(e.created_at));
        }
        let mut seen = HashSet::new();
        events.retain(|e| seen.insert(e.id));
        let found = select(p, &events)?;
        // A source gives fewer than asked when it has no more (or caps its answers).
        if found.results.len() >= limit || got < asked || asked >= max_read {
            return Ok(found);
        }
        asked = (asked * 4).min(max_read);
    }
}

/// The hits among `events` (in the order given): every word of `p.q` beginning a word of the
/// text, the namespace asked, at most the limit. Events that are not a valid one of the kind
/// are passed over.
pub fn select(p: &SearchParams, events: &[Verified]) -> Result<SearchResults, SearchError> {
    let kind = p.search_kind()?;
    let limit = p.limit.unwrap_or(DEFAULT_LIMIT).clamp(1, MAX_LIMIT);
    let words = p.words();
    let mut results = Vec::new();
    for event in events.iter().map(Verified::event) {
        // Checking an event's signature costs far more than reading its text, so events that
        // cannot match are passed over before it.
        if !may_match(kind, event, &words) {
            continue;
        }
        let Some((ns, text, hit)) = describe(kind, event) else {
            continue;
        };
        if p.ns.as_deref().is_some_and(|asked| ns != asked) {
            continue;
        }
        if begins_words(&text, &words) {
            results.push(hit);
            if results.len() == limit {
                break;
            }
        }
    }
    Ok(SearchResults { kind, results })
}

/// Whether every query word begins a word of `text`.
fn begins_words(text: &str, words: &[String]) -> bool {
    let have: Vec<String> = seedstr_proto::search::words(text).collect();
    words
        .iter()
        .all(|q| have.iter().any(|w| w.starts_with(q.as_str())))
}

/// Whether `event` could be a `kind` hit holding every word: every field a hit's text is made
/// of comes from the event's tags or content, so this never passes over a hit.
fn may_match(kind: SearchKind, event: &Event, words: &[String]) -> bool {
    let is_package = first_tag_value(event, "package").is_some();
    match kind {
        SearchKind::Package if !is_package => return false,
        SearchKind::Release if is_package => return false,
        _ => {}
    }
    if words.is_empty() {
        return true;
    }
    let mut raw = event.content.clone();
    for tag in event.tags.iter() {
        for value in tag.as_slice() {
            raw.push(' ');
            raw.push_str(value);
        }
    }
    begins_words(&raw, words)
}

/// A hit's namespace, the text searched, and the hit; `None` when `event` is not a valid
/// `kind`.
fn describe(kind: SearchKind, event: &Event) -> Option<(String, String, SearchHit)> {
    let author = npub(&event.pubkey);
    let event_id = event.id.to_hex();
    match kind {
        SearchKind::Project => {
            let p = Project::from_event(event).ok()?;
            let text = format!(
                "{} {} {} {}",
                p.name, p.coordinate, p.summary, p.description
            );
            let hit = SearchHit::Project(ProjectHit {
                author,
                coordinate: p.coordinate.to_string(),
                name: p.name,
                summary: p.summary,
                updated_at: event.created_at.as_secs(),
                event_id,
            });
            Some((p.coordinate.ns, text, hit))
        }
        SearchKind::Release | SearchKind::Package => {
            let r = Release::from_event(event).ok()?;
            let package = r.package.as_ref().map(|t| t.name.clone());
            if (kind == SearchKind::Package) != package.is_some() {
                return None;
            }
            let text = format!(
                "{} {} {} {}",
                r.coordinate,
                r.version,
                package.as_deref().unwrap_or(""),
                r.changelog
            );
            let found = ReleaseHit {
                ns: r.coordinate.ns.clone(),
                author,
                coordinate: r.coordinate.to_string(),
                version: r.version.to_string(),
                package,
                infohash: r.infohash_hex(),
                size: r.total_size(),
                published_at: event.created_at.as_secs(),
                event_id,
            };
            let hit = match kind {
                SearchKind::Package => SearchHit::Package(found),
                _ => SearchHit::Release(found),
            };
            Some((r.coordinate.ns, text, hit))
        }
        SearchKind::Collection => {
            // Its d is `<ns>.collection.<slug>`; name and summary are tags.
            let d = d_tag(event).to_owned();
            let ns = d.split('.').next().unwrap_or_default().to_owned();
            let tag = |n: &str| first_tag_value(event, n).unwrap_or_default().to_owned();
            let (name, summary) = (tag("name"), tag("summary"));
            let text = format!("{d} {name} {summary} {}", event.content);
            let hit = SearchHit::Collection(CollectionHit {
                author,
                d,
                name,
                summary,
                updated_at: event.created_at.as_secs(),
                event_id,
            });
            Some((ns, text, hit))
        }
    }
}
