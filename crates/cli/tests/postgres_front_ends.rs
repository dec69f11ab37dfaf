//! Several relay front-ends on one PostgreSQL database behave as one relay.

mod common;

use common::{event, RelayProcess};
use nostr::prelude::*;
use seedstr_testkit::postgres::fresh_database;
use serde_json::json;

#[tokio::test]
async fn two_front_ends_share_store_and_live_events() {
    let url = fresh_database().await;
    let a = RelayProcess::start_postgres(&url, &[]);
    let b = RelayProcess::start_postgres(&url, &[]);
    let k = Keys::generate();
    let mut on_a = a.connect().await;
    let mut on_b = b.connect().await;

    let stored = event(&k, 30_079, &[&["d", "skyrim-se.foo@1.0.0"]], "release");
    assert_eq!(on_a.publish(&stored).await.unwrap(), (true, String::new()));
    // A's NOTIFY may reach B after B registered "s"; B must still send the event once.
    let got = on_b
        .query("s", &[json!({"authors": [k.public_key().to_hex()]})])
        .await
        .unwrap();
    assert_eq!(got, vec![stored.clone()]);

    // Live: a subscriber on B hears an event published through A.
    let live = event(&k, 1, &[&["t", "fanout"]], "across front-ends");
    on_b.query("live", &[json!({"#t": ["fanout"]})])
        .await
        .unwrap();
    assert!(on_a.publish(&live).await.unwrap().0);
    let m = loop {
        let m = on_b.recv().await.unwrap();
        if m[0] == "EVENT" && m[1] == "live" {
            break m;
        }
    };
    assert_eq!(m[2]["id"], live.id.to_hex());

    // Ephemeral events are never stored, yet they cross front-ends too.
    let ephemeral = event(&k, 20_001, &[&["t", "fanout"]], "here and gone");
    assert!(on_a.publish(&ephemeral).await.unwrap().0);
    let m = loop {
        let m = on_b.recv().await.unwrap();
        assert_ne!(
            m[2]["id"],
            stored.id.to_hex(),
            "the stored event came to B twice: {m:?}"
        );
        if m[0] == "EVENT" && m[1] == "live" {
            break m;
        }
    };
    assert_eq!(m[2]["id"], ephemeral.id.to_hex());
    assert!(on_b
        .query("gone", &[json!({"ids": [ephemeral.id.to_hex()]})])
        .await
        .unwrap()
        .is_empty());

    // Rules hold across front-ends: a duplicate through B is recognised.
    let (ok, msg) = on_b.publish(&stored).await.unwrap();
    assert!(ok && msg.starts_with("duplicate:"), "{msg}");
}

/// A directory outgrows one machine the way the relay does: two directory front-ends on one
/// database (one probing, one not) answer the same name searches, for profiles stored before
/// the second started and for those sent to the first afterwards.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn directory_front_ends_on_one_database_answer_the_same_searches() {
    use common::node::DirectoryProcess;
    use common::spine::Person;
    use std::time::{Duration, Instant};
    let url = fresh_database().await;
    let operator = Person::new();
    let a = DirectoryProcess::start_with(&operator, &["--database", &url], &[]);
    let (ann, bea) = (Keys::generate(), Keys::generate());
    let mut on_a = seedstr_client::relays::conn::RelayConn::connect(&a.url)
        .await
        .unwrap();
    let before = event(&ann, 0, &[], r#"{"name":"annika"}"#);
    assert!(on_a.publish(&before).await.unwrap().0);
    let b = DirectoryProcess::start_with(&operator, &["--database", &url], &["--no-probe"]);
    let after = event(&bea, 0, &[], r#"{"name":"annabel"}"#);
    assert!(on_a.publish(&after).await.unwrap().0);
    let mut on_b = seedstr_client::relays::conn::RelayConn::connect(&b.url)
        .await
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let found = on_b
            .query("s", &[json!({"kinds": [0], "search": "ann"})])
            .await
            .unwrap();
        let ids: Vec<EventId> = found.iter().map(|e| e.id).collect();
        if ids.contains(&before.id) && ids.contains(&after.id) {
            break;
        }
        assert!(Instant::now() < deadline, "front-end B found {ids:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
