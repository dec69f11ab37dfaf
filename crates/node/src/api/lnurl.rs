//! The owner's LNURL-pay endpoint (LUD-06, LUD-16, NIP-57): `/.well-known/lnurlp/<name>` and
//! its callback, answered by `pay::zapper` with invoices from the owner's wallet.

use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use seedstr_pay::lnurl::error_answer;
use seedstr_pay::zapper::Zapper;

/// The endpoint's routes.
pub fn router(zapper: Arc<Zapper>) -> Router {
    Router::new()
        .route("/.well-known/lnurlp/{name}", get(document))
        .route("/lnurlp/{name}/callback", get(callback))
        .with_state(zapper)
}

fn not_here(name: &str) -> Response {
    (
        StatusCode::NOT_FOUND,
        Json(error_answer(&format!("no one called {name:?} here"))),
    )
        .into_response()
}

async fn document(State(z): State<Arc<Zapper>>, Path(name): Path<String>) -> Response {
    if name != z.endpoint.name {
        return not_here(&name);
    }
    Json(z.endpoint.document()).into_response()
}

#[derive(serde::Deserialize)]
struct Callback {
    amount: Option<String>,
    nostr: Option<String>,
}

async fn callback(
    State(z): State<Arc<Zapper>>,
    Path(name): Path<String>,
    Query(q): Query<Callback>,
) -> Response {
    if name != z.endpoint.name {
        return not_here(&name);
    }
    let amount = q.amount.as_deref().and_then(|a| a.parse::<u64>().ok());
    match z.invoice(amount, q.nostr.as_deref()).await {
        Ok(pr) => Json(serde_json::json!({"pr": pr, "routes": []})).into_response(),
        // LUD-06 answers errors with 200 and a status; clients read the reason.
        Err(e) => Json(error_answer(&e.to_string())).into_response(),
    }
}
