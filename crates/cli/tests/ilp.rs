//! The node as an Interledger peer: `[ilp] peering` starts its connector behind a BTP server,
//! SPSP hands out payment details, `ilp-protocol-stream` (npm, over `ilp-plugin-btp`) pays the
//! node as its configured child, and the economic view shows it in the API, the status page and
//! `/metrics`.

mod common;

use common::node::{node_config, NodeProcess};
use common::spine::Person;
use serde_json::Value;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_peer_pays_the_node_and_its_economic_view_shows_it() {
    let bob = Person::new();
    let peers = r#"peers = [{ name = "alice", token = "alice-token", child = true, credit_limit = 1000000, settle_threshold = 500, max_packet_amount = 100000 }]"#;
    let config = node_config(
        &bob,
        &[
            ("peering = false", "peering = true"),
            (
                "btp_listen = \"127.0.0.1:7448\"",
                "btp_listen = \"127.0.0.1:0\"",
            ),
            ("peers = []", peers),
            ("owner = false", "owner = true"),
        ],
    );
    let node = NodeProcess::start(bob.home.path(), &config);
    let base = format!("http://{}", node.http);
    let get = |path: &str| {
        let url = format!("{base}{path}");
        async move { reqwest::get(url).await.unwrap() }
    };
    let view: Value = get("/api/v1/ilp").await.json().await.unwrap();
    assert_eq!(view["address"], "private.seedstr");
    let btp = view["btp"].as_str().unwrap().replace("ws://", "");
    let spsp = get("/.well-known/pay").await;
    assert_eq!(spsp.headers()["content-type"], "application/spsp4+json");
    let spsp: Value = spsp.json().await.unwrap();
    let destination = spsp["destination_account"].as_str().unwrap().to_owned();
    assert!(
        destination.starts_with("private.seedstr.receiver."),
        "{destination}"
    );

    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/js/ilp/stream_sender.mjs"
    );
    let out = tokio::process::Command::new("node")
        .args([
            script,
            &format!("btp+ws://:alice-token@{btp}"),
            &destination,
            spsp["shared_secret"].as_str().unwrap(),
            "1000",
            "paid to a node",
        ])
        .output();
    let out = tokio::time::timeout(std::time::Duration::from_secs(60), out)
        .await
        .expect("the JavaScript sender finished in time")
        .unwrap();
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let said: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(said["address"], "private.seedstr.alice", "{said}");

    let view: Value = get("/api/v1/ilp").await.json().await.unwrap();
    assert_eq!(view["accounts"]["alice"]["balance"], 1000, "{view}");
    assert_eq!(view["received"]["money"], 1000, "{view}");
    assert_eq!(view["received"]["data_bytes"], 14, "{view}");
    assert_eq!(view["due_for_settlement"][0][0], "alice", "{view}");
    let metrics = get("/metrics").await.text().await.unwrap();
    assert!(
        metrics.contains("seedstr_ilp_peer_balance{peer=\"alice\"} 1000"),
        "{metrics}"
    );
    assert!(
        metrics.contains("seedstr_ilp_received_total 1000"),
        "{metrics}"
    );
    let page = get("/status").await.text().await.unwrap();
    assert!(
        page.contains("Interledger") && page.contains("alice"),
        "{page}"
    );

    // The owner's node announcement (32001) on the node's relay names its address and BTP.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let announced = loop {
        let found = seedstr_client::relays::conn::RelayConn::connect(&node.relay())
            .await
            .unwrap()
            .query(
                "a",
                &[serde_json::json!({"kinds": [32001], "authors": [bob.hex()]})],
            )
            .await
            .unwrap();
        if let Some(e) = found.into_iter().next() {
            break e;
        }
        assert!(std::time::Instant::now() < deadline, "no node announcement");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    };
    let info = seedstr_ilp::announcement::NodeInfo::from_event(&announced).unwrap();
    assert_eq!(info.address.as_str(), "private.seedstr");
    assert_eq!(info.btp, format!("ws://{btp}"));
    assert_eq!(info.prices.forward_ppm, Some(1000));

    // A wrong token gets no session.
    let stranger = tokio::process::Command::new("node")
        .args([
            script,
            &format!("btp+ws://:not-a-token@{btp}"),
            &destination,
            spsp["shared_secret"].as_str().unwrap(),
            "10",
            "x",
        ])
        .output();
    let stranger = tokio::time::timeout(std::time::Duration::from_secs(60), stranger)
        .await
        .expect("the refused sender finished in time")
        .unwrap();
    assert!(!stranger.status.success());
}
