//! `seedstr zap`: tip a person, or one of their releases or posts, through your wallet.

use std::time::Duration;

use anyhow::Result;
use clap::Args;
use nostr::prelude::EventId;
use seedstr_client::keys::store::{home, passphrase, KeyStore};
use seedstr_client::resolve::target::{npub, parse_public_key, Target};
use seedstr_mods::collections::parse_collection_address;
use seedstr_mods::events::COLLECTION_KIND;
use seedstr_pay::connection::load_connection;
use seedstr_pay::nwc::WalletClient;
use seedstr_pay::zap::{zap, zap_address};
use seedstr_pay::zap_request::{is_coordinate, ZapTarget};
use seedstr_proto::release::{PROJECT_KIND, RELEASE_KIND};

use crate::net_args::{print_json, runtime, say, RelayArgs};
use crate::outcome::reported;

#[derive(Args)]
pub struct ZapArgs {
    /// Whom or what: a person (npub or hex: their profile's lightning address is paid); a
    /// release (`<npub>/<ns>.<slug>@<version>`), a project (`<npub>/<ns>.<slug>`) or a
    /// collection (`<npub>/<game>.collection.<slug>`), or any `kind:pubkey:d` coordinate: shared
    /// as the event's zap splits say, or all to its author.
    who: String,
    /// How many sats.
    sats: u64,
    /// A comment sent with the zap.
    #[arg(long, default_value = "")]
    comment: String,
    /// Zap one of their events (hex id).
    #[arg(long)]
    event: Option<String>,
    /// Zap one of their addressable events, such as a release (`30079:<hex>:<ns>.<slug>@<v>`).
    #[arg(long)]
    address: Option<String>,
    /// Relays to read their profile from and to receive the receipt on.
    #[command(flatten)]
    relay: RelayArgs,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
}

/// The coordinate `who` names, when it names an event rather than a person.
fn coordinate_of(who: &str) -> Result<Option<String>> {
    if is_coordinate(who) {
        return Ok(Some(who.to_owned()));
    }
    let Some((_, rest)) = who.split_once('/') else {
        return Ok(None);
    };
    if rest.contains(".collection.") {
        let (author, d) = parse_collection_address(who)?;
        return Ok(Some(format!("{COLLECTION_KIND}:{}:{d}", author.to_hex())));
    }
    let t: Target = who.parse()?;
    Ok(Some(match &t.version {
        Some(v) => format!("{RELEASE_KIND}:{}:{}@{v}", t.author.to_hex(), t.coordinate),
        None => format!("{PROJECT_KIND}:{}:{}", t.author.to_hex(), t.coordinate),
    }))
}

pub fn run(a: ZapArgs) -> Result<()> {
    reported(a.json, {
        (|| {
            if let Some(address) = coordinate_of(&a.who)? {
                if a.event.is_some() || a.address.is_some() {
                    anyhow::bail!("--event and --address go with a person, not with {}", a.who);
                }
                return zap_event(&a, &address);
            }
            let recipient = parse_public_key(&a.who)?;
            let target = ZapTarget {
                event: a
                    .event
                    .as_deref()
                    .map(EventId::from_hex)
                    .transpose()
                    .map_err(|e| anyhow::anyhow!("--event: {e}"))?,
                address: a.address.clone(),
            };
            let pass = passphrase(false)?;
            let keys = KeyStore::new(&home()).load(&pass)?;
            let wallet =
                WalletClient::new(&load_connection(&home(), &pass)?, Duration::from_secs(60))?;
            let sent = runtime()?.block_on(zap(
                &keys,
                &wallet,
                recipient,
                &target,
                a.sats.saturating_mul(1000),
                &a.comment,
                &a.relay.set(),
            ))?;
            if a.json {
                print_json(&sent);
            } else {
                say(&format!(
                    "zapped {} sats; receipt {} checked",
                    sent.zap.amount_msat / 1000,
                    sent.zap.receipt
                ));
            }
            Ok(())
        })()
    })
}

fn zap_event(a: &ZapArgs, address: &str) -> Result<()> {
    let pass = passphrase(false)?;
    let keys = KeyStore::new(&home()).load(&pass)?;
    let wallet = WalletClient::new(&load_connection(&home(), &pass)?, Duration::from_secs(60))?;
    let done = runtime()?.block_on(zap_address(
        &keys,
        &wallet,
        address,
        a.sats.saturating_mul(1000),
        &a.comment,
        &a.relay.set(),
    ))?;
    if a.json {
        print_json(&done);
    } else {
        for s in &done.shares {
            match (&s.sent, &s.error) {
                (Some(z), _) => say(&format!(
                    "zapped {} sats to {}; receipt {} checked",
                    z.zap.amount_msat / 1000,
                    npub_of(&s.recipient),
                    z.zap.receipt
                )),
                (None, e) => say(&format!(
                    "not zapped: {} sats to {}: {}",
                    s.amount_msat / 1000,
                    npub_of(&s.recipient),
                    e.as_deref().unwrap_or("failed")
                )),
            }
        }
    }
    let failed: Vec<String> = done.failed().map(|s| npub_of(&s.recipient)).collect();
    if !failed.is_empty() {
        anyhow::bail!(
            "{} of {} shares did not go through (to {})",
            failed.len(),
            done.shares.len(),
            failed.join(", ")
        );
    }
    Ok(())
}

fn npub_of(hex: &str) -> String {
    nostr::prelude::PublicKey::from_hex(hex)
        .map(|k| npub(&k))
        .unwrap_or_else(|_| hex.to_owned())
}
