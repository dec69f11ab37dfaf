//! What a relay sends a client, read from its JSON: the one parser of relay → client messages,
//! shared by queries, live subscriptions and publishing. Events come out parsed but not yet
//! verified; their readers verify them before anything is chosen from them.

use nostr::prelude::Event;
use serde_json::Value;

/// A relay → client message.
#[derive(Debug)]
pub enum RelayAnswer {
    /// `["EVENT", sub, event]`: a stored or live event (unverified).
    Event {
        /// The subscription it answers.
        sub: String,
        /// The event, as the relay sent it.
        event: Box<Event>,
    },
    /// `["EOSE", sub]`: the stored events are all sent.
    Eose {
        /// The subscription.
        sub: String,
    },
    /// `["CLOSED", sub, reason]`: the relay ended the subscription.
    Closed {
        /// The subscription.
        sub: String,
        /// The relay's reason.
        reason: String,
    },
    /// `["OK", id, accepted, message]`: the answer to a published event.
    Ok {
        /// The event id (hex), as the relay wrote it.
        id: String,
        /// Whether the relay stored it.
        accepted: bool,
        /// The relay's message.
        message: String,
    },
    /// `["AUTH", challenge]` (NIP-42).
    Auth {
        /// The challenge to sign.
        challenge: String,
    },
    /// `["NOTICE", text]`.
    Notice(String),
    /// Any other message (COUNT, NEG-MSG, …), left as JSON for the caller that asked for it.
    Other(Vec<Value>),
}

/// Why a relay's message was not read.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum AnswerError {
    /// Not a JSON array whose first element is a string.
    #[error("not a Nostr message (a JSON array starting with its type): {0}")]
    NotAMessage(String),
    /// A known message with missing or mistyped elements.
    #[error("{0} message with missing or mistyped elements")]
    Malformed(&'static str),
    /// An EVENT whose event does not parse.
    #[error("EVENT with an event that does not parse: {0}")]
    BadEvent(String),
}

impl RelayAnswer {
    /// Reads one relay message from its text.
    pub fn parse(text: &str) -> Result<RelayAnswer, AnswerError> {
        let parts: Vec<Value> = serde_json::from_str(text)
            .map_err(|e: serde_json::Error| AnswerError::NotAMessage(e.to_string()))?;
        RelayAnswer::from_parts(parts)
    }

    /// Reads one relay message already split into its JSON elements.
    pub fn from_parts(parts: Vec<Value>) -> Result<RelayAnswer, AnswerError> {
        let text = |i: usize| parts.get(i).and_then(Value::as_str).map(str::to_owned);
        let Some(kind) = text(0) else {
            return Err(AnswerError::NotAMessage(
                "the first element is not a string".into(),
            ));
        };
        let malformed = || AnswerError::Malformed(static_name(&kind));
        Ok(match kind.as_str() {
            "EVENT" => {
                let sub = text(1).ok_or_else(malformed)?;
                let raw = parts.get(2).ok_or_else(malformed)?;
                let event = serde_json::from_value::<Event>(raw.clone())
                    .map_err(|e| AnswerError::BadEvent(e.to_string()))?;
                RelayAnswer::Event {
                    sub,
                    event: Box::new(event),
                }
            }
            "EOSE" => RelayAnswer::Eose {
                sub: text(1).ok_or_else(malformed)?,
            },
            "CLOSED" => RelayAnswer::Closed {
                sub: text(1).ok_or_else(malformed)?,
                reason: text(2).unwrap_or_default(),
            },
            "OK" => RelayAnswer::Ok {
                id: text(1).ok_or_else(malformed)?,
                accepted: parts
                    .get(2)
                    .and_then(Value::as_bool)
                    .ok_or_else(malformed)?,
                message: text(3).unwrap_or_default(),
            },
            "AUTH" => RelayAnswer::Auth {
                challenge: text(1).ok_or_else(malformed)?,
            },
            "NOTICE" => RelayAnswer::Notice(text(1).unwrap_or_default()),
            _ => RelayAnswer::Other(parts),
        })
    }

    /// The subscription this message belongs to, for the messages that name one.
    pub fn subscription(&self) -> Option<&str> {
        match self {
            RelayAnswer::Event { sub, .. }
            | RelayAnswer::Eose { sub }
            | RelayAnswer::Closed { sub, .. } => Some(sub),
            _ => None,
        }
    }
}

fn static_name(kind: &str) -> &'static str {
    match kind {
        "EVENT" => "EVENT",
        "EOSE" => "EOSE",
        "CLOSED" => "CLOSED",
        "OK" => "OK",
        "AUTH" => "AUTH",
        _ => "relay",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use nostr::prelude::*;

    #[test]
    fn each_message_reads_and_garbage_is_named() {
        let keys = Keys::generate();
        let e = EventBuilder::new(Kind::TextNote, "hi")
            .finalize(&keys)
            .unwrap();
        let text = format!("[\"EVENT\",\"s\",{}]", e.as_json());
        match RelayAnswer::parse(&text).unwrap() {
            RelayAnswer::Event { sub, event } => {
                assert_eq!(sub, "s");
                assert_eq!(*event, e);
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            RelayAnswer::parse(r#"["EOSE","s"]"#),
            Ok(RelayAnswer::Eose { sub }) if sub == "s"
        ));
        assert!(matches!(
            RelayAnswer::parse(r#"["OK","ab",true,""]"#),
            Ok(RelayAnswer::Ok { accepted: true, .. })
        ));
        assert_eq!(
            RelayAnswer::parse(r#"["OK","ab","yes"]"#).unwrap_err(),
            AnswerError::Malformed("OK")
        );
        assert!(matches!(
            RelayAnswer::parse(r#"["EVENT","s",{"id":1}]"#),
            Err(AnswerError::BadEvent(_))
        ));
        assert!(matches!(
            RelayAnswer::parse("{}"),
            Err(AnswerError::NotAMessage(_))
        ));
        assert!(matches!(
            RelayAnswer::parse(r#"["COUNT","s",{"count":3}]"#),
            Ok(RelayAnswer::Other(_))
        ));
    }
}
