//! ILPv4 packets (RFC 27): Prepare (type 12), Fulfill (13) and Reject (14), each a type byte
//! and a length-prefixed body in OER. Reading checks every field (addresses, timestamps, the
//! 32,767-byte data cap, error codes) and that nothing is left over.

use crate::address::{Address, AddressError};
use crate::oer::{write_var_octets, OerError, Reader};
use crate::timestamp::{read_timestamp, write_timestamp, TimestampError};

/// Prepare's type byte.
pub const PREPARE: u8 = 12;
/// Fulfill's type byte.
pub const FULFILL: u8 = 13;
/// Reject's type byte.
pub const REJECT: u8 = 14;
/// The most data a packet carries.
pub const MAX_DATA_BYTES: usize = 32_767;

/// Why a packet does not read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PacketError {
    /// The encoding.
    #[error("ILP packet: {0}")]
    Oer(#[from] OerError),
    /// An unknown type byte.
    #[error("ILP packet: unknown type {0} (12 prepare, 13 fulfill, 14 reject)")]
    Type(u8),
    /// An address.
    #[error("ILP packet: {0}")]
    Address(#[from] AddressError),
    /// A timestamp.
    #[error("ILP packet: {0}")]
    Timestamp(#[from] TimestampError),
    /// Data over [`MAX_DATA_BYTES`].
    #[error("ILP packet: {0} bytes of data, over 32767")]
    Data(usize),
    /// An error code that is not a class letter and two digits.
    #[error("ILP packet: error code {0:?} is not F, T or R and two digits")]
    Code(String),
    /// Text that is not UTF-8.
    #[error("ILP packet: the {0} is not UTF-8")]
    Utf8(&'static str),
}

/// Asks the next hop to hold `amount` until the fulfillment of `execution_condition` arrives,
/// or `expires_at` passes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prepare {
    /// In the sender's units at this hop.
    pub amount: u64,
    /// Milliseconds since the Unix epoch.
    pub expires_at: u64,
    /// SHA-256 of the fulfillment.
    pub execution_condition: [u8; 32],
    /// Where the payment goes.
    pub destination: Address,
    /// End-to-end data (a STREAM packet, say).
    pub data: Vec<u8>,
}

/// The receiver's answer that releases the money: the preimage of the condition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fulfill {
    /// Its SHA-256 is the Prepare's condition.
    pub fulfillment: [u8; 32],
    /// End-to-end data.
    pub data: Vec<u8>,
}

/// A refusal, by the receiver or any hop.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reject {
    /// Why, as RFC 27's codes say.
    pub code: ErrorCode,
    /// Who refused (may be empty).
    pub triggered_by: Option<Address>,
    /// For people.
    pub message: String,
    /// Machine-readable detail (STREAM puts its reply here).
    pub data: Vec<u8>,
}

/// One of the three packets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Packet {
    /// A Prepare.
    Prepare(Prepare),
    /// A Fulfill.
    Fulfill(Fulfill),
    /// A Reject.
    Reject(Reject),
}

/// An RFC 27 error code: F (final), T (temporary) or R (relative) and two digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ErrorCode(pub [u8; 3]);

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&String::from_utf8_lossy(&self.0))
    }
}

impl ErrorCode {
    /// Whether the same packet may go later (`T`: a temporary error; `R`: relative, such as a
    /// timeout), where an `F` error is final.
    pub fn is_temporary(&self) -> bool {
        matches!(self.0[0], b'T' | b'R')
    }

