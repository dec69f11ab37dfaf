#![warn(missing_docs)]
//! The client side of Seedstr, by concept: keys, the relay pool, resolution, publishing,
//! feeds on the DHT, installing, and seeding what was published or installed.

pub mod display;
pub mod feed;
pub mod files;
pub mod http;
pub mod install;
pub mod keys;
pub mod publish;
pub mod relays;
pub mod reputation;
pub mod resolve;
pub mod seeding;
