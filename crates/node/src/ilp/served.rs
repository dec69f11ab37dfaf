//! Nostr served over STREAM (docs/ilp.md, "Nostr over STREAM"): each connection that pays for
//! messages is a session of the node's relay, answered as a WebSocket client would be (the
//! same checks, store and live subscriptions). Its answers — `OK`, stored and live `EVENT`s,
//! `EOSE`, `CLOSED` — go back in packets the node sends to the address the client gave
//! (`ConnectionNewAddress`) on the same connection; they wait until it gives one. What the
//! relay did not serve (an event not stored, a refused subscription) is given back as credit.

use std::collections::{HashMap, HashSet};
use std::net::{IpAddr, Ipv4Addr};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use seedstr_ilp::address::Address;
use seedstr_ilp::btp_session::BtpPeer;
use seedstr_ilp::connector::{Connector, OwnPackets};
use seedstr_ilp::nostr_frames::encode_message;
use seedstr_ilp::packet::ErrorCode;
use seedstr_ilp::paid_messages::{MessageHandler, MessagePrices};
use seedstr_ilp::stream::sender::{SendError, StreamSender};
use seedstr_relay::session::{SessionInput, SessionOutput};
use seedstr_relay::Relay;
use tokio::sync::{mpsc, watch};

use super::NodeReceiver;

/// Sessions served at once; a new connection past it is refused until one closes.
pub const MAX_SESSIONS: usize = 1_000;
/// Answers sent together in one push, at most.
const PUSH_BATCH: usize = 64;
/// The address the relay sees for sessions carried over Interledger (they have no IP; rate
/// limits for loopback apply, the connector's credit limits bound them instead).
const CARRIED: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

/// One served connection.
struct Served {
    input: SessionInput,
    /// Answers the node adds to the relay's (a subscription whose paid time ran out).
    notices: mpsc::Sender<String>,
    client: watch::Sender<Option<Address>>,
    /// Paid subscriptions not yet at EOSE: a CLOSED for one of them is a refusal, refunded.
    pending: Arc<Mutex<HashSet<String>>>,
}

/// What pushes need from the node: its connector, to send; the node's receiver, for each
/// connection's secret and to refund.
pub(super) struct Pushing {
    pub connector: Weak<Connector<BtpPeer>>,
    pub node: Weak<NodeReceiver>,
    pub prices: MessagePrices,
}

/// What the served sessions did, for the economic view.
#[derive(Debug, Clone, Copy, Default, serde::Serialize)]
pub struct ServedCounts {
    /// Sessions open now.
    pub sessions: usize,
    /// Messages taken from paying connections.
    pub messages: u64,
    /// Answers pushed to clients.
    pub pushed: u64,
    /// Money given back as credit for what was not served.
    pub refunded: u64,
}

/// The node's handler of paid messages.
pub(super) struct Sessions {
    relay: Arc<Relay>,
    /// The node's relay as clients name it in NIP-42 AUTH events.
    relay_urls: Vec<String>,
    /// How long a paid subscription lasts.
    lasts: Duration,
    open: HashMap<String, Served>,
    pushing: Arc<Pushing>,
    counts: Arc<Mutex<ServedCounts>>,
}

impl Sessions {
    pub(super) fn new(
        relay: Arc<Relay>,
        relay_url: &str,
        lasts: Duration,
        pushing: Arc<Pushing>,
    ) -> Sessions {
        Sessions {
            relay,
            relay_urls: vec![relay_url.to_owned()],
            lasts,
            open: HashMap::new(),
            pushing,
            counts: Arc::default(),
        }
    }

    /// What the sessions did so far.
    pub(super) fn counts(&self) -> ServedCounts {
        ServedCounts {
            sessions: self.open.len(),
            ..*self.counts.lock().unwrap_or_else(|p| p.into_inner())
        }
    }

    /// The session of `connection`, opened (with its pump) when it has none.
    fn session(&mut self, connection: &str) -> Option<&Served> {
        if !self.open.contains_key(connection) {
            if self.open.len() >= MAX_SESSIONS {
                return None;
            }
            let session = self.relay.open_session(
                CARRIED,
                self.pushing.prices.per_event > 0,
                &self.relay_urls,
            );
            let (client, watching) = watch::channel(None);
            let pending = Arc::new(Mutex::new(HashSet::new()));
            let (notices, noticed) = mpsc::channel(16);
            tokio::spawn(pump(
                connection.to_owned(),
                session.output,
                noticed,
                watching,
                pending.clone(),
                self.pushing.clone(),
                self.counts.clone(),
            ));
            self.open.insert(
                connection.to_owned(),
                Served {
                    input: session.input,
                    notices,
                    client,
                    pending,
                },
            );
        }
        self.open.get(connection)
    }

