//! `seedstr seed`: serve every registered payload until stopped. The registry is a folder, so
//! payloads published or installed while this runs are picked up, and a restart resumes them all.

use std::collections::BTreeMap;
use std::time::Duration;

use anyhow::Result;
use clap::Args;
use seedstr_client::keystore::home;
use seedstr_client::republish::{republish_kept, ANNOUNCE_EVERY, REPUBLISH_EVERY};
use seedstr_client::seeds::SeedRegistry;
use seedstr_dht::DhtNode;
use seedstr_swarm::{Sources, Transfer};
use serde_json::json;

use crate::dht::join_dht;
use crate::net_args::{self, print_json, swarm_runtime, PeerArgs};

#[derive(Args)]
pub struct SeedArgs {
    #[command(flatten)]
    peer: PeerArgs,
    /// Upload cap in bytes per second.
    #[arg(long)]
    upload_limit: Option<u32>,
    /// Seconds between looks at the registry.
    #[arg(long, default_value_t = 2)]
    poll_secs: u64,
    /// Seconds between puts of the kept DHT records (own and followed).
    #[arg(long, default_value_t = REPUBLISH_EVERY.as_secs())]
    republish_secs: u64,
    /// Print one JSON object per line for each change.
    #[arg(long)]
    json: bool,
}

pub fn run(args: SeedArgs) -> Result<()> {
    swarm_runtime()?.block_on(seed(args))
}

fn say(json: bool, value: serde_json::Value, text: String) {
    if json {
        print_json(&value);
    } else {
        net_args::say(&text);
    }
}

async fn seed(args: SeedArgs) -> Result<()> {
    let registry = SeedRegistry::new(&home());
    let swarm = args.peer.start_swarm(args.upload_limit).await?;
    let addr = swarm
        .local_peer_addr()
        .ok_or_else(|| anyhow::anyhow!("the BitTorrent session is not listening"))?;
    say(
        args.json,
        json!({"listening": addr.to_string(), "registry": registry.dir()}),
        format!("seedstr seed listening on {addr}"),
    );
    // Joining the DHT takes a while on the real network: it runs beside seeding, and
    // announcements wait in the channel until it has joined.
    let announce = (!args.peer.no_dht).then(|| {
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        let every = Duration::from_secs(args.republish_secs.max(1));
        let bootstrap = args.peer.dht_bootstrap.clone();
        tokio::spawn(dht_upkeep(bootstrap, addr.port(), rx, every, args.json));
        tx
    });
    let mut active: BTreeMap<String, Transfer> = BTreeMap::new();
    let mut warned: std::collections::BTreeSet<String> = Default::default();
    // Payloads whose files no longer match; checking them again each poll would rehash them
    // every time. A restart tries again.
    let mut failed: std::collections::BTreeSet<String> = Default::default();
    let poll = Duration::from_secs(args.poll_secs.max(1));
    loop {
        let (seeds, broken) = registry.list();
        for b in broken {
            if warned.insert(b.clone()) {
                eprintln!("warning: skipping a broken registry entry: {b}");
            }
        }
        let mut listed = std::collections::BTreeSet::new();
        for seed in seeds {
            let e = &seed.entry;
            listed.insert(e.infohash.clone());
            if active.contains_key(&e.infohash) || failed.contains(&e.infohash) {
                continue;
            }
            if !e.still_valid() {
                // The install was upgraded or removed, or the published folder is gone.
                registry.remove(&e.infohash)?;
                say(
                    args.json,
                    json!({"dropped": e.infohash, "release": e.release, "why": "files gone"}),
                    format!("dropped {} ({}): its files are gone", e.release, e.infohash),
                );
                continue;
            }
            let sources = Sources {
                peers: vec![],
                trackers: e.trackers.clone(),
            };
            match swarm.seed(&seed.torrent_file, &e.dir, &sources).await {
                Ok(t) => {
                    say(
                        args.json,
                        json!({"seeding": e.infohash, "release": e.release, "dir": e.dir}),
                        format!(
                            "seeding {} ({}) from {}",
                            e.release,
                            e.infohash,
                            e.dir.display()
                        ),
                    );
                    active.insert(e.infohash.clone(), t);
                    if let (Some(tx), Ok(ih)) = (&announce, hex::decode(&e.infohash)) {
                        if let Ok(ih) = <[u8; 20]>::try_from(ih) {
                            let _ = tx.send(ih);
                        }
                    }
                }
                Err(err) => {
                    failed.insert(e.infohash.clone());
                    say(
                        args.json,
                        json!({"refused": e.infohash, "release": e.release, "why": format!("{err:#}")}),
                        format!("not seeding {}: {err:#}", e.release),
                    );
                }
            }
        }
        let gone: Vec<String> = active
            .keys()
            .filter(|ih| !listed.contains(*ih))
            .cloned()
            .collect();
        for ih in gone {
            if let Some(t) = active.remove(&ih) {
                let _ = swarm.remove(&t).await;
                say(
                    args.json,
                    json!({"stopped": ih}),
                    format!("stopped {ih}: no longer registered"),
                );
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(poll) => {}
            _ = tokio::signal::ctrl_c() => break,
        }
    }
    swarm.stop().await;
    Ok(())
}

/// The Mainline DHT side of seeding: every seeded torrent announced when it starts and every
/// fifteen minutes, every kept record put again every `republish` (and once at the start).
async fn dht_upkeep(
    bootstrap: Vec<String>,
    port: u16,
    mut started: tokio::sync::mpsc::UnboundedReceiver<[u8; 20]>,
    republish: Duration,
    json: bool,
) {
    let dht = match join_dht(&bootstrap, None, true).await {
        Ok(dht) => dht,
        Err(e) => {
            eprintln!("warning: {e:#}; seeding without announcing on the Mainline DHT or republishing records");
            return;
        }
    };
    let home = home();
    let mut seeded: Vec<[u8; 20]> = Vec::new();
    let mut announce_tick = tokio::time::interval(ANNOUNCE_EVERY);
    let mut republish_tick = tokio::time::interval(republish);
    loop {
        tokio::select! {
            ih = started.recv() => {
                let Some(ih) = ih else { return };
                seeded.push(ih);
                announce_one(&dht, &ih, port, json).await;
            }
            _ = announce_tick.tick() => {
                for ih in &seeded {
                    announce_one(&dht, ih, port, json).await;
                }
            }
            _ = republish_tick.tick() => {
                let (done, broken) = republish_kept(&home, &dht).await;
                for b in broken {
                    eprintln!("warning: not republishing a kept DHT item: {b}");
                }
                for r in done {
                    let text = match &r.outcome {
                        Ok(n) => format!("republished {} of {} (seq {}) at {n} nodes", r.label, r.author, r.seq),
                        Err(e) => format!("could not republish {} of {}: {e}", r.label, r.author),
                    };
                    say(json, json!({"republished": r}), text);
                }
            }
        }
    }
}

async fn announce_one(dht: &DhtNode, ih: &[u8; 20], port: u16, json: bool) {
    let infohash = hex::encode(ih);
    match dht.announce_peer(ih, port).await {
        Ok(()) => say(
            json,
            json!({"announced": infohash, "port": port}),
            format!("announced {infohash} on the DHT"),
        ),
        Err(e) => eprintln!("warning: announcing {infohash} on the DHT: {e}"),
    }
}
