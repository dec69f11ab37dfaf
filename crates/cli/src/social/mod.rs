//! `seedstr social …`: O-Red, the social network where each person's node is their home.

mod answers;
mod discover;
mod dm;
mod friend;
mod media;
mod public;

use anyhow::Result;
use clap::Subcommand;

#[derive(Subcommand)]
pub enum SocialCommand {
    /// Private messages (NIP-17): end-to-end encrypted, wrapped so relays see neither sender nor
    /// content.
    #[command(subcommand)]
    Dm(dm::DmCommand),
    /// Friends: requests, answers, your private friends list, blocking.
    #[command(subcommand)]
    Friend(friend::FriendCommand),
    /// Follow people (your kind 3 list, every other entry kept).
    Follow(public::FollowArgs),
    /// Stop following people.
    Unfollow(public::FollowArgs),
    /// Post (kind 1), or reply (NIP-10): public, to your friends only, or to yourself.
    Post(public::PostArgs),
    /// Your home timeline: the posts of the people you follow, and yours, newest first.
    Feed(public::FeedArgs),
    /// A thread: its first post and every reply the relays hold, as a tree.
    Thread(public::ThreadArgs),
    /// React to an event (NIP-25): a like, a dislike or an emoji.
    React(answers::ReactArgs),
    /// Repost a post (NIP-18).
    Repost(answers::RepostArgs),
    /// Ask relays to delete your events (NIP-09).
    Delete(answers::DeleteArgs),
    /// Replies, mentions, reactions and reposts that concern you, newest first.
    Notifications(answers::NotificationsArgs),
    /// Your status line (NIP-38): set yours, show anyone's.
    #[command(subcommand)]
    Status(answers::StatusCommand),
    /// Find people through directories (by key, NIP-05 identifier or name) and confirm each
    /// with their own node.
    Discover(discover::DiscoverArgs),
    /// Attachments: fetch a post's files, check them and seed them.
    #[command(subcommand)]
    Media(media::MediaCommand),
    /// Profiles (kind 0): set yours, show anyone's.
    #[command(subcommand)]
    Profile(public::ProfileCommand),
}

pub fn run(cmd: SocialCommand) -> Result<()> {
    match cmd {
        SocialCommand::Dm(c) => dm::run(c),
        SocialCommand::Friend(c) => friend::run(c),
        SocialCommand::Follow(a) => public::follow(a, true),
        SocialCommand::Unfollow(a) => public::follow(a, false),
        SocialCommand::Post(a) => public::post(a),
        SocialCommand::Feed(a) => public::feed(a),
        SocialCommand::Profile(c) => public::profile(c),
        SocialCommand::Thread(a) => public::thread(a),
        SocialCommand::React(a) => answers::react_to(a),
        SocialCommand::Repost(a) => answers::repost_post(a),
        SocialCommand::Delete(a) => answers::delete_events(a),
        SocialCommand::Notifications(a) => answers::notifications_of(a),
        SocialCommand::Status(c) => answers::status_of(c),
        SocialCommand::Discover(a) => discover::run(a),
        SocialCommand::Media(c) => media::run(c),
    }
}
