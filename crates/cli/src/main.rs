//! `seedstr`: the command line.

mod bench;
mod key;
mod open_files;
mod relay;

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
    /// Run a Nostr relay, or sync one with another relay.
    Relay(Box<relay::RelayArgs>),
    /// Measure a running relay under load.
    #[command(subcommand)]
    Bench(bench::BenchCommand),
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("SEEDSTR_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Key(k) => key::run(k),
        Command::Relay(r) => relay::run(*r),
        Command::Bench(b) => bench::run(b),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
