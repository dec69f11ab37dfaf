//! A project's page: its definition, its versions newest first with what people say about
//! each (reviews, compatibility and bug reports), the incidents that name it, and its support
//! messages. `seedstr mod info`, the node's `/api/v1/projects` and its project page all show
//! this one view, read from relays or from the node's store.

use nostr::prelude::{Event, PublicKey};
use seedstr_client::relays::source::{EventSource, SourceError};
use seedstr_client::resolve::target::npub;
use seedstr_proto::event::{first_tag_value, newest_by_address};
use seedstr_proto::incident::{Incident, IncidentView, INCIDENT_KIND};
use seedstr_proto::release::{
    Coordinate, DependencyKind, Project, Release, PROJECT_KIND, RELEASE_KIND,
};
use seedstr_proto::zap_split::ZapSplit;
use serde_json::json;

use crate::events::curation::{
    BugReport, BugStatus, CompatReport, CompatStatus, Review, SupportMessage,
};
use crate::events::{ReleaseRef, BUG_KIND, COMPAT_KIND, REVIEW_KIND, SUPPORT_KIND};

/// Why a page could not be shown.
#[derive(Debug, thiserror::Error)]
pub enum PageError {
    /// The source could not be asked.
    #[error(transparent)]
    Source(#[from] SourceError),
    /// Neither a definition nor a release of the project was found.
    #[error("nothing is known of {author}/{coordinate}")]
    NotFound {
        /// The author's npub.
        author: String,
        /// The project.
        coordinate: String,
    },
}

/// A project and its versions.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ProjectPage {
    /// The author's npub.
    pub author: String,
    /// The project.
    pub coordinate: String,
    /// Its address, `30078:<hex author>:<ns>.<slug>` (what zaps on the project name).
    pub address: String,
    /// From the project definition (30078), when one was found.
    pub name: Option<String>,
    /// One line about it.
    pub summary: Option<String>,
    /// Its page text (Markdown).
    pub description: Option<String>,
    /// The author's releases of the project, highest version first.
    pub versions: Vec<VersionEntry>,
    /// Every current incident naming the project, by anyone.
    pub incidents: Vec<IncidentView>,
    /// How many support messages name it.
    pub support_messages: usize,
}

impl ProjectPage {
    /// What on the page can be zapped: the project's address, then each version's, with the
    /// lightning address its author named on it for tips.
    pub fn zappable(&self) -> Vec<(String, Option<String>)> {
        std::iter::once((self.address.clone(), None))
            .chain(
                self.versions
                    .iter()
                    .map(|v| (v.address.clone(), v.zap_target.clone())),
            )
            .collect()
    }
}

/// One release on a project's page.
#[derive(Debug, Clone, serde::Serialize)]
pub struct VersionEntry {
    /// The version.
    pub version: String,
    /// When it was signed (Unix seconds).
    pub published_at: u64,
    /// The release event.
    pub event_id: String,
    /// Its address, `30079:<hex author>:<ns>.<slug>@<version>` (what zaps and reviews name).
    pub address: String,
    /// Its torrent's info hash.
    pub infohash: String,
    /// How many files, and their total size in bytes.
    pub files: usize,
    /// Its total size in bytes.
    pub size: u64,
    /// Game versions it supports.
    pub game_versions: Vec<String>,
    /// Projects it names.
    pub dependencies: Vec<DependencyEntry>,
    /// Where zaps go, if anywhere.
    pub zap_target: Option<String>,
    /// Who shares its tips (NIP-57 Appendix G).
    pub zap_splits: Vec<ZapSplit>,
    /// What changed (Markdown).
    pub changelog: String,
    /// The id of the author's incident that withdraws this version, if one does.
    pub blocked_by: Option<String>,
    /// 1 to 5.
    pub rating: Option<Rating>,
    /// The reviews, each reviewer's newest.
    pub reviews: Vec<ReviewEntry>,
    /// Compatibility reports.
    pub compatibility: Vec<CompatEntry>,
    /// Bug reports.
    pub bugs: Vec<BugEntry>,
}

/// A dependency a release names.
#[derive(Debug, Clone, serde::Serialize)]
pub struct DependencyEntry {
    /// The project address, `30078:<hex author>:<ns>.<slug>`.
    pub project: String,
    /// The versions named.
    pub versions: String,
    /// Required, optional or incompatible.
    pub kind: DependencyKind,
}

/// The mean rating of a release, each reviewer's newest review counted once.
#[derive(Debug, Clone, Copy, serde::Serialize)]
pub struct Rating {
    /// The mean rating, 1 to 5.
    pub average: f64,
    /// The reviews, each reviewer's newest.
    pub reviews: usize,
}

/// A review.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ReviewEntry {
    /// The reviewer's npub.
    pub by: String,
    /// 1 to 5.
    pub rating: u8,
    /// The words.
    pub text: String,
    /// When it was signed (Unix seconds).
    pub at: u64,
}

/// A compatibility report.
#[derive(Debug, Clone, serde::Serialize)]
pub struct CompatEntry {
    /// The reporter's npub.
    pub by: String,
    /// The game version tested.
    pub game_version: String,
    /// How it went.
    pub status: CompatStatus,
    /// The releases it was tested with.
    pub with: Vec<String>,
    /// Notes.
    pub notes: String,
    /// When it was signed (Unix seconds).
    pub at: u64,
}

/// A bug report.
#[derive(Debug, Clone, serde::Serialize)]
pub struct BugEntry {
    /// The reporter's npub.
    pub by: String,
    /// The bug's title.
    pub title: String,
    /// How it went.
    pub status: BugStatus,
}

