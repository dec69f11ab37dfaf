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

/// A client → relay message, parsed; an event stays raw JSON until it is checked.
#[derive(Debug)]
pub enum ClientMessage<'a> {
    /// `EVENT`: an event to store.
    Event(&'a str),
    /// `REQ`: a subscription.
    Req {
        /// The subscription id.
        id: String,
        /// Its filters.
        filters: Vec<Filter>,
    },
    /// `CLOSE`: the subscription to end.
    Close(String),
    /// `AUTH` (NIP-42): the signed challenge, raw.
    Auth(&'a str),
    /// `COUNT` (NIP-45).
    Count {
        /// The query id.
        id: String,
        /// Its filters.
        filters: Vec<Filter>,
    },
    /// `NEG-OPEN` (NIP-77): a negentropy sync starts.
    NegOpen {
        /// The sync id.
        id: String,
        /// The set to reconcile.
        filter: Filter,
        /// The first negentropy message, hex.
        message: String,
    },
    /// `NEG-MSG`: a negentropy round.
    NegMsg {
        /// The sync id.
        id: String,
        /// The negentropy message, hex.
        message: String,
    },
    /// `NEG-CLOSE`: the sync to end.
    NegClose(String),
}

/// Why a client message was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum MessageError {
    /// Not a JSON array.
    #[error("message is not a JSON array: {0}")]
    NotArray(String),
    /// The first element is not a string.
    #[error("message type must be a string")]
    NoType,
    /// A message type this relay does not know.
    #[error("unknown message type {0:?}")]
    UnknownType(String),
    /// Too many or too few elements for its type.
    #[error("{0} message has the wrong number of elements")]
    Arity(&'static str),
    /// The subscription id is empty or too long.
    #[error("subscription id must be a non-empty string of at most 64 characters")]
    BadSubscriptionId,
    /// A filter was refused.
    #[error("{0}")]
    Filter(#[from] FilterError),
    /// A field that must be hex is not.
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

    /// `["EVENT", sub, event]`.
    pub fn event(sub: &str, event_json: &str) -> String {
        format!("[\"EVENT\",{},{}]", quote(sub), event_json)
    }
    /// `["OK", id, accepted, message]`.
    pub fn ok(id_hex: &str, accepted: bool, message: &str) -> String {
        format!("[\"OK\",{},{},{}]", quote(id_hex), accepted, quote(message))
    }
    /// `["EOSE", sub]`: stored events sent; live ones follow.
    pub fn eose(sub: &str) -> String {
        format!("[\"EOSE\",{}]", quote(sub))
    }
    /// `["CLOSED", sub, message]`: the relay ended the subscription.
    pub fn closed(sub: &str, message: &str) -> String {
        format!("[\"CLOSED\",{},{}]", quote(sub), quote(message))
    }
    /// `["NOTICE", message]`.
    pub fn notice(message: &str) -> String {
        format!("[\"NOTICE\",{}]", quote(message))
    }
    /// `["AUTH", challenge]` (NIP-42).
    pub fn auth(challenge: &str) -> String {
        format!("[\"AUTH\",{}]", quote(challenge))
    }
    /// `["COUNT", sub, {"count": n}]` (NIP-45).
    pub fn count(sub: &str, count: u64) -> String {
        format!("[\"COUNT\",{},{{\"count\":{}}}]", quote(sub), count)
    }
    /// `["NEG-MSG", sub, hex]` (NIP-77).
    pub fn neg_msg(sub: &str, hex: &str) -> String {
        format!("[\"NEG-MSG\",{},{}]", quote(sub), quote(hex))
    }
    /// `["NEG-ERR", sub, reason]` (NIP-77).
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
