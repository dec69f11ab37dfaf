pub mod events;
pub mod games;
