#![warn(missing_docs)]
//! Seedstr's protocol layer: event classes, filters and the NIP-01 wire messages.
//! Pure data and validation; nothing here does I/O.

pub mod clock;
pub mod event;
pub mod filter;
pub mod incident;
pub mod kind;
pub mod message;
pub mod package;
pub mod path;
pub mod release;
pub mod search;
pub mod tags;
pub mod uri;
pub mod verified;
pub mod zap_split;

pub use event::{parse_event, EventError};
pub use filter::{Filter, FilterError};
pub use kind::KindClass;
pub use nostr;
pub use nostr::prelude::Event;
pub use verified::Verified;
