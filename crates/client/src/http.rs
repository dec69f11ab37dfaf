//! Plain HTTP downloads (release mirrors, feed web seeds): the bytes are never trusted; callers
//! check them against signed hashes.

use std::path::Path;
use std::time::Duration;

use tokio::io::AsyncWriteExt;

/// A client that gives up on a server silent for `timeout`.
pub fn http_client(timeout: Duration) -> reqwest::Client {
    reqwest::Client::builder()
        .connect_timeout(timeout)
        .read_timeout(timeout)
        .user_agent(concat!("seedstr/", env!("CARGO_PKG_VERSION")))
        .build()
        .expect("a plain http client builds")
}

/// Why an HTTP request did not give what was asked.
#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    /// The request could not be made.
    #[error("request failed: {0}")]
    Request(String),
    /// The server answered with an error status.
    #[error("HTTP {0}")]
    Status(reqwest::StatusCode),
    /// The body stopped arriving.
    #[error("download broke off: {0}")]
    BrokeOff(String),
    /// The server sent more than the signed size: wrong bytes, whatever they are.
    #[error("wrong bytes: more than the {max} bytes expected")]
    TooLarge {
        /// The most bytes allowed.
        max: u64,
    },
    /// The body could not be written.
    #[error("writing {}: {source}", path.display())]
    Write {
        /// The file being written.
        path: std::path::PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// An answer is longer than the reader takes.
    #[error("the answer is larger than {max} bytes")]
    BodyTooLarge {
        /// The most bytes taken.
        max: usize,
    },
    /// The body is not a NIP-11 relay information document.
    #[error("not a NIP-11 document: {0}")]
    NotNip11(String),
}

/// Downloads `url` into `to` (synced), refusing a body of more than `max` bytes as it arrives
/// rather than buffering it; `on_bytes` hears of every chunk written.
pub async fn download_capped(
    client: &reqwest::Client,
    url: &str,
    to: &Path,
    max: u64,
    on_bytes: &(dyn Fn(u64) + Sync),
) -> Result<(), HttpError> {
    let write = |source| HttpError::Write {
        path: to.to_owned(),
        source,
    };
    if let Some(parent) = to.parent() {
        tokio::fs::create_dir_all(parent).await.map_err(write)?;
    }
    let mut response = client
        .get(url)
        .send()
        .await
        .map_err(|e| HttpError::Request(e.to_string()))?;
    if !response.status().is_success() {
        return Err(HttpError::Status(response.status()));
    }
    let mut out = tokio::fs::File::create(to).await.map_err(write)?;
    let mut written = 0u64;
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| HttpError::BrokeOff(e.to_string()))?
    {
        written += chunk.len() as u64;
        if written > max {
            return Err(HttpError::TooLarge { max });
        }
        out.write_all(&chunk).await.map_err(write)?;
        on_bytes(chunk.len() as u64);
    }
    out.sync_all().await.map_err(write)?;
    Ok(())
}

/// The most a NIP-11 document may weigh; real ones are a few hundred bytes.
const MAX_NIP11_BYTES: usize = 64 * 1024;

/// The `pubkey` a relay's NIP-11 document names (its operator), if it names one.
pub async fn relay_operator(
    relay_url: &str,
    timeout: Duration,
) -> Result<Option<String>, HttpError> {
    let url = relay_url
        .replacen("wss://", "https://", 1)
        .replacen("ws://", "http://", 1);
    let response = http_client(timeout)
        .get(&url)
        .header("Accept", "application/nostr+json")
        .send()
        .await
        .map_err(|e| HttpError::Request(e.to_string()))?;
    if !response.status().is_success() {
        return Err(HttpError::Status(response.status()));
    }
    let body = read_capped(response, MAX_NIP11_BYTES)
        .await
        .map_err(|e| match e {
            HttpError::BodyTooLarge { max } => {
                HttpError::NotNip11(format!("more than {max} bytes"))
            }
            other => other,
        })?;
    nip11_operator(&body)
}

/// The operator's `pubkey` in a NIP-11 document's bytes, if it names one.
pub fn nip11_operator(body: &[u8]) -> Result<Option<String>, HttpError> {
    if body.len() > MAX_NIP11_BYTES {
        return Err(HttpError::NotNip11(format!(
            "more than {MAX_NIP11_BYTES} bytes"
        )));
    }
    let doc: serde_json::Value =
        serde_json::from_slice(body).map_err(|e| HttpError::NotNip11(e.to_string()))?;
    if !doc.is_object() {
        return Err(HttpError::NotNip11("not a JSON object".into()));
    }
    Ok(doc["pubkey"].as_str().map(str::to_owned))
}

/// A response's body, read as it arrives and cut off past `max` bytes rather than buffered
/// whole.
pub async fn read_capped(
    mut response: reqwest::Response,
    max: usize,
) -> Result<Vec<u8>, HttpError> {
    let mut body = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| HttpError::BrokeOff(e.to_string()))?
    {
        if body.len() + chunk.len() > max {
            return Err(HttpError::BodyTooLarge { max });
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        // A fixed seed and no regression files: the same cases on every run.
        #![proptest_config(ProptestConfig {
            rng_seed: proptest::test_runner::RngSeed::Fixed(0x5eed),
            failure_persistence: None,
            ..ProptestConfig::default()
        })]

        /// Any bytes a relay sends are answered with a result, never a panic; only a JSON
        /// object is a document.
        #[test]
        fn any_nip11_body_is_read_or_refused(body in proptest::collection::vec(any::<u8>(), 0..4096)) {
            if let Ok(found) = nip11_operator(&body) {
                let doc: serde_json::Value = serde_json::from_slice(&body).unwrap();
                prop_assert!(doc.is_object());
                prop_assert_eq!(found, doc["pubkey"].as_str().map(str::to_owned));
            }
        }

        /// Whatever the operator's key says, it comes back as written.
        #[test]
        fn the_operator_is_read_back(pubkey in "\\PC{0,80}", name in "\\PC{0,40}") {
            let body = serde_json::json!({"name": name, "pubkey": pubkey}).to_string();
            prop_assert_eq!(nip11_operator(body.as_bytes()).unwrap(), Some(pubkey));
        }
    }

    #[test]
    fn a_document_past_the_cap_is_refused_naming_it() {
        let padding = "x".repeat(MAX_NIP11_BYTES);
        let body = serde_json::json!({"pubkey": "ab", "description": padding}).to_string();
        let err = nip11_operator(body.as_bytes()).unwrap_err();
        assert!(err.to_string().contains("more than"), "{err}");
    }
}
