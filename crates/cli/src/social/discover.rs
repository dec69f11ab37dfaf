//! `seedstr social discover`: find people through directories, and confirm with their nodes.

use std::time::Duration;

use anyhow::{bail, Result};
use clap::Args;
use seedstr_client::feed::ResolveOptions;
use seedstr_client::keys::store::home;
use seedstr_social::directory::discover::{discover, discover_by_feed, Query};

use crate::net_args::{print_json, runtime, say, transfer_runtime, PeerArgs, RelayArgs};
use crate::outcome::reported;

#[derive(Args)]
pub struct DiscoverArgs {
    /// A key (npub or hex), a NIP-05 identifier (name@domain), or words of a name.
    query: String,
    /// At most this many people.
    #[arg(long, default_value_t = 10)]
    limit: usize,
    /// The directories to ask (`--relay`, repeatable).
    #[command(flatten)]
    relay: RelayArgs,
    /// Find a key through their feed on the DHT instead (no directory needed: their
    /// transport key is known from an earlier discovery, or from --relay if one answers).
    #[arg(long)]
    dht: bool,
    #[command(flatten)]
    peer: PeerArgs,
    /// Print the people as JSON.
    #[arg(long)]
    json: bool,
}

pub fn run(a: DiscoverArgs) -> Result<()> {
    reported(a.json, {
        (|| {
            let query = Query::parse(&a.query);
            let home = home();
            let found = if a.dht {
                let Query::Key(who) = query else {
                    bail!("through the DHT, people are found by key (npub or hex)");
                };
                let opts = ResolveOptions {
                    relays: a.relay.relays.clone(),
                    relay_timeout: a.relay.timeout(),
                    peers: a.peer.peers.clone(),
                    stall: Duration::from_secs(30),
                };
                transfer_runtime()?.block_on(async {
                    let Some(dht) = a.peer.join_dht(false).await? else {
                        bail!("--dht and --no-dht together");
                    };
                    let swarm = a.peer.start_swarm(None).await?;
                    let found = discover_by_feed(&home, &swarm, &dht, &who, &opts).await;
                    swarm.stop().await;
                    Ok(found?)
                })?
            } else {
                runtime()?.block_on(discover(&a.relay.set(), &query, a.limit, Some(&home)))?
            };
            if a.json {
                print_json(&found);
                return Ok(());
            }
            if found.people.is_empty() {
                say(&format!("nobody found for {:?}", a.query));
            }
            for p in &found.people {
                let name = p
                    .profile
                    .get("name")
                    .and_then(|v| v.as_str())
                    .unwrap_or("(no name)");
                say(&format!("{} {name}", p.npub));
                if let Some(node) = &p.node {
                    let state = if node.confirmed {
                        "confirmed by the node".to_owned()
                    } else {
                        format!("not confirmed: {}", node.why.as_deref().unwrap_or(""))
                    };
                    say(&format!("  node {} ({state})", node.url));
                    if let Some(r) = node.reports.first() {
                        say(&format!("  last seen at {} by {}", r.seen_at, r.directory));
                    }
                }
            }
            for (d, why) in &found.directories_failed {
                eprintln!("warning: directory {d} did not answer: {why}");
            }
            Ok(())
        })()
    })
}
