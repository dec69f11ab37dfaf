//! `seedstr-bench relay <ws-url>`: a load generator for any Nostr relay (ours first). It signs
//! its events before it starts measuring, then reports the machine's verification ceiling,
//! ingest rate and OK latency, REQ latency on the populated store, and fan-out latency to many
//! held connections.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{bail, Result};
use clap::Args;
use nostr::prelude::Keys;
use serde_json::{json, Value};

use crate::corpus::{self, Corpus, Prepared, Shape, SplitMix};
use crate::ingest::{self, Pace};
use crate::stats::ms;
use crate::{disk, fanout, query, verify};

#[derive(Args)]
pub struct RelayBench {
    /// The relay, ws://host:port. Start ours with --no-rate-limits.
    url: String,
    /// Events sent flat out to populate the store (the ingest figure).
    #[arg(long, default_value_t = 1_000_000)]
    events: usize,
    /// Connections the events are spread over.
    #[arg(long, default_value_t = 8)]
    connections: usize,
    /// Events sent at a fixed rate to measure OK latency.
    #[arg(long, default_value_t = 20_000)]
    latency_events: usize,
    /// Offered rate for the OK-latency run, events/s [default: half the measured ingest rate].
    #[arg(long)]
    rate: Option<f64>,
    /// Distinct authors in the generated events.
    #[arg(long, default_value_t = 1_000)]
    authors: usize,
    /// Distinct topic tags in the generated events.
    #[arg(long, default_value_t = 200)]
    topics: usize,
    /// Queries of each filter shape.
    #[arg(long, default_value_t = 200)]
    queries: usize,
    /// `limit` of each query.
    #[arg(long, default_value_t = 100)]
    query_limit: usize,
    /// Connections that keep counting the whole store while short queries are measured.
    #[arg(long, default_value_t = 2)]
    heavy_scans: usize,
    /// Seconds the short queries go on (repeating) while the heavy ones run, at least.
    #[arg(long, default_value_t = 5)]
    scan_window_secs: u64,
    /// Connections that subscribe and are held open during the fan-out run.
    #[arg(long, default_value_t = 1_000)]
    subscribers: usize,
    /// Events published to the subscribers.
    #[arg(long, default_value_t = 50)]
    fanout_events: usize,
    /// Pause between fan-out events, in milliseconds.
    #[arg(long, default_value_t = 20)]
    fanout_interval_ms: u64,
    /// Signatures verified to measure the machine's ceiling.
    #[arg(long, default_value_t = 20_000)]
    verify_samples: usize,
    /// Give the events random timestamps over the month (an import or sync) instead of
    /// timestamps that rise as they are sent (a relay receiving events as they are written).
    #[arg(long)]
    backfill: bool,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
}

impl RelayBench {
    /// Events of the ingest runs into the empty store and into the full one: a tenth.
    fn at_scale_events(&self) -> usize {
        (self.events / 10).max(1)
    }
}

/// Ingest flat out over the connections (the first tenth into the empty store, the rest, then
/// a tenth more into the full store), then open-loop at a rate below it: throughput, bytes
/// written per event and the latency of each `OK`, as the report's `ingest` and `ok_latency`.
async fn ingest_phases(
    b: &RelayBench,
    events: Arc<Vec<Prepared>>,
    verify_ceiling: f64,
    say: &dyn Fn(String),
) -> Result<(Value, Value)> {
    let tenth = b.at_scale_events();
    let flat_out = |range: std::ops::Range<usize>, what: &'static str| {
        let events = events.clone();
        async move {
            let before = disk::bytes_written();
            let r = ingest::run(&b.url, events, range, b.connections, Pace::FlatOut).await?;
            ingest::require_all_accepted(what, &r)?;
            let written = disk::per_event(before, disk::bytes_written(), r.accepted);
            anyhow::Ok((r, written))
        }
    };
    let (empty, empty_written) = flat_out(0..tenth, "ingest into the empty store").await?;
    let (rest, rest_written) = flat_out(tenth..b.events, "ingest").await?;
    let (full, full_written) =
        flat_out(b.events..b.events + tenth, "ingest into the full store").await?;

    let accepted = empty.accepted + rest.accepted;
    let elapsed = empty.elapsed + rest.elapsed;
    let ingest_rate = accepted as f64 / elapsed.as_secs_f64().max(1e-9);
    say(format!(
        "ingest flat out over {} connections: {} events in {:.1} s = {:.0} events/s ({:.0}% of the verify ceiling); OK latency under saturation {}",
        b.connections,
        accepted,
        elapsed.as_secs_f64(),
        ingest_rate,
        100.0 * ingest_rate / verify_ceiling,
        rest.ok_latency
    ));
    let (empty_rate, full_rate) = (empty.accepted_per_sec(), full.accepted_per_sec());
    say(format!(
        "ingest of {tenth} events into the empty store: {:.0} events/s, {} written per event; into the store at {} events: {:.0} events/s ({:.0}% of empty), {} written per event",
        empty_rate,
        kib(empty_written),
        b.events,
        full_rate,
        100.0 * full_rate / empty_rate.max(1e-9),
        kib(full_written),
    ));

    let rate = b.rate.unwrap_or((ingest_rate / 2.0).max(1.0));
    let paced_from = b.events + tenth;
    let before = disk::bytes_written();
    let paced = ingest::run(
        &b.url,
        events.clone(),
        paced_from..paced_from + b.latency_events,
        b.connections,
        Pace::Rate(rate),
    )
    .await?;
    ingest::require_all_accepted("paced ingest", &paced)?;
    let paced_written = disk::per_event(before, disk::bytes_written(), paced.accepted);
    say(format!(
        "ingest open loop at {:.0} events/s offered: {:.0} events/s; OK latency {}; {} written per event",
        rate,
        paced.accepted_per_sec(),
        paced.ok_latency,
        kib(paced_written)
    ));

    Ok((
        json!({
            "connections": b.connections,
            "events": accepted,
            "rejected": empty.rejected + rest.rejected,
            "seconds": elapsed.as_secs_f64(),
            "events_per_sec": ingest_rate,
            "share_of_verify_ceiling": ingest_rate / verify_ceiling,
            "ok_latency_saturated": rest.ok_latency.to_json(),
            "bytes_written_per_event": rest_written,
            "into_empty": {"events": empty.accepted, "events_per_sec": empty_rate, "bytes_written_per_event": empty_written},
            "into_full": {"events": full.accepted, "events_per_sec": full_rate, "bytes_written_per_event": full_written},
        }),
        json!({
            "offered_per_sec": rate,
            "events": paced.accepted,
            "latency": paced.ok_latency.to_json(),
            "bytes_written_per_event": paced_written,
        }),
    ))
}

