//! `GET /api/v1/search`: projects, releases, packages and collections in the node's store, by
//! text, namespace and author.

use std::sync::Arc;

use axum::extract::{Query, State};
use axum::Json;
use nostr::prelude::Event;
use seedstr_client::resolve::target::{npub, parse_public_key};
use seedstr_mods::events::COLLECTION_KIND;
use seedstr_proto::package::PackageTags;
use seedstr_proto::release::{Project, Release, PROJECT_KIND, RELEASE_KIND};
use serde_json::{json, Value};

use super::{ApiError, ApiState};

/// The query of `/api/v1/search`.
#[derive(Debug, Default, serde::Deserialize)]
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

/// `GET /api/v1/search`.
pub async fn search(
    State(s): State<Arc<ApiState>>,
    Query(p): Query<SearchParams>,
) -> Result<Json<Value>, ApiError> {
    find(&s, &p).await.map(Json)
}

/// The search's answer: `{"type": …, "results": […]}`, for the API and the web UI alike.
pub async fn find(s: &ApiState, p: &SearchParams) -> Result<Value, ApiError> {
    let events = s.events(filter_for(p)?).await?;
    select(p, &events)
}

/// The NIP-01 filter that fetches what a search looks through.
pub fn filter_for(p: &SearchParams) -> Result<Value, ApiError> {
    let mut filter = json!({ "kinds": [event_kind(p)?] });
    if let Some(a) = &p.author {
        let key = parse_public_key(a).map_err(|e| ApiError::BadRequest(format!("author: {e}")))?;
        filter["authors"] = json!([key.to_hex()]);
    }
    Ok(filter)
}

fn kind_of(p: &SearchParams) -> &str {
    p.kind.as_deref().unwrap_or("project")
}

/// The event kind a search of `p`'s type reads.
fn event_kind(p: &SearchParams) -> Result<u16, ApiError> {
    match kind_of(p) {
        "project" => Ok(PROJECT_KIND),
        "release" | "package" => Ok(RELEASE_KIND),
        "collection" => Ok(COLLECTION_KIND),
        other => Err(ApiError::BadRequest(format!(
            "type {other:?}: use project, release, package or collection"
        ))),
    }
}

/// The results among `events` (newest first): every word of `q` in the text, the namespace
/// asked, at most `limit`. Pure, so a command without a node runs it over relays' answers.
pub fn select(p: &SearchParams, events: &[Event]) -> Result<Value, ApiError> {
    event_kind(p)?;
    let kind = kind_of(p);
    let limit = p.limit.unwrap_or(20).clamp(1, 100);
    let words: Vec<String> = p.q.split_whitespace().map(str::to_lowercase).collect();
    let mut results = Vec::new();
    for event in events {
        // Checking an event's signature costs far more than reading its text, so events that
        // cannot match are passed over before it.
        if !may_match(kind, event, &words) {
            continue;
        }
        let Some(hit) = describe(kind, event) else {
            continue;
        };
        if p.ns.as_deref().is_some_and(|ns| hit.ns != ns) {
            continue;
        }
        let text = hit.text.to_lowercase();
        if words.iter().all(|w| text.contains(w)) {
            results.push(hit.json);
            if results.len() == limit {
                break;
            }
        }
    }
    Ok(json!({ "type": kind, "results": results }))
}

/// Whether `event` could be a `kind` result holding every word: every field a result's text
/// is made of comes from the event's tags or content, so this never passes over a hit.
fn may_match(kind: &str, event: &Event, words: &[String]) -> bool {
    let is_package = seedstr_proto::event::first_tag_value(event, "package").is_some();
    match kind {
        "package" if !is_package => return false,
        "release" if is_package => return false,
        _ => {}
    }
    if words.is_empty() {
        return true;
    }
    let mut raw = event.content.to_lowercase();
    for tag in event.tags.iter() {
        for value in tag.as_slice() {
            raw.push(' ');
            raw.push_str(&value.to_lowercase());
        }
    }
    words.iter().all(|w| raw.contains(w.as_str()))
}

/// One search result: its namespace, the text searched, and what is returned.
struct Hit {
    ns: String,
    text: String,
    json: Value,
}

fn describe(kind: &str, event: &Event) -> Option<Hit> {
    let author = npub(&event.pubkey);
    match kind {
        "project" => {
            let p = Project::from_event(event).ok()?;
            Some(Hit {
                ns: p.coordinate.ns.clone(),
                text: format!(
                    "{} {} {} {}",
                    p.name, p.coordinate, p.summary, p.description
                ),
                json: json!({
                    "type": "project",
                    "author": author,
                    "coordinate": p.coordinate.to_string(),
                    "name": p.name,
                    "summary": p.summary,
                    "updated_at": event.created_at.as_secs(),
                    "event_id": event.id.to_hex(),
                }),
            })
        }
        "release" | "package" => {
            let r = Release::from_event(event).ok()?;
            let package = r.package.as_ref();
            if (kind == "package") != package.is_some() {
                return None;
            }
            let name = package.map(|t: &PackageTags| t.name.clone());
            Some(Hit {
                ns: r.coordinate.ns.clone(),
                text: format!(
                    "{} {} {} {}",
                    r.coordinate,
                    r.version,
                    name.as_deref().unwrap_or(""),
                    r.changelog
                ),
                json: json!({
                    "type": kind,
                    "ns": r.coordinate.ns,
                    "author": author,
                    "coordinate": r.coordinate.to_string(),
                    "version": r.version.to_string(),
                    "package": name,
                    "infohash": r.infohash_hex(),
                    "size": r.total_size(),
                    "published_at": event.created_at.as_secs(),
                    "event_id": event.id.to_hex(),
                }),
            })
        }
        _ => {
            // A collection: its d is `<ns>.collection.<slug>`; name and summary tags.
            let d = seedstr_proto::event::d_tag(event).to_owned();
            let ns = d.split('.').next().unwrap_or_default().to_owned();
            let tag = |n: &str| {
                seedstr_proto::event::first_tag_value(event, n)
                    .unwrap_or_default()
                    .to_owned()
            };
            let (name, summary) = (tag("name"), tag("summary"));
            Some(Hit {
                ns,
                text: format!("{d} {name} {summary} {}", event.content),
                json: json!({
                    "type": "collection",
                    "author": author,
                    "d": d,
                    "name": name,
                    "summary": summary,
                    "updated_at": event.created_at.as_secs(),
                    "event_id": event.id.to_hex(),
                }),
            })
        }
    }
}
