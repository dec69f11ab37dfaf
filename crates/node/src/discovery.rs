//! How commands find a running node: it writes `<data>/node.json` once it is up and removes
//! the file when it stops. A reader believes the file only when the node answers `/health`
//! at the address inside it, so a file left behind by a crash is harmless.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use seedstr_client::files::durable::replace_file;
use seedstr_client::http::{http_client, read_capped};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The file in the data folder a running node writes.
pub const NODE_FILE: &str = "node.json";

/// What the file says of the running node.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NodeFile {
    /// Its HTTP address.
    pub http: SocketAddr,
    /// Its torrent address, as peers on this machine reach it.
    pub torrent: SocketAddr,
    /// Its process.
    pub pid: u32,
}

fn path(data: &Path) -> PathBuf {
    data.join(NODE_FILE)
}

/// Writes the file, once the node is up.
pub fn announce(data: &Path, file: &NodeFile) -> std::io::Result<()> {
    let json = serde_json::to_vec_pretty(file).expect("a node file serializes");
    replace_file(&path(data), &json)
}

/// Removes the file, as the node stops.
pub fn withdraw(data: &Path) {
    let _ = std::fs::remove_file(path(data));
}

/// A node that answered, and how to ask it things.
pub struct RunningNode {
    /// Its HTTP address.
    pub http: SocketAddr,
    client: reqwest::Client,
}

/// The node running on `data`, if one answers.
pub async fn running(data: &Path) -> Option<RunningNode> {
    let text = std::fs::read_to_string(path(data)).ok()?;
    let file: NodeFile = serde_json::from_str(&text).ok()?;
    let node = RunningNode {
        http: loopback_for(file.http),
        client: http_client(Duration::from_secs(5)),
    };
    node.get::<crate::health::Health>("/health").await.ok()?;
    Some(node)
}

/// Why the running node's API did not answer a request.
#[derive(Debug, thiserror::Error)]
pub enum NodeApiError {
    /// The node could not be reached.
    #[error("asking the node at {0}")]
    Unreachable(String),
    /// Its answer could not be read.
    #[error("reading the node's answer: {0}")]
    Unreadable(String),
    /// The node answered with an error; its message.
    #[error("{0}")]
    Refused(String),
}

/// The most a node's API answer may weigh (a status listing many payloads stays far below).
const MAX_ANSWER_BYTES: usize = 16 << 20;

impl RunningNode {
    /// `GET <path>` as JSON; Err names what failed, or the node's own error message.
    pub async fn get<T: serde::de::DeserializeOwned>(&self, path: &str) -> Result<T, NodeApiError> {
        let url = format!("http://{}{path}", self.http);
        let response = self
            .client
            .get(&url)
            .send()
            .await
            .map_err(|e| NodeApiError::Unreachable(format!("{url}: {e}")))?;
        let status = response.status();
        // Whatever answers on that port is read only up to a bound.
        let body = read_capped(response, MAX_ANSWER_BYTES)
            .await
            .map_err(|e| NodeApiError::Unreadable(format!("{url}: {e}")))?;
        let text = String::from_utf8_lossy(&body);
        let value: Value = serde_json::from_str(&text)
            .map_err(|e| NodeApiError::Unreadable(format!("not JSON ({e}): {text}")))?;
        if status.is_success() {
            serde_json::from_value(value)
                .map_err(|e| NodeApiError::Unreadable(format!("{url}: unexpected answer: {e}")))
        } else {
            Err(NodeApiError::Refused(
                value["error"].as_str().unwrap_or(&text).to_owned(),
            ))
        }
    }
}

/// An address this machine can reach `addr` at: the loopback one for a wildcard bind.
pub fn loopback_for(addr: SocketAddr) -> SocketAddr {
    if addr.ip().is_unspecified() {
        SocketAddr::from(([127, 0, 0, 1], addr.port()))
    } else {
        addr
    }
}
