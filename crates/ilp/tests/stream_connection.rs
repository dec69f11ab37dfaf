//! A STREAM sender and receiver talking through an in-process link: money split into packets
//! and counted once fulfilled; data reassembled in order when packets come out of order; a
//! quote and a packet bringing less than it asks change nothing; a wrong secret, a stream the
//! client may not open, data past the window and a full connection table refused by name.

use std::sync::Mutex;

use seedstr_ilp::address::Address;
use seedstr_ilp::link::IlpLink;
use seedstr_ilp::packet::{ErrorCode, Fulfill, Prepare, Reject};
use seedstr_ilp::stream::packet::Frame;
use seedstr_ilp::stream::receiver::{close_code, Delivered, ReceiverLimits, StreamReceiver};
use seedstr_ilp::stream::sender::{SendError, StreamSender};

const NOW: u64 = 1_800_000_000_000;

/// The receiver in the same process; everything it delivered is kept.
struct Direct {
    receiver: Mutex<StreamReceiver>,
    delivered: Mutex<Vec<Delivered>>,
}

impl IlpLink for Direct {
    async fn send(&self, prepare: Prepare) -> Result<Fulfill, Reject> {
        let handled = self.receiver.lock().unwrap().handle(&prepare);
        self.delivered.lock().unwrap().extend(handled.delivered);
        handled.reply
    }
}

fn direct(limits: ReceiverLimits) -> Direct {
    Direct {
        receiver: Mutex::new(StreamReceiver::new(
            Address::new("test.bob").unwrap(),
            [9; 32],
            "SAT",
            0,
            limits,
        )),
        delivered: Mutex::new(Vec::new()),
    }
}

fn sender(link: &Direct) -> StreamSender {
    let (destination, secret) = link.receiver.lock().unwrap().new_connection();
    StreamSender::new(destination, &secret)
}

fn money(delivered: &[Delivered]) -> u64 {
    delivered
        .iter()
        .map(|d| match d {
            Delivered::Money { amount, .. } => *amount,
            _ => 0,
        })
        .sum()
}

#[tokio::test]
async fn money_is_counted_once_fulfilled_and_quotes_change_nothing() {
    let link = direct(ReceiverLimits::default());
    let mut s = sender(&link);
    let stream = s.open_stream();
    assert_eq!(stream, 1);
    let first = s.send_money(&link, stream, 100, 100, NOW).await.unwrap();
    assert!(first.fulfilled);
    assert_eq!(first.arrived, 100);
    assert!(first.frames.iter().any(|f| matches!(f,
        Frame::ConnectionAssetDetails { source_asset_code, source_asset_scale: 0 } if source_asset_code == "SAT")));
    let second = s.send_money(&link, stream, 250, 250, NOW).await.unwrap();
    assert!(second.frames.iter().any(|f| matches!(
        f,
        Frame::StreamMaxMoney {
            stream_id: 1,
            total_received: 350,
            ..
        }
    )));
    assert_eq!(money(&link.delivered.lock().unwrap()), 350);

    // A quote (unfulfillable), and a packet asking more than arrives: answered, not taken.
    let frames = vec![Frame::StreamMoney {
        stream_id: 1,
        shares: 1,
    }];
    let quote = s
        .send(&link, 1000, 0, frames.clone(), false, NOW)
        .await
        .unwrap();
    assert!(!quote.fulfilled);
    assert_eq!(quote.arrived, 1000);
    let short = s.send(&link, 10, 11, frames, true, NOW).await.unwrap();
    assert!(!short.fulfilled);
    assert_eq!(money(&link.delivered.lock().unwrap()), 350);

    // Money in one Prepare shared by shares between two streams, the rest to the lowest.
    let other = s.open_stream();
    let split = vec![
        Frame::StreamMoney {
            stream_id: stream,
            shares: 1,
        },
        Frame::StreamMoney {
            stream_id: other,
            shares: 2,
        },
    ];
    assert!(
        s.send(&link, 100, 100, split, true, NOW)
            .await
            .unwrap()
            .fulfilled
    );
    let delivered = link.delivered.lock().unwrap();
    let last: Vec<(u64, u64)> = delivered
        .iter()
        .rev()
        .take(2)
        .filter_map(|d| match d {
            Delivered::Money {
                stream_id, amount, ..
            } => Some((*stream_id, *amount)),
            _ => None,
        })
        .collect();
    assert_eq!(last, vec![(3, 66), (1, 34)]);
}

