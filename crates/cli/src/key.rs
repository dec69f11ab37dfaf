//! `seedstr key generate | import | show`.

use anyhow::Result;
use clap::Subcommand;
use nostr::prelude::{Keys, ToBech32};
use seedstr_client::keys::store::{home, passphrase, KeyStore};

#[derive(Subcommand)]
pub enum KeyCommand {
    /// Create a new secret key and store it encrypted.
    Generate {
        /// Replace an existing key.
        #[arg(long)]
        force: bool,
    },
    /// Store an existing secret key (nsec1… or 64 hex characters).
    Import {
        secret: String,
        #[arg(long)]
        force: bool,
    },
    /// Print the public key (npub and hex); decrypts the stored key to prove the passphrase.
    Show,
}

pub fn run(cmd: KeyCommand) -> Result<()> {
    let store = KeyStore::new(&home());
    match cmd {
        KeyCommand::Generate { force } => {
            if store.exists() && !force {
                anyhow::bail!(seedstr_client::keys::store::KeyError::Exists(
                    store.path().to_path_buf()
                ));
            }
            let keys = Keys::generate();
            store.save(&keys, &passphrase(true)?, force)?;
            print_public(&keys)
        }
        KeyCommand::Import { secret, force } => {
            let keys = KeyStore::parse_secret(&secret)?;
            if store.exists() && !force {
                anyhow::bail!(seedstr_client::keys::store::KeyError::Exists(
                    store.path().to_path_buf()
                ));
            }
            store.save(&keys, &passphrase(true)?, force)?;
            print_public(&keys)
        }
        KeyCommand::Show => {
            let keys = store.load(&passphrase(false)?)?;
            print_public(&keys)
        }
    }
}

fn print_public(keys: &Keys) -> Result<()> {
    let pk = keys.public_key();
    println!("npub: {}", pk.to_bech32()?);
    println!("hex:  {}", pk.to_hex());
    Ok(())
}
