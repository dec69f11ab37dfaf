//! The mirror bot: a subscription open on the relays for the followed authors' releases and
//! incidents, every current release fetched, verified and seeded as it appears (beside
//! everything else the seed registry lists), and what the authors' incidents withdraw let go.

use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;
use std::path::{Path, PathBuf};
use std::time::Duration;

use nostr::prelude::{Keys, PublicKey};
use seedstr_client::install::InstallOptions;
use seedstr_client::publish::outbox::sign_and_send;
use seedstr_client::relays::live::{subscribe, LiveNote};
use seedstr_client::relays::RelaySet;
use seedstr_client::seeding::payload_store::{PayloadStore, PayloadStoreError};
use seedstr_client::seeding::registry::Origin;
use seedstr_client::seeding::seeder::{Seeder, SeederError};
use seedstr_proto::release::{Coordinate, Release, Version, RELEASE_KIND};
use serde_json::json;
use tokio::time::Instant;

use super::followed::{Followed, Taken};
use crate::events::seeder_offer::SeederOffer;
use crate::events::INCIDENT_KIND;

/// How a mirror runs.
pub struct MirrorOptions {
    /// The authors whose releases to mirror.
    pub follow: Vec<PublicKey>,
    /// Where mirrored payloads are kept.
    pub dir: PathBuf,
    /// Relays, timeouts and peers for fetching a release.
    pub fetch: InstallOptions,
    /// Before a release whose fetch failed is tried again; also how often the plan is made
    /// again without a new event (payloads can leave the registry behind the mirror's back).
    pub retry_after: Duration,
    /// Between looks at the seed registry.
    pub poll: Duration,
    /// When set, the mirror asks each author whose release it mirrored to name it in the
    /// project's zap splits (a seeder offer, 30088, signed with these keys).
    pub ask_to_be_named: Option<AskToBeNamed>,
}

/// How a mirror asks to be named in its authors' zap splits.
pub struct AskToBeNamed {
    /// The mirror's identity, which signs the offers.
    pub keys: Keys,
    /// Its home, where its own events are kept.
    pub home: PathBuf,
    /// A word to the authors.
    pub text: String,
}

/// What a mirror did. Serializes to one JSON object per note (`{"mirrored": …}`) and displays
/// as a line for people.
#[derive(Debug, Clone, serde::Serialize)]
#[serde(untagged)]
pub enum MirrorNote {
    /// The mirror started.
    Following {
        /// The authors followed, hex.
        following: Vec<String>,
        /// The relays subscribed to.
        relays: Vec<String>,
        /// Where mirrored payloads are kept.
        dir: PathBuf,
    },
    /// An event from a relay that is not the mirror's business, or that failed its checks.
    Ignored {
        /// The event's id.
        ignored: String,
        /// The relay that sent it.
        relay: String,
        /// Why.
        why: String,
    },
    /// A relay sent what it had stored.
    CaughtUp {
        /// The relay.
        caught_up: String,
    },
    /// A relay's connection was lost.
    RelayLost {
        /// The relay.
        relay_lost: String,
        /// Why.
        why: String,
        /// Seconds until it is tried again.
        retry_in: u64,
    },
    /// A payload was let go.
    Dropped {
        /// The payload's info hash.
        dropped: String,
        /// The release, `<ns>.<slug>@<version>`.
        release: String,
        /// Why.
        why: String,
    },
    /// A current release its author's incident withdraws: not mirrored.
    Withheld {
        /// The release's info hash.
        withheld: String,
        /// The release, `<ns>.<slug>@<version>`.
        release: String,
        /// The incident's id.
        incident: String,
        /// The incident's summary.
        summary: String,
    },
    /// A release is being fetched.
    Fetching {
        /// The release's info hash.
        fetching: String,
        /// The release, `<ns>.<slug>@<version>`.
        release: String,
    },
    /// A release was fetched, checked and is served.
    Mirrored {
        /// The release's info hash.
        mirrored: String,
        /// The release, `<ns>.<slug>@<version>`.
        release: String,
        /// The release event.
        event_id: String,
        /// Where mirrored payloads are kept.
        dir: PathBuf,
        /// The payload's size in bytes.
        bytes: u64,
    },
    /// The mirror asked a project's author to name it in the project's zap splits.
    Offered {
        /// The project, `<ns>.<slug>`.
        offered: String,
        /// Its author (hex).
        author: String,
        /// The offer's event id, when a relay took it.
        event_id: Option<String>,
        /// Why it did not go out, when it did not.
        error: Option<String>,
    },
    /// A fetch failed; it is tried again later.
    FetchFailed {
        /// The release's info hash.
        fetch_failed: String,
        /// The release, `<ns>.<slug>@<version>`.
        release: String,
        /// Why.
        why: String,
        /// Seconds until it is tried again.
        retry_in: u64,
    },
}

