//! `seedstr publish`: sign and send a release, then register its payload for seeding.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use clap::Args;
use nostr::prelude::{Event, EventId, Keys};
use seedstr_client::feed::{publish_feed, FeedPublished};
use seedstr_client::keystore::{home, passphrase, KeyStore};
use seedstr_client::names::{put_name_record, NamePut};
use seedstr_client::own_events::OwnEvents;
use seedstr_client::publish::{publish, PublishReport, PublishRequest};
use seedstr_client::relays::{publish_all, PublishAnswer};
use seedstr_client::seeds::{Origin, SeedEntry, SeedRegistry};
use seedstr_dht::record::DEFAULT_FEED_SALT;
use seedstr_dht::transport::{attestation, ATTESTATION_KIND};
use seedstr_proto::release::{parse_version, Coordinate};
use serde_json::json;

use crate::dht::{DhtArgs, DhtWriteArgs};
use crate::net_args::{human_bytes, print_json, runtime, RelayArgs};

#[derive(Args)]
pub struct PublishArgs {
    /// The payload: a folder (every file below it) or one file.
    path: PathBuf,
    /// Namespace: a game id, npm, cargo, generic…
    #[arg(long)]
    ns: String,
    #[arg(long)]
    slug: String,
    /// Semantic version of this release, e.g. 1.2.0.
    #[arg(long)]
    version: String,
    /// Web mirror holding the files at <mirror>/<path> (repeatable).
    #[arg(long = "mirror")]
    mirrors: Vec<String>,
    /// BitTorrent tracker announce URL (repeatable).
    #[arg(long = "tracker")]
    trackers: Vec<String>,
    /// Changelog text (Markdown).
    #[arg(long, default_value = "")]
    changelog: String,
    /// Read the changelog from a file instead.
    #[arg(long, conflicts_with = "changelog")]
    changelog_file: Option<PathBuf>,
    /// Project name (default: kept, or the slug for a new project).
    #[arg(long)]
    name: Option<String>,
    /// One-line project summary.
    #[arg(long)]
    summary: Option<String>,
    #[command(flatten)]
    relay: RelayArgs,
    #[command(flatten)]
    dht: DhtWriteArgs,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
}

pub fn run(args: PublishArgs) -> Result<()> {
    let home = home();
    let keys = KeyStore::new(&home).load(&passphrase(false)?)?;
    let changelog = match &args.changelog_file {
        Some(f) => {
            std::fs::read_to_string(f).with_context(|| format!("reading {}", f.display()))?
        }
        None => args.changelog.clone(),
    };
    let req = PublishRequest {
        path: args.path.clone(),
        coordinate: Coordinate::new(&args.ns, &args.slug)?,
        version: parse_version(&args.version)?,
        relays: args.relay.relays(),
        mirrors: args.mirrors.clone(),
        trackers: args.trackers.clone(),
        changelog,
        dependencies: Vec::new(),
        game_versions: Vec::new(),
        zap_target: None,
        package: None,
        name: args.name.clone(),
        summary: args.summary.clone(),
        description: None,
        relay_timeout: args.relay.timeout(),
    };
    let dht = args.dht.enabled();
    let name = req.coordinate.to_string();
    let (report, dht) = publish_release(&home, &keys, &req, dht, &name)?;
    print_published(&report, &dht, args.json)
}

/// Publishes `req`, keeps the events, registers the payload for seeding and, unless `dht` is
/// `None`, writes the feed and the name record `dht_name` on the DHT (a failure there is only
/// reported).
pub fn publish_release(
    home: &Path,
    keys: &Keys,
    req: &PublishRequest,
    dht: Option<&DhtArgs>,
    dht_name: &str,
) -> Result<(PublishReport, Option<Result<DhtReport>>)> {
    let rt = runtime()?;
    let report = rt.block_on(publish(keys, req))?;
    // The author's own copy first: the feed is built from it.
    OwnEvents::new(home).add(&report.events)?;
    SeedRegistry::new(home).add(
        &SeedEntry {
            infohash: report.infohash.clone(),
            release: report.release.clone(),
            dir: std::fs::canonicalize(&report.seed_dir).unwrap_or(report.seed_dir.clone()),
            origin: Origin::Published,
            trackers: req.trackers.clone(),
        },
        &report.torrent_file,
    )?;
    let dht = dht.map(|d| rt.block_on(announce_on_dht(home, keys, req, d, &report, dht_name)));
    Ok((report, dht))
}

