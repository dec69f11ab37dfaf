//! The node as an Interledger peer: `[ilp] peering` starts its connector behind a BTP server,
//! SPSP hands out payment details, `ilp-protocol-stream` (npm, over `ilp-plugin-btp`) pays the
//! node as its configured child, and the economic view shows it in the API, the status page and
//! `/metrics`; Nostr messages paid for over STREAM are served by the node's relay and answered
//! at the client's address; three owners' nodes find each other by their announcements, and
//! one follows the others over Interledger, its subscriptions paid across two hops.

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
    assert_eq!(info.prices.per_event, Some(1));
    assert_eq!(info.prices.per_subscription, Some((10, 86_400)));

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

/// A STREAM client's own end, behind its BTP session: the answers a node pushes back on the
/// client's connection, cut into Nostr messages.
struct ClientEnd {
    receiver: std::sync::Mutex<seedstr_ilp::stream::receiver::StreamReceiver>,
    reader: std::sync::Mutex<seedstr_ilp::nostr_frames::MessageReader>,
    heard: tokio::sync::mpsc::UnboundedSender<Value>,
}

impl seedstr_ilp::btp_session::PacketHandler for ClientEnd {
    async fn handle(
        &self,
        _account: &str,
        prepare: seedstr_ilp::packet::Prepare,
    ) -> Result<seedstr_ilp::packet::Fulfill, seedstr_ilp::packet::Reject> {
        let handled = self.receiver.lock().unwrap().handle(&prepare);
        for d in handled.delivered {
            if let seedstr_ilp::stream::receiver::Delivered::Data { bytes, .. } = d {
                for m in self.reader.lock().unwrap().push(&bytes).unwrap() {
                    let _ = self.heard.send(serde_json::from_str(&m).unwrap());
                }
            }
        }
        handled.reply
    }
}

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64
}

