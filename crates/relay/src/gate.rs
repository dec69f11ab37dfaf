//! A gate the relay's owner sets in front of storage: a last say over each verified event,
//! after the relay's own policy and before it is stored. The node uses one to keep its owner's
//! inbox (replay window, per-sender limits, blocked people); the relay knows nothing of that.

use std::net::IpAddr;

use seedstr_proto::Event;

/// What a gate says of one event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Store it as usual.
    Admit,
    /// Refuse it with this NIP-01 prefixed reason (`blocked: …`, `rate-limited: …`).
    Refuse(String),
    /// Answer OK, store nothing, send it to nobody: for senders who must not learn they are
    /// refused (someone the owner blocked).
    Discard,
}

/// A last check on each verified event. Called on the connection's task: keep it quick.
pub trait Gate: Send + Sync {
    /// The verdict on `event`, sent from `ip` by a connection authenticated as `authed`, if
    /// it is.
    fn check(&self, event: &Event, ip: IpAddr, authed: Option<&[u8; 32]>) -> Verdict;
}
