//! `seedstr seed`: serve every registered payload until stopped. The registry is a folder, so
//! payloads published or installed while this runs are picked up, and a restart resumes them all.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use anyhow::Result;
use clap::Args;
use seedstr_client::keystore::home;
use seedstr_client::republish::{republish_kept, ANNOUNCE_EVERY, REPUBLISH_EVERY};
use seedstr_client::seeds::SeedRegistry;
use seedstr_dht::DhtNode;
use seedstr_swarm::{Sources, Swarm, Transfer};
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

pub(crate) fn say(json: bool, value: serde_json::Value, text: String) {
    if json {
        print_json(&value);
    } else {
        net_args::say(&text);
    }
}

async fn seed(args: SeedArgs) -> Result<()> {
    let mut seeder = Seeder::start(
        &args.peer,
        args.upload_limit,
        Duration::from_secs(args.republish_secs.max(1)),
        args.json,
    )
    .await?;
    let poll = Duration::from_secs(args.poll_secs.max(1));
    loop {
        seeder.pass().await?;
        tokio::select! {
            _ = tokio::time::sleep(poll) => {}
            _ = tokio::signal::ctrl_c() => break,
        }
    }
    seeder.swarm.stop().await;
    Ok(())
}

/// Serves what the seed registry lists, one [`Seeder::pass`] at a time; `seed` and `mirror`
/// both run one.
pub struct Seeder {
    pub swarm: Swarm,
    registry: SeedRegistry,
    active: BTreeMap<String, Transfer>,
    warned: BTreeSet<String>,
    /// Payloads whose files no longer match; checking them again each pass would rehash them
    /// every time. A restart tries again.
    failed: BTreeSet<String>,
    /// Started payloads, for the DHT side to announce; `None` without the DHT.
    announce: Option<tokio::sync::mpsc::UnboundedSender<[u8; 20]>>,
    json: bool,
}

impl Seeder {
    /// Starts the BitTorrent session and, unless `--no-dht`, the DHT upkeep beside it.
    pub async fn start(
        peer: &PeerArgs,
        upload_limit: Option<u32>,
        republish: Duration,
        json: bool,
    ) -> Result<Seeder> {
        let registry = SeedRegistry::new(&home());
        let swarm = peer.start_swarm(upload_limit).await?;
        let addr = swarm
            .local_peer_addr()
            .ok_or_else(|| anyhow::anyhow!("the BitTorrent session is not listening"))?;
        say(
            json,
            json!({"listening": addr.to_string(), "registry": registry.dir()}),
            format!("seedstr seed listening on {addr}"),
        );
        // Joining the DHT takes a while on the real network: it runs beside seeding, and
        // announcements wait in the channel until it has joined.
        let announce = (!peer.no_dht).then(|| {
            let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
            let bootstrap = peer.dht_bootstrap.clone();
            tokio::spawn(dht_upkeep(bootstrap, addr.port(), rx, republish, json));
            tx
        });
        Ok(Seeder {
            swarm,
            registry,
            active: BTreeMap::new(),
            warned: BTreeSet::new(),
            failed: BTreeSet::new(),
            announce,
            json,
        })
    }

