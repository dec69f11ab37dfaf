//! The views over HTTP (axum): npm under `/npm/`, the Cargo sparse index under
//! `/cargo/index/` with downloads under `/cargo/dl/`. Every answer is built from the relays'
//! signed releases as the trusted registries allow them, and every archive is checked against
//! its release before one byte of it is sent.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use seedstr_client::install::InstallOptions;
use seedstr_proto::release::RELEASE_KIND;
use seedstr_swarm::Swarm;
use serde_json::json;

use super::{cargo, npm};
use crate::catalog::{look_up_on_relays, CatalogError, Sources};
use crate::name::Ecosystem;
use crate::release::PackageRelease;
use crate::store::{PackageStore, StoreError};

/// What the registry views read.
pub struct ViewState {
    /// Where and how to look up packages.
    pub sources: Sources,
    /// The session archives are fetched with.
    pub swarm: Arc<Swarm>,
    /// The verified archives kept.
    pub store: PackageStore,
    /// How archives are fetched.
    pub fetch: InstallOptions,
}

/// An answer that is not the document asked for, with a message that names the problem.
enum ViewError {
    NotFound(String),
    /// The relays or the swarm failed, or bytes were refused.
    Upstream(String),
}

impl From<CatalogError> for ViewError {
    fn from(e: CatalogError) -> ViewError {
        ViewError::Upstream(e.to_string())
    }
}

impl From<StoreError> for ViewError {
    fn from(e: StoreError) -> ViewError {
        ViewError::Upstream(e.to_string())
    }
}

impl IntoResponse for ViewError {
    fn into_response(self) -> Response {
        let (status, message) = match self {
            ViewError::NotFound(m) => (StatusCode::NOT_FOUND, m),
            ViewError::Upstream(m) => (StatusCode::BAD_GATEWAY, m),
        };
        tracing::warn!("{status}: {message}");
        (status, axum::Json(json!({ "error": message }))).into_response()
    }
}

/// The npm and Cargo views' routes.
pub fn router(state: Arc<ViewState>) -> Router {
    Router::new()
        .route("/npm/{*path}", get(npm_get))
        .route("/npm/-/npm/v1/security/{*endpoint}", post(no_advisories))
        .route("/cargo/index/config.json", get(cargo_config))
        .route("/cargo/index/{*path}", get(cargo_index))
        .route("/cargo/dl/{sha256}", get(cargo_download))
        .with_state(state)
}

/// Serves the views on `listener` until `shutdown` resolves.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: Arc<ViewState>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    use axum::serve::ListenerExt;
    // An archive's headers and body leave in two writes: without TCP_NODELAY the body waits
    // for the client's delayed ACK of the headers (40 ms on Linux) on a kept-alive connection.
    let listener = listener.tap_io(|tcp| {
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::debug!("TCP_NODELAY: {e}");
        }
    });
    axum::serve(listener, router(state))
        .with_graceful_shutdown(shutdown)
        .await
}

/// How npm and Cargo may keep a packument or index file: keep it, but ask again before each
/// use, so a new release (or a withdrawn one) shows at once; an unchanged answer is a 304.
const REVALIDATE: &str = "public, max-age=0, must-revalidate";

/// `body` with an `ETag` (a hash of its bytes) and [`REVALIDATE`], or 304 without it when the
/// request's `If-None-Match` names that tag.
fn revalidatable(request: &HeaderMap, content_type: &'static str, body: Vec<u8>) -> Response {
    use headers::HeaderMapExt;
    use sha2::Digest;
    let tag = format!("\"{}\"", hex::encode(&sha2::Sha256::digest(&body)[..16]));
    let etag: headers::ETag = tag.parse().expect("a quoted hex string is an entity tag");
    let unchanged = request
        .typed_get::<headers::IfNoneMatch>()
        .is_some_and(|wanted| !wanted.precondition_passes(&etag));
    let mut response = if unchanged {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        ([(header::CONTENT_TYPE, content_type)], body).into_response()
    };
    response.headers_mut().typed_insert(etag);
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static(REVALIDATE),
    );
    response
}

/// `http://<host>`: what the client used to reach us, so the URLs we hand out work for it.
fn origin(headers: &HeaderMap) -> String {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("127.0.0.1");
    format!("http://{host}")
}

impl ViewState {
    /// The accepted releases of `name`, or why there are none.
    async fn accepted(
        &self,
        ecosystem: Ecosystem,
        name: &str,
    ) -> Result<Vec<PackageRelease>, ViewError> {
        let (_, mut catalog) =
            look_up_on_relays(&self.sources, ecosystem, &[name.to_owned()]).await?;
        let accepted = catalog.accepted.remove(name).unwrap_or_default();
        if accepted.is_empty() {
            let refused: Vec<String> = catalog
                .refused
                .remove(name)
                .unwrap_or_default()
                .into_iter()
                .map(|(spec, why)| format!("{spec}: {why}"))
                .collect();
            return Err(ViewError::NotFound(format!(
                "no accepted release of {name}{}",
                if refused.is_empty() {
                    String::new()
                } else {
                    format!("; refused {}", refused.join("; "))
                }
            )));
        }
        Ok(accepted)
    }

