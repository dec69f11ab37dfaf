//! One client connection: reads messages, answers them, and carries live events out.

use std::collections::{HashMap, HashSet};
use std::net::IpAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};

use axum::extract::ws::{Message, WebSocket};
use futures_util::{SinkExt, StreamExt};
use negentropy::{Id, Negentropy, NegentropyStorageVector};
use seedstr_proto::message::{parse_client_message, relay as out, ClientMessage};
use seedstr_proto::{parse_event, Event, Filter};
use seedstr_store::{SaveOutcome, StoreError};
use tokio::sync::{mpsc, Semaphore};

use crate::client_address::limit_key;
use crate::live::{self, ConnectionHandle};
use crate::{auth, is_private_kind, policy, Relay, PRIVATE_KINDS};

/// Events of one connection being verified and saved at once; more wait (back-pressure).
/// Large enough that the store's write batches grow under load (see docs/bench.md).
const EVENTS_IN_FLIGHT: usize = 1024;
/// Largest negentropy message this relay sends.
const NEG_FRAME_LIMIT: u64 = 500_000;

/// An open negentropy session and the share of the relay's sync budget it holds.
struct NegSession {
    neg: Negentropy<'static, NegentropyStorageVector>,
    records: usize,
    /// Its records in the relay-wide budget, given back when the session is dropped.
    _held: tokio::sync::OwnedSemaphorePermit,
}

struct State {
    relay: Arc<Relay>,
    conn: Arc<ConnectionHandle>,
    ip: IpAddr,
    hosts: Vec<String>,
    challenge: Arc<str>,
    /// Whether the challenge was sent (shared with the tasks that answer events).
    challenged: Arc<AtomicBool>,
    subs: HashSet<String>,
    negentropy: HashMap<String, NegSession>,
    in_flight: Arc<Semaphore>,
    /// Its writes were paid for another way (a session over Interledger).
    paid: bool,
}

/// A new connection's handle and the receiving end of its outgoing queue.
pub(crate) fn open(relay: &Relay) -> (Arc<ConnectionHandle>, mpsc::Receiver<String>) {
    let (tx, rx) = mpsc::channel::<String>(relay.config.limits.outbound_queue);
    let conn = Arc::new(ConnectionHandle {
        id: relay.next_connection.fetch_add(1, Ordering::Relaxed),
        outbound: tx,
        overflowed: AtomicBool::new(false),
        overflow: tokio::sync::Notify::new(),
        authed: RwLock::new(None),
        room: live::QueueRoom::new(relay.config.limits.outbound_queue_bytes),
    });
    (conn, rx)
}

impl State {
    /// A connection's state; with `auth.challenge = on-connect` it greets the client with the
    /// NIP-42 challenge.
    async fn greet(
        relay: Arc<Relay>,
        conn: Arc<ConnectionHandle>,
        ip: IpAddr,
        hosts: Vec<String>,
        paid: bool,
    ) -> State {
        let challenge: Arc<str> = hex::encode(rand::random::<[u8; 16]>()).into();
        let on_connect = relay.config.auth.challenge == crate::config::ChallengeMode::OnConnect;
        if on_connect {
            conn.send(out::auth(&challenge)).await;
        }
        State {
            relay,
            conn,
            ip,
            hosts,
            challenge,
            challenged: Arc::new(AtomicBool::new(on_connect)),
            subs: HashSet::new(),
            negentropy: HashMap::new(),
            in_flight: Arc::new(Semaphore::new(EVENTS_IN_FLIGHT)),
            paid,
        }
    }

    /// Ends the connection's live subscriptions.
    fn close(self) {
        for sub in &self.subs {
            self.relay.live.remove(self.conn.id, sub);
        }
    }
}

