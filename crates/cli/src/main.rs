//! `seedstr`: the command line.

mod channel;
mod dht;
mod directory;
mod feed;
mod incident;
mod install;
mod key;
mod mirror;
mod mods;
mod net_args;
mod node;
mod outcome;
mod pkg;
mod publish;
mod relay;
mod run;
mod search;
mod seed;
mod shutdown;
mod social;
mod status;
mod verify;
mod wallet;
mod zap;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "seedstr",
    version,
    about = "Publish, find, verify and install files and feeds with no central server"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Manage your Nostr identity (stored encrypted, NIP-49).
    #[command(subcommand)]
    Key(key::KeyCommand),
    /// Run the node: relay, seeder, DHT node and registry views on one HTTP port.
    Node(Box<node::NodeArgs>),
    /// What the running node is doing (or, with none, what this data folder holds).
    Status(status::StatusArgs),
    /// Search projects, releases, packages or collections (the node's store, else the relays).
    Search(Box<search::SearchArgs>),
    /// Run a Nostr relay, or sync one with another relay.
    Relay(Box<relay::RelayArgs>),
    /// Run a directory of the social network: profiles and lists, name search, node status.
    Directory(Box<directory::DirectoryArgs>),
    /// Publish a folder or file as a signed release and register it for seeding.
    Publish(Box<publish::PublishArgs>),
    /// Resolve, download, verify and install a release.
    Install(Box<install::InstallArgs>),
    /// Seed every published and installed payload until stopped.
    Seed(Box<seed::SeedArgs>),
    /// Seed, and fetch every new release of the authors followed as it appears (a mirror bot).
    Mirror(Box<mirror::MirrorArgs>),
    /// Re-check installed files against the lockfile.
    Verify(verify::VerifyArgs),
    /// Transport keys and raw records on the Mainline DHT (BEP-44).
    #[command(subcommand)]
    Dht(dht::DhtCommand),
    /// Your feed on the DHT, and reading others' feeds without relays.
    #[command(subcommand)]
    Feed(feed::FeedCommand),
    /// OpenMods: mod projects and releases for authors, game folders for players.
    #[command(subcommand)]
    Mod(mods::ModCommand),
    /// LibreSeed: npm and Cargo packages, published and installed through Seedstr.
    #[command(subcommand)]
    Pkg(pkg::PkgCommand),
    /// Run a Node script with the project's LibreSeed packages resolvable (require and import).
    Run(run::RunArgs),
    /// O-Red, the social network: people, friends, posts, private messages, discovery.
    #[command(subcommand)]
    Social(social::SocialCommand),
    /// Your wallet connection (NIP-47 Nostr Wallet Connect), and the development wallet.
    #[command(subcommand)]
    Wallet(wallet::WalletCommand),
    /// Tip someone, or one of their releases or posts, with a Lightning zap (NIP-57).
    Zap(Box<zap::ZapArgs>),
    /// Your node's payment channels with its Interledger peers.
    #[command(subcommand)]
    Channel(channel::ChannelCommand),
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("SEEDSTR_LOG")
                // librqbit narrates every torrent at info; its warnings are what a user needs.
                .unwrap_or_else(|_| {
                    tracing_subscriber::EnvFilter::new(
                        "info,librqbit=warn,librqbit_dht=warn,mainline=warn",
                    )
                }),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    if let Command::Run(r) = cli.command {
        return match run::run(r) {
            Ok(code) => code,
            Err(e) => failed(&e),
        };
    }
    let result = match cli.command {
        Command::Key(k) => key::run(k),
        Command::Node(n) => node::run(*n),
        Command::Status(a) => status::run(a),
        Command::Search(a) => search::run(*a),
        Command::Relay(r) => relay::run(*r),
        Command::Directory(d) => directory::run(*d),
        Command::Publish(p) => publish::run(*p),
        Command::Install(i) => install::run(*i),
        Command::Seed(s) => seed::run(*s),
        Command::Mirror(m) => mirror::run(*m),
        Command::Verify(v) => verify::run(v),
        Command::Dht(d) => dht::run(d),
        Command::Feed(f) => feed::run(f),
        Command::Mod(m) => mods::run(m),
        Command::Pkg(p) => pkg::run(p),
        Command::Social(s) => social::run(s),
        Command::Wallet(c) => wallet::run(c),
        Command::Zap(z) => zap::run(*z),
        Command::Channel(c) => channel::run(c),
        Command::Run(_) => unreachable!("handled above"),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => failed(&e),
    }
}

/// Says what failed, unless the command already did.
fn failed(e: &anyhow::Error) -> ExitCode {
    if !e.is::<outcome::Reported>() {
        eprintln!("error: {}", outcome::error_text(e));
    }
    ExitCode::FAILURE
}
