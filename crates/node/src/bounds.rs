//! Bounds on every HTTP route of the node: a time limit per request (short for pages and
//! queries, long for transfers), one limit on requests handled at once over all routes (more
//! are answered 503 at once rather than queued), and a body limit. Each refusal is a JSON
//! `{"error": …}` naming the limit.

use std::sync::Arc;
use std::time::Duration;

use axum::error_handling::HandleErrorLayer;
use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{BoxError, Json, Router};
use serde_json::json;
use tokio::sync::Semaphore;
use tower::ServiceBuilder;

use crate::config::HttpConfig;

/// The bounds shared by every route: one semaphore, so the limit holds over all of them.
#[derive(Clone)]
pub struct Bounds {
    requests: Arc<Semaphore>,
    max_requests: usize,
    body_bytes: usize,
}

impl Bounds {
    /// The bounds `config` sets.
    pub fn new(config: &HttpConfig) -> Bounds {
        let max_requests = config.max_concurrent_requests.max(1);
        Bounds {
            requests: Arc::new(Semaphore::new(max_requests)),
            max_requests,
            body_bytes: config.max_body_kib.max(1) * 1024,
        }
    }

    /// Pages, queries, published events: `limit` per request, the shared request limit and
    /// the body limit.
    pub fn queries(&self, router: Router, limit: Duration) -> Router {
        self.transfers(router, limit)
            .layer(DefaultBodyLimit::max(self.body_bytes))
    }

    /// Downloads, uploads and archives: `limit` per request (until the answer starts) and the
    /// shared request limit; an upload's body is bounded by its own, larger limit.
    pub fn transfers(&self, router: Router, limit: Duration) -> Router {
        let max = self.max_requests;
        let refusal = move |e: BoxError| async move { refusal(e, limit, max) };
        router.layer(
            ServiceBuilder::new()
                .layer(HandleErrorLayer::new(refusal))
                .load_shed()
                .layer(tower::limit::GlobalConcurrencyLimitLayer::with_semaphore(
                    self.requests.clone(),
                ))
                .timeout(limit),
        )
    }
}

fn refusal(e: BoxError, limit: Duration, max: usize) -> Response {
    let (status, why) = if e.is::<tower::timeout::error::Elapsed>() {
        (
            StatusCode::GATEWAY_TIMEOUT,
            format!("the node did not answer within {} s", limit.as_secs()),
        )
    } else if e.is::<tower::load_shed::error::Overloaded>() {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("the node is busy ({max} requests at once, the most it takes); try again"),
        )
    } else {
        (StatusCode::INTERNAL_SERVER_ERROR, format!("error: {e}"))
    };
    (status, Json(json!({ "error": why }))).into_response()
}
