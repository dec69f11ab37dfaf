//! Seeding: the registry of payloads to serve, the kept copies of fetched payloads, the DHT
//! records kept alive, and who else seeds a release.

pub mod dht_items;
pub mod health;
pub mod payload_store;
pub mod registry;
pub mod republish;
pub mod seeder;
