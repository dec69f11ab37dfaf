//! A plain Nostr connection to one relay, for sync, the load generator and tests.

use std::time::Duration;

use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};
use nostr::nips::nip42::ClientAuthentication;
use nostr::prelude::{Event, FinalizeEvent as _, IntoEventBuilder as _, Keys, RelayUrl};
use serde_json::{json, Value};

use super::answer::RelayAnswer;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// A relay's WebSocket.
pub type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// Why talking to a relay failed.
#[derive(Debug, thiserror::Error)]
pub enum ConnError {
    /// The connection could not be made (URL, why).
    #[error("cannot connect to {0}: {1}")]
    Connect(String, String),
    /// The relay closed the connection.
    #[error("connection closed by the relay")]
    Closed,
    /// The WebSocket failed.
    #[error("websocket: {0}")]
    Ws(#[from] tokio_tungstenite::tungstenite::Error),
    /// The relay sent something that is not a Nostr message.
    #[error("relay sent something that is not a Nostr message: {0}")]
    Garbled(String),
    /// The relay did not answer in time.
    #[error("no answer from the relay within {0:?}")]
    Timeout(Duration),
    /// The relay closed the subscription (id, reason).
    #[error("subscription {0} closed by the relay: {1}")]
    SubscriptionClosed(String, String),
    /// The relay refused our NIP-42 authentication (its reason).
    #[error("the relay refused our authentication: {0}")]
    AuthRefused(String),
    /// The relay sent more before its EOSE than one query takes (the cap, in words).
    #[error("the relay sent more than {0} before the end of its stored events; cut off")]
    Flood(String),
}

/// The most events one query takes before EOSE; relays cap their own answers far lower.
pub const MAX_EVENTS_PER_QUERY: usize = 50_000;

/// The most bytes of messages one query takes before EOSE.
pub const MAX_QUERY_BYTES: usize = 64 << 20;

/// One connection to a relay.
pub struct RelayConn {
    ws: Ws,
    /// How long to wait for each answer.
    pub timeout: Duration,
    /// The last NIP-42 challenge the relay sent.
    pub challenge: Option<String>,
}

/// The subscription that asks a relay for its challenge.
const AUTH_PROBE: &str = "seedstr-auth";

impl RelayConn {
    /// Connects to `url`.
    pub async fn connect(url: &str) -> Result<RelayConn, ConnError> {
        let (ws, _) = tokio_tungstenite::connect_async_with_config(url, None, true)
            .await
            .map_err(|e| ConnError::Connect(url.to_string(), e.to_string()))?;
        Ok(RelayConn {
            ws,
            timeout: Duration::from_secs(30),
            challenge: None,
        })
    }

    /// The connection's two halves, for reading and writing at once.
    pub fn into_split(self) -> (SplitSink<Ws, Message>, SplitStream<Ws>) {
        self.ws.split()
    }

    /// Sends a JSON message.
    pub async fn send(&mut self, msg: &Value) -> Result<(), ConnError> {
        self.send_text(msg.to_string()).await
    }

    /// Sends a text frame as it is.
    pub async fn send_text(&mut self, text: String) -> Result<(), ConnError> {
        self.ws.send(Message::Text(text.into())).await?;
        Ok(())
    }

    /// The next websocket data message, unparsed, for callers that read it cheaply themselves.
    pub async fn recv_message(&mut self) -> Result<Message, ConnError> {
        loop {
            let msg = tokio::time::timeout(self.timeout, self.ws.next())
                .await
                .map_err(|_| ConnError::Timeout(self.timeout))?;
            match msg {
                Some(Ok(Message::Close(_))) | None => return Err(ConnError::Closed),
                Some(Ok(m @ (Message::Text(_) | Message::Binary(_)))) => return Ok(m),
                Some(Ok(_)) => continue,
                Some(Err(e)) => return Err(e.into()),
            }
        }
    }

    /// The next relay message as a JSON array. AUTH challenges are remembered on the way.
    pub async fn recv(&mut self) -> Result<Vec<Value>, ConnError> {
        loop {
            let Message::Text(t) = self.recv_message().await? else {
                continue;
            };
            let v: Vec<Value> =
                serde_json::from_str(t.as_str()).map_err(|_| ConnError::Garbled(t.to_string()))?;
            if v.first().and_then(Value::as_str) == Some("AUTH") {
                self.challenge = v.get(1).and_then(Value::as_str).map(str::to_string);
            }
            return Ok(v);
        }
    }

