//! STREAM packets and frames (RFC 29): version 1, the ILP packet type it rides in, a sequence
//! number, the Prepare amount, and frames, each a type byte and a length-prefixed body. Unknown
//! frame types are skipped (a newer peer may send them); bytes after the frames are ignored, as
//! RFC 29 asks for extensions. Two fields read as JavaScript's implementation reads them: a
//! `receiveMax` or `sendMax` too large for 64 bits is the largest 64-bit number.

use crate::address::Address;
use crate::oer::{write_length, write_var_octets, write_var_uint, OerError, Reader};

/// STREAM's version.
pub const VERSION: u8 = 1;

/// Why a STREAM packet does not read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StreamPacketError {
    /// The encoding.
    #[error("STREAM packet: {0}")]
    Oer(#[from] OerError),
    /// Another version than 1.
    #[error("STREAM packet: version {0}, not 1")]
    Version(u8),
    /// An ILP packet type that is not 12, 13 or 14.
    #[error("STREAM packet: ILP packet type {0}")]
    PacketType(u8),
    /// More frames announced than the bytes could hold.
    #[error("STREAM packet: {0} frames announced, more than its bytes hold")]
    Frames(u64),
    /// A frame field that does not read.
    #[error("STREAM packet: frame {frame}: {why}")]
    Frame {
        /// The frame's type.
        frame: u8,
        /// Why.
        why: String,
    },
}

/// One STREAM frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Frame {
    /// 1: the connection closes, with a code and a message.
    ConnectionClose {
        /// RFC 29's error code (0 no error, 1 internal error, …).
        code: u8,
        /// For people.
        message: String,
    },
    /// 2: the sender's ILP address.
    ConnectionNewAddress {
        /// Where to send packets back.
        source_account: Address,
    },
    /// 3: how much connection-level data the sender can take.
    ConnectionMaxData {
        /// The highest offset.
        max_offset: u64,
    },
    /// 4: the sender is blocked on connection-level data.
    ConnectionDataBlocked {
        /// The offset it is blocked at.
        max_offset: u64,
    },
    /// 5: the highest stream id the sender accepts.
    ConnectionMaxStreamId {
        /// The id.
        max_stream_id: u64,
    },
    /// 6: the sender wants to open more streams.
    ConnectionStreamIdBlocked {
        /// The id it is blocked at.
        max_stream_id: u64,
    },
    /// 7: the sender's asset.
    ConnectionAssetDetails {
        /// The asset code (`USD`, `XRP`…).
        source_asset_code: String,
        /// Its scale (2: hundredths).
        source_asset_scale: u8,
    },
    /// 16: a stream closes.
    StreamClose {
        /// The stream.
        stream_id: u64,
        /// Why (0: no error).
        code: u8,
        /// For people.
        message: String,
    },
    /// 17: money for a stream, in shares of the Prepare's amount.
    StreamMoney {
        /// The stream.
        stream_id: u64,
        /// Its shares.
        shares: u64,
    },
    /// 18: how much a stream may still receive.
    StreamMaxMoney {
        /// The stream.
        stream_id: u64,
        /// The most it takes in all.
        receive_max: u64,
        /// What it took so far.
        total_received: u64,
    },
    /// 19: the sender wants to send more than the stream takes.
    StreamMoneyBlocked {
        /// The stream.
        stream_id: u64,
        /// The most it would send.
        send_max: u64,
        /// What it sent so far.
        total_sent: u64,
    },
    /// 20: bytes of a stream.
    StreamData {
        /// The stream.
        stream_id: u64,
        /// Where they go in the stream.
        offset: u64,
        /// The bytes.
        data: Vec<u8>,
    },
    /// 21: how far into a stream the sender can take data.
    StreamMaxData {
        /// The stream.
        stream_id: u64,
        /// The highest offset.
        max_offset: u64,
    },
    /// 22: the sender is blocked on a stream's data.
    StreamDataBlocked {
        /// The stream.
        stream_id: u64,
        /// The offset it is blocked at.
        max_offset: u64,
    },
    /// 23: a receipt (RFC 39) for money a stream received.
    StreamReceipt {
        /// The stream.
        stream_id: u64,
        /// The receipt's bytes.
        receipt: Vec<u8>,
    },
}

