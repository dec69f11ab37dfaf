//! Settlement messages between peers, as peer-protocol packets (`peer.settle.*`, like ILDCP's
//! `peer.config` and CCP's `peer.route.*`: Prepares of 0, answered by a Fulfill of 32 zero
//! bytes with the answer as its data): `peer.settle.info` asks how a peer takes settlement,
//! `peer.settle.claim` hands it a payment (a payment channel claim). What the messages hold is
//! the settlement method's business ([`SettlementHandler`]); the connector only carries them
//! between the two accounts.

use std::future::Future;
use std::pin::Pin;

use crate::packet::{Fulfill, Prepare};

/// Asks how the peer takes settlement.
pub const INFO_DESTINATION: &str = "peer.settle.info";
/// Hands the peer a payment.
pub const CLAIM_DESTINATION: &str = "peer.settle.claim";
/// Every settlement message's destination starts so.
pub const PREFIX: &str = "peer.settle.";

/// A settlement message to a peer.
pub fn message(destination: &str, data: Vec<u8>, expires_at: u64) -> Prepare {
    crate::ccp::peer_prepare(destination, data, expires_at)
}

/// The answer to a settlement message.
pub fn answer(data: Vec<u8>) -> Fulfill {
    Fulfill {
        data,
        ..crate::ccp::ccp_response()
    }
}

/// A boxed future, so handlers can sit behind `dyn`.
pub type Handling<'a> = Pin<Box<dyn Future<Output = Result<Vec<u8>, String>> + Send + 'a>>;

/// What answers the settlement messages peers send.
pub trait SettlementHandler: Send + Sync {
    /// Answers the message to `destination` with `data` from peer `from`: the answer's data, or
    /// why it is refused.
    fn handle<'a>(&'a self, from: &'a str, destination: &'a str, data: &'a [u8]) -> Handling<'a>;
}
