//! BTP sessions over WebSocket (RFC 23): the server authenticates each peer by the token in its
//! first Message (`auth`, `auth_username`, `auth_token`), then both sides send ILP packets in
//! Messages (`ilp`) and answer each in a Response with the same request id. A [`BtpPeer`] is one
//! such session's sending side, an [`IlpLink`]; what the other side sends goes to a
//! [`PacketHandler`]. Bounded: frame size, requests waiting, and a timeout on each.

use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, oneshot};
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::Message;

use crate::btp::{BtpPacket, ProtocolData, OCTET_STREAM, TEXT_PLAIN_UTF8};
use crate::link::IlpLink;
use crate::packet::{ErrorCode, Fulfill, Packet, Prepare, Reject};

/// The largest WebSocket message taken: an ILP packet (at most ~33 KB) with room to spare.
pub const MAX_FRAME_BYTES: usize = 128 * 1024;
/// Requests a session waits on at once.
pub const MAX_WAITING: usize = 1024;
/// A peer's requests handled at once; past it the session reads no more until one is answered.
pub const MAX_HANDLING: usize = 256;
/// Sessions a server holds at once (authenticating ones included); past it, new connections
/// wait to be accepted.
pub const MAX_SESSIONS: usize = 1024;

/// Why a session could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    /// The WebSocket could not be opened.
    #[error("BTP WebSocket to {url}: {why}")]
    Connect {
        /// Where.
        url: String,
        /// Why.
        why: String,
    },
    /// The server refused the token.
    #[error("BTP authentication refused: {0}")]
    Refused(String),
    /// No answer in time.
    #[error("BTP: no answer within {0:?}")]
    Timeout(Duration),
}

/// What handles the Prepares a peer sends.
pub trait PacketHandler: Send + Sync + 'static {
    /// Answers `prepare` from the peer authenticated as `account`.
    fn handle(
        &self,
        account: &str,
        prepare: Prepare,
    ) -> impl Future<Output = Result<Fulfill, Reject>> + Send;
}

type Waiting = Arc<Mutex<HashMap<u32, oneshot::Sender<BtpPacket>>>>;

/// Maps a peer's `auth_username` and `auth_token` to its account, or refuses it.
pub type Authenticate = Arc<dyn Fn(&str, &str) -> Option<String> + Send + Sync>;

/// The sending side of one BTP session.
#[derive(Clone)]
pub struct BtpPeer {
    account: String,
    out: mpsc::Sender<Message>,
    /// Becomes true when the session's reading side has ended.
    ended: tokio::sync::watch::Receiver<bool>,
    waiting: Waiting,
    next_id: Arc<AtomicU32>,
    timeout: Duration,
}

fn ilp_entry(bytes: Vec<u8>) -> ProtocolData {
    ProtocolData {
        protocol_name: "ilp".into(),
        content_type: OCTET_STREAM,
        data: bytes,
    }
}

fn internal(message: &str) -> Reject {
    Reject {
        code: ErrorCode::T01_PEER_UNREACHABLE,
        triggered_by: None,
        message: message.to_owned(),
        data: Vec::new(),
    }
}

impl BtpPeer {
    /// Waits until the session has ended (its socket closed).
    pub async fn closed(&self) {
        let mut ended = self.ended.clone();
        let _ = ended.wait_for(|e| *e).await;
    }

    /// The peer's account name (the authenticated username on a server; the server's on a
    /// client).
    pub fn account(&self) -> &str {
        &self.account
    }

    /// Sends a BTP request and waits for its answer.
    pub async fn call(&self, protocol_data: Vec<ProtocolData>) -> Result<BtpPacket, SessionError> {
        let request_id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = oneshot::channel();
        {
            let mut w = self.waiting.lock().unwrap_or_else(|p| p.into_inner());
            if w.len() >= MAX_WAITING {
                return Err(SessionError::Refused("too many requests waiting".into()));
            }
            w.insert(request_id, tx);
        }
        let packet = BtpPacket::Message {
            request_id,
            protocol_data,
        };
        let sent = self
            .out
            .send(Message::Binary(packet.to_bytes().into()))
            .await;
        let answer = match sent {
            // Waiting on `rx` fails only when the session ended.
            Ok(()) => tokio::time::timeout(self.timeout, rx).await.map(Result::ok),
            Err(_) => Ok(None),
        };
        self.waiting
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&request_id);
        match answer {
            Ok(Some(p)) => Ok(p),
            Ok(None) => Err(SessionError::Refused("the session closed".into())),
            Err(_) => Err(SessionError::Timeout(self.timeout)),
        }
    }
}

