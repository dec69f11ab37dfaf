//! `GET /api/v1/authors/<npub>`: what one key has published that this node holds — profile,
//! projects, packages and collections. Its DHT feed is `feeds/<npub>`.

use std::collections::BTreeSet;
use std::sync::Arc;

use axum::extract::{Path, State};
use axum::Json;
use seedstr_client::resolve::target::{npub, parse_public_key};
use seedstr_mods::search::{SearchHit, SearchParams};
use serde::Serialize;
use serde_json::{json, Value};

use super::search::find;
use super::zaps::person_zaps;
use super::{ApiError, ApiState};
use seedstr_pay::totals::Totals;

/// Most items of each type an author page lists.
const LISTED: usize = 100;

/// An author's page.
#[derive(Debug, Serialize)]
pub struct AuthorView {
    /// The author's npub.
    pub author: String,
    /// The author's key (hex).
    pub hex: String,
    /// Their profile, when the node holds a readable one.
    pub profile: Option<Profile>,
    /// Their projects, newest first.
    pub projects: Vec<SearchHit>,
    /// Their packages, each once at its newest version.
    pub packages: Vec<SearchHit>,
    /// Their collections, newest first.
    pub collections: Vec<SearchHit>,
    /// Every zap to them, each receipt checked.
    pub zaps: Totals,
}

/// What an author says of themselves (kind 0).
#[derive(Debug, Serialize)]
pub struct Profile {
    /// `display_name`, else `name`.
    pub name: Option<String>,
    /// `about`.
    pub about: Option<String>,
    /// `website`.
    pub website: Option<String>,
}

/// `GET /api/v1/authors/<npub>`.
pub async fn author(
    State(s): State<Arc<ApiState>>,
    Path(author): Path<String>,
) -> Result<Json<AuthorView>, ApiError> {
    author_view(&s, &author).await.map(Json)
}

/// `author`'s profile (its newest kind 0) and publications, for the API and the web UI alike.
pub async fn author_view(s: &ApiState, author: &str) -> Result<AuthorView, ApiError> {
    let key = parse_public_key(author).map_err(|e| ApiError::BadRequest(e.to_string()))?;
    let profile = s
        .events(json!({"kinds": [0], "authors": [key.to_hex()], "limit": 1}))
        .await?
        .first()
        .and_then(|e| serde_json::from_str::<Value>(&e.content).ok())
        .filter(Value::is_object)
        .map(|p| {
            let field = |f: &str| p.get(f).and_then(Value::as_str).map(str::to_owned);
            Profile {
                name: field("display_name").or(field("name")),
                about: field("about"),
                website: field("website"),
            }
        });
    let listed = |kind: &str| SearchParams {
        kind: Some(kind.to_owned()),
        author: Some(key.to_hex()),
        limit: Some(LISTED),
        ..SearchParams::default()
    };
    let projects = find(s, &listed("project")).await?.results;
    let mut packages = find(s, &listed("package")).await?.results;
    // Newest first: each package once, at its newest version.
    let mut seen = BTreeSet::new();
    packages.retain(|hit| match hit {
        SearchHit::Package(r) => seen.insert(r.package.clone()),
        _ => true,
    });
    let collections = find(s, &listed("collection")).await?.results;
    let zaps = person_zaps(s, &key).await?;
    Ok(AuthorView {
        zaps,
        author: npub(&key),
        hex: key.to_hex(),
        profile,
        projects,
        packages,
        collections,
    })
}
