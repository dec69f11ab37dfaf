//! `seedstr channel`: the node's payment channels (docs/channels.md).

use std::path::PathBuf;

use anyhow::{anyhow, Result};
use clap::{Args, Subcommand};
use seedstr_client::keys::store::home;
use seedstr_node::NodeConfig;

use crate::net_args::{print_json, runtime, say};
use crate::outcome::reported;

#[derive(Subcommand)]
pub enum ChannelCommand {
    /// Close the channel through which your node pays a peer: starts the close (the peer may
    /// still cash a later claim during the challenge period); with --finish, after that period,
    /// takes back what was not claimed.
    Close(CloseArgs),
}

#[derive(Args)]
pub struct CloseArgs {
    /// The peer's account, as /api/v1/ilp names it.
    peer: String,
    /// End a close whose challenge period is over.
    #[arg(long)]
    finish: bool,
    /// The node's configuration file [default: seedstr.toml in the data folder, when it exists].
    #[arg(long)]
    config: Option<PathBuf>,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
}

pub fn run(c: ChannelCommand) -> Result<()> {
    match c {
        ChannelCommand::Close(a) => close(a),
    }
}

fn close(a: CloseArgs) -> Result<()> {
    let home = home();
    let result = (|| {
        let default_file = home.join("seedstr.toml");
        let config = match &a.config {
            Some(path) => NodeConfig::load(path)?,
            None if default_file.is_file() => NodeConfig::load(&default_file)?,
            None => NodeConfig::default(),
        };
        if config.ilp.evm.rpc.is_empty() {
            return Err(anyhow!(
                "the node settles on no chain: [ilp.evm] rpc and contract are not set"
            ));
        }
        let data = config.data_dir(&home);
        runtime()?
            .block_on(seedstr_node::ilp::settlement::close_outgoing(
                &config.ilp.evm,
                &data,
                &a.peer,
                a.finish,
            ))
            .map_err(|e| anyhow!(e))
    })();
    let report = reported(a.json, result)?;
    if a.json {
        print_json(&report);
    } else if let Some(refunded) = report.refunded {
        say(&format!(
            "closed channel {} to {}: {refunded} came back",
            report.channel, report.peer
        ));
    } else if let Some(at) = report.closes_at {
        say(&format!(
            "closing channel {} to {}: it may finish at {at} (seedstr channel close {} --finish)",
            report.channel, report.peer, report.peer
        ));
    }
    Ok(())
}