/// Bytes as KiB for a report line.
fn kib(bytes: Option<f64>) -> String {
    bytes.map_or("? (no /proc/diskstats)".into(), |b| {
        format!("{:.1} KiB", b / 1024.0)
    })
}

/// The REQ latencies for three filter shapes, then one while other connections COUNT the
/// whole store.
async fn query_phases(
    b: &RelayBench,
    authors: &[String],
    now: u64,
    say: &dyn Fn(String),
) -> Result<(Vec<Value>, Value)> {
    let mut rng = SplitMix(now);
    let pick_author =
        |rng: &mut SplitMix| authors[rng.below(authors.len() as u64) as usize].clone();
    let shapes: [(&str, Vec<Value>); 3] = [
        (
            "author+kind",
            (0..b.queries)
                .map(|_| json!({"authors": [pick_author(&mut rng)], "kinds": [1], "limit": b.query_limit}))
                .collect(),
        ),
        (
            "tag",
            (0..b.queries)
                .map(|_| json!({"#t": [corpus::topic(rng.below(b.topics.max(1) as u64) as usize)], "limit": b.query_limit}))
                .collect(),
        ),
        (
            "kind+since",
            (0..b.queries)
                .map(|_| {
                    let since = now - 3_600 - rng.below(7 * 86_400);
                    json!({"kinds": [7], "since": since, "limit": b.query_limit})
                })
                .collect(),
        ),
    ];
    let mut queries = Vec::new();
    for (name, filters) in shapes {
        let q = query::run(&b.url, name, filters).await?;
        say(format!(
            "REQ {:<12} {} , {:.0} events each",
            q.name, q.latency, q.mean_events
        ));
        queries.push(
            json!({"filter": q.name, "latency": q.latency.to_json(), "mean_events": q.mean_events}),
        );
    }

    // NIP-50 search over the whole store: a word one event holds (its number), a word most
    // notes hold, two words, and the beginning of a word. A relay without search is noted.
    let searches: [(&str, Vec<Value>); 4] = [
        (
            "search rare",
            (0..b.queries)
                .map(|_| json!({"search": corpus::rare_word(rng.below(corpus::RARE_WORDS)), "limit": 20}))
                .collect(),
        ),
        (
            "search common",
            (0..b.queries).map(|_| json!({"search": "ordinary", "limit": 20})).collect(),
        ),
        (
            "search 2 words",
            (0..b.queries)
                .map(|_| json!({"search": format!("ordinary {}", corpus::rare_word(rng.below(corpus::RARE_WORDS))), "limit": 20}))
                .collect(),
        ),
        (
            "search prefix",
            (0..b.queries).map(|_| json!({"search": "ordin", "kinds": [1], "limit": 20})).collect(),
        ),
    ];
    for (name, filters) in searches {
        match query::run(&b.url, name, filters).await {
            Ok(q) => {
                say(format!(
                    "REQ {:<14} {} , {:.1} events each",
                    q.name, q.latency, q.mean_events
                ));
                queries.push(json!({"filter": q.name, "latency": q.latency.to_json(), "mean_events": q.mean_events}));
            }
            Err(e) => say(format!("REQ {name}: not answered ({e})")),
        }
    }

    // The case (`COUNT {}`, which a store may answer from its size), then a scan that
    // must read every event: a COUNT over two overlapping filters (every note; everything
    // under ten topics), so each event's id is needed to count it once.
    let ten_topics: Vec<String> = (0..10).map(corpus::topic).collect();
    let heavy_shapes: [(&str, Vec<Value>); 2] = [
        ("COUNT the whole store", vec![json!({})]),
        (
            "COUNT notes or ten topics (two overlapping filters)",
            vec![json!({"kinds": [1]}), json!({"#t": ten_topics})],
        ),
    ];
    let mut under_load = Vec::new();
    for (what, heavy) in heavy_shapes {
        let busy: Vec<Value> = (0..b.queries)
            .map(|_| json!({"authors": [pick_author(&mut rng)], "kinds": [1], "limit": b.query_limit}))
            .collect();
        let (q, bg) = query::run_under_load(
            &b.url,
            "author+kind",
            busy,
            &heavy,
            b.heavy_scans,
            Duration::from_secs(b.scan_window_secs),
        )
        .await?;
        say(format!(
            "REQ author+kind while {} connections {what}: {}; {} COUNTs done in {:.1} s, {} refused{}",
            b.heavy_scans,
            q.latency,
            bg.completed,
            bg.window.as_secs_f64(),
            bg.refused,
            bg.first_refusal.as_deref().map(|r| format!(" ({r})")).unwrap_or_default()
        ));
        under_load.push(json!({
            "filter": q.name,
            "heavy": heavy,
            "heavy_connections": b.heavy_scans,
            "latency": q.latency.to_json(),
            "heavy_completed": bg.completed,
            "window_secs": bg.window.as_secs_f64(),
            "heavy_refused": bg.refused,
        }));
    }
    let under_load = Value::Array(under_load);

    Ok((queries, under_load))
}

