//! `seedstr social …`: O-Red, the social network where each person's node is their home.

mod dm;

use anyhow::Result;
use clap::Subcommand;

#[derive(Subcommand)]
pub enum SocialCommand {
    /// Private messages (NIP-17): end-to-end encrypted, wrapped so relays see neither sender nor
    /// content.
    #[command(subcommand)]
    Dm(dm::DmCommand),
}

pub fn run(cmd: SocialCommand) -> Result<()> {
    match cmd {
        SocialCommand::Dm(c) => dm::run(c),
    }
}
