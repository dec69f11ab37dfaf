//! `seedstr relay`: run the relay; `seedstr relay sync`: NIP-77 sync with another relay.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{bail, Context, Result};
use clap::{Args, Subcommand};
use seedstr_client::relays::conn::RelayConn;
use seedstr_proto::Filter;
use seedstr_relay::{Relay, RelayConfig};
use seedstr_store::lmdb::LmdbStore;
use seedstr_store::postgres::PgStore;
use seedstr_store::{QueryOptions, Store};
use serde_json::{json, Value};

#[derive(Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct RelayArgs {
    #[command(subcommand)]
    sub: Option<RelaySub>,
    #[command(flatten)]
    run: RunArgs,
}

#[derive(Subcommand)]
enum RelaySub {
    /// Reconcile this relay's store with another relay (NIP-77) and copy what each lacks.
    Sync(SyncArgs),
}

#[derive(Args)]
struct StoreArgs {
    /// Folder of the embedded LMDB store [default: $SEEDSTR_HOME/relay].
    #[arg(long, conflicts_with = "database")]
    data: Option<PathBuf>,
    /// Use PostgreSQL instead (postgres://user@host:port/db), shared by several front-ends.
    #[arg(long)]
    database: Option<String>,
}

#[derive(Args)]
struct RunArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:7447")]
    listen: SocketAddr,
    #[command(flatten)]
    store: StoreArgs,
    /// TOML configuration; flags below override it.
    #[arg(long)]
    config: Option<PathBuf>,
    /// Print the whole configuration, defaults included, and exit.
    #[arg(long)]
    print_config: bool,
    /// Largest event accepted, in bytes.
    #[arg(long)]
    max_event_bytes: Option<usize>,
    /// Accept only these kinds (repeatable).
    #[arg(long = "allow-kind")]
    allow_kinds: Vec<u16>,
    /// Refuse these kinds (repeatable).
    #[arg(long = "deny-kind")]
    deny_kinds: Vec<u16>,
    /// Require NIP-42 authentication for writes.
    #[arg(long)]
    auth_writes: bool,
    /// Turn off every rate limit (for load tests on loopback).
    #[arg(long)]
    no_rate_limits: bool,
}

#[derive(Args)]
struct SyncArgs {
    /// The other relay, ws:// or wss://.
    url: String,
    /// Only events matching this NIP-01 filter.
    #[arg(long, default_value = "{}")]
    filter: String,
    #[command(flatten)]
    store: StoreArgs,
    /// Only fetch what the other relay has; send nothing.
    #[arg(long)]
    down_only: bool,
}

pub fn run(args: RelayArgs) -> Result<()> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    match args.sub {
        Some(RelaySub::Sync(s)) => rt.block_on(sync(s)),
        None => rt.block_on(serve(args.run)),
    }
}

impl StoreArgs {
    async fn open(&self) -> Result<Arc<dyn Store>> {
        if let Some(url) = &self.database {
            let store = PgStore::connect(url)
                .await
                .with_context(|| format!("opening the PostgreSQL store at {url}"))?;
            return Ok(store);
        }
        let dir = self
            .data
            .clone()
            .unwrap_or_else(|| seedstr_client::keys::store::home().join("relay"));
        let store = LmdbStore::open(&dir)
            .with_context(|| format!("opening the store in {}", dir.display()))?;
        Ok(store)
    }
}

fn config(a: &RunArgs) -> Result<RelayConfig> {
    let mut c = match &a.config {
        Some(p) => RelayConfig::load(p)?,
        None => RelayConfig::default(),
    };
    if let Some(n) = a.max_event_bytes {
        c.limits.max_event_bytes = n;
    }
    c.policy.allow_kinds.extend(a.allow_kinds.iter().copied());
    c.policy.deny_kinds.extend(a.deny_kinds.iter().copied());
    if a.auth_writes {
        c.auth.required_for_writes = true;
    }
    if a.no_rate_limits {
        let r = &mut c.rate;
        r.events_per_ip_per_second = 0.0;
        r.events_per_pubkey_per_second = 0.0;
        r.reqs_per_ip_per_second = 0.0;
    }
    Ok(c)
}

async fn serve(a: RunArgs) -> Result<()> {
    let config = config(&a)?;
    if a.print_config {
        print!("{}", config.to_toml());
        return Ok(());
    }
    seedstr_relay::open_files::raise_limit();
    let store = a.store.open().await?;
    let listener = tokio::net::TcpListener::bind(a.listen)
        .await
        .with_context(|| format!("cannot listen on {}", a.listen))?;
    let addr = listener.local_addr()?;
    // Tests and scripts read this line to find an ephemeral port.
    println!("seedstr relay listening on ws://{addr}");
    let relay = Relay::new(config, store);
    relay
        .serve(listener, async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    Ok(())
}

async fn sync(a: SyncArgs) -> Result<()> {
    let filter_json: Value = serde_json::from_str(&a.filter).context("--filter is not JSON")?;
    let filter = Filter::parse(&filter_json).context("--filter")?;
    let store = a.store.open().await?;
    let opts = QueryOptions {
        budget: std::time::Duration::from_secs(600),
        ..QueryOptions::default()
    };
    let local = store.ids(filter.clone(), opts).await?;
    let mut conn = RelayConn::connect(&a.url).await?;
    let diff = seedstr_client::relays::sync::reconcile(&mut conn, &filter_json, &local).await?;
    println!(
        "{} events here, {} only here, {} only on {}",
        local.len(),
        diff.have.len(),
        diff.need.len(),
        a.url
    );

    let mut fetched = 0usize;
    for (i, chunk) in diff.need.chunks(200).enumerate() {
        let ids: Vec<String> = chunk.iter().map(hex::encode).collect();
        let events = conn
            .query(&format!("sync-{i}"), &[json!({ "ids": ids })])
            .await?;
        conn.close_sub(&format!("sync-{i}")).await?;
        for e in events {
            if !chunk.contains(e.id.as_bytes()) || e.verify().is_err() {
                bail!(
                    "{} sent an event we did not ask for, or with a bad signature: {}",
                    a.url,
                    e.id
                );
            }
            store.save(e).await?;
            fetched += 1;
        }
    }
    let mut sent = 0usize;
    if !a.down_only {
        for chunk in diff.have.chunks(200) {
            let filter = Filter::for_ids(chunk.iter().copied());
            for e in store.query(vec![filter], opts).await? {
                let (ok, msg) = conn.publish_raw(&e.json, &hex::encode(e.id)).await?;
                if ok {
                    sent += 1;
                } else {
                    eprintln!("{} refused {}: {msg}", a.url, hex::encode(e.id));
                }
            }
        }
    }
    println!("fetched {fetched}, sent {sent}");
    Ok(())
}
