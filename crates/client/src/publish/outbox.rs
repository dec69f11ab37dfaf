//! One's own events going out: signed with the identity's key, sent to its relays, and kept
//! among its own events (its DHT feed is built from them) once a relay has taken them.

use std::path::Path;

use nostr::prelude::{Event, EventBuilder, FinalizeEvent as _, Keys, Timestamp};

use crate::publish::own_events::{OwnEvents, OwnEventsError};
use crate::relays::{describe_answers, publish_all, PublishAnswer, RelaySet};

/// Why an event did not go out.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    /// No relay accepted the event.
    #[error("no relay accepted event {event_id}: {}", describe_answers(.answers))]
    NotAccepted {
        /// The event's id (hex).
        event_id: String,
        /// What each relay answered.
        answers: Vec<PublishAnswer>,
    },
    /// Signing failed.
    #[error("signing the event: {0}")]
    Sign(String),
    /// The event could not be kept.
    #[error(transparent)]
    Keep(#[from] OwnEventsError),
}

/// An event sent, with every relay's answer.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Sent {
    /// The event's id (hex).
    pub event_id: String,
    /// What each relay answered.
    pub answers: Vec<PublishAnswer>,
    /// The signed event as sent.
    #[serde(skip)]
    pub event: Event,
}

/// Sends signed `events` to the relays and keeps them among the identity's own events.
/// Refused unless some relay accepted the first (the one the operation is about); the others
/// ride along (a NIP-56 report beside its incident, say).
pub async fn send_and_keep(
    home: &Path,
    events: &[Event],
    relays: &RelaySet,
) -> Result<Vec<PublishAnswer>, SendError> {
    let first = events[0].id.to_hex();
    let answers = publish_all(&relays.urls, events, relays.timeout).await;
    if !answers.iter().any(|a| a.accepted && a.event_id == first) {
        return Err(SendError::NotAccepted {
            answers: answers
                .into_iter()
                .filter(|a| a.event_id == first)
                .collect(),
            event_id: first,
        });
    }
    OwnEvents::new(home).add(events)?;
    Ok(answers)
}

/// Signs `builder` with `keys`, then [`send_and_keep`]. An event that replaces one this
/// identity signed before (a second review of a release, a changed vote) is dated after it
/// even within the same second: on a tie NIP-01 keeps the lower id, which could be the old one.
pub async fn sign_and_send(
    home: &Path,
    keys: &Keys,
    builder: EventBuilder,
    relays: &RelaySet,
) -> Result<Sent, SendError> {
    let sign = |b: EventBuilder| b.finalize(keys).map_err(|e| SendError::Sign(e.to_string()));
    let event = sign(builder.clone())?;
    let replaced = seedstr_proto::event::address(&event)
        .and_then(|at| OwnEvents::new(home).newest_at(&keys.public_key(), &at));
    let event = match replaced {
        Some(old) if old.created_at >= event.created_at => {
            sign(builder.custom_created_at(Timestamp::from(old.created_at.as_secs() + 1)))?
        }
        _ => event,
    };
    let answers = send_and_keep(home, std::slice::from_ref(&event), relays).await?;
    Ok(Sent {
        event_id: event.id.to_hex(),
        answers,
        event,
    })
}