impl Frame {
    /// The frame's type byte.
    pub fn type_id(&self) -> u8 {
        match self {
            Frame::ConnectionClose { .. } => 1,
            Frame::ConnectionNewAddress { .. } => 2,
            Frame::ConnectionMaxData { .. } => 3,
            Frame::ConnectionDataBlocked { .. } => 4,
            Frame::ConnectionMaxStreamId { .. } => 5,
            Frame::ConnectionStreamIdBlocked { .. } => 6,
            Frame::ConnectionAssetDetails { .. } => 7,
            Frame::StreamClose { .. } => 16,
            Frame::StreamMoney { .. } => 17,
            Frame::StreamMaxMoney { .. } => 18,
            Frame::StreamMoneyBlocked { .. } => 19,
            Frame::StreamData { .. } => 20,
            Frame::StreamMaxData { .. } => 21,
            Frame::StreamDataBlocked { .. } => 22,
            Frame::StreamReceipt { .. } => 23,
        }
    }

    fn write_body(&self, b: &mut Vec<u8>) {
        match self {
            Frame::ConnectionClose { code, message } => {
                b.push(*code);
                write_var_octets(b, message.as_bytes());
            }
            Frame::ConnectionNewAddress { source_account } => {
                write_var_octets(b, source_account.as_str().as_bytes())
            }
            Frame::ConnectionMaxData { max_offset }
            | Frame::ConnectionDataBlocked { max_offset } => write_var_uint(b, *max_offset),
            Frame::ConnectionMaxStreamId { max_stream_id }
            | Frame::ConnectionStreamIdBlocked { max_stream_id } => {
                write_var_uint(b, *max_stream_id)
            }
            Frame::ConnectionAssetDetails {
                source_asset_code,
                source_asset_scale,
            } => {
                write_var_octets(b, source_asset_code.as_bytes());
                b.push(*source_asset_scale);
            }
            Frame::StreamClose {
                stream_id,
                code,
                message,
            } => {
                write_var_uint(b, *stream_id);
                b.push(*code);
                write_var_octets(b, message.as_bytes());
            }
            Frame::StreamMoney { stream_id, shares } => {
                write_var_uint(b, *stream_id);
                write_var_uint(b, *shares);
            }
            Frame::StreamMaxMoney {
                stream_id,
                receive_max: x,
                total_received: y,
            }
            | Frame::StreamMoneyBlocked {
                stream_id,
                send_max: x,
                total_sent: y,
            } => {
                write_var_uint(b, *stream_id);
                write_var_uint(b, *x);
                write_var_uint(b, *y);
            }
            Frame::StreamData {
                stream_id,
                offset,
                data,
            } => {
                write_var_uint(b, *stream_id);
                write_var_uint(b, *offset);
                write_var_octets(b, data);
            }
            Frame::StreamMaxData {
                stream_id,
                max_offset,
            }
            | Frame::StreamDataBlocked {
                stream_id,
                max_offset,
            } => {
                write_var_uint(b, *stream_id);
                write_var_uint(b, *max_offset);
            }
            Frame::StreamReceipt { stream_id, receipt } => {
                write_var_uint(b, *stream_id);
                write_var_octets(b, receipt);
            }
        }
    }

