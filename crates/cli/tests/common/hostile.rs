//! A hostile relay: a real WebSocket server on loopback that answers every query with what an
//! honest relay holds, each event preceded by forgeries — a forged newer event at the same
//! address (for replaceable and addressable events), and forged copies of the real id (changed
//! content; a signature that does not verify). Clients that verify before they select keep
//! deciding as the honest events say.

use std::net::TcpListener as StdListener;

use futures_util::{SinkExt, StreamExt};
use nostr::prelude::*;
use seedstr_client::relays::conn::RelayConn;
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::Message;

/// A running hostile relay; it stops with the test process.
pub struct HostileRelay {
    /// Its `ws://` URL.
    pub url: String,
}

impl HostileRelay {
    /// Starts one in front of the honest relay at `honest`.
    pub fn start(honest: &str) -> HostileRelay {
        let listener = StdListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let url = format!("ws://{}", listener.local_addr().unwrap());
        let honest = honest.to_owned();
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).unwrap();
                while let Ok((tcp, _)) = listener.accept().await {
                    tokio::spawn(serve(tcp, honest.clone()));
                }
            });
        });
        HostileRelay { url }
    }
}

async fn serve(tcp: tokio::net::TcpStream, honest: String) {
    let Ok(mut ws) = tokio_tungstenite::accept_async(tcp).await else {
        return;
    };
    let Ok(mut upstream) = RelayConn::connect(&honest).await else {
        return;
    };
    while let Some(Ok(Message::Text(text))) = ws.next().await {
        let msg: Value = serde_json::from_str(text.as_str()).unwrap_or_default();
        let frames = match msg[0].as_str() {
            Some("REQ") => {
                let sub = msg[1].clone();
                let filters: Vec<Value> = msg.as_array().unwrap()[2..].to_vec();
                let events = upstream.query("h", &filters).await.unwrap_or_default();
                let _ = upstream.close_sub("h").await;
                let mut frames: Vec<String> = events
                    .iter()
                    .flat_map(|e| {
                        let mut forged = forgeries(e);
                        forged.push(serde_json::from_str(&e.as_json()).unwrap());
                        forged
                    })
                    .map(|e| json!(["EVENT", sub, e]).to_string())
                    .collect();
                frames.push(json!(["EOSE", sub]).to_string());
                frames
            }
            Some("EVENT") => {
                let event = msg[1].clone();
                let id = event["id"].as_str().unwrap_or_default().to_owned();
                match upstream.publish_raw(&event.to_string(), &id).await {
                    Ok((ok, m)) => vec![json!(["OK", id, ok, m]).to_string()],
                    Err(e) => vec![json!(["OK", id, false, format!("error: {e}")]).to_string()],
                }
            }
            _ => Vec::new(),
        };
        for f in frames {
            if ws.send(Message::text(f)).await.is_err() {
                return;
            }
        }
    }
}

/// The forgeries sent ahead of `e`: none of them verifies.
fn forgeries(e: &Event) -> Vec<Value> {
    let real: Value = serde_json::from_str(&e.as_json()).unwrap();
    let mut changed = real.clone();
    changed["content"] = json!("changed by a hostile relay");
    let mut bad_sig = real.clone();
    bad_sig["sig"] = json!("11".repeat(64));
    let mut out = Vec::new();
    if e.kind.is_replaceable() || e.kind.is_addressable() {
        out.push(forged_newer(e));
    }
    out.push(changed);
    out.push(bad_sig);
    out
}

/// An event at `e`'s address, a minute newer, with every tag but `d` dropped (no publishers, no
/// revocations, no mods, no affected versions): its id is right, its signature is not.
fn forged_newer(e: &Event) -> Value {
    let tags: Vec<Tag> = e
        .tags
        .iter()
        .filter(|t| t.as_slice().first().map(String::as_str) == Some("d"))
        .cloned()
        .collect();
    let created_at = Timestamp::from(e.created_at.as_secs() + 60);
    let content = "replaced by a hostile relay";
    let id = EventId::compute(
        &e.pubkey,
        &created_at,
        &e.kind,
        &Tags::from_list(tags.clone()),
        content,
    );
    json!({
        "id": id.to_hex(),
        "pubkey": e.pubkey.to_hex(),
        "created_at": created_at.as_secs(),
        "kind": e.kind.as_u16(),
        "tags": tags.iter().map(|t| t.as_slice().to_vec()).collect::<Vec<_>>(),
        "content": content,
        "sig": "22".repeat(64),
    })
}
