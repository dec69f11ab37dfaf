//! `seedstr-bench`: Seedstr's benchmarks, kept out of the shipped `seedstr` binary. Each
//! measures a real part on loopback and prints its figures (`--json` for scripts); none asserts
//! a speed.

mod children;
mod corpus;
mod dht;
mod disk;
mod fanout;
mod ilp;
mod ingest;
mod query;
mod registry;
mod relay;
mod social;
mod stats;
mod transfer;
mod verify;
mod web;
mod zap;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "seedstr-bench",
    version,
    about = "Measure Seedstr's parts, and any Nostr relay, under load"
)]
struct Cli {
    #[command(subcommand)]
    command: BenchCommand,
}

#[derive(Subcommand)]
enum BenchCommand {
    /// Load-test a relay: ingest, OK latency, REQ latency, fan-out, verification ceiling.
    Relay(relay::RelayBench),
    /// A loopback transfer: our install end to end vs a libtorrent pair, and the SHA-256 ceiling.
    Transfer(transfer::TransferBench),
    /// Feed-pointer resolve latency on a loopback Mainline DHT testnet.
    Dht(dht::DhtBench),
    /// The node's pages and API over a store of many projects: latency per page.
    Web(web::WebBench),
    /// The social network: timeline page, private message latency, a friends-only post's fan-out.
    Social(social::SocialBench),
    /// Zaps end to end on loopback (the development wallet: not money).
    Zap(zap::ZapBench),
    /// Interledger on loopback: STREAM money packets a second and data throughput over BTP.
    Ilp(ilp::IlpBench),
    /// The unmodified npm installing a package tree through our npm view and through verdaccio.
    Registry(registry::RegistryBench),
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("SEEDSTR_LOG").unwrap_or_else(|_| {
                tracing_subscriber::EnvFilter::new(
                    "info,librqbit=warn,librqbit_dht=warn,mainline=warn",
                )
            }),
        )
        .with_writer(std::io::stderr)
        .init();
    match run(Cli::parse().command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(command: BenchCommand) -> anyhow::Result<()> {
    // The load generator holds a descriptor per connection.
    seedstr_relay::open_files::raise_limit();
    let (report, json) = match command {
        BenchCommand::Relay(b) => (runtime()?.block_on(relay::run(&b))?, b.json),
        BenchCommand::Dht(b) => (runtime()?.block_on(dht::run(&b))?, b.json),
        BenchCommand::Web(b) => (runtime()?.block_on(web::run(&b))?, b.json),
        BenchCommand::Social(b) => (runtime()?.block_on(social::run(&b))?, b.json),
        BenchCommand::Zap(b) => (runtime()?.block_on(zap::run(&b))?, b.json),
        BenchCommand::Ilp(b) => (runtime()?.block_on(ilp::run(&b))?, b.json),
        BenchCommand::Registry(b) => (registry::run(&b)?, b.json),
        BenchCommand::Transfer(b) => (
            seedstr_swarm::transfer_runtime()?.block_on(transfer::run(&b))?,
            b.json,
        ),
    };
    if json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    }
    Ok(())
}

fn runtime() -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
}
