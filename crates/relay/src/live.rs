//! Live subscriptions, indexed so that a new event is matched only against the subscriptions
//! that could want it (strfry's approach), not against every subscription of every connection.
//!
//! Each filter is filed under one key: its ids, else its authors, else one of its tag
//! conditions, else its kinds, else the catch-all list. A new event looks up its own id, author,
//! tags and kind, gathers the candidates and runs the full filter only on them.
//!
//! A subscription is registered before its stored query runs, so no event can fall between
//! the two. Until its EOSE, live matches are held back; at EOSE those the stored results
//! already held are dropped and the rest follow the EOSE. For a short while after, stored
//! events that come back live (a late notification from another front-end) are dropped too.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use seedstr_proto::{Event, Filter};
use tokio::sync::mpsc;

/// Connection-wide state a live subscription needs when an event arrives.
pub struct ConnectionHandle {
    /// The connection's number, unique in this relay.
    pub id: u64,
    /// The connection's queue of outgoing messages.
    pub outbound: mpsc::Sender<String>,
    /// Set when the connection's queue overflowed: it is closed rather than silently lossy.
    pub overflowed: AtomicBool,
    /// Wakes the connection to close it after an overflow.
    pub overflow: tokio::sync::Notify,
    /// The NIP-42 authenticated pubkey, once AUTH succeeded.
    pub authed: RwLock<Option<[u8; 32]>>,
    /// Room for the bytes of messages queued and not yet written to the socket.
    pub room: QueueRoom,
}

/// The bytes a connection may have queued and not yet written: answers to its own requests
/// wait for room (its reader loop slows down, nobody else), live matches that find none close
/// it as a slow reader. The writer gives the room back as it writes.
#[derive(Clone)]
pub struct QueueRoom {
    free: Arc<tokio::sync::Semaphore>,
    cap: u32,
}

impl QueueRoom {
    /// Room for `bytes` (at most `u32::MAX`).
    pub fn new(bytes: usize) -> QueueRoom {
        let cap = bytes.clamp(1, u32::MAX as usize) as u32;
        QueueRoom {
            free: Arc::new(tokio::sync::Semaphore::new(cap as usize)),
            cap,
        }
    }

    /// What a message of `len` bytes takes: a message larger than the whole room takes all of it.
    fn share(&self, len: usize) -> u32 {
        len.min(self.cap as usize) as u32
    }

    fn try_take(&self, len: usize) -> bool {
        match self.free.try_acquire_many(self.share(len)) {
            Ok(taken) => {
                taken.forget();
                true
            }
            Err(_) => false,
        }
    }

    async fn take(&self, len: usize) {
        if let Ok(taken) = self.free.acquire_many(self.share(len)).await {
            taken.forget();
        }
    }

    /// Gives back what a message of `len` bytes took, once it is written (or dropped).
    pub fn give_back(&self, len: usize) {
        self.free.add_permits(self.share(len) as usize);
    }
}

impl ConnectionHandle {
    /// The pubkey the connection authenticated as, if any.
    pub fn authed(&self) -> Option<[u8; 32]> {
        *self.authed.read().expect("auth lock")
    }
}

#[derive(Clone, Hash, PartialEq, Eq, PartialOrd, Ord, Debug)]
enum Key {
    Id([u8; 32]),
    Author([u8; 32]),
    Tag(u8, String),
    Kind(u16),
    All,
}

type SubKey = (u64, Arc<str>);

struct LiveSub {
    conn: Arc<ConnectionHandle>,
    filters: Vec<Filter>,
    keys: Vec<Key>,
    phase: Mutex<Phase>,
}

enum Phase {
    /// The stored query is running: matches wait here, as (id, message).
    Stored(Vec<([u8; 32], String)>),
    /// After EOSE: matches go out at once, except the stored ones named here until `until`.
    Live {
        echo: HashSet<[u8; 32]>,
        until: Instant,
    },
}

/// How long after EOSE a stored event arriving live is taken for an echo.
const ECHO_WINDOW: Duration = Duration::from_secs(30);
/// Stored events younger than this (by `created_at`) are remembered as possible echoes.
pub const ECHO_AGE_SECS: u64 = 300;
/// Matches held back during one stored query, at most; more means the connection cannot keep up.
const HELD_MAX: usize = 4_096;

