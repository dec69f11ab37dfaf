//! `seedstr social …`: O-Red, the social network where each person's node is their home.

mod dm;
mod friend;
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
    }
}