/// The page of `author`'s project `coordinate`, read from `source`.
pub async fn project_page(
    source: &impl EventSource,
    author: &PublicKey,
    coordinate: &Coordinate,
) -> Result<ProjectPage, PageError> {
    let project_address = coordinate.project_address(author);
    // The project has no `a` tag, so it needs its own filter; both go out at once.
    let (events, definitions) = tokio::join!(
        source.events(
            json!({"kinds": [RELEASE_KIND, INCIDENT_KIND, SUPPORT_KIND], "#a": [project_address]})
        ),
        source.events(
            json!({"kinds": [PROJECT_KIND], "authors": [author.to_hex()], "#d": [coordinate.d()]})
        ),
    );
    let (events, definitions) = (events?, definitions?);
    let current = newest_by_address(&events);
    let definition = newest_by_address(&definitions).into_iter().find_map(|e| {
        Project::from_event(e)
            .ok()
            .filter(|p| p.coordinate == *coordinate)
    });
    let mut releases: Vec<(Release, &Event)> = current
        .iter()
        .copied()
        .filter(|e| e.pubkey == *author)
        .filter_map(|e| Release::from_event(e).ok().map(|r| (r, e.event())))
        .filter(|(r, _)| r.coordinate == *coordinate)
        .collect();
    if definition.is_none() && releases.is_empty() {
        return Err(PageError::NotFound {
            author: npub(author),
            coordinate: coordinate.to_string(),
        });
    }
    releases.sort_by(|x, y| y.0.version.cmp(&x.0.version));
    let incidents: Vec<(PublicKey, Incident)> = current
        .iter()
        .filter_map(|e| Incident::from_event(e).ok().map(|i| (e.pubkey, i)))
        .filter(|(_, i)| i.coordinate == *coordinate && i.project_author == *author)
        .collect();
    let support_messages = current
        .iter()
        .filter(|e| SupportMessage::from_event(e).is_ok())
        .count();
    let addresses: Vec<String> = releases
        .iter()
        .map(|(r, _)| release_address(author, r))
        .collect();
    let said = if addresses.is_empty() {
        Vec::new()
    } else {
        source
            .events(json!({"kinds": [REVIEW_KIND, COMPAT_KIND, BUG_KIND], "#a": addresses}))
            .await?
    };
    let said = newest_by_address(&said);
    let versions = releases
        .iter()
        .zip(&addresses)
        .map(|((r, e), address)| {
            let about: Vec<&Event> = said
                .iter()
                .map(|e| e.event())
                .filter(|e| first_tag_value(e, "a") == Some(address.as_str()))
                .collect();
            version_entry(r, e, address, &about, &incidents)
        })
        .collect();
    Ok(ProjectPage {
        author: npub(author),
        coordinate: coordinate.to_string(),
        address: coordinate.project_address(author),
        name: definition.as_ref().map(|p| p.name.clone()),
        summary: definition.as_ref().map(|p| p.summary.clone()),
        description: definition.as_ref().map(|p| p.description.clone()),
        versions,
        incidents: incidents
            .iter()
            .map(|(signer, i)| IncidentView::new(signer, i))
            .collect(),
        support_messages,
    })
}

/// `30079:<hex author>:<d>`, the address reviews and reports name.
fn release_address(author: &PublicKey, r: &Release) -> String {
    ReleaseRef {
        author: *author,
        coordinate: r.coordinate.clone(),
        version: r.version.clone(),
    }
    .address()
}

/// One version with what `about` (the newest curation events naming it) says of it.
fn version_entry(
    r: &Release,
    e: &Event,
    address: &str,
    about: &[&Event],
    incidents: &[(PublicKey, Incident)],
) -> VersionEntry {
    let mut reviews = Vec::new();
    let mut compatibility = Vec::new();
    let mut bugs = Vec::new();
    for e in about {
        let by = npub(&e.pubkey);
        let at = e.created_at.as_secs();
        if let Ok(review) = Review::from_event(e) {
            reviews.push(ReviewEntry {
                by,
                rating: review.rating,
                text: review.text,
                at,
            });
        } else if let Ok(c) = CompatReport::from_event(e) {
            compatibility.push(CompatEntry {
                by,
                game_version: c.game_version,
                status: c.status,
                with: c.with.iter().map(ToString::to_string).collect(),
                notes: c.notes,
                at,
            });
        } else if let Ok(b) = BugReport::from_event(e) {
            bugs.push(BugEntry {
                by,
                title: b.title,
                status: b.status,
            });
        }
    }
    let rating = (!reviews.is_empty()).then(|| Rating {
        average: reviews.iter().map(|r| f64::from(r.rating)).sum::<f64>() / reviews.len() as f64,
        reviews: reviews.len(),
    });
    VersionEntry {
        version: r.version.to_string(),
        published_at: e.created_at.as_secs(),
        event_id: e.id.to_hex(),
        address: address.to_owned(),
        infohash: r.infohash_hex(),
        files: r.files.len(),
        size: r.total_size(),
        game_versions: r.game_versions.clone(),
        dependencies: r
            .dependencies
            .iter()
            .map(|d| DependencyEntry {
                project: d.project_address(),
                versions: d.range.to_string(),
                kind: d.kind,
            })
            .collect(),
        zap_target: r.zap_target.clone(),
        zap_splits: r.zap_splits.clone(),
        changelog: r.changelog.clone(),
        blocked_by: seedstr_proto::incident::withdrawing(
            incidents,
            &e.pubkey,
            &r.coordinate,
            &r.version,
        )
        .map(|i| i.id.clone()),
        rating,
        reviews,
        compatibility,
        bugs,
    }
}
