//! The client side of Seedstr: key storage, relay connections and sync.

pub mod install;
pub mod keystore;
pub mod relay_conn;
pub mod sync;
