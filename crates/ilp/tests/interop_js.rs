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

/// The other direction: our STREAM sender, connected over BTP to an `ilp-plugin-btp` listener,
/// pays and writes to `ilp-protocol-stream`'s server (tests/js/ilp/stream_receiver.mjs), which
/// first asks us ILDCP for its address.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn our_sender_pays_and_writes_to_ilp_protocol_stream() {
    use seedstr_ilp::address::Address;
    use seedstr_ilp::btp_session::connect_btp;
    use seedstr_ilp::stream::packet::Frame;
    use seedstr_ilp::stream::sender::StreamSender;
    use tokio::io::AsyncBufReadExt as _;

    // A free port for the JavaScript listener.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/js/ilp/stream_receiver.mjs"
    );
    let mut child = tokio::process::Command::new("node")
        .args([script, &port.to_string(), "our-token"])
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = tokio::io::BufReader::new(child.stdout.take().unwrap()).lines();
    // Its listener opens as it starts: connect until it answers.
    let node = Arc::new(TestNode::new("test.seedstr"));
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    let peer = loop {
        let url = format!("ws://127.0.0.1:{port}");
        match connect_btp(&url, "", "our-token", node.clone(), Duration::from_secs(10)).await {
            Ok(p) => break p,
            Err(e) => {
                assert!(std::time::Instant::now() < deadline, "{e}");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    };
    let first = tokio::time::timeout(Duration::from_secs(30), lines.next_line())
        .await
        .expect("the server printed its address")
        .unwrap()
        .unwrap();
    let details: serde_json::Value = serde_json::from_str(&first).unwrap();
    let destination = Address::new(details["destination"].as_str().unwrap()).unwrap();
    assert!(
        destination.starts_with("test.seedstr.server"),
        "{destination}"
    );
    let secret: [u8; 32] = base64::engine::general_purpose::STANDARD
        .decode(details["secret"].as_str().unwrap())
        .unwrap()
        .try_into()
        .unwrap();

    let now = 1_800_000_000_000;
    let mut s = StreamSender::new(destination, &secret);
    let stream = s.open_stream();
    for _ in 0..5 {
        let sent = s.send_money(&peer, stream, 200, 200, now).await.unwrap();
        assert!(sent.fulfilled);
    }
    s.send_data(&peer, stream, b"hello from seedstr", now)
        .await
        .unwrap();
    let bye = vec![Frame::ConnectionClose {
        code: seedstr_ilp::stream::receiver::close_code::NO_ERROR,
        message: String::new(),
    }];
    let _ = s.send(&peer, 0, 0, bye, true, now).await;
    let last = tokio::time::timeout(Duration::from_secs(30), lines.next_line())
        .await
        .expect("the server reported what arrived")
        .unwrap()
        .unwrap();
    let got: serde_json::Value = serde_json::from_str(&last).unwrap();
    assert_eq!(got["received"], 1000, "{got}");
    assert_eq!(got["data"], "hello from seedstr", "{got}");
}
