//! A subscription that stays open: stored events, then new ones as relays receive them, from
//! every relay at once. A relay that drops the connection is dialled again with growing pauses,
//! asking only for what came since the newest event it sent.

use std::time::Duration;

use seedstr_proto::Verified;
use serde_json::{json, Value};
use tokio::sync::mpsc;

use crate::relays::answer::RelayAnswer;
use crate::relays::conn::{ConnError, RelayConn};

/// What the subscription reports, relay by relay.
#[derive(Debug)]
pub enum LiveNote {
    /// An event arrived.
    Event {
        /// The relay's URL.
        relay: String,
        /// The event, verified.
        event: Box<Verified>,
    },
    /// The relay sent all it had stored (EOSE); what follows is new.
    CaughtUp {
        /// The relay's URL.
        relay: String,
    },
    /// The connection failed or closed; the relay is dialled again after `retry_in`.
    Lost {
        /// The relay's URL.
        relay: String,
        /// Why the connection was lost.
        why: String,
        /// When the next attempt is made.
        retry_in: Duration,
    },
}

const FIRST_PAUSE: Duration = Duration::from_secs(1);
const LONGEST_PAUSE: Duration = Duration::from_secs(60);
const SUB: &str = "seedstr-live";

/// Subscribes to `filters` on every relay until the receiver is dropped.
pub fn subscribe(relays: &[String], filters: Vec<Value>) -> mpsc::UnboundedReceiver<LiveNote> {
    let (tx, rx) = mpsc::unbounded_channel();
    for relay in relays {
        tokio::spawn(follow_relay(relay.clone(), filters.clone(), tx.clone()));
    }
    rx
}

async fn follow_relay(relay: String, filters: Vec<Value>, tx: mpsc::UnboundedSender<LiveNote>) {
    let mut since: Option<u64> = None;
    let mut pause = FIRST_PAUSE;
    loop {
        let why = match session(&relay, &filters, &mut since, &tx).await {
            Ok(Session::ReceiverGone) => return,
            Ok(Session::CaughtUp(e)) => {
                // It worked for a while: start the pauses again from the shortest.
                pause = FIRST_PAUSE;
                e
            }
            Err(e) => e.to_string(),
        };
        let note = LiveNote::Lost {
            relay: relay.clone(),
            why,
            retry_in: pause,
        };
        if tx.send(note).is_err() {
            return;
        }
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(LONGEST_PAUSE);
    }
}

enum Session {
    ReceiverGone,
    /// Ended after EOSE, for this reason.
    CaughtUp(String),
}

/// One connection: REQ, then events until it fails. `since` moves with the newest event so a
/// reconnect does not replay everything (events of that same second come again, harmlessly).
async fn session(
    relay: &str,
    filters: &[Value],
    since: &mut Option<u64>,
    tx: &mpsc::UnboundedSender<LiveNote>,
) -> Result<Session, ConnError> {
    let mut conn = RelayConn::connect(relay).await?;
    let mut req = vec![json!("REQ"), json!(SUB)];
    for f in filters {
        let mut f = f.clone();
        if let (Some(at), Some(obj)) = (*since, f.as_object_mut()) {
            obj.insert("since".into(), json!(at));
        }
        req.push(f);
    }
    conn.send(&Value::Array(req)).await?;
    let mut caught_up = false;
    loop {
        let m = match conn.recv().await {
            // Quiet is normal on a live subscription; a receiver gone is noticed here too, so
            // a quiet relay's connection does not outlive it.
            Err(ConnError::Timeout(_)) if tx.is_closed() => return Ok(Session::ReceiverGone),
            Err(ConnError::Timeout(_)) => continue,
            Err(e) if caught_up => return Ok(Session::CaughtUp(e.to_string())),
            Err(e) => return Err(e),
            Ok(m) => m,
        };
        let answer = match RelayAnswer::from_parts(m) {
            Ok(a) if a.subscription() == Some(SUB) => a,
            Ok(_) => continue,
            Err(e) => {
                tracing::warn!("{relay} sent a message that does not read ({e}); skipped");
                continue;
            }
        };
        let note = match answer {
            RelayAnswer::Event { event, .. } => {
                let event = match Verified::check_or_give_back(*event) {
                    Ok(valid) => Box::new(valid),
                    Err(forged) => {
                        tracing::warn!(
                            "{relay} sent event {} that does not verify; skipped",
                            forged.id
                        );
                        continue;
                    }
                };
                // A date ahead of the clock would make the next reconnect skip what comes
                // before it.
                let at = event
                    .created_at
                    .as_secs()
                    .min(seedstr_proto::clock::unix_now());
                *since = Some(since.map_or(at, |s| s.max(at)));
                LiveNote::Event {
                    relay: relay.to_owned(),
                    event,
                }
            }
            RelayAnswer::Eose { .. } => {
                caught_up = true;
                LiveNote::CaughtUp {
                    relay: relay.to_owned(),
                }
            }
            RelayAnswer::Closed { reason, .. } => {
                return Err(ConnError::SubscriptionClosed(SUB.into(), reason));
            }
            _ => continue,
        };
        if tx.send(note).is_err() {
            return Ok(Session::ReceiverGone);
        }
    }
}