/// Serves a connection whose messages come from `inbound` and whose answers leave through
/// `conn`'s queue (a session carried by something other than a WebSocket), until `inbound`
/// ends or the connection cannot keep up with its subscriptions.
pub(crate) async fn run_session(
    relay: Arc<Relay>,
    conn: Arc<ConnectionHandle>,
    mut inbound: mpsc::Receiver<String>,
    ip: IpAddr,
    paid: bool,
    hosts: Vec<String>,
) {
    let mut state = State::greet(relay, conn.clone(), ip, hosts, paid).await;
    loop {
        tokio::select! {
            msg = inbound.recv() => match msg {
                Some(text) => state.handle(&text).await,
                None => break,
            },
            _ = conn.overflow.notified() => {
                tracing::info!("session {} from {ip} could not keep up with its subscriptions; closing it", conn.id);
                break;
            }
        }
    }
    state.close();
}

pub(crate) async fn run(relay: Arc<Relay>, socket: WebSocket, ip: IpAddr, hosts: Vec<String>) {
    relay.connections.fetch_add(1, Ordering::Relaxed);
    let (mut sink, mut stream) = socket.split();
    let (conn, mut rx) = open(&relay);
    let limits = &relay.config.limits;
    let ping_every = std::time::Duration::from_secs(limits.ping_interval_secs.max(1));
    let idle_limit = std::time::Duration::from_secs(limits.idle_timeout_secs.max(1));
    let room = conn.room.clone();
    let writer = tokio::spawn(async move {
        // A ping every interval: a live client answers with a pong, which the reader counts as
        // activity; a dead one is closed once idle too long.
        let mut ping =
            tokio::time::interval_at(tokio::time::Instant::now() + ping_every, ping_every);
        'messages: loop {
            let msg = tokio::select! {
                msg = rx.recv() => match msg {
                    Some(m) => m,
                    None => break,
                },
                _ = ping.tick() => {
                    if sink.send(Message::Ping(Default::default())).await.is_err() {
                        break;
                    }
                    continue;
                }
            };
            room.give_back(msg.len());
            if sink.feed(Message::Text(msg.into())).await.is_err() {
                break;
            }
            // Whatever else is already queued goes out in the same write.
            while let Ok(more) = rx.try_recv() {
                room.give_back(more.len());
                if sink.feed(Message::Text(more.into())).await.is_err() {
                    break 'messages;
                }
            }
            if sink.flush().await.is_err() {
                break;
            }
        }
        let _ = sink.close().await;
    });

    let mut state = State::greet(relay.clone(), conn.clone(), ip, hosts, false).await;
    let mut last_heard = tokio::time::Instant::now();
    let mut idle_check = tokio::time::interval(ping_every.min(idle_limit));
    loop {
        tokio::select! {
            msg = stream.next() => match msg {
                Some(Ok(Message::Text(text))) => {
                    last_heard = tokio::time::Instant::now();
                    state.handle(text.as_str()).await
                }
                Some(Ok(Message::Binary(_))) => state.send(out::notice("error: binary messages are not understood; send JSON text")).await,
                Some(Ok(Message::Close(_))) | None => break,
                // Pongs and pings are activity too.
                Some(Ok(_)) => last_heard = tokio::time::Instant::now(),
                Some(Err(e)) => {
                    tracing::debug!("connection {} from {ip}: {e}", conn.id);
                    break;
                }
            },
            _ = idle_check.tick() => {
                if last_heard.elapsed() >= idle_limit {
                    tracing::debug!("connection {} from {ip} silent for {}s; closing it", conn.id, idle_limit.as_secs());
                    break;
                }
            }
            _ = conn.overflow.notified() => {
                tracing::info!("connection {} from {ip} could not keep up with its subscriptions; closing it", conn.id);
                break;
            }
        }
    }
    state.close();
    drop(conn);
    // The writer ends once the last sender (held by in-flight saves) is gone.
    let _ = writer.await;
    relay.connections.fetch_sub(1, Ordering::Relaxed);
}

