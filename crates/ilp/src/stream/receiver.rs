//! The receiving end of STREAM connections (RFC 29), as a state machine with no I/O: it hands
//! out a destination and shared secret per connection (derived from one server secret, so
//! nothing is stored until a packet arrives), and turns each incoming Prepare into its Fulfill
//! or Reject and the money and data it delivered. Money and data count only when the Prepare is
//! fulfilled; a Prepare the sender made unfulfillable (a quote) or that brings less than it
//! asks is rejected with the receiver's answer inside, and changes nothing.

use std::collections::{BTreeMap, HashMap};

use crate::address::Address;
use crate::packet::{ErrorCode, Fulfill, Prepare, Reject};
use crate::stream::crypto::{
    condition, decrypt, encrypt, encryption_key, fulfillment, fulfillment_key, hmac_sha256,
};
use crate::stream::packet::{Frame, StreamPacket};

/// STREAM's error codes in close frames.
pub mod close_code {
    /// Closed normally.
    pub const NO_ERROR: u8 = 1;
    /// The other endpoint exceeded the advertised limits.
    pub const FLOW_CONTROL: u8 = 4;
    /// More streams than allowed.
    pub const STREAM_ID: u8 = 5;
    /// The other endpoint broke the protocol.
    pub const PROTOCOL_VIOLATION: u8 = 8;
}

/// What a receiver takes.
#[derive(Debug, Clone)]
pub struct ReceiverLimits {
    /// Connections kept at once; a new one past it is refused (T03) until one closes.
    pub max_connections: usize,
    /// The highest stream id a client may open (RFC 29's default is 20: ten client streams).
    pub max_stream_id: u64,
    /// Bytes each stream may have received beyond what the application took.
    pub stream_data_window: u64,
    /// The most money a stream takes, in the receiver's units.
    pub stream_receive_max: u64,
    /// Bytes that came early (out of order) held over every connection; a packet that would
    /// hold more is refused (`T03`) until the gaps fill.
    pub max_held_bytes: u64,
}

impl Default for ReceiverLimits {
    fn default() -> ReceiverLimits {
        ReceiverLimits {
            max_connections: 10_000,
            max_stream_id: 20,
            stream_data_window: 1 << 20,
            stream_receive_max: u64::MAX,
            max_held_bytes: 64 << 20,
        }
    }
}

/// What a fulfilled Prepare delivered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivered {
    /// Money for a stream.
    Money {
        /// The connection (its token).
        connection: String,
        /// The stream.
        stream_id: u64,
        /// How much, in the receiver's units.
        amount: u64,
    },
    /// Bytes of a stream, in order.
    Data {
        /// The connection.
        connection: String,
        /// The stream.
        stream_id: u64,
        /// The bytes that follow what was delivered before.
        bytes: Vec<u8>,
    },
    /// The client closed a stream.
    StreamClosed {
        /// The connection.
        connection: String,
        /// The stream.
        stream_id: u64,
    },
    /// The client closed the connection (or broke the protocol, and it was closed).
    ConnectionClosed {
        /// The connection.
        connection: String,
        /// The close code.
        code: u8,
    },
}