    /// `connection` takes its answers at `address` from now on.
    pub(super) fn set_client(&mut self, connection: &str, address: Address) {
        if let Some(s) = self.session(connection) {
            s.client.send_replace(Some(address));
        }
    }

    /// Ends `connection`'s session and its subscriptions.
    pub(super) fn close(&mut self, connection: &str) {
        self.open.remove(connection);
    }
}

impl MessageHandler for Sessions {
    fn admit(&mut self, connection: &str, count: usize) -> Result<(), String> {
        match self.session(connection) {
            None => Err(format!(
                "error: this node serves {MAX_SESSIONS} connections at once; try later"
            )),
            Some(s) if s.input.room() < count => Err(
                "error: this connection's messages are still being answered; send fewer at once"
                    .into(),
            ),
            Some(_) => Ok(()),
        }
    }

    fn message(&mut self, connection: &str, json: &str) -> Vec<String> {
        let lasts = self.lasts;
        // Only a paid subscription has a time to run out (and each timer was paid for: free
        // REQs would otherwise leave a sleeping task each).
        let timed = self.pushing.prices.per_subscription > 0;
        let Some(s) = self.session(connection) else {
            return Vec::new();
        };
        if let Ok(serde_json::Value::Array(m)) = serde_json::from_str(json) {
            if let (Some("REQ"), Some(id)) = (
                m.first().and_then(|k| k.as_str()),
                m.get(1).and_then(|i| i.as_str()),
            ) {
                s.pending
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .insert(id.to_owned());
                if timed {
                    tokio::spawn(end_when_paid_time_ends(
                        s.input.clone(),
                        s.notices.clone(),
                        id.to_owned(),
                        lasts,
                    ));
                }
            }
        }
        // Room was checked when the packet was admitted, and only the session takes from it.
        let _ = s.input.try_send(json.to_owned());
        self.counts
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .messages += 1;
        Vec::new()
    }
}

/// Closes a paid subscription once its time has run out, telling the client why. (A REQ that
/// replaced it under the same id has its own time; the first to run out closes the id.)
async fn end_when_paid_time_ends(
    input: SessionInput,
    notices: mpsc::Sender<String>,
    id: String,
    lasts: Duration,
) {
    tokio::time::sleep(lasts).await;
    let close = serde_json::json!(["CLOSE", id]).to_string();
    if input.send(close).await.is_ok() {
        let why = format!(
            "restricted: the subscription's paid time ({}s) ran out; send the REQ again to renew",
            lasts.as_secs()
        );
        let _ = notices
            .send(serde_json::json!(["CLOSED", id, why]).to_string())
            .await;
    }
}

/// What an answer gives back: an event not stored (refused, or a duplicate) its price, a paid
/// subscription refused before its EOSE its price.
fn refund_for(answer: &str, prices: MessagePrices, pending: &Mutex<HashSet<String>>) -> u64 {
    // Most answers are events, which refund nothing: not parsed (the relay writes its answers
    // with no space after the bracket).
    if answer.starts_with("[\"EVENT\"") {
        return 0;
    }
    let Ok(serde_json::Value::Array(m)) = serde_json::from_str(answer) else {
        return 0;
    };
    let text = |i: usize| m.get(i).and_then(|v| v.as_str()).unwrap_or_default();
    let mut pending = pending.lock().unwrap_or_else(|p| p.into_inner());
    match text(0) {
        "OK" => {
            let stored = m.get(2).and_then(|v| v.as_bool()) == Some(true);
            if !stored || text(3).starts_with("duplicate:") {
                prices.per_event
            } else {
                0
            }
        }
        "CLOSED" if pending.remove(text(1)) => prices.per_subscription,
        "EOSE" => {
            pending.remove(text(1));
            0
        }
        _ => 0,
    }
}

