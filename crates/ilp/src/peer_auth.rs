//! Peering with the node of someone one's owner follows, with no token agreed beforehand: the
//! BTP `auth_token` is a signed Nostr event in NIP-98's shape — kind 27235, a `u` tag naming the
//! BTP endpoint being opened, a `method` tag `BTP`, made within the last minute — and the
//! session's account is named after its signer. Each event opens one session: one seen again
//! while it would still be fresh is refused, so a token overheard cannot be replayed. The same
//! check serves NIP-98 authorizations of HTTP requests (another method, the request's URL).

use std::collections::HashMap;
use std::sync::Mutex;

use nostr::prelude::{
    Event, EventBuilder, FinalizeEvent as _, Keys, Kind, PublicKey, Tag, Timestamp,
};

/// The event's kind (NIP-98's HTTP auth kind, its `method` here `BTP`).
pub const PEER_AUTH_KIND: u16 = 27235;
/// How far an event's time may be from the checker's clock, in seconds.
pub const WINDOW_SECS: u64 = 60;
/// Events remembered to refuse replays; past it, new sessions wait until old ones age out.
pub const MAX_REMEMBERED: usize = 10_000;
/// The largest token read.
pub const MAX_TOKEN_BYTES: usize = 4096;

/// Why a token does not open a session.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PeerAuthError {
    /// Not a signed event of the right kind.
    #[error("not a peering token: {0}")]
    NotOne(String),
    /// For another endpoint or method.
    #[error("the peering token is for {0}, not this BTP endpoint")]
    OtherEndpoint(String),
    /// Too old or from the future.
    #[error("the peering token was made at {made}, more than {WINDOW_SECS} s from now ({now})")]
    Stale {
        /// Its time.
        made: u64,
        /// The checker's.
        now: u64,
    },
    /// Used before.
    #[error("the peering token was used before")]
    Replayed,
    /// Too many recent sessions to remember one more.
    #[error("too many peering sessions opened in the last minute; try later")]
    Busy,
}

/// Signs a token for opening a session at `endpoint` at time `now` (Unix seconds).
pub fn sign_token(keys: &Keys, endpoint: &str, now: u64) -> String {
    sign_request(keys, endpoint, "BTP", now)
}

/// Signs a NIP-98 authorization for `method` on `url` at time `now`: the event's JSON (an HTTP
/// header carries it in base64, `Authorization: Nostr …`).
pub fn sign_request(keys: &Keys, url: &str, method: &str, now: u64) -> String {
    let tags = [
        Tag::parse(["u", url]).expect("a tag with a name"),
        Tag::parse(["method", method]).expect("a tag with a name"),
    ];
    EventBuilder::new(Kind::from(PEER_AUTH_KIND), "")
        .tags(tags)
        .custom_created_at(Timestamp::from_secs(now))
        .finalize(keys)
        .expect("signing with a key in memory")
        .as_json()
}

/// The account a signer's sessions are named by: `n` and the first 16 hex digits of its key.
pub fn account_name(key: &PublicKey) -> String {
    format!("n{}", &key.to_hex()[..16])
}

/// Reads `token` as a peering event without checking time or reuse: its signer, when it is a
/// signed kind 27235 for `endpoint` with method `BTP`, and its time.
pub fn read_token(
    token: &str,
    endpoint: &str,
) -> Result<(PublicKey, u64, [u8; 32]), PeerAuthError> {
    read_request(token, endpoint, "BTP")
}

/// Reads `token` as a NIP-98 authorization for `method` on `endpoint` (the request's URL),
/// without checking time or reuse: its signer, its time and its id.
pub fn read_request(
    token: &str,
    endpoint: &str,
    method: &str,
) -> Result<(PublicKey, u64, [u8; 32]), PeerAuthError> {
    if token.len() > MAX_TOKEN_BYTES {
        return Err(PeerAuthError::NotOne(format!(
            "{} bytes, over {MAX_TOKEN_BYTES}",
            token.len()
        )));
    }
    let event = Event::from_json(token).map_err(|e| PeerAuthError::NotOne(e.to_string()))?;
    if event.kind.as_u16() != PEER_AUTH_KIND {
        return Err(PeerAuthError::NotOne(format!(
            "kind {}",
            event.kind.as_u16()
        )));
    }
    event
        .verify()
        .map_err(|_| PeerAuthError::NotOne("its id or signature does not verify".into()))?;
    let value = |name: &str| {
        event.tags.iter().find_map(|t| {
            let s = t.as_slice();
            (s[0] == name).then(|| s.get(1).cloned().unwrap_or_default())
        })
    };
    let u = value("u").unwrap_or_default();
    if u.trim_end_matches('/') != endpoint.trim_end_matches('/') {
        return Err(PeerAuthError::OtherEndpoint(u));
    }
    let said = value("method").unwrap_or_default();
    if !said.eq_ignore_ascii_case(method) {
        return Err(PeerAuthError::OtherEndpoint(format!("{u} ({said})")));
    }
    Ok((
        event.pubkey,
        event.created_at.as_secs(),
        event.id.to_bytes(),
    ))
}

