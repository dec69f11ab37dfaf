//! `GET /api/v1/projects/<npub>/<ns>.<slug>` and `GET /api/v1/releases/<npub>/<ns>.<slug>[@v]`:
//! a project with its versions, and one release with what was checked about it.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::Json;
use nostr::prelude::PublicKey;
use seedstr_client::resolve::target::{npub, Target};
use seedstr_client::resolve::{choose, Resolution, ResolveError};
use seedstr_client::seeding::registry::SeedRegistry;
use seedstr_mods::events::curation::{CompatReport, Review};
use seedstr_mods::events::{COMPAT_KIND, REVIEW_KIND};
use seedstr_mods::page::{project_page, PageError, ProjectPage};
use seedstr_proto::incident::{Incident, IncidentView, INCIDENT_KIND};
use seedstr_proto::release::{Project, Release, PROJECT_KIND, RELEASE_KIND};
use serde_json::{json, Value};

use super::{ApiError, ApiState};

fn target(text: &str) -> Result<Target, ApiError> {
    text.parse()
        .map_err(|e: seedstr_client::resolve::target::TargetError| {
            ApiError::BadRequest(e.to_string())
        })
}

/// `GET /api/v1/projects/<npub>/<coordinate>`.
pub async fn project(
    State(s): State<Arc<ApiState>>,
    Path(text): Path<String>,
) -> Result<Json<ProjectPage>, ApiError> {
    project_view(&s, &text).await.map(Json)
}

/// `GET /api/v1/releases/<npub>/<coordinate>[@version]`.
pub async fn release(
    State(s): State<Arc<ApiState>>,
    Path(text): Path<String>,
) -> Result<Json<Value>, ApiError> {
    release_view(&s, &text).await.map(Json)
}

/// A project and its versions ([`project_page`] over this node's store), for the API and the
/// web UI alike.
pub async fn project_view(s: &ApiState, text: &str) -> Result<ProjectPage, ApiError> {
    let t = target(text)?;
    project_page(s, &t.author, &t.coordinate)
        .await
        .map_err(|e| match e {
            PageError::NotFound { author, coordinate } => {
                ApiError::NotFound(format!("this node holds nothing of {author}/{coordinate}"))
            }
            PageError::Source(e) => e.into(),
        })
}

/// The current incidents naming the project at `address`, each with its signer.
pub async fn incidents_of(
    s: &ApiState,
    address: &str,
) -> Result<Vec<(PublicKey, Incident)>, ApiError> {
    Ok(s.events(json!({"kinds": [INCIDENT_KIND], "#a": [address]}))
        .await?
        .iter()
        .filter_map(|e| Some((e.pubkey, Incident::from_event(e).ok()?)))
        .collect())
}

pub(crate) fn incident_json(signer: &PublicKey, i: &Incident) -> Value {
    json!(IncidentView::new(signer, i))
}

/// A release chosen and checked as install does, with the incidents covering it.
pub struct Chosen {
    /// What was asked.
    pub target: Target,
    /// The release chosen, with its chain and the rivals refused.
    pub resolution: Resolution,
    /// Incidents covering the version, with their signers.
    pub incidents: Vec<(PublicKey, Incident)>,
    /// The author's incident covering this version: id and summary.
    pub blocked_by: Option<(String, String)>,
}

/// The release `text` (`<npub>/<ns>.<slug>[@<version>]`) names, from this node's store.
pub async fn chosen_release(s: &ApiState, text: &str) -> Result<Chosen, ApiError> {
    let t = target(text)?;
    let address = t.coordinate.project_address(&t.author);
    // Every release by anyone that names the project: the checks say which are refused.
    let events = s
        .events(json!({"kinds": [RELEASE_KIND], "#a": [address]}))
        .await?;
    let resolution = choose(&t, &events).map_err(|e| match e {
        ResolveError::NotFound { .. } | ResolveError::VersionNotFound { .. } => ApiError::NotFound(
            e.to_string()
                .replace("no relay holds", "this node holds no"),
        ),
        other => ApiError::NotFound(other.to_string()),
    })?;
    let version = resolution.release.version.clone();
    let incidents: Vec<_> = incidents_of(s, &address)
        .await?
        .into_iter()
        .filter(|(_, i)| i.affects(&version))
        .collect();
    let blocked_by = incidents
        .iter()
        .find(|(signer, i)| i.is_authoritative(signer))
        .map(|(_, i)| (i.id.clone(), i.summary.clone()));
    Ok(Chosen {
        target: t,
        resolution,
        incidents,
        blocked_by,
    })
}

