//! The sending end of a STREAM connection (RFC 29): sequence numbers, client stream ids (odd),
//! packets sealed with the connection's key and fulfillable only by the receiver, and the
//! receiver's answers checked (decrypted, the right packet type, the same sequence) before they
//! are believed. Money and data go out over any [`IlpLink`].

use crate::address::Address;
use crate::link::IlpLink;
use crate::packet::{ErrorCode, Prepare, Reject};
use crate::stream::crypto::{
    condition, decrypt, encrypt, encryption_key, fulfillment, fulfillment_key,
};
use crate::stream::packet::{Frame, StreamPacket};

/// The most data bytes put in one packet.
pub const MAX_DATA_PER_PACKET: usize = 16 * 1024;

/// Why a send failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// A hop or the receiver refused.
    #[error("refused ({}): {}", .0.code.as_str(), .0.message)]
    Rejected(Reject),
    /// The receiver's answer does not read as this connection's.
    #[error("the receiver's answer is not this connection's: {0}")]
    BadAnswer(String),
    /// The receiver closed the connection.
    #[error("the receiver closed the connection (code {code}): {message}")]
    Closed {
        /// Its close code.
        code: u8,
        /// Its message.
        message: String,
    },
}

/// What one packet did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sent {
    /// Whether it was fulfilled.
    pub fulfilled: bool,
    /// What arrived at the receiver, in its units (from its answer).
    pub arrived: u64,
    /// The receiver's frames.
    pub frames: Vec<Frame>,
}

/// What [`StreamSender::send_total`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Total {
    /// Sent, in our units.
    pub sent: u64,
    /// What the receiver says arrived, in its units.
    pub arrived: u64,
    /// Packets fulfilled.
    pub packets: u64,
    /// Packets refused along the way (each answered by a smaller packet, or a retry).
    pub refused: u64,
    /// The path's exchange rate as probed (arrived per unit sent), in millionths.
    pub rate_ppm: u64,
    /// The largest packet the path took.
    pub max_packet: u64,
}

/// One connection's sending end.
pub struct StreamSender {
    destination: Address,
    encryption_key: [u8; 32],
    fulfillment_key: [u8; 32],
    sequence: u64,
    next_stream: u64,
    /// Bytes sent per stream (the next offset).
    offsets: std::collections::BTreeMap<u64, u64>,
    /// Milliseconds a Prepare stays valid, counted from the clock given to each send.
    pub expiry_ms: u64,
}

impl StreamSender {
    /// A connection to `destination` with `shared_secret` (from SPSP, say).
    pub fn new(destination: Address, shared_secret: &[u8; 32]) -> StreamSender {
        StreamSender {
            destination,
            encryption_key: encryption_key(shared_secret),
            fulfillment_key: fulfillment_key(shared_secret),
            sequence: 0,
            next_stream: 1,
            offsets: Default::default(),
            expiry_ms: 30_000,
        }
    }

    /// Bytes sent (and fulfilled) on `stream_id` so far: the next offset.
    pub fn sent_on(&self, stream_id: u64) -> u64 {
        self.offsets.get(&stream_id).copied().unwrap_or(0)
    }

    /// A new client stream's id (1, 3, 5…).
    pub fn open_stream(&mut self) -> u64 {
        let id = self.next_stream;
        self.next_stream += 2;
        id
    }

    /// Builds the Prepare for `frames` carrying `amount`, asking the receiver to take no less
    /// than `min_arrival`; `fulfillable` false makes a quote the receiver can only reject.
    pub fn prepare(
        &mut self,
        amount: u64,
        min_arrival: u64,
        frames: Vec<Frame>,
        fulfillable: bool,
        now_ms: u64,
    ) -> (Prepare, u64) {
        self.sequence += 1;
        let packet = StreamPacket {
            ilp_packet_type: crate::packet::PREPARE,
            sequence: self.sequence,
            prepare_amount: min_arrival,
            frames,
        };
        let data = encrypt(&self.encryption_key, &packet.to_bytes());
        let execution_condition = if fulfillable {
            condition(&fulfillment(&self.fulfillment_key, &data))
        } else {
            rand::random()
        };
        (
            Prepare {
                amount,
                expires_at: now_ms.saturating_add(self.expiry_ms),
                execution_condition,
                destination: self.destination.clone(),
                data,
            },
            self.sequence,
        )
    }

