//! The HTTP API under `/api/v1`, answered from the node's own store and seeder (docs/api.md
//! and docs/openapi.yaml describe it). Errors are `{"error": "..."}` naming the problem.

pub mod author;
pub mod collection;
pub mod download;
pub mod events;
pub mod feed;
pub mod ilp;
pub mod lnurl;
pub mod media;
pub mod package;
pub mod payloads;
pub mod release;
pub mod search;
pub mod seeders;
pub mod status;
pub mod zaps;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use nostr::prelude::Event;
use seedstr_client::install::InstallOptions;
use seedstr_client::relays::source::{EventSource, SourceError};
use seedstr_client::seeding::payload_store::PayloadStore;
use seedstr_pkg::catalog::Sources;
use seedstr_proto::{Filter, Verified};
use seedstr_store::{QueryOptions, Store};
use seedstr_swarm::Swarm;
use serde_json::json;

use crate::health::Status;

/// What the handlers read.
pub struct ApiState {
    /// The node's event store.
    pub store: Arc<dyn Store>,
    /// The node's status, shared with `/health`.
    pub status: Arc<Status>,
    /// The node's data folder.
    pub data: PathBuf,
    /// For downloads of releases this node does not seed yet.
    pub swarm: Arc<Swarm>,
    /// How a download fetches a release the node does not hold.
    pub fetch: InstallOptions,
    /// Where downloaded releases are kept and seeded from.
    pub downloads: PayloadStore,
    /// Where package lookups go and which registries they trust, as for the registry views.
    pub packages: Sources,
    /// The swarm's answers about who seeds what, kept a while.
    pub seeders: seeders::SeedersCache,
    /// Feeds read from the DHT, kept a while.
    pub feeds: feed::FeedCache,
    /// Who may upload payloads, and how large.
    pub uploads: payloads::UploadPolicy,
    /// How an upload asks the seeder to serve it.
    pub seeder: payloads::SeederLink,
    /// Zapper keys of the lightning addresses whose receipts the pages count, kept a while.
    pub zappers: seedstr_pay::totals::ZapperKeys,
    /// The Interledger peer, when the node is one.
    pub ilp: Option<Arc<crate::ilp::IlpNode>>,
}

/// The API's query routes: quick answers from the node's store.
pub fn query_router(state: Arc<ApiState>) -> Router {
    Router::new()
        .route("/api/v1/status", get(status::status))
        .route("/api/v1/search", get(search::search))
        .route("/api/v1/projects/{*target}", get(release::project))
        .route("/api/v1/releases/{*target}", get(release::release))
        .route("/api/v1/collections/{*target}", get(collection::collection))
        .route("/api/v1/packages/{ns}/{*name}", get(package::package))
        .route("/api/v1/authors/{author}", get(author::author))
        .route("/api/v1/feeds/{author}", get(feed::feed))
        .route("/api/v1/seeders", get(seeders::seeders))
        .route("/api/v1/ilp", get(ilp::economics))
        .route("/api/v1/ilp/credit", post(ilp::credit))
        .route("/.well-known/pay", get(ilp::spsp))
        .route("/api/v1/events", post(events::publish))
        .with_state(state)
}

/// The API's transfer routes: a file that may first come from the swarm, and uploads.
pub fn transfer_router(state: Arc<ApiState>) -> Router {
    Router::new()
        .route("/api/v1/download", get(download::download))
        .route("/api/v1/payloads", post(payloads::upload))
        .route("/media/{infohash}/{name}", get(media::media))
        .with_state(state)
}

/// An answer that is not what was asked for.
#[derive(Debug, Clone)]
pub enum ApiError {
    /// The request is malformed (400).
    BadRequest(String),
    /// The node holds nothing of what was asked (404).
    NotFound(String),
    /// Refused on purpose, say a version its author withdrew.
    Forbidden(String),
    /// A body larger than the node takes.
    TooLarge(String),
    /// The swarm or the bytes failed.
    Upstream(String),
    /// The node failed (500).
    Internal(String),
}

impl ApiError {
    /// The words of the answer's `error`.
    pub fn message(&self) -> &str {
        match self {
            ApiError::BadRequest(m)
            | ApiError::NotFound(m)
            | ApiError::Forbidden(m)
            | ApiError::TooLarge(m)
            | ApiError::Upstream(m)
            | ApiError::Internal(m) => m,
        }
    }

    /// The HTTP status it answers with.
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::Upstream(_) => StatusCode::BAD_GATEWAY,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status(), Json(json!({ "error": self.message() }))).into_response()
    }
}

/// Most events one API call reads from the store.
const SCAN_LIMIT: usize = 5000;

impl ApiState {
    /// The stored events `filter` (NIP-01 JSON) matches, as the API's handlers want them.
    async fn events(&self, filter: serde_json::Value) -> Result<Vec<Verified>, ApiError> {
        Ok(EventSource::events(self, filter).await?)
    }
}

/// The node's store as a source for the shared operations: the stored events a filter
/// matches, newest first (most relevant first for a NIP-50 `search`, from the store's word
/// index), at most `SCAN_LIMIT`. Our relay checked each id and signature on arrival, so they
/// are not checked again here.
impl EventSource for ApiState {
    async fn events(&self, filter: serde_json::Value) -> Result<Vec<Verified>, SourceError> {
        let filter = Filter::parse(&filter).map_err(|e| SourceError::Filter(format!("{e:?}")))?;
        let opts = QueryOptions {
            max_limit: SCAN_LIMIT,
            budget: Duration::from_secs(5),
            now: seedstr_proto::clock::unix_now(),
        };
        let stored = match filter.search {
            Some(_) => self.store.search(filter, opts).await,
            None => self.store.query(vec![filter], opts).await,
        }
        .map_err(|e| SourceError::Store(e.to_string()))?;
        Ok(stored
            .iter()
            .filter_map(|s| Event::from_json(s.json.as_ref()).ok())
            .map(Verified::read_from_own_store)
            .collect())
    }
}

impl From<SourceError> for ApiError {
    fn from(e: SourceError) -> ApiError {
        ApiError::Internal(e.to_string())
    }
}
