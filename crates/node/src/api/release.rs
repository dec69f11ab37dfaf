//! `GET /api/v1/projects/<npub>/<ns>.<slug>` and `GET /api/v1/releases/<npub>/<ns>.<slug>[@v]`:
//! a project with its versions, and one release with what was checked about it.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::Json;
use nostr::prelude::PublicKey;
use seedstr_client::resolve::target::{npub, Target};
use seedstr_client::resolve::{choose, Chain, Rejected, Resolution, ResolveError};
use seedstr_client::seeding::registry::SeedRegistry;
use seedstr_mods::events::curation::{CompatReport, Review};
use seedstr_mods::events::{COMPAT_KIND, REVIEW_KIND};
use seedstr_mods::page::{project_page, PageError, ProjectPage};
use seedstr_proto::incident::{current_incidents, Incident, IncidentView, INCIDENT_KIND};
use seedstr_proto::release::{Project, Release, ReleaseFile, PROJECT_KIND, RELEASE_KIND};
use serde::Serialize;
use serde_json::json;

use super::seeders::SeedersCheck;
use super::zaps::{address_zaps, project_zaps};
use super::{ApiError, ApiState};
use seedstr_pay::totals::Totals;
use seedstr_proto::zap_split::ZapSplit;

fn target(text: &str) -> Result<Target, ApiError> {
    text.parse()
        .map_err(|e: seedstr_client::resolve::target::TargetError| {
            ApiError::BadRequest(e.to_string())
        })
}

/// A project's page with its zaps, as the API answers it.
#[derive(Debug, Serialize)]
pub struct ProjectAnswer {
    /// The page.
    #[serde(flatten)]
    pub page: ProjectPage,
    /// The zaps on the project and its versions (`by_target` per version's address).
    pub zaps: Totals,
}

/// `GET /api/v1/projects/<npub>/<coordinate>`.
pub async fn project(
    State(s): State<Arc<ApiState>>,
    Path(text): Path<String>,
) -> Result<Json<ProjectAnswer>, ApiError> {
    let page = project_view(&s, &text).await?;
    let zaps = project_zaps(&s, &page).await?;
    Ok(Json(ProjectAnswer { page, zaps }))
}

/// `GET /api/v1/releases/<npub>/<coordinate>[@version]`.
pub async fn release(
    State(s): State<Arc<ApiState>>,
    Path(text): Path<String>,
) -> Result<Json<ReleaseView>, ApiError> {
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
    let events = s
        .events(json!({"kinds": [INCIDENT_KIND], "#a": [address]}))
        .await?;
    Ok(current_incidents(&events))
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
    // Every release and incident by anyone that names the project: the checks say which are
    // refused, and the author's incidents bind the choice as they bind installs.
    let events = s
        .events(json!({"kinds": [RELEASE_KIND, INCIDENT_KIND], "#a": [address]}))
        .await?;
    let resolution = choose(&t, &events, &[]).map_err(|e| match e {
        ResolveError::NotFound { .. } | ResolveError::VersionNotFound { .. } => ApiError::NotFound(
            e.to_string()
                .replace("no relay holds", "this node holds no"),
        ),
        other => ApiError::NotFound(other.to_string()),
    })?;
    let version = resolution.release.version.clone();
    let incidents: Vec<_> = resolution
        .incidents
        .iter()
        .filter(|(_, i)| i.affects(&version))
        .cloned()
        .collect();
    let blocked_by = resolution
        .withdrawn_by
        .as_ref()
        .map(|i| (i.id.clone(), i.summary.clone()));
    Ok(Chosen {
        target: t,
        resolution,
        incidents,
        blocked_by,
    })
}

