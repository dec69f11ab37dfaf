//! `seedstr zap`: tip a person, or one of their releases or posts, through your wallet.

use std::time::Duration;

use anyhow::Result;
use clap::Args;
use nostr::prelude::EventId;
use seedstr_client::keys::store::{home, passphrase, KeyStore};
use seedstr_client::resolve::target::parse_public_key;
use seedstr_pay::connection::load_connection;
use seedstr_pay::nwc::WalletClient;
use seedstr_pay::zap::zap;
use seedstr_pay::zap_request::ZapTarget;

use crate::net_args::{print_json, runtime, say, RelayArgs};
use crate::outcome::reported;

#[derive(Args)]
pub struct ZapArgs {
    /// Whom (npub or hex): their profile's lightning address is paid.
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

pub fn run(a: ZapArgs) -> Result<()> {
    reported(a.json, {
        (|| {
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