    /// Reads the receiver's answer to packet `sequence` (sealed in a Fulfill or Reject).
    pub fn read_answer(
        &self,
        sequence: u64,
        packet_type: u8,
        data: &[u8],
    ) -> Result<StreamPacket, SendError> {
        let plain =
            decrypt(&self.encryption_key, data).map_err(|e| SendError::BadAnswer(e.to_string()))?;
        let p = StreamPacket::read(&plain).map_err(|e| SendError::BadAnswer(e.to_string()))?;
        if p.ilp_packet_type != packet_type || p.sequence != sequence {
            return Err(SendError::BadAnswer(format!(
                "packet type {} sequence {}, expected {packet_type} and {sequence}",
                p.ilp_packet_type, p.sequence
            )));
        }
        Ok(p)
    }

    /// Sends one packet over `link` and reads the answer.
    pub async fn send(
        &mut self,
        link: &impl IlpLink,
        amount: u64,
        min_arrival: u64,
        frames: Vec<Frame>,
        fulfillable: bool,
        now_ms: u64,
    ) -> Result<Sent, SendError> {
        let (prepare, seq) = self.prepare(amount, min_arrival, frames, fulfillable, now_ms);
        let condition = prepare.execution_condition;
        match link.send(prepare).await {
            Ok(f) => {
                if crate::stream::crypto::condition(&f.fulfillment) != condition {
                    return Err(SendError::BadAnswer(
                        "the fulfillment does not match".into(),
                    ));
                }
                let p = self.read_answer(seq, crate::packet::FULFILL, &f.data)?;
                Ok(Sent {
                    fulfilled: true,
                    arrived: p.prepare_amount,
                    frames: p.frames,
                })
            }
            Err(r) if r.code == ErrorCode::F99_APPLICATION_ERROR && !r.data.is_empty() => {
                let p = self.read_answer(seq, crate::packet::REJECT, &r.data)?;
                if let Some((code, message)) = p.frames.iter().find_map(|f| match f {
                    Frame::ConnectionClose { code, message } => Some((*code, message.clone())),
                    _ => None,
                }) {
                    return Err(SendError::Closed { code, message });
                }
                Ok(Sent {
                    fulfilled: false,
                    arrived: p.prepare_amount,
                    frames: p.frames,
                })
            }
            Err(r) => Err(SendError::Rejected(r)),
        }
    }

    /// Sends `amount` on `stream_id` in one packet; the receiver must get at least
    /// `min_arrival`.
    pub async fn send_money(
        &mut self,
        link: &impl IlpLink,
        stream_id: u64,
        amount: u64,
        min_arrival: u64,
        now_ms: u64,
    ) -> Result<Sent, SendError> {
        let frames = vec![Frame::StreamMoney {
            stream_id,
            shares: 1,
        }];
        self.send(link, amount, min_arrival, frames, true, now_ms)
            .await
    }

    /// Sends `bytes` on `stream_id`, in packets of at most [`MAX_DATA_PER_PACKET`], each
    /// fulfilled before the next goes.
    pub async fn send_data(
        &mut self,
        link: &impl IlpLink,
        stream_id: u64,
        bytes: &[u8],
        now_ms: u64,
    ) -> Result<(), SendError> {
        for chunk in bytes.chunks(MAX_DATA_PER_PACKET) {
            let offset = *self.offsets.get(&stream_id).unwrap_or(&0);
            let frames = vec![Frame::StreamData {
                stream_id,
                offset,
                data: chunk.to_vec(),
            }];
            let sent = self.send(link, 0, 0, frames, true, now_ms).await?;
            if !sent.fulfilled {
                return Err(SendError::BadAnswer(
                    "a data packet was not fulfilled".into(),
                ));
            }
            self.offsets.insert(stream_id, offset + chunk.len() as u64);
        }
        Ok(())
    }
}

