//! `mod collection create|install`: a curator pins a folder's exact releases and load order; a
//! player reproduces the same files and load order from it.

use seedstr_proto::zap_split::ZapSplit;
use std::path::PathBuf;

use anyhow::Result;
use clap::{Args, Subcommand};
use nostr::prelude::ToBech32;
use seedstr_client::keys::store::{home, passphrase, KeyStore};
use seedstr_client::publish::outbox::sign_and_send;
use seedstr_mods::collections::{
    collection_of_folder, collection_wants, fetch_collection, parse_collection_address,
};
use seedstr_mods::install::{plan_install, PlanOptions};
use serde_json::json;

use super::player::{carry_out, open_folder, plan_options, reported, FolderArgs};
use crate::net_args::{print_json, runtime, RelayArgs};

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
    /// Share the collection's tips: `<npub>:<weight>` (repeatable; NIP-57 Appendix G). Name
    /// yourself too, or tips go only to those named.
    #[arg(long = "split")]
    splits: Vec<ZapSplit>,
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
    let collection = collection_of_folder(
        &args.game_dir,
        &args.slug,
        args.name.as_deref(),
        &args.description,
        &args.splits,
    )?;
    let home = home();
    let keys = KeyStore::new(&home).load(&passphrase(false)?)?;
    let sent = runtime()?.block_on(sign_and_send(
        &home,
        &keys,
        collection.to_builder(),
        &args.relay.set(),
    ))?;
    let name = format!("{}/{}", keys.public_key().to_bech32()?, collection.d());
    if args.json {
        print_json(&json!({
            "collection": name,
            "event_id": sent.event_id,
            "mods": collection.mods.len(),
            "load_order": collection.load_order,
            "answers": sent.answers,
        }));
    } else {
        println!("signed collection {name} ({} mods)", collection.mods.len());
        println!("  install it with: seedstr mod collection install {name} --game-dir DIR");
    }
    Ok(())
}

fn install(args: InstallArgs) -> Result<()> {
    reported(args.folder.json, || {
        let (author, d) = parse_collection_address(&args.collection)?;
        let rt = runtime()?;
        let collection = rt.block_on(fetch_collection(&args.folder.relay.set(), &author, &d))?;
        let folder = open_folder(&args.folder.game_dir, Some(&collection.game), &args.folder)?;
        let opts = PlanOptions {
            allow_downgrade: true,
            load_order: Some(collection.load_order.clone()),
            collection: Some(args.collection.clone()),
            ..plan_options(&args.folder)
        };
        let plan = rt.block_on(plan_install(&folder, &collection_wants(&collection), &opts))?;
        carry_out(&folder, plan, &args.folder)
    })
}
