//! `seedstr pkg …`: LibreSeed, npm and Cargo packages published, resolved and installed
//! through Seedstr.

mod incident;
mod install;
mod publish;
mod registry;
mod serve;

use std::path::Path;
use std::time::Duration;

use anyhow::Result;
use clap::{Args, Subcommand};
use seedstr_client::install::InstallOptions;
use seedstr_pkg::catalog::Sources;

use crate::net_args::{PeerArgs, RelayArgs};

/// Where packages are looked up and fetched from: `pkg install` and `pkg serve`.
#[derive(Args)]
pub struct LookupArgs {
    /// Also trust this publisher registry (npub or hex, repeatable).
    #[arg(long = "registry")]
    registries: Vec<String>,
    /// Seconds without progress before the swarm counts as stalled and mirrors take over.
    #[arg(long, default_value_t = 60)]
    stall_timeout: u64,
    #[command(flatten)]
    relay: RelayArgs,
    #[command(flatten)]
    peer: PeerArgs,
}

impl LookupArgs {
    /// The relays and trusted registries to read, and how to fetch archives.
    fn sources_and_fetch(&self, home: &Path) -> Result<(Sources, InstallOptions)> {
        let sources = Sources {
            relays: self.relay.relays(),
            relay_timeout: self.relay.timeout(),
            trusted: registry::trusted(home, &self.registries)?,
            home: home.to_owned(),
            cache: None,
        };
        let fetch = InstallOptions {
            relays: self.relay.relays(),
            relay_timeout: self.relay.timeout(),
            allow_downgrade: true,
            peers: self.peer.peers.clone(),
            stall_timeout: Duration::from_secs(self.stall_timeout.max(1)),
            home: home.to_owned(),
            dht: self.peer.dht_options(),
            dht_node: None,
            max_release_bytes: self.peer.max_release_bytes,
        };
        Ok((sources, fetch))
    }
}

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
    /// Say which versions of a package you published are unsafe: installs and views refuse them.
    Incident(Box<incident::IncidentArgs>),
    /// Serve the npm and Cargo registry views over HTTP for the unmodified clients.
    Serve(Box<serve::ServeArgs>),
}

pub fn run(cmd: PkgCommand) -> Result<()> {
    match cmd {
        PkgCommand::Publish(a) => publish::run(*a),
        PkgCommand::Install(a) => install::run(*a),
        PkgCommand::Registry(c) => registry::run(c),
        PkgCommand::Revoke(a) => registry::revoke(*a),
        PkgCommand::Incident(a) => incident::run(*a),
        PkgCommand::Serve(a) => serve::run(*a),
    }
}