impl StreamSender {
    /// Sends `amount` on `stream_id`, as many packets as the path needs: a quote first learns
    /// the exchange rate (what arrived per unit sent), every packet then asks the receiver for at
    /// least that rate less `slippage_ppm`; a packet refused as too large (`F08`) is answered
    /// with the size the refusing hop says it takes, one refused for liquidity (`T04`) with half
    /// the size; `max_refusals` refusals in a row give up.
    pub async fn send_total(
        &mut self,
        link: &impl IlpLink,
        stream_id: u64,
        amount: u64,
        slippage_ppm: u64,
        now_ms: u64,
    ) -> Result<Total, SendError> {
        const MAX_REFUSALS: u64 = 32;
        let mut total = Total::default();
        let mut max_packet = amount.max(1);
        let money = |shares| vec![Frame::StreamMoney { stream_id, shares }];
        // The rate: a quote of the first packet's size, made smaller while hops refuse it.
        let mut in_a_row = 0;
        let rate_ppm = loop {
            let probe = max_packet.min(amount).max(1);
            match self.send(link, probe, 0, money(1), false, now_ms).await {
                Ok(answer) => {
                    break (u128::from(answer.arrived) * 1_000_000 / u128::from(probe)) as u64;
                }
                Err(SendError::Rejected(r)) if r.code == ErrorCode::F08_AMOUNT_TOO_LARGE => {
                    max_packet = smaller_packet(&r, probe);
                }
                Err(SendError::Rejected(r)) if r.code == ErrorCode::T04_INSUFFICIENT_LIQUIDITY => {
                    max_packet = (probe / 2).max(1);
                }
                Err(e) => return Err(e),
            }
            total.refused += 1;
            in_a_row += 1;
            if in_a_row >= MAX_REFUSALS {
                return Err(SendError::BadAnswer(
                    "the path refused every packet size".into(),
                ));
            }
        };
        total.rate_ppm = rate_ppm;
        let min_rate = u128::from(rate_ppm) * u128::from(1_000_000 - slippage_ppm.min(1_000_000));
        in_a_row = 0;
        while total.sent < amount {
            let packet = (amount - total.sent).min(max_packet);
            let min_arrival = (u128::from(packet) * min_rate / 1_000_000_000_000) as u64;
            match self
                .send(link, packet, min_arrival, money(1), true, now_ms)
                .await
            {
                Ok(answer) if answer.fulfilled => {
                    total.sent += packet;
                    total.arrived += answer.arrived;
                    total.packets += 1;
                    total.max_packet = total.max_packet.max(packet);
                    in_a_row = 0;
                    continue;
                }
                Ok(_) => {
                    // The receiver would not take it (less arrived than asked: the rate moved).
                    return Err(SendError::BadAnswer(
                        "the receiver refused a packet: less arrived than the probed rate".into(),
                    ));
                }
                Err(SendError::Rejected(r)) if r.code == ErrorCode::F08_AMOUNT_TOO_LARGE => {
                    max_packet = smaller_packet(&r, packet);
                }
                Err(SendError::Rejected(r)) if r.code == ErrorCode::T04_INSUFFICIENT_LIQUIDITY => {
                    max_packet = (packet / 2).max(1);
                }
                Err(e) => return Err(e),
            }
            total.refused += 1;
            in_a_row += 1;
            if in_a_row >= MAX_REFUSALS {
                return Err(SendError::BadAnswer(format!(
                    "{} of {amount} sent; the path refused {MAX_REFUSALS} packets in a row",
                    total.sent
                )));
            }
        }
        Ok(total)
    }
}

/// The packet size an `F08` allows: its data is the amount the refusing hop received and the
/// most it takes (8 bytes each); scaled back to our units. Without data, half.
fn smaller_packet(r: &Reject, sent: u64) -> u64 {
    if r.data.len() >= 16 {
        let received = u64::from_be_bytes(r.data[..8].try_into().expect("8 bytes"));
        let maximum = u64::from_be_bytes(r.data[8..16].try_into().expect("8 bytes"));
        if received > 0 && maximum > 0 {
            let scaled = (u128::from(sent) * u128::from(maximum) / u128::from(received)) as u64;
            return scaled.clamp(1, sent.saturating_sub(1).max(1));
        }
    }
    (sent / 2).max(1)
}