impl std::fmt::Display for MirrorNote {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            MirrorNote::Following {
                following,
                relays,
                dir,
            } => write!(
                f,
                "mirroring {} author(s) from {} into {}",
                following.len(),
                relays.join(", "),
                dir.display()
            ),
            MirrorNote::Ignored {
                ignored,
                relay,
                why,
            } => write!(f, "ignored event {ignored} from {relay}: {why}"),
            MirrorNote::CaughtUp { caught_up } => {
                write!(f, "{caught_up}: stored events read; following new ones")
            }
            MirrorNote::RelayLost {
                relay_lost,
                why,
                retry_in,
            } => write!(f, "{relay_lost}: {why}; connecting again in {retry_in}s"),
            MirrorNote::Dropped {
                dropped,
                release,
                why,
            } => write!(f, "dropped {release} ({dropped}): {why}"),
            MirrorNote::Withheld {
                release,
                incident,
                summary,
                ..
            } => write!(f, "not mirroring {release}: incident {incident}: {summary}"),
            MirrorNote::Fetching { fetching, release } => {
                write!(f, "fetching {release} ({fetching})")
            }
            MirrorNote::Mirrored { release, dir, .. } => {
                write!(f, "mirrored {release} into {}", dir.display())
            }
            MirrorNote::Offered {
                offered,
                event_id,
                error,
                ..
            } => match (event_id, error) {
                (Some(id), _) => write!(f, "asked to be named in {offered}'s zap splits ({id})"),
                (None, why) => write!(
                    f,
                    "could not ask to be named in {offered}'s zap splits: {}",
                    why.as_deref().unwrap_or("no relay took it")
                ),
            },
            MirrorNote::FetchFailed {
                release,
                why,
                retry_in,
                ..
            } => write!(
                f,
                "could not fetch {release}: {why}; trying again in {retry_in}s"
            ),
        }
    }
}

/// Why a mirror stopped.
#[derive(Debug, thiserror::Error)]
pub enum MirrorError {
    /// The mirror's folder could not be made.
    #[error("creating {path}: {source}")]
    Dir {
        /// The folder.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The seeder failed.
    #[error(transparent)]
    Seeder(#[from] SeederError),
    /// The payload store failed.
    #[error(transparent)]
    Store(#[from] PayloadStoreError),
}

/// Runs a mirror with `seeder` until `shutdown` resolves, telling `notes` what it does. What
/// earlier runs mirrored is served before the relays answer.
pub async fn run_mirror(
    home: &Path,
    opts: MirrorOptions,
    seeder: Seeder,
    notes: &(dyn Fn(&MirrorNote) + Sync),
    shutdown: impl Future<Output = ()>,
) -> Result<(), MirrorError> {
    std::fs::create_dir_all(&opts.dir).map_err(|source| MirrorError::Dir {
        path: opts.dir.clone(),
        source,
    })?;
    let dir = std::fs::canonicalize(&opts.dir).map_err(|source| MirrorError::Dir {
        path: opts.dir.clone(),
        source,
    })?;
    let relays = opts.fetch.relays.clone();
    let mut m = Mirror {
        followed: Followed::new(opts.follow.iter().copied()),
        store: PayloadStore::new(home, dir.clone(), Origin::Mirrored),
        seeder,
        fetch: opts.fetch,
        retry_at: BTreeMap::new(),
        retry_after: opts.retry_after,
        told_withheld: BTreeSet::new(),
        notes,
        ask: opts.ask_to_be_named,
        offered: BTreeMap::new(),
    };
    m.seeder.pass().await?;
    let authors: Vec<String> = opts.follow.iter().map(PublicKey::to_hex).collect();
    notes(&MirrorNote::Following {
        following: authors.clone(),
        relays: relays.clone(),
        dir,
    });
    let mut live = subscribe(
        &relays,
        vec![json!({"kinds": [RELEASE_KIND, INCIDENT_KIND], "authors": authors})],
    );
    let mut tick = tokio::time::interval(opts.poll);
    let mut next_check = Instant::now() + m.retry_after;
    tokio::pin!(shutdown);
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
            () = &mut shutdown => break,
        }
        if changed {
            m.reconcile().await?;
        }
    }
    m.seeder.swarm.stop().await;
    Ok(())
}

/// The mirror's state between events.
struct Mirror<'n> {
    followed: Followed,
    store: PayloadStore,
    seeder: Seeder,
    fetch: InstallOptions,
    /// Releases whose fetch failed, and when to try again.
    retry_at: BTreeMap<String, Instant>,
    retry_after: Duration,
    /// Withheld releases already reported.
    told_withheld: BTreeSet<String>,
    notes: &'n (dyn Fn(&MirrorNote) + Sync),
    ask: Option<AskToBeNamed>,
    /// The versions of each project (author, coordinate) offered so far.
    offered: BTreeMap<(PublicKey, Coordinate), BTreeSet<Version>>,
}