    /// Generic sender error.
    pub const F00_BAD_REQUEST: ErrorCode = ErrorCode(*b"F00");
    /// The packet does not read.
    pub const F01_INVALID_PACKET: ErrorCode = ErrorCode(*b"F01");
    /// No route to the destination.
    pub const F02_UNREACHABLE: ErrorCode = ErrorCode(*b"F02");
    /// The amount is invalid.
    pub const F03_INVALID_AMOUNT: ErrorCode = ErrorCode(*b"F03");
    /// The receiver got less than it asked.
    pub const F04_INSUFFICIENT_DESTINATION_AMOUNT: ErrorCode = ErrorCode(*b"F04");
    /// The receiver cannot produce the fulfillment.
    pub const F05_WRONG_CONDITION: ErrorCode = ErrorCode(*b"F05");
    /// The receiver did not expect this payment.
    pub const F06_UNEXPECTED_PAYMENT: ErrorCode = ErrorCode(*b"F06");
    /// The receiver cannot take payments.
    pub const F07_CANNOT_RECEIVE: ErrorCode = ErrorCode(*b"F07");
    /// Over the largest packet amount; data says the maximum.
    pub const F08_AMOUNT_TOO_LARGE: ErrorCode = ErrorCode(*b"F08");
    /// A final application error (STREAM).
    pub const F99_APPLICATION_ERROR: ErrorCode = ErrorCode(*b"F99");
    /// Something broke inside a connector.
    pub const T00_INTERNAL_ERROR: ErrorCode = ErrorCode(*b"T00");
    /// The next hop did not answer.
    pub const T01_PEER_UNREACHABLE: ErrorCode = ErrorCode(*b"T01");
    /// The next hop is busy.
    pub const T02_PEER_BUSY: ErrorCode = ErrorCode(*b"T02");
    /// This connector is busy.
    pub const T03_CONNECTOR_BUSY: ErrorCode = ErrorCode(*b"T03");
    /// Not enough credit or liquidity with the next hop.
    pub const T04_INSUFFICIENT_LIQUIDITY: ErrorCode = ErrorCode(*b"T04");
    /// Too many packets.
    pub const T05_RATE_LIMITED: ErrorCode = ErrorCode(*b"T05");
    /// A temporary application error.
    pub const T99_APPLICATION_ERROR: ErrorCode = ErrorCode(*b"T99");
    /// The Prepare expired.
    pub const R00_TRANSFER_TIMED_OUT: ErrorCode = ErrorCode(*b"R00");
    /// The sender sent too little.
    pub const R01_INSUFFICIENT_SOURCE_AMOUNT: ErrorCode = ErrorCode(*b"R01");
    /// Too little time left to forward.
    pub const R02_INSUFFICIENT_TIMEOUT: ErrorCode = ErrorCode(*b"R02");
    /// A relative application error.
    pub const R99_APPLICATION_ERROR: ErrorCode = ErrorCode(*b"R99");

    /// Checks three bytes.
    pub fn new(b: [u8; 3]) -> Result<ErrorCode, PacketError> {
        if matches!(b[0], b'F' | b'T' | b'R') && b[1].is_ascii_digit() && b[2].is_ascii_digit() {
            Ok(ErrorCode(b))
        } else {
            Err(PacketError::Code(String::from_utf8_lossy(&b).into_owned()))
        }
    }

    /// The code as text (`F02`).
    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).expect("checked ASCII")
    }
}

fn data(r: &mut Reader<'_>) -> Result<Vec<u8>, PacketError> {
    let d = r.var_octets("data")?;
    if d.len() > MAX_DATA_BYTES {
        return Err(PacketError::Data(d.len()));
    }
    Ok(d.to_vec())
}

fn address(bytes: &[u8]) -> Result<Address, PacketError> {
    let s = std::str::from_utf8(bytes).map_err(|_| PacketError::Utf8("address"))?;
    Ok(Address::new(s)?)
}

