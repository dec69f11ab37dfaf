//! BTP (RFC 23), the Bilateral Transfer Protocol peers speak over a WebSocket: Response (1),
//! Error (2), Message (6) and Transfer (7), each a type byte, a 32-bit request id and a
//! length-prefixed body whose last part is the protocol data: named sub-protocols (`ilp` for an
//! ILP packet, `auth`, `auth_username`, `auth_token`), each with a content type and bytes. The
//! layout is `btp-packet`'s (npm), the JavaScript implementation peers run.

use crate::oer::{write_var_octets, write_var_uint, OerError, Reader};
use crate::timestamp::{read_timestamp, write_timestamp, TimestampError};

/// Response's type byte.
pub const RESPONSE: u8 = 1;
/// Error's type byte.
pub const ERROR: u8 = 2;
/// Message's type byte.
pub const MESSAGE: u8 = 6;
/// Transfer's type byte.
pub const TRANSFER: u8 = 7;

/// Content type: bytes.
pub const OCTET_STREAM: u8 = 0;
/// Content type: UTF-8 text.
pub const TEXT_PLAIN_UTF8: u8 = 1;
/// Content type: JSON.
pub const APPLICATION_JSON: u8 = 2;

/// The most data an Error carries.
pub const MAX_ERROR_DATA_BYTES: usize = 8192;

/// Why a BTP packet does not read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BtpError {
    /// The encoding.
    #[error("BTP packet: {0}")]
    Oer(#[from] OerError),
    /// A type BTP 2.0 does not have.
    #[error("BTP packet: unknown type {0}")]
    Type(u8),
    /// More protocol data entries announced than the bytes could hold.
    #[error("BTP packet: {0} protocol data entries announced, more than its bytes hold")]
    Entries(u64),
    /// Text that is not ASCII (names, codes) or UTF-8.
    #[error("BTP packet: the {0} is not text")]
    Text(&'static str),
    /// `triggeredAt` that is not `YYYYMMDDHHmmss.fffZ`.
    #[error("BTP packet: triggeredAt: {0}")]
    Time(#[from] TimestampError),
    /// Error data over [`MAX_ERROR_DATA_BYTES`].
    #[error("BTP packet: {0} bytes of error data, over 8192")]
    ErrorData(usize),
}

/// One entry of a packet's protocol data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProtocolData {
    /// The sub-protocol (`ilp`, `auth`, …), ASCII.
    pub protocol_name: String,
    /// [`OCTET_STREAM`], [`TEXT_PLAIN_UTF8`] or [`APPLICATION_JSON`].
    pub content_type: u8,
    /// Its bytes.
    pub data: Vec<u8>,
}

/// A BTP packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BtpPacket {
    /// The answer to a Message or Transfer.
    Response {
        /// The request it answers.
        request_id: u32,
        /// Its protocol data.
        protocol_data: Vec<ProtocolData>,
    },
    /// A refusal of a Message or Transfer.
    Error {
        /// The request it answers.
        request_id: u32,
        /// Three characters.
        code: [u8; 3],
        /// The error's name (ASCII).
        name: String,
        /// When (Unix milliseconds).
        triggered_at: u64,
        /// Detail.
        data: Vec<u8>,
        /// Its protocol data.
        protocol_data: Vec<ProtocolData>,
    },
    /// A request (an ILP packet, authentication…).
    Message {
        /// Its id, echoed by the answer.
        request_id: u32,
        /// Its protocol data.
        protocol_data: Vec<ProtocolData>,
    },
    /// A settlement of `amount` between the peers.
    Transfer {
        /// Its id, echoed by the answer.
        request_id: u32,
        /// How much.
        amount: u64,
        /// Its protocol data.
        protocol_data: Vec<ProtocolData>,
    },
}

fn read_protocol_data(r: &mut Reader<'_>) -> Result<Vec<ProtocolData>, BtpError> {
    let count = r.var_uint("protocolData")?;
    // An entry takes at least three bytes.
    if count > (r.rest().len() / 3) as u64 {
        return Err(BtpError::Entries(count));
    }
    let mut out = Vec::with_capacity(count as usize);
    for _ in 0..count {
        let name = r.var_octets("protocolName")?;
        if !name.is_ascii() {
            return Err(BtpError::Text("protocol name"));
        }
        out.push(ProtocolData {
            protocol_name: String::from_utf8(name.to_vec()).expect("ASCII"),
            content_type: r.u8("contentType")?,
            data: r.var_octets("data")?.to_vec(),
        });
    }
    Ok(out)
}

