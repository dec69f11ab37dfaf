//! `GET /media/<infohash>/<name>`: an attachment this node seeds (its owner's, or one viewed
//! here), as the web seed of its torrent (BEP-19) and for browsers. One byte range is honoured
//! (`Range: bytes=a-b`), so players can seek in a video.

use std::io::SeekFrom;
use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use seedstr_client::seeding::registry::SeedRegistry;
use tokio::io::{AsyncReadExt as _, AsyncSeekExt as _};

use super::{ApiError, ApiState};

/// The bytes `range` (a `Range` header's value) asks of a `size`-byte file: one range, clamped
/// to the file; None when it asks for none or for several.
pub fn byte_range(range: &str, size: u64) -> Option<(u64, u64)> {
    let spec = range.strip_prefix("bytes=")?;
    if spec.contains(',') || size == 0 {
        return None;
    }
    let (a, b) = spec.split_once('-')?;
    let (start, end) = match (a.trim(), b.trim()) {
        ("", suffix) => {
            let n: u64 = suffix.parse().ok()?;
            (size.saturating_sub(n), size - 1)
        }
        (a, "") => (a.parse().ok()?, size - 1),
        (a, b) => (a.parse().ok()?, b.parse::<u64>().ok()?.min(size - 1)),
    };
    (start <= end && start < size).then_some((start, end))
}

/// `GET /media/<infohash>/<name>`.
pub async fn media(
    State(s): State<Arc<ApiState>>,
    Path((infohash, name)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let not_here = || ApiError::NotFound(format!("this node does not serve {infohash}/{name}"));
    if infohash.len() != 40 || !infohash.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(ApiError::BadRequest(format!(
            "{infohash:?} is not an info hash"
        )));
    }
    if seedstr_proto::path::check_payload_path(&name).is_err() || name.contains('/') {
        return Err(ApiError::BadRequest(format!("{name:?} is not a file name")));
    }
    let entry = SeedRegistry::new(&s.data)
        .entry(&infohash.to_ascii_lowercase())
        // Attachments only: posted here (`media:<name>`) or viewed here (`media.attachment@…`).
        .filter(|e| e.release.starts_with("media"))
        .ok_or_else(not_here)?;
    let path = entry.dir.join(&name);
    let mut file = tokio::fs::File::open(&path).await.map_err(|_| not_here())?;
    let size = file
        .metadata()
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?
        .len();
    let mime = seedstr_social::media::mime_for(&name);
    let range = headers
        .get(header::RANGE)
        .and_then(|v| v.to_str().ok())
        .and_then(|r| byte_range(r, size));
    let Some((start, end)) = range else {
        let body = axum::body::Body::from_stream(tokio_util::io::ReaderStream::new(file));
        return Ok((
            [
                (header::CONTENT_TYPE, mime.to_owned()),
                (header::CONTENT_LENGTH, size.to_string()),
                (header::ACCEPT_RANGES, "bytes".to_owned()),
            ],
            body,
        )
            .into_response());
    };
    file.seek(SeekFrom::Start(start))
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    let len = end - start + 1;
    let body = axum::body::Body::from_stream(tokio_util::io::ReaderStream::new(file.take(len)));
    Ok((
        StatusCode::PARTIAL_CONTENT,
        [
            (header::CONTENT_TYPE, mime.to_owned()),
            (header::CONTENT_LENGTH, len.to_string()),
            (header::ACCEPT_RANGES, "bytes".to_owned()),
            (header::CONTENT_RANGE, format!("bytes {start}-{end}/{size}")),
        ],
        body,
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_range_is_read_and_clamped() {
        assert_eq!(byte_range("bytes=0-9", 100), Some((0, 9)));
        assert_eq!(byte_range("bytes=90-200", 100), Some((90, 99)));
        assert_eq!(byte_range("bytes=95-", 100), Some((95, 99)));
        assert_eq!(byte_range("bytes=-10", 100), Some((90, 99)));
        assert_eq!(byte_range("bytes=100-", 100), None);
        assert_eq!(byte_range("bytes=5-2", 100), None);
        assert_eq!(byte_range("bytes=0-1,4-5", 100), None);
        assert_eq!(byte_range("items=0-1", 100), None);
        assert_eq!(byte_range("bytes=0-1", 0), None);
    }
}
