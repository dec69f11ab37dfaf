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

    /// The verdict on an event its writer already paid for another way (over Interledger): by
    /// default what [`Gate::check`] says; a gate that charges for writes lets it through.
    fn check_paid(&self, event: &Event, ip: IpAddr, authed: Option<&[u8; 32]>) -> Verdict {
        self.check(event, ip, authed)
    }
}

/// Several gates in order: the first that does not admit an event decides.
pub struct Gates(pub Vec<std::sync::Arc<dyn Gate>>);

impl Gates {
    fn first(&self, verdict: impl Fn(&dyn Gate) -> Verdict) -> Verdict {
        for g in &self.0 {
            match verdict(g.as_ref()) {
                Verdict::Admit => {}
                other => return other,
            }
        }
        Verdict::Admit
    }
}

impl Gate for Gates {
    fn check(&self, event: &Event, ip: IpAddr, authed: Option<&[u8; 32]>) -> Verdict {
        self.first(|g| g.check(event, ip, authed))
    }

    fn check_paid(&self, event: &Event, ip: IpAddr, authed: Option<&[u8; 32]>) -> Verdict {
        self.first(|g| g.check_paid(event, ip, authed))
    }
}
