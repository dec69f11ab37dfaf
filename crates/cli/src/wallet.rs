//! `seedstr wallet …`: your wallet connection (NIP-47), and the development wallet (not money).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Result;
use clap::{Args, Subcommand};
use seedstr_client::keys::store::{home, passphrase};
use seedstr_pay::connection::{load_connection, save_connection};
use seedstr_pay::dev_wallet::{default_dir, new_connection, DevWallet};
use seedstr_pay::nwc::WalletClient;

use crate::net_args::{print_json, runtime, say, DEFAULT_RELAY};
use crate::outcome::reported;

#[derive(Subcommand)]
pub enum WalletCommand {
    /// Keep your wallet's Nostr Wallet Connect URI (nostr+walletconnect://…), its secret
    /// encrypted with your passphrase as your key is.
    Connect(ConnectArgs),
    /// Your connected wallet's balance.
    Balance(BalanceArgs),
    /// The DEVELOPMENT wallet: play money in a local ledger, for tests and demos, never money.
    #[command(subcommand)]
    Dev(DevCommand),
}

#[derive(Args)]
pub struct ConnectArgs {
    /// The connection URI your wallet gave you.
    uri: String,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
pub struct BalanceArgs {
    /// Seconds to wait for the wallet's answer.
    #[arg(long, default_value_t = 30)]
    timeout: u64,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Subcommand)]
pub enum DevCommand {
    /// Serve the development wallet on a relay until stopped (NIP-47, settling in a local
    /// ledger of play money; its invoices are regtest, `lnbcrt…`).
    Serve(DevArgs),
    /// Issue a connection to the development wallet: prints its nostr+walletconnect:// URI.
    Connection(DevArgs),
}

#[derive(Args)]
pub struct DevArgs {
    /// The relay the wallet listens on.
    #[arg(long, default_value = DEFAULT_RELAY)]
    relay: String,
    /// The wallet's folder [default: $SEEDSTR_HOME/dev-wallet].
    #[arg(long)]
    dir: Option<PathBuf>,
}

const NOT_MONEY: &str = "DEVELOPMENT WALLET: play money in a local ledger, never real money";

pub fn run(cmd: WalletCommand) -> Result<()> {
    match cmd {
        WalletCommand::Connect(a) => reported(a.json, {
            (|| {
                let wallet = save_connection(&home(), &a.uri, &passphrase(false)?)?;
                if a.json {
                    print_json(&serde_json::json!({"wallet": wallet}));
                } else {
                    say(&format!("wallet {wallet} connected"));
                }
                Ok(())
            })()
        }),
        WalletCommand::Balance(a) => reported(a.json, {
            (|| {
                let uri = load_connection(&home(), &passphrase(false)?)?;
                let client = WalletClient::new(&uri, Duration::from_secs(a.timeout.max(1)))?;
                let balance = runtime()?.block_on(client.get_balance())?;
                if a.json {
                    print_json(&serde_json::json!({"balance_msat": balance.balance}));
                } else {
                    say(&format!("{} sats", balance.balance / 1000));
                }
                Ok(())
            })()
        }),
        WalletCommand::Dev(DevCommand::Connection(a)) => {
            let dir = a.dir.unwrap_or_else(|| default_dir(&home()));
            let uri = new_connection(&dir, &a.relay)?;
            eprintln!("{NOT_MONEY}");
            say(&uri);
            Ok(())
        }
        WalletCommand::Dev(DevCommand::Serve(a)) => {
            let dir = a.dir.unwrap_or_else(|| default_dir(&home()));
            runtime()?.block_on(async move {
                let wallet = Arc::new(DevWallet::open(
                    &dir,
                    &a.relay,
                    Arc::new(seedstr_proto::clock::unix_now),
                )?);
                // Tests and scripts read this line.
                say(&format!(
                    "seedstr dev wallet {} on {} ({NOT_MONEY})",
                    wallet.public_key().to_hex(),
                    a.relay
                ));
                tokio::select! {
                    _ = wallet.serve() => {}
                    _ = tokio::signal::ctrl_c() => {}
                }
                anyhow::Ok(())
            })
        }
    }
}
