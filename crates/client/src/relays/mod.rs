//! The relay pool: talking to several relays at once, publishing to all and reporting each
//! answer, querying all and merging what they hold. A relay that fails never hides another
//! relay's answer. Below it: one connection, live subscriptions, negentropy sync, and the
//! relays as an [`source::EventSource`].

pub mod answer;
pub mod cache;
pub mod conn;
pub mod live;
pub mod source;
pub mod sync;

use std::collections::BTreeMap;
use std::time::Duration;

use futures_util::future::join_all;
use nostr::prelude::{Event, EventId};
use seedstr_proto::Verified;
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

/// Sends one event to every relay of `relays`; Err naming each relay's answer when none took it.
pub async fn publish_to_any(
    relays: &RelaySet,
    event: &Event,
) -> Result<Vec<PublishAnswer>, String> {
    let answers = publish_all(&relays.urls, std::slice::from_ref(event), relays.timeout).await;
    if answers.iter().any(|a| a.accepted) {
        Ok(answers)
    } else {
        Err(describe_answers(&answers))
    }
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
    /// Distinct events, by id, each with a valid id and signature.
    pub events: Vec<Verified>,
    /// Copies whose id or signature did not verify: never among `events`, kept apart so a
    /// reader can name what it refused.
    pub forged: Vec<Event>,
    /// Relays that answered (with EOSE).
    pub answered: Vec<String>,
    /// The ids of valid events each answering relay returned, to tell a relay that lags
    /// behind (or hides events) from the others.
    pub held_by: BTreeMap<String, std::collections::BTreeSet<EventId>>,
    /// Relays that could not be asked, and why.
    pub failed: Vec<(String, String)>,
}

/// Asks every relay for `filter` and merges the stored events. Each copy is verified before it
/// can stand for its id, so a relay's forged copy never displaces a valid one from another
/// relay: verify, then select.
pub async fn query_all(relays: &[String], filter: &Value, timeout: Duration) -> Gathered {
    gather(relays, filter, timeout, None).await
}

/// [`query_all`], authenticated (NIP-42) as `keys` on each relay first: what relays serve only
/// to their recipient (private messages, gift wraps).
pub async fn query_all_as(
    keys: &nostr::prelude::Keys,
    relays: &[String],
    filter: &Value,
    timeout: Duration,
) -> Gathered {
    gather(relays, filter, timeout, Some(keys)).await
}

