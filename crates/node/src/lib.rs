#![warn(missing_docs)]
//! The Seedstr node: one long-running process that is a relay, a seeder, a DHT node and a
//! registry gateway at once, on one HTTP port plus the torrent and DHT ports.

pub mod api;
pub mod bounds;
pub mod config;
pub mod discovery;
pub mod health;
pub mod home;
pub mod ilp;
pub mod node;
pub mod sync;
pub mod ui;

pub use config::NodeConfig;
pub use node::{run, Addresses, Owner};
