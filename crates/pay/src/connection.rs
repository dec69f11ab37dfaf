//! The user's wallet connection (`seedstr wallet connect <nostr+walletconnect://…>`), kept as
//! the key is: the connection's secret encrypted with the passphrase (NIP-49) in
//! `wallet.ncryptsec`, the wallet's key and relays beside it in `wallet.json`.

use std::path::Path;

use nostr::nips::nip47::NostrWalletConnectUri;
use nostr::prelude::{Keys, PublicKey, RelayUrl};
use seedstr_client::keys::store::{KeyError, KeyStore};
use serde::{Deserialize, Serialize};

/// The secret's file in the home folder.
pub const SECRET_FILE: &str = "wallet.ncryptsec";
/// The connection's public part.
pub const WALLET_FILE: &str = "wallet.json";

/// Why the connection could not be kept or read.
#[derive(Debug, thiserror::Error)]
pub enum ConnectionError {
    /// The URI does not read.
    #[error("not a wallet connection URI (nostr+walletconnect://…): {0}")]
    BadUri(String),
    /// No connection kept.
    #[error("no wallet connected: run `seedstr wallet connect <nostr+walletconnect://…>`")]
    Missing,
    /// The files.
    #[error("the wallet connection: {0}")]
    Files(String),
    /// The secret's encryption.
    #[error(transparent)]
    Key(#[from] KeyError),
}

#[derive(Serialize, Deserialize)]
struct PublicPart {
    wallet: String,
    relays: Vec<String>,
    lud16: Option<String>,
}

/// Keeps `uri` in `home`, its secret encrypted with `passphrase`; the wallet's key (hex).
pub fn save_connection(
    home: &Path,
    uri: &str,
    passphrase: &str,
) -> Result<String, ConnectionError> {
    let uri =
        NostrWalletConnectUri::parse(uri).map_err(|e| ConnectionError::BadUri(e.to_string()))?;
    KeyStore::named(home, SECRET_FILE).save(&Keys::new(uri.secret.clone()), passphrase, true)?;
    let public = PublicPart {
        wallet: uri.public_key.to_hex(),
        relays: uri.relays.iter().map(|r| r.to_string()).collect(),
        lud16: uri.lud16.clone(),
    };
    let bytes = serde_json::to_vec_pretty(&public).expect("serializes");
    seedstr_client::files::durable::replace_file(&home.join(WALLET_FILE), &bytes)
        .map_err(|e| ConnectionError::Files(e.to_string()))?;
    Ok(public.wallet)
}

/// The connection kept in `home`, its secret decrypted with `passphrase`, as a URI.
pub fn load_connection(home: &Path, passphrase: &str) -> Result<String, ConnectionError> {
    let text = match std::fs::read(home.join(WALLET_FILE)) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(ConnectionError::Missing),
        Err(e) => return Err(ConnectionError::Files(e.to_string())),
    };
    let public: PublicPart =
        serde_json::from_slice(&text).map_err(|e| ConnectionError::Files(e.to_string()))?;
    let secret = KeyStore::named(home, SECRET_FILE).load(passphrase)?;
    let wallet =
        PublicKey::from_hex(&public.wallet).map_err(|e| ConnectionError::Files(e.to_string()))?;
    let relays = public
        .relays
        .iter()
        .map(|r| RelayUrl::parse(r).map_err(|e| ConnectionError::Files(e.to_string())))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(
        NostrWalletConnectUri::new(wallet, relays, secret.secret_key().clone(), public.lud16)
            .to_string(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_connection_is_kept_encrypted_and_read_back() {
        let home = std::env::temp_dir().join(format!("seedstr-wallet-{}", std::process::id()));
        std::fs::create_dir_all(&home).unwrap();
        let wallet = Keys::generate().public_key();
        let secret = Keys::generate();
        let uri = NostrWalletConnectUri::new(
            wallet,
            vec![RelayUrl::parse("ws://127.0.0.1:7447").unwrap()],
            secret.secret_key().clone(),
            None,
        )
        .to_string();
        assert_eq!(
            save_connection(&home, &uri, "pass").unwrap(),
            wallet.to_hex()
        );
        let stored = std::fs::read_to_string(home.join(SECRET_FILE)).unwrap();
        assert!(
            stored.starts_with("ncryptsec1"),
            "the secret is not kept in the clear"
        );
        let back = NostrWalletConnectUri::parse(load_connection(&home, "pass").unwrap()).unwrap();
        assert_eq!(back.secret, *secret.secret_key());
        assert_eq!(back.public_key, wallet);
        assert!(load_connection(&home, "wrong").is_err());
        std::fs::remove_dir_all(&home).unwrap();
    }
}