/// Events sent one by one to many held subscriptions: how long each takes to reach them all.
async fn fanout_phase(b: &RelayBench, say: &dyn Fn(String)) -> Result<Value> {
    let publisher = Keys::generate();
    let tag = format!("fanout-{}", &publisher.public_key().to_hex()[..12]);
    let probes = (0..b.fanout_events)
        .map(|n| corpus::tagged_event(&publisher, &tag, n))
        .collect::<Result<Vec<_>>>()?;
    let interval = Duration::from_millis(b.fanout_interval_ms);
    let f = fanout::run(&b.url, b.subscribers, &tag, probes, interval).await?;
    say(format!(
        "fan-out to {} held connections, {} events: delivery {}; last subscriber {}; {} missing; handshakes {}",
        f.subscribers, f.events, f.delivery, f.last_delivery, f.missing, f.connect
    ));
    if f.missing > 0 {
        bail!(
            "{} of {} fan-out deliveries never arrived",
            f.missing,
            f.subscribers * f.events
        );
    }

    Ok(json!({
        "subscribers": f.subscribers,
        "events": f.events,
        "interval_ms": ms(interval),
        "delivery": f.delivery.to_json(),
        "last_subscriber": f.last_delivery.to_json(),
        "handshake": f.connect.to_json(),
        "missing": f.missing,
    }))
}

/// Runs every phase against the relay at `b.url` and returns the report.
pub async fn run(b: &RelayBench) -> Result<Value> {
    if !(b.url.starts_with("ws://") || b.url.starts_with("wss://")) {
        bail!("{} is not a ws:// or wss:// URL", b.url);
    }
    let say = |line: String| {
        if b.json {
            eprintln!("{line}");
        } else {
            println!("{line}");
        }
    };
    let now = SystemTime::now().duration_since(UNIX_EPOCH)?.as_secs();
    let shape = Shape {
        authors: b.authors,
        topics: b.topics,
        span_secs: 30 * 86_400,
        now,
        backfill: b.backfill,
    };
    let total = b.events + b.at_scale_events() + b.latency_events;
    let started = Instant::now();
    let corpus = Corpus::generate(total.max(b.verify_samples), shape.clone())?;
    say(format!(
        "signed {} events by {} authors in {:.1} s",
        corpus.events.len(),
        corpus.authors.len(),
        started.elapsed().as_secs_f64()
    ));

    let v = verify::measure(&corpus.events[..b.verify_samples.min(corpus.events.len())])?;
    say(format!(
        "verify ceiling ({} threads): {:.0} BIP-340 signatures/s; {:.0} events/s with JSON parse and id hash",
        v.threads, v.signatures_per_sec, v.parse_and_verify_per_sec
    ));

    let authors: Vec<String> = corpus
        .authors
        .iter()
        .map(|k| k.public_key().to_hex())
        .collect();
    let events = Arc::new(corpus.events);

    let (ingest, ok_latency) = ingest_phases(b, events, v.signatures_per_sec, &say).await?;

    let (queries, under_load) = query_phases(b, &authors, now, &say).await?;
    let fanout = fanout_phase(b, &say).await?;

    Ok(json!({
        "url": b.url,
        "backfill": b.backfill,
        "verify": {
            "threads": v.threads,
            "signatures_per_sec": v.signatures_per_sec,
            "parse_and_verify_per_sec": v.parse_and_verify_per_sec,
        },
        "ingest": ingest,
        "ok_latency": ok_latency,
        "queries": queries,
        "query_under_scans": under_load,
        "fanout": fanout,
    }))
}
