//! The user's Nostr secret key, stored encrypted (NIP-49 `ncryptsec`) under `$SEEDSTR_HOME`.

use std::io::Write;
use std::path::{Path, PathBuf};

use nostr::nips::nip49::{EncryptedSecretKey, KeySecurity};
use nostr::prelude::{FromBech32, Keys, ToBech32};

/// scrypt cost: 2^16 rounds, NIP-49's recommended minimum.
const LOG_N: u8 = 16;
const KEY_FILE: &str = "key.ncryptsec";

/// Why a key could not be loaded or stored.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// There is no key file.
    #[error("no key in {0}: run `seedstr key generate` or `seedstr key import`")]
    Missing(PathBuf),
    /// A key file exists already.
    #[error("a key already exists in {0}; pass --force to replace it")]
    Exists(PathBuf),
    /// The passphrase does not decrypt the key.
    #[error("wrong passphrase for {0}")]
    WrongPassphrase(PathBuf),
    /// The key file does not parse.
    #[error("{0} is not a valid ncryptsec key file: {1}")]
    Corrupt(PathBuf, String),
    /// The secret key given does not parse.
    #[error("not a valid secret key: expected nsec1… or 64 hex characters")]
    Malformed,
    /// The passphrase is empty.
    #[error("the passphrase is empty")]
    EmptyPassphrase,
    /// No passphrase could be had.
    #[error("no passphrase: set SEEDSTR_PASSPHRASE or run in a terminal")]
    NoPassphrase,
    /// The passphrase and its confirmation differ.
    #[error("the passphrases do not match")]
    Mismatch,
    /// A file operation failed.
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// Encrypting the key failed.
    #[error("encryption failed: {0}")]
    Crypto(String),
}

/// `$SEEDSTR_HOME`, else `~/.config/seedstr`.
pub fn home() -> PathBuf {
    if let Some(h) = std::env::var_os("SEEDSTR_HOME") {
        return PathBuf::from(h);
    }
    let base = std::env::var_os("HOME").map_or_else(|| PathBuf::from("."), PathBuf::from);
    base.join(".config").join("seedstr")
}

/// The identity key in `$SEEDSTR_HOME`, encrypted with a passphrase (NIP-49).
pub struct KeyStore {
    path: PathBuf,
}

impl KeyStore {
    /// The key store in `home`.
    pub fn new(home: &Path) -> KeyStore {
        KeyStore {
            path: home.join(KEY_FILE),
        }
    }

    /// A store for another secret kept the same way (a wallet connection's), in file `name`
    /// of `home`.
    pub fn named(home: &Path, name: &str) -> KeyStore {
        KeyStore {
            path: home.join(name),
        }
    }

    /// The key file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Whether a key file exists.
    pub fn exists(&self) -> bool {
        self.path.exists()
    }

    /// Parses a user-given secret key (nsec or hex).
    pub fn parse_secret(text: &str) -> Result<Keys, KeyError> {
        Keys::parse(text.trim()).map_err(|_| KeyError::Malformed)
    }

    /// Encrypts and writes `keys`: to a temporary file of mode 0600, fsynced, then renamed over
    /// the old one, so a crash leaves either the old key or the new one.
    pub fn save(&self, keys: &Keys, passphrase: &str, force: bool) -> Result<(), KeyError> {
        if passphrase.is_empty() {
            return Err(KeyError::EmptyPassphrase);
        }
        if self.exists() && !force {
            return Err(KeyError::Exists(self.path.clone()));
        }
        let enc =
            EncryptedSecretKey::new(keys.secret_key(), passphrase, LOG_N, KeySecurity::Medium)
                .map_err(|e| KeyError::Crypto(e.to_string()))?;
        let text = enc
            .to_bech32()
            .map_err(|e| KeyError::Crypto(e.to_string()))?;
        let dir = self.path.parent().expect("key file has a folder");
        std::fs::create_dir_all(dir)?;
        let mut tmp = tempfile::Builder::new()
            .prefix(".key")
            .permissions(std::os::unix::fs::PermissionsExt::from_mode(0o600))
            .tempfile_in(dir)?;
        writeln!(tmp, "{text}")?;
        tmp.as_file().sync_all()?;
        tmp.persist(&self.path).map_err(|e| e.error)?;
        Ok(())
    }

    /// Decrypts the key with `passphrase`.
    pub fn load(&self, passphrase: &str) -> Result<Keys, KeyError> {
        let text = match std::fs::read_to_string(&self.path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(KeyError::Missing(self.path.clone()))
            }
            Err(e) => return Err(e.into()),
        };
        let enc = EncryptedSecretKey::from_bech32(text.trim())
            .map_err(|e| KeyError::Corrupt(self.path.clone(), e.to_string()))?;
        let secret = enc
            .decrypt(passphrase)
            .map_err(|_| KeyError::WrongPassphrase(self.path.clone()))?;
        Ok(Keys::new(secret))
    }
}

/// The passphrase from `SEEDSTR_PASSPHRASE`, else asked on the terminal (twice when `confirm`).
pub fn passphrase(confirm: bool) -> Result<String, KeyError> {
    if let Ok(p) = std::env::var("SEEDSTR_PASSPHRASE") {
        return Ok(p);
    }
    let first = rpassword::prompt_password("Passphrase: ").map_err(|_| KeyError::NoPassphrase)?;
    if confirm {
        let again =
            rpassword::prompt_password("Passphrase again: ").map_err(|_| KeyError::NoPassphrase)?;
        if again != first {
            return Err(KeyError::Mismatch);
        }
    }
    Ok(first)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn round_trip_mode_and_wrong_passphrase() {
        let dir = tempfile::tempdir().unwrap();
        let store = KeyStore::new(dir.path());
        assert!(matches!(store.load("x"), Err(KeyError::Missing(_))));
        let keys = Keys::generate();
        store.save(&keys, "correct horse", false).unwrap();
        let mode = std::fs::metadata(store.path())
            .unwrap()
            .permissions()
            .mode()
            & 0o777;
        assert_eq!(mode, 0o600);
        assert_eq!(
            store.load("correct horse").unwrap().public_key(),
            keys.public_key()
        );
        assert!(matches!(
            store.load("wrong"),
            Err(KeyError::WrongPassphrase(_))
        ));
        assert!(matches!(
            store.save(&keys, "p", false),
            Err(KeyError::Exists(_))
        ));
        std::fs::write(store.path(), "ncryptsec1garbage").unwrap();
        assert!(matches!(store.load("p"), Err(KeyError::Corrupt(..))));
    }

    #[test]
    fn parses_nsec_and_hex_and_refuses_junk() {
        let keys = Keys::generate();
        let nsec = keys.secret_key().to_bech32().unwrap();
        let hex = keys.secret_key().to_secret_hex();
        assert_eq!(
            KeyStore::parse_secret(&nsec).unwrap().public_key(),
            keys.public_key()
        );
        assert_eq!(
            KeyStore::parse_secret(&hex).unwrap().public_key(),
            keys.public_key()
        );
        assert!(matches!(
            KeyStore::parse_secret("nsec1nope"),
            Err(KeyError::Malformed)
        ));
        assert!(matches!(
            KeyStore::parse_secret(""),
            Err(KeyError::Malformed)
        ));
    }
}
