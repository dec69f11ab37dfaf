//! `POST /api/v1/events`: publish one signed event through the node's relay, as an `EVENT`
//! over the WebSocket would be (same checks), for clients that speak HTTP only.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{ConnectInfo, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

use super::ApiState;

/// `POST /api/v1/events`: a signed event, through the relay's own checks.
pub async fn publish(
    State(s): State<Arc<ApiState>>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    body: String,
) -> Response {
    match s.status.relay.submit(addr.ip(), &body).await {
        Ok((id, message)) => {
            Json(json!({"accepted": true, "id": id, "message": message})).into_response()
        }
        Err((id, message)) => {
            // The NIP-01 prefix says whose fault it is.
            let status = match message.split(':').next().unwrap_or_default() {
                "invalid" | "pow" => StatusCode::BAD_REQUEST,
                "auth-required" => StatusCode::UNAUTHORIZED,
                "rate-limited" => StatusCode::TOO_MANY_REQUESTS,
                "duplicate" => StatusCode::CONFLICT,
                "blocked" | "restricted" => StatusCode::FORBIDDEN,
                _ => StatusCode::INTERNAL_SERVER_ERROR,
            };
            (
                status,
                Json(json!({"accepted": false, "id": id, "error": message})),
            )
                .into_response()
        }
    }
}