impl Packet {
    /// Reads one packet, all of `bytes`.
    pub fn read(bytes: &[u8]) -> Result<Packet, PacketError> {
        let mut outer = Reader::new(bytes);
        let kind = outer.u8("type")?;
        let body = outer.var_octets("packet")?;
        outer.finish()?;
        let mut r = Reader::new(body);
        let packet = match kind {
            PREPARE => Packet::Prepare(Prepare {
                amount: r.u64("amount")?,
                expires_at: read_timestamp(r.take(17, "expiresAt")?)?,
                execution_condition: r.array("executionCondition")?,
                destination: address(r.var_octets("destination")?)?,
                data: data(&mut r)?,
            }),
            FULFILL => Packet::Fulfill(Fulfill {
                fulfillment: r.array("fulfillment")?,
                data: data(&mut r)?,
            }),
            REJECT => Packet::Reject(Reject {
                code: ErrorCode::new(r.array("code")?)?,
                triggered_by: match r.var_octets("triggeredBy")? {
                    [] => None,
                    a => Some(address(a)?),
                },
                message: String::from_utf8(r.var_octets("message")?.to_vec())
                    .map_err(|_| PacketError::Utf8("message"))?,
                data: data(&mut r)?,
            }),
            other => return Err(PacketError::Type(other)),
        };
        r.finish()?;
        Ok(packet)
    }

    /// The packet's bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut body = Vec::new();
        let kind = match self {
            Packet::Prepare(p) => {
                body.extend_from_slice(&p.amount.to_be_bytes());
                body.extend_from_slice(&write_timestamp(p.expires_at));
                body.extend_from_slice(&p.execution_condition);
                write_var_octets(&mut body, p.destination.as_str().as_bytes());
                write_var_octets(&mut body, &p.data);
                PREPARE
            }
            Packet::Fulfill(f) => {
                body.extend_from_slice(&f.fulfillment);
                write_var_octets(&mut body, &f.data);
                FULFILL
            }
            Packet::Reject(j) => {
                body.extend_from_slice(&j.code.0);
                let by = j.triggered_by.as_ref().map_or("", Address::as_str);
                write_var_octets(&mut body, by.as_bytes());
                write_var_octets(&mut body, j.message.as_bytes());
                write_var_octets(&mut body, &j.data);
                REJECT
            }
        };
        let mut out = Vec::with_capacity(body.len() + 4);
        out.push(kind);
        write_var_octets(&mut out, &body);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn arb_address() -> impl Strategy<Value = Address> {
        (
            "(g|test|example|peer)",
            proptest::collection::vec("[a-zA-Z0-9_~-]{1,12}", 1..5),
        )
            .prop_map(|(s, segs)| Address::new(&format!("{s}.{}", segs.join("."))).unwrap())
    }

    fn arb_packet() -> impl Strategy<Value = Packet> {
        let data = proptest::collection::vec(any::<u8>(), 0..300);
        prop_oneof![
            (
                any::<u64>(),
                0u64..253_402_300_799_999,
                any::<[u8; 32]>(),
                arb_address(),
                data.clone()
            )
                .prop_map(
                    |(amount, expires_at, execution_condition, destination, data)| {
                        Packet::Prepare(Prepare {
                            amount,
                            expires_at,
                            execution_condition,
                            destination,
                            data,
                        })
                    }
                ),
            (any::<[u8; 32]>(), data.clone())
                .prop_map(|(fulfillment, data)| Packet::Fulfill(Fulfill { fulfillment, data })),
            (
                "[FTR][0-9][0-9]",
                proptest::option::of(arb_address()),
                ".{0,40}",
                data
            )
                .prop_map(|(code, triggered_by, message, data)| {
                    let code = ErrorCode::new(code.as_bytes().try_into().unwrap()).unwrap();
                    Packet::Reject(Reject {
                        code,
                        triggered_by,
                        message,
                        data,
                    })
                }),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig {
            rng_seed: proptest::test_runner::RngSeed::Fixed(0x5eed),
            failure_persistence: None,
            ..ProptestConfig::default()
        })]

        #[test]
        fn packets_round_trip(p in arb_packet()) {
            prop_assert_eq!(Packet::read(&p.to_bytes()).unwrap(), p);
        }

        #[test]
        fn any_bytes_read_or_are_refused(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            if let Ok(p) = Packet::read(&bytes) {
                prop_assert_eq!(p.to_bytes(), bytes);
            }
        }
    }
}
