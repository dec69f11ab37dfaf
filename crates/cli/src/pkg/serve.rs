//! `seedstr pkg serve`: the npm and Cargo registry views over HTTP, so the unmodified `npm`
//! and `cargo` install packages published through Seedstr.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use clap::Args;
use seedstr_client::install::InstallOptions;
use seedstr_client::keystore::home;
use seedstr_dht::DhtOptions;
use seedstr_pkg::catalog::Sources;
use seedstr_pkg::store::PackageStore;
use seedstr_pkg::views::server::{router, ViewState};

use super::registry::trusted;
use crate::net_args::{swarm_runtime, PeerArgs, RelayArgs};

#[derive(Args)]
pub struct ServeArgs {
    /// HTTP address for the views (port 0: any free port).
    #[arg(long, default_value = "127.0.0.1:7448")]
    http: SocketAddr,
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

pub fn run(args: ServeArgs) -> Result<()> {
    let home = home();
    let sources = Sources {
        relays: args.relay.relays(),
        relay_timeout: args.relay.timeout(),
        trusted: trusted(&home, &args.registries)?,
    };
    let fetch = InstallOptions {
        relays: args.relay.relays(),
        relay_timeout: args.relay.timeout(),
        allow_downgrade: true,
        peers: args.peer.peers.clone(),
        stall_timeout: Duration::from_secs(args.stall_timeout.max(1)),
        home: home.clone(),
        dht: (!args.peer.no_dht).then(|| DhtOptions::joining(&args.peer.dht_bootstrap)),
    };
    swarm_runtime()?.block_on(async {
        let swarm = args.peer.start_swarm(None).await?;
        let state = Arc::new(ViewState {
            sources,
            swarm,
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
        let served = axum::serve(listener, router(state.clone()))
            .with_graceful_shutdown(async {
                let _ = tokio::signal::ctrl_c().await;
            })
            .await;
        state.swarm.stop().await;
        served.context("serving the registry views")
    })
}
