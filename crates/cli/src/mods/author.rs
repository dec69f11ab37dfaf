//! The author's commands: `mod init`, `mod release`, `mod incident`.

use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use clap::Args;
use seedstr_client::keys::store::{home, passphrase, KeyStore};
use seedstr_client::publish::{PublishRequest, SeedFrom};
use seedstr_client::resolve::target::parse_public_key;
use seedstr_mods::authoring::{read_project, read_release, scaffold, PROJECT_FILE};
use seedstr_mods::games::{check_paths, game};
use seedstr_mods::mirror::offers::offers_to;
use seedstr_proto::release::Coordinate;
use seedstr_swarm::torrent::list_payload;

use crate::dht::DhtArgs;
use crate::incident::{sign_incident_cmd, IncidentFields};
use crate::net_args::{print_json, runtime, RelayArgs};
use crate::publish::print_published;
use seedstr_client::publish::publish_release;

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
    /// Seed from build/ itself instead of a kept copy (for very large mods; editing build/
    /// then stops the release being seeded).
    #[arg(long)]
    seed_in_place: bool,
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
        seeders: Vec::new(),
        trackers: rel.trackers.clone(),
        changelog: rel.changelog.clone(),
        dependencies: rel.dependencies.clone(),
        game_versions: rel.game_versions.clone(),
        zap_target: rel.zap.clone().or(project.zap.clone()),
        zap_splits: rel.zap_splits.clone(),
        package: None,
        name: Some(project.name.clone()),
        summary: Some(project.summary.clone()),
        description: Some(project.description.clone()),
        relay_timeout: args.relay.timeout(),
        seed_from: if args.seed_in_place {
            SeedFrom::InPlace
        } else {
            SeedFrom::KeptCopy
        },
    };
    let dht = (!args.no_dht).then(|| args.dht.options());
    let published = runtime()?.block_on(publish_release(
        &home,
        &keys,
        &req,
        dht.as_ref(),
        &req.coordinate.to_string(),
    ))?;
    print_published(&published, args.json);
    Ok(())
}

#[derive(Args)]
pub struct IncidentArgs {
    /// The mod: <slug> (game from --game or the project in --dir), <game>.<slug>, or
    /// <npub>/<game>.<slug> for another author's mod (shown to players, never enforced).
    project: String,
    #[arg(long)]
    game: Option<String>,
    /// The project folder, to find the game.
    #[arg(long, default_value = ".")]
    dir: PathBuf,
    #[command(flatten)]
    incident: IncidentFields,
}

pub fn incident(args: IncidentArgs) -> Result<()> {
    let (author, name) = match args.project.split_once('/') {
        Some((a, rest)) => (Some(parse_public_key(a)?), rest.to_owned()),
        None => (None, args.project.clone()),
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
    sign_incident_cmd(author, &coordinate, &args.incident)
}

#[derive(Args)]
pub struct OffersArgs {
    /// Whose projects (npub or hex) [default: yours].
    #[arg(long, value_parser = parse_public_key)]
    author: Option<nostr::prelude::PublicKey>,
    #[command(flatten)]
    relay: RelayArgs,
    #[arg(long)]
    pub json: bool,
}

/// The mirrors that asked to be named in your projects' zap splits ([`offers_to`]), with the
/// `splits:` lines that would name them.
pub fn offers(args: OffersArgs) -> Result<()> {
    let author = match args.author {
        Some(a) => a,
        None => KeyStore::new(&home())
            .load(&passphrase(false)?)?
            .public_key(),
    };
    let offers = runtime()?.block_on(offers_to(&args.relay.set(), &author))?;
    if args.json {
        print_json(&offers);
        return Ok(());
    }
    if offers.is_empty() {
        println!("no mirror has asked to be named in your projects' zap splits");
        return Ok(());
    }
    for o in &offers {
        let reach = match &o.lightning_address {
            Some(a) => format!("tips reach it at {a}"),
            None => {
                "its profile names no lightning address: a share to it could not be paid".into()
            }
        };
        println!(
            "{} seeds {} ({}); {reach}{}",
            o.mirror,
            o.project,
            o.versions.join(", "),
            if o.text.is_empty() {
                String::new()
            } else {
                format!(": {:?}", o.text)
            }
        );
        println!("  splits:\n    - to: {}\n      weight: 1", o.mirror);
    }
    Ok(())
}
