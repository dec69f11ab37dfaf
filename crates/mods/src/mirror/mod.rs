//! Mirror bots: follow authors on relays and hold every current release of theirs for seeding,
//! letting go of what their incidents withdraw.

pub mod bot;
pub mod followed;
pub mod offers;

pub use followed::{Dropped, Followed, Ignored, MirrorPlan, Taken};