/// Sends the challenge before an answer that asks the client to authenticate, once.
async fn challenge_before(
    conn: &ConnectionHandle,
    challenge: &str,
    challenged: &AtomicBool,
    answer: &str,
) {
    if answer.starts_with("auth-required:") && !challenged.swap(true, Ordering::Relaxed) {
        conn.send(out::auth(challenge)).await;
    }
}

impl State {
    async fn send(&self, msg: String) {
        self.conn.send(msg).await;
    }

    /// A CLOSED for subscription `id`, the challenge first when it asks to authenticate.
    async fn closed(&self, id: &str, why: &str) {
        challenge_before(&self.conn, &self.challenge, &self.challenged, why).await;
        self.send(out::closed(id, why)).await;
    }

    async fn handle(&mut self, text: &str) {
        let msg = match parse_client_message(text) {
            Ok(m) => m,
            Err((Some(sub), e)) => {
                return self.send(out::closed(&sub, &format!("invalid: {e}"))).await
            }
            Err((None, e)) => return self.send(out::notice(&format!("invalid: {e}"))).await,
        };
        match msg {
            ClientMessage::Event(json) => self.on_event(json).await,
            ClientMessage::Req { id, filters } => self.on_req(id, filters).await,
            ClientMessage::Close(id) => {
                self.subs.remove(&id);
                self.relay.live.remove(self.conn.id, &id);
            }
            ClientMessage::Count { id, filters } => self.on_count(id, filters).await,
            ClientMessage::Auth(json) => self.on_auth(json).await,
            ClientMessage::NegOpen {
                id,
                filter,
                message,
            } => self.on_neg_open(id, filter, &message).await,
            ClientMessage::NegMsg { id, message } => self.on_neg_msg(id, &message).await,
            ClientMessage::NegClose(id) => {
                self.negentropy.remove(&id);
            }
        }
    }

    async fn on_event(&mut self, json: &str) {
        let Ok(permit) = self.in_flight.clone().acquire_owned().await else {
            return;
        };
        let relay = self.relay.clone();
        let conn = self.conn.clone();
        let ip = self.ip;
        let paid = self.paid;
        let (challenge, challenged) = (self.challenge.clone(), self.challenged.clone());
        let json = json.to_string();
        // Verification and the durable save run off the reader loop, so one connection can
        // pipeline many events and the signature checks spread over every core.
        tokio::spawn(async move {
            let reply = match accept_event(&relay, conn.authed(), ip, paid, &json).await {
                Ok((id, msg)) => out::ok(
                    &id,
                    msg.is_empty() || msg.starts_with("duplicate: already"),
                    &msg,
                ),
                Err((Some(id), msg)) => {
                    challenge_before(&conn, &challenge, &challenged, &msg).await;
                    out::ok(&id, false, &msg)
                }
                Err((None, msg)) => out::notice(&msg),
            };
            conn.send(reply).await;
            drop(permit);
        });
    }