/// Carries one session's answers to its client: refunds what was not served, waits for the
/// client's address, then sends the answers in packets of the node's own on the connection.
async fn pump(
    connection: String,
    mut output: SessionOutput,
    mut noticed: mpsc::Receiver<String>,
    mut client: watch::Receiver<Option<Address>>,
    pending: Arc<Mutex<HashSet<String>>>,
    pushing: Arc<Pushing>,
    counts: Arc<Mutex<ServedCounts>>,
) {
    let mut sender: Option<(Address, StreamSender, u64)> = None;
    loop {
        let first = tokio::select! {
            m = output.recv() => m,
            Some(m) = noticed.recv() => Some(m),
        };
        let Some(first) = first else { break };
        let mut batch = vec![first];
        while batch.len() < PUSH_BATCH {
            match output.try_recv() {
                Some(m) => batch.push(m),
                None => break,
            }
        }
        let refund: u64 = batch
            .iter()
            .map(|m| refund_for(m, pushing.prices, &pending))
            .sum();
        let Some(node) = pushing.node.upgrade() else {
            return;
        };
        if refund > 0 {
            node.app_lock().paid.refund(&connection, refund);
            counts.lock().unwrap_or_else(|p| p.into_inner()).refunded += refund;
        }
        let address = match client.wait_for(Option::is_some).await {
            Ok(a) => a.clone().expect("waited for one"),
            Err(_) => return,
        };
        if sender.as_ref().map(|(a, _, _)| a) != Some(&address) {
            let secret = node.receiver_lock().shared_secret(&connection);
            let mut s = StreamSender::new(address.clone(), &secret);
            let stream = s.open_stream();
            sender = Some((address, s, stream));
        }
        drop(node);
        let Some(connector) = pushing.connector.upgrade() else {
            return;
        };
        let link = OwnPackets {
            connector,
            clock: Arc::new(super::now_ms),
        };
        let (address, s, stream) = sender.as_mut().expect("made above");
        let bytes: Vec<u8> = batch.iter().flat_map(|m| encode_message(m)).collect();
        if let Err(e) = push(&link, s, *stream, &bytes).await {
            tracing::info!(target: "seedstr::ilp", "answers to {address} did not go: {e}; ending the session");
            if let Some(node) = pushing.node.upgrade() {
                node.close(&connection);
            }
            return;
        }
        counts.lock().unwrap_or_else(|p| p.into_inner()).pushed += batch.len() as u64;
    }
}

/// Tries at one push: a route may not be known yet, a hop may be busy.
const PUSH_TRIES: u32 = 6;

/// Sends `bytes` on `stream`, again from where it stopped after a refusal that may pass (no
/// route yet, a busy or unreachable hop, a timeout), waiting 1, 2, 4… seconds between tries.
async fn push(
    link: &OwnPackets<BtpPeer>,
    sender: &mut StreamSender,
    stream: u64,
    bytes: &[u8],
) -> Result<(), SendError> {
    let start = sender.sent_on(stream);
    let mut tries = 0;
    loop {
        let done = (sender.sent_on(stream) - start) as usize;
        match sender
            .send_data(link, stream, &bytes[done..], super::now_ms())
            .await
        {
            Ok(()) => return Ok(()),
            Err(SendError::Rejected(r))
                if tries + 1 < PUSH_TRIES
                    && (r.code.is_temporary() || r.code == ErrorCode::F02_UNREACHABLE) =>
            {
                tries += 1;
                tokio::time::sleep(Duration::from_secs(1 << (tries - 1))).await;
            }
            Err(e) => return Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refunds_follow_the_relays_answers() {
        let prices = MessagePrices {
            per_event: 10,
            per_subscription: 50,
        };
        let pending = Mutex::new(HashSet::from(["s".to_owned(), "t".to_owned()]));
        let r = |m: &str| refund_for(m, prices, &pending);
        assert_eq!(r(r#"["OK","ab",true,""]"#), 0);
        assert_eq!(r(r#"["OK","ab",false,"invalid: bad signature"]"#), 10);
        assert_eq!(
            r(r#"["OK","ab",true,"duplicate: already have this event"]"#),
            10
        );
        // A subscription refused before its EOSE; after its EOSE a CLOSED refunds nothing.
        assert_eq!(r(r#"["CLOSED","s","blocked: too many"]"#), 50);
        assert_eq!(r(r#"["CLOSED","s","again"]"#), 0);
        assert_eq!(r(r#"["EOSE","t"]"#), 0);
        assert_eq!(r(r#"["CLOSED","t","ended"]"#), 0);
        assert_eq!(r(r#"["EVENT","t",{}]"#), 0);
        assert_eq!(r("not json"), 0);
    }
}
