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

/// Runs tests/js/ilp/stream_sender.mjs: `ilp-protocol-stream` over `ilp-plugin-btp` pays
/// `amount` and writes `text` to `destination`; what it printed.
async fn js_sender(
    server: &str,
    destination: &seedstr_ilp::address::Address,
    secret: &[u8; 32],
    amount: u64,
    text: &str,
) -> serde_json::Value {
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/js/ilp/stream_sender.mjs"
    );
    let secret = base64::engine::general_purpose::STANDARD.encode(secret);
    let out = tokio::process::Command::new("node")
        .args([
            script,
            server,
            destination.as_str(),
            &secret,
            &amount.to_string(),
            text,
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
    serde_json::from_slice(&out.stdout).unwrap()
}

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
    let said = js_sender(
        &format!("btp+ws://:js-token@127.0.0.1:{port}"),
        &destination,
        &secret,
        1000,
        "hello from ilp-protocol-stream",
    )
    .await;
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
        match connect_btp(
            &url,
            "",
            "our-token",
            "js",
            node.clone(),
            Duration::from_secs(10),
        )
        .await
        {
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
    assert!(destination.starts_with("test.seedstr.js"), "{destination}");
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

/// Three of our connectors, each behind its BTP server, A — B — C over real WebSockets, a STREAM
/// receiver at C: `ilp-protocol-stream` (npm), a child of A, pays 1,000 through both hops
/// (probing the rate, which the fees set at 0.98) and writes a text; C's receiver gets what
/// arrived and the text, and every balance moves by what was fulfilled.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ilp_protocol_stream_pays_through_two_of_our_connectors_over_btp() {
    use seedstr_ilp::address::Address;
    use seedstr_ilp::btp_session::{connect_btp, BtpPeer, ConnectorHandler};
    use seedstr_ilp::connector::{Connector, ConnectorConfig, LocalHandler, PeerConfig};
    use seedstr_ilp::packet::{Fulfill, Prepare, Reject};
    use seedstr_ilp::stream::receiver::{Delivered, ReceiverLimits, StreamReceiver};
    use std::sync::Mutex;

    struct Receiving(Mutex<StreamReceiver>, Mutex<Vec<Delivered>>);
    impl LocalHandler for Receiving {
        fn handle(&self, _from: &str, p: &Prepare) -> Result<Fulfill, Reject> {
            let h = self.0.lock().unwrap().handle(p);
            self.1.lock().unwrap().extend(h.delivered);
            h.reply
        }
    }
    let config = |a: &str| ConnectorConfig {
        address: Address::new(a).unwrap(),
        asset_code: "SAT".into(),
        asset_scale: 0,
        fee_ppm: 10_000,
        expiry_decrement: Duration::from_secs(1),
        min_expiry_window: Duration::from_secs(1),
    };
    let peer = |name: &str, child: bool| PeerConfig {
        name: name.into(),
        child,
        // Above the largest packet: the sender's concurrent rate probes (1, 1,000, 1,000,000)
        // are all in flight at once.
        credit_limit: 10_000_000,
        settle_threshold: 100_000,
        max_packet_amount: 1_000_000,
    };
    let clock: Arc<dyn Fn() -> u64 + Send + Sync> = Arc::new(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis() as u64
    });
    let receiving = Arc::new(Receiving(
        Mutex::new(StreamReceiver::new(
            Address::new("test.c.receiver").unwrap(),
            [5; 32],
            "SAT",
            0,
            ReceiverLimits::default(),
        )),
        Mutex::new(Vec::new()),
    ));
    let a: Arc<Connector<BtpPeer>> = Arc::new(Connector::new(config("test.a"), None));
    let b: Arc<Connector<BtpPeer>> = Arc::new(Connector::new(config("test.b"), None));
    let c: Arc<Connector<BtpPeer>> = Arc::new(Connector::new(
        config("test.c"),
        Some(receiving.clone() as Arc<dyn LocalHandler>),
    ));
    a.add_peer(peer("alice", true), None);
    a.add_peer(peer("b", false), None);
    b.add_peer(peer("a", false), None);
    b.add_peer(peer("c", false), None);
    c.add_peer(peer("b", false), None);
    a.add_route("test.c", "b");
    b.add_route("test.c", "c");

    // Each connector's BTP server; incoming sessions become the links back to their peers.
    async fn listen(
        connector: Arc<Connector<BtpPeer>>,
        clock: Arc<dyn Fn() -> u64 + Send + Sync>,
        token: &'static str,
        account: &'static str,
    ) -> u16 {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let (sessions, mut rx) = tokio::sync::mpsc::channel::<BtpPeer>(8);
        let c2 = connector.clone();
        tokio::spawn(async move {
            while let Some(p) = rx.recv().await {
                let name = p.account().to_owned();
                c2.set_link(&name, Arc::new(p));
            }
        });
        let auth = Arc::new(move |_: &str, t: &str| (t == token).then(|| account.to_owned()));
        let handler = Arc::new(ConnectorHandler { connector, clock });
        tokio::spawn(serve_btp(
            listener,
            auth,
            handler,
            sessions,
            Duration::from_secs(20),
        ));
        port
    }
    let a_port = listen(a.clone(), clock.clone(), "alice-token", "alice").await;
    let b_port = listen(b.clone(), clock.clone(), "a-token", "a").await;
    let c_port = listen(c.clone(), clock.clone(), "b-token", "b").await;
    // B dials C, A dials B.
    let hb = Arc::new(ConnectorHandler {
        connector: b.clone(),
        clock: clock.clone(),
    });
    let b_to_c = connect_btp(
        &format!("ws://127.0.0.1:{c_port}"),
        "b",
        "b-token",
        "c",
        hb,
        Duration::from_secs(20),
    )
    .await
    .unwrap();
    b.set_link("c", Arc::new(b_to_c));
    let ha = Arc::new(ConnectorHandler {
        connector: a.clone(),
        clock: clock.clone(),
    });
    let a_to_b = connect_btp(
        &format!("ws://127.0.0.1:{b_port}"),
        "a",
        "a-token",
        "b",
        ha,
        Duration::from_secs(20),
    )
    .await
    .unwrap();
    a.set_link("b", Arc::new(a_to_b));

    let (destination, secret) = receiving.0.lock().unwrap().new_connection();
    let said = js_sender(
        &format!("btp+ws://:alice-token@127.0.0.1:{a_port}"),
        &destination,
        &secret,
        1000,
        "two hops away",
    )
    .await;
    assert_eq!(said["sent"], "1000", "{said}");
    assert_eq!(said["address"], "test.a.alice", "{said}");
    let delivered = receiving.1.lock().unwrap();
    let arrived: u64 = delivered
        .iter()
        .map(|d| match d {
            Delivered::Money { amount, .. } => *amount,
            _ => 0,
        })
        .sum();
    let text: Vec<u8> = delivered
        .iter()
        .flat_map(|d| match d {
            Delivered::Data { bytes, .. } => bytes.clone(),
            _ => Vec::new(),
        })
        .collect();
    assert_eq!(text, b"two hops away");
    // Two 1% fees, rounded up per packet: at most 980 of the 1,000 arrive.
    assert!((950..=980).contains(&arrived), "{arrived}");
    let (aa, ba, ca) = (a.accounts(), b.accounts(), c.accounts());
    assert_eq!(aa["alice"].balance, 1000);
    assert_eq!(aa["b"].balance, -ba["a"].balance);
    assert_eq!(ba["c"].balance, -ca["b"].balance);
    assert_eq!(ca["b"].balance, arrived as i128);
}
