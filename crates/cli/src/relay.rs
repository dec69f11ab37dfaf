//! `seedstr relay`: run the relay; `seedstr relay sync`: NIP-77 sync with another relay.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use std::time::Duration;

use anyhow::{bail, Context, Result};
use clap::{Args, Subcommand};
use seedstr_node::sync::sync_store;
use seedstr_pay::admission::{AdmissionGate, AdmissionPolicy, Admissions};
use seedstr_pay::zap::{lnurl_client, lnurlp_url, zap_endpoint};
use seedstr_relay::{Relay, RelayConfig};
use seedstr_store::lmdb::LmdbStore;
use seedstr_store::postgres::PgStore;
use seedstr_store::Store;
use serde_json::Value;

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
pub(crate) struct StoreArgs {
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
    pub(crate) async fn open(&self) -> Result<Arc<dyn Store>> {
        if let Some(url) = &self.database {
            let store = PgStore::connect(url).await.with_context(|| {
                format!(
                    "opening the PostgreSQL store at {}",
                    seedstr_store::postgres::redacted(url)
                )
            })?;
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
    let mut config = config(&a)?;
    if a.print_config {
        print!("{}", config.to_toml());
        return Ok(());
    }
    seedstr_relay::open_files::raise_limit();
    let admissions = match config.admission.required() {
        true => Some(admissions(&mut config, &a.store).await?),
        false => None,
    };
    let store = a.store.open().await?;
    let listener = tokio::net::TcpListener::bind(a.listen)
        .await
        .with_context(|| format!("cannot listen on {}", a.listen))?;
    let addr = listener.local_addr()?;
    // Tests and scripts read this line to find an ephemeral port.
    println!("seedstr relay listening on ws://{addr}");
    let relay = Relay::new(config, store);
    if let Some(a) = admissions {
        relay.set_gate(Arc::new(AdmissionGate(Arc::new(a))));
    }
    relay
        .serve(listener, crate::shutdown::signal("seedstr relay"))
        .await?;
    // The store closes as its last handle goes (at the latest with the runtime): an LMDB store
    // then syncs its file and removes its journal, so the next start has nothing to replay.
    Ok(())
}

/// Paid admission as the configuration asks: the operator's zapper key read from their
/// lightning address's LNURL endpoint, the admissions kept beside the store.
async fn admissions(config: &mut RelayConfig, store: &StoreArgs) -> Result<Admissions> {
    let a = config.admission.clone();
    let (Some(operator), Some(address)) = (&config.info.pubkey, &a.lightning_address) else {
        bail!("paid admission (admission.price_sats) needs the operator's key (info.pubkey) and lightning address (admission.lightning_address)");
    };
    let operator = nostr::prelude::PublicKey::from_hex(operator)
        .context("info.pubkey is not a 64-character hex public key")?;
    let endpoint = zap_endpoint(&lnurl_client(Duration::from_secs(10))?, address)
        .await
        .with_context(|| format!("paid admission: the operator's lightning address {address}"))?;
    let policy = AdmissionPolicy {
        price_msat: a.price_sats.saturating_mul(1000),
        period_secs: a.period_days.saturating_mul(86_400),
        operator,
        zapper: endpoint.zapper,
        lightning_address: address.clone(),
    };
    if a.payments_url.is_none() {
        config.admission.payments_url = Some(lnurlp_url(address)?);
    }
    let folder = store
        .data
        .clone()
        .unwrap_or_else(|| seedstr_client::keys::store::home().join("relay"));
    std::fs::create_dir_all(&folder)?;
    eprintln!(
        "paid admission: {} sats for {} days, by zap to {address}",
        config.admission.price_sats, config.admission.period_days
    );
    Ok(Admissions::open(
        policy,
        &folder.join("admissions.json"),
        Arc::new(seedstr_proto::clock::unix_now),
    )?)
}

async fn sync(a: SyncArgs) -> Result<()> {
    let filter: Value = serde_json::from_str(&a.filter).context("--filter is not JSON")?;
    let store = a.store.open().await?;
    let report = sync_store(store.as_ref(), &a.url, &filter, a.down_only, None, &|_| {
        true
    })
    .await?;
    println!(
        "{} events here, {} only here, {} only on {}",
        report.here, report.only_here, report.only_there, a.url
    );
    for (id, msg) in &report.refused {
        eprintln!("{} refused {id}: {msg}", a.url);
    }
    println!("fetched {}, sent {}", report.fetched, report.sent);
    Ok(())
}
