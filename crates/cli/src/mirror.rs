//! `seedstr mirror --follow <npub>…`: a mirror bot ([`run_mirror`]): `seedstr seed` plus
//! following the authors' releases and incidents.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Result;
use clap::Args;
use nostr::prelude::PublicKey;
use seedstr_client::install::InstallOptions;
use seedstr_client::keys::store::{home, passphrase, KeyStore};
use seedstr_client::resolve::target::parse_public_key;
use seedstr_client::seeding::republish::REPUBLISH_EVERY;
use seedstr_mods::mirror::bot::{run_mirror, AskToBeNamed, MirrorNote, MirrorOptions};

use crate::net_args::{print_json, say, transfer_runtime, PeerArgs, RelayArgs};
use crate::seed::start_seeder;

#[derive(Args)]
pub struct MirrorArgs {
    /// An author whose releases to mirror, as npub or hex (repeatable).
    #[arg(long = "follow", required = true, value_parser = parse_public_key)]
    follow: Vec<PublicKey>,
    /// Where mirrored payloads are kept [default: $SEEDSTR_HOME/mirror].
    #[arg(long)]
    dir: Option<PathBuf>,
    #[command(flatten)]
    relay: RelayArgs,
    #[command(flatten)]
    peer: PeerArgs,
    /// Upload cap in bytes per second.
    #[arg(long)]
    upload_limit: Option<u32>,
    /// Seconds a fetch may go without a verified byte before it is given up for now.
    #[arg(long, default_value_t = 60)]
    stall_timeout: u64,
    /// Seconds before a release that could not be fetched is tried again.
    #[arg(long, default_value_t = 30)]
    retry_secs: u64,
    /// Seconds between looks at the seed registry.
    #[arg(long, default_value_t = 2)]
    poll_secs: u64,
    /// Ask each author whose release is mirrored to name this mirror in the project's zap
    /// splits (a seeder offer, signed with your key; the author decides).
    #[arg(long)]
    ask_to_be_named: bool,
    /// A word to the authors, with --ask-to-be-named.
    #[arg(long, default_value = "", requires = "ask_to_be_named")]
    offer_text: String,
    /// Print one JSON object per line for each change.
    #[arg(long)]
    json: bool,
}

pub fn run(args: MirrorArgs) -> Result<()> {
    transfer_runtime()?.block_on(mirror(args))
}

async fn mirror(a: MirrorArgs) -> Result<()> {
    let home = home();
    // The key is unlocked before anything starts, so a wrong passphrase stops here.
    let ask_to_be_named = match a.ask_to_be_named {
        true => Some(AskToBeNamed {
            keys: KeyStore::new(&home).load(&passphrase(false)?)?,
            home: home.clone(),
            text: a.offer_text.clone(),
        }),
        false => None,
    };
    let seeder = start_seeder(&a.peer, a.upload_limit, REPUBLISH_EVERY, a.json).await?;
    let opts = MirrorOptions {
        follow: a.follow.clone(),
        dir: a.dir.clone().unwrap_or_else(|| home.join("mirror")),
        fetch: InstallOptions {
            relays: a.relay.relays(),
            relay_timeout: a.relay.timeout(),
            allow_downgrade: false,
            peers: a.peer.peers.clone(),
            stall_timeout: Duration::from_secs(a.stall_timeout.max(1)),
            home: home.clone(),
            dht: None,
            // Peers are looked up through the seeder's DHT node, the process's one.
            dht_node: seeder.dht_state().node(),
            max_release_bytes: a.peer.max_release_bytes,
        },
        retry_after: Duration::from_secs(a.retry_secs.max(1)),
        poll: Duration::from_secs(a.poll_secs.max(1)),
        ask_to_be_named,
    };
    let json = a.json;
    let notes = move |note: &MirrorNote| {
        if json {
            print_json(note);
        } else {
            say(&note.to_string());
        }
    };
    let shutdown = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    Ok(run_mirror(&home, opts, seeder, &notes, shutdown).await?)
}