impl Mirror<'_> {
    /// Takes one note from the subscription; true when what the mirror should hold changed.
    fn note(&mut self, note: LiveNote) -> bool {
        match note {
            LiveNote::Event { relay, event } => match self.followed.take(&event) {
                Ok(Taken::New) => true,
                Ok(Taken::Known) => false,
                Err(why) => {
                    (self.notes)(&MirrorNote::Ignored {
                        ignored: event.id.to_hex(),
                        relay,
                        why: why.to_string(),
                    });
                    false
                }
            },
            LiveNote::CaughtUp { relay } => {
                (self.notes)(&MirrorNote::CaughtUp { caught_up: relay });
                false
            }
            LiveNote::Lost {
                relay,
                why,
                retry_in,
            } => {
                (self.notes)(&MirrorNote::RelayLost {
                    relay_lost: relay,
                    why,
                    retry_in: retry_in.as_secs(),
                });
                false
            }
        }
    }

    /// Asks `author` to name the mirror in the splits of `release`'s project, with every
    /// version of it mirrored so far, when asked to.
    async fn offer(&mut self, author: PublicKey, release: &Release) {
        let Some(ask) = &self.ask else { return };
        let versions = self
            .offered
            .entry((author, release.coordinate.clone()))
            .or_default();
        if !versions.insert(release.version.clone()) {
            return;
        }
        let offer = SeederOffer {
            project_author: author,
            coordinate: release.coordinate.clone(),
            versions: versions.iter().cloned().collect(),
            text: ask.text.clone(),
        };
        let relays = RelaySet {
            urls: self.fetch.relays.clone(),
            timeout: self.fetch.relay_timeout,
        };
        let (event_id, error) =
            match sign_and_send(&ask.home, &ask.keys, offer.to_builder(), &relays).await {
                Ok(sent) => (Some(sent.event_id), None),
                Err(e) => (None, Some(e.to_string())),
            };
        (self.notes)(&MirrorNote::Offered {
            offered: release.coordinate.to_string(),
            author: author.to_hex(),
            event_id,
            error,
        });
    }

    /// Brings the mirror's folder in line with what the followed authors publish.
    async fn reconcile(&mut self) -> Result<(), MirrorError> {
        let held = self.store.held();
        let plan = self.followed.plan(&held.all, &held.ours);
        for d in plan.drop {
            // Out of the registry, out of the session, then off the disk.
            self.store.unregister(&d.infohash)?;
            self.seeder.stop(&d.infohash).await;
            self.store.delete(&d.infohash)?;
            (self.notes)(&MirrorNote::Dropped {
                dropped: d.infohash,
                release: d.release,
                why: d.why,
            });
        }
        for (release, incident) in plan.withheld {
            let ih = release.infohash_hex();
            if self.told_withheld.insert(ih.clone()) {
                (self.notes)(&MirrorNote::Withheld {
                    withheld: ih,
                    release: release.d(),
                    incident: incident.id,
                    summary: incident.summary,
                });
            }
        }
        for (release, event) in plan.fetch {
            let ih = release.infohash_hex();
            let now = Instant::now();
            if self.retry_at.get(&ih).is_some_and(|at| *at > now) {
                continue;
            }
            let name = release.d();
            (self.notes)(&MirrorNote::Fetching {
                fetching: ih.clone(),
                release: name.clone(),
            });
            match self
                .store
                .fetch(&self.seeder.swarm, &release, &self.fetch)
                .await
            {
                Ok(place) => {
                    self.retry_at.remove(&ih);
                    (self.notes)(&MirrorNote::Mirrored {
                        mirrored: ih,
                        release: name,
                        event_id: event.id.to_hex(),
                        dir: place,
                        bytes: release.total_size(),
                    });
                    self.seeder.pass().await?;
                    self.offer(event.pubkey, &release).await;
                }
                Err(e) => {
                    self.retry_at.insert(ih.clone(), now + self.retry_after);
                    (self.notes)(&MirrorNote::FetchFailed {
                        fetch_failed: ih,
                        release: name,
                        why: e.to_string(),
                        retry_in: self.retry_after.as_secs(),
                    });
                }
            }
        }
        Ok(())
    }
}