#[derive(Default)]
struct Inner {
    subs: HashMap<SubKey, LiveSub>,
    index: HashMap<Key, HashSet<SubKey>>,
}

/// Live subscriptions, indexed by what their filters ask, so a new event reaches only
/// the subscriptions it can match.
#[derive(Default)]
pub struct LiveIndex {
    inner: RwLock<Inner>,
}

fn keys_of(f: &Filter) -> Vec<Key> {
    if let Some(ids) = &f.ids {
        return ids.iter().map(|i| Key::Id(*i)).collect();
    }
    if let Some(authors) = &f.authors {
        return authors.iter().map(|a| Key::Author(*a)).collect();
    }
    if let Some((letter, values)) = f.tags.iter().min_by_key(|(_, v)| v.len()) {
        return values
            .iter()
            .map(|v| Key::Tag(*letter, v.clone()))
            .collect();
    }
    if let Some(kinds) = &f.kinds {
        return kinds.iter().map(|k| Key::Kind(*k)).collect();
    }
    vec![Key::All]
}

impl LiveIndex {
    /// Adds or replaces subscription `sub` of a connection.
    pub fn insert(&self, conn: &Arc<ConnectionHandle>, sub: &str, filters: Vec<Filter>) {
        let sub_key: SubKey = (conn.id, Arc::from(sub));
        let mut keys: Vec<Key> = filters
            .iter()
            .filter(|f| !f.is_void())
            .flat_map(keys_of)
            .collect();
        keys.sort_unstable();
        keys.dedup();
        let mut inner = self.inner.write().expect("live lock");
        inner.remove(&sub_key);
        for k in &keys {
            inner
                .index
                .entry(k.clone())
                .or_default()
                .insert(sub_key.clone());
        }
        inner.subs.insert(
            sub_key,
            LiveSub {
                conn: conn.clone(),
                filters,
                keys,
                phase: Mutex::new(Phase::Stored(Vec::new())),
            },
        );
    }

    /// Ends the stored phase of `sub` (call after queuing its EOSE): held matches that the
    /// stored results did not contain are sent, and `recent` (stored ids young enough to come
    /// back as a late notification) are suppressed for a while.
    pub fn release(
        &self,
        conn: u64,
        sub: &str,
        stored: &HashSet<[u8; 32]>,
        recent: HashSet<[u8; 32]>,
    ) {
        let key: SubKey = (conn, Arc::from(sub));
        let inner = self.inner.read().expect("live lock");
        let Some(live) = inner.subs.get(&key) else {
            return;
        };
        let mut phase = live.phase.lock().expect("phase lock");
        let held = std::mem::replace(
            &mut *phase,
            Phase::Live {
                echo: recent,
                until: Instant::now() + ECHO_WINDOW,
            },
        );
        if let Phase::Stored(held) = held {
            for (id, msg) in held {
                if !stored.contains(&id) {
                    live.conn.queue(msg);
                }
            }
        }
    }

    /// Drops subscription `sub` of connection `conn`.
    pub fn remove(&self, conn: u64, sub: &str) {
        let key: SubKey = (conn, Arc::from(sub));
        self.inner.write().expect("live lock").remove(&key);
    }

    /// How many subscriptions are live.
    pub fn len(&self) -> usize {
        self.inner.read().expect("live lock").subs.len()
    }

