//! `seedstr-bench ilp`: Interledger on loopback: a BTP server in front of a STREAM receiver
//! and a client session to it, in this process, over a real WebSocket. Measures STREAM money
//! packets a second (each a Prepare out, sealed, forwarded over BTP, fulfilled by the receiver,
//! its answer checked), one packet's round trip, and data throughput (16 KiB a packet). Then
//! payment channel claims: the time to check one (signer recovered, channel, amount and
//! deposit checked), as a recipient does for every claim. Then paid events end to end: a real
//! node's Interledger side (connector, receiver, priced Nostr sessions over its relay on an LMDB
//! store) and a client paying for each EVENT over BTP, timed until the node's OK comes back at
//! the client's address.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{bail, Result};
use clap::Args;
use seedstr_ilp::address::Address;
use seedstr_ilp::btp_session::{connect_btp, serve_btp, PacketHandler};
use seedstr_ilp::packet::{Fulfill, Prepare, Reject};
use seedstr_ilp::stream::receiver::{Delivered, ReceiverLimits, StreamReceiver};
use seedstr_ilp::stream::sender::StreamSender;
use serde_json::{json, Value};

use super::stats::Latencies;

#[derive(Args)]
pub struct IlpBench {
    /// Money packets timed.
    #[arg(long, default_value_t = 5000)]
    packets: usize,
    /// Bytes of stream data sent.
    #[arg(long, default_value_t = 16 * 1024 * 1024)]
    bytes: usize,
    /// Payment channel claims checked.
    #[arg(long, default_value_t = 2000)]
    claims: usize,
    /// Paid events sent through a node.
    #[arg(long, default_value_t = 500)]
    events: usize,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
}

struct Receiving {
    receiver: Mutex<StreamReceiver>,
    money: Mutex<u64>,
    bytes: Mutex<u64>,
}

impl PacketHandler for Receiving {
    async fn handle(&self, _account: &str, prepare: Prepare) -> Result<Fulfill, Reject> {
        let h = self.receiver.lock().unwrap().handle(&prepare);
        for d in h.delivered {
            match d {
                Delivered::Money { amount, .. } => *self.money.lock().unwrap() += amount,
                Delivered::Data { bytes, .. } => *self.bytes.lock().unwrap() += bytes.len() as u64,
                _ => {}
            }
        }
        h.reply
    }
}

