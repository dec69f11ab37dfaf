//! `seedstr pkg …`: LibreSeed, npm and Cargo packages published, resolved and installed
//! through Seedstr.

mod publish;

use anyhow::Result;
use clap::Subcommand;

#[derive(Subcommand)]
pub enum PkgCommand {
    /// Publish a package (a folder, a .tgz or a .crate) as a signed release, and point its
    /// DHT name record (`libreseed:<name>`) at it.
    Publish(Box<publish::PublishArgs>),
}

pub fn run(cmd: PkgCommand) -> Result<()> {
    match cmd {
        PkgCommand::Publish(a) => publish::run(*a),
    }
}