    /// Whether no subscription is live.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Sends `event` to every live subscription it matches. `visible` decides, per connection,
    /// whether that connection may see the event at all (private-message protection).
    pub fn dispatch(&self, event: &Event, visible: impl Fn(&ConnectionHandle) -> bool) {
        // Serialized once, and only if some subscription wants the event.
        let json = std::cell::OnceCell::new();
        let inner = self.inner.read().expect("live lock");
        let mut candidates: HashSet<&SubKey> = HashSet::new();
        let mut gather = |k: &Key| {
            if let Some(set) = inner.index.get(k) {
                candidates.extend(set.iter());
            }
        };
        gather(&Key::Id(*event.id.as_bytes()));
        gather(&Key::Author(*event.pubkey.as_bytes()));
        gather(&Key::Kind(event.kind.as_u16()));
        gather(&Key::All);
        for t in event.tags.iter() {
            if let [name, value, ..] = t.as_slice() {
                if name.len() == 1 {
                    gather(&Key::Tag(name.as_bytes()[0], value.clone()));
                }
            }
        }
        for key in candidates {
            let Some(sub) = inner.subs.get(key) else {
                continue;
            };
            if !sub.filters.iter().any(|f| f.matches(event)) || !visible(&sub.conn) {
                continue;
            }
            let id = *event.id.as_bytes();
            let msg =
                seedstr_proto::message::relay::event(&key.1, json.get_or_init(|| event.as_json()));
            let mut phase = sub.phase.lock().expect("phase lock");
            match &mut *phase {
                Phase::Stored(held) if held.len() < HELD_MAX => held.push((id, msg)),
                Phase::Stored(_) => sub.conn.mark_overflowed(),
                Phase::Live { echo, until } => {
                    if !echo.is_empty() {
                        if Instant::now() > *until {
                            *echo = HashSet::new();
                        } else if echo.remove(&id) {
                            continue;
                        }
                    }
                    sub.conn.queue(msg);
                }
            }
        }
    }
}

impl ConnectionHandle {
    /// Queues a message without waiting; a full queue closes the connection rather than
    /// silently dropping what its subscriptions asked for.
    fn queue(&self, msg: String) {
        let len = msg.len();
        if !self.room.try_take(len) {
            return self.mark_overflowed();
        }
        if self.outbound.try_send(msg).is_err() {
            self.room.give_back(len);
            self.mark_overflowed();
        }
    }

    /// Queues an answer to the connection's own request, waiting for room (the reader loop of
    /// a slow connection slows down, nobody else).
    pub async fn send(&self, msg: String) {
        let len = msg.len();
        self.room.take(len).await;
        if self.outbound.send(msg).await.is_err() {
            self.room.give_back(len);
        }
    }

    fn mark_overflowed(&self) {
        if !self.overflowed.swap(true, Ordering::Relaxed) {
            self.overflow.notify_one();
        }
    }
}

