//! Relay answers kept in memory while the relays say nothing changed: a long-running server
//! (the npm and Cargo views, the node's package API) asks the same few questions for every
//! request, and without this each one is a WebSocket round to every relay.
//!
//! A live subscription on the kinds the cache covers tells it what changed. An event drops the
//! kept answers it could change: those whose kinds hold its kind and whose authors hold its
//! author (tags and times are not looked at, so a replacement that no longer carries a tag
//! still drops the answer that held its predecessor); a deletion drops every answer about its
//! author. Answers are kept only while every relay's subscription is caught up; a relay that
//! drops its subscription empties the cache until it is caught up again, and an answer asked
//! for before a change arrived is not kept. Only complete answers are kept (every relay
//! answered), and only for filters whose kinds the subscription covers.

use std::collections::{BTreeSet, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use seedstr_proto::filter::Filter;
use serde_json::{json, Value};
use tokio::sync::{mpsc, oneshot};

use crate::relays::live::{subscribe, LiveNote};
use crate::relays::{query_all, Gathered};

/// NIP-09 deletion: removes its author's events from every answer.
const DELETION_KIND: u16 = 5;

/// The most answers kept; beyond it the oldest goes.
pub const MAX_ANSWERS: usize = 4096;

/// How long an answer is kept at most, whatever the subscription says: what a relay drops
/// without an event (NIP-40 expiry, an operator's purge) is then gone from answers within this.
pub const MAX_AGE: Duration = Duration::from_secs(600);

/// What the cache did so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct CacheStats {
    /// Questions answered from memory.
    pub hits: u64,
    /// Questions sent to the relays.
    pub misses: u64,
    /// Answers kept now.
    pub kept: usize,
    /// Whether every relay's subscription is caught up (answers are being kept).
    pub live: bool,
}

/// An answer, and whether it came from memory.
#[derive(Debug, Clone)]
pub struct CachedAnswer {
    /// What the relays returned.
    pub gathered: Arc<Gathered>,
    /// True when no relay was asked.
    pub from_cache: bool,
}

/// The relay answers kept for one set of relays. Dropping it ends its subscription.
pub struct RelayCache {
    relays: Vec<String>,
    timeout: Duration,
    /// The kinds the subscription covers, sorted.
    kinds: Vec<u16>,
    state: Mutex<CacheState>,
    hits: AtomicU64,
    misses: AtomicU64,
    /// Dropped with the cache: the subscription's task then ends.
    _stop: oneshot::Sender<()>,
}

impl std::fmt::Debug for RelayCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RelayCache")
            .field("relays", &self.relays)
            .field("kinds", &self.kinds)
            .field("stats", &self.stats())
            .finish()
    }
}

#[derive(Default)]
struct CacheState {
    /// Relays whose subscription is caught up and not lost since.
    live: BTreeSet<String>,
    /// Moves on every change seen; an answer asked for under an older one is not kept.
    generation: u64,
    answers: HashMap<String, Kept>,
}

/// What an answer depends on: the events of these kinds by these authors (any, when `None`).
struct Scope {
    kinds: Vec<u16>,
    authors: Option<Vec<[u8; 32]>>,
}

struct Kept {
    scope: Scope,
    answer: Arc<Gathered>,
    at: Instant,
}

impl Scope {
    fn touched_by(&self, kind: u16, author: &[u8; 32]) -> bool {
        let by_author = self
            .authors
            .as_ref()
            .is_none_or(|a| a.binary_search(author).is_ok());
        by_author && (kind == DELETION_KIND || self.kinds.binary_search(&kind).is_ok())
    }
}

impl RelayCache {
    /// A cache of answers from `relays` for filters on `kinds`, following the relays at once.
    /// Must be called within a Tokio runtime.
    pub fn start(relays: Vec<String>, timeout: Duration, kinds: &[u16]) -> Arc<RelayCache> {
        let mut kinds = kinds.to_vec();
        kinds.sort_unstable();
        kinds.dedup();
        let mut watched = kinds.clone();
        watched.push(DELETION_KIND);
        // `limit: 0`: nothing stored, only what arrives from now on.
        let notes = subscribe(&relays, vec![json!({"kinds": watched, "limit": 0})]);
        let (stop, stopped) = oneshot::channel();
        let cache = Arc::new(RelayCache {
            relays,
            timeout,
            kinds,
            state: Mutex::new(CacheState::default()),
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
            _stop: stop,
        });
        tokio::spawn(follow(Arc::downgrade(&cache), notes, stopped));
        cache
    }