/// One release and what was checked about it.
#[derive(Debug, Serialize)]
pub struct ReleaseView {
    /// Its author (npub).
    pub author: String,
    /// `namespace.slug`.
    pub coordinate: String,
    /// The project's display name, when the node holds the project event.
    pub name: Option<String>,
    /// The version.
    pub version: String,
    /// The release event's id (hex).
    pub event_id: String,
    /// When it was signed (Unix seconds).
    pub published_at: u64,
    /// The payload's info hash (hex).
    pub infohash: String,
    /// Its magnet link.
    pub magnet: String,
    /// The payload's size in bytes.
    pub size: u64,
    /// Its files.
    pub files: Vec<FileView>,
    /// HTTPS mirrors of the files.
    pub mirrors: Vec<String>,
    /// BitTorrent peers the publisher names as its own seeders (`host:port`), asked first.
    pub publisher_seeders: Vec<String>,
    /// Tracker announce URLs.
    pub trackers: Vec<String>,
    /// What changed, for people.
    pub changelog: String,
    /// What it needs.
    pub dependencies: Vec<DependencyView>,
    /// The package it is, for a package release.
    pub package: Option<PackageView>,
    /// Whether this node seeds it.
    pub seeded_here: bool,
    /// What the swarm said, or that it is being asked.
    pub seeders: SeedersState,
    /// Reviews of this release.
    pub reviews: Reviews,
    /// Compatibility reports naming it, newest first.
    pub compatibility: Vec<CompatView>,
    /// Where its tips go: the lightning address its author named, if any.
    pub zap_target: Option<String>,
    /// Who shares its tips (NIP-57 Appendix G).
    pub zap_splits: Vec<ZapSplit>,
    /// The zaps on it, each receipt checked.
    pub zaps: Totals,
    /// What was checked.
    pub verification: Verification,
}

/// One file of a release.
#[derive(Debug, Serialize)]
pub struct FileView {
    /// Its path in the release.
    pub path: String,
    /// Its size in bytes.
    pub size: u64,
    /// Its SHA-256 (hex).
    pub sha256: String,
}

impl From<&ReleaseFile> for FileView {
    fn from(f: &ReleaseFile) -> FileView {
        FileView {
            path: f.path.clone(),
            size: f.size,
            sha256: hex::encode(f.sha256),
        }
    }
}

/// One dependency.
#[derive(Debug, Serialize)]
pub struct DependencyView {
    /// The project needed (`30401:<author>:<ns>.<slug>`).
    pub address: String,
    /// The versions accepted.
    pub versions: String,
    /// `required`, `optional` or `incompatible`.
    pub kind: &'static str,
}

/// The package a release is.
#[derive(Debug, Serialize)]
pub struct PackageView {
    /// The package's name.
    pub name: String,
    /// Its archive's integrity string.
    pub integrity: String,
}

/// The swarm's answer, kept a while, or that the node is asking now.
#[derive(Debug, Serialize)]
#[serde(untagged)]
pub enum SeedersState {
    /// A kept answer.
    Checked(Arc<SeedersCheck>),
    /// A check started; the answer comes on a later visit.
    Checking {
        /// Always `checking`.
        state: &'static str,
    },
}

/// Reviews and their mean rating.
#[derive(Debug, Serialize)]
pub struct Reviews {
    /// How many.
    pub count: usize,
    /// The mean rating (1–5), when there is one.
    pub mean_rating: Option<f64>,
    /// The reviews, newest first; each reviewer's newest counts once.
    pub items: Vec<ReviewView>,
}

/// One review.
#[derive(Debug, Serialize)]
pub struct ReviewView {
    /// The reviewer (npub).
    pub author: String,
    /// 1–5.
    pub rating: u8,
    /// What they wrote.
    pub text: String,
    /// When (Unix seconds).
    pub at: u64,
}

/// One compatibility report.
#[derive(Debug, Serialize)]
pub struct CompatView {
    /// The reporter (npub).
    pub reporter: String,
    /// The game version tried.
    pub game_version: String,
    /// `works`, `broken` or another status.
    pub status: &'static str,
    /// Other releases installed alongside.
    pub with: Vec<String>,
    /// What they noticed.
    pub notes: String,
    /// When (Unix seconds).
    pub at: u64,
}

/// What this node checked about a release.
#[derive(Debug, Serialize)]
pub struct Verification {
    /// Always `valid`: the relay checked the signature on arrival.
    pub signature: &'static str,
    /// How the release links to those it supersedes.
    pub chain: Chain,
    /// Events claiming the project that were refused.
    pub rejected: Vec<Rejected>,
    /// Incidents covering the version.
    pub incidents: Vec<IncidentView>,
    /// The id of the author's incident, which blocks installs, if any.
    pub blocked_by: Option<String>,
}

