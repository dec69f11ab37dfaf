//! Kind classes of NIP-01: they decide whether the relay stores, replaces or only forwards.

/// How a relay treats an event of a given kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KindClass {
    /// Stored as is; several per author.
    Regular,
    /// One per (kind, pubkey): 0, 3 and 10000–19999.
    Replaceable,
    /// Forwarded to live subscribers, never stored: 20000–29999.
    Ephemeral,
    /// One per (kind, pubkey, `d` tag): 30000–39999.
    Addressable,
}

impl KindClass {
    /// The class of `kind`, by NIP-01's ranges.
    pub fn of(kind: u16) -> Self {
        match kind {
            0 | 3 | 10_000..=19_999 => KindClass::Replaceable,
            20_000..=29_999 => KindClass::Ephemeral,
            30_000..=39_999 => KindClass::Addressable,
            _ => KindClass::Regular,
        }
    }
}

/// NIP-09 deletion request.
pub const DELETION: u16 = 5;
/// NIP-42 client authentication; never stored nor broadcast.
pub const CLIENT_AUTH: u16 = 22_242;
/// NIP-04 encrypted direct message.
pub const ENCRYPTED_DM: u16 = 4;
/// NIP-59 gift wrap.
pub const GIFT_WRAP: u16 = 1059;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes_follow_nip01_ranges() {
        assert_eq!(KindClass::of(1), KindClass::Regular);
        assert_eq!(KindClass::of(0), KindClass::Replaceable);
        assert_eq!(KindClass::of(3), KindClass::Replaceable);
        assert_eq!(KindClass::of(9_999), KindClass::Regular);
        assert_eq!(KindClass::of(10_000), KindClass::Replaceable);
        assert_eq!(KindClass::of(19_999), KindClass::Replaceable);
        assert_eq!(KindClass::of(20_000), KindClass::Ephemeral);
        assert_eq!(KindClass::of(29_999), KindClass::Ephemeral);
        assert_eq!(KindClass::of(30_000), KindClass::Addressable);
        assert_eq!(KindClass::of(30_079), KindClass::Addressable);
        assert_eq!(KindClass::of(39_999), KindClass::Addressable);
        assert_eq!(KindClass::of(40_000), KindClass::Regular);
    }
}