/// Checks peering tokens for one endpoint, remembering those used.
pub struct PeerAuth {
    endpoint: String,
    used: Mutex<HashMap<[u8; 32], u64>>,
}

impl PeerAuth {
    /// Checks tokens for sessions opened at `endpoint` (the BTP URL this node announces).
    pub fn new(endpoint: &str) -> PeerAuth {
        PeerAuth {
            endpoint: endpoint.to_owned(),
            used: Mutex::new(HashMap::new()),
        }
    }

    /// The signer of `token`, at time `now` (Unix seconds), if it may open a session.
    pub fn check(&self, token: &str, now: u64) -> Result<PublicKey, PeerAuthError> {
        self.check_request(token, "BTP", now)
    }

    /// The signer of a NIP-98 authorization for `method` on this endpoint, at time `now`, if it
    /// is fresh and was not used before.
    pub fn check_request(
        &self,
        token: &str,
        method: &str,
        now: u64,
    ) -> Result<PublicKey, PeerAuthError> {
        let (key, made, id) = read_request(token, &self.endpoint, method)?;
        if made.abs_diff(now) > WINDOW_SECS {
            return Err(PeerAuthError::Stale { made, now });
        }
        let mut used = self.used.lock().unwrap_or_else(|p| p.into_inner());
        // What is older than the window would be refused as stale anyway.
        used.retain(|_, at| at.abs_diff(now) <= WINDOW_SECS);
        if used.contains_key(&id) {
            return Err(PeerAuthError::Replayed);
        }
        if used.len() >= MAX_REMEMBERED {
            return Err(PeerAuthError::Busy);
        }
        used.insert(id, made);
        Ok(key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const AT: &str = "ws://127.0.0.1:7448";
    const NOW: u64 = 1_800_000_000;

    #[test]
    fn a_fresh_token_opens_once_and_the_rest_are_refused_by_name() {
        let keys = Keys::generate();
        let auth = PeerAuth::new(AT);
        let token = sign_token(&keys, AT, NOW);
        assert_eq!(auth.check(&token, NOW + 5), Ok(keys.public_key()));
        assert_eq!(auth.check(&token, NOW + 6), Err(PeerAuthError::Replayed));
        let other = sign_token(&keys, "ws://elsewhere:1", NOW);
        assert!(matches!(
            auth.check(&other, NOW),
            Err(PeerAuthError::OtherEndpoint(_))
        ));
        let old = sign_token(&keys, AT, NOW - 61);
        assert!(matches!(
            auth.check(&old, NOW),
            Err(PeerAuthError::Stale { .. })
        ));
        assert!(matches!(
            auth.check("not a token", NOW),
            Err(PeerAuthError::NotOne(_))
        ));
        // Signed, then changed: the signature no longer holds.
        let forged = sign_token(&keys, AT, NOW + 1).replace("\"BTP\"", "\"BTQ\"");
        assert!(matches!(
            auth.check(&forged, NOW),
            Err(PeerAuthError::NotOne(_))
        ));
        assert_eq!(account_name(&keys.public_key()).len(), 17);
    }

    #[test]
    fn an_http_request_is_authorized_for_its_method_and_url_once() {
        let keys = Keys::generate();
        let url = "http://127.0.0.1:7447/api/v1/ilp/credit";
        let auth = PeerAuth::new(url);
        let post = sign_request(&keys, url, "POST", NOW);
        assert!(matches!(
            auth.check_request(&post, "GET", NOW),
            Err(PeerAuthError::OtherEndpoint(_))
        ));
        assert_eq!(
            auth.check_request(&post, "POST", NOW),
            Ok(keys.public_key())
        );
        assert_eq!(
            auth.check_request(&post, "POST", NOW),
            Err(PeerAuthError::Replayed)
        );
        // A BTP token is not an HTTP authorization, nor the other way round.
        assert!(auth.check(&post, NOW).is_err());
    }

    proptest! {
        #![proptest_config(ProptestConfig {
            rng_seed: proptest::test_runner::RngSeed::Fixed(0x5eed),
            failure_persistence: None,
            cases: 64,
            ..ProptestConfig::default()
        })]

        #[test]
        fn any_text_is_read_or_refused(text in ".{0,300}") {
            let _ = read_token(&text, AT);
        }

        #[test]
        fn tokens_within_the_window_are_taken(offset in 0u64..=120) {
            let keys = Keys::generate();
            let made = NOW - 60 + offset;
            let token = sign_token(&keys, AT, made);
            let got = PeerAuth::new(AT).check(&token, NOW);
            prop_assert_eq!(got.is_ok(), made.abs_diff(NOW) <= WINDOW_SECS);
        }
    }
}
