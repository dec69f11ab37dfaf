//! The author's commands: `mod init`, `mod release`, `mod incident`.

use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use clap::Args;
use nostr::prelude::FinalizeEvent as _;
use seedstr_client::feed::publish_feed;
use seedstr_client::keystore::{home, passphrase, KeyStore};
use seedstr_client::publish::PublishRequest;
use seedstr_client::relays::query_all;
use seedstr_client::target::parse_public_key;
use seedstr_dht::record::DEFAULT_FEED_SALT;
use seedstr_mods::authoring::{read_project, read_release, scaffold, PROJECT_FILE};
use seedstr_mods::events::incident::{Incident, Severity};
use seedstr_mods::games::{check_paths, game};
use seedstr_proto::release::{Coordinate, Release, VersionReq, RELEASE_KIND};
use seedstr_swarm::torrent::list_payload;
use serde_json::json;

use crate::dht::DhtArgs;
use crate::net_args::{print_json, runtime, RelayArgs};
use crate::publish::{print_published, publish_release};

#[derive(Args)]
pub struct InitArgs {
    /// The game: skyrim-se, fallout-4.
    #[arg(long)]
    game: String,
    #[arg(long)]
    slug: String,
    /// Display name [default: the slug].
    #[arg(long)]
    name: Option<String>,
    /// The project folder [default: the current folder].
    #[arg(long, default_value = ".")]
    dir: PathBuf,
}

pub fn init(args: InitArgs) -> Result<()> {
    let g = game(&args.game)?;
    let coordinate = Coordinate::new(&args.game, &args.slug)?;
    let written = scaffold(
        &args.dir,
        g,
        &coordinate,
        args.name.as_deref().unwrap_or(&args.slug),
    )?;
    for w in written {
        println!("wrote {}", w.display());
    }
    println!(
        "put the mod's files below {}/build/Data/, then `seedstr mod release 0.1.0`",
        args.dir.display()
    );
    Ok(())
}

#[derive(Args)]
pub struct ReleaseArgs {
    /// The version: release/<version>.yaml is read.
    version: String,
    /// The project folder [default: the current folder].
    #[arg(long, default_value = ".")]
    dir: PathBuf,
    #[command(flatten)]
    relay: RelayArgs,
    #[command(flatten)]
    dht: DhtArgs,
    /// Do not write the feed and name record on the DHT.
    #[arg(long, conflicts_with = "dht_bootstrap")]
    no_dht: bool,
    #[arg(long)]
    json: bool,
}

pub fn release(args: ReleaseArgs) -> Result<()> {
    let project = read_project(&args.dir)?;
    let rel = read_release(&args.dir, &args.version)?;
    let g = game(&project.coordinate.ns)?;
    // The same listing the torrent is made from: links and special files are refused here too.
    let paths: Vec<String> = list_payload(&rel.files)?
        .into_iter()
        .map(|(p, _)| p)
        .collect();
    if paths.is_empty() {
        bail!(
            "{} holds no files; put the mod's files there first",
            rel.files.display()
        );
    }
    if let Err(refused) = check_paths(g, paths.iter().map(String::as_str)) {
        let lines: Vec<String> = refused.iter().map(|r| format!("  {r}")).collect();
        bail!(
            "{} would refuse these files of {}:\n{}",
            g.name(),
            rel.files.display(),
            lines.join("\n")
        );
    }
    let home = home();
    let keys = KeyStore::new(&home).load(&passphrase(false)?)?;
    let req = PublishRequest {
        path: rel.files.clone(),
        coordinate: project.coordinate.clone(),
        version: rel.version.clone(),
        relays: args.relay.relays(),
        mirrors: rel.mirrors.clone(),
        trackers: rel.trackers.clone(),
        changelog: rel.changelog.clone(),
        dependencies: rel.dependencies.clone(),
        game_versions: rel.game_versions.clone(),
        zap_target: rel.zap.clone().or(project.zap.clone()),
        package: None,
        name: Some(project.name.clone()),
        summary: Some(project.summary.clone()),
        description: Some(project.description.clone()),
        relay_timeout: args.relay.timeout(),
    };
    let dht = (!args.no_dht).then_some(&args.dht);
    let (report, dht) = publish_release(&home, &keys, &req, dht, &req.coordinate.to_string())?;
    print_published(&report, &dht, args.json)
}

#[derive(Args)]
pub struct IncidentArgs {
    /// The mod: <slug> (game from --game or the project in --dir), <game>.<slug>, or
    /// <npub>/<game>.<slug> for another author's mod (shown to players, never enforced).
    project: String,
    #[arg(long)]
    game: Option<String>,
    /// Affected versions, a range: "=1.1.0", ">=1.1.0, <1.2.0".
    #[arg(long)]
    versions: String,
    /// One line: what happened.
    #[arg(long)]
    summary: String,
    /// low, medium, high or critical.
    #[arg(long, default_value = "high")]
    severity: String,
    /// What players should do (Markdown).
    #[arg(long, default_value = "")]
    instructions: String,
    /// Names the incident among the project's [default: the current unix time].
    #[arg(long)]
    id: Option<String>,
    /// Take the incident back (a false alarm); use the same --id.
    #[arg(long, requires = "id")]
    withdraw: bool,
    /// The project folder, to find the game.
    #[arg(long, default_value = ".")]
    dir: PathBuf,
    #[command(flatten)]
    relay: RelayArgs,
    #[command(flatten)]
    dht: DhtArgs,
    /// Do not rewrite your feed on the DHT (players without relays read incidents there).
    #[arg(long, conflicts_with = "dht_bootstrap")]
    no_dht: bool,
    #[arg(long)]
    json: bool,
}