    /// One look at the registry: starts what is new, drops entries whose files are gone, and
    /// stops what is no longer registered.
    pub async fn pass(&mut self) -> Result<()> {
        let json = self.json;
        let (seeds, broken) = self.registry.list();
        for b in broken {
            if self.warned.insert(b.clone()) {
                eprintln!("warning: skipping a broken registry entry: {b}");
            }
        }
        let mut listed = BTreeSet::new();
        for seed in seeds {
            let e = &seed.entry;
            listed.insert(e.infohash.clone());
            if self.active.contains_key(&e.infohash) || self.failed.contains(&e.infohash) {
                continue;
            }
            if !e.still_valid() {
                // The install was upgraded or removed, or the published folder is gone.
                self.registry.remove(&e.infohash)?;
                say(
                    json,
                    json!({"dropped": e.infohash, "release": e.release, "why": "files gone"}),
                    format!("dropped {} ({}): its files are gone", e.release, e.infohash),
                );
                continue;
            }
            let sources = Sources {
                peers: vec![],
                trackers: e.trackers.clone(),
            };
            match self.swarm.seed(&seed.torrent_file, &e.dir, &sources).await {
                Ok(t) => {
                    say(
                        json,
                        json!({"seeding": e.infohash, "release": e.release, "dir": e.dir}),
                        format!(
                            "seeding {} ({}) from {}",
                            e.release,
                            e.infohash,
                            e.dir.display()
                        ),
                    );
                    self.active.insert(e.infohash.clone(), t);
                    if let (Some(tx), Ok(ih)) = (&self.announce, hex::decode(&e.infohash)) {
                        if let Ok(ih) = <[u8; 20]>::try_from(ih) {
                            let _ = tx.send(ih);
                        }
                    }
                }
                Err(err) => {
                    self.failed.insert(e.infohash.clone());
                    say(
                        json,
                        json!({"refused": e.infohash, "release": e.release, "why": format!("{err:#}")}),
                        format!("not seeding {}: {err:#}", e.release),
                    );
                }
            }
        }
        let gone: Vec<String> = self
            .active
            .keys()
            .filter(|ih| !listed.contains(*ih))
            .cloned()
            .collect();
        for ih in gone {
            self.stop(&ih).await;
        }
        Ok(())
    }

    /// Stops serving one payload, so its files can go.
    pub async fn stop(&mut self, infohash: &str) {
        if let Some(t) = self.active.remove(infohash) {
            let _ = self.swarm.remove(&t).await;
            say(
                self.json,
                json!({"stopped": infohash}),
                format!("stopped {infohash}: no longer registered"),
            );
        }
    }
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
    // Each put and announce waits out the DHT's request timeout, so republishing runs beside
    // the announces (a torrent started meanwhile is findable at once), and announces run
    // several at a time.
    tokio::spawn(republish_every(dht.clone(), republish, json));
    let mut seeded: Vec<[u8; 20]> = Vec::new();
    let mut waiting: std::collections::VecDeque<[u8; 20]> = Default::default();
    let mut in_flight = futures_util::stream::FuturesUnordered::new();
    let mut announce_tick = tokio::time::interval(ANNOUNCE_EVERY);
    // The first tick is immediate; torrents are announced as they start.
    announce_tick.tick().await;
    loop {
        while in_flight.len() < ANNOUNCES_AT_ONCE {
            let Some(ih) = waiting.pop_front() else { break };
            in_flight.push(announce_one(&dht, ih, port, json));
        }
        tokio::select! {
            ih = started.recv() => {
                let Some(ih) = ih else { return };
                seeded.push(ih);
                waiting.push_back(ih);
            }
            _ = announce_tick.tick() => waiting.extend(&seeded),
            Some(()) = futures_util::StreamExt::next(&mut in_flight), if !in_flight.is_empty() => {}
        }
    }
}

/// Announces in flight at once: enough to start a large registry in minutes, few enough not to
/// flood the node's DHT actor.
const ANNOUNCES_AT_ONCE: usize = 16;

async fn republish_every(dht: DhtNode, every: Duration, json: bool) {
    let home = home();
    let mut tick = tokio::time::interval(every);
    loop {
        tick.tick().await;
        let (done, broken) = republish_kept(&home, &dht).await;
        for b in broken {
            eprintln!("warning: not republishing a kept DHT item: {b}");
        }
        for r in done {
            let text = match &r.outcome {
                Ok(n) => format!(
                    "republished {} of {} (seq {}) at {n} nodes",
                    r.label, r.author, r.seq
                ),
                Err(e) => format!("could not republish {} of {}: {e}", r.label, r.author),
            };
            say(json, json!({"republished": r}), text);
        }
    }
}

async fn announce_one(dht: &DhtNode, ih: [u8; 20], port: u16, json: bool) {
    let infohash = hex::encode(ih);
    match dht.announce_peer(&ih, port).await {
        Ok(()) => say(
            json,
            json!({"announced": infohash, "port": port}),
            format!("announced {infohash} on the DHT"),
        ),
        Err(e) => eprintln!("warning: announcing {infohash} on the DHT: {e}"),
    }
}
