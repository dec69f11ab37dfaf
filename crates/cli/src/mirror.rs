//! `seedstr mirror --follow <npub>…`: a mirror bot. It keeps a subscription open on the relays
//! for the followed authors' releases and incidents, fetches and verifies every current release
//! as it appears, seeds it with everything else in the seed registry (it is `seedstr seed` plus
//! following), and lets go of what the authors' incidents withdraw.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result};
use clap::Args;
use nostr::prelude::PublicKey;
use seedstr_client::install::InstallOptions;
use seedstr_client::keystore::home;
use seedstr_client::live::{subscribe, LiveNote};
use seedstr_client::payload_store::PayloadStore;
use seedstr_client::republish::REPUBLISH_EVERY;
use seedstr_client::seeds::Origin;
use seedstr_client::target::parse_public_key;
use seedstr_mods::events::INCIDENT_KIND;
use seedstr_mods::mirror::{Followed, Taken};
use seedstr_proto::release::RELEASE_KIND;
use serde_json::json;
use tokio::time::Instant;

use crate::net_args::{transfer_runtime, PeerArgs, RelayArgs};
use seedstr_node::seeding::Seeder;

use crate::seed::{say, start_seeder};

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
    /// Print one JSON object per line for each change.
    #[arg(long)]
    json: bool,
}

pub fn run(args: MirrorArgs) -> Result<()> {
    transfer_runtime()?.block_on(mirror(args))
}

/// The mirror's state between events.
struct Mirror {
    followed: Followed,
    store: PayloadStore,
    seeder: Seeder,
    opts: InstallOptions,
    /// Releases whose fetch failed, and when to try again.
    retry_at: BTreeMap<String, Instant>,
    retry_after: Duration,
    /// Withheld releases already reported.
    told_withheld: BTreeSet<String>,
    json: bool,
}

async fn mirror(a: MirrorArgs) -> Result<()> {
    let home = home();
    let dir = a.dir.clone().unwrap_or_else(|| home.join("mirror"));
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let dir = std::fs::canonicalize(&dir)?;
    let seeder = start_seeder(&a.peer, a.upload_limit, REPUBLISH_EVERY, a.json).await?;
    let relays = a.relay.relays();
    let mut m = Mirror {
        followed: Followed::new(a.follow.iter().copied()),
        store: PayloadStore::new(&home, dir.clone(), Origin::Mirrored),
        seeder,
        opts: InstallOptions {
            relays: relays.clone(),
            relay_timeout: a.relay.timeout(),
            allow_downgrade: false,
            peers: a.peer.peers.clone(),
            stall_timeout: Duration::from_secs(a.stall_timeout.max(1)),
            home: home.clone(),
            dht: None,
        },
        retry_at: BTreeMap::new(),
        retry_after: Duration::from_secs(a.retry_secs.max(1)),
        told_withheld: BTreeSet::new(),
        json: a.json,
    };
    // What earlier runs mirrored is served before the relays answer.
    m.seeder.pass().await?;
    let authors: Vec<String> = a.follow.iter().map(PublicKey::to_hex).collect();
    say(
        a.json,
        json!({"following": authors, "relays": relays, "dir": dir}),
        format!(
            "mirroring {} author(s) from {} into {}",
            authors.len(),
            relays.join(", "),
            dir.display()
        ),
    );
    let mut live = subscribe(
        &relays,
        vec![json!({"kinds": [RELEASE_KIND, INCIDENT_KIND], "authors": authors})],
    );
    let mut tick = tokio::time::interval(Duration::from_secs(a.poll_secs.max(1)));
    // Payloads can leave the registry behind the mirror's back (their folder deleted, say):
    // every --retry-secs the plan is made again even without a new event.
    let mut next_check = Instant::now() + m.retry_after;
    loop {
        let mut changed = false;
        tokio::select! {
            note = live.recv() => {
                let Some(note) = note else { break };
                changed |= m.note(note);
                // Relays send their stored events in a burst: take them all before acting.
                while let Ok(note) = live.try_recv() {
                    changed |= m.note(note);
                }
            }
            _ = tick.tick() => {
                m.seeder.pass().await?;
                let now = Instant::now();
                changed |= m.retry_at.values().any(|at| *at <= now);
                if now >= next_check {
                    changed = true;
                    next_check = now + m.retry_after;
                }
            }
            _ = tokio::signal::ctrl_c() => break,
        }
        if changed {
            m.reconcile().await?;
        }
    }
    m.seeder.swarm.stop().await;
    Ok(())
}