pub fn incident(args: IncidentArgs) -> Result<()> {
    let home = home();
    let keys = KeyStore::new(&home).load(&passphrase(false)?)?;
    let (project_author, name) = match args.project.split_once('/') {
        Some((a, rest)) => (parse_public_key(a)?, rest.to_owned()),
        None => (keys.public_key(), args.project.clone()),
    };
    let coordinate = match (Coordinate::parse(&name), &args.game) {
        (_, Some(g)) => Coordinate::new(g, &name)?,
        (Ok(c), None) if game(&c.ns).is_ok() => c,
        _ => {
            let p = read_project(&args.dir).with_context(|| {
                format!(
                    "{:?} names no game; pass --game or run in the project folder ({PROJECT_FILE})",
                    args.project
                )
            })?;
            Coordinate::new(&p.coordinate.ns, &args.project)?
        }
    };
    game(&coordinate.ns)?;
    let versions = VersionReq::parse(&args.versions)
        .with_context(|| format!("--versions {:?} is not a version range", args.versions))?;
    let severity = Severity::parse(&args.severity).with_context(|| {
        format!(
            "--severity {:?}: use low, medium, high or critical",
            args.severity
        )
    })?;
    let author = project_author;
    let rt = runtime()?;
    let relays = args.relay.relays();
    // The affected releases, so the incident and the NIP-56 report can name their events.
    let gathered = rt.block_on(query_all(
        &relays,
        &json!({"kinds": [RELEASE_KIND], "authors": [author.to_hex()], "#a": [coordinate.project_address(&author)]}),
        args.relay.timeout(),
    ));
    if gathered.answered.is_empty() {
        bail!(
            "no relay answered: {}",
            seedstr_client::relays::list_failures(&gathered.failed)
        );
    }
    let affected: Vec<(nostr::prelude::EventId, Release)> = gathered
        .events
        .iter()
        .filter_map(|e| Release::from_event(e).ok().map(|r| (e.id, r)))
        .filter(|(_, r)| r.coordinate == coordinate && versions.matches(&r.version))
        .collect();
    if affected.is_empty() && !args.withdraw {
        eprintln!("warning: the relays hold no release of {coordinate} in {versions}; the incident is signed anyway");
    }
    let incident = Incident {
        project_author: author,
        coordinate: coordinate.clone(),
        id: args.id.clone().unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs())
                .to_string()
        }),
        versions,
        severity,
        summary: args.summary.clone(),
        instructions: args.instructions.clone(),
        affected_events: affected.iter().map(|(id, _)| *id).collect(),
        withdrawn: args.withdraw,
    };
    let event = incident.to_builder().finalize(&keys)?;
    let mut events = vec![event.clone()];
    if !args.withdraw {
        let refs: Vec<(nostr::prelude::EventId, &Release)> =
            affected.iter().map(|(id, r)| (*id, r)).collect();
        events.push(incident.malware_report(&refs).finalize(&keys)?);
    }
    let answers = crate::publish::send_and_keep(&home, &events, &args.relay)?;
    // The feed holds the author's kept events, the incident now among them: players whose
    // relays are down read it there. The relays have it already, so a failure only warns.
    let feed = (!args.no_dht).then(|| {
        rt.block_on(async {
            let dht = args.dht.join().await?;
            Ok::<_, anyhow::Error>(publish_feed(&home, &keys, &dht, DEFAULT_FEED_SALT, &[]).await?)
        })
    });
    if let Some(Err(e)) = &feed {
        eprintln!(
            "warning: the incident is on the relays, but rewriting your DHT feed failed: {e:#}"
        );
    }
    if args.json {
        print_json(&json!({
            "incident": event.id.to_hex(),
            "report": events.get(1).map(|e| e.id.to_hex()),
            "d": incident.d(),
            "affected": affected.iter().map(|(_, r)| r.version.to_string()).collect::<Vec<_>>(),
            "answers": answers,
            "feed": feed.and_then(Result::ok).map(|f| f.infohash),
        }));
        return Ok(());
    }
    let verb = if args.withdraw { "withdrew" } else { "signed" };
    println!("{verb} incident {} ({})", incident.d(), event.id.to_hex());
    for (_, r) in &affected {
        println!("  affects {}@{}", r.coordinate, r.version);
    }
    for a in &answers {
        let verdict = if a.accepted { "accepted" } else { "refused" };
        println!("  {} {verdict} {}", a.relay, &a.event_id[..12]);
    }
    Ok(())
}
