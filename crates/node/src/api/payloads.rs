//! `POST /api/v1/payloads?coordinate=<ns>.<slug>&version=<v>`: a release's files, sent as a
//! tar archive, for the node to seed. The node builds the torrent exactly as `seedstr publish`
//! does (same name, same piece size), so the answer's info hash and file hashes are what the
//! author then signs into a release and sends to `POST /api/v1/events`; the keys never leave
//! the author. The archive is unpacked into a staging folder and renamed into place only once
//! the torrent is built; a failed upload leaves nothing behind.

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::{ConnectInfo, Query, State};
use axum::http::{header, HeaderMap};
use axum::Json;
use futures_util::StreamExt;
use seedstr_client::seeding::registry::{Origin, SeedEntry, SeedRegistry};
use seedstr_proto::release::{parse_version, Coordinate};
use seedstr_swarm::{create, Torrent};
use serde::Serialize;

use super::release::FileView;
use super::{ApiError, ApiState};
use crate::config::Uploads;
use seedstr_proto::release::ReleaseFile;

/// Who may upload, and how much.
#[derive(Debug, Clone, Copy)]
pub struct UploadPolicy {
    /// Who may upload.
    pub who: Uploads,
    /// The largest upload, in bytes.
    pub max_bytes: u64,
}

/// How an upload reaches the seeder: a nudge to look at its registry now, and what it serves
/// after each look.
pub struct SeederLink {
    /// Asks the seeder to look at its registry now.
    pub look_now: Arc<tokio::sync::Notify>,
    /// The infohashes the seeder serves, as of its last look.
    pub served: tokio::sync::watch::Receiver<BTreeSet<String>>,
}

/// How long an upload waits for the seeder to serve it.
const SERVE_WAIT: Duration = Duration::from_secs(30);

impl SeederLink {
    /// Whether `infohash` is served within `SERVE_WAIT`, asking the seeder to look at once.
    async fn serves(&self, infohash: &str) -> bool {
        self.look_now.notify_one();
        let mut served = self.served.clone();
        tokio::time::timeout(SERVE_WAIT, served.wait_for(|set| set.contains(infohash)))
            .await
            .is_ok_and(|r| r.is_ok())
    }
}

/// The query of `/api/v1/payloads`.
#[derive(serde::Deserialize)]
pub struct PayloadParams {
    /// `<ns>.<slug>` of the release the payload is for; with `version` it names the torrent.
    pub coordinate: String,
    /// The version it will be published as.
    pub version: String,
}

/// Where uploaded payloads live: `<data>/uploads/<infohash>/`.
fn uploads_dir(data: &Path) -> PathBuf {
    data.join("uploads")
}

/// A payload the node now seeds: what the author signs into a release.
#[derive(Debug, Serialize)]
pub struct PayloadHeld {
    /// `namespace.slug@version`.
    pub release: String,
    /// The torrent's info hash (hex).
    pub infohash: String,
    /// The torrent's name.
    pub name: String,
    /// Total bytes.
    pub size: u64,
    /// Its files.
    pub files: Vec<FileView>,
}

/// `POST /api/v1/payloads`: a payload to seed; the answer is what to sign.
pub async fn upload(
    State(s): State<Arc<ApiState>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Query(p): Query<PayloadParams>,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<PayloadHeld>, ApiError> {
    match s.uploads.who {
        Uploads::Off => {
            return Err(ApiError::Forbidden(
                "this node takes no payloads (http.uploads = \"off\")".into(),
            ))
        }
        Uploads::Loopback if !peer.ip().is_loopback() => {
            return Err(ApiError::Forbidden(format!(
                "this node takes payloads from its own machine only (http.uploads = \"loopback\"), not from {}",
                peer.ip()
            )))
        }
        _ => {}
    }
    let coordinate =
        Coordinate::parse(&p.coordinate).map_err(|e| ApiError::BadRequest(e.to_string()))?;
    let version = parse_version(&p.version).map_err(|e| ApiError::BadRequest(e.to_string()))?;
    let release = format!("{coordinate}@{version}");
    let name = format!("{}-{}", coordinate.file_stem(), version);

    // A declared length says at once what counting the bytes would say at the end.
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > s.uploads.max_bytes) {
        return Err(too_large(s.uploads.max_bytes));
    }
    let dir = uploads_dir(&s.data);
    std::fs::create_dir_all(&dir).map_err(|e| internal(&dir, e))?;
    let archive = receive(body, &dir, s.uploads.max_bytes).await?;
    let data = s.data.clone();
    let placed = tokio::task::spawn_blocking(move || place(&data, archive.path(), &name))
        .await
        .map_err(|e| ApiError::Internal(format!("unpacking the payload: {e}")))??;
    let (torrent, folder) = placed;
    let infohash = hex::encode(torrent.info_hash);
    let entry = SeedEntry {
        infohash: infohash.clone(),
        release: release.clone(),
        dir: folder,
        origin: Origin::Published,
        trackers: Vec::new(),
    };
    SeedRegistry::new(&s.data)
        .add(&entry, &torrent.to_file_bytes(&[]))
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    // Answer once peers can fetch it: the author signs and announces right after.
    if !s.seeder.serves(&infohash).await {
        return Err(ApiError::Internal(format!(
            "the payload {infohash} is held in {} but the seeder has not started serving it; the node's log says why",
            entry.dir.display()
        )));
    }
    tracing::info!("payload for {release} received from {peer}: {infohash}");
    let size: u64 = torrent.files.iter().map(|f| f.size).sum();
    Ok(Json(PayloadHeld {
        release,
        infohash,
        size,
        files: torrent
            .files
            .iter()
            .map(|f| FileView::from(&ReleaseFile::from(f)))
            .collect(),
        name: torrent.name,
    }))
}

