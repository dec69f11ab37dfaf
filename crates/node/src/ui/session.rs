//! The owner's sign-in to their node's pages: their key's passphrase (checked by decrypting
//! the stored key, NIP-49), then a session cookie (`HttpOnly`, `SameSite=Strict`, 12 hours).
//! Only from this machine unless `social.remote_login`; a form that changes anything carries
//! a token derived from the session, so another site cannot submit it.

use std::collections::HashMap;
use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::http::{header, HeaderMap};
use sha2::{Digest as _, Sha256};

/// The cookie's name.
pub const COOKIE: &str = "seedstr_session";
/// How long a session lasts.
pub const SESSION_LIFETIME: Duration = Duration::from_secs(12 * 3600);
/// The most sessions held at once; the oldest goes first.
const MAX_SESSIONS: usize = 64;

/// Open sessions and who may open one.
pub struct Sessions {
    /// Where the owner's encrypted key is.
    data: PathBuf,
    /// Whether sign-in is allowed from other machines.
    remote_login: bool,
    open: Mutex<HashMap<String, Instant>>,
}

/// Why a sign-in was refused.
#[derive(Debug, thiserror::Error)]
pub enum SignInError {
    /// From another machine, not allowed.
    #[error("sign-in is only allowed from this machine (set social.remote_login to allow more)")]
    NotLocal,
    /// The passphrase does not open the key.
    #[error("that passphrase does not open this node's key")]
    WrongPassphrase,
}

impl Sessions {
    /// Sessions for the key in `data`.
    pub fn new(data: PathBuf, remote_login: bool) -> Sessions {
        Sessions {
            data,
            remote_login,
            open: Mutex::new(HashMap::new()),
        }
    }

    /// Whether a client at `ip` may use owner pages at all.
    pub fn allowed_from(&self, ip: IpAddr) -> bool {
        self.remote_login || ip.is_loopback()
    }

    /// Checks `passphrase` against the stored key (of `owner`); a new session's token.
    pub async fn sign_in(
        &self,
        ip: IpAddr,
        passphrase: String,
        owner: nostr::prelude::PublicKey,
    ) -> Result<String, SignInError> {
        if !self.allowed_from(ip) {
            return Err(SignInError::NotLocal);
        }
        let data = self.data.clone();
        // NIP-49's scrypt is slow on purpose: off the runtime.
        let opened = tokio::task::spawn_blocking(move || {
            seedstr_client::keys::store::KeyStore::new(&data).load(&passphrase)
        })
        .await
        .ok()
        .and_then(Result::ok);
        if opened.map(|k| k.public_key()) != Some(owner) {
            return Err(SignInError::WrongPassphrase);
        }
        let token = hex::encode(rand::random::<[u8; 32]>());
        let mut open = self.open.lock().expect("not poisoned");
        let now = Instant::now();
        open.retain(|_, until| *until > now);
        if open.len() >= MAX_SESSIONS {
            if let Some(oldest) = open.iter().min_by_key(|(_, u)| **u).map(|(t, _)| t.clone()) {
                open.remove(&oldest);
            }
        }
        open.insert(token.clone(), now + SESSION_LIFETIME);
        Ok(token)
    }

    /// The session token the request carries, if it is open and the client may use it.
    pub fn session(&self, headers: &HeaderMap, ip: IpAddr) -> Option<String> {
        if !self.allowed_from(ip) {
            return None;
        }
        let token = cookie(headers, COOKIE)?;
        let open = self.open.lock().expect("not poisoned");
        open.get(&token)
            .is_some_and(|until| *until > Instant::now())
            .then_some(token)
    }

    /// Ends the session.
    pub fn sign_out(&self, token: &str) {
        self.open.lock().expect("not poisoned").remove(token);
    }
}

/// The form token of a session: forms that change anything carry it.
pub fn form_token(session: &str) -> String {
    hex::encode(Sha256::digest(format!("seedstr-form:{session}").as_bytes()))
}

/// The `Set-Cookie` value opening `token`'s session.
pub fn set_cookie(token: &str) -> String {
    format!(
        "{COOKIE}={token}; HttpOnly; SameSite=Strict; Path=/; Max-Age={}",
        SESSION_LIFETIME.as_secs()
    )
}

/// The `Set-Cookie` value ending the session.
pub fn clear_cookie() -> String {
    format!("{COOKIE}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0")
}

/// The value of cookie `name` in the request.
fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|c| {
            let (k, v) = c.trim().split_once('=')?;
            (k == name).then(|| v.to_owned())
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_are_read_by_name_and_tokens_differ_per_session() {
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            "a=1; seedstr_session=abc; b=2".parse().unwrap(),
        );
        assert_eq!(cookie(&h, COOKIE).as_deref(), Some("abc"));
        assert_eq!(cookie(&h, "c"), None);
        assert_ne!(form_token("abc"), form_token("abd"));
        assert!(set_cookie("abc").contains("HttpOnly; SameSite=Strict"));
    }

    #[test]
    fn only_loopback_unless_remote_login() {
        let s = Sessions::new(PathBuf::from("/nonexistent"), false);
        assert!(s.allowed_from("127.0.0.1".parse().unwrap()));
        assert!(!s.allowed_from("192.0.2.1".parse().unwrap()));
        let r = Sessions::new(PathBuf::from("/nonexistent"), true);
        assert!(r.allowed_from("192.0.2.1".parse().unwrap()));
    }
}
