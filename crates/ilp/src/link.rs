//! A link to the next hop: something that takes a Prepare and answers its Fulfill or Reject
//! (a BTP session, a connector, a receiver in the same process).

use std::future::Future;

use crate::packet::{Fulfill, Prepare, Reject};

/// The next hop.
pub trait IlpLink: Send + Sync {
    /// Sends `prepare` and waits for the answer.
    fn send(&self, prepare: Prepare) -> impl Future<Output = Result<Fulfill, Reject>> + Send;
}
