#![warn(missing_docs)]
//! O-Red on Seedstr: a social network where each person's node is their home. Profiles, posts,
//! friends and private messages are Nostr events (`docs/social.md` maps the O-Red seed's terms to
//! them); this crate owns those operations, and the CLI and the node render what they return.

pub mod directory;
pub mod encryption;
pub mod friends;
pub mod gift_wrap;
pub mod home;
pub mod inbox;
pub mod local;
pub mod media;
pub mod nip05;
pub mod notifications;
pub mod people;
pub mod posts;
pub mod private_message;
pub mod profile;
pub mod reactions;

/// The date for a new version of a replaceable event (profile, follow list) whose current
/// version is dated `current`: now, or one second after it if the clock is behind, since a
/// version replaces another only by being newer.
pub(crate) fn dated_after(current: Option<u64>) -> nostr::prelude::Timestamp {
    let now = nostr::prelude::Timestamp::now().as_secs();
    nostr::prelude::Timestamp::from(current.map_or(now, |t| now.max(t + 1)))
}