    /// The relays it asks.
    pub fn relays(&self) -> &[String] {
        &self.relays
    }

    /// What the relays answer to `filter`: from memory when a complete answer is kept and
    /// nothing it depends on changed since.
    pub async fn query(&self, filter: &Value) -> CachedAnswer {
        let key = filter.to_string();
        let scope = self.scope(filter);
        let mut asked_under = None;
        if scope.is_some() {
            let state = self.lock();
            if let Some(kept) = state.answers.get(&key) {
                if kept.at.elapsed() < MAX_AGE {
                    self.hits.fetch_add(1, Ordering::Relaxed);
                    return CachedAnswer {
                        gathered: kept.answer.clone(),
                        from_cache: true,
                    };
                }
            }
            if self.relays.iter().all(|r| state.live.contains(r)) {
                asked_under = Some(state.generation);
            }
        }
        self.misses.fetch_add(1, Ordering::Relaxed);
        let gathered = Arc::new(query_all(&self.relays, filter, self.timeout).await);
        if let (Some(scope), Some(generation)) = (scope, asked_under) {
            let mut state = self.lock();
            if state.generation == generation && gathered.failed.is_empty() {
                if state.answers.len() >= MAX_ANSWERS {
                    let oldest = state
                        .answers
                        .iter()
                        .min_by_key(|(_, k)| k.at)
                        .map(|(key, _)| key.clone());
                    if let Some(oldest) = oldest {
                        state.answers.remove(&oldest);
                    }
                }
                state.answers.insert(
                    key,
                    Kept {
                        scope,
                        answer: gathered.clone(),
                        at: Instant::now(),
                    },
                );
            }
        }
        CachedAnswer {
            gathered,
            from_cache: false,
        }
    }

    /// What the cache did so far.
    pub fn stats(&self) -> CacheStats {
        let state = self.lock();
        CacheStats {
            hits: self.hits.load(Ordering::Relaxed),
            misses: self.misses.load(Ordering::Relaxed),
            kept: state.answers.len(),
            live: self.relays.iter().all(|r| state.live.contains(r)),
        }
    }

    /// The kinds and authors an answer to `filter` depends on, when it may be kept: its kinds
    /// all covered by the subscription, and no search (a relay's search may rank or change).
    fn scope(&self, filter: &Value) -> Option<Scope> {
        let f = Filter::parse(filter).ok()?;
        let kinds = f.kinds?;
        let covered = kinds.iter().all(|k| self.kinds.binary_search(k).is_ok());
        (covered && f.search.is_none()).then_some(Scope {
            kinds,
            authors: f.authors,
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, CacheState> {
        // A panic while holding the lock leaves only answers, which stay valid.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn note(&self, note: LiveNote) {
        let mut state = self.lock();
        match note {
            LiveNote::Event { event, .. } => {
                state.generation += 1;
                let (kind, author) = (event.kind.as_u16(), event.pubkey.to_bytes());
                state
                    .answers
                    .retain(|_, kept| !kept.scope.touched_by(kind, &author));
            }
            LiveNote::CaughtUp { relay } => {
                state.live.insert(relay);
            }
            LiveNote::Lost { relay, why, .. } => {
                tracing::debug!("relay cache: {relay} lost ({why}); answers dropped");
                state.generation += 1;
                state.live.remove(&relay);
                state.answers.clear();
            }
        }
    }
}

async fn follow(
    cache: std::sync::Weak<RelayCache>,
    mut notes: mpsc::UnboundedReceiver<LiveNote>,
    mut stopped: oneshot::Receiver<()>,
) {
    loop {
        let note = tokio::select! {
            note = notes.recv() => note,
            _ = &mut stopped => return,
        };
        let (Some(note), Some(cache)) = (note, cache.upgrade()) else {
            return;
        };
        cache.note(note);
    }
}
