//! A relay connection carried by something other than a WebSocket (Nostr messages in STREAM
//! data, docs/ilp.md): the same answers, limits and live subscriptions as a WebSocket client
//! gets, with the messages handed in and taken out by the carrier.

use std::net::IpAddr;
use std::sync::Arc;

use tokio::sync::mpsc;

use crate::live::QueueRoom;
use crate::{connection, Relay};

/// Messages a session holds before the carrier's sends wait.
const INBOUND_QUEUE: usize = 256;

/// One open session: its sending half and its receiving half, which a carrier may use from
/// different tasks. Dropping the sending half ends the session and its subscriptions.
pub struct Session {
    /// Where client messages go in.
    pub input: SessionInput,
    /// Where the relay's answers come out.
    pub output: SessionOutput,
}

/// The session ended (it could not keep up with its subscriptions).
#[derive(Debug, thiserror::Error)]
#[error("the relay session has ended")]
pub struct SessionEnded;

impl Relay {
    /// Opens a session for a client at `ip`; its first answer is an AUTH challenge, which an
    /// AUTH event naming the relay at one of `relay_urls` (or at the relay's `info.url`)
    /// answers. With `paid`, its writes were paid for another way (each EVENT over
    /// Interledger): a gate that charges for writes lets them through.
    pub fn open_session(
        self: &Arc<Self>,
        ip: IpAddr,
        paid: bool,
        relay_urls: &[String],
    ) -> Session {
        let (conn, outbound) = connection::open(self);
        let (inbound, messages) = mpsc::channel(INBOUND_QUEUE);
        let room = conn.room.clone();
        let id = conn.id;
        let hosts = self
            .config
            .info
            .url
            .iter()
            .chain(relay_urls)
            .map(|u| crate::auth::host_of(u))
            .collect();
        tokio::spawn(connection::run_session(
            self.clone(),
            conn,
            messages,
            ip,
            paid,
            hosts,
        ));
        Session {
            input: SessionInput { id, inbound },
            output: SessionOutput { outbound, room },
        }
    }
}

/// The sending half of a [`Session`]; dropping it ends the session.
#[derive(Clone)]
pub struct SessionInput {
    /// The connection's number.
    pub id: u64,
    inbound: mpsc::Sender<String>,
}

impl SessionInput {
    /// Hands in one client message (NIP-01 JSON), waiting while the session is busy.
    pub async fn send(&self, message: String) -> Result<(), SessionEnded> {
        self.inbound.send(message).await.map_err(|_| SessionEnded)
    }

    /// Hands in one client message if the session has room now; the message back when not.
    pub fn try_send(&self, message: String) -> Result<(), String> {
        self.inbound.try_send(message).map_err(|e| match e {
            mpsc::error::TrySendError::Full(m) | mpsc::error::TrySendError::Closed(m) => m,
        })
    }

    /// Room for this many more messages now.
    pub fn room(&self) -> usize {
        self.inbound.capacity()
    }
}

/// The receiving half of a [`Session`].
pub struct SessionOutput {
    outbound: mpsc::Receiver<String>,
    room: QueueRoom,
}

impl SessionOutput {
    /// The next answer (OK, EVENT, EOSE, CLOSED, NOTICE, AUTH…); None once the session ended
    /// and everything was taken.
    pub async fn recv(&mut self) -> Option<String> {
        let message = self.outbound.recv().await?;
        self.room.give_back(message.len());
        Some(message)
    }

    /// The next answer if one is waiting now.
    pub fn try_recv(&mut self) -> Option<String> {
        let message = self.outbound.try_recv().ok()?;
        self.room.give_back(message.len());
        Some(message)
    }
}