impl IlpLink for BtpPeer {
    async fn send(&self, prepare: Prepare) -> Result<Fulfill, Reject> {
        let answer = self
            .call(vec![ilp_entry(Packet::Prepare(prepare).to_bytes())])
            .await
            .map_err(|e| internal(&e.to_string()))?;
        let bytes = match &answer {
            BtpPacket::Response { .. } => answer.entry("ilp").unwrap_or_default(),
            BtpPacket::Error { name, .. } => return Err(internal(&format!("BTP error {name}"))),
            _ => return Err(internal("an answer that is not a Response")),
        };
        match Packet::read(bytes) {
            Ok(Packet::Fulfill(f)) => Ok(f),
            Ok(Packet::Reject(r)) => Err(r),
            _ => Err(internal("the answer carries no Fulfill or Reject")),
        }
    }
}

fn ws_config() -> WebSocketConfig {
    let mut c = WebSocketConfig::default();
    c.max_message_size = Some(MAX_FRAME_BYTES);
    c.max_frame_size = Some(MAX_FRAME_BYTES);
    c
}

/// Runs one authenticated session: incoming requests to `handler`, answers to the waiters.
fn run_session<S, H>(
    ws: tokio_tungstenite::WebSocketStream<S>,
    account: String,
    handler: Arc<H>,
    timeout: Duration,
) -> (BtpPeer, tokio::task::JoinHandle<()>)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
    H: PacketHandler,
{
    let (mut sink, mut stream) = ws.split();
    let (out, mut out_rx) = mpsc::channel::<Message>(256);
    let waiting: Waiting = Arc::default();
    let (end, ended) = tokio::sync::watch::channel(false);
    tokio::spawn(async move {
        while let Some(m) = out_rx.recv().await {
            if sink.send(m).await.is_err() {
                break;
            }
        }
    });
    let peer = BtpPeer {
        account: account.clone(),
        out: out.clone(),
        ended,
        waiting: waiting.clone(),
        next_id: Arc::new(AtomicU32::new(1)),
        timeout,
    };
    let handling = Arc::new(tokio::sync::Semaphore::new(MAX_HANDLING));
    let reading = tokio::spawn(async move {
        while let Some(Ok(m)) = stream.next().await {
            let bytes = match m {
                Message::Binary(b) => b.to_vec(),
                Message::Close(_) => break,
                _ => continue,
            };
            let Ok(packet) = BtpPacket::read(&bytes) else {
                continue;
            };
            match packet {
                BtpPacket::Response { request_id, .. } | BtpPacket::Error { request_id, .. } => {
                    let tx = waiting
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .remove(&request_id);
                    if let Some(tx) = tx {
                        let _ = tx.send(packet);
                    }
                }
                BtpPacket::Message { request_id, .. } => {
                    let prepare = match packet.entry("ilp").map(Packet::read) {
                        Some(Ok(Packet::Prepare(p))) => p,
                        _ => {
                            // Not an ILP Prepare: answered empty.
                            let r = BtpPacket::Response {
                                request_id,
                                protocol_data: Vec::new(),
                            };
                            let _ = out.send(Message::Binary(r.to_bytes().into())).await;
                            continue;
                        }
                    };
                    // Bounded: a peer flooding requests waits for its earlier ones.
                    let Ok(permit) = handling.clone().acquire_owned().await else {
                        break;
                    };
                    let (handler, out, account) = (handler.clone(), out.clone(), account.clone());
                    tokio::spawn(async move {
                        let _permit = permit;
                        let answer = match handler.handle(&account, prepare).await {
                            Ok(f) => Packet::Fulfill(f),
                            Err(r) => Packet::Reject(r),
                        };
                        let r = BtpPacket::Response {
                            request_id,
                            protocol_data: vec![ilp_entry(answer.to_bytes())],
                        };
                        let _ = out.send(Message::Binary(r.to_bytes().into())).await;
                    });
                }
                BtpPacket::Transfer { request_id, .. } => {
                    // Settlement is the channel's business, not BTP's: acknowledged only.
                    let r = BtpPacket::Response {
                        request_id,
                        protocol_data: Vec::new(),
                    };
                    let _ = out.send(Message::Binary(r.to_bytes().into())).await;
                }
            }
        }
        // The session is over: everyone waiting hears so.
        waiting.lock().unwrap_or_else(|p| p.into_inner()).clear();
        end.send_replace(true);
    });
    (peer, reading)
}

fn text_entry(packet: &BtpPacket, name: &str) -> Option<String> {
    packet
        .entry(name)
        .map(|b| String::from_utf8_lossy(b).into_owned())
}