/// Prints what [`publish_release`] did, as JSON or for people.
pub fn print_published(
    report: &PublishReport,
    dht: &Option<Result<DhtReport>>,
    json: bool,
) -> Result<()> {
    if json {
        let mut value = serde_json::to_value(report)?;
        value["dht"] = match dht {
            None => serde_json::Value::Null,
            Some(Ok(d)) => serde_json::to_value(d)?,
            Some(Err(e)) => json!({ "error": format!("{e:#}") }),
        };
        print_json(&value);
        return Ok(());
    }
    let verb = if report.resent {
        "sent again"
    } else {
        "published"
    };
    println!("{verb} {}", report.release);
    println!("  event     {}", report.event_id);
    if let Some(p) = &report.project_event_id {
        println!("  project   {p} (new or changed)");
    }
    println!("  infohash  {}", report.infohash);
    println!(
        "  files     {} ({})",
        report.files,
        human_bytes(report.bytes)
    );
    if let Some(s) = &report.supersedes {
        println!("  supersedes {s}");
    }
    for a in &report.answers {
        let verdict = if a.accepted { "accepted" } else { "refused" };
        let msg = if a.message.is_empty() {
            String::new()
        } else {
            format!(": {}", a.message)
        };
        println!("  {} {verdict} {}{msg}", a.relay, &a.event_id[..12]);
    }
    match &dht {
        None => {}
        Some(Ok(d)) => {
            println!(
                "  DHT feed  {} events in index {}, pointer seq {}",
                d.feed.events, d.feed.infohash, d.feed.pointer.seq
            );
            match &d.name {
                NamePut::Stored(s) => println!(
                    "  DHT name  {} -> {} (seq {}, {} nodes)",
                    d.name_record, report.event_id, s.seq, s.stored_at
                ),
                NamePut::KeptNewer { version } => {
                    println!("  DHT name  left at the newer {version}")
                }
            }
        }
        Some(Err(e)) => eprintln!(
            "warning: published on the relays, but not on the DHT: {e:#}; run `seedstr feed publish` to retry"
        ),
    }
    println!("registered for seeding; `seedstr seed` serves it");
    Ok(())
}

/// What publish wrote on the DHT.
#[derive(serde::Serialize)]
pub struct DhtReport {
    attestation: String,
    feed: FeedPublished,
    /// The name record written: `<ns>.<slug>`, or `libreseed:<name>` for a package.
    name_record: String,
    name: NamePut,
}

/// Makes the release findable with no relay: the feed index gains it (see [`announce_feed`])
/// and the project's name record points at it.
async fn announce_on_dht(
    home: &std::path::Path,
    keys: &Keys,
    req: &PublishRequest,
    dht_args: &DhtArgs,
    report: &PublishReport,
    name_record: &str,
) -> Result<DhtReport> {
    let dht = dht_args.join().await?;
    let (attestation, feed) =
        announce_feed(home, keys, &req.relays, req.relay_timeout, &dht).await?;
    let event_id = EventId::from_hex(&report.event_id)?;
    let name = put_name_record(
        home,
        keys,
        &dht,
        name_record,
        &req.version,
        &event_id,
        &report.info_hash,
    )
    .await?;
    Ok(DhtReport {
        attestation,
        feed,
        name_record: name_record.to_owned(),
        name,
    })
}

/// Rebuilds the identity's feed index from its own events and points the feed at it, after
/// sending the transport-key attestation (kept, or signed now) to the relays so readers can
/// find the feed later without them. Returns the attestation's id and the feed written.
pub async fn announce_feed(
    home: &Path,
    keys: &Keys,
    relays: &[String],
    relay_timeout: std::time::Duration,
    dht: &seedstr_dht::DhtNode,
) -> Result<(String, FeedPublished)> {
    let own = OwnEvents::new(home);
    let attest = match own.newest(&keys.public_key(), ATTESTATION_KIND) {
        Some(e) => e,
        None => {
            let e = attestation(keys).map_err(anyhow::Error::msg)?;
            own.add(std::slice::from_ref(&e))?;
            e
        }
    };
    let answers = publish_all(relays, std::slice::from_ref(&attest), relay_timeout).await;
    if !answers.iter().any(|a| a.accepted) {
        eprintln!("warning: no relay accepted the transport-key attestation; readers who never saw it cannot resolve your DHT records");
    }
    let feed = publish_feed(home, keys, dht, DEFAULT_FEED_SALT, &[]).await?;
    Ok((attest.id.to_hex(), feed))
}

/// Sends signed `events` to the relays and keeps them among the identity's own events. Refused
/// unless some relay accepted the first (the one the command is about).
pub fn send_and_keep(
    home: &Path,
    events: &[Event],
    relay: &RelayArgs,
) -> Result<Vec<PublishAnswer>> {
    let first = events[0].id.to_hex();
    let answers = runtime()?.block_on(publish_all(&relay.relays(), events, relay.timeout()));
    if !answers.iter().any(|a| a.accepted && a.event_id == first) {
        bail!(
            "no relay accepted event {first}: {}",
            answers
                .iter()
                .filter(|a| a.event_id == first)
                .map(|a| format!("{} ({})", a.relay, a.message))
                .collect::<Vec<_>>()
                .join("; ")
        );
    }
    OwnEvents::new(home).add(events)?;
    Ok(answers)
}
