//! The wall clock, in the Unix seconds that Nostr events and DHT records carry.

/// Seconds since the Unix epoch, now (0 on a clock set before 1970).
pub fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}
