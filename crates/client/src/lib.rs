//! The client side of Seedstr: keys, relay connections and sync, resolution, publishing,
//! installing, and the seed registry.

pub mod dht_items;
pub mod dht_resolve;
pub mod display;
pub mod durable;
pub mod feed;
pub mod http;
pub mod install;
pub mod json_files;
pub mod keystore;
pub mod live;
pub mod names;
pub mod outbox;
pub mod own_events;
pub mod payload_store;
pub mod publish;
pub mod relay_conn;
pub mod relays;
pub mod republish;
pub mod resolve;
pub mod seed_health;
pub mod seeds;
pub mod source;
pub mod sync;
pub mod target;
pub mod transport_keys;
