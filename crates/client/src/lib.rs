//! The client side of Seedstr: keys, relay connections and sync, resolution, publishing,
//! installing, and the seed registry.

pub mod durable;
pub mod install;
pub mod keystore;
pub mod publish;
pub mod relay_conn;
pub mod relays;
pub mod resolve;
pub mod seeds;
pub mod sync;
pub mod target;
pub mod transport_keys;
