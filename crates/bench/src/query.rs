//! REQ latency on a populated store: the time from sending a REQ to its EOSE, one query at a
//! time on one connection, so each figure is the relay's service time for that filter.

use std::time::{Duration, Instant};

use anyhow::{bail, Result};
use seedstr_client::relays::conn::RelayConn;
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
    run_for(url, name, filters, Duration::ZERO).await
}

/// [`run`], going through the filters again until `at_least` has passed.
pub async fn run_for(
    url: &str,
    name: &str,
    filters: Vec<Value>,
    at_least: Duration,
) -> Result<QueryReport> {
    let mut conn = RelayConn::connect(url).await?;
    conn.timeout = Duration::from_secs(60);
    let mut latencies = Latencies::default();
    let mut returned = 0usize;
    let started = Instant::now();
    let rounds = filters
        .iter()
        .cycle()
        .enumerate()
        .take_while(|(n, _)| *n < filters.len() || started.elapsed() < at_least);
    let mut count = 0usize;
    for (n, filter) in rounds {
        count += 1;
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

/// What the heavy queries did while the short ones were measured.
#[derive(Default)]
pub struct Background {
    /// How long the heavy queries ran (while the short ones were measured).
    pub window: Duration,
    pub completed: usize,
    pub refused: usize,
    pub first_refusal: Option<String>,
}

/// REQ latency while `heavy` connections each send COUNTs of `heavy_count` (its filters) over
/// and over: how well the relay keeps short queries moving behind long scans.
pub async fn run_under_load(
    url: &str,
    name: &str,
    filters: Vec<Value>,
    heavy_count: &[Value],
    heavy: usize,
    window: Duration,
) -> Result<(QueryReport, Background)> {
    let heavy_count = heavy_count
        .iter()
        .map(Value::to_string)
        .collect::<Vec<_>>()
        .join(",");
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..heavy {
        let mut conn = RelayConn::connect(url).await?;
        conn.timeout = Duration::from_secs(120);
        let (stop, filter) = (stop.clone(), heavy_count.clone());
        tasks.spawn(async move {
            let mut bg = Background::default();
            let mut n = 0u64;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                n += 1;
                conn.send_text(format!("[\"COUNT\",\"heavy{n}\",{filter}]"))
                    .await?;
                loop {
                    let m = conn.recv().await?;
                    match m.first().and_then(Value::as_str) {
                        Some("COUNT") => bg.completed += 1,
                        Some("CLOSED") => {
                            bg.refused += 1;
                            bg.first_refusal
                                .get_or_insert_with(|| Value::Array(m).to_string());
                        }
                        _ => continue,
                    }
                    break;
                }
            }
            anyhow::Ok(bg)
        });
    }
    // Let the heavy queries get going first.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let started = Instant::now();
    let report = run_for(url, name, filters, window).await;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let mut bg = Background {
        window: started.elapsed(),
        ..Background::default()
    };
    while let Some(j) = tasks.join_next().await {
        let b = j??;
        bg.completed += b.completed;
        bg.refused += b.refused;
        bg.first_refusal = bg.first_refusal.or(b.first_refusal);
    }
    Ok((report?, bg))
}
