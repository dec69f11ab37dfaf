//! `seedstr-bench zap`: zaps end to end on loopback, from the payer's request to the receipt
//! checked. A relay, the development wallet (not money) on it with two connections, and the
//! recipient's node (owner mode, its wallet connected) run in-process; each zap is
//! `pay::zap::zap` as `seedstr zap` runs it: the recipient's lightning address from their
//! profile, the LNURL document, the callback's invoice checked, paid through the payer's
//! connection, the receipt waited for and checked (NIP-57 Appendix F).

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use clap::Args;
use nostr::prelude::{EventBuilder, FinalizeEvent as _, Keys, Kind};
use seedstr_client::relays::RelaySet;
use seedstr_pay::dev_wallet::{new_connection, DevWallet};
use seedstr_pay::nwc::WalletClient;
use seedstr_pay::zap::zap;
use seedstr_pay::zap_request::ZapTarget;
use serde_json::{json, Value};

use super::social::start_node;
use super::stats::Latencies;
use super::web::post_events;

#[derive(Args)]
pub struct ZapBench {
    /// Zaps timed.
    #[arg(long, default_value_t = 100)]
    zaps: usize,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
}

/// Our relay on an ephemeral loopback port, in a thread of its own.
fn start_relay(data: &std::path::Path) -> Result<String> {
    let store = seedstr_store::lmdb::LmdbStore::open(data)?;
    let mut config = seedstr_relay::RelayConfig::default();
    config.rate.events_per_ip_per_second = 0.0;
    config.rate.events_per_pubkey_per_second = 0.0;
    config.rate.reqs_per_ip_per_second = 0.0;
    let addr = seedstr_relay::Relay::serve_on_loopback(config, store)?;
    Ok(format!("ws://{addr}/"))
}

pub async fn run(b: &ZapBench) -> Result<Value> {
    if b.zaps == 0 {
        bail!("--zaps must be at least 1");
    }
    let say = |line: String| {
        if b.json {
            eprintln!("{line}");
        } else {
            println!("{line}");
        }
    };
    let (relay_dir, wallet_dir, node_dir) = (
        tempfile::tempdir()?,
        tempfile::tempdir()?,
        tempfile::tempdir()?,
    );
    let relay = start_relay(relay_dir.path())?;
    let (bob_uri, alice_uri) = (
        new_connection(wallet_dir.path(), &relay)?,
        new_connection(wallet_dir.path(), &relay)?,
    );
    let wallet = Arc::new(DevWallet::open(
        wallet_dir.path(),
        &relay,
        Arc::new(seedstr_proto::clock::unix_now),
    )?);
    tokio::spawn(wallet.serve());
    let (bob, alice) = (Keys::generate(), Keys::generate());
    let (stop, stopped) = tokio::sync::oneshot::channel();
    let (http, node) = start_node(&bob, Some(bob_uri), node_dir.path(), stopped).await?;
    let home = format!("ws://{http}/");
    let profile = EventBuilder::new(
        Kind::Metadata,
        json!({"name": "bob", "lud16": format!("me@{http}")}).to_string(),
    )
    .finalize(&bob)?;
    post_events(&format!("http://{http}"), &[profile]).await?;
    let payer = WalletClient::new(&alice_uri, Duration::from_secs(10))?;
    // The wallet opens its subscription as it starts: the first balance call may be lost.
    let probe = WalletClient::new(&alice_uri, Duration::from_millis(500))?;
    let deadline = Instant::now() + Duration::from_secs(30);
    while probe.get_balance().await.is_err() {
        if Instant::now() > deadline {
            bail!("the development wallet did not answer");
        }
    }
    let relays = RelaySet {
        urls: vec![home.clone()],
        timeout: Duration::from_secs(10),
    };
    let mut took = Latencies::default();
    for i in 0..b.zaps + 3 {
        let t = Instant::now();
        let sent = zap(
            &alice,
            &payer,
            bob.public_key(),
            &ZapTarget::default(),
            21_000,
            "",
            &relays,
        )
        .await
        .with_context(|| format!("zap {i}"))?;
        if sent.zap.amount_msat != 21_000 {
            bail!("zap {i} counted {} msat", sent.zap.amount_msat);
        }
        // The first few warm the connections.
        if i >= 3 {
            took.push(t.elapsed());
        }
    }
    let summary = took.summary();
    say(format!(
        "zap end to end (request to checked receipt)  {summary}"
    ));
    let _ = stop.send(());
    let _ = node.await;
    Ok(json!({"zaps": b.zaps, "zap_end_to_end": summary.to_json()}))
}