/// One release and what was checked about it, for the API and the web UI alike.
pub async fn release_view(s: &ApiState, text: &str) -> Result<Value, ApiError> {
    let Chosen {
        target: t,
        resolution,
        incidents: affecting,
        blocked_by,
    } = chosen_release(s, text).await?;
    let r = &resolution.release;
    let blocked_by = blocked_by.map(|(id, _)| id);
    let incidents: Vec<Value> = affecting
        .iter()
        .map(|(signer, i)| incident_json(signer, i))
        .collect();
    let project_name = s
        .events(json!({"kinds": [PROJECT_KIND], "authors": [t.author.to_hex()], "#d": [t.coordinate.d()]}))
        .await?
        .iter()
        .find_map(|e| Project::from_event(e).ok())
        .map(|p| p.name);
    let (reviews, compatibility) = community(s, &t, r).await?;
    let seeded_here = SeedRegistry::new(&s.data)
        .entry(&r.infohash_hex())
        .is_some();
    Ok(json!({
        "author": npub(&t.author),
        "coordinate": r.coordinate.to_string(),
        "name": project_name,
        "version": r.version.to_string(),
        "event_id": resolution.event.id.to_hex(),
        "published_at": resolution.event.created_at.as_secs(),
        "infohash": r.infohash_hex(),
        "magnet": r.magnet(),
        "size": r.total_size(),
        "files": r.files.iter().map(|f| json!({"path": f.path, "size": f.size, "sha256": hex::encode(f.sha256)})).collect::<Vec<_>>(),
        "mirrors": r.mirrors,
        "trackers": r.trackers,
        "changelog": r.changelog,
        "dependencies": r.dependencies.iter().map(|d| json!({"address": d.project_address(), "versions": d.range.to_string(), "kind": d.kind.as_str()})).collect::<Vec<_>>(),
        "package": r.package.as_ref().map(|p| json!({"name": p.name, "integrity": p.integrity})),
        "seeded_here": seeded_here,
        // The swarm's answer when one is kept; otherwise a check starts and this says so.
        "seeders": match s.seeders.kept_or_start(r).await {
            Some(checked) => (*checked).clone(),
            None => json!({"state": "checking"}),
        },
        "reviews": reviews,
        "compatibility": compatibility,
        "verification": {
            "signature": "valid",
            "chain": resolution.chain,
            "rejected": resolution.rejected,
            "incidents": incidents,
            "blocked_by": blocked_by,
        },
    }))
}

/// The reviews (with their mean rating) and compatibility reports that name this release,
/// newest first. Each reviewer's newest review counts once: reviews are addressable.
async fn community(s: &ApiState, t: &Target, r: &Release) -> Result<(Value, Value), ApiError> {
    let address = format!("{RELEASE_KIND}:{}:{}", t.author.to_hex(), r.d());
    let events = s
        .events(json!({"kinds": [REVIEW_KIND, COMPAT_KIND], "#a": [address]}))
        .await?;
    let mut reviews = Vec::new();
    let mut ratings = Vec::new();
    let mut reports = Vec::new();
    for e in &events {
        if let Ok(review) = Review::from_event(e) {
            ratings.push(f64::from(review.rating));
            reviews.push(json!({
                "author": npub(&e.pubkey),
                "rating": review.rating,
                "text": review.text,
                "at": e.created_at.as_secs(),
            }));
        } else if let Ok(report) = CompatReport::from_event(e) {
            reports.push(json!({
                "reporter": npub(&e.pubkey),
                "game_version": report.game_version,
                "status": report.status.as_str(),
                "with": report.with.iter().map(|w| w.to_string()).collect::<Vec<_>>(),
                "notes": report.notes,
                "at": e.created_at.as_secs(),
            }));
        }
    }
    let mean = (!ratings.is_empty()).then(|| ratings.iter().sum::<f64>() / ratings.len() as f64);
    Ok((
        json!({"count": reviews.len(), "mean_rating": mean, "items": reviews}),
        Value::Array(reports),
    ))
}