fn too_large(max: u64) -> ApiError {
    ApiError::TooLarge(format!(
        "the payload is larger than this node takes ({} MiB, http.max_upload_mib)",
        max / (1024 * 1024)
    ))
}

fn internal(path: &Path, e: impl std::fmt::Display) -> ApiError {
    ApiError::Internal(format!("{}: {e}", path.display()))
}

/// The request body, written to a temporary file in `dir`; more than `max` bytes is refused.
async fn receive(body: Body, dir: &Path, max: u64) -> Result<tempfile::NamedTempFile, ApiError> {
    use tokio::io::AsyncWriteExt;
    let file = tempfile::Builder::new()
        .prefix(".incoming-")
        .tempfile_in(dir)
        .map_err(|e| internal(dir, e))?;
    let unwritable = |e: std::io::Error| internal(file.path(), e);
    // Written without blocking the runtime; the archive is only read back by the unpacking, so
    // it is never synced: what must survive a crash is the unpacked payload.
    let mut out = tokio::fs::File::from_std(file.as_file().try_clone().map_err(unwritable)?);
    let mut stream = body.into_data_stream();
    let mut received = 0u64;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| ApiError::BadRequest(format!("reading the upload: {e}")))?;
        received += chunk.len() as u64;
        if received > max {
            return Err(too_large(max));
        }
        out.write_all(&chunk).await.map_err(unwritable)?;
    }
    out.flush().await.map_err(unwritable)?;
    if received == 0 {
        return Err(ApiError::BadRequest(
            "the upload is empty: send the payload's files as a tar archive".into(),
        ));
    }
    Ok(file)
}

/// Unpacks `archive` into a staging folder, builds the torrent named `name`, and renames the
/// folder to `<data>/uploads/<infohash>`. The same payload sent again finds its folder there.
fn place(data: &Path, archive: &Path, name: &str) -> Result<(Torrent, PathBuf), ApiError> {
    let dir = uploads_dir(data);
    let staging = tempfile::Builder::new()
        .prefix(".staging-")
        .tempdir_in(&dir)
        .map_err(|e| internal(&dir, e))?;
    unpack(archive, staging.path())?;
    let torrent = create(staging.path(), name)
        .map_err(|e| ApiError::BadRequest(format!("the payload cannot be seeded: {e}")))?;
    let folder = dir.join(hex::encode(torrent.info_hash));
    if !folder.exists() {
        let staged = staging.keep();
        std::fs::rename(&staged, &folder).map_err(|e| internal(&folder, e))?;
        seedstr_client::files::durable::sync_dir(&dir).map_err(|e| internal(&dir, e))?;
    }
    Ok((torrent, folder))
}

/// Unpacks regular files and folders only, each at a plain relative path.
fn unpack(archive: &Path, into: &Path) -> Result<(), ApiError> {
    let bad = |why: String| {
        ApiError::BadRequest(format!("the payload is not a usable tar archive: {why}"))
    };
    let file = std::fs::File::open(archive).map_err(|e| internal(archive, e))?;
    let mut tar = tar::Archive::new(file);
    let entries = tar.entries().map_err(|e| bad(e.to_string()))?;
    for entry in entries {
        let mut entry = entry.map_err(|e| bad(e.to_string()))?;
        let path = entry.path().map_err(|e| bad(e.to_string()))?.into_owned();
        let plain = path
            .components()
            .all(|c| matches!(c, Component::Normal(_) | Component::CurDir));
        if !plain {
            return Err(bad(format!(
                "{} is not a plain relative path",
                path.display()
            )));
        }
        let kind = entry.header().entry_type();
        if !(kind.is_file() || kind.is_dir()) {
            return Err(bad(format!(
                "{} is neither a file nor a folder ({kind:?})",
                path.display()
            )));
        }
        entry
            .unpack_in(into)
            .map_err(|e| bad(format!("{}: {e}", path.display())))?;
        // On disk before the folder is renamed into place and registered for seeding.
        if kind.is_file() {
            let unpacked = into.join(&path);
            std::fs::File::open(&unpacked)
                .and_then(|f| f.sync_all())
                .map_err(|e| internal(&unpacked, e))?;
        }
    }
    Ok(())
}
