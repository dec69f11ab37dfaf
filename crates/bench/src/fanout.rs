//! Fan-out: many connections hold one subscription each while a publisher sends events that
//! match all of them; each delivery is timed from the moment its event was sent.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use futures_util::StreamExt;
use seedstr_client::relays::conn::RelayConn;
use serde_json::Value;
use tokio::sync::{Barrier, Semaphore};
use tokio::task::JoinSet;
use tokio_tungstenite::tungstenite::Message;

use super::corpus::{Prepared, TOPIC_TAG};
use super::ingest::parse_ok;
use super::stats::{Latencies, Summary};

pub struct FanoutReport {
    pub subscribers: usize,
    pub events: usize,
    /// TCP and WebSocket handshake of each subscriber.
    pub connect: Summary,
    /// Every delivery, from send to arrival.
    pub delivery: Summary,
    /// Per event, from send to its arrival at the last subscriber.
    pub last_delivery: Summary,
    pub missing: usize,
}

/// How many handshakes run at once while the subscribers connect.
const CONNECT_CONCURRENCY: usize = 64;

/// Sends `events` one every `interval`, noting when each left, and waits for every `OK`.
async fn publish_paced(
    url: &str,
    events: &[Prepared],
    sent_at: &[AtomicU64],
    t0: Instant,
    interval: Duration,
) -> Result<()> {
    let mut publisher = RelayConn::connect(url).await?;
    for (k, e) in events.iter().enumerate() {
        sent_at[k].store((Instant::now() - t0).as_nanos() as u64, Ordering::Release);
        publisher.send_text(e.wire.clone()).await?;
        tokio::time::sleep(interval).await;
    }
    let mut accepted = 0;
    while accepted < events.len() {
        let Message::Text(t) = publisher.recv_message().await? else {
            continue;
        };
        match parse_ok(t.as_str()) {
            Some((_, true)) => accepted += 1,
            Some((_, false)) => bail!("the relay refused a fan-out event: {t}"),
            None => {}
        }
    }
    Ok(())
}

/// Holds `subscribers` subscriptions to `tag`, publishes `events` and times each delivery.
pub async fn run(
    url: &str,
    subscribers: usize,
    tag: &str,
    events: Vec<Prepared>,
    interval: Duration,
) -> Result<FanoutReport> {
    let events = Arc::new(events);
    let index: Arc<HashMap<[u8; 32], usize>> =
        Arc::new(events.iter().enumerate().map(|(k, e)| (e.id, k)).collect());
    let t0 = Instant::now();
    let sent_at: Arc<Vec<AtomicU64>> = Arc::new(events.iter().map(|_| AtomicU64::new(0)).collect());
    let last_at: Arc<Vec<AtomicU64>> = Arc::new(events.iter().map(|_| AtomicU64::new(0)).collect());
    let subscribed = Arc::new(Barrier::new(subscribers + 1));
    let handshakes = Arc::new(Semaphore::new(CONNECT_CONCURRENCY));
    let ready = Arc::new(AtomicUsize::new(0));
    let req =
        format!("[\"REQ\",\"fan\",{{\"kinds\":[1],\"#{TOPIC_TAG}\":[\"{tag}\"],\"limit\":0}}]");

    let mut tasks = JoinSet::new();
    for _ in 0..subscribers {
        let (url, req) = (url.to_string(), req.clone());
        let (subscribed, handshakes, ready) =
            (subscribed.clone(), handshakes.clone(), ready.clone());
        let (index, sent_at, last_at) = (index.clone(), sent_at.clone(), last_at.clone());
        let expected = events.len();
        tasks.spawn(async move {
            let setup = async {
                let _permit = handshakes.acquire().await?;
                let started = Instant::now();
                let mut conn = RelayConn::connect(&url).await?;
                let handshake = started.elapsed();
                conn.send_text(req).await?;
                loop {
                    if let Message::Text(t) = conn.recv_message().await? {
                        if t.as_str() == "[\"EOSE\",\"fan\"]" {
                            break;
                        }
                        if t.starts_with("[\"CLOSED\"") {
                            bail!("the relay refused the subscription: {t}");
                        }
                    }
                }
                anyhow::Ok((conn, handshake))
            };
            let outcome = setup.await;
            if outcome.is_ok() {
                ready.fetch_add(1, Ordering::Relaxed);
            }
            // Everyone waits here, failed or not, so the publisher is never stuck.
            subscribed.wait().await;
            let (conn, handshake) = outcome?;
            let (_sink, mut stream) = conn.into_split();
            let mut latencies = Latencies::default();
            let deadline =
                tokio::time::Instant::now() + interval * expected as u32 + Duration::from_secs(30);
            while latencies.len() < expected {
                let msg = match tokio::time::timeout_at(deadline, stream.next()).await {
                    Err(_) | Ok(None) => break,
                    Ok(Some(m)) => m?,
                };
                let arrived = Instant::now();
                let Message::Text(text) = msg else { continue };
                let Some(k) = delivered_event(text.as_str()).and_then(|id| index.get(&id)) else {
                    continue;
                };
                let sent = t0 + Duration::from_nanos(sent_at[*k].load(Ordering::Acquire));
                latencies.push(arrived.saturating_duration_since(sent));
                last_at[*k].fetch_max((arrived - t0).as_nanos() as u64, Ordering::Relaxed);
            }
            Ok::<_, anyhow::Error>((handshake, latencies))
        });
    }

    subscribed.wait().await;
    let held = ready.load(Ordering::Relaxed);
    if held < subscribers {
        // Collect the first failure so the report names it.
        while let Some(j) = tasks.join_next().await {
            j??;
        }
        bail!("only {held} of {subscribers} subscribers got their EOSE");
    }

    publish_paced(url, &events, &sent_at, t0, interval).await?;

    let mut connect = Latencies::default();
    let mut delivery = Latencies::default();
    while let Some(j) = tasks.join_next().await {
        let (handshake, latencies) = j.context("subscriber task panicked")??;
        connect.push(handshake);
        delivery.extend(latencies);
    }
    let mut last = Latencies::default();
    for k in 0..events.len() {
        let (s, l) = (
            sent_at[k].load(Ordering::Relaxed),
            last_at[k].load(Ordering::Relaxed),
        );
        if l >= s && l > 0 {
            last.push(Duration::from_nanos(l - s));
        }
    }
    let expected = subscribers * events.len();
    Ok(FanoutReport {
        subscribers: held,
        events: events.len(),
        connect: connect.summary(),
        missing: expected - delivery.len(),
        delivery: delivery.summary(),
        last_delivery: last.summary(),
    })
}

/// The id inside `["EVENT","fan",{…}]`.
fn delivered_event(text: &str) -> Option<[u8; 32]> {
    if !text.starts_with("[\"EVENT\",\"fan\",") {
        return None;
    }
    let v: Vec<Value> = serde_json::from_str(text).ok()?;
    let id = v.get(2)?.get("id")?.as_str()?;
    let mut out = [0u8; 32];
    hex::decode_to_slice(id, &mut out).ok()?;
    Some(out)
}
