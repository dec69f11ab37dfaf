//! `GET /api/v1/download?release=<npub>/<ns>.<slug>[@<version>]&path=<file>`: one file of a
//! release, from the copy this node seeds or else fetched from the swarm into its download
//! store (and seeded from then on). The file's size and SHA-256 are checked against the signed
//! release before a byte is sent; a version its author's incident covers is refused.

use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use seedstr_client::seeding::registry::SeedRegistry;

use super::release::chosen_release;
use super::{ApiError, ApiState};

/// The query of `/api/v1/download`.
#[derive(serde::Deserialize)]
pub struct DownloadParams {
    release: String,
    path: String,
}

/// `GET /api/v1/download?release=…&path=…`: one file of a release, checked.
pub async fn download(
    State(s): State<Arc<ApiState>>,
    Query(p): Query<DownloadParams>,
) -> Result<Response, ApiError> {
    let chosen = chosen_release(&s, &p.release).await?;
    let r = &chosen.resolution.release;
    let spec = format!("{}@{}", r.coordinate, r.version);
    if let Some((id, summary)) = &chosen.blocked_by {
        return Err(ApiError::Forbidden(format!(
            "{spec} is withdrawn by its author's incident {id}: {summary}"
        )));
    }
    let file = r
        .files
        .iter()
        .find(|f| f.path == p.path)
        .ok_or_else(|| ApiError::NotFound(format!("{spec} has no file {:?}", p.path)))?;
    let infohash = r.infohash_hex();
    let dir = match SeedRegistry::new(&s.data).entry(&infohash) {
        Some(entry) if entry.dir.join(&file.path).is_file() => entry.dir,
        _ => s
            .downloads
            .fetch(&s.swarm, r, &s.fetch)
            .await
            .map_err(|e| ApiError::Upstream(format!("fetching {spec}: {e}")))?,
    };
    s.downloads.touch(&infohash);
    let path = dir.join(&file.path);
    let unreadable =
        |e: std::io::Error| ApiError::Internal(format!("reading {}: {e}", path.display()));
    // Checked whole before the first byte goes out, then streamed: payloads can be large.
    let (size, sha256) = digest(&path).await.map_err(unreadable)?;
    if size != file.size || sha256 != file.sha256 {
        return Err(ApiError::Upstream(format!(
            "the copy of {spec}/{} here is {size} bytes with SHA-256 {}, not the {} bytes with SHA-256 {} signed; refused",
            file.path,
            hex::encode(sha256),
            file.size,
            hex::encode(file.sha256)
        )));
    }
    let body = axum::body::Body::from_stream(tokio_util::io::ReaderStream::new(
        tokio::fs::File::open(&path).await.map_err(unreadable)?,
    ));
    let name = file
        .path
        .rsplit('/')
        .next()
        .unwrap_or("file")
        .replace('"', "");
    Ok((
        [
            (header::CONTENT_TYPE, "application/octet-stream".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
            (header::CONTENT_LENGTH, size.to_string()),
        ],
        body,
    )
        .into_response())
}

/// A file's size and SHA-256, read in chunks.
/// Size and SHA-256 of a file, hashed off the runtime.
async fn digest(path: &std::path::Path) -> std::io::Result<(u64, [u8; 32])> {
    let path = path.to_owned();
    seedstr_client::files::blocking::off_runtime(move || {
        let (sha256, size) = seedstr_swarm::sha256_file(&path)?;
        Ok((size, sha256))
    })
    .await
}
