//! `GET /api/v1/search`: [`seedstr_mods::search`] over the node's store.

use std::sync::Arc;

use axum::extract::{Query, State};
use axum::Json;
use seedstr_mods::search::{
    search as search_in, search_within, SearchError, SearchParams, SearchResults,
};

use super::{ApiError, ApiState};

impl From<SearchError> for ApiError {
    fn from(e: SearchError) -> ApiError {
        match e {
            SearchError::Source(e) => e.into(),
            other => ApiError::BadRequest(other.to_string()),
        }
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
    Ok(search_in(s, p).await?)
}

/// How many of the newest events of a type the home page's "recent" lists look among (the
/// full lists are a search away).
pub const RECENT_WINDOW: usize = 120;

/// The newest hits among the newest [`RECENT_WINDOW`] events of the type: the home page's
/// lists, which must not read the whole store when hits are rare.
pub async fn recent(s: &ApiState, p: &SearchParams) -> Result<SearchResults, ApiError> {
    Ok(search_within(s, p, RECENT_WINDOW).await?)
}