impl Mirror {
    /// Takes one note from the subscription; true when what the mirror should hold changed.
    fn note(&mut self, note: LiveNote) -> bool {
        match note {
            LiveNote::Event { relay, event } => match self.followed.take(&event) {
                Ok(Taken::New) => true,
                Ok(Taken::Known) => false,
                Err(why) => {
                    say(
                        self.json,
                        json!({"ignored": event.id.to_hex(), "relay": relay, "why": why}),
                        format!("ignored event {} from {relay}: {why}", event.id),
                    );
                    false
                }
            },
            LiveNote::CaughtUp { relay } => {
                say(
                    self.json,
                    json!({"caught_up": relay}),
                    format!("{relay}: stored events read; following new ones"),
                );
                false
            }
            LiveNote::Lost {
                relay,
                why,
                retry_in,
            } => {
                say(
                    self.json,
                    json!({"relay_lost": relay, "why": why, "retry_in": retry_in.as_secs()}),
                    format!(
                        "{relay}: {why}; connecting again in {}s",
                        retry_in.as_secs()
                    ),
                );
                false
            }
        }
    }

    /// Brings the mirror's folder in line with what the followed authors publish.
    async fn reconcile(&mut self) -> Result<()> {
        let held = self.store.held();
        let plan = self.followed.plan(&held.all, &held.ours);
        for d in plan.drop {
            // Out of the registry, out of the session, then off the disk.
            self.store.unregister(&d.infohash)?;
            self.seeder.stop(&d.infohash).await;
            self.store.delete(&d.infohash)?;
            say(
                self.json,
                json!({"dropped": d.infohash, "release": d.release, "why": d.why}),
                format!("dropped {} ({}): {}", d.release, d.infohash, d.why),
            );
        }
        for (release, incident) in plan.withheld {
            let ih = release.infohash_hex();
            if self.told_withheld.insert(ih.clone()) {
                let name = release.d();
                say(
                    self.json,
                    json!({"withheld": ih, "release": name, "incident": incident.id, "summary": incident.summary}),
                    format!(
                        "not mirroring {name}: incident {}: {}",
                        incident.id, incident.summary
                    ),
                );
            }
        }
        for (release, event) in plan.fetch {
            let ih = release.infohash_hex();
            let now = Instant::now();
            if self.retry_at.get(&ih).is_some_and(|at| *at > now) {
                continue;
            }
            let name = release.d();
            say(
                self.json,
                json!({"fetching": ih, "release": name}),
                format!("fetching {name} ({ih})"),
            );
            match self
                .store
                .fetch(&self.seeder.swarm, &release, &self.opts)
                .await
            {
                Ok(place) => {
                    self.retry_at.remove(&ih);
                    say(
                        self.json,
                        json!({"mirrored": ih, "release": name, "event_id": event.id.to_hex(), "dir": place, "bytes": release.total_size()}),
                        format!("mirrored {name} into {}", place.display()),
                    );
                    self.seeder.pass().await?;
                }
                Err(e) => {
                    self.retry_at.insert(ih.clone(), now + self.retry_after);
                    say(
                        self.json,
                        json!({"fetch_failed": ih, "release": name, "why": format!("{e:#}"), "retry_in": self.retry_after.as_secs()}),
                        format!(
                            "could not fetch {name}: {e:#}; trying again in {}s",
                            self.retry_after.as_secs()
                        ),
                    );
                }
            }
        }
        Ok(())
    }
}
