//! Node status, as a directory sees it: it probes each node its index names (a WebSocket
//! connection, then a REQ answered by EOSE) and publishes what it measured as a NIP-66 relay
//! discovery event (kind 30166, `d` = the node's address, `rtt-open` and `rtt-read` in ms),
//! signed by the directory's key. A node that does not answer gets no new report: its newest
//! report's date is when it was last seen. The directory announces itself as a monitor (10166).

use std::time::{Duration, Instant};

use futures_util::stream::{self, StreamExt as _};
use nostr::prelude::{Event, EventBuilder, FinalizeEvent as _, Keys, Kind, Tag};
use seedstr_client::relays::conn::RelayConn;
use seedstr_client::relays::{publish_all, PublishAnswer};
use serde_json::json;

/// NIP-66's relay discovery kind.
pub const RELAY_STATUS_KIND: u16 = 30166;
/// NIP-66's monitor announcement kind.
pub const MONITOR_KIND: u16 = 10166;
/// Probes run at once.
pub const PROBES_AT_ONCE: usize = 8;
/// The most nodes one round probes.
pub const MAX_PROBES_PER_ROUND: usize = 10_000;

/// What one probe saw.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Probe {
    /// The node's address.
    pub url: String,
    /// Milliseconds to open the connection, when it opened.
    pub rtt_open_ms: Option<u64>,
    /// Milliseconds from a REQ to its EOSE, when it answered.
    pub rtt_read_ms: Option<u64>,
    /// Why it was not reached, when it was not.
    pub why: Option<String>,
}

impl Probe {
    /// Whether the node answered.
    pub fn reachable(&self) -> bool {
        self.rtt_read_ms.is_some()
    }
}

/// Probes the node at `url`, giving up after `timeout` for each step.
pub async fn probe(url: &str, timeout: Duration) -> Probe {
    let mut out = Probe {
        url: url.to_owned(),
        rtt_open_ms: None,
        rtt_read_ms: None,
        why: None,
    };
    let started = Instant::now();
    let mut conn = match tokio::time::timeout(timeout, RelayConn::connect(url)).await {
        Ok(Ok(c)) => c,
        Ok(Err(e)) => {
            out.why = Some(e.to_string());
            return out;
        }
        Err(_) => {
            out.why = Some(format!("no connection within {timeout:?}"));
            return out;
        }
    };
    out.rtt_open_ms = Some(started.elapsed().as_millis() as u64);
    conn.timeout = timeout;
    let asked = Instant::now();
    match conn.query("probe", &[json!({"limit": 0})]).await {
        Ok(_) => out.rtt_read_ms = Some(asked.elapsed().as_millis() as u64),
        Err(e) => out.why = Some(e.to_string()),
    }
    out
}

/// The signed report of a probe that reached its node.
pub fn status_event(directory: &Keys, probe: &Probe) -> Option<Event> {
    let (open, read) = (probe.rtt_open_ms?, probe.rtt_read_ms?);
    EventBuilder::new(Kind::from(RELAY_STATUS_KIND), "")
        .tags([
            Tag::identifier(&probe.url),
            Tag::parse(["rtt-open", &open.to_string()]).expect("a valid tag"),
            Tag::parse(["rtt-read", &read.to_string()]).expect("a valid tag"),
        ])
        .finalize(directory)
        .ok()
}

/// The directory's announcement as a monitor: how often it probes and what.
pub fn monitor_announcement(directory: &Keys, every: Duration, timeout: Duration) -> Event {
    EventBuilder::new(Kind::from(MONITOR_KIND), "")
        .tags([
            Tag::parse(["frequency", &every.as_secs().to_string()]).expect("a valid tag"),
            Tag::parse(["timeout", "open", &timeout.as_millis().to_string()]).expect("a valid tag"),
            Tag::parse(["c", "open"]).expect("a valid tag"),
            Tag::parse(["c", "read"]).expect("a valid tag"),
        ])
        .finalize(directory)
        .expect("signing with our own key")
}

/// What one round did.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Round {
    /// Every probe.
    pub probes: Vec<Probe>,
    /// The relays' answers to the reports.
    pub answers: Vec<PublishAnswer>,
}

/// Probes every node of `urls` (at most [`MAX_PROBES_PER_ROUND`], [`PROBES_AT_ONCE`] at a
/// time) and sends the reports of those that answered to `publish_to`.
pub async fn probe_round(
    directory: &Keys,
    urls: &[String],
    timeout: Duration,
    publish_to: &[String],
) -> Round {
    let owned: Vec<String> = urls.iter().take(MAX_PROBES_PER_ROUND).cloned().collect();
    let probes: Vec<Probe> = stream::iter(owned)
        .map(move |u| async move { probe(&u, timeout).await })
        .buffer_unordered(PROBES_AT_ONCE)
        .collect()
        .await;
    let reports: Vec<Event> = probes
        .iter()
        .filter_map(|p| status_event(directory, p))
        .collect();
    let answers = if reports.is_empty() {
        Vec::new()
    } else {
        publish_all(publish_to, &reports, timeout).await
    };
    Round { probes, answers }
}
