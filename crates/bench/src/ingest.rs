//! Ingest: events sent over several connections, each OK timed against when its event was
//! due. Open loop: the sender never waits for answers, so a slow relay shows up as latency
//! rather than as a politely slower client (no coordinated omission).

use std::collections::HashMap;
use std::ops::Range;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context, Result};
use futures_util::{SinkExt, StreamExt};
use seedstr_client::relays::conn::RelayConn;
use tokio::task::JoinSet;
use tokio_tungstenite::tungstenite::Message;

use super::corpus::Prepared;
use super::stats::{Latencies, Summary};

#[derive(Clone, Copy, Debug)]
pub enum Pace {
    /// Send everything at once; the relay's own backpressure sets the pace.
    FlatOut,
    /// A fixed offered rate, events per second over all connections.
    Rate(f64),
}

pub struct IngestReport {
    pub sent: usize,
    pub accepted: usize,
    pub rejected: usize,
    pub first_rejection: Option<String>,
    pub elapsed: Duration,
    pub ok_latency: Summary,
}

impl IngestReport {
    pub fn accepted_per_sec(&self) -> f64 {
        self.accepted as f64 / self.elapsed.as_secs_f64()
    }
}

/// How long to wait for the last OKs once everything is sent.
const DRAIN: Duration = Duration::from_secs(120);

pub async fn run(
    url: &str,
    corpus: Arc<Vec<Prepared>>,
    range: Range<usize>,
    connections: usize,
    pace: Pace,
) -> Result<IngestReport> {
    let connections = connections.clamp(1, range.len().max(1));
    let mut conns = Vec::with_capacity(connections);
    for _ in 0..connections {
        conns.push(RelayConn::connect(url).await?);
    }
    // When each event was sent (flat out) or due (fixed rate), in ns after `t0`.
    let due: Arc<Vec<AtomicU64>> = Arc::new(range.clone().map(|_| AtomicU64::new(0)).collect());
    let t0 = Instant::now() + Duration::from_millis(50);
    let mut tasks = JoinSet::new();
    for (c, conn) in conns.into_iter().enumerate() {
        let mine: Vec<usize> = (range.start + c..range.end).step_by(connections).collect();
        let by_id: HashMap<[u8; 32], usize> = mine
            .iter()
            .map(|&i| (corpus[i].id, i - range.start))
            .collect();
        let (mut sink, mut stream) = conn.into_split();
        let (corpus, due, start) = (corpus.clone(), due.clone(), range.start);
        let expected = mine.len();
        tasks.spawn(async move {
            let sender = async {
                tokio::time::sleep_until(t0.into()).await;
                let mut next = 0;
                while next < mine.len() {
                    let now = Instant::now();
                    let mut batch = 0;
                    while next < mine.len() && batch < 64 {
                        let i = mine[next];
                        let at = match pace {
                            Pace::FlatOut => now,
                            Pace::Rate(r) => t0 + Duration::from_secs_f64((i - start) as f64 / r),
                        };
                        if at > now {
                            break;
                        }
                        due[i - start].store((at - t0).as_nanos() as u64, Ordering::Relaxed);
                        sink.feed(Message::text(corpus[i].wire.clone())).await?;
                        next += 1;
                        batch += 1;
                    }
                    sink.flush().await?;
                    if let (Pace::Rate(r), Some(&i)) = (pace, mine.get(next)) {
                        let at = t0 + Duration::from_secs_f64((i - start) as f64 / r);
                        tokio::time::sleep_until(at.into()).await;
                    }
                }
                anyhow::Ok(())
            };
            let reader = async {
                let mut tally = Tally::default();
                while tally.answered < expected {
                    let msg = match tokio::time::timeout(DRAIN, stream.next()).await {
                        Err(_) => bail!(
                            "{} of {expected} OKs still missing after {DRAIN:?}",
                            expected - tally.answered
                        ),
                        Ok(None) => bail!("the relay closed the connection"),
                        Ok(Some(m)) => m?,
                    };
                    let received = Instant::now();
                    let Message::Text(text) = msg else { continue };
                    let Some((id, accepted)) = parse_ok(text.as_str()) else {
                        continue;
                    };
                    let Some(&k) = by_id.get(&id) else { continue };
                    let sent = t0 + Duration::from_nanos(due[k].load(Ordering::Relaxed));
                    tally.record(received.saturating_duration_since(sent), accepted, &text);
                    tally.last = received;
                }
                Ok(tally)
            };
            let ((), tally) = tokio::try_join!(sender, reader)?;
            Ok::<Tally, anyhow::Error>(tally)
        });
    }
    let mut total = Tally::default();
    let mut last = t0;
    while let Some(joined) = tasks.join_next().await {
        let tally = joined.context("ingest task panicked")??;
        last = last.max(tally.last);
        total.merge(tally);
    }
    Ok(IngestReport {
        sent: range.len(),
        accepted: total.accepted,
        rejected: total.answered - total.accepted,
        first_rejection: total.first_rejection,
        elapsed: last.saturating_duration_since(t0),
        ok_latency: total.latencies.summary(),
    })
}

struct Tally {
    answered: usize,
    accepted: usize,
    first_rejection: Option<String>,
    latencies: Latencies,
    last: Instant,
}

impl Default for Tally {
    fn default() -> Self {
        Tally {
            answered: 0,
            accepted: 0,
            first_rejection: None,
            latencies: Latencies::default(),
            last: Instant::now(),
        }
    }
}

impl Tally {
    fn record(&mut self, latency: Duration, accepted: bool, text: &str) {
        self.answered += 1;
        if accepted {
            self.accepted += 1;
        } else if self.first_rejection.is_none() {
            self.first_rejection = Some(text.to_string());
        }
        self.latencies.push(latency);
    }

    fn merge(&mut self, other: Tally) {
        self.answered += other.answered;
        self.accepted += other.accepted;
        self.first_rejection = self.first_rejection.take().or(other.first_rejection);
        self.latencies.extend(other.latencies);
    }
}

/// `["OK","<id>",true|false,…]` → the id and the verdict, without a full JSON parse (the
/// load generator shares the machine with the relay, so its own cost matters).
pub fn parse_ok(text: &str) -> Option<([u8; 32], bool)> {
    let rest = text.strip_prefix("[\"OK\",\"")?;
    let hex_id = rest.get(..64)?;
    let mut id = [0u8; 32];
    hex::decode_to_slice(hex_id, &mut id).ok()?;
    let verdict = rest.get(64..)?.strip_prefix("\",")?;
    Some((id, verdict.starts_with("true")))
}

/// Checks that an answer set is complete, naming what is wrong.
pub fn require_all_accepted(what: &str, r: &IngestReport) -> Result<()> {
    if r.accepted != r.sent {
        return Err(anyhow!(
            "{what}: the relay accepted {} of {} events; first refusal: {}",
            r.accepted,
            r.sent,
            r.first_rejection.as_deref().unwrap_or("none")
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::parse_ok;

    #[test]
    fn reads_ok_messages() {
        let id = "ab".repeat(32);
        let (got, ok) = parse_ok(&format!("[\"OK\",\"{id}\",true,\"\"]")).unwrap();
        assert_eq!(hex::encode(got), id);
        assert!(ok);
        let (_, ok) = parse_ok(&format!("[\"OK\",\"{id}\",false,\"blocked: no\"]")).unwrap();
        assert!(!ok);
        assert!(parse_ok("[\"EOSE\",\"x\"]").is_none());
        assert!(parse_ok("[\"OK\",\"zz\",true,\"\"]").is_none());
    }
}