    /// Reads a frame's body; `None` for a type this version does not know.
    fn read(type_id: u8, body: &[u8]) -> Result<Option<Frame>, StreamPacketError> {
        let mut r = Reader::new(body);
        let text = |r: &mut Reader<'_>, what| -> Result<String, StreamPacketError> {
            String::from_utf8(r.var_octets(what)?.to_vec()).map_err(|_| StreamPacketError::Frame {
                frame: type_id,
                why: format!("{what} is not UTF-8"),
            })
        };
        let frame = match type_id {
            1 => Frame::ConnectionClose {
                code: r.u8("code")?,
                message: text(&mut r, "message")?,
            },
            2 => {
                let a = text(&mut r, "address")?;
                Frame::ConnectionNewAddress {
                    source_account: Address::new(&a).map_err(|e| StreamPacketError::Frame {
                        frame: type_id,
                        why: e.to_string(),
                    })?,
                }
            }
            3 => Frame::ConnectionMaxData {
                max_offset: r.var_uint("maxOffset")?,
            },
            4 => Frame::ConnectionDataBlocked {
                max_offset: r.var_uint("maxOffset")?,
            },
            5 => Frame::ConnectionMaxStreamId {
                max_stream_id: r.var_uint("maxStreamId")?,
            },
            6 => Frame::ConnectionStreamIdBlocked {
                max_stream_id: r.var_uint("maxStreamId")?,
            },
            7 => Frame::ConnectionAssetDetails {
                source_asset_code: text(&mut r, "assetCode")?,
                source_asset_scale: r.u8("assetScale")?,
            },
            16 => Frame::StreamClose {
                stream_id: r.var_uint("streamId")?,
                code: r.u8("code")?,
                message: text(&mut r, "message")?,
            },
            17 => Frame::StreamMoney {
                stream_id: r.var_uint("streamId")?,
                shares: r.var_uint("shares")?,
            },
            18 => Frame::StreamMaxMoney {
                stream_id: r.var_uint("streamId")?,
                receive_max: saturating_var_uint(&mut r, "receiveMax")?,
                total_received: r.var_uint("totalReceived")?,
            },
            19 => Frame::StreamMoneyBlocked {
                stream_id: r.var_uint("streamId")?,
                send_max: saturating_var_uint(&mut r, "sendMax")?,
                total_sent: r.var_uint("totalSent")?,
            },
            20 => Frame::StreamData {
                stream_id: r.var_uint("streamId")?,
                offset: r.var_uint("offset")?,
                data: r.var_octets("data")?.to_vec(),
            },
            21 => Frame::StreamMaxData {
                stream_id: r.var_uint("streamId")?,
                max_offset: r.var_uint("maxOffset")?,
            },
            22 => Frame::StreamDataBlocked {
                stream_id: r.var_uint("streamId")?,
                max_offset: r.var_uint("maxOffset")?,
            },
            23 => Frame::StreamReceipt {
                stream_id: r.var_uint("streamId")?,
                receipt: r.var_octets("receipt")?.to_vec(),
            },
            _ => return Ok(None),
        };
        Ok(Some(frame))
    }
}

/// A variable-length unsigned integer where one too large for 64 bits means "no limit".
fn saturating_var_uint(r: &mut Reader<'_>, what: &'static str) -> Result<u64, OerError> {
    let bytes = r.var_octets(what)?;
    if bytes.is_empty() {
        return Err(OerError::Length(what));
    }
    let significant = &bytes[bytes.iter().take_while(|b| **b == 0).count()..];
    if significant.len() > 8 {
        return Ok(u64::MAX);
    }
    Ok(significant
        .iter()
        .fold(0u64, |acc, b| (acc << 8) | u64::from(*b)))
}

/// A STREAM packet, before encryption.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamPacket {
    /// Which ILP packet carries it (12, 13 or 14).
    pub ilp_packet_type: u8,
    /// Its sequence number in the connection.
    pub sequence: u64,
    /// For a Prepare, its amount; for a reply, what the receiver got.
    pub prepare_amount: u64,
    /// Its frames.
    pub frames: Vec<Frame>,
}