impl Inner {
    fn remove(&mut self, key: &SubKey) {
        if let Some(old) = self.subs.remove(key) {
            for k in old.keys {
                if let Some(set) = self.index.get_mut(&k) {
                    set.remove(key);
                    if set.is_empty() {
                        self.index.remove(&k);
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use nostr::prelude::{EventBuilder, FinalizeEvent, Keys, Kind, Tag};
    use serde_json::json;

    fn conn(id: u64) -> (Arc<ConnectionHandle>, mpsc::Receiver<String>) {
        let (tx, rx) = mpsc::channel(16);
        (
            Arc::new(ConnectionHandle {
                id,
                outbound: tx,
                overflowed: AtomicBool::new(false),
                overflow: tokio::sync::Notify::new(),
                authed: RwLock::new(None),
                room: QueueRoom::new(usize::MAX),
            }),
            rx,
        )
    }

    #[test]
    fn only_matching_subscriptions_receive() {
        let keys = Keys::generate();
        let e = EventBuilder::new(Kind::from(1), "x")
            .tag(Tag::parse(["t", "mods"]).unwrap())
            .finalize(&keys)
            .unwrap();
        let idx = LiveIndex::default();
        let (c1, mut r1) = conn(1);
        let (c2, mut r2) = conn(2);
        let f = |v| vec![Filter::parse(&v).unwrap()];
        idx.insert(&c1, "a", f(json!({"#t": ["mods"], "kinds": [1]})));
        idx.insert(&c1, "b", f(json!({"kinds": [7]})));
        idx.insert(
            &c2,
            "c",
            f(json!({"authors": [keys.public_key().to_hex()]})),
        );
        idx.insert(&c2, "d", f(json!({})));
        for (c, sub) in [(1, "a"), (1, "b"), (2, "c"), (2, "d")] {
            idx.release(c, sub, &HashSet::new(), HashSet::new());
        }
        idx.dispatch(&e, |_| true);
        let mut got1 = vec![];
        while let Ok(m) = r1.try_recv() {
            got1.push(m);
        }
        let mut got2 = vec![];
        while let Ok(m) = r2.try_recv() {
            got2.push(m);
        }
        assert_eq!(got1.len(), 1);
        assert!(got1[0].starts_with("[\"EVENT\",\"a\""));
        assert_eq!(got2.len(), 2);
        idx.remove(2, "c");
        idx.remove(2, "d");
        idx.remove(1, "a");
        assert_eq!(idx.len(), 1);
        idx.dispatch(&e, |_| true);
        assert!(r1.try_recv().is_err());
    }

    #[test]
    fn held_until_eose_and_deduplicated() {
        let keys = Keys::generate();
        let make = |c: &str| EventBuilder::new(Kind::from(1), c).finalize(&keys).unwrap();
        let (stored, fresh, echo) = (make("stored"), make("fresh"), make("echo"));
        let idx = LiveIndex::default();
        let (c, mut r) = conn(1);
        idx.insert(
            &c,
            "s",
            vec![Filter::parse(&json!({"kinds": [1]})).unwrap()],
        );
        // Both arrive live while the stored query runs: nothing is sent yet.
        idx.dispatch(&stored, |_| true);
        idx.dispatch(&fresh, |_| true);
        assert!(r.try_recv().is_err());
        let stored_ids = HashSet::from([stored.id.to_bytes(), echo.id.to_bytes()]);
        idx.release(1, "s", &stored_ids, HashSet::from([echo.id.to_bytes()]));
        let m = r.try_recv().unwrap();
        assert!(m.contains(&fresh.id.to_hex()), "{m}");
        assert!(r.try_recv().is_err(), "the stored event came twice");
        // A late echo of a stored event is dropped once; a new event goes through.
        idx.dispatch(&echo, |_| true);
        assert!(r.try_recv().is_err());
        let later = make("later");
        idx.dispatch(&later, |_| true);
        assert!(r.try_recv().unwrap().contains(&later.id.to_hex()));
    }

    /// The index against a plain model: 200 subscriptions with random filters (every index
    /// key: ids, authors, tag values, kinds, catch-all), 1,000 random events; each event must
    /// reach exactly the subscriptions whose filters match it, tested one by one.
    #[test]
    fn dispatch_matches_a_plain_model() {
        let mut state = 0x5eed_u64;
        let mut next = |n: u64| {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (state >> 33) % n
        };
        let keys: Vec<Keys> = (1..=4u8)
            .map(|i| Keys::new(nostr::prelude::SecretKey::from_slice(&[i; 32]).unwrap()))
            .collect();
        let kinds = [1u16, 7, 30_023];
        let values = ["a", "b", "c"];
        let mut events = Vec::new();
        for n in 0..1000 {
            let e = EventBuilder::new(Kind::from(kinds[next(3) as usize]), format!("{n}"))
                .tag(Tag::parse(["t", values[next(3) as usize]]).unwrap())
                .finalize(&keys[next(4) as usize])
                .unwrap();
            events.push(e);
        }
        let idx = LiveIndex::default();
        let mut subs = Vec::new();
        for s in 0..200u64 {
            let mut filter = serde_json::Map::new();
            match next(5) {
                0 => {
                    let e = &events[next(events.len() as u64) as usize];
                    filter.insert("ids".into(), json!([e.id.to_hex()]));
                }
                1 => {
                    let k = keys[next(4) as usize].public_key().to_hex();
                    filter.insert("authors".into(), json!([k]));
                }
                2 => {
                    let v = values[next(3) as usize];
                    filter.insert("#t".into(), json!([v]));
                }
                3 => {
                    filter.insert("kinds".into(), json!([kinds[next(3) as usize]]));
                }
                _ => {}
            }
            if next(3) == 0 {
                filter.insert("kinds".into(), json!([kinds[next(3) as usize]]));
            }
            let f = vec![Filter::parse(&serde_json::Value::Object(filter)).unwrap()];
            let (c, rx) = conn(s);
            idx.insert(&c, "s", f.clone());
            idx.release(s, "s", &HashSet::new(), HashSet::new());
            subs.push((c, rx, f));
        }
        for e in &events {
            idx.dispatch(e, |_| true);
            for (c, rx, f) in &mut subs {
                let got = rx.try_recv().is_ok();
                assert!(rx.try_recv().is_err(), "a second copy to {}", c.id);
                assert_eq!(
                    got,
                    f.iter().any(|f| f.matches(e)),
                    "subscription {} and event {}",
                    c.id,
                    e.id
                );
            }
        }
    }
}
