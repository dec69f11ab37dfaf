//! `seedstr publish`: sign and send a release, then register its payload for seeding.

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Args;
use seedstr_client::keystore::{home, passphrase, KeyStore};
use seedstr_client::publish::{publish, PublishRequest};
use seedstr_client::seeds::{Origin, SeedEntry, SeedRegistry};
use seedstr_proto::release::{parse_version, Coordinate};

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
        name: args.name.clone(),
        summary: args.summary.clone(),
        relay_timeout: args.relay.timeout(),
    };
    let report = runtime()?.block_on(publish(&keys, &req))?;
    SeedRegistry::new(&home).add(
        &SeedEntry {
            infohash: report.infohash.clone(),
            release: report.release.clone(),
            dir: std::fs::canonicalize(&report.seed_dir).unwrap_or(report.seed_dir.clone()),
            origin: Origin::Published,
            trackers: args.trackers.clone(),
        },
        &report.torrent_file,
    )?;
    if args.json {
        print_json(&report);
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
    println!("registered for seeding; `seedstr seed` serves it");
    Ok(())
}
