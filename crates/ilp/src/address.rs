//! ILP addresses (RFC 15): an allocation scheme (`g`, `private`, `example`, `peer`, `self`,
//! `test`, `test1`–`test3`, `local`) then one or more segments of `A-Z a-z 0-9 _ ~ -`, joined
//! by `.`, at most 1,023 bytes.

use std::fmt;

/// The longest address.
pub const MAX_ADDRESS_BYTES: usize = 1023;

/// The allocation schemes RFC 15 defines.
pub const SCHEMES: &[&str] = &[
    "g", "private", "example", "peer", "self", "test", "test1", "test2", "test3", "local",
];

/// A checked ILP address.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Address(String);

/// Why an address was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AddressError {
    /// Longer than [`MAX_ADDRESS_BYTES`].
    #[error("an ILP address of {0} bytes, over 1023")]
    TooLong(usize),
    /// An allocation scheme RFC 15 does not define.
    #[error("ILP address {0:?}: unknown allocation scheme")]
    Scheme(String),
    /// An empty segment or one with a character outside `A-Z a-z 0-9 _ ~ -`.
    #[error("ILP address {0:?}: each segment must be one or more of A-Z a-z 0-9 _ ~ -")]
    Segment(String),
}

fn segment_ok(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'~' | b'-'))
}

impl Address {
    /// Checks `s`.
    pub fn new(s: &str) -> Result<Address, AddressError> {
        if s.len() > MAX_ADDRESS_BYTES {
            return Err(AddressError::TooLong(s.len()));
        }
        let mut parts = s.split('.');
        let scheme = parts.next().unwrap_or_default();
        if !SCHEMES.contains(&scheme) {
            return Err(AddressError::Scheme(s.to_owned()));
        }
        let mut segments = 0;
        for p in parts {
            if !segment_ok(p) {
                return Err(AddressError::Segment(s.to_owned()));
            }
            segments += 1;
        }
        if segments == 0 {
            return Err(AddressError::Segment(s.to_owned()));
        }
        Ok(Address(s.to_owned()))
    }

    /// The address as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// This address with `segment` appended (a child account).
    pub fn with_segment(&self, segment: &str) -> Result<Address, AddressError> {
        Address::new(&format!("{}.{segment}", self.0))
    }

    /// Whether `self` is `prefix` or lies under it (segment-wise).
    pub fn starts_with(&self, prefix: &str) -> bool {
        self.0 == prefix
            || (self.0.starts_with(prefix) && self.0.as_bytes().get(prefix.len()) == Some(&b'.'))
    }
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::str::FromStr for Address {
    type Err = AddressError;

    fn from_str(s: &str) -> Result<Address, AddressError> {
        Address::new(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc_15_addresses() {
        for ok in [
            "g.acme.bob",
            "example.alice",
            "peer.config",
            "test.a-b_c~d",
            "private.x",
        ] {
            assert!(Address::new(ok).is_ok(), "{ok}");
        }
        for bad in [
            "", "g", "acme.bob", "g..bob", "g.bob.", "g.b ob", "g.bob!", "G.bob",
        ] {
            assert!(Address::new(bad).is_err(), "{bad}");
        }
        assert!(Address::new(&format!("g.{}", "a".repeat(1021))).is_ok());
        assert!(Address::new(&format!("g.{}", "a".repeat(1022))).is_err());
        let a = Address::new("g.acme.bob").unwrap();
        assert!(a.starts_with("g.acme") && a.starts_with("g.acme.bob"));
        assert!(!a.starts_with("g.ac") && !a.starts_with("g.acme.bo"));
    }
}
