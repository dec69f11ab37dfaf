//! `seedstr bench web`: how fast the node's pages and API answer over a store of many projects.
//! A node is started in-process on a temporary data folder (loopback ports, no DHT, no rate
//! limits) and filled with signed projects and releases through `POST /api/v1/events`; then
//! each page is fetched over one keep-alive connection, one request at a time, and timed.

use std::time::Instant;

use anyhow::{bail, Context, Result};
use clap::Args;
use futures_util::{stream, StreamExt};
use nostr::prelude::FinalizeEvent as _;
use nostr::prelude::{Event, Keys, ToBech32};
use seedstr_node::NodeConfig;
use seedstr_proto::release::{parse_version, Coordinate, Project, Release, ReleaseFile};
use serde_json::{json, Value};

use super::corpus::SplitMix;
use super::stats::Latencies;

#[derive(Args)]
pub struct WebBench {
    /// Projects in the store, each with one release.
    #[arg(long, default_value_t = 2000)]
    projects: usize,
    /// Timed requests per page.
    #[arg(long, default_value_t = 100)]
    requests: usize,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
}

const AUTHORS: usize = 20;
const GAMES: [&str; 3] = ["skyrim-se", "minecraft", "generic"];
const ADJECTIVES: [&str; 8] = [
    "lush", "ancient", "frozen", "crimson", "quiet", "hollow", "golden", "wild",
];
const NOUNS: [&str; 8] = [
    "trees", "roads", "armor", "music", "caves", "skies", "ships", "towns",
];

/// Stores `events` through the node's `POST /api/v1/events`, 16 at a time; Err naming the
/// first refused.
pub async fn post_events(base: &str, events: &[Event]) -> Result<()> {
    let client = reqwest::Client::new();
    let url = format!("{base}/api/v1/events");
    let sent: Vec<Result<()>> = stream::iter(events)
        .map(|e| {
            let (client, url) = (&client, &url);
            async move {
                let answer = client.post(url).body(e.as_json()).send().await?;
                let status = answer.status();
                if !status.is_success() {
                    bail!("event {} refused: {status} {}", e.id, answer.text().await?);
                }
                Ok(())
            }
        })
        .buffer_unordered(16)
        .collect()
        .await;
    sent.into_iter().collect::<Result<Vec<()>>>()?;
    Ok(())
}

/// One project and its release, signed.
struct Published {
    author: String,
    coordinate: Coordinate,
    events: [Event; 2],
}

fn corpus(projects: usize) -> Result<Vec<Published>> {
    let authors: Vec<Keys> = (0..AUTHORS).map(|_| Keys::generate()).collect();
    let mut rng = SplitMix(7);
    let mut out = Vec::with_capacity(projects);
    for i in 0..projects {
        let keys = &authors[i % AUTHORS];
        let adjective = ADJECTIVES[rng.below(ADJECTIVES.len() as u64) as usize];
        let noun = NOUNS[rng.below(NOUNS.len() as u64) as usize];
        let coordinate = Coordinate {
            ns: GAMES[i % GAMES.len()].to_owned(),
            slug: format!("{adjective}-{noun}-{i}"),
        };
        let project = Project {
            coordinate: coordinate.clone(),
            name: format!("{adjective} {noun} {i}"),
            summary: format!("More {noun}, and {adjective} ones"),
            description: format!("# {adjective} {noun}\n\nProject number {i}."),
        }
        .to_builder()
        .finalize(keys)?;
        let release = Release {
            coordinate: coordinate.clone(),
            version: parse_version("1.0.0")?,
            files: vec![ReleaseFile {
                path: format!("{noun}/{adjective}.esp"),
                size: 1000 + i as u64,
                sha256: [i as u8; 32],
            }],
            infohash: [(i % 251) as u8; 20],
            torrent_name: format!("{}-1.0.0", coordinate.file_stem()),
            trackers: vec![],
            mirrors: vec![],
            seeders: Vec::new(),
            supersedes: None,
            changelog: format!("First {noun}."),
            dependencies: vec![],
            game_versions: vec![],
            zap_target: None,
            zap_splits: Vec::new(),
            package: None,
        }
        .to_builder(&keys.public_key())
        .finalize(keys)?;
        out.push(Published {
            author: keys.public_key().to_bech32()?,
            coordinate,
            events: [project, release],
        });
    }
    Ok(out)
}

