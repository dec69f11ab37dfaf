//! The relay pool: talking to several relays at once, publishing to all and reporting each
//! answer, querying all and merging what they hold. A relay that fails never hides another
//! relay's answer. Below it: one connection, live subscriptions, negentropy sync, and the
//! relays as an [`source::EventSource`].

pub mod conn;
pub mod live;
pub mod source;
pub mod sync;

use std::collections::BTreeMap;
use std::time::Duration;

use futures_util::future::join_all;
use nostr::prelude::{Event, EventId};
use serde_json::Value;

use crate::relays::conn::RelayConn;

/// The relays an operation talks to, and how long it waits for each.
#[derive(Debug, Clone)]
pub struct RelaySet {
    /// The relays' URLs.
    pub urls: Vec<String>,
    /// How long to wait for each answer.
    pub timeout: Duration,
}

/// One relay's answer to one published event.
#[derive(Debug, Clone, serde::Serialize)]
pub struct PublishAnswer {
    /// The relay's URL.
    pub relay: String,
    /// The event's id (hex).
    pub event_id: String,
    /// Whether the relay accepted the event.
    pub accepted: bool,
    /// The relay's OK message, or why it could not be asked.
    pub message: String,
}

/// Sends every event to every relay (events in order, relays in parallel).
pub async fn publish_all(
    relays: &[String],
    events: &[Event],
    timeout: Duration,
) -> Vec<PublishAnswer> {
    let per_relay = relays.iter().map(|relay| async move {
        let refused = |e: &Event, why: String| PublishAnswer {
            relay: relay.clone(),
            event_id: e.id.to_hex(),
            accepted: false,
            message: why,
        };
        let mut conn = match tokio::time::timeout(timeout, RelayConn::connect(relay)).await {
            Ok(Ok(c)) => c,
            Ok(Err(e)) => return events.iter().map(|ev| refused(ev, e.to_string())).collect(),
            Err(_) => {
                let why = format!("no connection within {timeout:?}");
                return events.iter().map(|ev| refused(ev, why.clone())).collect();
            }
        };
        conn.timeout = timeout;
        let mut out = Vec::with_capacity(events.len());
        for ev in events {
            out.push(match conn.publish(ev).await {
                Ok((accepted, message)) => PublishAnswer {
                    relay: relay.clone(),
                    event_id: ev.id.to_hex(),
                    accepted,
                    message,
                },
                Err(e) => refused(ev, e.to_string()),
            });
        }
        out
    });
    join_all(per_relay).await.into_iter().flatten().collect()
}

/// What a set of relays returned for one filter.
#[derive(Debug, Default)]
pub struct Gathered {
    /// Distinct events, by id.
    pub events: Vec<Event>,
    /// Relays that answered (with EOSE).
    pub answered: Vec<String>,
    /// Relays that could not be asked, and why.
    pub failed: Vec<(String, String)>,
}

/// Asks every relay for `filter` and merges the stored events.
pub async fn query_all(relays: &[String], filter: &Value, timeout: Duration) -> Gathered {
    let per_relay = relays.iter().map(|relay| async move {
        let ask = async {
            let mut conn = RelayConn::connect(relay).await?;
            conn.timeout = timeout;
            let events = conn.query("seedstr", std::slice::from_ref(filter)).await?;
            let _ = conn.close_sub("seedstr").await;
            Ok::<_, crate::relays::conn::ConnError>(events)
        };
        let result = match tokio::time::timeout(timeout, ask).await {
            Ok(r) => r.map_err(|e| e.to_string()),
            Err(_) => Err(format!("no answer within {timeout:?}")),
        };
        (relay.clone(), result)
    });
    let mut by_id: BTreeMap<EventId, Event> = BTreeMap::new();
    let mut out = Gathered::default();
    for (relay, result) in join_all(per_relay).await {
        match result {
            Ok(events) => {
                out.answered.push(relay);
                for e in events {
                    by_id.entry(e.id).or_insert(e);
                }
            }
            Err(why) => out.failed.push((relay, why)),
        }
    }
    out.events = by_id.into_values().collect();
    out
}

/// `relay (why); relay (why)`, for errors about relays that could not be asked.
pub fn list_failures(failed: &[(String, String)]) -> String {
    failed
        .iter()
        .map(|(relay, why)| format!("{relay} ({why})"))
        .collect::<Vec<_>>()
        .join("; ")
}

/// `relay (message); relay (message)`, for errors about answers that refused.
pub fn describe_answers(answers: &[PublishAnswer]) -> String {
    answers
        .iter()
        .map(|a| format!("{} ({})", a.relay, a.message))
        .collect::<Vec<_>>()
        .join("; ")
}
