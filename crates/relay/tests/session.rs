//! Sessions carried by something other than a WebSocket get what a WebSocket client gets: OKs
//! after the save, stored events then EOSE, live events after, the NIP-42 challenge when it is
//! needed, CLOSE.

use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use nostr::prelude::*;
use seedstr_relay::session::SessionOutput;
use seedstr_relay::{Relay, RelayConfig};

const LOOPBACK: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

async fn next(output: &mut SessionOutput) -> serde_json::Value {
    let text = tokio::time::timeout(Duration::from_secs(10), output.recv())
        .await
        .expect("an answer in time")
        .expect("the session is open");
    serde_json::from_str(&text).unwrap()
}

fn note(keys: &Keys, text: &str) -> String {
    let event = EventBuilder::new(Kind::TextNote, text)
        .finalize(keys)
        .unwrap();
    serde_json::json!(["EVENT", event]).to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_stores_answers_and_carries_live_events() {
    let dir = tempfile::tempdir().unwrap();
    let store = seedstr_store::lmdb::LmdbStore::open(dir.path()).unwrap();
    let relay = Relay::new(RelayConfig::default(), store);
    let keys = Keys::generate();

    let mut writer = relay.open_session(LOOPBACK, false, &[]);
    writer.input.send(note(&keys, "first")).await.unwrap();
    let ok = next(&mut writer.output).await;
    assert_eq!((ok[0].as_str(), ok[2].as_bool()), (Some("OK"), Some(true)));

    let mut reader = relay.open_session(LOOPBACK, false, &[]);
    let req = serde_json::json!(["REQ", "s", {"authors": [keys.public_key().to_hex()]}]);
    reader.input.send(req.to_string()).await.unwrap();
    let stored = next(&mut reader.output).await;
    assert_eq!(stored[0], "EVENT");
    assert_eq!(stored[2]["content"], "first");
    assert_eq!(
        next(&mut reader.output).await,
        serde_json::json!(["EOSE", "s"])
    );

    // Live: saved by the other session, sent to this one's subscription.
    writer.input.send(note(&keys, "second")).await.unwrap();
    assert_eq!(next(&mut writer.output).await[0], "OK");
    let live = next(&mut reader.output).await;
    assert_eq!(
        (live[0].as_str(), live[1].as_str()),
        (Some("EVENT"), Some("s"))
    );
    assert_eq!(live[2]["content"], "second");

    // Asking for private messages unauthenticated: the challenge, then the refusal.
    reader
        .input
        .send(r#"["COUNT","dm",{"kinds":[4]}]"#.into())
        .await
        .unwrap();
    assert_eq!(next(&mut reader.output).await[0], "AUTH");
    let closed = next(&mut reader.output).await;
    assert_eq!(closed[0], "CLOSED");
    assert!(
        closed[2].as_str().unwrap().starts_with("auth-required:"),
        "{closed}"
    );

    // Bad input is answered by name, as on a WebSocket.
    reader.input.send("[\"REQ\"".into()).await.unwrap();
    let notice = next(&mut reader.output).await;
    assert_eq!(notice[0], "NOTICE");
    assert!(
        notice[1].as_str().unwrap().starts_with("invalid:"),
        "{notice}"
    );

    // Closed: later events do not reach it; dropping the input ends the session.
    reader.input.send("[\"CLOSE\",\"s\"]".into()).await.unwrap();
    // The CLOSE is taken before the next message, so one more answer proves it was handled.
    reader
        .input
        .send("[\"COUNT\",\"c\",{}]".into())
        .await
        .unwrap();
    assert_eq!(next(&mut reader.output).await[0], "COUNT");
    writer.input.send(note(&keys, "third")).await.unwrap();
    assert_eq!(next(&mut writer.output).await[0], "OK");
    assert_eq!(relay.subscription_count(), 0);
    drop(reader.input);
    assert!(
        tokio::time::timeout(Duration::from_secs(10), reader.output.recv())
            .await
            .expect("the session ends")
            .is_none()
    );
}
