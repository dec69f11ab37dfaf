//! `seedstr publish`: sign and send a release, then register its payload for seeding.

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Args;
use seedstr_client::feed::FeedUpdate;
use seedstr_client::keys::store::{home, passphrase, KeyStore};
use seedstr_client::publish::{publish_release, DhtOutcome, PublishRequest, Published, SeedFrom};
use seedstr_client::resolve::names::NamePut;
use seedstr_proto::release::{parse_version, Coordinate};
use seedstr_proto::zap_split::ZapSplit;

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
    /// A BitTorrent peer (host:port) you run as your own seeder, named in the signed release:
    /// installs ask it first, then the DHT's and trackers' peers (repeatable, at most 16).
    #[arg(long = "seeder")]
    seeders: Vec<String>,
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
    /// Where the release's tips go: a lightning address (name@domain).
    #[arg(long)]
    zap_target: Option<String>,
    /// Share the release's tips: `<npub>:<weight>` (repeatable; NIP-57 Appendix G), say with
    /// the mirrors that seed it. Name yourself too, or tips go only to those named.
    #[arg(long = "split")]
    splits: Vec<ZapSplit>,
    #[command(flatten)]
    relay: RelayArgs,
    #[command(flatten)]
    dht: DhtWriteArgs,
    /// Seed from the folder itself instead of a kept copy (for very large payloads; editing
    /// the folder then stops the release being seeded).
    #[arg(long)]
    seed_in_place: bool,
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
        seeders: args.seeders.clone(),
        trackers: args.trackers.clone(),
        changelog,
        dependencies: Vec::new(),
        game_versions: Vec::new(),
        zap_target: args.zap_target.clone(),
        zap_splits: args.splits.clone(),
        package: None,
        name: args.name.clone(),
        summary: args.summary.clone(),
        description: None,
        relay_timeout: args.relay.timeout(),
        seed_from: if args.seed_in_place {
            SeedFrom::InPlace
        } else {
            SeedFrom::KeptCopy
        },
    };
    let dht = args.dht.enabled().map(DhtArgs::options);
    let name = req.coordinate.to_string();
    let published =
        runtime()?.block_on(publish_release(&home, &keys, &req, dht.as_ref(), &name))?;
    print_published(&published, args.json);
    Ok(())
}

/// Prints what [`publish_release`] did, as JSON or for people.
pub fn print_published(published: &Published, json: bool) {
    if json {
        print_json(published);
        return;
    }
    let report = &published.report;
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
    match &published.dht {
        None => {}
        Some(DhtOutcome::Announced(d)) => {
            warn_unattested(d.attestation_accepted);
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
        Some(DhtOutcome::Failed { error }) => eprintln!(
            "warning: published on the relays, but not on the DHT: {error}; run `seedstr feed publish` to retry"
        ),
    }
    println!("registered for seeding; `seedstr seed` serves it");
}

/// Warns, once, when no relay took the transport-key attestation.
pub fn warn_unattested(accepted: bool) {
    if !accepted {
        eprintln!("warning: no relay accepted the transport-key attestation; readers who never saw it cannot resolve your DHT records");
    }
}

/// Warns about a feed rewrite after a send that did not happen, or whose attestation no relay
/// took; `done` says what already happened (the relays hold it).
pub fn warn_feed_update(update: &Option<FeedUpdate>, done: &str) {
    match update {
        Some(FeedUpdate::Written {
            attestation_accepted,
            ..
        }) => warn_unattested(*attestation_accepted),
        Some(FeedUpdate::Failed { error }) => eprintln!(
            "warning: {done}, but not put in your DHT feed: {error}; run `seedstr feed publish` to retry"
        ),
        None => {}
    }
}