/// An application on a receiver's connections: it sees each packet that would be fulfilled
/// before anything in it counts, and may refuse it; either way it may answer with data of its
/// own on the packet's streams (sealed in the Fulfill or Reject, so the sender reads it).
pub trait StreamApp {
    /// Decides on one packet of `connection`.
    fn decide(&mut self, connection: &str, incoming: &Incoming<'_>) -> Decision;
}

/// What a packet brings, as an application sees it.
#[derive(Debug)]
pub struct Incoming<'a> {
    /// The Prepare's amount.
    pub amount: u64,
    /// Its money per stream.
    pub money: &'a BTreeMap<u64, u64>,
    /// Its data frames: stream, offset, bytes.
    pub data: Vec<(u64, u64, &'a [u8])>,
    /// Where the client takes packets back, when this packet says (`ConnectionNewAddress`).
    pub client_address: Option<&'a Address>,
}

/// An application's decision on a packet.
#[derive(Debug, Default)]
pub struct Decision {
    /// Why it refuses the packet (nothing in it counts), if it does.
    pub refuse: Option<String>,
    /// Data to answer with: stream, bytes.
    pub reply_data: Vec<(u64, Vec<u8>)>,
}

/// Takes every packet and answers nothing: the receiver on its own.
struct TakeAll;

impl StreamApp for TakeAll {
    fn decide(&mut self, _connection: &str, _incoming: &Incoming<'_>) -> Decision {
        Decision::default()
    }
}

/// The answer to one Prepare.
#[derive(Debug, Clone)]
pub struct Handled {
    /// What goes back to the sender.
    pub reply: Result<Fulfill, Reject>,
    /// What it delivered (only when fulfilled).
    pub delivered: Vec<Delivered>,
}

#[derive(Debug, Default)]
struct StreamState {
    received: u64,
    /// Bytes delivered in order so far.
    delivered: u64,
    /// Out-of-order pieces by offset.
    pending: BTreeMap<u64, Vec<u8>>,
    /// Their bytes.
    held: u64,
    closed: bool,
}

struct Connection {
    encryption_key: [u8; 32],
    fulfillment_key: [u8; 32],
    streams: BTreeMap<u64, StreamState>,
    asset_sent: bool,
    /// Bytes of application data sent back per stream (the next offset).
    sent: BTreeMap<u64, u64>,
}

/// The receiving end of every STREAM connection under one address.
pub struct StreamReceiver {
    address: Address,
    server_secret: [u8; 32],
    asset_code: String,
    asset_scale: u8,
    limits: ReceiverLimits,
    connections: HashMap<String, Connection>,
    /// Secrets of connections this side opened, by the token of the address handed to their
    /// far end for packets back.
    replies: HashMap<String, [u8; 32]>,
    /// Early bytes held over every connection.
    held: u64,
}

impl StreamReceiver {
    /// A receiver at `address` (each connection is a segment under it), its secrets derived
    /// from `server_secret`, its money in `asset_code` at `asset_scale`.
    pub fn new(
        address: Address,
        server_secret: [u8; 32],
        asset_code: &str,
        asset_scale: u8,
        limits: ReceiverLimits,
    ) -> StreamReceiver {
        StreamReceiver {
            address,
            server_secret,
            asset_code: asset_code.to_owned(),
            asset_scale,
            limits,
            connections: HashMap::new(),
            replies: HashMap::new(),
            held: 0,
        }
    }

    /// The receiver's address.
    pub fn address(&self) -> &Address {
        &self.address
    }

    /// A new connection's destination and shared secret, to hand a client over an
    /// authenticated channel (SPSP): a random token under the receiver's address.
    pub fn new_connection(&self) -> (Address, [u8; 32]) {
        let token = token_text(&rand::random::<[u8; 18]>());
        let destination = self
            .address
            .with_segment(&token)
            .expect("a token is a valid segment");
        (destination, self.shared_secret(&token))
    }

    /// An address under this receiver where packets sealed with `shared_secret` are taken: the
    /// secret of a connection this side opened, the address handed to its far end (RFC 29's
    /// `ConnectionNewAddress`) so it can send back on the same connection. None when as many
    /// such addresses are kept as connections may be open.
    pub fn accept_replies(&mut self, shared_secret: [u8; 32]) -> Option<Address> {
        if self.replies.len() >= self.limits.max_connections {
            return None;
        }
        let token = token_text(&rand::random::<[u8; 18]>());
        let address = self
            .address
            .with_segment(&token)
            .expect("a token is a valid segment");
        self.replies.insert(token, shared_secret);
        Some(address)
    }

    /// Stops taking packets back at an address [`StreamReceiver::accept_replies`] made.
    pub fn forget_replies(&mut self, token: &str) {
        if self.replies.remove(token).is_some() {
            self.forget(token);
        }
    }

    /// The shared secret of the connection `token`: the one given for an address taking
    /// packets back, else HMAC(server secret, token).
    pub fn shared_secret(&self, token: &str) -> [u8; 32] {
        if let Some(secret) = self.replies.get(token) {
            return *secret;
        }
        hmac_sha256(&self.server_secret, token.as_bytes())
    }

    /// Drops a connection and the early bytes it held.
    fn forget(&mut self, token: &str) {
        if let Some(c) = self.connections.remove(token) {
            self.held -= c.streams.values().map(|s| s.held).sum::<u64>();
        }
    }

