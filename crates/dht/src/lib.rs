#![warn(missing_docs)]
//! Seedstr on the BitTorrent Mainline DHT (BEP-44 mutable items): transport keys attested by
//! Nostr keys, feed pointers and name records, with their size limits checked before a put.

pub mod item;
pub mod join;
pub mod node;
pub mod record;
pub mod routing_cache;
pub mod transport;

pub use item::{ItemError, SignedItem};
pub use mainline::{MutableItem, SigningKey, Testnet};
pub use node::{DhtError, DhtNode, DhtOptions, Stored, Write};
pub use record::{
    check_sizes, name_salt, FeedPointer, NameRecord, RecordError, MAX_SALT, MAX_VALUE,
};