    async fn on_req(&mut self, id: String, filters: Vec<Filter>) {
        let relay = self.relay.clone();
        let limits = &relay.config.limits;
        if let Err(msg) = self.admit_read("REQ", &filters) {
            return self.closed(&id, &msg).await;
        }
        if !self.subs.contains(&id) && self.subs.len() >= limits.max_subscriptions {
            return self
                .send(out::closed(
                    &id,
                    &format!(
                        "blocked: at most {} open subscriptions per connection; CLOSE some first",
                        limits.max_subscriptions
                    ),
                ))
                .await;
        }
        // Registered before the stored query runs, so no event falls between the two; the live
        // index holds matches back until EOSE and drops those the stored results contain.
        self.relay.live.insert(&self.conn, &id, filters.clone());
        self.subs.insert(id.clone());
        let may_hold_private = filters.iter().any(may_match_private);
        let stored = match self.answer_search(filters).await {
            Ok((filters, order)) => relay
                .store
                .query(filters, relay.query_options())
                .await
                .map(|events| (events, order)),
            Err(e) => Err(e),
        };
        match stored {
            Ok((mut events, order)) => {
                if let Some(order) = order {
                    // Most relevant first, as the search said; the rest after, newest first.
                    events.sort_by_key(|e| order.get(&e.id).copied().unwrap_or(usize::MAX));
                }
                let authed = self.conn.authed();
                let stored: HashSet<[u8; 32]> = events.iter().map(|e| e.id).collect();
                let young = seedstr_proto::clock::unix_now().saturating_sub(live::ECHO_AGE_SECS);
                let recent = events
                    .iter()
                    .filter(|e| e.created_at >= young)
                    .map(|e| e.id)
                    .collect();
                for e in events {
                    if may_hold_private && relay.config.auth.protect_private_messages {
                        match Event::from_json(e.json.as_bytes()) {
                            Ok(ev) if relay.may_see(&ev, authed.as_ref()) => {}
                            _ => continue,
                        }
                    }
                    self.send(out::event(&id, &e.json)).await;
                }
                self.send(out::eose(&id)).await;
                self.relay.live.release(self.conn.id, &id, &stored, recent);
            }
            Err(e) => {
                self.subs.remove(&id);
                self.relay.live.remove(self.conn.id, &id);
                self.send(out::closed(&id, &query_error(&e))).await;
            }
        }
    }

    /// Filters with a NIP-50 `search` narrowed to the events the search found (the relay's
    /// own search when one is set, else the store's word index), and the rank of each found
    /// id (None when no filter searched).
    async fn answer_search(
        &self,
        filters: Vec<Filter>,
    ) -> Result<(Vec<Filter>, Option<HashMap<[u8; 32], usize>>), StoreError> {
        if filters.iter().all(|f| f.search.is_none()) {
            return Ok((filters, None));
        }
        let relay = &self.relay;
        let max = relay.config.limits.max_limit;
        let mut order = HashMap::new();
        let mut narrowed = Vec::with_capacity(filters.len());
        for f in filters {
            if f.search.is_none() {
                narrowed.push(f);
                continue;
            }
            let ids: Vec<[u8; 32]> = match relay.searcher() {
                Some(searcher) => searcher.search(&f, f.effective_limit(max)),
                None => relay
                    .store
                    .search(f.clone(), relay.query_options())
                    .await?
                    .into_iter()
                    .map(|e| e.id)
                    .collect(),
            };
            for id in &ids {
                let next = order.len();
                order.entry(*id).or_insert(next);
            }
            narrowed.push(crate::search::narrowed(&f, &ids));
        }
        Ok((narrowed, Some(order)))
    }

    async fn on_count(&mut self, id: String, filters: Vec<Filter>) {
        if let Err(msg) = self.admit_read("COUNT", &filters) {
            return self.closed(&id, &msg).await;
        }
        let counted = match self.answer_search(filters).await {
            Ok((filters, _)) => self.visible_count(filters).await,
            Err(e) => Err(e),
        };
        match counted {
            Ok(n) => self.send(out::count(&id, n)).await,
            Err(e) => self.send(out::closed(&id, &query_error(&e))).await,
        }
    }

    /// The number of matching events this connection may see. Private messages that are not
    /// its own are left out of the number too, not only out of REQ results: the count is
    /// every match, minus the private ones, plus the private ones it may read.
    async fn visible_count(&self, filters: Vec<Filter>) -> Result<u64, StoreError> {
        let relay = &self.relay;
        let opts = relay.query_options();
        let all = relay.store.count(filters.clone(), opts).await?;
        if !relay.config.auth.protect_private_messages || !filters.iter().any(may_match_private) {
            return Ok(all);
        }
        let private: Vec<Filter> = filters
            .iter()
            .map(|f| f.within_kinds(&PRIVATE_KINDS))
            .collect();
        let hidden = relay.store.count(private.clone(), opts).await?;
        let readable = match self.conn.authed() {
            None => 0,
            Some(me) => {
                let me_hex = hex::encode(me);
                let mine = private
                    .iter()
                    .flat_map(|f| [f.within_author(&me), f.within_tag(b'p', &me_hex)])
                    .collect();
                relay.store.count(mine, opts).await?
            }
        };
        // The three counts are separate reads; saves in between could make `hidden` exceed
        // `all`, so saturate rather than wrap.
        Ok(all.saturating_sub(hidden) + readable)
    }