#[tokio::test]
async fn data_is_delivered_in_order_whatever_order_packets_come_in() {
    let link = direct(ReceiverLimits::default());
    let mut s = sender(&link);
    let stream = s.open_stream();
    // The second half first: held back until the first arrives.
    for (offset, part) in [(5u64, &b" world"[..]), (0, &b"hello"[..])] {
        let frames = vec![Frame::StreamData {
            stream_id: stream,
            offset,
            data: part.to_vec(),
        }];
        assert!(
            s.send(&link, 0, 0, frames, true, NOW)
                .await
                .unwrap()
                .fulfilled
        );
    }
    let text: Vec<u8> = link
        .delivered
        .lock()
        .unwrap()
        .iter()
        .flat_map(|d| match d {
            Delivered::Data { bytes, .. } => bytes.clone(),
            _ => Vec::new(),
        })
        .collect();
    assert_eq!(text, b"hello world");
    // A large payload in several packets.
    let big: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
    let other = s.open_stream();
    s.send_data(&link, other, &big, NOW).await.unwrap();
    let got: Vec<u8> = link
        .delivered
        .lock()
        .unwrap()
        .iter()
        .flat_map(|d| match d {
            Delivered::Data {
                stream_id, bytes, ..
            } if *stream_id == other => bytes.clone(),
            _ => Vec::new(),
        })
        .collect();
    assert_eq!(got, big);
}

#[tokio::test]
async fn wrong_secrets_bad_streams_floods_and_a_full_table_are_refused() {
    let link = direct(ReceiverLimits {
        max_connections: 1,
        stream_data_window: 1000,
        ..ReceiverLimits::default()
    });
    // Another secret for a real destination: the receiver cannot decrypt (F06).
    let (destination, _) = link.receiver.lock().unwrap().new_connection();
    let mut stranger = StreamSender::new(destination, &[1; 32]);
    match stranger.send_money(&link, 1, 10, 0, NOW).await {
        Err(SendError::Rejected(r)) => assert_eq!(r.code, ErrorCode::F06_UNEXPECTED_PAYMENT),
        other => panic!("{other:?}"),
    }
    // A stream only the server may open (even id): the connection is closed.
    let mut s = sender(&link);
    let even = vec![Frame::StreamMoney {
        stream_id: 2,
        shares: 1,
    }];
    match s.send(&link, 5, 0, even, true, NOW).await {
        Err(SendError::Closed { code, .. }) => assert_eq!(code, close_code::PROTOCOL_VIOLATION),
        other => panic!("{other:?}"),
    }
    // Data past the window.
    let mut s = sender(&link);
    let flood = vec![Frame::StreamData {
        stream_id: 1,
        offset: 0,
        data: vec![0; 1001],
    }];
    match s.send(&link, 0, 0, flood, true, NOW).await {
        Err(SendError::Closed { code, .. }) => assert_eq!(code, close_code::FLOW_CONTROL),
        other => panic!("{other:?}"),
    }
    // One connection at most: a second is refused until the first closes.
    let mut first = sender(&link);
    first.send_money(&link, 1, 1, 1, NOW).await.unwrap();
    let mut second = sender(&link);
    match second.send_money(&link, 1, 1, 1, NOW).await {
        Err(SendError::Rejected(r)) => assert_eq!(r.code, ErrorCode::T03_CONNECTOR_BUSY),
        other => panic!("{other:?}"),
    }
    let bye = vec![Frame::ConnectionClose {
        code: close_code::NO_ERROR,
        message: String::new(),
    }];
    assert!(
        first
            .send(&link, 0, 0, bye, true, NOW)
            .await
            .unwrap()
            .fulfilled
    );
    assert!(
        second
            .send_money(&link, 1, 1, 1, NOW)
            .await
            .unwrap()
            .fulfilled
    );
}