    /// How many connections are open.
    pub fn connections(&self) -> usize {
        self.connections.len()
    }

    fn reject(&self, code: ErrorCode, message: &str, data: Vec<u8>) -> Reject {
        Reject {
            code,
            triggered_by: Some(self.address.clone()),
            message: message.to_owned(),
            data,
        }
    }

    /// Answers one Prepare.
    pub fn handle(&mut self, prepare: &Prepare) -> Handled {
        self.handle_with(prepare, &mut TakeAll)
    }

    /// Answers one Prepare, `app` deciding on what would be fulfilled.
    pub fn handle_with(&mut self, prepare: &Prepare, app: &mut dyn StreamApp) -> Handled {
        let refused = |reply: Reject| Handled {
            reply: Err(reply),
            delivered: Vec::new(),
        };
        let base = self.address.as_str();
        let token = match prepare
            .destination
            .as_str()
            .strip_prefix(base)
            .and_then(|rest| rest.strip_prefix('.'))
        {
            Some(rest) => rest.split('.').next().unwrap_or_default().to_owned(),
            None => {
                return refused(self.reject(
                    ErrorCode::F02_UNREACHABLE,
                    "not an address of this receiver",
                    Vec::new(),
                ))
            }
        };
        let shared = self.shared_secret(&token);
        let enc = encryption_key(&shared);
        let Ok(plain) = decrypt(&enc, &prepare.data) else {
            return refused(self.reject(
                ErrorCode::F06_UNEXPECTED_PAYMENT,
                "the data does not decrypt for this connection",
                Vec::new(),
            ));
        };
        let packet = match StreamPacket::read(&plain) {
            Ok(p) if p.ilp_packet_type == crate::packet::PREPARE => p,
            _ => {
                return refused(self.reject(
                    ErrorCode::F01_INVALID_PACKET,
                    "not a STREAM packet for a Prepare",
                    Vec::new(),
                ))
            }
        };
        if !self.connections.contains_key(&token) {
            if self.connections.len() >= self.limits.max_connections {
                return refused(self.reject(
                    ErrorCode::T03_CONNECTOR_BUSY,
                    "too many connections; try later",
                    Vec::new(),
                ));
            }
            self.connections.insert(
                token.clone(),
                Connection {
                    encryption_key: enc,
                    fulfillment_key: fulfillment_key(&shared),
                    streams: BTreeMap::new(),
                    asset_sent: false,
                    sent: BTreeMap::new(),
                },
            );
        }
        let (asset_code, asset_scale) = (self.asset_code.clone(), self.asset_scale);
        let limits = self.limits.clone();
        let conn = self.connections.get_mut(&token).expect("just made");
        let fulfillable = condition(&fulfillment(&conn.fulfillment_key, &prepare.data))
            == prepare.execution_condition;

        let mut reply_frames = Vec::new();
        if packet
            .frames
            .iter()
            .any(|f| matches!(f, Frame::ConnectionNewAddress { .. }))
            || !conn.asset_sent
        {
            reply_frames.push(Frame::ConnectionAssetDetails {
                source_asset_code: asset_code,
                source_asset_scale: asset_scale,
            });
            reply_frames.push(Frame::ConnectionMaxStreamId {
                max_stream_id: limits.max_stream_id,
            });
        }
        // Check every frame before anything changes.
        let mut violation = None;
        let mut early = 0u64;
        let mut shares: BTreeMap<u64, u64> = BTreeMap::new();
        for f in &packet.frames {
            let stream = match f {
                Frame::StreamMoney { stream_id, .. }
                | Frame::StreamData { stream_id, .. }
                | Frame::StreamClose { stream_id, .. } => *stream_id,
                _ => continue,
            };
            if stream % 2 == 0 || stream == 0 {
                violation = Some((close_code::PROTOCOL_VIOLATION, "clients open odd streams"));
            } else if stream > limits.max_stream_id {
                violation = Some((close_code::STREAM_ID, "stream id over the maximum"));
            }
            match f {
                Frame::StreamMoney {
                    stream_id,
                    shares: s,
                } => {
                    let e = shares.entry(*stream_id).or_default();
                    *e = e.saturating_add(*s);
                }
                Frame::StreamData {
                    stream_id,
                    offset,
                    data,
                } => {
                    let (delivered, held) = conn
                        .streams
                        .get(stream_id)
                        .map_or((0, 0), |s| (s.delivered, s.held));
                    let end = offset.saturating_add(data.len() as u64);
                    if end > delivered.saturating_add(limits.stream_data_window) {
                        violation =
                            Some((close_code::FLOW_CONTROL, "data past the stream's window"));
                    }
                    if *offset > delivered {
                        // Early bytes are held until the gap fills: at most a window a stream
                        // (overlapping pieces could otherwise hold many windows).
                        early = early.saturating_add(data.len() as u64);
                        if held.saturating_add(data.len() as u64) > limits.stream_data_window {
                            violation = Some((
                                close_code::FLOW_CONTROL,
                                "more early data held than the stream's window",
                            ));
                        }
                    }
                }
                _ => {}
            }
        }
        if let Some((code, why)) = violation {
            self.forget(&token);
            let close = StreamPacket {
                ilp_packet_type: crate::packet::REJECT,
                sequence: packet.sequence,
                prepare_amount: prepare.amount,
                frames: vec![Frame::ConnectionClose {
                    code,
                    message: why.to_owned(),
                }],
            };
            let data = encrypt(&enc, &close.to_bytes());
            return Handled {
                reply: Err(self.reject(ErrorCode::F99_APPLICATION_ERROR, why, data)),
                delivered: vec![Delivered::ConnectionClosed {
                    connection: token,
                    code,
                }],
            };
        }
        if self.held.saturating_add(early) > limits.max_held_bytes {
            return refused(self.reject(
                ErrorCode::T03_CONNECTOR_BUSY,
                "too much early data held; send in order or try later",
                Vec::new(),
            ));
        }
        let conn = self.connections.get_mut(&token).expect("kept above");
        // The money each stream would get: by shares, rounded down, the rest to the lowest.
        let total_shares: u128 = shares.values().map(|s| u128::from(*s)).sum();
        let mut amounts: BTreeMap<u64, u64> = BTreeMap::new();
        if total_shares > 0 && prepare.amount > 0 {
            let mut given = 0u64;
            for (id, s) in &shares {
                let a = (u128::from(prepare.amount) * u128::from(*s) / total_shares) as u64;
                amounts.insert(*id, a);
                given += a;
            }
            if let Some((_, first)) = amounts.iter_mut().next() {
                *first += prepare.amount - given;
            }
        }
        let mut over_max = false;
        for (id, a) in &amounts {
            let s = conn.streams.get(id);
            let received = s.map_or(0, |s| s.received);
            if received.saturating_add(*a) > limits.stream_receive_max
                || s.is_some_and(|s| s.closed)
            {
                over_max = true;
            }
            reply_frames.push(Frame::StreamMaxMoney {
                stream_id: *id,
                receive_max: limits.stream_receive_max,
                total_received: received,
            });
        }
        let money_without_stream = prepare.amount > 0 && amounts.is_empty();
        let accept = fulfillable
            && prepare.amount >= packet.prepare_amount
            && !over_max
            && !money_without_stream;
        // The application decides on what would be taken.
        let decision = if accept {
            let incoming = Incoming {
                amount: prepare.amount,
                client_address: packet.frames.iter().find_map(|f| match f {
                    Frame::ConnectionNewAddress { source_account } => Some(source_account),
                    _ => None,
                }),
                money: &amounts,
                data: packet
                    .frames
                    .iter()
                    .filter_map(|f| match f {
                        Frame::StreamData {
                            stream_id,
                            offset,
                            data,
                        } => Some((*stream_id, *offset, data.as_slice())),
                        _ => None,
                    })
                    .collect(),
            };
            app.decide(&token, &incoming)
        } else {
            Decision::default()
        };
        for (stream_id, bytes) in decision.reply_data {
            let at = conn.sent.entry(stream_id).or_default();
            reply_frames.push(Frame::StreamData {
                stream_id,
                offset: *at,
                data: bytes.clone(),
            });
            *at += bytes.len() as u64;
        }
        if let Some(why) = decision.refuse {
            let answer = StreamPacket {
                ilp_packet_type: crate::packet::REJECT,
                sequence: packet.sequence,
                prepare_amount: prepare.amount,
                frames: reply_frames,
            };
            let data = encrypt(&conn.encryption_key, &answer.to_bytes());
            return Handled {
                reply: Err(self.reject(ErrorCode::F99_APPLICATION_ERROR, &why, data)),
                delivered: Vec::new(),
            };
        }
        if !accept {
            let answer = StreamPacket {
                ilp_packet_type: crate::packet::REJECT,
                sequence: packet.sequence,
                prepare_amount: prepare.amount,
                frames: reply_frames,
            };
            let data = encrypt(&conn.encryption_key, &answer.to_bytes());
            let why = if !fulfillable {
                "unfulfillable (a quote): nothing taken"
            } else if prepare.amount < packet.prepare_amount {
                "less arrived than the sender asked"
            } else {
                "more money than the stream takes"
            };
            return Handled {
                reply: Err(self.reject(ErrorCode::F99_APPLICATION_ERROR, why, data)),
                delivered: Vec::new(),
            };
        }
        // Fulfilled: now the money and data count.
        conn.asset_sent = true;
        let mut delivered = Vec::new();
        for (id, a) in &amounts {
            let s = conn.streams.entry(*id).or_default();
            s.received += a;
            if let Some(Frame::StreamMaxMoney { total_received, .. }) = reply_frames
                .iter_mut()
                .find(|f| matches!(f, Frame::StreamMaxMoney { stream_id, .. } if stream_id == id))
            {
                *total_received = s.received;
            }
            if *a > 0 {
                delivered.push(Delivered::Money {
                    connection: token.clone(),
                    stream_id: *id,
                    amount: *a,
                });
            }
        }
        let mut data_streams = Vec::new();
        for f in &packet.frames {
            match f {
                Frame::StreamData {
                    stream_id,
                    offset,
                    data,
                } => {
                    let s = conn.streams.entry(*stream_id).or_default();
                    if *offset >= s.delivered && !data.is_empty() && !s.pending.contains_key(offset)
                    {
                        s.pending.insert(*offset, data.clone());
                        s.held += data.len() as u64;
                        self.held += data.len() as u64;
                    }
                    let mut bytes = Vec::new();
                    while let Some(piece) = s.pending.remove(&s.delivered) {
                        s.delivered += piece.len() as u64;
                        s.held -= piece.len() as u64;
                        self.held -= piece.len() as u64;
                        bytes.extend_from_slice(&piece);
                    }
                    if !bytes.is_empty() {
                        delivered.push(Delivered::Data {
                            connection: token.clone(),
                            stream_id: *stream_id,
                            bytes,
                        });
                    }
                    if !data_streams.contains(stream_id) {
                        data_streams.push(*stream_id);
                    }
                }
                Frame::StreamClose { stream_id, .. } => {
                    let s = conn.streams.entry(*stream_id).or_default();
                    if !s.closed {
                        s.closed = true;
                        delivered.push(Delivered::StreamClosed {
                            connection: token.clone(),
                            stream_id: *stream_id,
                        });
                    }
                }
                _ => {}
            }
        }
        for id in data_streams {
            let s = &conn.streams[&id];
            reply_frames.push(Frame::StreamMaxData {
                stream_id: id,
                max_offset: s.delivered + limits.stream_data_window,
            });
        }
        let closing = packet.frames.iter().find_map(|f| match f {
            Frame::ConnectionClose { code, .. } => Some(*code),
            _ => None,
        });
        let answer = StreamPacket {
            ilp_packet_type: crate::packet::FULFILL,
            sequence: packet.sequence,
            prepare_amount: prepare.amount,
            frames: reply_frames,
        };
        let data = encrypt(&conn.encryption_key, &answer.to_bytes());
        let f = fulfillment(&conn.fulfillment_key, &prepare.data);
        if let Some(code) = closing {
            self.forget(&token);
            delivered.push(Delivered::ConnectionClosed {
                connection: token,
                code,
            });
        }
        Handled {
            reply: Ok(Fulfill {
                fulfillment: f,
                data,
            }),
            delivered,
        }
    }
}

/// A token as an address segment: base64url without padding (`A-Z a-z 0-9 - _`).
fn token_text(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |acc, (i, b)| acc | (u32::from(*b) << (16 - 8 * i)));
        for i in 0..=chunk.len() {
            out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
        }
    }
    out
}