    /// The ids and dates of the events matching `filter` that this connection may see: a
    /// negentropy set must not tell the ids of private messages that are not its own.
    async fn visible_ids(&self, filter: Filter) -> Result<Vec<(u64, [u8; 32])>, StoreError> {
        let relay = &self.relay;
        let opts = relay.query_options();
        let all = relay.store.ids(filter.clone(), opts).await?;
        if !relay.config.auth.protect_private_messages || !may_match_private(&filter) {
            return Ok(all);
        }
        let private = filter.within_kinds(&PRIVATE_KINDS);
        let hidden: HashSet<[u8; 32]> = relay
            .store
            .ids(private.clone(), opts)
            .await?
            .into_iter()
            .map(|(_, id)| id)
            .collect();
        let mut items: Vec<(u64, [u8; 32])> = all
            .into_iter()
            .filter(|(_, id)| !hidden.contains(id))
            .collect();
        if let Some(me) = self.conn.authed() {
            let me_hex = hex::encode(me);
            let mut seen = HashSet::new();
            for mine in [
                private.within_author(&me),
                private.within_tag(b'p', &me_hex),
            ] {
                for item in relay.store.ids(mine, opts).await? {
                    if seen.insert(item.1) {
                        items.push(item);
                    }
                }
            }
        }
        items.sort_unstable();
        Ok(items)
    }

    /// Checks shared by REQ and COUNT: the per-IP request rate, the number of filters, and
    /// private-message protection.
    fn admit_read(&self, what: &str, filters: &[Filter]) -> Result<(), String> {
        if !self.relay.ip_reqs.allow(&limit_key(self.ip)) {
            return Err("rate-limited: too many requests from your address; slow down".into());
        }
        if what == "NEG-OPEN" && filters.iter().any(|f| f.search.is_some()) {
            return Err("unsupported: NIP-50 search cannot scope a negentropy session".into());
        }
        let max = self.relay.config.limits.max_filters;
        if filters.len() > max {
            return Err(format!(
                "blocked: {} filters in one {what}, at most {max} allowed",
                filters.len()
            ));
        }
        self.check_private_read(filters)
    }

    /// A filter that names kind 4 or 1059 needs an authenticated connection.
    fn check_private_read(&self, filters: &[Filter]) -> Result<(), String> {
        let c = &self.relay.config.auth;
        let names_private = filters.iter().any(|f| {
            f.kinds
                .as_ref()
                .is_some_and(|k| k.iter().any(|k| is_private_kind(*k)))
        });
        if c.protect_private_messages && names_private && self.conn.authed().is_none() {
            return Err("auth-required: private messages (kinds 4 and 1059) are served only to their authenticated author or recipient".into());
        }
        Ok(())
    }

    async fn on_auth(&mut self, json: &str) {
        let event = match parse_event(json) {
            Ok(e) => e,
            Err(e) => {
                let msg = format!("invalid: {e}");
                return self
                    .send(match event_id_of(json) {
                        Some(id) => out::ok(&id, false, &msg),
                        None => out::notice(&msg),
                    })
                    .await;
            }
        };
        let id = event.id.to_hex();
        match auth::check(
            &event,
            &self.challenge,
            &self.hosts,
            seedstr_proto::clock::unix_now(),
        ) {
            Ok(()) => {
                *self.conn.authed.write().expect("auth lock") = Some(*event.pubkey.as_bytes());
                self.send(out::ok(&id, true, "")).await;
            }
            Err(refusal) => self.send(out::ok(&id, false, &refusal.to_string())).await,
        }
    }

