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
    /// Store an existing secret key (nsec1… or 64 hex characters), read from standard input
    /// (asked for, unechoed, on a terminal) or from --file; never from the command line.
    Import {
        /// Refused: a secret on the command line shows in the process list and shell history.
        #[arg(hide = true)]
        secret: Option<String>,
        /// Read the secret from this file.
        #[arg(long)]
        file: Option<std::path::PathBuf>,
        /// Replace an existing key.
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
        KeyCommand::Import {
            secret,
            file,
            force,
        } => {
            if secret.is_some() {
                anyhow::bail!(
                    "the secret key is not taken on the command line, where the process list and \
                     shell history keep it: pipe it in (seedstr key import < file), type it when \
                     asked, or pass --file"
                );
            }
            let keys = KeyStore::parse_secret(read_secret(file.as_deref())?.trim())?;
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

/// The secret from `file`, or else standard input: asked for, unechoed, on a terminal; the
/// first line otherwise.
fn read_secret(file: Option<&std::path::Path>) -> Result<String> {
    use std::io::IsTerminal as _;
    if let Some(path) = file {
        return std::fs::read_to_string(path)
            .map_err(|e| anyhow::anyhow!("reading the secret key from {}: {e}", path.display()));
    }
    if std::io::stdin().is_terminal() {
        return Ok(rpassword::prompt_password(
            "secret key (nsec1… or 64 hex characters): ",
        )?);
    }
    let mut line = String::new();
    std::io::stdin().read_line(&mut line)?;
    Ok(line)
}

fn print_public(keys: &Keys) -> Result<()> {
    let pk = keys.public_key();
    println!("npub: {}", pk.to_bech32()?);
    println!("hex:  {}", pk.to_hex());
    Ok(())
}
