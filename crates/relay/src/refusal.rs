//! Why the relay refuses an event or a request, as NIP-01 `OK` and `CLOSED` messages say it:
//! a machine-readable prefix, a colon, then words for people.

/// The prefixes NIP-01 and NIP-42 define.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Prefix {
    /// The event or request is malformed, or breaks a rule every relay has.
    Invalid,
    /// This relay's policy does not take it.
    Blocked,
    /// Too many messages too fast.
    RateLimited,
    /// The client must authenticate first (NIP-42).
    AuthRequired,
    /// The client is authenticated but not allowed.
    Restricted,
    /// The relay already holds it, or something newer.
    Duplicate,
    /// The relay failed.
    Error,
}

impl Prefix {
    /// The prefix as it goes on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Prefix::Invalid => "invalid",
            Prefix::Blocked => "blocked",
            Prefix::RateLimited => "rate-limited",
            Prefix::AuthRequired => "auth-required",
            Prefix::Restricted => "restricted",
            Prefix::Duplicate => "duplicate",
            Prefix::Error => "error",
        }
    }
}

/// A refusal: displays as the message the client receives.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}: {text}", prefix.as_str())]
pub struct Refusal {
    /// The machine-readable part.
    pub prefix: Prefix,
    /// Words for people.
    pub text: String,
}

impl Refusal {
    /// A refusal with `prefix`, saying `text`.
    pub fn new(prefix: Prefix, text: impl Into<String>) -> Refusal {
        Refusal {
            prefix,
            text: text.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refusal_reads_as_its_wire_message() {
        let r = Refusal::new(Prefix::RateLimited, "slow down");
        assert_eq!(r.to_string(), "rate-limited: slow down");
        assert_eq!(
            Refusal::new(Prefix::AuthRequired, "log in").to_string(),
            "auth-required: log in"
        );
    }
}