    /// The checked archive of `release`, on disk.
    async fn archive(&self, release: &PackageRelease) -> Result<std::path::PathBuf, ViewError> {
        let a = self
            .store
            .archive(&self.swarm, release, &self.fetch)
            .await?;
        if let Some(why) = &a.replaced_bad_copy {
            tracing::warn!(
                "the stored copy of {} was refused ({why}); fetched again",
                release.spec()
            );
        }
        Ok(a.path)
    }
}

/// The archive at `path`, streamed from disk (an archive is never held in memory whole).
async fn archive_response(
    path: std::path::PathBuf,
    content_type: &'static str,
) -> Result<Response, ViewError> {
    let file = tokio::fs::File::open(&path)
        .await
        .map_err(|e| ViewError::Upstream(format!("reading {}: {e}", path.display())))?;
    let length = file
        .metadata()
        .await
        .map_err(|e| ViewError::Upstream(format!("reading {}: {e}", path.display())))?
        .len();
    let body = axum::body::Body::from_stream(tokio_util::io::ReaderStream::new(file));
    Ok((
        [
            (header::CONTENT_TYPE, content_type.to_owned()),
            (header::CONTENT_LENGTH, length.to_string()),
        ],
        body,
    )
        .into_response())
}

/// `GET /npm/<name>` (scoped: `@scope%2fname` or `@scope/name`) and
/// `GET /npm/<name>/-/<archive>`.
async fn npm_get(
    State(state): State<Arc<ViewState>>,
    Path(path): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ViewError> {
    // Axum has already percent-decoded the path, so `@scope%2fname` reads `@scope/name`.
    if let Some((name, file)) = path.split_once("/-/") {
        let releases = state.accepted(Ecosystem::Npm, name).await?;
        let release = releases
            .iter()
            .find(|r| r.archive().path == file)
            .ok_or_else(|| {
                ViewError::NotFound(format!(
                    "{name} has no accepted release with archive {file}"
                ))
            })?;
        let path = state.archive(release).await?;
        return archive_response(path, "application/octet-stream").await;
    }
    let releases = state.accepted(Ecosystem::Npm, &path).await?;
    let registry = format!("{}/npm/", origin(&headers));
    let packument = serde_json::to_vec(&npm::packument(&path, &releases, &registry))
        .map_err(|e| ViewError::Upstream(format!("encoding the packument: {e}")))?;
    Ok(revalidatable(&headers, "application/json", packument))
}

/// `POST /npm/-/npm/v1/security/…` (what `npm install` and `npm audit` call): 404, which npm
/// takes as "no audit here" and goes on. Advisories are not published through Nostr (yet);
/// what the view serves is already checked against its signed release.
async fn no_advisories(Path(endpoint): Path<String>) -> ViewError {
    ViewError::NotFound(format!(
        "this registry view keeps no security advisories (npm audit's {endpoint})"
    ))
}

async fn cargo_config(headers: HeaderMap) -> Response {
    axum::Json(cargo::config(&format!("{}/cargo/dl/", origin(&headers)))).into_response()
}

/// `GET /cargo/index/<prefix>/<name>`: the crate's index file.
async fn cargo_index(
    State(state): State<Arc<ViewState>>,
    Path(path): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ViewError> {
    let name = path.rsplit('/').next().unwrap_or_default();
    if cargo::index_path(name) != path.to_ascii_lowercase() {
        return Err(ViewError::NotFound(format!(
            "{path} is not where the index keeps a crate"
        )));
    }
    let releases = state.accepted(Ecosystem::Cargo, name).await?;
    let file = cargo::index_file(&releases);
    Ok(revalidatable(&headers, "text/plain", file.into()))
}

/// `GET /cargo/dl/<sha256>`: the archive with that SHA-256, from a release the registries allow.
async fn cargo_download(
    State(state): State<Arc<ViewState>>,
    Path(sha256): Path<String>,
) -> Result<Response, ViewError> {
    if sha256.len() != 64 || !sha256.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(ViewError::NotFound(format!("{sha256:?} is not a SHA-256")));
    }
    let sha256 = sha256.to_ascii_lowercase();
    // Releases carry an `x` tag per file hash, so relays find them by the archive's hash.
    let filter = json!({"kinds": [RELEASE_KIND], "#x": [sha256]});
    let found = state.sources.query(&filter).await;
    // One lookup per crate, however many releases of it share the hash.
    let names: std::collections::BTreeSet<String> = found
        .gathered
        .events
        .iter()
        .filter_map(|e| PackageRelease::from_event(e).ok())
        .filter(|p| p.name.ecosystem == Ecosystem::Cargo)
        .map(|p| p.name.as_str().to_owned())
        .collect();
    for name in names {
        let Ok(releases) = state.accepted(Ecosystem::Cargo, &name).await else {
            continue;
        };
        if let Some(r) = releases
            .iter()
            .find(|r| hex::encode(r.archive().sha256) == sha256)
        {
            let path = state.archive(r).await?;
            return archive_response(path, "application/x-tar").await;
        }
    }
    Err(ViewError::NotFound(format!(
        "no accepted crate release has the SHA-256 {sha256}"
    )))
}
