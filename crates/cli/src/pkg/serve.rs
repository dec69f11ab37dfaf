//! `seedstr pkg serve`: the npm and Cargo registry views over HTTP, so the unmodified `npm`
//! and `cargo` install packages published through Seedstr.

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::{Context, Result};
use clap::Args;
use seedstr_client::keys::store::home;
use seedstr_pkg::store::PackageStore;
use seedstr_pkg::views::server::{serve, ViewState};

use super::LookupArgs;
use crate::net_args::transfer_runtime;

#[derive(Args)]
pub struct ServeArgs {
    /// HTTP address for the views (port 0: any free port).
    #[arg(long, default_value = "127.0.0.1:7448")]
    http: SocketAddr,
    #[command(flatten)]
    lookup: LookupArgs,
}

pub fn run(args: ServeArgs) -> Result<()> {
    let home = home();
    let (sources, fetch) = args.lookup.sources_and_fetch(&home)?;
    transfer_runtime()?.block_on(async {
        let swarm = args.lookup.peer.start_swarm(None).await?;
        let state = Arc::new(ViewState {
            // A server asks the same questions for every request: keep the answers.
            sources: sources.with_cache(),
            swarm: Arc::new(swarm),
            store: PackageStore::new(&home),
            fetch,
        });
        let listener = tokio::net::TcpListener::bind(args.http)
            .await
            .with_context(|| format!("binding {}", args.http))?;
        let addr = listener.local_addr()?;
        println!("seedstr pkg serve listening on http://{addr}");
        println!("  npm:   npm install --registry http://{addr}/npm/ <package>");
        println!("  cargo: sparse+http://{addr}/cargo/index/");
        let served = serve(listener, state.clone(), async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await;
        state.swarm.stop().await;
        served.context("serving the registry views")
    })
}