    async fn on_neg_open(&mut self, id: String, filter: Filter, message: &str) {
        let relay = self.relay.clone();
        // A sync is a query like REQ: the same rate, the same private-message rule.
        if let Err(msg) = self.admit_read("NEG-OPEN", std::slice::from_ref(&filter)) {
            challenge_before(&self.conn, &self.challenge, &self.challenged, &msg).await;
            return self.send(out::neg_err(&id, &msg)).await;
        }
        // Each open session holds its whole set in memory: a connection keeps only a few.
        self.negentropy.remove(&id);
        let max_sessions = relay.config.limits.max_negentropy_sessions;
        if self.negentropy.len() >= max_sessions {
            return self
                .send(out::neg_err(
                    &id,
                    &format!("blocked: {max_sessions} negentropy sessions are open on this connection, the most allowed; send NEG-CLOSE for one"),
                ))
                .await;
        }
        // One past the most a connection's sessions cover together: enough to refuse a larger
        // set without reading all of it.
        let max = relay.config.limits.max_negentropy_records;
        let open_here: usize = self.negentropy.values().map(|s| s.records).sum();
        let room = max.saturating_sub(open_here);
        let mut filter = filter;
        filter.limit = Some(filter.limit.map_or(room + 1, |l| l.min(room + 1)));
        let items = match self.visible_ids(filter).await {
            Ok(items) => items,
            Err(e) => return self.send(out::neg_err(&id, &query_error(&e))).await,
        };
        if items.len() > room {
            return self
                .send(out::neg_err(&id, &format!("blocked: the filter covers more events than this connection may sync at once ({max} over all its sessions, {open_here} open); narrow it")))
                .await;
        }
        let total = relay.config.limits.max_negentropy_records_total;
        let held = u32::try_from(items.len())
            .ok()
            .and_then(|n| relay.negentropy_room.clone().try_acquire_many_owned(n).ok());
        let Some(held) = held else {
            return self
                .send(out::neg_err(&id, &format!("blocked: the relay is syncing as many events as it holds at once ({total}); try again later")))
                .await;
        };
        let records = items.len();
        let mut storage = NegentropyStorageVector::with_capacity(items.len());
        for (at, event_id) in items {
            if storage.insert(at, Id::from_byte_array(event_id)).is_err() {
                return self
                    .send(out::neg_err(&id, "error: could not build the sync set"))
                    .await;
            }
        }
        let session = storage
            .seal()
            .map_err(|e| e.to_string())
            .and_then(|_| Negentropy::owned(storage, NEG_FRAME_LIMIT).map_err(|e| e.to_string()));
        match session {
            Ok(neg) => {
                self.negentropy.insert(
                    id.clone(),
                    NegSession {
                        neg,
                        records,
                        _held: held,
                    },
                );
                self.on_neg_msg(id, message).await;
            }
            Err(e) => self.send(out::neg_err(&id, &format!("error: {e}"))).await,
        }
    }

    async fn on_neg_msg(&mut self, id: String, message: &str) {
        let Some(NegSession { neg, .. }) = self.negentropy.get_mut(&id) else {
            return self
                .send(out::neg_err(
                    &id,
                    "closed: no negentropy session with this id; send NEG-OPEN",
                ))
                .await;
        };
        let reply = hex::decode(message)
            .map_err(|e| format!("invalid: message is not hex: {e}"))
            .and_then(|bytes| {
                neg.reconcile(&bytes)
                    .map_err(|e| format!("invalid: negentropy message: {e}"))
            });
        match reply {
            Ok(bytes) => self.send(out::neg_msg(&id, &hex::encode(bytes))).await,
            Err(msg) => {
                self.negentropy.remove(&id);
                self.send(out::neg_err(&id, &msg)).await
            }
        }
    }
}

fn may_match_private(f: &Filter) -> bool {
    f.kinds
        .as_ref()
        .is_none_or(|k| k.iter().any(|k| is_private_kind(*k)))
}

