//! `mod collection create|install`: a curator pins a folder's exact releases and load order; a
//! player reproduces the same files and load order from it.

use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use clap::{Args, Subcommand};
use nostr::prelude::{EventId, FinalizeEvent as _, ToBech32};
use seedstr_client::install::Lockfile;
use seedstr_client::keys::store::{home, passphrase, KeyStore};
use seedstr_client::relays::{list_failures, query_all};
use seedstr_client::resolve::target::parse_public_key;
use seedstr_mods::events::collection::{Collection, Pinned};
use seedstr_mods::events::{ReleaseRef, COLLECTION_KIND};
use seedstr_mods::install::{plan_install, GameState, ModKey, PlanOptions, Want};
use seedstr_proto::event::newest_by_address;
use seedstr_proto::release::{Coordinate, Version};
use serde_json::json;

use super::player::{carry_out, open_folder, plan_options, reported, FolderArgs};
use crate::net_args::{print_json, runtime, RelayArgs};
use seedstr_client::publish::outbox::send_and_keep;

#[derive(Subcommand)]
pub enum CollectionCommand {
    /// Sign a collection (30083) pinning every mod installed in a game folder and its load order.
    Create(CreateArgs),
    /// Install a collection's exact releases and load order into a game folder.
    Install(Box<InstallArgs>),
}

#[derive(Args)]
pub struct CreateArgs {
    /// The collection's slug; its `d` is <game>.collection.<slug>.
    slug: String,
    #[arg(long)]
    game_dir: PathBuf,
    #[arg(long)]
    name: Option<String>,
    #[arg(long, default_value = "")]
    description: String,
    #[command(flatten)]
    relay: RelayArgs,
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
pub struct InstallArgs {
    /// <npub or hex>/<game>.collection.<slug>
    collection: String,
    #[command(flatten)]
    folder: FolderArgs,
}

pub fn run(cmd: CollectionCommand) -> Result<()> {
    match cmd {
        CollectionCommand::Create(a) => create(a),
        CollectionCommand::Install(a) => install(*a),
    }
}

fn create(args: CreateArgs) -> Result<()> {
    let lock = Lockfile::load(&args.game_dir)?;
    let state = GameState::load(&lock, &args.game_dir.display().to_string(), None)?;
    if lock.installs.is_empty() {
        bail!("{} holds no mods to collect", args.game_dir.display());
    }
    let mut mods = Vec::new();
    for i in &lock.installs {
        let key =
            ModKey::of(i).with_context(|| format!("unreadable lockfile entry {}", i.coordinate))?;
        let mut infohash = [0u8; 20];
        hex::decode_to_slice(&i.infohash, &mut infohash)
            .with_context(|| format!("lockfile info hash of {}", i.coordinate))?;
        mods.push(Pinned {
            release: ReleaseRef {
                author: key.author,
                coordinate: key.coordinate,
                version: Version::parse(&i.version)?,
            },
            event_id: EventId::from_hex(&i.event_id)?,
            infohash,
        });
    }
    let collection = Collection {
        game: state.game.clone(),
        slug: args.slug.clone(),
        name: args.name.clone().unwrap_or_else(|| args.slug.clone()),
        description: args.description.clone(),
        mods,
        load_order: state.load_order.clone(),
        game_version: state.game_version.clone(),
    };
    collection.validate()?;
    let home = home();
    let keys = KeyStore::new(&home).load(&passphrase(false)?)?;
    let event = collection.to_builder().finalize(&keys)?;
    let answers = runtime()?.block_on(send_and_keep(
        &home,
        std::slice::from_ref(&event),
        &args.relay.set(),
    ))?;
    let name = format!("{}/{}", keys.public_key().to_bech32()?, collection.d());
    if args.json {
        print_json(&json!({
            "collection": name,
            "event_id": event.id.to_hex(),
            "mods": collection.mods.len(),
            "load_order": collection.load_order,
            "answers": answers,
        }));
    } else {
        println!("signed collection {name} ({} mods)", collection.mods.len());
        println!("  install it with: seedstr mod collection install {name} --game-dir DIR");
    }
    Ok(())
}

fn install(args: InstallArgs) -> Result<()> {
    reported(args.folder.json, || {
        let (author, d) = args.collection.split_once('/').with_context(|| {
            format!(
                "{:?} is not <npub>/<game>.collection.<slug>",
                args.collection
            )
        })?;
        let author = parse_public_key(author)?;
        let (game, slug) = d
            .split_once(".collection.")
            .with_context(|| format!("{d:?} is not <game>.collection.<slug>"))?;
        Coordinate::new(game, slug)?;
        let rt = runtime()?;
        let gathered = rt.block_on(query_all(
            &args.folder.relay.relays(),
            &json!({"kinds": [COLLECTION_KIND], "authors": [author.to_hex()], "#d": [d]}),
            args.folder.relay.timeout(),
        ));
        if gathered.answered.is_empty() {
            bail!("no relay answered: {}", list_failures(&gathered.failed));
        }
        let newest = newest_by_address(gathered.events.iter().filter(|e| e.pubkey == author))
            .pop()
            .with_context(|| format!("no relay holds the collection {}", args.collection))?;
        let collection = Collection::from_event(newest)?;
        let folder = open_folder(&args.folder.game_dir, Some(&collection.game), &args.folder)?;
        let wants: Vec<Want> = collection
            .mods
            .iter()
            .map(|m| Want {
                key: ModKey {
                    author: m.release.author,
                    coordinate: m.release.coordinate.clone(),
                },
                version: Some(m.release.version.clone()),
                pinned: Some((m.event_id, m.infohash)),
            })
            .collect();
        let opts = PlanOptions {
            allow_downgrade: true,
            load_order: Some(collection.load_order.clone()),
            collection: Some(args.collection.clone()),
            ..plan_options(&args.folder)
        };
        let plan = rt.block_on(plan_install(&folder, &wants, &opts))?;
        carry_out(&folder, plan, &args.folder)
    })
}
