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

/// `POST /api/v1/ilp/credit`: a payment channel claim (JSON, as peers send them) bought as
/// credit for paid writes, authorized as the writer's Nostr key (NIP-98: `Authorization: Nostr
/// <base64 of a kind 27235 event>` for this URL and `POST`, made within the last minute, used
/// once). What the claim adds over the channel's best claim is added to the key's credit.
pub async fn credit(
    State(s): State<Arc<ApiState>>,
    headers: axum::http::HeaderMap,
    body: axum::body::Bytes,
) -> Result<Json<serde_json::Value>, ApiError> {
    use base64::Engine as _;
    let node = peer(&s)?;
    let (Some(desk), Some(settlement)) = (node.credit.get(), node.settlement.as_ref()) else {
        return Err(ApiError::NotFound(
            "this node does not sell write credit (ilp.paid_writes with [ilp.evm])".into(),
        ));
    };
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Nostr "))
        .ok_or_else(|| {
            ApiError::Forbidden("an Authorization: Nostr … header (NIP-98) is needed".into())
        })?;
    let token = base64::engine::general_purpose::STANDARD
        .decode(token.trim())
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .ok_or_else(|| ApiError::Forbidden("the authorization is not base64 JSON".into()))?;
    let writer = desk
        .auth
        .check_request(&token, "POST", seedstr_proto::clock::unix_now())
        .map_err(|e| ApiError::Forbidden(e.to_string()))?;
    let added = settlement
        .take_claim(&format!("nostr:{}", writer.to_hex()), &body)
        .await
        .map_err(ApiError::BadRequest)?;
    let added = u64::try_from(added).unwrap_or(u64::MAX);
    let credit = desk
        .credits
        .add(&writer, added)
        .await
        .map_err(|e| ApiError::Internal(format!("keeping credit: {e}")))?;
    Ok(Json(serde_json::json!({
        "writer": writer.to_hex(),
        "added": added,
        "credit": credit,
    })))
}
