//! Events whose id and signature were checked, as a type: a function that takes [`Verified`]
//! cannot be handed a relay's forgery, so "verify, then select" holds wherever events are
//! selected without each reader checking again.

use nostr::prelude::Event;

use crate::event::EventError;

/// An event whose id is the hash of its content and whose BIP-340 signature verifies. Made by
/// [`Verified::check`] (or [`crate::event::parse_verified`]), or for our own store's events by
/// [`Verified::read_from_own_store`]; reads as the [`Event`] it holds.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(transparent)]
pub struct Verified(Event);

impl Verified {
    /// Checks `event`'s id and signature.
    pub fn check(event: Event) -> Result<Verified, EventError> {
        if !event.verify_id() {
            return Err(EventError::BadId);
        }
        if !event.verify_signature() {
            return Err(EventError::BadSignature);
        }
        Ok(Verified(event))
    }

    /// [`Verified::check`], giving the event back when it does not verify (to report it).
    pub fn check_or_give_back(event: Event) -> Result<Verified, Box<Event>> {
        if event.verify_id() && event.verify_signature() {
            Ok(Verified(event))
        } else {
            Err(Box::new(event))
        }
    }

    /// An event read back from our own store, which admits only events whose id and signature
    /// it checked on the way in (the relay's ingest, on either backend); checking again would
    /// cost a signature verification per stored event read. Never for bytes from outside.
    pub fn read_from_own_store(event: Event) -> Verified {
        Verified(event)
    }

    /// The checked events of `events`; the others are dropped.
    pub fn keep_valid(events: impl IntoIterator<Item = Event>) -> Vec<Verified> {
        events
            .into_iter()
            .filter_map(|e| Verified::check(e).ok())
            .collect()
    }

    /// The event.
    pub fn event(&self) -> &Event {
        &self.0
    }

    /// The event, giving up the proof.
    pub fn into_event(self) -> Event {
        self.0
    }
}

impl std::ops::Deref for Verified {
    type Target = Event;

    fn deref(&self) -> &Event {
        &self.0
    }
}

impl PartialEq<Event> for Verified {
    fn eq(&self, other: &Event) -> bool {
        self.0 == *other
    }
}

impl AsRef<Event> for Verified {
    fn as_ref(&self) -> &Event {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use nostr::prelude::*;

    #[test]
    fn only_events_whose_id_and_signature_hold_are_verified() {
        let keys = Keys::generate();
        let real = EventBuilder::new(Kind::from(1), "real")
            .finalize(&keys)
            .unwrap();
        assert_eq!(Verified::check(real.clone()).unwrap().event(), &real);
        let mut json: serde_json::Value = serde_json::from_str(&real.as_json()).unwrap();
        json["content"] = "changed".into();
        let changed: Event = serde_json::from_value(json.clone()).unwrap();
        assert_eq!(Verified::check(changed), Err(EventError::BadId));
        let other = EventBuilder::new(Kind::from(1), "other")
            .finalize(&keys)
            .unwrap();
        json = serde_json::from_str(&real.as_json()).unwrap();
        json["sig"] = other.sig.to_string().into();
        let resigned: Event = serde_json::from_value(json).unwrap();
        assert_eq!(Verified::check(resigned), Err(EventError::BadSignature));
        assert_eq!(Verified::keep_valid([real.clone(), other.clone()]).len(), 2);
    }
}
