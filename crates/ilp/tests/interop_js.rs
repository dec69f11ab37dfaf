//! Our BTP server and STREAM receiver against the Interledger reference libraries from npm:
//! `ilp-protocol-stream` over `ilp-plugin-btp` (tests/js/ilp/stream_sender.mjs) connects,
//! asks ILDCP, and sends money and data on a stream, which our receiver counts and reassembles.
//! Needs Node and `tests/js/node_modules` (the test command installs both).

mod common;

use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use common::TestNode;
use seedstr_ilp::btp_session::serve_btp;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ilp_protocol_stream_pays_and_writes_to_our_receiver() {
    let node = Arc::new(TestNode::new("test.seedstr"));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let (sessions, mut rx) = tokio::sync::mpsc::channel(8);
    tokio::spawn(async move { while rx.recv().await.is_some() {} });
    let auth = Arc::new(|_: &str, token: &str| (token == "js-token").then(|| "js".to_owned()));
    tokio::spawn(serve_btp(
        listener,
        auth,
        node.clone(),
        sessions,
        Duration::from_secs(20),
    ));

    let (destination, secret) = node.receiver.lock().unwrap().new_connection();
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/js/ilp/stream_sender.mjs"
    );
    let secret = base64::engine::general_purpose::STANDARD.encode(secret);
    let out = tokio::process::Command::new("node")
        .args([
            script,
            &format!("btp+ws://:js-token@127.0.0.1:{port}"),
            destination.as_str(),
            &secret,
            "1000",
            "hello from ilp-protocol-stream",
        ])
        .output();
    let out = tokio::time::timeout(Duration::from_secs(60), out)
        .await
        .expect("the JavaScript sender finished in time")
        .unwrap();
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let said: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(said["sent"], "1000", "{said}");
    assert_eq!(said["address"], "test.seedstr.js", "{said}");
    assert_eq!(node.money(), 1000);
    assert_eq!(node.data(), b"hello from ilp-protocol-stream");
}
