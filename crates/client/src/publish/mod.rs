//! `publish`: a payload folder (or file) becomes a deterministic torrent and a signed release
//! (30079), plus the project (30078) when it is new or its description changed; both go to every
//! relay and each relay's answer is reported.

pub mod incident;
pub mod kept;
pub mod outbox;
pub mod own_events;

use std::path::{Path, PathBuf};
use std::time::Duration;

use nostr::prelude::FinalizeEvent as _;
use nostr::prelude::{Event, EventId, Keys};
use seedstr_dht::{DhtNode, DhtOptions};
use seedstr_proto::package::PackageTags;
use seedstr_proto::release::{
    Coordinate, Dependency, ManifestError, Project, Release, ReleaseFile, Supersedes, Version,
    PROJECT_KIND, RELEASE_KIND,
};
use seedstr_proto::Verified;
use seedstr_swarm::{create, CreateError, Torrent};
use serde_json::json;

use crate::feed::{announce_feed, FeedPublished};
use crate::publish::own_events::{OwnEvents, OwnEventsError};
use crate::relays::{
    describe_answers, list_failures, publish_all, query_all, PublishAnswer, RelaySet,
};
use crate::resolve::names::{put_name_record, NamePut};
use crate::seeding::registry::{Origin, SeedEntry, SeedRegistry, SeedsError};

/// Where a published payload is seeded from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SeedFrom {
    /// A copy kept under `$SEEDSTR_HOME/published/<infohash>/` ([`kept`]): the author may go
    /// on editing their folder.
    #[default]
    KeptCopy,
    /// The author's folder itself: no second copy of a very large payload, but a later edit
    /// there stops the release being seeded.
    InPlace,
}

/// What to publish: the project, version, where to send it and the release's metadata.
#[derive(Debug, Clone)]
pub struct PublishRequest {
    /// The payload: a folder, or a single file.
    pub path: PathBuf,
    /// The project, as `namespace/slug`.
    pub coordinate: Coordinate,
    /// The version to publish.
    pub version: Version,
    /// Relay URLs to publish to.
    pub relays: Vec<String>,
    /// HTTPS mirrors that serve the same files.
    pub mirrors: Vec<String>,
    /// BitTorrent peers to name as the publisher's own seeders (`host:port`); installs ask
    /// them first.
    pub seeders: Vec<String>,
    /// Tracker announce URLs for the magnet link.
    pub trackers: Vec<String>,
    /// What changed, for people.
    pub changelog: String,
    /// Releases this one needs.
    pub dependencies: Vec<Dependency>,
    /// Game versions the release works with.
    pub game_versions: Vec<String>,
    /// Where zaps for the release go (a Lightning address), if anywhere.
    pub zap_target: Option<String>,
    /// Who shares the release's tips (NIP-57 Appendix G).
    pub zap_splits: Vec<seedstr_proto::zap_split::ZapSplit>,
    /// The package tags, when the payload is one npm or Cargo archive.
    pub package: Option<PackageTags>,
    /// Project name and summary; `None` keeps what the project already says.
    pub name: Option<String>,
    /// A one-line summary.
    pub summary: Option<String>,
    /// Project description (Markdown); `None` keeps what the project already says.
    pub description: Option<String>,
    /// How long to wait for each relay.
    pub relay_timeout: Duration,
    /// Where the payload is seeded from once published.
    pub seed_from: SeedFrom,
}

/// What a publish did on the relays.
#[derive(Debug, serde::Serialize)]
pub struct PublishReport {
    /// The release, as `namespace/slug@version`.
    pub release: String,
    /// The event's id (hex).
    pub event_id: String,
    /// Set when the project event was (re)signed in this run.
    pub project_event_id: Option<String>,
    /// The payload's BitTorrent info hash (hex).
    pub infohash: String,
    /// The magnet link.
    pub magnet: String,
    /// Number of files.
    pub files: usize,
    /// Payload size in bytes.
    pub bytes: u64,
    /// The event of the previous version, if any.
    pub supersedes: Option<String>,
    /// True when this exact release was already published and was only sent again.
    pub resent: bool,
    /// What each relay answered.
    pub answers: Vec<PublishAnswer>,
    /// The folder the torrent's files sit below, for seeding.
    pub seed_dir: PathBuf,
    /// The `.torrent` file's bytes.
    #[serde(skip)]
    pub torrent_file: Vec<u8>,
    /// The events sent (project when signed, then release), for the author's own copy.
    #[serde(skip)]
    pub events: Vec<Event>,
    /// The info hash as bytes.
    #[serde(skip)]
    pub info_hash: [u8; 20],
}

