//! `GET /api/v1/collections/<npub>/<game>.collection.<slug>`: a curated collection (load
//! order) with each pinned release and whether its author's incident covers it.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::Json;
use seedstr_client::resolve::target::{npub, parse_public_key};
use seedstr_mods::events::collection::Collection;
use seedstr_mods::events::COLLECTION_KIND;
use serde_json::{json, Value};

use super::release::incidents_of;
use super::{ApiError, ApiState};

/// `GET /api/v1/collections/<npub>/<game>.collection.<slug>`.
pub async fn collection(
    State(s): State<Arc<ApiState>>,
    Path(text): Path<String>,
) -> Result<Json<Value>, ApiError> {
    collection_view(&s, &text).await.map(Json)
}

/// A collection and its pinned releases, for the API and the web UI alike.
pub async fn collection_view(s: &ApiState, text: &str) -> Result<Value, ApiError> {
    let (author, d) = text.split_once('/').ok_or_else(|| {
        ApiError::BadRequest(format!("{text:?} is not <npub>/<game>.collection.<slug>"))
    })?;
    let author = parse_public_key(author).map_err(|e| ApiError::BadRequest(e.to_string()))?;
    let events = s
        .events(json!({"kinds": [COLLECTION_KIND], "authors": [author.to_hex()], "#d": [d]}))
        .await?;
    let event = events.first().ok_or_else(|| {
        ApiError::NotFound(format!(
            "this node holds no collection {d} by {}",
            npub(&author)
        ))
    })?;
    let c = Collection::from_event(event)
        .map_err(|e| ApiError::NotFound(format!("the collection {d} is refused: {e}")))?;
    let mut mods = Vec::new();
    for pinned in &c.mods {
        let r = &pinned.release;
        let blocking = incidents_of(s, &r.coordinate.project_address(&r.author))
            .await?
            .into_iter()
            .find(|(signer, i)| i.is_authoritative(signer) && i.affects(&r.version));
        mods.push(json!({
            "author": npub(&r.author),
            "coordinate": r.coordinate.to_string(),
            "version": r.version.to_string(),
            "event_id": pinned.event_id.to_hex(),
            "infohash": hex::encode(pinned.infohash),
            "blocked_by": blocking.as_ref().map(|(_, i)| i.id.clone()),
            "incident": blocking.map(|(_, i)| json!({"id": i.id, "severity": i.severity.as_str(), "summary": i.summary, "instructions": i.instructions})),
        }));
    }
    Ok(json!({
        "author": npub(&author),
        "d": c.d(),
        "name": c.name,
        "game": c.game,
        "game_version": c.game_version,
        "description": c.description,
        "mods": mods,
        "load_order": c.load_order,
        "updated_at": event.created_at.as_secs(),
    }))
}