pub async fn run(b: &WebBench) -> Result<Value> {
    if b.projects == 0 || b.requests == 0 {
        bail!("--projects and --requests must be at least 1");
    }
    let say = |line: String| {
        if b.json {
            eprintln!("{line}");
        } else {
            println!("{line}");
        }
    };
    let data = tempfile::tempdir()?;
    let mut config = NodeConfig {
        data: data.path().to_owned(),
        ..NodeConfig::default()
    };
    config.http.listen = "127.0.0.1:0".parse()?;
    config.torrent.listen = "127.0.0.1:0".parse()?;
    config.dht.enabled = false;
    let rate = &mut config.relay.rate;
    rate.events_per_ip_per_second = 0.0;
    rate.events_per_pubkey_per_second = 0.0;
    rate.reqs_per_ip_per_second = 0.0;

    let (addr_tx, addr_rx) = tokio::sync::oneshot::channel();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let node = seedstr_node::run(
        data.path(),
        config,
        None,
        move |a| {
            let _ = addr_tx.send(a.http);
        },
        async move {
            let _ = stop_rx.await;
        },
    );
    // The node runs beside the measurements on this task; the report stops it.
    let measured = async {
        let http = addr_rx.await.context("the node did not start")?;
        let base = format!("http://{http}");
        let report = measure(b, &base, &say).await;
        let _ = stop_tx.send(());
        report
    };
    let (stopped, report) = tokio::join!(node, measured);
    stopped.context("the node failed")?;
    report
}

async fn measure(b: &WebBench, base: &str, say: &impl Fn(String)) -> Result<Value> {
    let t = Instant::now();
    let published = corpus(b.projects)?;
    say(format!(
        "signed {} projects and their releases in {:.1} s",
        b.projects,
        t.elapsed().as_secs_f64()
    ));
    let t = Instant::now();
    let all: Vec<Event> = published
        .iter()
        .flat_map(|p| p.events.iter().cloned())
        .collect();
    post_events(base, &all).await?;
    let client = reqwest::Client::new();
    let events = published.len() * 2;
    let ingest = t.elapsed();
    say(format!(
        "stored {events} events over HTTP in {:.1} s ({:.0} events/s)",
        ingest.as_secs_f64(),
        events as f64 / ingest.as_secs_f64()
    ));

    let middle = &published[published.len() / 2];
    let (author, coordinate) = (&middle.author, &middle.coordinate);
    let word = ADJECTIVES[0];
    let pages = [
        ("home page", "/".to_owned()),
        ("search page", format!("/search?q={word}")),
        ("search API", format!("/api/v1/search?q={word}")),
        ("project page", format!("/p/{author}/{coordinate}")),
        ("release page", format!("/r/{author}/{coordinate}@1.0.0")),
        (
            "release API",
            format!("/api/v1/releases/{author}/{coordinate}@1.0.0"),
        ),
        ("author page", format!("/u/{author}")),
        ("status page", "/status".to_owned()),
    ];
    let mut report = serde_json::Map::new();
    for (name, path) in pages {
        let url = format!("{base}{path}");
        let mut latencies = Latencies::default();
        let mut bytes = 0;
        // The first few warm the connection and the store's pages.
        for i in 0..b.requests + 3 {
            let t = Instant::now();
            let answer = client
                .get(&url)
                .header("Accept", "text/html,application/json")
                .send()
                .await?;
            let status = answer.status();
            let body = answer.bytes().await?;
            let took = t.elapsed();
            if !status.is_success() {
                bail!("{name} {path}: {status} {}", String::from_utf8_lossy(&body));
            }
            bytes = body.len();
            if i >= 3 {
                latencies.push(took);
            }
        }
        let summary = latencies.summary();
        say(format!("{name:<13} {summary}  ({bytes} bytes)"));
        let mut entry = summary.to_json();
        entry["path"] = json!(path);
        entry["bytes"] = json!(bytes);
        report.insert(name.to_owned(), entry);
    }
    Ok(json!({
        "projects": b.projects,
        "events": events,
        "ingest": {
            "events_per_second": events as f64 / ingest.as_secs_f64(),
            "secs": ingest.as_secs_f64(),
        },
        "pages": report,
    }))
}
