//! An acknowledged event survives `kill -9`: OK true is sent only after the durable commit.

mod common;

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{event, RelayProcess};
use futures_util::{SinkExt, StreamExt};
use nostr::prelude::*;
use seedstr_client::relays::conn::RelayConn;
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::Message;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_events_survive_kill_9() {
    let dir = tempfile::tempdir().unwrap();
    let mut relay = RelayProcess::start(dir.path(), &["--no-rate-limits"]);
    let acked: Arc<Mutex<HashSet<String>>> = Arc::default();
    let mut writers = Vec::new();
    for _ in 0..4 {
        let (mut sink, mut stream) = RelayConn::connect(&relay.url).await.unwrap().into_split();
        let acked = acked.clone();
        let keys = Keys::generate();
        // Open loop: events go out without waiting for their OKs.
        writers.push(tokio::spawn(async move {
            for i in 0..20_000 {
                let e = event(&keys, 1, &[&["t", "crash"]], &format!("burst {i}"));
                if sink
                    .send(Message::Text(format!("[\"EVENT\",{}]", e.as_json()).into()))
                    .await
                    .is_err()
                {
                    break;
                }
            }
        }));
        writers.push(tokio::spawn(async move {
            while let Some(Ok(Message::Text(t))) = stream.next().await {
                let m: Vec<Value> = serde_json::from_str(t.as_str()).unwrap();
                if m[0] == "OK" && m[2] == true {
                    acked
                        .lock()
                        .unwrap()
                        .insert(m[1].as_str().unwrap().to_string());
                }
            }
        }));
    }
    // Kill once a good number of events has been acknowledged, mid-burst.
    for _ in 0..600 {
        if acked.lock().unwrap().len() >= 2_000 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    relay.kill9();
    for w in writers {
        let _ = w.await;
    }
    let acked: Vec<String> = acked.lock().unwrap().iter().cloned().collect();
    assert!(
        acked.len() >= 100,
        "too few acknowledgements to test anything: {}",
        acked.len()
    );

    let relay = RelayProcess::start(dir.path(), &["--no-rate-limits"]);
    let mut c = relay.connect().await;
    let mut found = 0;
    for (i, chunk) in acked.chunks(500).enumerate() {
        let got = c
            .query(&format!("c{i}"), &[json!({ "ids": chunk })])
            .await
            .unwrap();
        c.close_sub(&format!("c{i}")).await.unwrap();
        found += got.len();
    }
    assert_eq!(found, acked.len(), "acknowledged events lost by kill -9");
    eprintln!(
        "{} acknowledged events all present after kill -9",
        acked.len()
    );
}
