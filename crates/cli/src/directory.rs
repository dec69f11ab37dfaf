//! `seedstr directory`: a relay in the directory role (`docs/social.md`): it takes people's
//! profiles and lists, answers NIP-50 name searches, and probes the nodes it indexes,
//! publishing signed status reports (NIP-66).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use clap::Args;
use seedstr_client::keys::store::{home, passphrase, KeyStore};
use seedstr_relay::{Relay, RelayConfig};
use seedstr_social::directory::index::DirectoryIndex;
use seedstr_social::directory::status::{monitor_announcement, probe_round};
use seedstr_social::directory::{feed_index, DIRECTORY_KINDS};

use crate::relay::StoreArgs;

#[derive(Args)]
pub struct DirectoryArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:7448")]
    listen: SocketAddr,
    #[command(flatten)]
    store: StoreArgs,
    /// Seconds between probe rounds of the nodes indexed.
    #[arg(long, default_value_t = 300)]
    probe_secs: u64,
    /// Seconds a probe waits for a node.
    #[arg(long, default_value_t = 5)]
    probe_timeout: u64,
    /// Do not probe (another front-end on the same database does).
    #[arg(long)]
    no_probe: bool,
    /// This directory's address as others reach it, for its own status reports [default:
    /// ws://<listen>/].
    #[arg(long)]
    url: Option<String>,
}

pub fn run(a: DirectoryArgs) -> Result<()> {
    // The directory signs its status reports with the key in $SEEDSTR_HOME.
    let keys = if a.no_probe {
        None
    } else {
        Some(
            KeyStore::new(&home())
                .load(&passphrase(false)?)
                .context("the directory signs its status reports with your key")?,
        )
    };
    seedstr_relay::open_files::raise_limit();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(async move {
        let store = a.store.open().await?;
        let listener = tokio::net::TcpListener::bind(a.listen)
            .await
            .with_context(|| format!("cannot listen on {}", a.listen))?;
        let addr = listener.local_addr()?;
        let own = format!("ws://{addr}/");
        let mut config = RelayConfig::default();
        config.policy.allow_kinds = DIRECTORY_KINDS.into_iter().collect();
        config.info.name = "seedstr directory".into();
        config.info.description =
            "Profiles, follow lists, relay and inbox lists; NIP-50 name search; node status (NIP-66)"
                .into();
        let relay = Relay::new(config, store);
        let index = Arc::new(DirectoryIndex::new());
        relay.set_search(index.clone());
        let serving = tokio::spawn(relay.serve(listener, async {
            let _ = tokio::signal::ctrl_c().await;
        }));
        let timeout = Duration::from_secs(a.probe_timeout.max(1));
        feed_index(index.clone(), own.clone(), Duration::from_secs(30)).await;
        // Tests and scripts read this line to find an ephemeral port; searches see the
        // whole store from here on.
        println!("seedstr directory listening on {own}");
        if let Some(keys) = keys {
            let every = Duration::from_secs(a.probe_secs.max(1));
            let publish_to = vec![own.clone()];
            let announcement = monitor_announcement(&keys, every, timeout);
            seedstr_client::relays::publish_all(&publish_to, &[announcement], timeout).await;
            tokio::spawn(async move {
                let mut tick = tokio::time::interval(every);
                loop {
                    tick.tick().await;
                    let round = probe_round(&keys, &index.node_urls(), timeout, &publish_to).await;
                    let reached = round.probes.iter().filter(|p| p.reachable()).count();
                    tracing::info!(
                        target: "seedstr::directory",
                        probed = round.probes.len(),
                        reached,
                        "probe round"
                    );
                }
            });
        }
        serving.await??;
        anyhow::Ok(())
    })
}
