//! `seedstr pkg publish`: the package's own packer makes the archive, which is kept, signed
//! and seeded as it is.

use std::path::PathBuf;

use anyhow::{anyhow, Result};
use clap::Args;
use seedstr_client::keys::store::{home, passphrase, KeyStore};
use seedstr_pkg::publish::{keep_archive, publish_request};
use seedstr_pkg::{Ecosystem, Package};

use crate::dht::DhtArgs;
use crate::dht::DhtWriteArgs;
use crate::net_args::{runtime, RelayArgs};
use crate::publish::print_published;
use seedstr_client::publish::publish_release;

#[derive(Args)]
pub struct PublishArgs {
    /// The package: a folder (packed by `npm pack` or `cargo package`), a .tgz or a .crate.
    path: PathBuf,
    /// Which ecosystem: npm or cargo.
    #[arg(long)]
    ns: String,
    /// Web mirror holding the archive at <mirror>/<archive name> (repeatable).
    #[arg(long = "mirror")]
    mirrors: Vec<String>,
    /// A BitTorrent peer (host:port) you run as your own seeder, named in the signed release:
    /// installs ask it first, then the DHT's and trackers' peers (repeatable, at most 16).
    #[arg(long = "seeder")]
    seeders: Vec<String>,
    /// BitTorrent tracker announce URL (repeatable).
    #[arg(long = "tracker")]
    trackers: Vec<String>,
    /// Changelog text (Markdown).
    #[arg(long, default_value = "")]
    changelog: String,
    #[command(flatten)]
    relay: RelayArgs,
    #[command(flatten)]
    dht: DhtWriteArgs,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
}

pub fn run(args: PublishArgs) -> Result<()> {
    let ecosystem = Ecosystem::parse(&args.ns)
        .ok_or_else(|| anyhow!("--ns {:?}: packages are published to npm or cargo", args.ns))?;
    let home = home();
    let keys = KeyStore::new(&home).load(&passphrase(false)?)?;
    std::fs::create_dir_all(&home)?;
    let scratch = tempfile::tempdir_in(&home)?;
    let package = Package::open(ecosystem, &args.path, scratch.path())?;
    let archive = keep_archive(&home, &package)?;
    let mut req = publish_request(&package, archive, args.relay.relays(), args.relay.timeout());
    req.mirrors = args.mirrors.clone();
    req.seeders = args.seeders.clone();
    req.trackers = args.trackers.clone();
    req.changelog = args.changelog.clone();
    let dht = args.dht.enabled().map(DhtArgs::options);
    let published = runtime()?.block_on(publish_release(
        &home,
        &keys,
        &req,
        dht.as_ref(),
        &package.name().dht_name(),
    ))?;
    print_published(&published, args.json);
    Ok(())
}
