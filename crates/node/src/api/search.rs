//! `GET /api/v1/search`: [`seedstr_mods::search`] over the node's store.

use std::sync::Arc;

use axum::extract::{Query, State};
use axum::Json;
use seedstr_mods::search::{select, SearchError, SearchParams, SearchResults};

use super::{ApiError, ApiState};

impl From<SearchError> for ApiError {
    fn from(e: SearchError) -> ApiError {
        ApiError::BadRequest(e.to_string())
    }
}

/// `GET /api/v1/search`.
pub async fn search(
    State(s): State<Arc<ApiState>>,
    Query(p): Query<SearchParams>,
) -> Result<Json<SearchResults>, ApiError> {
    find(&s, &p).await.map(Json)
}

/// The search's answer over this node's store, for the API and the web UI alike.
pub async fn find(s: &ApiState, p: &SearchParams) -> Result<SearchResults, ApiError> {
    let events = s.events(p.filter()?).await?;
    Ok(select(p, &events)?)
}
