#![warn(missing_docs)]
//! O-Red on Seedstr: a social network where each person's node is their home. Profiles, posts,
//! friends and private messages are Nostr events (`docs/social.md` maps the O-Red seed's terms to
//! them); this crate owns those operations, and the CLI and the node render what they return.

pub mod encryption;
pub mod inbox;
pub mod nip05;
pub mod people;
pub mod posts;
pub mod private_message;
pub mod profile;
