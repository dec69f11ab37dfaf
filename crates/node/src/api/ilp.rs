//! `GET /api/v1/ilp`: the node's economic view as an Interledger peer (accounts with each peer,
//! what its receiver took, its routes); `GET /.well-known/pay`: SPSP (RFC 9), a fresh STREAM
//! destination and shared secret for paying the node. Both 404 when the node is not a peer.

use std::sync::Arc;

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::Json;

use super::{ApiError, ApiState};
use crate::ilp::EconomicView;

fn peer(s: &ApiState) -> Result<&Arc<crate::ilp::IlpNode>, ApiError> {
    s.ilp.as_ref().ok_or_else(|| {
        ApiError::NotFound("this node is not an Interledger peer ([ilp] peering)".into())
    })
}

/// `GET /api/v1/ilp`.
pub async fn economics(State(s): State<Arc<ApiState>>) -> Result<Json<EconomicView>, ApiError> {
    Ok(Json(peer(&s)?.view()))
}

/// `GET /.well-known/pay` (SPSP): `destination_account` and `shared_secret` (base64).
pub async fn spsp(State(s): State<Arc<ApiState>>) -> Result<Response, ApiError> {
    let (destination, shared_secret) = peer(&s)?.new_connection();
    let body = seedstr_ilp::spsp::SpspDetails {
        destination,
        shared_secret,
    };
    Ok((
        [(header::CONTENT_TYPE, seedstr_ilp::spsp::CONTENT_TYPE)],
        body.to_json(),
    )
        .into_response())
}
