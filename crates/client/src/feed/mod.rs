//! An identity's feed on the DHT: a pointer under its transport key naming the newest
//! feed-index torrent, which holds its newest signed events.

pub mod announce;
pub mod index;
pub mod publish;
pub mod reader;
pub mod resolve;

pub use announce::{announce_feed, update_feed, AnnounceError, FeedAnnounced, FeedUpdate};
pub use index::{RefusedLine, FEED_FILE, MAX_FEED_BYTES, MAX_FEED_EVENTS};
pub use publish::{feed_dir, post_note, publish_feed, FeedPublishError, FeedPublished, PostError};
pub use reader::FeedReader;
pub use resolve::{
    fetched_dir, follow_feed, read_feed, resolve_feed, FeedResolveError, FollowError, Followed,
    ResolveOptions, ResolvedFeed,
};