async fn gather(
    relays: &[String],
    filter: &Value,
    timeout: Duration,
    auth: Option<&nostr::prelude::Keys>,
) -> Gathered {
    let per_relay = relays.iter().map(|relay| async move {
        let ask = async {
            let mut conn = RelayConn::connect(relay).await?;
            conn.timeout = timeout;
            if let Some(keys) = auth {
                conn.authenticate(keys, relay).await?;
            }
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
    let mut by_id: BTreeMap<EventId, Verified> = BTreeMap::new();
    let mut out = Gathered::default();
    for (relay, result) in join_all(per_relay).await {
        match result {
            Ok(events) => {
                let mut held = std::collections::BTreeSet::new();
                for e in events {
                    // The same id and signature as a copy already verified: the same event.
                    if by_id.get(&e.id).is_some_and(|kept| kept.sig == e.sig) {
                        held.insert(e.id);
                        continue;
                    }
                    match Verified::check_or_give_back(e) {
                        Ok(valid) => {
                            held.insert(valid.id);
                            by_id.insert(valid.id, valid);
                        }
                        Err(forged) => out.forged.push(*forged),
                    }
                }
                out.held_by.insert(relay.clone(), held);
                out.answered.push(relay);
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

#[cfg(test)]
mod tests {
    use futures_util::{SinkExt, StreamExt};
    use nostr::prelude::*;
    use serde_json::{json, Value};
    use tokio_tungstenite::tungstenite::Message;

    use super::*;

    /// A relay on loopback, written here, that answers every REQ with `events` sent as they are
    /// (forgeries included), then EOSE.
    async fn canned_relay(events: Vec<String>) -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            while let Ok((tcp, _)) = listener.accept().await {
                let events = events.clone();
                tokio::spawn(async move {
                    let Ok(mut ws) = tokio_tungstenite::accept_async(tcp).await else {
                        return;
                    };
                    while let Some(Ok(Message::Text(text))) = ws.next().await {
                        let msg: Value = serde_json::from_str(text.as_str()).unwrap_or_default();
                        if msg[0] != "REQ" {
                            continue;
                        }
                        let sub = msg[1].to_string();
                        for e in &events {
                            let frame = format!("[\"EVENT\",{sub},{e}]");
                            if ws.send(Message::text(frame)).await.is_err() {
                                return;
                            }
                        }
                        let _ = ws.send(Message::text(format!("[\"EOSE\",{sub}]"))).await;
                    }
                });
            }
        });
        format!("ws://{addr}")
    }

    #[tokio::test]
    async fn a_forged_copy_of_an_id_does_not_displace_the_valid_one() {
        let keys = Keys::generate();
        let real = EventBuilder::new(Kind::TextNote, "the real note")
            .finalize(&keys)
            .unwrap();
        // The same id, author and content, under a signature that does not verify.
        let mut forged: Value = serde_json::from_str(&real.as_json()).unwrap();
        forged["sig"] = json!("11".repeat(64));
        // The hostile relay is asked first, so its copy arrives first.
        let hostile = canned_relay(vec![forged.to_string()]).await;
        let honest = canned_relay(vec![real.as_json()]).await;
        let got = query_all(
            &[hostile.clone(), honest.clone()],
            &json!({"kinds": [1]}),
            Duration::from_secs(10),
        )
        .await;
        assert_eq!(got.answered.len(), 2, "{:?}", got.failed);
        assert_eq!(got.events.len(), 1);
        assert_eq!(got.events[0].sig, real.sig);
        // Read in the other order, the forged copy still does not count as holding the event.
        let again = query_all(
            &[honest.clone(), hostile.clone()],
            &json!({"kinds": [1]}),
            Duration::from_secs(10),
        )
        .await;
        assert!(again.held_by[&hostile].is_empty(), "{:?}", again.held_by);
        assert_eq!(again.held_by[&honest].len(), 1);
        assert_eq!(got.forged.len(), 1);
    }

    #[tokio::test]
    async fn a_forged_event_alone_is_dropped_and_counted() {
        let keys = Keys::generate();
        let real = EventBuilder::new(Kind::TextNote, "signed")
            .finalize(&keys)
            .unwrap();
        let mut forged: Value = serde_json::from_str(&real.as_json()).unwrap();
        forged["content"] = json!("changed after signing");
        let hostile = canned_relay(vec![forged.to_string()]).await;
        let got = query_all(&[hostile], &json!({"kinds": [1]}), Duration::from_secs(10)).await;
        assert!(got.events.is_empty());
        assert_eq!(got.forged.len(), 1);
    }

    #[tokio::test]
    async fn a_relay_that_never_stops_sending_is_cut_off_at_the_cap() {
        let keys = Keys::generate();
        let real = EventBuilder::new(Kind::TextNote, "one of many")
            .finalize(&keys)
            .unwrap();
        let flood = canned_relay(vec![real.as_json(); conn::MAX_EVENTS_PER_QUERY + 1]).await;
        let honest = canned_relay(vec![real.as_json()]).await;
        let got = query_all(
            &[flood.clone(), honest],
            &json!({"kinds": [1]}),
            Duration::from_secs(60),
        )
        .await;
        assert_eq!(got.events.len(), 1);
        assert_eq!(got.failed.len(), 1, "{:?}", got.failed);
        assert_eq!(got.failed[0].0, flood);
        assert!(
            got.failed[0].1.contains("more than 50000 events"),
            "{}",
            got.failed[0].1
        );
    }

    #[tokio::test]
    async fn a_live_subscription_passes_on_only_what_verifies() {
        let keys = Keys::generate();
        let real = EventBuilder::new(Kind::TextNote, "real")
            .finalize(&keys)
            .unwrap();
        let mut forged: Value = serde_json::from_str(&real.as_json()).unwrap();
        forged["content"] = json!("changed after signing");
        let relay = canned_relay(vec![forged.to_string(), real.as_json()]).await;
        let mut notes = live::subscribe(&[relay], vec![json!({"kinds": [1]})]);
        let mut events = Vec::new();
        loop {
            match notes.recv().await.unwrap() {
                live::LiveNote::Event { event, .. } => events.push(event.into_event()),
                live::LiveNote::CaughtUp { .. } => break,
                live::LiveNote::Lost { why, .. } => panic!("{why}"),
            }
        }
        assert_eq!(events, vec![real]);
    }
}
