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

/// Downloads `url` into `to` (synced), refusing a body of more than `max` bytes as it arrives
/// rather than buffering it; `on_bytes` hears of every chunk written.
pub async fn download_capped(
    client: &reqwest::Client,
    url: &str,
    to: &Path,
    max: u64,
    on_bytes: &(dyn Fn(u64) + Sync),
) -> Result<(), String> {
    if let Some(parent) = to.parent() {
        tokio::fs::create_dir_all(parent)
            .await
            .map_err(|e| e.to_string())?;
    }
    let mut response = client
        .get(url)
        .send()
        .await
        .map_err(|e| format!("request failed: {e}"))?;
    if !response.status().is_success() {
        return Err(format!("HTTP {}", response.status()));
    }
    let mut out = tokio::fs::File::create(to)
        .await
        .map_err(|e| format!("writing {}: {e}", to.display()))?;
    let mut written = 0u64;
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| format!("download broke off: {e}"))?
    {
        written += chunk.len() as u64;
        if written > max {
            return Err(format!("wrong bytes: more than the {max} bytes expected"));
        }
        out.write_all(&chunk)
            .await
            .map_err(|e| format!("writing {}: {e}", to.display()))?;
        on_bytes(chunk.len() as u64);
    }
    out.sync_all()
        .await
        .map_err(|e| format!("writing {}: {e}", to.display()))?;
    Ok(())
}

/// The `pubkey` a relay's NIP-11 document names (its operator), if it names one.
pub async fn relay_operator(relay_url: &str, timeout: Duration) -> Result<Option<String>, String> {
    let url = relay_url
        .replacen("wss://", "https://", 1)
        .replacen("ws://", "http://", 1);
    let response = http_client(timeout)
        .get(&url)
        .header("Accept", "application/nostr+json")
        .send()
        .await
        .map_err(|e| format!("request failed: {e}"))?;
    if !response.status().is_success() {
        return Err(format!("HTTP {}", response.status()));
    }
    let body = response.bytes().await.map_err(|e| e.to_string())?;
    let doc: serde_json::Value =
        serde_json::from_slice(&body).map_err(|e| format!("not a NIP-11 document: {e}"))?;
    Ok(doc["pubkey"].as_str().map(str::to_owned))
}
