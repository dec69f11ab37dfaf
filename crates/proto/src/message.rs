//! NIP-01 wire messages (plus NIP-42 AUTH, NIP-45 COUNT and NIP-77 NEG-*).
//!
//! Client messages are parsed from text with the event kept as raw JSON, so a relay verifies
//! and stores exactly the bytes it received once re-serialized canonically. Relay messages are
//! formatted by hand: stored events are spliced in as JSON without being parsed again.

use serde_json::value::RawValue;
use serde_json::Value;

use crate::filter::{Filter, FilterError};

/// Longest subscription id NIP-01 allows.
pub const MAX_SUBSCRIPTION_ID: usize = 64;

#[derive(Debug)]
pub enum ClientMessage<'a> {
    Event(&'a str),
    Req {
        id: String,
        filters: Vec<Filter>,
    },
    Close(String),
    Auth(&'a str),
    Count {
        id: String,
        filters: Vec<Filter>,
    },
    NegOpen {
        id: String,
        filter: Filter,
        message: String,
    },
    NegMsg {
        id: String,
        message: String,
    },
    NegClose(String),
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum MessageError {
    #[error("message is not a JSON array: {0}")]
    NotArray(String),
    #[error("message type must be a string")]
    NoType,
    #[error("unknown message type {0:?}")]
    UnknownType(String),
    #[error("{0} message has the wrong number of elements")]
    Arity(&'static str),
    #[error("subscription id must be a non-empty string of at most 64 characters")]
    BadSubscriptionId,
    #[error("{0}")]
    Filter(#[from] FilterError),
    #[error("{0} must be a hex string")]
    BadHex(&'static str),
}

fn sub_id(raw: &RawValue) -> Result<String, MessageError> {
    let id: String =
        serde_json::from_str(raw.get()).map_err(|_| MessageError::BadSubscriptionId)?;
    if id.is_empty() || id.chars().count() > MAX_SUBSCRIPTION_ID {
        return Err(MessageError::BadSubscriptionId);
    }
    Ok(id)
}

fn filter(raw: &RawValue) -> Result<Filter, MessageError> {
    let v: Value = serde_json::from_str(raw.get()).map_err(|e| FilterError {
        field: String::new(),
        problem: e.to_string(),
    })?;
    Ok(Filter::parse(&v)?)
}

fn hex_string(raw: &RawValue, what: &'static str) -> Result<String, MessageError> {
    let s: String = serde_json::from_str(raw.get()).map_err(|_| MessageError::BadHex(what))?;
    if !s.len().is_multiple_of(2) || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(MessageError::BadHex(what));
    }
    Ok(s)
}

/// Parses a client message. On a subscription message with a bad filter, the error comes with
/// the subscription id so the relay can answer CLOSED rather than NOTICE.
pub fn parse_client_message(
    text: &str,
) -> Result<ClientMessage<'_>, (Option<String>, MessageError)> {
    let parts: Vec<&RawValue> =
        serde_json::from_str(text).map_err(|e| (None, MessageError::NotArray(e.to_string())))?;
    let kind: &str = parts
        .first()
        .and_then(|r| serde_json::from_str(r.get()).ok())
        .ok_or((None, MessageError::NoType))?;
    let plain = |e| (None, e);
    match kind {
        "EVENT" | "AUTH" => {
            if parts.len() != 2 {
                return Err(plain(MessageError::Arity(if kind == "EVENT" {
                    "EVENT"
                } else {
                    "AUTH"
                })));
            }
            let json = parts[1].get();
            Ok(if kind == "EVENT" {
                ClientMessage::Event(json)
            } else {
                ClientMessage::Auth(json)
            })
        }
        "REQ" | "COUNT" => {
            if parts.len() < 3 {
                return Err(plain(MessageError::Arity(if kind == "REQ" {
                    "REQ"
                } else {
                    "COUNT"
                })));
            }
            let id = sub_id(parts[1]).map_err(plain)?;
            let filters = parts[2..]
                .iter()
                .map(|r| filter(r))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| (Some(id.clone()), e))?;
            Ok(if kind == "REQ" {
                ClientMessage::Req { id, filters }
            } else {
                ClientMessage::Count { id, filters }
            })
        }
        "CLOSE" | "NEG-CLOSE" => {
            if parts.len() != 2 {
                return Err(plain(MessageError::Arity("CLOSE")));
            }
            let id = sub_id(parts[1]).map_err(plain)?;
            Ok(if kind == "CLOSE" {
                ClientMessage::Close(id)
            } else {
                ClientMessage::NegClose(id)
            })
        }
        "NEG-OPEN" => {
            if parts.len() != 4 {
                return Err(plain(MessageError::Arity("NEG-OPEN")));
            }
            let id = sub_id(parts[1]).map_err(plain)?;
            let f = filter(parts[2]).map_err(|e| (Some(id.clone()), e))?;
            let message =
                hex_string(parts[3], "NEG-OPEN message").map_err(|e| (Some(id.clone()), e))?;
            Ok(ClientMessage::NegOpen {
                id,
                filter: f,
                message,
            })
        }
        "NEG-MSG" => {
            if parts.len() != 3 {
                return Err(plain(MessageError::Arity("NEG-MSG")));
            }
            let id = sub_id(parts[1]).map_err(plain)?;
            let message =
                hex_string(parts[2], "NEG-MSG message").map_err(|e| (Some(id.clone()), e))?;
            Ok(ClientMessage::NegMsg { id, message })
        }
        other => Err(plain(MessageError::UnknownType(other.to_string()))),
    }
}

fn quote(s: &str) -> String {
    serde_json::to_string(s).expect("strings always serialize")
}

/// Relay → client messages.
pub mod relay {
    use super::quote;

    pub fn event(sub: &str, event_json: &str) -> String {
        format!("[\"EVENT\",{},{}]", quote(sub), event_json)
    }
    pub fn ok(id_hex: &str, accepted: bool, message: &str) -> String {
        format!("[\"OK\",{},{},{}]", quote(id_hex), accepted, quote(message))
    }
    pub fn eose(sub: &str) -> String {
        format!("[\"EOSE\",{}]", quote(sub))
    }
    pub fn closed(sub: &str, message: &str) -> String {
        format!("[\"CLOSED\",{},{}]", quote(sub), quote(message))
    }
    pub fn notice(message: &str) -> String {
        format!("[\"NOTICE\",{}]", quote(message))
    }
    pub fn auth(challenge: &str) -> String {
        format!("[\"AUTH\",{}]", quote(challenge))
    }
    pub fn count(sub: &str, count: u64) -> String {
        format!("[\"COUNT\",{},{{\"count\":{}}}]", quote(sub), count)
    }
    pub fn neg_msg(sub: &str, hex: &str) -> String {
        format!("[\"NEG-MSG\",{},{}]", quote(sub), quote(hex))
    }
    pub fn neg_err(sub: &str, reason: &str) -> String {
        format!("[\"NEG-ERR\",{},{}]", quote(sub), quote(reason))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_each_type() {
        assert!(matches!(
            parse_client_message(r#"["EVENT",{"id":"x"}]"#),
            Ok(ClientMessage::Event(r#"{"id":"x"}"#))
        ));
        match parse_client_message(r#"["REQ","s1",{"kinds":[1]},{"limit":2}]"#).unwrap() {
            ClientMessage::Req { id, filters } => {
                assert_eq!(id, "s1");
                assert_eq!(filters.len(), 2);
            }
            m => panic!("{m:?}"),
        }
        assert!(
            matches!(parse_client_message(r#"["CLOSE","s1"]"#), Ok(ClientMessage::Close(s)) if s == "s1")
        );
        assert!(matches!(
            parse_client_message(r#"["COUNT","c",{}]"#),
            Ok(ClientMessage::Count { .. })
        ));
        assert!(matches!(
            parse_client_message(r#"["NEG-OPEN","n",{},"6100"]"#),
            Ok(ClientMessage::NegOpen { .. })
        ));
    }

    #[test]
    fn errors_name_the_problem() {
        assert!(matches!(
            parse_client_message("nope"),
            Err((None, MessageError::NotArray(_)))
        ));
        assert!(
            matches!(parse_client_message(r#"["HELLO"]"#), Err((None, MessageError::UnknownType(t))) if t == "HELLO")
        );
        assert!(matches!(
            parse_client_message(r#"["REQ",""]"#),
            Err((None, MessageError::Arity("REQ")))
        ));
        let long = "x".repeat(65);
        assert!(matches!(
            parse_client_message(&format!(r#"["REQ","{long}",{{}}]"#)),
            Err((None, MessageError::BadSubscriptionId))
        ));
        match parse_client_message(r#"["REQ","s",{"kinds":["a"]}]"#) {
            Err((Some(id), MessageError::Filter(f))) => {
                assert_eq!(id, "s");
                assert_eq!(f.field, "kinds");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn relay_messages_escape_strings() {
        assert_eq!(
            relay::ok("ab", false, "invalid: \"x\""),
            r#"["OK","ab",false,"invalid: \"x\""]"#
        );
        assert_eq!(relay::count("c", 3), r#"["COUNT","c",{"count":3}]"#);
        assert_eq!(relay::event("s", "{}"), r#"["EVENT","s",{}]"#);
    }
}
