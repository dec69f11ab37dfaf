//! `GET /api/v1/authors/<npub>`: what one key has published that this node holds — profile,
//! projects, packages and collections. Its DHT feed is `feeds/<npub>`.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::Json;
use seedstr_client::resolve::target::{npub, parse_public_key};
use serde_json::{json, Value};

use super::search::{find, SearchParams};
use super::{ApiError, ApiState};

/// Most items of each type an author page lists.
const LISTED: usize = 100;

/// `GET /api/v1/authors/<npub>`.
pub async fn author(
    State(s): State<Arc<ApiState>>,
    Path(author): Path<String>,
) -> Result<Json<Value>, ApiError> {
    author_view(&s, &author).await.map(Json)
}

/// `author`'s profile (its newest kind 0) and publications, for the API and the web UI alike.
pub async fn author_view(s: &ApiState, author: &str) -> Result<Value, ApiError> {
    let key = parse_public_key(author).map_err(|e| ApiError::BadRequest(e.to_string()))?;
    let profile = s
        .events(json!({"kinds": [0], "authors": [key.to_hex()], "limit": 1}))
        .await?
        .first()
        .and_then(|e| serde_json::from_str::<Value>(&e.content).ok())
        .filter(Value::is_object)
        .map(|p| {
            let field = |f: &str| p.get(f).and_then(Value::as_str).map(str::to_owned);
            json!({
                "name": field("display_name").or(field("name")),
                "about": field("about"),
                "website": field("website"),
            })
        });
    let mut lists = serde_json::Map::new();
    for kind in ["project", "package", "collection"] {
        let found = find(
            s,
            &SearchParams {
                kind: Some(kind.to_owned()),
                author: Some(key.to_hex()),
                limit: Some(LISTED),
                ..SearchParams::default()
            },
        )
        .await?;
        let mut results = found["results"].as_array().cloned().unwrap_or_default();
        if kind == "package" {
            // Newest first: each package once, at its newest version.
            let mut seen = std::collections::BTreeSet::new();
            results.retain(|r| seen.insert(r["package"].to_string()));
        }
        lists.insert(format!("{kind}s"), Value::Array(results));
    }
    Ok(json!({
        "author": npub(&key),
        "hex": key.to_hex(),
        "profile": profile,
        "projects": lists["projects"],
        "packages": lists["packages"],
        "collections": lists["collections"],
    }))
}
