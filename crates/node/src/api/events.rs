//! `POST /api/v1/events`: publish one signed event through the node's relay, as an `EVENT`
//! over the WebSocket would be (same checks), for clients that speak HTTP only.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{ConnectInfo, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;

use super::ApiState;

/// The relay's answer to a posted event, as its `OK` message says it.
#[derive(Debug, Serialize)]
pub struct EventAnswer {
    /// Whether the relay stored it.
    pub accepted: bool,
    /// The event's id (hex), when it parsed.
    pub id: Option<String>,
    /// The relay's message, when accepted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// Why it was refused (NIP-01 prefix first).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// `POST /api/v1/events`: a signed event, through the relay's own checks.
pub async fn publish(
    State(s): State<Arc<ApiState>>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    body: Result<String, axum::extract::rejection::StringRejection>,
) -> Response {
    let body = match body {
        Ok(b) => b,
        Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            return super::ApiError::TooLarge(
                "the body is larger than the node takes (http.max_body_kib)".into(),
            )
            .into_response()
        }
        Err(e) => return super::ApiError::BadRequest(e.body_text()).into_response(),
    };
    match s.status.relay.submit(addr.ip(), &body).await {
        Ok((id, message)) => Json(EventAnswer {
            accepted: true,
            id: Some(id),
            message: Some(message),
            error: None,
        })
        .into_response(),
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
                Json(EventAnswer {
                    accepted: false,
                    id,
                    message: None,
                    error: Some(message),
                }),
            )
                .into_response()
        }
    }
}
