//! `GET /api/v1/collections/<npub>/<game>.collection.<slug>`: a curated collection (load
//! order) with each pinned release and whether its author's incident covers it.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::Json;
use seedstr_client::resolve::target::{npub, parse_public_key};
use seedstr_mods::events::collection::Collection;
use seedstr_mods::events::COLLECTION_KIND;
use seedstr_proto::incident::IncidentView;
use serde::Serialize;
use serde_json::json;

use super::release::incidents_of;
use super::zaps::address_zaps;
use super::{ApiError, ApiState};
use seedstr_pay::totals::Totals;
use seedstr_proto::zap_split::ZapSplit;

/// A collection and its pinned releases.
#[derive(Debug, Serialize)]
pub struct CollectionView {
    /// The curator (npub).
    pub author: String,
    /// `<game>.collection.<slug>`.
    pub d: String,
    /// Its display name.
    pub name: String,
    /// The game it is for.
    pub game: String,
    /// The game version it was tested on.
    pub game_version: Option<String>,
    /// What it is, for people.
    pub description: String,
    /// The pinned releases, in install order.
    pub mods: Vec<PinnedView>,
    /// The load order, when the curator gave one.
    pub load_order: Vec<String>,
    /// When the collection was signed (Unix seconds).
    pub updated_at: u64,
    /// Who shares its tips (NIP-57 Appendix G).
    pub zap_splits: Vec<ZapSplit>,
    /// The zaps on it, each receipt checked.
    pub zaps: Totals,
}

/// One pinned release.
#[derive(Debug, Serialize)]
pub struct PinnedView {
    /// Its author (npub).
    pub author: String,
    /// `namespace.slug`.
    pub coordinate: String,
    /// The version pinned.
    pub version: String,
    /// The release event pinned (hex).
    pub event_id: String,
    /// The payload's info hash (hex).
    pub infohash: String,
    /// The id of the author's incident covering the version, if any.
    pub blocked_by: Option<String>,
    /// That incident.
    pub incident: Option<IncidentView>,
}

/// `GET /api/v1/collections/<npub>/<game>.collection.<slug>`.
pub async fn collection(
    State(s): State<Arc<ApiState>>,
    Path(text): Path<String>,
) -> Result<Json<CollectionView>, ApiError> {
    collection_view(&s, &text).await.map(Json)
}

/// A collection and its pinned releases, for the API and the web UI alike.
pub async fn collection_view(s: &ApiState, text: &str) -> Result<CollectionView, ApiError> {
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
        let incidents = incidents_of(s, &r.coordinate.project_address(&r.author)).await?;
        let incident =
            seedstr_proto::incident::withdrawing(&incidents, &r.author, &r.coordinate, &r.version)
                .map(|i| IncidentView::new(&r.author, i));
        mods.push(PinnedView {
            author: npub(&r.author),
            coordinate: r.coordinate.to_string(),
            version: r.version.to_string(),
            event_id: pinned.event_id.to_hex(),
            infohash: hex::encode(pinned.infohash),
            blocked_by: incident.as_ref().map(|i| i.id.clone()),
            incident,
        });
    }
    let address = format!("{COLLECTION_KIND}:{}:{}", author.to_hex(), c.d());
    let zaps = address_zaps(s, &address, None).await?;
    Ok(CollectionView {
        zap_splits: c.zap_splits.clone(),
        zaps,
        author: npub(&author),
        d: c.d(),
        name: c.name,
        game: c.game,
        game_version: c.game_version,
        description: c.description,
        mods,
        load_order: c.load_order,
        updated_at: event.created_at.as_secs(),
    })
}