fn write_protocol_data(out: &mut Vec<u8>, entries: &[ProtocolData]) {
    write_var_uint(out, entries.len() as u64);
    for p in entries {
        write_var_octets(out, p.protocol_name.as_bytes());
        out.push(p.content_type);
        write_var_octets(out, &p.data);
    }
}

/// `YYYYMMDDHHmmss.fffZ`, as btp-packet writes a time.
fn read_time(bytes: &[u8]) -> Result<u64, BtpError> {
    let bad = || TimestampError(String::from_utf8_lossy(bytes).into_owned());
    if bytes.len() != 19 || bytes[14] != b'.' || bytes[18] != b'Z' {
        return Err(bad().into());
    }
    let mut digits = [0u8; 17];
    digits[..14].copy_from_slice(&bytes[..14]);
    digits[14..].copy_from_slice(&bytes[15..18]);
    Ok(read_timestamp(&digits)?)
}

fn write_time(millis: u64) -> Vec<u8> {
    let d = write_timestamp(millis);
    let mut out = d[..14].to_vec();
    out.push(b'.');
    out.extend_from_slice(&d[14..]);
    out.push(b'Z');
    out
}

impl BtpPacket {
    /// The request id.
    pub fn request_id(&self) -> u32 {
        match self {
            BtpPacket::Response { request_id, .. }
            | BtpPacket::Error { request_id, .. }
            | BtpPacket::Message { request_id, .. }
            | BtpPacket::Transfer { request_id, .. } => *request_id,
        }
    }

    /// The protocol data.
    pub fn protocol_data(&self) -> &[ProtocolData] {
        match self {
            BtpPacket::Response { protocol_data, .. }
            | BtpPacket::Error { protocol_data, .. }
            | BtpPacket::Message { protocol_data, .. }
            | BtpPacket::Transfer { protocol_data, .. } => protocol_data,
        }
    }

    /// The bytes of the entry named `name`, if any.
    pub fn entry(&self, name: &str) -> Option<&[u8]> {
        self.protocol_data()
            .iter()
            .find(|p| p.protocol_name == name)
            .map(|p| p.data.as_slice())
    }

    /// Reads one packet, all of `bytes`. Bytes after the body's fields are ignored, as
    /// btp-packet ignores them.
    pub fn read(bytes: &[u8]) -> Result<BtpPacket, BtpError> {
        let mut outer = Reader::new(bytes);
        let kind = outer.u8("type")?;
        let request_id = outer.u32("requestId")?;
        let body = outer.var_octets("packet")?;
        outer.finish()?;
        let mut r = Reader::new(body);
        Ok(match kind {
            RESPONSE => BtpPacket::Response {
                request_id,
                protocol_data: read_protocol_data(&mut r)?,
            },
            MESSAGE => BtpPacket::Message {
                request_id,
                protocol_data: read_protocol_data(&mut r)?,
            },
            TRANSFER => BtpPacket::Transfer {
                request_id,
                amount: r.u64("amount")?,
                protocol_data: read_protocol_data(&mut r)?,
            },
            ERROR => {
                let code: [u8; 3] = r.array("code")?;
                if !code.is_ascii() {
                    return Err(BtpError::Text("code"));
                }
                let name = r.var_octets("name")?;
                if !name.is_ascii() {
                    return Err(BtpError::Text("name"));
                }
                let triggered_at = read_time(r.var_octets("triggeredAt")?)?;
                let data = r.var_octets("data")?;
                if data.len() > MAX_ERROR_DATA_BYTES {
                    return Err(BtpError::ErrorData(data.len()));
                }
                BtpPacket::Error {
                    request_id,
                    code,
                    name: String::from_utf8(name.to_vec()).expect("ASCII"),
                    triggered_at,
                    data: data.to_vec(),
                    protocol_data: read_protocol_data(&mut r)?,
                }
            }
            other => return Err(BtpError::Type(other)),
        })
    }