/// Accepts BTP sessions on `listener` until the process ends, at most [`MAX_SESSIONS`] at once:
/// a peer whose token
/// `authenticate` maps to an account is answered and its Prepares go to `handler`; `sessions`
/// hears each new session's sending side.
pub async fn serve_btp<H: PacketHandler>(
    listener: TcpListener,
    authenticate: Authenticate,
    handler: Arc<H>,
    sessions: mpsc::Sender<BtpPeer>,
    timeout: Duration,
) {
    let open = Arc::new(tokio::sync::Semaphore::new(MAX_SESSIONS));
    loop {
        let Ok(permit) = open.clone().acquire_owned().await else {
            return;
        };
        let Ok((tcp, _)) = listener.accept().await else {
            return;
        };
        // Packets are small and each waits for its answer: Nagle's algorithm would hold a
        // write back until the last one is acknowledged (40 ms with delayed ACKs).
        let _ = tcp.set_nodelay(true);
        let (authenticate, handler, sessions) =
            (authenticate.clone(), handler.clone(), sessions.clone());
        tokio::spawn(async move {
            if let Some(closed) = accept_one(tcp, authenticate, handler, sessions, timeout).await {
                // The slot is held until the session ends.
                let _ = closed.await;
            }
            drop(permit);
        });
    }
}

async fn accept_one<H: PacketHandler>(
    tcp: TcpStream,
    authenticate: Authenticate,
    handler: Arc<H>,
    sessions: mpsc::Sender<BtpPeer>,
    timeout: Duration,
) -> Option<tokio::task::JoinHandle<()>> {
    let mut ws = tokio_tungstenite::accept_async_with_config(tcp, Some(ws_config()))
        .await
        .ok()?;
    // The first data message must authenticate, in time (pings may come before it).
    let first = tokio::time::timeout(timeout, async {
        loop {
            match ws.next().await? {
                Ok(Message::Binary(b)) => return Some(b),
                Ok(Message::Ping(_) | Message::Pong(_)) => continue,
                _ => return None,
            }
        }
    });
    let bytes = first.await.ok()??;
    let auth = BtpPacket::read(&bytes).ok()?;
    let BtpPacket::Message { request_id, .. } = &auth else {
        return None;
    };
    let username = text_entry(&auth, "auth_username").unwrap_or_default();
    let token = text_entry(&auth, "auth_token").unwrap_or_default();
    let account = auth.entry("auth").and(authenticate(&username, &token));
    let Some(account) = account else {
        let refusal = BtpPacket::Error {
            request_id: *request_id,
            code: *b"F00",
            name: "NotAcceptedError".into(),
            triggered_at: now_ms(),
            data: b"invalid auth_token".to_vec(),
            protocol_data: Vec::new(),
        };
        let _ = ws.send(Message::Binary(refusal.to_bytes().into())).await;
        let _ = ws.close(None).await;
        return None;
    };
    let ok = BtpPacket::Response {
        request_id: *request_id,
        protocol_data: Vec::new(),
    };
    ws.send(Message::Binary(ok.to_bytes().into())).await.ok()?;
    let (peer, reading) = run_session(ws, account, handler, timeout);
    let _ = sessions.send(peer).await;
    Some(reading)
}

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// Opens a BTP session to `url` (`ws://host:port`) with `username` and `token`; the server's
/// Prepares go to `handler` as from `peer_name` (what this side calls the server).
pub async fn connect_btp<H: PacketHandler>(
    url: &str,
    username: &str,
    token: &str,
    peer_name: &str,
    handler: Arc<H>,
    timeout: Duration,
) -> Result<BtpPeer, SessionError> {
    let fail = |why: String| SessionError::Connect {
        url: url.to_owned(),
        why,
    };
    let (ws, _) = tokio::time::timeout(
        timeout,
        tokio_tungstenite::connect_async_with_config(url, Some(ws_config()), true),
    )
    .await
    .map_err(|_| SessionError::Timeout(timeout))?
    .map_err(|e| fail(e.to_string()))?;
    let (peer, _reading) = run_session(ws, peer_name.to_owned(), handler, timeout);
    let auth = vec![
        ProtocolData {
            protocol_name: "auth".into(),
            content_type: OCTET_STREAM,
            data: Vec::new(),
        },
        ProtocolData {
            protocol_name: "auth_username".into(),
            content_type: TEXT_PLAIN_UTF8,
            data: username.as_bytes().to_vec(),
        },
        ProtocolData {
            protocol_name: "auth_token".into(),
            content_type: TEXT_PLAIN_UTF8,
            data: token.as_bytes().to_vec(),
        },
    ];
    match peer.call(auth).await? {
        BtpPacket::Response { .. } => Ok(peer),
        BtpPacket::Error { data, .. } => Err(SessionError::Refused(
            String::from_utf8_lossy(&data).into_owned(),
        )),
        _ => Err(SessionError::Refused("an unexpected answer".into())),
    }
}

/// A connector behind BTP sessions: each Prepare a peer sends is handled as from that peer's
/// account, at the time `clock` says (Unix milliseconds).
pub struct ConnectorHandler {
    /// The connector.
    pub connector: Arc<crate::connector::Connector<BtpPeer>>,
    /// The clock.
    pub clock: Arc<dyn Fn() -> u64 + Send + Sync>,
}

impl PacketHandler for ConnectorHandler {
    async fn handle(&self, account: &str, prepare: Prepare) -> Result<Fulfill, Reject> {
        self.connector
            .handle(account, prepare, (self.clock)())
            .await
    }
}
