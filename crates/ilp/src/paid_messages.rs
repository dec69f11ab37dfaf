//! Nostr over STREAM with prices (the seed's "events carry micropayments"): a [`StreamApp`] that
//! reads the Nostr messages each packet brings (framed as [`crate::nostr_frames`] says, in order
//! on each stream), charges for them — a price per `EVENT` to store and per `REQ` to serve —
//! and refuses a packet whose money is short, answering why (a `NOTICE` starting
//! `restricted:`) and taking nothing. A paid packet's messages go to a [`MessageHandler`] (the
//! node's store and subscriptions), whose replies (`OK`, `EVENT`, `EOSE`…) ride back in the
//! Fulfill on the same stream.
//!
//! Money beyond what a packet's messages cost stays as the connection's credit and pays for
//! later messages; what the handler could not use (an event it did not store, a subscription
//! it refused) is given back as credit with [`PaidMessages::refund`].

use std::collections::HashMap;

use crate::nostr_frames::{encode_message, MessageReader};
use crate::stream::receiver::{Decision, Incoming, StreamApp};

/// Bytes of unfinished messages held over every connection and stream: a part of a message
/// costs nothing until it is whole, so what waits is bounded here.
pub const MAX_HELD_BYTES: usize = 64 << 20;

/// What messages cost, in the receiver's units.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MessagePrices {
    /// Per `EVENT` stored.
    pub per_event: u64,
    /// Per `REQ` served.
    pub per_subscription: u64,
}

/// What answers paid messages.
pub trait MessageHandler {
    /// Whether `count` more messages from `connection` can be taken now; why not, when not (a
    /// packet refused here is not charged).
    fn admit(&mut self, connection: &str, count: usize) -> Result<(), String> {
        let _ = (connection, count);
        Ok(())
    }

    /// Answers one message (a NIP-01 JSON array) from `connection`: the replies to send back
    /// in the Fulfill (a handler answering later, by other packets, returns none).
    fn message(&mut self, connection: &str, json: &str) -> Vec<String>;
}

/// The priced Nostr application.
pub struct PaidMessages<H> {
    prices: MessagePrices,
    handler: H,
    /// Per connection and stream: the framing so far and the next offset expected.
    readers: HashMap<(String, u64), (MessageReader, u64)>,
    /// The bytes those readers hold.
    held: usize,
    /// Per connection: money paid and not yet spent.
    credits: HashMap<String, u64>,
}

impl<H: MessageHandler> PaidMessages<H> {
    /// Charges `prices`, answering paid messages with `handler`.
    pub fn new(prices: MessagePrices, handler: H) -> PaidMessages<H> {
        PaidMessages {
            prices,
            handler,
            readers: HashMap::new(),
            held: 0,
            credits: HashMap::new(),
        }
    }

    /// The handler.
    pub fn handler(&self) -> &H {
        &self.handler
    }

    /// The handler, to change.
    pub fn handler_mut(&mut self) -> &mut H {
        &mut self.handler
    }

    /// What messages cost.
    pub fn prices(&self) -> MessagePrices {
        self.prices
    }

    /// `connection`'s money paid and not yet spent.
    pub fn credit(&self, connection: &str) -> u64 {
        self.credits.get(connection).copied().unwrap_or(0)
    }

    /// Gives `amount` back to `connection` as credit (a message paid for and not served).
    pub fn refund(&mut self, connection: &str, amount: u64) {
        if amount > 0 {
            let c = self.credits.entry(connection.to_owned()).or_default();
            *c = c.saturating_add(amount);
        }
    }

    /// Forgets `connection`: its unfinished messages and its credit.
    pub fn forget(&mut self, connection: &str) {
        self.credits.remove(connection);
        let held = &mut self.held;
        self.readers.retain(|(c, _), (reader, _)| {
            if c == connection {
                *held -= reader.pending();
                false
            } else {
                true
            }
        });
    }
}

fn notice(text: &str) -> Vec<u8> {
    encode_message(&serde_json::json!(["NOTICE", text]).to_string())
}

impl<H: MessageHandler> StreamApp for PaidMessages<H> {
    fn decide(&mut self, connection: &str, incoming: &Incoming<'_>) -> Decision {
        let refuse = |stream: u64, why: String| Decision {
            reply_data: vec![(stream, notice(&why))],
            refuse: Some(why),
        };
        // Read this packet's messages on trial copies: nothing changes unless it is taken.
        let mut trial: HashMap<u64, (MessageReader, u64)> = HashMap::new();
        let mut messages: Vec<(u64, String)> = Vec::new();
        for (stream, offset, bytes) in &incoming.data {
            let key = (connection.to_owned(), *stream);
            let entry = trial
                .entry(*stream)
                .or_insert_with(|| self.readers.get(&key).cloned().unwrap_or_default());
            if *offset != entry.1 {
                return refuse(
                    *stream,
                    format!(
                        "invalid: data at offset {offset}, expected {}: send in order",
                        entry.1
                    ),
                );
            }
            entry.1 += bytes.len() as u64;
            match entry.0.push(bytes) {
                Ok(found) => messages.extend(found.into_iter().map(|m| (*stream, m))),
                Err(e) => return refuse(*stream, format!("invalid: {e}")),
            }
        }
        let kind = |m: &str| {
            serde_json::from_str::<serde_json::Value>(m)
                .ok()
                .and_then(|v| v.get(0).and_then(|k| k.as_str()).map(str::to_owned))
        };
        let events = messages
            .iter()
            .filter(|(_, m)| kind(m).as_deref() == Some("EVENT"))
            .count() as u64;
        let subscriptions = messages
            .iter()
            .filter(|(_, m)| kind(m).as_deref() == Some("REQ"))
            .count() as u64;
        let due = events
            .saturating_mul(self.prices.per_event)
            .saturating_add(subscriptions.saturating_mul(self.prices.per_subscription));
        let credit = self.credit(connection);
        let available = credit.saturating_add(incoming.amount);
        if available < due {
            let stream = messages.first().map_or(1, |(s, _)| *s);
            return refuse(
                stream,
                format!(
                    "restricted: {events} event(s) at {} and {subscriptions} subscription(s) at {} cost {due}; {} came, {credit} in credit",
                    self.prices.per_event, self.prices.per_subscription, incoming.amount
                ),
            );
        }
        if !messages.is_empty() {
            if let Err(why) = self.handler.admit(connection, messages.len()) {
                let stream = messages.first().map_or(1, |(s, _)| *s);
                return refuse(stream, why);
            }
        }
        let before: usize = trial
            .keys()
            .filter_map(|s| self.readers.get(&(connection.to_owned(), *s)))
            .map(|(r, _)| r.pending())
            .sum();
        let after: usize = trial.values().map(|(r, _)| r.pending()).sum();
        if (self.held + after).saturating_sub(before) > MAX_HELD_BYTES {
            let stream = incoming.data.first().map_or(1, |(s, _, _)| *s);
            return refuse(
                stream,
                "error: too many unfinished messages held; try later".into(),
            );
        }
        // Paid: the framing moves on, the rest is credit, the messages are answered.
        self.held = self.held + after - before;
        if available - due > 0 || credit > 0 {
            self.credits.insert(connection.to_owned(), available - due);
        }
        for (stream, state) in trial {
            self.readers.insert((connection.to_owned(), stream), state);
        }
        let mut reply_data = Vec::new();
        for (stream, m) in messages {
            for reply in self.handler.message(connection, &m) {
                reply_data.push((stream, encode_message(&reply)));
            }
        }
        Decision {
            refuse: None,
            reply_data,
        }
    }
}