pub async fn run(b: &IlpBench) -> Result<Value> {
    if b.packets == 0 {
        bail!("--packets must be at least 1");
    }
    let say = |line: String| {
        if b.json {
            eprintln!("{line}");
        } else {
            println!("{line}");
        }
    };
    let receiving = Arc::new(Receiving {
        receiver: Mutex::new(StreamReceiver::new(
            Address::new("test.bench.receiver")?,
            rand::random(),
            "SAT",
            0,
            ReceiverLimits {
                stream_data_window: u64::MAX / 2,
                ..ReceiverLimits::default()
            },
        )),
        money: Mutex::new(0),
        bytes: Mutex::new(0),
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("ws://{}", listener.local_addr()?);
    let (sessions, mut rx) = tokio::sync::mpsc::channel(8);
    tokio::spawn(async move { while rx.recv().await.is_some() {} });
    let auth = Arc::new(|_: &str, t: &str| (t == "bench").then(|| "sender".to_owned()));
    tokio::spawn(serve_btp(
        listener,
        auth,
        receiving.clone(),
        sessions,
        Duration::from_secs(30),
    ));
    let peer = connect_btp(
        &url,
        "",
        "bench",
        "server",
        receiving.clone(),
        Duration::from_secs(30),
    )
    .await?;
    let (destination, secret) = receiving.receiver.lock().unwrap().new_connection();
    let mut sender = StreamSender::new(destination, &secret);
    let stream = sender.open_stream();
    let now = seedstr_proto::clock::unix_now() * 1000;
    // Warm up.
    for _ in 0..50 {
        sender.send_money(&peer, stream, 1, 1, now).await?;
    }
    let mut took = Latencies::default();
    let started = Instant::now();
    for _ in 0..b.packets {
        let t = Instant::now();
        let sent = sender.send_money(&peer, stream, 1, 1, now).await?;
        if !sent.fulfilled {
            bail!("a money packet was not fulfilled");
        }
        took.push(t.elapsed());
    }
    let money_secs = started.elapsed().as_secs_f64();
    let packets_per_sec = b.packets as f64 / money_secs;
    let summary = took.summary();
    if *receiving.money.lock().unwrap() != b.packets as u64 + 50 {
        bail!("the receiver counted other money than was sent");
    }
    let data: Vec<u8> = (0..b.bytes).map(|i| (i % 251) as u8).collect();
    let data_stream = sender.open_stream();
    let started = Instant::now();
    sender.send_data(&peer, data_stream, &data, now).await?;
    let data_secs = started.elapsed().as_secs_f64();
    if *receiving.bytes.lock().unwrap() != b.bytes as u64 {
        bail!("the receiver reassembled other bytes than were sent");
    }
    let mib_per_sec = b.bytes as f64 / (1024.0 * 1024.0) / data_secs;
    say(format!(
        "STREAM money over BTP   {packets_per_sec:.0} packets/s (one at a time), round trip {summary}"
    ));
    say(format!(
        "STREAM data over BTP    {mib_per_sec:.1} MiB/s ({} bytes, 16 KiB a packet)",
        b.bytes
    ));
    let mut claims = claim_checks(b.claims)?;
    let claims = claims.summary();
    say(format!(
        "channel claim checked   {claims} ({} claims)",
        b.claims
    ));
    let (mut paid, cost) = paid_events(b.events).await?;
    let paid = paid.summary();
    say(format!(
        "paid event, end to end  {paid} ({} events, {cost} unit(s) each, OK back at the client)",
        b.events
    ));
    Ok(json!({
        "packets": b.packets,
        "packets_per_sec": packets_per_sec,
        "round_trip": summary.to_json(),
        "data_bytes": b.bytes,
        "data_mib_per_sec": mib_per_sec,
        "claims": b.claims,
        "claim_check": claims.to_json(),
        "events": b.events,
        "paid_event": paid.to_json(),
        "units_per_event": cost,
    }))
}

/// Times checking `n` increasing claims on one channel.
fn claim_checks(n: usize) -> Result<Latencies> {
    use alloy_primitives::{Address, B256, U256};
    use seedstr_channel::claim::{address_of, domain, sign, IncomingChannel};
    let key = k256::ecdsa::SigningKey::from_slice(&rand::random::<[u8; 32]>())?;
    let domain = domain(31337, Address::repeat_byte(0xcc));
    let id = B256::repeat_byte(7);
    let signed: Vec<_> = (1..=n as u64)
        .map(|i| sign(&key, &domain, id, U256::from(i)))
        .collect();
    let mut channel = IncomingChannel {
        id,
        sender: address_of(&key),
        deposit: U256::from(n),
        best: None,
    };
    let mut took = Latencies::default();
    for c in &signed {
        let t = Instant::now();
        let added = channel.take(&domain, c)?;
        took.push(t.elapsed());
        if added != U256::from(1) {
            bail!("a claim added {added}, not 1");
        }
    }
    Ok(took)
}

/// A client's end for what a node sends back: its receiver, the messages cut out.
struct ClientEnd {
    receiver: Mutex<StreamReceiver>,
    reader: Mutex<seedstr_ilp::nostr_frames::MessageReader>,
    heard: tokio::sync::mpsc::UnboundedSender<String>,
}

impl PacketHandler for ClientEnd {
    async fn handle(&self, _account: &str, prepare: Prepare) -> Result<Fulfill, Reject> {
        let h = self.receiver.lock().unwrap().handle(&prepare);
        for d in h.delivered {
            if let Delivered::Data { bytes, .. } = d {
                for m in self.reader.lock().unwrap().push(&bytes).unwrap_or_default() {
                    let _ = self.heard.send(m);
                }
            }
        }
        h.reply
    }
}

/// Sends `n` events through a node's Interledger side, each paying its price in the packet
/// that carries it, timed until its OK comes back: the latencies and the units each cost.
async fn paid_events(n: usize) -> Result<(Latencies, u64)> {
    use seedstr_ilp::nostr_frames::encode_message;
    use seedstr_ilp::stream::packet::Frame;
    let dir = tempfile::tempdir()?;
    let store = seedstr_store::lmdb::LmdbStore::open(dir.path())?;
    let relay = seedstr_relay::Relay::new(seedstr_relay::RelayConfig::default(), store);
    let mut config = seedstr_node::ilp::IlpConfig {
        peering: true,
        btp_listen: "127.0.0.1:0".parse()?,
        ..Default::default()
    };
    config.peers.push(seedstr_node::ilp::IlpPeerConfig {
        name: "client".into(),
        token: "bench".into(),
        btp_url: String::new(),
        child: true,
        credit_limit: u64::MAX / 4,
        settle_threshold: u64::MAX / 4,
        max_packet_amount: 1_000_000,
    });
    let price = config.price_per_event;
    let node =
        seedstr_node::ilp::IlpNode::start(&config, dir.path(), relay, "ws://127.0.0.1/").await?;
    let (heard_tx, mut heard) = tokio::sync::mpsc::unbounded_channel();
    let end = Arc::new(ClientEnd {
        receiver: Mutex::new(StreamReceiver::new(
            Address::new(&format!("{}.client", config.address))?,
            rand::random(),
            "SAT",
            0,
            ReceiverLimits::default(),
        )),
        reader: Mutex::default(),
        heard: heard_tx,
    });
    let link = connect_btp(
        &format!("ws://{}", node.btp),
        "client",
        "bench",
        "node",
        end.clone(),
        Duration::from_secs(30),
    )
    .await?;
    let (destination, secret) = node.new_connection();
    let back = end
        .receiver
        .lock()
        .unwrap()
        .accept_replies(secret)
        .ok_or_else(|| anyhow::anyhow!("no room for the answers"))?;
    let mut sender = StreamSender::new(destination, &secret);
    let stream = sender.open_stream();
    let keys = nostr::prelude::Keys::generate();
    let now = seedstr_proto::clock::unix_now() * 1000;
    let mut offset = 0u64;
    let mut took = Latencies::default();
    for i in 0..n {
        use nostr::prelude::FinalizeEvent as _;
        let event = nostr::prelude::EventBuilder::new(
            nostr::prelude::Kind::TextNote,
            format!("paid event {i}"),
        )
        .finalize(&keys)?;
        let message = json!(["EVENT", event]).to_string();
        let data = encode_message(&message);
        let mut frames = Vec::new();
        if i == 0 {
            frames.push(Frame::ConnectionNewAddress {
                source_account: back.clone(),
            });
        }
        frames.push(Frame::StreamMoney {
            stream_id: stream,
            shares: 1,
        });
        frames.push(Frame::StreamData {
            stream_id: stream,
            offset,
            data: data.clone(),
        });
        let t = Instant::now();
        let sent = sender.send(&link, price, price, frames, true, now).await?;
        if !sent.fulfilled {
            bail!("a paid event was refused");
        }
        offset += data.len() as u64;
        // Its OK, pushed back by the node.
        loop {
            let m = tokio::time::timeout(Duration::from_secs(30), heard.recv())
                .await?
                .ok_or_else(|| anyhow::anyhow!("the client's end closed"))?;
            if m.starts_with("[\"OK\"") {
                if !m.contains("true") {
                    bail!("the node refused a paid event: {m}");
                }
                break;
            }
        }
        took.push(t.elapsed());
    }
    Ok((took, price))
}
