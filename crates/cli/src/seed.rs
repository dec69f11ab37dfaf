//! `seedstr seed`: serve every registered payload until stopped (the engine is
//! `seedstr_node::seeding`, which the node runs too).

use std::sync::Arc;
use std::time::Duration;

use anyhow::Result;
use clap::Args;
use seedstr_client::keys::store::home;
use seedstr_client::seeding::republish::REPUBLISH_EVERY;
use seedstr_client::seeding::seeder::{Report, SeedNote, SeedOptions, Seeder};

use crate::net_args::{self, print_json, transfer_runtime, PeerArgs};

#[derive(Args)]
pub struct SeedArgs {
    #[command(flatten)]
    peer: PeerArgs,
    /// Upload cap in bytes per second.
    #[arg(long)]
    upload_limit: Option<u32>,
    /// Seconds between looks at the registry.
    #[arg(long, default_value_t = 2)]
    poll_secs: u64,
    /// Seconds between puts of the kept DHT records (own and followed).
    #[arg(long, default_value_t = REPUBLISH_EVERY.as_secs())]
    republish_secs: u64,
    /// Print one JSON object per line for each change.
    #[arg(long)]
    json: bool,
}

pub fn run(args: SeedArgs) -> Result<()> {
    let rt = transfer_runtime()?;
    // A node already serves this registry; a second seeder would only compete with it.
    if let Some(node) = rt.block_on(seedstr_node::discovery::running(&home())) {
        println!(
            "the node at http://{} already seeds everything registered in {}; nothing to do",
            node.http,
            home().display()
        );
        return Ok(());
    }
    rt.block_on(seed(args))
}

/// A seeder for `peer`'s flags, printing what it does as JSON lines or for people.
pub(crate) async fn start_seeder(
    peer: &PeerArgs,
    upload_limit: Option<u32>,
    republish: Duration,
    json: bool,
) -> Result<Seeder> {
    let opts = SeedOptions {
        swarm: peer.swarm_options(upload_limit),
        dht: peer.dht_options(),
        republish,
    };
    let report: Report = Arc::new(move |note: &SeedNote| match note {
        // Warnings go to stderr, as the rest of the CLI's do.
        SeedNote::Warning { .. } if !json => eprintln!("{note}"),
        _ if json => print_json(note),
        _ => net_args::say(&note.to_string()),
    });
    Ok(Seeder::start(&home(), opts, report).await?)
}

async fn seed(args: SeedArgs) -> Result<()> {
    let mut seeder = start_seeder(
        &args.peer,
        args.upload_limit,
        Duration::from_secs(args.republish_secs.max(1)),
        args.json,
    )
    .await?;
    let poll = Duration::from_secs(args.poll_secs.max(1));
    loop {
        seeder.pass().await?;
        tokio::select! {
            _ = tokio::time::sleep(poll) => {}
            _ = tokio::signal::ctrl_c() => break,
        }
    }
    seeder.swarm.stop().await;
    Ok(())
}