    /// The packet's bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut body = Vec::new();
        let kind = match self {
            BtpPacket::Response { protocol_data, .. } => {
                write_protocol_data(&mut body, protocol_data);
                RESPONSE
            }
            BtpPacket::Message { protocol_data, .. } => {
                write_protocol_data(&mut body, protocol_data);
                MESSAGE
            }
            BtpPacket::Transfer {
                amount,
                protocol_data,
                ..
            } => {
                body.extend_from_slice(&amount.to_be_bytes());
                write_protocol_data(&mut body, protocol_data);
                TRANSFER
            }
            BtpPacket::Error {
                code,
                name,
                triggered_at,
                data,
                protocol_data,
                ..
            } => {
                body.extend_from_slice(code);
                write_var_octets(&mut body, name.as_bytes());
                write_var_octets(&mut body, &write_time(*triggered_at));
                write_var_octets(&mut body, data);
                write_protocol_data(&mut body, protocol_data);
                ERROR
            }
        };
        let mut out = Vec::with_capacity(body.len() + 8);
        out.push(kind);
        out.extend_from_slice(&self.request_id().to_be_bytes());
        write_var_octets(&mut out, &body);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// btp-packet's test packets (`test/index.spec.ts`, interledgerjs/btp-packet).
    fn entries() -> Vec<ProtocolData> {
        let e = |name: &str, content_type, data: &[u8]| ProtocolData {
            protocol_name: name.into(),
            content_type,
            data: data.to_vec(),
        };
        vec![
            e("ilp", OCTET_STREAM, b""),
            e("foo", OCTET_STREAM, b"bar"),
            e("beep", TEXT_PLAIN_UTF8, b"boop"),
            e("json", APPLICATION_JSON, b"{}"),
        ]
    }

    /// The four entries above, as btp-packet writes them.
    const TAIL: [u8; 37] = [
        1, 4, 3, 105, 108, 112, 0, 0, 3, 102, 111, 111, 0, 3, 98, 97, 114, 4, 98, 101, 101, 112, 1,
        4, 98, 111, 111, 112, 4, 106, 115, 111, 110, 2, 2, 123, 125,
    ];

    fn with_tail(head: &[u8]) -> Vec<u8> {
        let mut v = head.to_vec();
        v.extend_from_slice(&TAIL);
        v
    }

    #[test]
    fn btp_packet_s_test_packets() {
        let response = with_tail(&[1, 0, 0, 0, 1, 37]);
        let message = with_tail(&[6, 0, 0, 0, 1, 37]);
        let transfer = with_tail(&[7, 0, 0, 0, 1, 45, 0, 0, 0, 0, 0, 0, 0, 100]);
        let mut error = vec![2, 0, 0, 0, 1, 74, 76, 49, 51, 9];
        error.extend_from_slice(b"errorName");
        error.push(19);
        error.extend_from_slice(b"20170828183200.000Z");
        error.extend_from_slice(&[3, 98, 111, 111]);
        error.extend_from_slice(&TAIL);
        let cases = [
            (
                response,
                BtpPacket::Response {
                    request_id: 1,
                    protocol_data: entries(),
                },
            ),
            (
                message,
                BtpPacket::Message {
                    request_id: 1,
                    protocol_data: entries(),
                },
            ),
            (
                transfer,
                BtpPacket::Transfer {
                    request_id: 1,
                    amount: 100,
                    protocol_data: entries(),
                },
            ),
            (
                error,
                BtpPacket::Error {
                    request_id: 1,
                    code: *b"L13",
                    name: "errorName".into(),
                    // 2017-08-28T18:32:00.000Z
                    triggered_at: 1_503_945_120_000,
                    data: b"boo".to_vec(),
                    protocol_data: entries(),
                },
            ),
        ];
        for (bytes, packet) in cases {
            assert_eq!(BtpPacket::read(&bytes).unwrap(), packet);
            assert_eq!(packet.to_bytes(), bytes);
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig {
            rng_seed: proptest::test_runner::RngSeed::Fixed(0x5eed),
            failure_persistence: None,
            ..ProptestConfig::default()
        })]

        #[test]
        fn packets_round_trip(
            request_id in any::<u32>(),
            amount in any::<u64>(),
            at in 0u64..253_402_300_799_999,
            names in proptest::collection::vec("[a-z_]{1,12}", 0..4),
            data in proptest::collection::vec(any::<u8>(), 0..100),
        ) {
            let protocol_data: Vec<ProtocolData> = names
                .iter()
                .map(|n| ProtocolData { protocol_name: n.clone(), content_type: 0, data: data.clone() })
                .collect();
            for p in [
                BtpPacket::Message { request_id, protocol_data: protocol_data.clone() },
                BtpPacket::Transfer { request_id, amount, protocol_data: protocol_data.clone() },
                BtpPacket::Error { request_id, code: *b"F00", name: "NotAcceptedError".into(), triggered_at: at, data: data.clone(), protocol_data: protocol_data.clone() },
            ] {
                prop_assert_eq!(BtpPacket::read(&p.to_bytes()).unwrap(), p);
            }
        }

        #[test]
        fn any_bytes_read_or_are_refused(bytes in proptest::collection::vec(any::<u8>(), 0..120)) {
            if let Ok(p) = BtpPacket::read(&bytes) {
                prop_assert_eq!(BtpPacket::read(&p.to_bytes()).unwrap(), p);
            }
        }
    }
}
