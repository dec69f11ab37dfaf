//! `seedstr social media get`: fetch a post's attachments, check them, and seed them.

use std::time::Duration;

use anyhow::Result;
use clap::{Args, Subcommand};
use nostr::prelude::EventId;
use seedstr_client::install::InstallOptions;
use seedstr_client::keys::store::{home, passphrase, KeyStore};
use seedstr_social::media::{attachments_of, fetch};

use crate::net_args::{print_json, say, transfer_runtime, PeerArgs, RelayArgs};
use crate::outcome::reported;

#[derive(Subcommand)]
pub enum MediaCommand {
    /// Fetch a post's attachments from the swarm (its web seed when the swarm is slow), check
    /// their SHA-256, keep them under $SEEDSTR_HOME/media and register them for seeding.
    Get(GetArgs),
}

#[derive(Args)]
pub struct GetArgs {
    /// The post (hex id).
    id: String,
    #[command(flatten)]
    relay: RelayArgs,
    #[command(flatten)]
    peer: PeerArgs,
    /// Seconds the swarm may stall before the web seed is tried.
    #[arg(long, default_value_t = 30)]
    stall_timeout: u64,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
}

pub fn run(cmd: MediaCommand) -> Result<()> {
    match cmd {
        MediaCommand::Get(a) => reported(a.json, get(&a)),
    }
}

fn get(a: &GetArgs) -> Result<()> {
    let id = EventId::from_hex(&a.id)
        .map_err(|e| anyhow::anyhow!("{:?} is not an event id: {e}", a.id))?;
    let keys = KeyStore::new(&home()).load(&passphrase(false)?)?;
    let opts = InstallOptions {
        relays: a.relay.relays(),
        relay_timeout: a.relay.timeout(),
        allow_downgrade: false,
        peers: a.peer.peers.clone(),
        stall_timeout: Duration::from_secs(a.stall_timeout.max(1)),
        home: home(),
        dht: a.peer.dht_options(),
        dht_node: None,
        max_release_bytes: a.peer.max_release_bytes,
    };
    let files = transfer_runtime()?.block_on(async {
        let attachments = attachments_of(&keys, &a.relay.set(), id).await?;
        anyhow::ensure!(!attachments.is_empty(), "post {id} has no attachment");
        let swarm = a.peer.start_swarm(None).await?;
        let mut files = Vec::new();
        for att in &attachments {
            match fetch(&home(), &swarm, att, &opts).await {
                Ok(path) => files.push((att.clone(), path)),
                Err(e) => {
                    swarm.stop().await;
                    return Err(e.into());
                }
            }
        }
        swarm.stop().await;
        Ok(files)
    })?;
    if a.json {
        let out: Vec<serde_json::Value> = files
            .iter()
            .map(|(att, path)| serde_json::json!({"attachment": att, "file": path}))
            .collect();
        print_json(&out);
    } else {
        for (att, path) in &files {
            say(&format!(
                "{} ({} bytes, sha256 {}) at {}",
                att.name,
                att.size,
                att.sha256,
                path.display()
            ));
        }
    }
    Ok(())
}
