//! NIP-05: a `name@domain` identifier in a profile, checked against the key the domain's
//! `/.well-known/nostr.json` gives that name.

use std::time::Duration;

use nostr::prelude::PublicKey;
use seedstr_client::http::read_capped;

/// The most of a `nostr.json` document read: 64 KiB.
pub const MAX_NIP05_DOCUMENT: usize = 64 * 1024;

/// Why an identifier could not be checked, or did not hold.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Nip05Error {
    /// Not `name@domain` as NIP-05 spells it.
    #[error("{0:?} is not a NIP-05 identifier (name@domain, the name in a-z 0-9 - _ .)")]
    Malformed(String),
    /// The domain did not answer as NIP-05 asks.
    #[error("{url}: {why}")]
    Unreachable {
        /// The address asked.
        url: String,
        /// What went wrong.
        why: String,
    },
    /// The document is not NIP-05's.
    #[error("the domain's nostr.json {0}")]
    NotADocument(String),
    /// The domain does not give the name.
    #[error("the domain gives no key for {0:?}")]
    NoSuchName(String),
    /// The domain gives the name another key.
    #[error("the domain gives {name:?} the key {given}, not this profile's")]
    OtherKey {
        /// The name.
        name: String,
        /// The key it gives (hex).
        given: String,
    },
}

/// The result of checking a profile's identifier.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Nip05Check {
    /// The identifier, as the profile gives it.
    pub identifier: String,
    /// Whether the domain gives this name this profile's key.
    pub verified: bool,
    /// Why not, when not.
    pub why: Option<String>,
}

/// The address of `identifier`'s document: `https://<domain>/.well-known/nostr.json?name=<name>`
/// (plain `http` for a loopback domain, which cannot have a certificate).
pub fn nip05_url(identifier: &str) -> Result<(String, String), Nip05Error> {
    let malformed = || Nip05Error::Malformed(identifier.to_owned());
    let (name, domain) = identifier.split_once('@').ok_or_else(malformed)?;
    let name = name.to_ascii_lowercase();
    let name_ok = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c));
    let domain_ok = !domain.is_empty()
        && domain
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-.:[]".contains(c));
    if !name_ok || !domain_ok {
        return Err(malformed());
    }
    let host = domain.rsplit_once(':').map_or(domain, |(h, _)| h);
    let loopback = host == "localhost"
        || host == "[::1]"
        || host
            .parse::<std::net::Ipv4Addr>()
            .is_ok_and(|ip| ip.is_loopback());
    let scheme = if loopback { "http" } else { "https" };
    Ok((
        format!("{scheme}://{domain}/.well-known/nostr.json?name={name}"),
        name,
    ))
}

/// The key a `nostr.json` document gives `name`, if any.
pub fn key_for(document: &[u8], name: &str) -> Result<Option<PublicKey>, Nip05Error> {
    if document.len() > MAX_NIP05_DOCUMENT {
        return Err(Nip05Error::NotADocument(format!(
            "is over {MAX_NIP05_DOCUMENT} bytes"
        )));
    }
    let doc: serde_json::Value = serde_json::from_slice(document)
        .map_err(|e| Nip05Error::NotADocument(format!("is not JSON: {e}")))?;
    let Some(names) = doc.get("names").and_then(|n| n.as_object()) else {
        return Err(Nip05Error::NotADocument("has no \"names\" object".into()));
    };
    match names.get(name) {
        None => Ok(None),
        Some(serde_json::Value::String(hex)) => PublicKey::from_hex(hex)
            .map(Some)
            .map_err(|_| Nip05Error::NotADocument(format!("gives {name:?} a key that is not one"))),
        Some(_) => Err(Nip05Error::NotADocument(format!(
            "gives {name:?} something that is not a key"
        ))),
    }
}

/// The key the domain of `identifier` gives its name.
pub async fn lookup_nip05(identifier: &str, timeout: Duration) -> Result<PublicKey, Nip05Error> {
    let (url, name) = nip05_url(identifier)?;
    let unreachable = |why: String| Nip05Error::Unreachable {
        url: url.clone(),
        why,
    };
    // NIP-05: a document behind a redirect is not to be trusted.
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(timeout)
        .timeout(timeout)
        .build()
        .map_err(|e| unreachable(e.to_string()))?;
    let response = client
        .get(&url)
        .send()
        .await
        .map_err(|e| unreachable(e.to_string()))?;
    if !response.status().is_success() {
        return Err(unreachable(format!("HTTP {}", response.status())));
    }
    let body = read_capped(response, MAX_NIP05_DOCUMENT)
        .await
        .map_err(|e| unreachable(e.to_string()))?;
    key_for(&body, &name)?.ok_or(Nip05Error::NoSuchName(name))
}

/// Checks that the domain of `identifier` gives its name `key`.
pub async fn check_nip05(identifier: &str, key: &PublicKey, timeout: Duration) -> Nip05Check {
    let result = match lookup_nip05(identifier, timeout).await {
        Ok(given) if given == *key => Ok(()),
        Ok(given) => Err(Nip05Error::OtherKey {
            name: identifier
                .split_once('@')
                .map_or(identifier, |(n, _)| n)
                .to_ascii_lowercase(),
            given: given.to_hex(),
        }),
        Err(e) => Err(e),
    };
    Nip05Check {
        identifier: identifier.to_owned(),
        verified: result.is_ok(),
        why: result.err().map(|e| e.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn identifiers_map_to_their_document() {
        assert_eq!(
            nip05_url("Bob@example.org").unwrap(),
            (
                "https://example.org/.well-known/nostr.json?name=bob".into(),
                "bob".into()
            )
        );
        assert_eq!(
            nip05_url("_@127.0.0.1:8080").unwrap().0,
            "http://127.0.0.1:8080/.well-known/nostr.json?name=_"
        );
        for bad in [
            "bob",
            "@example.org",
            "bob@",
            "b b@example.org",
            "bob@ex/ample.org",
            "bob@a?b",
        ] {
            assert!(nip05_url(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn documents_give_a_key_or_say_why_not() {
        let key = "79be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798";
        let doc = format!(r#"{{"names":{{"bob":"{key}"}},"relays":{{}}}}"#);
        assert_eq!(
            key_for(doc.as_bytes(), "bob").unwrap().unwrap().to_hex(),
            key
        );
        assert_eq!(key_for(doc.as_bytes(), "ann").unwrap(), None);
        assert!(key_for(b"[]", "bob").is_err());
        assert!(key_for(br#"{"names":{"bob":"zz"}}"#, "bob").is_err());
        assert!(key_for(br#"{"names":{"bob":7}}"#, "bob").is_err());
        assert!(key_for(&vec![b' '; MAX_NIP05_DOCUMENT + 1], "bob").is_err());
    }

    proptest! {
        #![proptest_config(ProptestConfig {
            rng_seed: proptest::test_runner::RngSeed::Fixed(0x5eed),
            failure_persistence: None,
            ..ProptestConfig::default()
        })]

        /// Any document and identifier is read or refused, never a panic; a name written into a
        /// document is found there.
        #[test]
        fn documents_and_identifiers_never_panic(doc in "\\PC{0,200}", id in "\\PC{0,60}", name in "[a-z0-9_.-]{1,20}") {
            let _ = key_for(doc.as_bytes(), &name);
            let _ = nip05_url(&id);
            let key = "79be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798";
            let written = serde_json::json!({"names": {name.clone(): key}}).to_string();
            prop_assert!(key_for(written.as_bytes(), &name).unwrap().is_some());
        }
    }
}
