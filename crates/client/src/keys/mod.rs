//! Keys: the identity's Nostr key, stored encrypted, and the transport keys that sign its
//! DHT records, tied to it by attestations.

pub mod store;
pub mod transport;