fn query_error(e: &StoreError) -> String {
    match e {
        StoreError::OverBudget(d) => format!(
            "error: the query ran past this relay's time budget of {} ms; narrow the filter",
            d.as_millis()
        ),
        other => {
            tracing::error!("query failed: {other}");
            "error: the query failed inside the relay".into()
        }
    }
}

/// The `id` field of an event we could not parse, to address an OK to it.
fn event_id_of(json: &str) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct IdOnly {
        id: String,
    }
    let id = serde_json::from_str::<IdOnly>(json).ok()?.id;
    (id.len() == 64 && id.bytes().all(|b| b.is_ascii_hexdigit())).then_some(id)
}

/// Admission, verification, storage and fan-out of one event. Ok carries the OK message
/// (empty for a plain accept); Err carries the refusal, with the event id when known.
pub(crate) async fn accept_event(
    relay: &Relay,
    authed: Option<[u8; 32]>,
    ip: IpAddr,
    paid: bool,
    json: &str,
) -> Result<(String, String), (Option<String>, String)> {
    // The id is dug out of unverified JSON only to address a refusal; an accepted event's
    // JSON is parsed once, by parse_event.
    let refuse = |msg: String| (event_id_of(json), msg);
    policy::check_size(json, relay.config.limits.max_event_bytes)
        .map_err(|r| refuse(r.to_string()))?;
    if !relay.ip_events.allow(&limit_key(ip)) {
        return Err(refuse(
            "rate-limited: too many events from your address; slow down".into(),
        ));
    }
    let event = parse_event(json).map_err(|e| refuse(format!("invalid: {e}")))?;
    let id = event.id.to_hex();
    let refuse = |msg: String| (Some(id.clone()), msg);
    if relay.config.auth.required_for_writes && authed.is_none() {
        return Err(refuse(
            "auth-required: this relay accepts events only from authenticated clients (NIP-42)"
                .into(),
        ));
    }
    policy::admit(
        &relay.config.policy,
        &event,
        seedstr_proto::clock::unix_now(),
        authed.as_ref(),
    )
    .map_err(|r| refuse(r.to_string()))?;
    if !relay.pubkey_events.allow(event.pubkey.as_bytes()) {
        return Err(refuse(
            "rate-limited: too many events from this pubkey; slow down".into(),
        ));
    }
    if let Some(gate) = relay.gate() {
        let verdict = if paid {
            gate.check_paid(&event, ip, authed.as_ref())
        } else {
            gate.check(&event, ip, authed.as_ref())
        };
        match verdict {
            crate::gate::Verdict::Admit => {}
            crate::gate::Verdict::Refuse(why) => return Err(refuse(why)),
            crate::gate::Verdict::Discard => return Ok((id, String::new())),
        }
    }
    if seedstr_proto::event::kind_class(&event) == seedstr_proto::KindClass::Ephemeral {
        relay.broadcast(&event);
        if let Err(e) = relay.store.share_ephemeral(&event).await {
            tracing::error!("sharing an ephemeral event with other front-ends: {e}");
            return Err(refuse(
                "error: the relay could not pass this event to its other front-ends".into(),
            ));
        }
        return Ok((id, String::new()));
    }
    match relay.store.save(event.clone()).await {
        Ok(SaveOutcome::Saved) => {
            relay
                .events_saved
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            relay.broadcast(&event);
            Ok((id, String::new()))
        }
        Ok(SaveOutcome::Duplicate) => Ok((id, "duplicate: already have this event".into())),
        Ok(SaveOutcome::Superseded) => Err(refuse(
            "duplicate: a newer version of this replaceable event is already stored".into(),
        )),
        Ok(SaveOutcome::Deleted) => Err(refuse(
            "blocked: this event was deleted by its author (NIP-09)".into(),
        )),
        Err(e) => {
            tracing::error!("save failed: {e}");
            Err(refuse("error: the relay could not store this event".into()))
        }
    }
}