/// The next message the node pushed that is not an AUTH greeting.
async fn next_pushed(heard: &mut tokio::sync::mpsc::UnboundedReceiver<Value>) -> Value {
    loop {
        let m = tokio::time::timeout(std::time::Duration::from_secs(20), heard.recv())
            .await
            .expect("a message pushed in time")
            .expect("the client end is open");
        if m[0] != "AUTH" {
            return m;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nostr_over_stream_is_paid_for_and_answered_at_the_clients_address() {
    use seedstr_ilp::address::Address;
    use seedstr_ilp::link::IlpLink;
    use seedstr_ilp::nostr_frames::{encode_message, MessageReader};
    use seedstr_ilp::stream::packet::Frame;
    use seedstr_ilp::stream::receiver::{ReceiverLimits, StreamReceiver};
    use seedstr_ilp::stream::sender::StreamSender;

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
        ],
    );
    let node = NodeProcess::start(bob.home.path(), &config);
    let base = format!("http://{}", node.http);
    let view: Value = reqwest::get(format!("{base}/api/v1/ilp"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let btp = view["btp"].as_str().unwrap().to_owned();

    // Alice: a child of the node over BTP, with her own receiver for what comes back.
    let (heard_tx, mut heard) = tokio::sync::mpsc::unbounded_channel();
    let end = std::sync::Arc::new(ClientEnd {
        receiver: std::sync::Mutex::new(StreamReceiver::new(
            Address::new("private.seedstr.alice").unwrap(),
            [7; 32],
            "SAT",
            0,
            ReceiverLimits::default(),
        )),
        reader: Default::default(),
        heard: heard_tx,
    });
    let link = seedstr_ilp::btp_session::connect_btp(
        &btp,
        "alice",
        "alice-token",
        "node",
        end.clone(),
        std::time::Duration::from_secs(10),
    )
    .await
    .unwrap();
    let me = seedstr_ilp::ildcp::IldcpResponse::from_fulfill(
        &link
            .send(seedstr_ilp::ildcp::request(now_ms() + 30_000))
            .await
            .unwrap(),
    )
    .unwrap();
    assert_eq!(me.client_address.as_str(), "private.seedstr.alice");
    let spsp: Value = reqwest::get(format!("{base}/.well-known/pay"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    use base64::Engine as _;
    let secret: [u8; 32] = base64::engine::general_purpose::STANDARD
        .decode(spsp["shared_secret"].as_str().unwrap())
        .unwrap()
        .try_into()
        .unwrap();
    let mut sender = StreamSender::new(
        Address::new(spsp["destination_account"].as_str().unwrap()).unwrap(),
        &secret,
    );
    let back = end.receiver.lock().unwrap().accept_replies(secret).unwrap();
    let stream = sender.open_stream();
    let mut offset = 0u64;
    let frames_for = |msg: &str, offset: u64, pays: bool, with_address: bool| {
        let data = encode_message(msg);
        let mut frames = Vec::new();
        if with_address {
            frames.push(Frame::ConnectionNewAddress {
                source_account: back.clone(),
            });
        }
        if pays {
            frames.push(Frame::StreamMoney {
                stream_id: stream,
                shares: 1,
            });
        }
        frames.push(Frame::StreamData {
            stream_id: stream,
            offset,
            data: data.clone(),
        });
        (frames, data.len() as u64)
    };
    // Frames sent with an amount, which the node must fulfil.
    macro_rules! sends_fulfilled {
        ($amount:expr, $frames:expr) => {
            assert!(
                sender
                    .send(&link, $amount, $amount, $frames, true, now_ms())
                    .await
                    .unwrap()
                    .fulfilled
            )
        };
    }
    use nostr::prelude::*;
    let writer = nostr::prelude::Keys::generate();
    let note = nostr::prelude::EventBuilder::new(nostr::prelude::Kind::TextNote, "paid over ILP")
        .finalize(&writer)
        .unwrap();

    // A subscription costs 10: 9 is refused, saying the price, and changes nothing.
    let req =
        serde_json::json!(["REQ", "feed", {"authors": [writer.public_key().to_hex()]}]).to_string();
    let (frames, len) = frames_for(&req, offset, true, true);
    let short = sender
        .send(&link, 9, 9, frames.clone(), true, now_ms())
        .await
        .unwrap();
    assert!(!short.fulfilled);
    let mut reader = MessageReader::default();
    let said: Vec<String> = short
        .frames
        .iter()
        .flat_map(|f| match f {
            Frame::StreamData { data, .. } => reader.push(data).unwrap(),
            _ => Vec::new(),
        })
        .collect();
    assert!(
        said[0].contains("restricted: 0 event(s) at 1 and 1 subscription(s) at 10 cost 10; 9 came"),
        "{said:?}"
    );
    // Paid: the stored events (none yet) and EOSE come back to Alice's address.
    let paid = sender
        .send(&link, 10, 10, frames, true, now_ms())
        .await
        .unwrap();
    assert!(paid.fulfilled);
    offset += len;
    assert_eq!(
        next_pushed(&mut heard).await,
        serde_json::json!(["EOSE", "feed"])
    );

    // An event: 5 pays its 1, 4 stay as credit; OK and the live EVENT come back.
    let event = serde_json::json!(["EVENT", note]).to_string();
    let (frames, len) = frames_for(&event, offset, true, false);
    sends_fulfilled!(5, frames);
    offset += len;
    let mut got = [next_pushed(&mut heard).await, next_pushed(&mut heard).await];
    got.sort_by_key(|m| m[0].as_str().unwrap().to_owned());
    assert_eq!(got[0][0], "EVENT");
    assert_eq!(got[0][2]["id"], note.id.to_hex());
    assert_eq!(
        (got[1][0].as_str(), got[1][2].as_bool()),
        (Some("OK"), Some(true))
    );

    // The same event again, paid from credit: a duplicate, so its price comes back.
    let (frames, len) = frames_for(&event, offset, false, false);
    sends_fulfilled!(0, frames);
    let dup = next_pushed(&mut heard).await;
    assert_eq!(dup[0], "OK");
    assert!(dup[3].as_str().unwrap().starts_with("duplicate:"), "{dup}");
    offset += len;

    // NIP-42 over STREAM: asking for private messages brings the challenge (then the
    // refusal); an AUTH naming the node's relay and the challenge is taken, free.
    let (frames, len) = frames_for(r#"["COUNT","dm",{"kinds":[4]}]"#, offset, false, false);
    sends_fulfilled!(0, frames);
    offset += len;
    let greeting = tokio::time::timeout(std::time::Duration::from_secs(20), heard.recv())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(greeting[0], "AUTH", "{greeting}");
    let challenge = greeting[1].as_str().unwrap().to_owned();
    let refused = next_pushed(&mut heard).await;
    assert_eq!(refused[0], "CLOSED", "{refused}");
    let auth = EventBuilder::new(Kind::from(22242u16), "")
        .tags([
            Tag::parse(["relay", &node.relay()]).unwrap(),
            Tag::parse(["challenge", &challenge]).unwrap(),
        ])
        .finalize(&writer)
        .unwrap();
    let (frames, _) = frames_for(
        &serde_json::json!(["AUTH", auth]).to_string(),
        offset,
        false,
        false,
    );
    sends_fulfilled!(0, frames);
    let authed = next_pushed(&mut heard).await;
    assert_eq!(
        (authed[0].as_str(), authed[2].as_bool()),
        (Some("OK"), Some(true)),
        "{authed}"
    );

    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let view = loop {
        let view: Value = reqwest::get(format!("{base}/api/v1/ilp"))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if view["served"]["refunded"] == 1 {
            break view;
        }
        assert!(std::time::Instant::now() < deadline, "no refund: {view}");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    assert_eq!(view["served"]["sessions"], 1, "{view}");
    assert_eq!(view["served"]["messages"], 5, "{view}");
    assert_eq!(view["received"]["money"], 15, "{view}");
    assert_eq!(view["accounts"]["alice"]["balance"], 15, "{view}");
    assert!(view["served"]["pushed"].as_u64().unwrap() >= 4, "{view}");
}

/// A peering owner's node: its address, the directory its announcement goes to, the chain it
/// settles on (its JSON-RPC endpoint and the channel contract), and `more` edits.
fn peer_node(
    who: &Person,
    address: &str,
    directory: &str,
    chain: (&str, &str),
    more: &[(&str, &str)],
) -> NodeProcess {
    let mut edits = vec![
        ("peering = false", "peering = true"),
        (
            "btp_listen = \"127.0.0.1:7448\"",
            "btp_listen = \"127.0.0.1:0\"",
        ),
        ("owner = false", "owner = true"),
    ];
    let address_line = format!("address = \"{address}\"");
    edits.push(("address = \"private.seedstr\"", &address_line));
    let directories = format!("directories = [\"{directory}\"]");
    edits.push(("directories = []", &directories));
    let (rpc, contract) = (
        format!("rpc = \"{}\"", chain.0),
        format!("contract = \"{}\"", chain.1),
    );
    edits.extend([
        ("rpc = \"\"", rpc.as_str()),
        ("contract = \"\"", contract.as_str()),
        ("settle_secs = 10", "settle_secs = 1"),
        ("challenge_secs = 86400", "challenge_secs = 3600"),
        ("deposit = 1000000", "deposit = 1000"),
        ("cash_at = 1000000", "cash_at = 1000"),
    ]);
    edits.extend_from_slice(more);
    NodeProcess::start(who.home.path(), &node_config(who, &edits))
}

async fn view_of(node: &NodeProcess) -> Value {
    reqwest::get(format!("http://{}/api/v1/ilp", node.http))
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// Polls `node`'s economic view until `ready` holds (20 s at most).
async fn view_until(node: &NodeProcess, what: &str, ready: impl Fn(&Value) -> bool) -> Value {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let view = view_of(node).await;
        if ready(&view) {
            return view;
        }
        assert!(std::time::Instant::now() < deadline, "{what}: {view:#}");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

/// The fees each address paid on the chain, from every block's transactions and receipts.
async fn fees_by_sender(
    chain: &seedstr_channel::rpc::RpcChain,
) -> std::collections::HashMap<alloy_primitives::Address, alloy_primitives::U256> {
    use alloy_primitives::U256;
    let hex =
        |v: &Value| U256::from_str_radix(v.as_str().unwrap().trim_start_matches("0x"), 16).unwrap();
    let latest = hex(&chain
        .rpc("eth_blockNumber", serde_json::json!([]))
        .await
        .unwrap());
    let mut fees = std::collections::HashMap::new();
    let mut n = U256::ZERO;
    while n <= latest {
        let block = chain
            .rpc(
                "eth_getBlockByNumber",
                serde_json::json!([format!("{n:#x}"), true]),
            )
            .await
            .unwrap();
        for tx in block["transactions"].as_array().unwrap() {
            let receipt = chain
                .rpc("eth_getTransactionReceipt", serde_json::json!([tx["hash"]]))
                .await
                .unwrap();
            let from: alloy_primitives::Address = tx["from"].as_str().unwrap().parse().unwrap();
            *fees.entry(from).or_insert(U256::ZERO) +=
                hex(&receipt["gasUsed"]) * hex(&receipt["effectiveGasPrice"]);
        }
        n += U256::from(1);
    }
    fees
}

/// Polls `relay` until it holds the event `id`.
async fn holds(relay: &str, id: &str) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let found = seedstr_client::relays::conn::RelayConn::connect(relay)
            .await
            .unwrap()
            .query("h", &[serde_json::json!({"ids": [id]})])
            .await
            .unwrap();
        if !found.is_empty() {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{relay} never got {id}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_follows_over_ilp_and_paid_events_cross_two_hops_then_settle_on_a_chain() {
    use alloy_primitives::U256;
    use nostr::prelude::*;
    use seedstr_channel::chain::Chain as _;
    let dir = tempfile::tempdir().unwrap();
    let directory = common::RelayProcess::start(dir.path(), &[]);
    let (alice, bob, carol) = (Person::new(), Person::new(), Person::new());

    // A real chain (anvil) with the channel contract on it.
    let anvil = seedstr_testkit::anvil::Anvil::start();
    let chain = seedstr_channel::rpc::RpcChain::connect(&anvil.url)
        .await
        .unwrap();
    let funds = U256::from(10u64.pow(18));
    let fund = |address: String| {
        let chain = &chain;
        async move {
            chain
                .rpc(
                    "anvil_setBalance",
                    serde_json::json!([address, format!("{funds:#x}")]),
                )
                .await
                .unwrap();
        }
    };
    let deployer =
        seedstr_channel::chain::Wallet::new(k256::ecdsa::SigningKey::from_slice(&[9; 32]).unwrap());
    fund(deployer.address.to_string()).await;
    let contract = seedstr_channel::channels::Channels::deploy(&chain, &deployer)
        .await
        .unwrap()
        .contract;
    let contract_text = contract.to_string();
    let on_chain = (anvil.url.as_str(), contract_text.as_str());

    // Carol's node takes no strangers: only bob's, which connects to it.
    let c_peers = r#"peers = [{ name = "b", token = "b-c", credit_limit = 1000000, settle_threshold = 500, max_packet_amount = 100000 }]"#;
    let c = peer_node(
        &carol,
        "private.c",
        &directory.url,
        on_chain,
        &[
            ("peers = []", c_peers),
            ("paid_writes = false", "paid_writes = true"),
        ],
    );
    let c_btp = view_of(&c).await["btp"].as_str().unwrap().to_owned();
    // Bob's node connects to carol's and takes strangers' nodes.
    let b_peers = format!(
        r#"peers = [{{ name = "c", token = "b-c", btp_url = "{c_btp}", credit_limit = 1000000, settle_threshold = 500, max_packet_amount = 100000 }}]"#
    );
    let b = peer_node(
        &bob,
        "private.b",
        &directory.url,
        on_chain,
        &[
            ("peers = []", &b_peers),
            ("accept_strangers = false", "accept_strangers = true"),
        ],
    );
    // Alice's node follows whom she follows, looking every second.
    let a = peer_node(
        &alice,
        "private.a",
        &directory.url,
        on_chain,
        &[("follow_secs = 600", "follow_secs = 1")],
    );
    // Each node's address on the chain, funded.
    let mut evm = Vec::new();
    for node in [&a, &b, &c] {
        let address = view_of(node).await["settlement"]["address"]
            .as_str()
            .unwrap()
            .to_owned();
        fund(address.clone()).await;
        evm.push(address.parse::<alloy_primitives::Address>().unwrap());
    }
    let (a_evm, b_evm, c_evm) = (evm[0], evm[1], evm[2]);
    let a_relay = a.relay();
    for who in [&bob, &carol] {
        let out = alice.run(&["social", "follow", &who.hex(), "--relay", &a_relay]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    // Alice's node peers with bob's (it takes strangers), not with carol's (it does not), and
    // subscribes at both: at carol's through bob's.
    let live = |v: &Value, who: &Person| {
        v["following"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["person"] == who.hex() && f["state"] == "live")
    };
    let view = view_until(&a, "alice's node follows bob and carol", |v| {
        live(v, &bob) && live(v, &carol)
    })
    .await;
    let followed = |who: &Person| {
        view["following"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["person"] == who.hex())
            .unwrap()
            .clone()
    };
    let (to_bob, to_carol) = (followed(&bob), followed(&carol));
    assert_eq!(to_bob["peered"], true, "{view:#}");
    assert_eq!(to_carol["peered"], false, "{view:#}");
    assert_eq!(
        view["routes"]["private.c"], view["routes"]["private.b"],
        "{view:#}"
    );
    // Bob's subscription arrives whole (10); carol's pays bob's 1 fee on the way: the first
    // try of 10 brings 9, so 12 go, 11 arrive.
    assert_eq!(to_bob["paid"], 10, "{view:#}");
    assert_eq!(to_carol["paid"], 12, "{view:#}");

    // Carol posts on her node: it reaches alice's node over two hops, stored there, and so
    // reaches alice's own subscribers.
    let note = EventBuilder::new(Kind::TextNote, "from carol, carried by bob")
        .finalize(&carol.keys)
        .unwrap();
    let (taken, why) = seedstr_client::relays::conn::RelayConn::connect(&c.relay())
        .await
        .unwrap()
        .publish(&note)
        .await
        .unwrap();
    assert!(taken, "{why}");
    holds(&a_relay, &note.id.to_hex()).await;
    let bobs = EventBuilder::new(Kind::TextNote, "from bob")
        .finalize(&bob.keys)
        .unwrap();
    seedstr_client::relays::conn::RelayConn::connect(&b.relay())
        .await
        .unwrap()
        .publish(&bobs)
        .await
        .unwrap();
    holds(&a_relay, &bobs.id.to_hex()).await;

    // Every account: alice's node paid bob's 22 (bob's 10 and carol's 12), bob's paid carol's
    // 11 and kept 1; bob's receiver took 10, carol's 11. Then each payer settles what it owes
    // through a channel it opens on the chain: alice's node 22 to bob's, bob's 11 to carol's,
    // and every balance comes back to zero.
    let bob_account = seedstr_ilp::peer_auth::account_name(&bob.keys.public_key());
    let alice_account = seedstr_ilp::peer_auth::account_name(&alice.keys.public_key());
    let a_view = view_until(&a, "alice's node settles with bob's", |v| {
        v["accounts"][&bob_account]["settled_out"] == 22
    })
    .await;
    let a_account = &a_view["accounts"][&bob_account];
    assert_eq!(
        (&a_account["paid"], &a_account["balance"]),
        (&serde_json::json!(22), &serde_json::json!(0)),
        "{a_view:#}"
    );
    let b_view = view_until(
        &b,
        "bob's node settles with carol's and takes alice's",
        |v| {
            v["accounts"]["c"]["settled_out"] == 11
                && v["accounts"][&alice_account]["settled"] == 22
        },
    )
    .await;
    assert_eq!(
        b_view["accounts"][&alice_account]["received"], 22,
        "{b_view:#}"
    );
    assert_eq!(
        b_view["accounts"][&alice_account]["balance"], 0,
        "{b_view:#}"
    );
    assert_eq!(b_view["accounts"]["c"]["paid"], 11, "{b_view:#}");
    assert_eq!(b_view["accounts"]["c"]["balance"], 0, "{b_view:#}");
    assert_eq!(b_view["received"]["money"], 10, "{b_view:#}");
    let c_view = view_until(&c, "carol's node takes bob's claim", |v| {
        v["accounts"]["b"]["settled"] == 11
    })
    .await;
    assert_eq!(c_view["accounts"]["b"]["received"], 11, "{c_view:#}");
    assert_eq!(c_view["accounts"]["b"]["balance"], 0, "{c_view:#}");
    assert_eq!(c_view["received"]["money"], 11, "{c_view:#}");
    assert_eq!(c_view["served"]["sessions"], 1, "{c_view:#}");
    // The channels as each side keeps them: alice's node signed 22, bob's took it.
    let out = &a_view["settlement"]["channels"]["outgoing"][&bob_account];
    assert_eq!(
        (&out["signed"], &out["acknowledged"]),
        (&serde_json::json!("0x16"), &serde_json::json!("0x16")),
        "{a_view:#}"
    );
    let channel_id: alloy_primitives::B256 = out["id"].as_str().unwrap().parse().unwrap();
    let channels = seedstr_channel::channels::Channels::at(&chain, contract);
    let opened = channels.channel(channel_id).await.unwrap().unwrap();
    assert_eq!(
        (
            opened.sender,
            opened.recipient,
            opened.deposit,
            opened.claimed
        ),
        (a_evm, b_evm, U256::from(1000), U256::ZERO)
    );

    // The same in the web UI and the metrics.
    let page = reqwest::get(format!("http://{}/status", b.http))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("Payment channels") && page.contains("pays us") && page.contains("we pay"),
        "{page}"
    );
    let metrics = reqwest::get(format!("http://{}/metrics", a.http))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains(&format!(
            "seedstr_ilp_peer_settled_out_total{{peer=\"{bob_account}\"}} 22"
        )),
        "{metrics}"
    );

    // Alice closes her node's channel to bob's (`seedstr channel close`); bob's node sees the
    // close coming and cashes its best claim within the challenge period; after it, the rest
    // goes back to alice's node.
    let a_config = alice.home.path().join("node.toml");
    let close = |finish: bool| {
        let mut args = vec![
            "channel",
            "close",
            bob_account.as_str(),
            "--config",
            a_config.to_str().unwrap(),
            "--json",
        ];
        if finish {
            args.push("--finish");
        }
        let out = alice.run(&args);
        assert!(
            out.status.success(),
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice::<Value>(&out.stdout).unwrap()
    };
    let started = close(false);
    assert_eq!(started["channel"], channel_id.to_string(), "{started}");
    assert!(started["closes_at"].as_u64().is_some(), "{started}");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while channels.channel(channel_id).await.unwrap().unwrap().claimed != U256::from(22) {
        assert!(
            std::time::Instant::now() < deadline,
            "bob's node never cashed its claim"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    // Too early to finish: refused with the contract's reason.
    let early = alice.run(&[
        "channel",
        "close",
        &bob_account,
        "--config",
        a_config.to_str().unwrap(),
        "--finish",
    ]);
    assert!(!early.status.success());
    assert!(
        String::from_utf8_lossy(&early.stderr).contains("still open"),
        "{}",
        String::from_utf8_lossy(&early.stderr)
    );
    chain.advance(3600 + 60).await.unwrap();
    let finished = close(true);
    assert_eq!(finished["refunded"], "0x3d2", "{finished}");
    // On the chain, each address moved by what it settled and its deposits, less its fees.
    let fees = fees_by_sender(&chain).await;
    let fee = |a: &alloy_primitives::Address| fees.get(a).copied().unwrap_or_default();
    assert_eq!(
        chain.balance(a_evm).await.unwrap(),
        funds - U256::from(22) - fee(&a_evm)
    );
    assert_eq!(
        chain.balance(b_evm).await.unwrap(),
        funds + U256::from(22) - U256::from(1000) - fee(&b_evm)
    );
    assert_eq!(chain.balance(c_evm).await.unwrap(), funds - fee(&c_evm));
    assert_eq!(chain.balance(contract).await.unwrap(), U256::from(1000));

    // Carol's node sells writes: 1 per event, bought with a payment channel's claims.
    let nip11: Value = reqwest::Client::new()
        .get(format!("http://{}/", c.http))
        .header("Accept", "application/nostr+json")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(nip11["limitation"]["payment_required"], true, "{nip11}");
    assert_eq!(nip11["fees"]["publication"][0]["amount"], 1, "{nip11}");
    let credit_url = format!("http://{}/api/v1/ilp/credit", c.http);
    assert_eq!(nip11["payments_url"], credit_url, "{nip11}");
    let dave = Person::new();
    let mut writer = seedstr_client::relays::conn::RelayConn::connect(&c.relay())
        .await
        .unwrap();
    let dave_note = |n: usize| {
        EventBuilder::new(Kind::TextNote, format!("dave's paid note {n}"))
            .finalize(&dave.keys)
            .unwrap()
    };
    let (ok, why) = writer.publish(&dave_note(0)).await.unwrap();
    assert!(
        !ok && why.starts_with("restricted: writing here costs 1 SAT per event"),
        "{why}"
    );
    let dave_wallet =
        seedstr_channel::chain::Wallet::new(k256::ecdsa::SigningKey::from_slice(&[8; 32]).unwrap());
    fund(dave_wallet.address.to_string()).await;
    let dave_channel = channels
        .open(
            &dave_wallet,
            c_evm,
            U256::from(100),
            3600,
            chain.now().await.unwrap() + 86_400,
        )
        .await
        .unwrap()
        .value;
    // Each authorization is used once: its `created_at` sets it apart from the others. They are
    // fixed here from one reading of the clock, so an authorization sent again is the same event
    // whenever it is sent, and two meant to differ never fall on the same second.
    let base = seedstr_proto::clock::unix_now();
    let buy = |claim: &seedstr_channel::claim::SignedClaim, signer: &Keys, at: u64| {
        use base64::Engine as _;
        let auth = seedstr_ilp::peer_auth::sign_request(signer, &credit_url, "POST", base - at);
        reqwest::Client::new()
            .post(&credit_url)
            .header(
                "Authorization",
                format!(
                    "Nostr {}",
                    base64::engine::general_purpose::STANDARD.encode(auth)
                ),
            )
            .body(serde_json::to_vec(claim).unwrap())
            .send()
    };
    let domain = channels.domain();
    let three =
        seedstr_channel::claim::sign(&dave_wallet.key, &domain, dave_channel, U256::from(3));
    let bought = buy(&three, &dave.keys, 0).await.unwrap();
    assert_eq!(bought.status(), 200);
    let bought: Value = bought.json().await.unwrap();
    assert_eq!(
        (bought["added"].as_u64(), bought["credit"].as_u64()),
        (Some(3), Some(3))
    );
    // The same authorization again, the same claim again, a forged one and one without
    // authorization buy nothing.
    assert_eq!(buy(&three, &dave.keys, 0).await.unwrap().status(), 403);
    assert_eq!(buy(&three, &dave.keys, 1).await.unwrap().status(), 400);
    let forged = seedstr_channel::claim::sign(&deployer.key, &domain, dave_channel, U256::from(50));
    assert_eq!(buy(&forged, &dave.keys, 2).await.unwrap().status(), 400);
    let unsigned = reqwest::Client::new()
        .post(&credit_url)
        .body(serde_json::to_vec(&three).unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(unsigned.status(), 403);
    // Three notes are paid for, the fourth is not.
    for n in 1..=3 {
        let (ok, why) = writer.publish(&dave_note(n)).await.unwrap();
        assert!(ok, "{why}");
    }
    let (ok, why) = writer.publish(&dave_note(4)).await.unwrap();
    assert!(!ok && why.starts_with("restricted:"), "{why}");

    let a_follow = |who: &Person| {
        a_view["following"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["person"] == who.hex())
            .unwrap()["events"]
            .as_u64()
            .unwrap()
    };
    assert!(
        a_follow(&carol) >= 2,
        "carol's announcement and note: {a_view:#}"
    );
}