/// One release and what was checked about it, for the API and the web UI alike.
pub async fn release_view(s: &ApiState, text: &str) -> Result<ReleaseView, ApiError> {
    let Chosen {
        target: t,
        resolution,
        incidents: affecting,
        blocked_by,
    } = chosen_release(s, text).await?;
    let r = &resolution.release;
    let name = s
        .events(json!({"kinds": [PROJECT_KIND], "authors": [t.author.to_hex()], "#d": [t.coordinate.d()]}))
        .await?
        .iter()
        .find_map(|e| Project::from_event(e).ok())
        .map(|p| p.name);
    let (reviews, compatibility) = community(s, &t, r).await?;
    let address = format!("{RELEASE_KIND}:{}:{}", t.author.to_hex(), r.d());
    let zaps = address_zaps(s, &address, r.zap_target.clone()).await?;
    let seeded_here = SeedRegistry::new(&s.data)
        .entry(&r.infohash_hex())
        .is_some();
    // The swarm's answer when one is kept; otherwise a check starts and this says so.
    let seeders = match s.seeders.kept_or_start(r).await {
        Some(checked) => SeedersState::Checked(checked),
        None => SeedersState::Checking { state: "checking" },
    };
    Ok(ReleaseView {
        author: npub(&t.author),
        coordinate: r.coordinate.to_string(),
        name,
        version: r.version.to_string(),
        event_id: resolution.event.id.to_hex(),
        published_at: resolution.event.created_at.as_secs(),
        infohash: r.infohash_hex(),
        magnet: r.magnet(),
        size: r.total_size(),
        files: r.files.iter().map(FileView::from).collect(),
        mirrors: r.mirrors.clone(),
        publisher_seeders: r.seeders.clone(),
        trackers: r.trackers.clone(),
        changelog: r.changelog.clone(),
        dependencies: r
            .dependencies
            .iter()
            .map(|d| DependencyView {
                address: d.project_address(),
                versions: d.range.to_string(),
                kind: d.kind.as_str(),
            })
            .collect(),
        package: r.package.as_ref().map(|p| PackageView {
            name: p.name.clone(),
            integrity: p.integrity.clone(),
        }),
        seeded_here,
        seeders,
        reviews,
        compatibility,
        zap_target: r.zap_target.clone(),
        zap_splits: r.zap_splits.clone(),
        zaps,
        verification: Verification {
            signature: "valid",
            chain: resolution.chain,
            rejected: resolution.rejected,
            incidents: affecting
                .iter()
                .map(|(signer, i)| IncidentView::new(signer, i))
                .collect(),
            blocked_by: blocked_by.map(|(id, _)| id),
        },
    })
}

/// The reviews (with their mean rating) and compatibility reports that name this release,
/// newest first. Each reviewer's newest review counts once: reviews are addressable.
async fn community(
    s: &ApiState,
    t: &Target,
    r: &Release,
) -> Result<(Reviews, Vec<CompatView>), ApiError> {
    let address = format!("{RELEASE_KIND}:{}:{}", t.author.to_hex(), r.d());
    let events = s
        .events(json!({"kinds": [REVIEW_KIND, COMPAT_KIND], "#a": [address]}))
        .await?;
    let mut items = Vec::new();
    let mut reports = Vec::new();
    for e in &events {
        if let Ok(review) = Review::from_event(e) {
            items.push(ReviewView {
                author: npub(&e.pubkey),
                rating: review.rating,
                text: review.text,
                at: e.created_at.as_secs(),
            });
        } else if let Ok(report) = CompatReport::from_event(e) {
            reports.push(CompatView {
                reporter: npub(&e.pubkey),
                game_version: report.game_version,
                status: report.status.as_str(),
                with: report.with.iter().map(|w| w.to_string()).collect(),
                notes: report.notes,
                at: e.created_at.as_secs(),
            });
        }
    }
    let mean_rating = (!items.is_empty())
        .then(|| items.iter().map(|x| f64::from(x.rating)).sum::<f64>() / items.len() as f64);
    Ok((
        Reviews {
            count: items.len(),
            mean_rating,
            items,
        },
        reports,
    ))
}