#[tokio::test]
async fn nostr_messages_cross_in_stream_data_whole_whatever_packets_carry_them() {
    use seedstr_ilp::nostr_frames::{encode_message, MessageReader};
    let link = direct(ReceiverLimits::default());
    let mut s = sender(&link);
    let stream = s.open_stream();
    // A 20 kB event spans two packets (16 KiB each at most).
    let event = format!("[\"EVENT\",{{\"content\":\"{}\"}}]", "x".repeat(20_000));
    let req = r#"["REQ","sub",{"kinds":[1]}]"#;
    let mut bytes = encode_message(&event);
    bytes.extend(encode_message(req));
    s.send_data(&link, stream, &bytes, NOW).await.unwrap();
    let mut reader = MessageReader::default();
    let mut got = Vec::new();
    for d in link.delivered.lock().unwrap().iter() {
        if let Delivered::Data { bytes, .. } = d {
            got.extend(reader.push(bytes).unwrap());
        }
    }
    assert_eq!(got, vec![event, req.to_owned()]);
}

/// A node's store and subscriptions, as far as this test needs: events kept, `OK` for each,
/// `EOSE` for each subscription.
#[derive(Default)]
struct Kept(Vec<String>);

impl seedstr_ilp::paid_messages::MessageHandler for Kept {
    fn message(&mut self, _connection: &str, json: &str) -> Vec<String> {
        let v: serde_json::Value = serde_json::from_str(json).unwrap();
        match v[0].as_str() {
            Some("EVENT") => {
                self.0.push(json.to_owned());
                vec![serde_json::json!(["OK", v[1]["id"], true, ""]).to_string()]
            }
            Some("REQ") => vec![serde_json::json!(["EOSE", v[1]]).to_string()],
            _ => Vec::new(),
        }
    }
}

/// The replies carried in an answer's data frames.
fn replies(frames: &[Frame], reader: &mut seedstr_ilp::nostr_frames::MessageReader) -> Vec<String> {
    frames
        .iter()
        .flat_map(|f| match f {
            Frame::StreamData { data, .. } => reader.push(data).unwrap(),
            _ => Vec::new(),
        })
        .collect()
}