/// Why a publish failed; nothing was published.
#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    /// The payload could not be hashed.
    #[error(transparent)]
    Payload(#[from] CreateError),
    /// The manifest is invalid.
    #[error(transparent)]
    Manifest(#[from] ManifestError),
    /// No relay answered.
    #[error("no relay answered, so the release was not published: {}", list_failures(.0))]
    NoRelay(Vec<(String, String)>),
    /// The version is published already with other files.
    #[error("{release} is already published with other files (event {event_id}, info hash {infohash}); a version never changes: publish a new version")]
    VersionTaken {
        /// The release, as `namespace/slug@version`.
        release: String,
        /// The event's id (hex).
        event_id: String,
        /// The payload's BitTorrent info hash (hex).
        infohash: String,
    },
    /// Every relay refused the release.
    #[error("no relay accepted the release: {}", describe_answers(.0))]
    Refused(Vec<PublishAnswer>),
    /// Signing failed.
    #[error("signing failed: {0}")]
    Sign(String),
    /// The hashing task failed.
    #[error("hashing the payload failed: {0}")]
    Join(String),
    /// The event could not be kept.
    #[error(transparent)]
    Keep(#[from] OwnEventsError),
    /// The payload could not be kept.
    #[error(transparent)]
    KeptCopy(#[from] kept::KeptCopyError),
    /// The payload could not be registered for seeding.
    #[error(transparent)]
    Seeds(#[from] SeedsError),
}

/// Publishes `req` signed by `keys`.
pub async fn publish(keys: &Keys, req: &PublishRequest) -> Result<PublishReport, PublishError> {
    let author = keys.public_key();
    let name = format!("{}-{}", req.coordinate.file_stem(), req.version);
    let path = req.path.clone();
    let torrent: Torrent = tokio::task::spawn_blocking(move || create(&path, &name))
        .await
        .map_err(|e| PublishError::Join(e.to_string()))??;

    // What the author already published for this project decides supersedes and the project event.
    let (releases, projects) = published_before(req, &author).await?;
    let mine: Vec<(Release, &Event)> = releases
        .iter()
        .filter(|e| e.pubkey == author)
        .filter_map(|e| Release::from_event(e).ok().map(|r| (r, e.event())))
        .filter(|(r, _)| r.coordinate == req.coordinate)
        .collect();

    let mut events = Vec::new();
    let project = project_update(&projects, &author, req)?;
    let project_event_id = match project {
        Some(p) => {
            let e = p
                .to_builder()
                .finalize(keys)
                .map_err(|e| PublishError::Sign(e.to_string()))?;
            let id = e.id.to_hex();
            events.push(e);
            Some(id)
        }
        None => None,
    };

    let (release_event, supersedes, resent) = release_event(keys, req, &torrent, &mine)?;
    events.push(release_event.clone());
    let answers = publish_all(&req.relays, &events, req.relay_timeout).await;
    let release_answers: Vec<PublishAnswer> = answers
        .iter()
        .filter(|a| a.event_id == release_event.id.to_hex())
        .cloned()
        .collect();
    if !release_answers.iter().any(|a| a.accepted) {
        return Err(PublishError::Refused(release_answers));
    }
    let seed_dir = seed_dir(&req.path);
    Ok(PublishReport {
        release: format!("{}@{}", req.coordinate, req.version),
        event_id: release_event.id.to_hex(),
        project_event_id,
        infohash: torrent.info_hash_hex(),
        magnet: format!("magnet:?xt=urn:btih:{}", torrent.info_hash_hex()),
        files: torrent.files.len(),
        bytes: torrent.total_size(),
        supersedes,
        resent,
        answers,
        seed_dir,
        torrent_file: torrent.to_file_bytes(&req.trackers),
        events,
        info_hash: torrent.info_hash,
    })
}

/// The author's releases of the project and their project events, as the relays hold them.
async fn published_before(
    req: &PublishRequest,
    author: &nostr::prelude::PublicKey,
) -> Result<(Vec<Verified>, Vec<Verified>), PublishError> {
    let releases_filter = json!({
        "kinds": [RELEASE_KIND],
        "authors": [author.to_hex()],
        "#a": [req.coordinate.project_address(author)],
    });
    let project_filter = json!({
        "kinds": [PROJECT_KIND],
        "authors": [author.to_hex()],
        "#d": [req.coordinate.d()],
    });
    let (releases, projects) = tokio::join!(
        query_all(&req.relays, &releases_filter, req.relay_timeout),
        query_all(&req.relays, &project_filter, req.relay_timeout),
    );
    if releases.answered.is_empty() {
        return Err(PublishError::NoRelay(releases.failed));
    }
    Ok((releases.events, projects.events))
}

/// The release event to send, the version it supersedes, and whether it is a resend: the
/// same version with the same files is sent again as it was; other files under a published
/// version are refused.
fn release_event(
    keys: &Keys,
    req: &PublishRequest,
    torrent: &Torrent,
    mine: &[(Release, &Event)],
) -> Result<(Event, Option<String>, bool), PublishError> {
    let author = keys.public_key();
    let same = mine
        .iter()
        .filter(|(r, _)| r.version == req.version)
        .max_by_key(|(_, e)| e.created_at);
    Ok(match same {
        Some((r, e)) if r.infohash == torrent.info_hash => (
            (*e).clone(),
            r.supersedes.as_ref().map(|s| s.version.to_string()),
            true,
        ),
        Some((r, e)) => {
            return Err(PublishError::VersionTaken {
                release: r.d(),
                event_id: e.id.to_hex(),
                infohash: r.infohash_hex(),
            })
        }
        None => {
            let previous = mine
                .iter()
                .filter(|(r, _)| r.version < req.version)
                .max_by(|a, b| (&a.0.version, a.1.created_at).cmp(&(&b.0.version, b.1.created_at)));
            let release = Release {
                coordinate: req.coordinate.clone(),
                version: req.version.clone(),
                files: torrent.files.iter().map(ReleaseFile::from).collect(),
                infohash: torrent.info_hash,
                torrent_name: torrent.name.clone(),
                trackers: req.trackers.clone(),
                mirrors: req.mirrors.clone(),
                seeders: req.seeders.clone(),
                supersedes: previous.map(|(r, e)| Supersedes {
                    version: r.version.clone(),
                    event_id: e.id,
                }),
                changelog: req.changelog.clone(),
                dependencies: req.dependencies.clone(),
                game_versions: req.game_versions.clone(),
                zap_target: req.zap_target.clone(),
                zap_splits: req.zap_splits.clone(),
                package: req.package.clone(),
            };
            release.validate()?;
            let e = release
                .to_builder(&author)
                .finalize(keys)
                .map_err(|e| PublishError::Sign(e.to_string()))?;
            (e, previous.map(|(r, _)| r.version.to_string()), false)
        }
    })
}

/// The folder a payload is seeded from, absolute so the seed registry and the report name the
/// same folder from anywhere: the payload itself, or a single file's folder.
fn seed_dir(path: &Path) -> PathBuf {
    let payload = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    if payload.is_file() {
        payload
            .parent()
            .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
    } else {
        payload
    }
}

/// What publishing wrote on the DHT.
#[derive(Debug, Clone, serde::Serialize)]
pub struct DhtAnnounced {
    /// The transport-key attestation's event id.
    pub attestation: String,
    /// False when no relay took the attestation (readers who never saw it cannot resolve the
    /// author's DHT records).
    pub attestation_accepted: bool,
    /// The feed as put.
    pub feed: FeedPublished,
    /// The name record written: `<ns>.<slug>`, or `libreseed:<name>` for a package.
    pub name_record: String,
    /// What happened to the name record.
    pub name: NamePut,
}

/// The DHT half of a publish. The relays already hold the release when it runs, so a failure
/// here is reported, never undoes the publish.
#[derive(Debug, Clone, serde::Serialize)]
#[serde(untagged)]
pub enum DhtOutcome {
    /// The feed and name record were put.
    Announced(Box<DhtAnnounced>),
    /// The DHT half failed.
    Failed {
        /// What went wrong.
        error: String,
    },
}

/// A release published, kept among the author's events and registered for seeding.
#[derive(Debug, serde::Serialize)]
pub struct Published {
    /// What the relays accepted.
    #[serde(flatten)]
    pub report: PublishReport,
    /// `None` when the DHT was not asked.
    pub dht: Option<DhtOutcome>,
}

/// Publishes `req` ([`publish`]), keeps the events, registers the payload for seeding (from
/// a kept copy unless `req.seed_from` says otherwise) and, unless `dht` is `None`, joins the
/// DHT to rewrite the author's feed and point the name record `name_record` at the release.
pub async fn publish_release(
    home: &Path,
    keys: &Keys,
    req: &PublishRequest,
    dht: Option<&DhtOptions>,
    name_record: &str,
) -> Result<Published, PublishError> {
    let report = match req.seed_from {
        SeedFrom::InPlace => publish(keys, req).await?,
        SeedFrom::KeptCopy => {
            // The copy is what is hashed and published; it is named once the relays took it.
            let staged = kept::stage_copy(home, &req.path)?;
            let copied = PublishRequest {
                path: staged.payload.clone(),
                ..req.clone()
            };
            let mut report = publish(keys, &copied).await?;
            report.seed_dir = staged.keep(home, &report.infohash)?;
            report
        }
    };

    // The author's own copy first: the feed is built from it.
    OwnEvents::new(home).add(&report.events)?;
    SeedRegistry::new(home).add(
        &SeedEntry {
            infohash: report.infohash.clone(),
            release: report.release.clone(),
            dir: report.seed_dir.clone(),
            origin: Origin::Published,
            trackers: req.trackers.clone(),
        },
        &report.torrent_file,
    )?;
    let dht = match dht {
        None => None,
        Some(options) => Some(
            match announce_on_dht(home, keys, req, options, &report, name_record).await {
                Ok(done) => DhtOutcome::Announced(Box::new(done)),
                Err(error) => DhtOutcome::Failed { error },
            },
        ),
    };
    Ok(Published { report, dht })
}

/// Makes the release findable with no relay: the feed index gains it and the project's name
/// record points at it.
async fn announce_on_dht(
    home: &Path,
    keys: &Keys,
    req: &PublishRequest,
    options: &DhtOptions,
    report: &PublishReport,
    name_record: &str,
) -> Result<DhtAnnounced, String> {
    let dht = DhtNode::join(options)
        .await
        .map_err(|e| format!("joining the Mainline DHT: {e}"))?;
    let relays = RelaySet {
        urls: req.relays.clone(),
        timeout: req.relay_timeout,
    };
    let event_id = EventId::from_hex(&report.event_id).map_err(|e| e.to_string())?;
    // The feed and the name record are separate items: put both at once, so the publish waits
    // for one round of DHT lookups rather than two.
    let (announced, name) = tokio::join!(
        announce_feed(home, keys, &relays, &dht),
        put_name_record(
            home,
            keys,
            &dht,
            name_record,
            &req.version,
            &event_id,
            &report.info_hash,
        )
    );
    let announced = announced.map_err(|e| e.to_string())?;
    let name = name.map_err(|e| e.to_string())?;
    Ok(DhtAnnounced {
        attestation: announced.attestation,
        attestation_accepted: announced.attestation_accepted,
        feed: announced.feed,
        name_record: name_record.to_owned(),
        name,
    })
}

/// The project event to sign: when none exists, or when the request changes it.
fn project_update(
    events: &[Verified],
    author: &nostr::prelude::PublicKey,
    req: &PublishRequest,
) -> Result<Option<Project>, PublishError> {
    let mine = events.iter().filter(|e| e.pubkey == *author);
    let current = seedstr_proto::event::newest_by_address(mine)
        .into_iter()
        .filter_map(|e| Project::from_event(e).ok())
        .find(|p| p.coordinate == req.coordinate);
    let wanted = Project {
        coordinate: req.coordinate.clone(),
        name: req
            .name
            .clone()
            .or_else(|| current.as_ref().map(|p| p.name.clone()))
            .unwrap_or_else(|| req.coordinate.slug.clone()),
        summary: req
            .summary
            .clone()
            .or_else(|| current.as_ref().map(|p| p.summary.clone()))
            .unwrap_or_default(),
        description: req
            .description
            .clone()
            .or_else(|| current.as_ref().map(|p| p.description.clone()))
            .unwrap_or_default(),
    };
    Ok((current.as_ref() != Some(&wanted)).then_some(wanted))
}
