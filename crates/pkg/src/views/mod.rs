//! Registry views: what the unmodified npm and cargo clients read from a registry, built from
//! signed releases that the trusted registries allow.

pub mod cargo;
pub mod npm;
pub mod server;
