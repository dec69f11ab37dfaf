//! REQ latency on a populated store: the time from sending a REQ to its EOSE, one query at a
//! time on one connection, so each figure is the relay's service time for that filter.

use std::time::{Duration, Instant};

use anyhow::{bail, Result};
use seedstr_client::relay_conn::RelayConn;
use serde_json::Value;
use tokio_tungstenite::tungstenite::Message;

use super::stats::{Latencies, Summary};

pub struct QueryReport {
    pub name: String,
    pub latency: Summary,
    /// Mean number of events a query returned.
    pub mean_events: f64,
}

pub async fn run(url: &str, name: &str, filters: Vec<Value>) -> Result<QueryReport> {
    let mut conn = RelayConn::connect(url).await?;
    conn.timeout = Duration::from_secs(60);
    let mut latencies = Latencies::default();
    let mut returned = 0usize;
    let count = filters.len();
    for (n, filter) in filters.into_iter().enumerate() {
        let sub = format!("q{n}");
        let started = Instant::now();
        conn.send_text(format!("[\"REQ\",\"{sub}\",{filter}]"))
            .await?;
        let prefix_event = format!("[\"EVENT\",\"{sub}\",");
        let eose = format!("[\"EOSE\",\"{sub}\"]");
        loop {
            let text = match conn.recv_message().await? {
                Message::Text(t) => t,
                _ => continue,
            };
            if text.starts_with(&prefix_event) {
                returned += 1;
            } else if text.as_str() == eose {
                latencies.push(started.elapsed());
                break;
            } else if text.starts_with("[\"CLOSED\"") {
                bail!("{name}: the relay closed query {filter}: {text}");
            }
        }
        conn.send_text(format!("[\"CLOSE\",\"{sub}\"]")).await?;
    }
    Ok(QueryReport {
        name: name.to_string(),
        latency: latencies.summary(),
        mean_events: returned as f64 / count.max(1) as f64,
    })
}
