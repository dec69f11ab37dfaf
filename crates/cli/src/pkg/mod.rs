//! `seedstr pkg …`: LibreSeed, npm and Cargo packages published, resolved and installed
//! through Seedstr.

mod install;
mod publish;
mod registry;
mod serve;

use anyhow::Result;
use clap::Subcommand;

#[derive(Subcommand)]
pub enum PkgCommand {
    /// Publish a package (a folder, a .tgz or a .crate) as a signed release, and point its
    /// DHT name record (`libreseed:<name>`) at it.
    Publish(Box<publish::PublishArgs>),
    /// Install npm packages and their dependencies into .libreseed_modules, locked in
    /// libreseed-lock.json.
    Install(Box<install::InstallArgs>),
    /// Publisher registries: who may publish which name, and which registries you trust.
    #[command(subcommand)]
    Registry(registry::RegistryCommand),
    /// Revoke a key in your registry, or your own key (--self).
    Revoke(Box<registry::RevokeArgs>),
    /// Serve the npm and Cargo registry views over HTTP for the unmodified clients.
    Serve(Box<serve::ServeArgs>),
}

pub fn run(cmd: PkgCommand) -> Result<()> {
    match cmd {
        PkgCommand::Publish(a) => publish::run(*a),
        PkgCommand::Install(a) => install::run(*a),
        PkgCommand::Registry(c) => registry::run(c),
        PkgCommand::Revoke(a) => registry::revoke(*a),
        PkgCommand::Serve(a) => serve::run(*a),
    }
}