#[tokio::test]
async fn events_and_subscriptions_are_paid_for_or_refused_with_the_price() {
    use seedstr_ilp::nostr_frames::{encode_message, MessageReader};
    use seedstr_ilp::paid_messages::{MessagePrices, PaidMessages};

    /// The receiver with the priced application in front of it.
    struct Paid {
        receiver: Mutex<StreamReceiver>,
        app: Mutex<PaidMessages<Kept>>,
    }
    impl IlpLink for Paid {
        async fn send(&self, prepare: Prepare) -> Result<Fulfill, Reject> {
            let mut app = self.app.lock().unwrap();
            self.receiver
                .lock()
                .unwrap()
                .handle_with(&prepare, &mut *app)
                .reply
        }
    }
    let link = Paid {
        receiver: Mutex::new(StreamReceiver::new(
            Address::new("test.node").unwrap(),
            [6; 32],
            "SAT",
            0,
            ReceiverLimits::default(),
        )),
        app: Mutex::new(PaidMessages::new(
            MessagePrices {
                per_event: 10,
                per_subscription: 50,
            },
            Kept::default(),
        )),
    };
    let (destination, secret) = link.receiver.lock().unwrap().new_connection();
    let token = destination.as_str().rsplit('.').next().unwrap().to_owned();
    let mut s = StreamSender::new(destination, &secret);
    let stream = s.open_stream();
    let mut answers = MessageReader::default();
    let event = r#"["EVENT",{"id":"e1","kind":1,"content":"paid for"}]"#;
    let frames = |offset: u64, msg: &str| {
        vec![
            Frame::StreamMoney {
                stream_id: stream,
                shares: 1,
            },
            Frame::StreamData {
                stream_id: stream,
                offset,
                data: encode_message(msg),
            },
        ]
    };
    // Five where ten are due: refused, the price said, nothing kept.
    let short = s
        .send(&link, 5, 5, frames(0, event), true, NOW)
        .await
        .unwrap();
    assert!(!short.fulfilled);
    let said = replies(&short.frames, &mut answers);
    assert!(
        said[0].contains("restricted: 1 event(s) at 10") && said[0].contains("5 came"),
        "{said:?}"
    );
    assert!(link.app.lock().unwrap().handler().0.is_empty());
    // Ten: taken, stored, answered OK in the Fulfill.
    let paid = s
        .send(&link, 10, 10, frames(0, event), true, NOW)
        .await
        .unwrap();
    assert!(paid.fulfilled);
    assert_eq!(
        replies(&paid.frames, &mut answers),
        vec![r#"["OK","e1",true,""]"#]
    );
    assert_eq!(link.app.lock().unwrap().handler().0, vec![event.to_owned()]);
    // A subscription costs 50.
    let req = r#"["REQ","feed",{"kinds":[1]}]"#;
    let offset = encode_message(event).len() as u64;
    let req_paid = s
        .send(&link, 50, 50, frames(offset, req), true, NOW)
        .await
        .unwrap();
    assert!(req_paid.fulfilled);
    assert_eq!(
        replies(&req_paid.frames, &mut answers),
        vec![r#"["EOSE","feed"]"#]
    );
    // Money beyond the price is credit: 25 for a 10 event leaves 15, which pays the next one
    // sent with nothing; a third then finds 5 and is refused, saying so.
    let mut offset = offset + encode_message(req).len() as u64;
    let mut next_event = |id: &str| {
        let msg = format!(r#"["EVENT",{{"id":"{id}","kind":1,"content":""}}]"#);
        let f = frames(offset, &msg);
        offset += encode_message(&msg).len() as u64;
        f
    };
    let f = next_event("e2");
    assert!(s.send(&link, 25, 25, f, true, NOW).await.unwrap().fulfilled);
    assert_eq!(link.app.lock().unwrap().credit(&token), 15);
    let f = next_event("e3");
    assert!(s.send(&link, 0, 0, f, true, NOW).await.unwrap().fulfilled);
    assert_eq!(link.app.lock().unwrap().credit(&token), 5);
    let f = next_event("e4");
    let refused = s.send(&link, 0, 0, f.clone(), true, NOW).await.unwrap();
    assert!(!refused.fulfilled);
    assert!(
        replies(&refused.frames, &mut answers)[0].contains("0 came, 5 in credit"),
        "refused with the credit named"
    );
    // An event the node did not store gives its price back: now it pays.
    link.app.lock().unwrap().refund(&token, 10);
    assert!(s.send(&link, 0, 0, f, true, NOW).await.unwrap().fulfilled);
    assert_eq!(link.app.lock().unwrap().credit(&token), 5);
    assert_eq!(link.app.lock().unwrap().handler().0.len(), 4);
    link.app.lock().unwrap().forget(&token);
    assert_eq!(link.app.lock().unwrap().credit(&token), 0);
}

#[tokio::test]
async fn early_data_held_for_a_stream_is_bounded_by_its_window() {
    let link = direct(ReceiverLimits {
        stream_data_window: 1000,
        ..ReceiverLimits::default()
    });
    let mut s = sender(&link);
    // Two overlapping pieces ahead of a gap, each inside the window, together more than it.
    let early = |offset| {
        vec![Frame::StreamData {
            stream_id: 1,
            offset,
            data: vec![7; 600],
        }]
    };
    assert!(
        s.send(&link, 0, 0, early(10), true, NOW)
            .await
            .unwrap()
            .fulfilled
    );
    match s.send(&link, 0, 0, early(11), true, NOW).await {
        Err(SendError::Closed { code, .. }) => assert_eq!(code, close_code::FLOW_CONTROL),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn packets_back_on_a_connection_this_side_opened_are_taken_at_the_address_it_gave() {
    let link = direct(ReceiverLimits {
        max_connections: 1,
        ..ReceiverLimits::default()
    });
    // The secret of a connection opened elsewhere; its far end sends back to this address.
    let secret = [3; 32];
    let address = link
        .receiver
        .lock()
        .unwrap()
        .accept_replies(secret)
        .unwrap();
    assert!(address.as_str().starts_with("test.bob."));
    // As many such addresses as connections may be open.
    assert!(link
        .receiver
        .lock()
        .unwrap()
        .accept_replies([4; 32])
        .is_none());
    let mut back = StreamSender::new(address.clone(), &secret);
    let stream = back.open_stream();
    back.send_data(&link, stream, b"an answer", NOW)
        .await
        .unwrap();
    assert!(link
        .delivered
        .lock()
        .unwrap()
        .iter()
        .any(|d| matches!(d, Delivered::Data { bytes, .. } if bytes.as_slice() == b"an answer")));
    // Forgotten: the secret no longer opens packets there.
    let token = address.as_str().rsplit('.').next().unwrap().to_owned();
    link.receiver.lock().unwrap().forget_replies(&token);
    match back.send_data(&link, stream, b"more", NOW).await {
        Err(SendError::Rejected(r)) => assert_eq!(r.code, ErrorCode::F06_UNEXPECTED_PAYMENT),
        other => panic!("{other:?}"),
    }
}
