//! Files written so that a crash never leaves them half-written, and folders of JSON files
//! read back.

pub mod blocking;
pub mod crash;
pub mod durable;
pub mod json;
pub mod lock;
