//! `seedstr bench dht`: how fast a reader resolves feed pointers on a loopback `mainline`
//! testnet.
//!
//! Every identity's pointer is put twice (the second with a higher seq), so a lookup has an old
//! and a new version to tell apart. One reader node then looks each identity up once:
//! - first verified answer: the first item whose signature the library accepted and which
//!   decodes as a feed pointer;
//! - newest answer: when the item with the highest seq of the whole lookup arrived;
//! - complete: when the lookup had asked every close node, which is when a reader can be sure
//!   it holds the most recent item.

use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use clap::Args;
use futures_util::StreamExt;
use nostr::prelude::Keys;
use seedstr_dht::record::DEFAULT_FEED_SALT;
use seedstr_dht::transport::derive;
use seedstr_dht::{DhtError, DhtNode, DhtOptions, FeedPointer, SigningKey, Testnet, Write};
use serde_json::{json, Value};

use super::stats::Latencies;

/// Puts in flight at once: at 25, `mainline` 8.0.1 let every put time out on 50 nodes, and
/// even at 5 one sometimes does.
const WRITERS: usize = 4;

#[derive(Args)]
pub struct DhtBench {
    /// Nodes in the testnet.
    #[arg(long, default_value_t = 50)]
    nodes: usize,
    /// Identities looked up, one lookup each.
    #[arg(long, default_value_t = 100)]
    lookups: usize,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
}

fn pointer(n: u8, ts: i64) -> Vec<u8> {
    FeedPointer {
        ih: vec![n; 20],
        ts,
        ws: vec![],
    }
    .encode()
    .expect("a small pointer")
}

/// Reads each pointer back: when the first verified answer, the newest answer and the whole
/// lookup arrived. Every lookup must end at the newest `seq` written.
async fn time_lookups(
    reader: &DhtNode,
    keys: &[SigningKey],
    expected: &[i64],
    salt: &[u8],
) -> Result<(Latencies, Latencies, Latencies)> {
    let (mut first, mut newest, mut complete) = (
        Latencies::default(),
        Latencies::default(),
        Latencies::default(),
    );
    for (key, want) in keys.iter().zip(expected) {
        let public = key.verifying_key().to_bytes();
        let t = Instant::now();
        let mut items = reader.items(&public, salt);
        let mut best: Option<(i64, Duration)> = None;
        let mut first_at = None;
        while let Some(item) = items.next().await {
            if FeedPointer::decode(item.value()).is_err() {
                continue;
            }
            let at = t.elapsed();
            first_at.get_or_insert(at);
            if best.is_none_or(|(seq, _)| item.seq() > seq) {
                best = Some((item.seq(), at));
            }
        }
        let done = t.elapsed();
        let (Some(first_at), Some((seq, newest_at))) = (first_at, best) else {
            bail!("a lookup found no pointer for {}", hex::encode(public));
        };
        if seq != *want {
            bail!("a lookup ended at seq {seq}, not the newest {want}");
        }
        first.push(first_at);
        newest.push(newest_at);
        complete.push(done);
    }
    Ok((first, newest, complete))
}

/// Builds the testnet, writes the pointers, then times their lookups.
pub async fn run(b: &DhtBench) -> Result<Value> {
    let say = |line: String| {
        if b.json {
            eprintln!("{line}");
        } else {
            println!("{line}");
        }
    };
    let t = Instant::now();
    let net = Testnet::builder(b.nodes)
        .build()
        .context("building the testnet")?;
    say(format!(
        "testnet of {} nodes on loopback in {:.1} s",
        b.nodes,
        t.elapsed().as_secs_f64()
    ));
    let opts = DhtOptions {
        bootstrap: Some(net.bootstrap.clone()),
        loopback: true,
        ..Default::default()
    };
    let writer = DhtNode::join(&opts).await?;
    let keys: Vec<SigningKey> = (0..b.lookups)
        .map(|_| derive(Keys::generate().secret_key()))
        .collect();
    let salt = DEFAULT_FEED_SALT.as_bytes();
    let t = Instant::now();
    // Two versions per identity, a few identities at a time (each put waits out the request
    // timeout). A put that no node acknowledged is tried again, and counted.
    let retries = std::sync::atomic::AtomicUsize::new(0);
    let put = |k: &SigningKey, value: Vec<u8>, write: Write| {
        let (writer, retries) = (&writer, &retries);
        let k = k.clone();
        async move {
            let mut left = 3;
            loop {
                match writer.put(&k, salt, &value, write).await {
                    Err(DhtError::Timeout) if left > 0 => {
                        left -= 1;
                        retries.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    }
                    other => return other,
                }
            }
        }
    };
    let mut expected = Vec::with_capacity(keys.len());
    for chunk in keys.chunks(WRITERS) {
        let puts = chunk.iter().map(|k| async {
            put(k, pointer(1, 1), Write::Exact { seq: 1, cas: None }).await?;
            put(k, pointer(2, 2), Write::Next).await
        });
        for stored in futures_util::future::join_all(puts).await {
            expected.push(stored.context("putting a pointer")?.seq);
        }
    }
    let retries = retries.into_inner();
    say(format!(
        "{} pointers written twice in {:.1} s ({retries} puts retried after a timeout)",
        keys.len(),
        t.elapsed().as_secs_f64()
    ));

    let reader = DhtNode::join(&opts).await?;
    let (mut first, mut newest, mut complete) =
        time_lookups(&reader, &keys, &expected, salt).await?;
    let (first, newest, complete) = (first.summary(), newest.summary(), complete.summary());
    say(format!("first verified answer: {first}"));
    say(format!("newest answer: {newest}"));
    say(format!("lookup complete (most recent known): {complete}"));
    Ok(json!({
        "nodes": b.nodes,
        "lookups": b.lookups,
        "put_retries": retries,
        "first_verified": first.to_json(),
        "newest": newest.to_json(),
        "complete": complete.to_json(),
    }))
}
