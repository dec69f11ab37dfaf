//! Asking another node's SPSP endpoint for a STREAM connection's details.

use std::time::Duration;

use seedstr_ilp::address::Address;
use seedstr_ilp::spsp::{SpspDetails, CONTENT_TYPE, MAX_BODY_BYTES};

/// The destination and shared secret `url` hands out; why not, in words.
pub(super) async fn fetch(url: &str) -> Result<(Address, [u8; 32]), String> {
    let client = seedstr_client::http::http_client(Duration::from_secs(10));
    let response = client
        .get(url)
        .header("Accept", CONTENT_TYPE)
        .send()
        .await
        .map_err(|e| format!("SPSP at {url}: {e}"))?;
    if !response.status().is_success() {
        return Err(format!("SPSP at {url}: HTTP {}", response.status()));
    }
    let body = seedstr_client::http::read_capped(response, MAX_BODY_BYTES)
        .await
        .map_err(|e| format!("SPSP at {url}: {e}"))?;
    let d = SpspDetails::parse(&body).map_err(|e| format!("SPSP at {url}: {e}"))?;
    Ok((d.destination, d.shared_secret))
}