impl StreamPacket {
    /// The packet's bytes (to be encrypted).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = vec![VERSION, self.ilp_packet_type];
        write_var_uint(&mut out, self.sequence);
        write_var_uint(&mut out, self.prepare_amount);
        write_var_uint(&mut out, self.frames.len() as u64);
        let mut body = Vec::new();
        for f in &self.frames {
            out.push(f.type_id());
            body.clear();
            f.write_body(&mut body);
            write_length(&mut out, body.len());
            out.extend_from_slice(&body);
        }
        out
    }

    /// Reads a decrypted packet.
    pub fn read(bytes: &[u8]) -> Result<StreamPacket, StreamPacketError> {
        let mut r = Reader::new(bytes);
        let version = r.u8("version")?;
        if version != VERSION {
            return Err(StreamPacketError::Version(version));
        }
        let ilp_packet_type = r.u8("ilpPacketType")?;
        if !(12..=14).contains(&ilp_packet_type) {
            return Err(StreamPacketError::PacketType(ilp_packet_type));
        }
        let sequence = r.var_uint("sequence")?;
        let prepare_amount = r.var_uint("prepareAmount")?;
        let count = r.var_uint("frames")?;
        // Each frame takes at least two bytes: no allocation beyond what the bytes could hold.
        if count > (r.rest().len() / 2) as u64 {
            return Err(StreamPacketError::Frames(count));
        }
        let mut frames = Vec::with_capacity(count as usize);
        for _ in 0..count {
            let type_id = r.u8("frame type")?;
            let body = r.var_octets("frame")?;
            if let Some(f) = Frame::read(type_id, body)? {
                frames.push(f);
            }
        }
        Ok(StreamPacket {
            ilp_packet_type,
            sequence,
            prepare_amount,
            frames,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn arb_frame() -> impl Strategy<Value = Frame> {
        let n = any::<u64>();
        prop_oneof![
            (any::<u8>(), ".{0,20}")
                .prop_map(|(code, message)| Frame::ConnectionClose { code, message }),
            "[a-z]{1,10}".prop_map(|s| Frame::ConnectionNewAddress {
                source_account: Address::new(&format!("test.{s}")).unwrap()
            }),
            n.prop_map(|max_offset| Frame::ConnectionMaxData { max_offset }),
            n.prop_map(|max_stream_id| Frame::ConnectionStreamIdBlocked { max_stream_id }),
            ("[A-Z]{3}", any::<u8>()).prop_map(|(source_asset_code, source_asset_scale)| {
                Frame::ConnectionAssetDetails {
                    source_asset_code,
                    source_asset_scale,
                }
            }),
            (n, any::<u8>(), ".{0,20}").prop_map(|(stream_id, code, message)| Frame::StreamClose {
                stream_id,
                code,
                message
            }),
            (n, n).prop_map(|(stream_id, shares)| Frame::StreamMoney { stream_id, shares }),
            (n, n, n).prop_map(
                |(stream_id, receive_max, total_received)| Frame::StreamMaxMoney {
                    stream_id,
                    receive_max,
                    total_received
                }
            ),
            (n, n, n).prop_map(
                |(stream_id, send_max, total_sent)| Frame::StreamMoneyBlocked {
                    stream_id,
                    send_max,
                    total_sent
                }
            ),
            (n, n, proptest::collection::vec(any::<u8>(), 0..200)).prop_map(
                |(stream_id, offset, data)| Frame::StreamData {
                    stream_id,
                    offset,
                    data
                }
            ),
            (n, n).prop_map(|(stream_id, max_offset)| Frame::StreamDataBlocked {
                stream_id,
                max_offset
            }),
            (n, proptest::collection::vec(any::<u8>(), 0..60))
                .prop_map(|(stream_id, receipt)| Frame::StreamReceipt { stream_id, receipt }),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig {
            rng_seed: proptest::test_runner::RngSeed::Fixed(0x5eed),
            failure_persistence: None,
            ..ProptestConfig::default()
        })]

        #[test]
        fn packets_round_trip(
            ilp_packet_type in 12u8..=14,
            sequence in any::<u64>(),
            prepare_amount in any::<u64>(),
            frames in proptest::collection::vec(arb_frame(), 0..6),
        ) {
            let p = StreamPacket { ilp_packet_type, sequence, prepare_amount, frames };
            prop_assert_eq!(StreamPacket::read(&p.to_bytes()).unwrap(), p);
        }

        #[test]
        fn any_bytes_read_or_are_refused(bytes in proptest::collection::vec(any::<u8>(), 0..120)) {
            if let Ok(p) = StreamPacket::read(&bytes) {
                // What reads writes back to something that reads the same.
                prop_assert_eq!(StreamPacket::read(&p.to_bytes()).unwrap(), p);
            }
        }
    }

    #[test]
    fn unknown_frames_are_skipped() {
        let mut bytes = vec![1, 12, 1, 7, 1, 0, 1, 2];
        bytes.extend_from_slice(&[99, 2, 0xaa, 0xbb]);
        bytes.extend_from_slice(&[17, 4, 1, 1, 1, 5]);
        let p = StreamPacket::read(&bytes).unwrap();
        assert_eq!(p.sequence, 7);
        assert_eq!(
            p.frames,
            vec![Frame::StreamMoney {
                stream_id: 1,
                shares: 5
            }]
        );
    }
}
