//! `seedstr dht …`: the transport-key attestation and raw BEP-44 records.

use anyhow::{bail, Context, Result};
use clap::{Args, Subcommand};
use seedstr_client::keys::store::{home, passphrase, KeyStore};
use seedstr_client::keys::transport::{self, Attested, RecordOpError, RecordOwner};
use seedstr_client::relays::RelaySet;
use seedstr_client::resolve::target::parse_public_key;
use seedstr_dht::transport::derive;
use seedstr_dht::{DhtNode, DhtOptions, Write};

use crate::net_args::{print_json, runtime, say, RelayArgs};

#[derive(Subcommand)]
pub enum DhtCommand {
    /// Sign and send the attestation naming your transport key (kind 10744).
    Attest(AttestArgs),
    /// Sign and store a raw mutable item under your transport key.
    Put(PutArgs),
    /// Read a mutable item of an identity (npub or hex, resolved through its attestation) or
    /// of a transport key (`transport:<64 hex>`).
    Get(GetArgs),
}

/// How this command joins the Mainline DHT.
#[derive(Args, Clone)]
pub struct DhtArgs {
    /// DHT node to join through, host:port (repeatable) [default: the public routers].
    #[arg(long = "dht-bootstrap")]
    pub dht_bootstrap: Vec<String>,
    /// UDP port for this DHT node [default: any free port].
    #[arg(long)]
    pub dht_port: Option<u16>,
}

impl DhtArgs {
    pub async fn join(&self) -> Result<DhtNode> {
        join_dht(&self.dht_bootstrap, self.dht_port, false).await
    }

    /// How to join, as the operations take it (a client node, not a server).
    pub fn options(&self) -> DhtOptions {
        DhtOptions {
            port: self.dht_port,
            ..DhtOptions::joining(&self.dht_bootstrap)
        }
    }
}

/// The DHT flags of commands that sign something readers should find without relays.
#[derive(Args)]
pub struct DhtWriteArgs {
    #[command(flatten)]
    pub dht: DhtArgs,
    /// Do not write the feed (and name record) on the DHT.
    #[arg(long, conflicts_with = "dht_bootstrap")]
    pub no_dht: bool,
}

impl DhtWriteArgs {
    /// The DHT to write to, unless `--no-dht`.
    pub fn enabled(&self) -> Option<&DhtArgs> {
        (!self.no_dht).then_some(&self.dht)
    }
}

/// Joins the Mainline DHT through `bootstrap` (the public routers when empty); a `server`
/// answers other nodes and stores their items, which a long-running node should do.
pub async fn join_dht(bootstrap: &[String], port: Option<u16>, server: bool) -> Result<DhtNode> {
    DhtNode::join(&DhtOptions {
        port,
        server,
        ..DhtOptions::joining(bootstrap)
    })
    .await
    .context("joining the Mainline DHT")
}

#[derive(Args)]
pub struct AttestArgs {
    #[command(flatten)]
    relay: RelayArgs,
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
pub struct PutArgs {
    /// Salt naming the record among your records (UTF-8, at most 64 bytes; empty for none).
    #[arg(long)]
    salt: String,
    /// The value as text.
    #[arg(
        long,
        conflicts_with = "value_hex",
        required_unless_present = "value_hex"
    )]
    value: Option<String>,
    /// The value as hex bytes.
    #[arg(long)]
    value_hex: Option<String>,
    /// Exact sequence number (default: above the stored one).
    #[arg(long)]
    seq: Option<i64>,
    /// Compare-and-swap: only store if the stored record has this seq.
    #[arg(long, requires = "seq")]
    cas: Option<i64>,
    #[command(flatten)]
    dht: DhtArgs,
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
pub struct GetArgs {
    /// npub, hex public key, or transport:<64 hex>.
    who: String,
    #[arg(long)]
    salt: String,
    /// Stop at the first valid answer instead of asking every close node for the newest.
    #[arg(long)]
    first: bool,
    #[command(flatten)]
    relay: RelayArgs,
    #[command(flatten)]
    dht: DhtArgs,
    #[arg(long)]
    json: bool,
}

pub fn run(cmd: DhtCommand) -> Result<()> {
    match cmd {
        DhtCommand::Attest(a) => attest(a),
        DhtCommand::Put(p) => put(p),
        DhtCommand::Get(g) => get(g),
    }
}

fn attest(args: AttestArgs) -> Result<()> {
    let keys = KeyStore::new(&home()).load(&passphrase(false)?)?;
    // Only the relays named: with none, the attestation is kept and sent nowhere.
    let relays = RelaySet {
        urls: args.relay.relays.clone(),
        timeout: args.relay.timeout(),
    };
    let attested = match runtime()?.block_on(transport::attest(&home(), &keys, &relays)) {
        Ok(a) => a,
        Err(RecordOpError::NotAccepted(a)) => {
            print_attested(&a, args.json);
            bail!("no relay accepted the attestation");
        }
        Err(e) => return Err(e.into()),
    };
    print_attested(&attested, args.json);
    Ok(())
}

fn print_attested(a: &Attested, json: bool) {
    if json {
        print_json(a);
        return;
    }
    say(&format!(
        "transport key {}, attestation {}",
        a.transport_key, a.event_id
    ));
    for r in &a.answers {
        let verdict = if r.accepted { "accepted" } else { "refused" };
        say(&format!("  {}: {verdict} {}", r.relay, r.message));
    }
}

fn put(args: PutArgs) -> Result<()> {
    let keys = KeyStore::new(&home()).load(&passphrase(false)?)?;
    let value = match (&args.value, &args.value_hex) {
        (Some(v), _) => v.as_bytes().to_vec(),
        (None, Some(h)) => hex::decode(h).context("--value-hex is not hex")?,
        (None, None) => unreachable!("clap requires one"),
    };
    let write = match args.seq {
        Some(seq) => Write::Exact { seq, cas: args.cas },
        None => Write::Next,
    };
    let key = derive(keys.secret_key());
    let stored = runtime()?.block_on(async {
        let node = args.dht.join().await?;
        Ok::<_, anyhow::Error>(node.put(&key, args.salt.as_bytes(), &value, write).await?)
    })?;
    if args.json {
        print_json(&stored);
    } else {
        say(&format!(
            "stored seq {} at {} nodes (target {})",
            stored.seq, stored.stored_at, stored.target
        ));
    }
    Ok(())
}

fn get(args: GetArgs) -> Result<()> {
    let owner = match args.who.strip_prefix("transport:") {
        Some(h) => RecordOwner::TransportKey(
            hex::decode(h)
                .ok()
                .and_then(|b| b.try_into().ok())
                .context("transport:<key> needs 64 hex digits")?,
        ),
        None => RecordOwner::Identity(parse_public_key(&args.who)?),
    };
    let relays = RelaySet {
        urls: args.relay.relays.clone(),
        timeout: args.relay.timeout(),
    };
    let read = runtime()?.block_on(transport::read_record(
        &home(),
        &owner,
        &args.salt,
        &relays,
        &args.dht.options(),
        args.first,
    ))?;
    if args.json {
        print_json(&read);
    } else {
        let value = hex::decode(&read.value_hex).unwrap_or_default();
        say(&format!(
            "seq {}: {}",
            read.seq,
            String::from_utf8_lossy(&value)
        ));
    }
    Ok(())
}
