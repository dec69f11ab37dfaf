//! `seedstr-bench ilp`: Interledger on loopback: a BTP server in front of a STREAM receiver
//! and a client session to it, in this process, over a real WebSocket. Measures STREAM money
//! packets a second (each a Prepare out, sealed, forwarded over BTP, fulfilled by the receiver,
//! its answer checked), one packet's round trip, and data throughput (16 KiB a packet).

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
    Ok(json!({
        "packets": b.packets,
        "packets_per_sec": packets_per_sec,
        "round_trip": summary.to_json(),
        "data_bytes": b.bytes,
        "data_mib_per_sec": mib_per_sec,
    }))
}