    /// Answers the relay's NIP-42 challenge as `keys` (waiting for the challenge if it has not
    /// come yet); `relay_url` is the address the relay is known by. Err when the relay refuses.
    pub async fn authenticate(&mut self, keys: &Keys, relay_url: &str) -> Result<(), ConnError> {
        if self.challenge.is_none() {
            // A relay that challenges only when needed does so when asked for what needs it:
            // a subscription to one's private messages.
            let probe = serde_json::json!([
                "REQ",
                AUTH_PROBE,
                {"kinds": [1059], "#p": [keys.public_key().to_hex()], "limit": 0}
            ]);
            self.send(&probe).await?;
            while self.challenge.is_none() {
                self.recv().await?;
            }
            self.send(&serde_json::json!(["CLOSE", AUTH_PROBE])).await?;
        }
        let challenge = self.challenge.clone().expect("received");
        let relay = RelayUrl::parse(relay_url)
            .map_err(|e| ConnError::Connect(relay_url.to_owned(), e.to_string()))?;
        let auth = ClientAuthentication::new(challenge, relay)
            .into_event_builder()
            .finalize(keys)
            .map_err(|e| ConnError::AuthRefused(e.to_string()))?;
        self.send_text(format!("[\"AUTH\",{}]", auth.as_json()))
            .await?;
        match self.wait_ok(&auth.id.to_hex()).await? {
            (true, _) => Ok(()),
            (false, why) => Err(ConnError::AuthRefused(why)),
        }
    }

    /// Reads until the relay's `OK` for event `id`: `(accepted, message)`.
    async fn wait_ok(&mut self, id: &str) -> Result<(bool, String), ConnError> {
        loop {
            let m = self.recv().await?;
            if let Ok(RelayAnswer::Ok {
                id: answered,
                accepted,
                message,
            }) = RelayAnswer::from_parts(m)
            {
                if answered == id {
                    return Ok((accepted, message));
                }
            }
        }
    }

    /// Publishes an event and waits for its OK: `(accepted, message)`.
    pub async fn publish(&mut self, event: &Event) -> Result<(bool, String), ConnError> {
        self.publish_raw(&event.as_json(), &event.id.to_hex()).await
    }

    /// Sends an event given as JSON text and waits for the relay's `OK`.
    pub async fn publish_raw(
        &mut self,
        event_json: &str,
        id: &str,
    ) -> Result<(bool, String), ConnError> {
        self.send_text(format!("[\"EVENT\",{event_json}]")).await?;
        self.wait_ok(id).await
    }

    /// Stored events for `filters` until EOSE, unverified. Other messages are skipped. A relay
    /// that sends more than [`MAX_EVENTS_PER_QUERY`] events or [`MAX_QUERY_BYTES`] bytes
    /// before its EOSE is cut off with an error naming the cap.
    pub async fn query(&mut self, sub: &str, filters: &[Value]) -> Result<Vec<Event>, ConnError> {
        let mut req = vec![json!("REQ"), json!(sub)];
        req.extend(filters.iter().cloned());
        self.send(&Value::Array(req)).await?;
        let mut out = Vec::new();
        let mut bytes = 0usize;
        loop {
            let Message::Text(text) = self.recv_message().await? else {
                continue;
            };
            bytes = bytes.saturating_add(text.len());
            if bytes > MAX_QUERY_BYTES {
                return Err(ConnError::Flood(format!("{MAX_QUERY_BYTES} bytes")));
            }
            let answer =
                RelayAnswer::parse(text.as_str()).map_err(|e| ConnError::Garbled(e.to_string()))?;
            if answer.subscription() != Some(sub) {
                continue;
            }
            match answer {
                RelayAnswer::Event { event, .. } => {
                    if out.len() == MAX_EVENTS_PER_QUERY {
                        return Err(ConnError::Flood(format!("{MAX_EVENTS_PER_QUERY} events")));
                    }
                    out.push(*event);
                }
                RelayAnswer::Eose { .. } => return Ok(out),
                RelayAnswer::Closed { reason, .. } => {
                    return Err(ConnError::SubscriptionClosed(sub.to_string(), reason));
                }
                _ => {}
            }
        }
    }

    /// Closes subscription `sub`.
    pub async fn close_sub(&mut self, sub: &str) -> Result<(), ConnError> {
        self.send(&json!(["CLOSE", sub])).await
    }
}
