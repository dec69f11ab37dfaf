//! Targets for what crosses a relay's WebSocket: client messages and filters (the relay reads
//! them), relay answers (clients read them), and events.

use nostr::prelude::Event;
use seedstr_client::relays::answer::RelayAnswer;
use seedstr_proto::event::{address, expiration, is_protected, kind_class};
use seedstr_proto::filter::Filter;
use seedstr_proto::message::{parse_client_message, ClientMessage};

use crate::events::sample_event;

/// A client → relay message, as the relay reads it; the filters it carries are then matched
/// against an event and written back out, as the relay's live matcher and REQ logging do.
pub fn client_message(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(message) = parse_client_message(text) else {
        return;
    };
    let event = sample_event();
    match message {
        ClientMessage::Req { filters, .. } | ClientMessage::Count { filters, .. } => {
            for f in &filters {
                exercise_filter(f, event);
            }
        }
        ClientMessage::NegOpen { filter, .. } => exercise_filter(&filter, event),
        ClientMessage::Event(raw) | ClientMessage::Auth(raw) => {
            let _ = seedstr_proto::parse_event(raw);
        }
        ClientMessage::Close(_) | ClientMessage::NegMsg { .. } | ClientMessage::NegClose(_) => {}
    }
}

/// A relay → client message, as clients read it.
pub fn relay_answer(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(RelayAnswer::Event { event, .. }) = RelayAnswer::parse(text) {
        let _ = event.verify();
        exercise_event(&event);
    }
}

/// One filter object, as REQ, COUNT and NEG-OPEN carry it.
pub fn filter(data: &[u8]) {
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(data) else {
        return;
    };
    if let Ok(f) = Filter::parse(&value) {
        exercise_filter(&f, sample_event());
        // What a filter writes must read back as the same filter.
        let again = Filter::parse(&f.to_json()).expect("a filter's own JSON reads back");
        assert_eq!(again.to_json(), f.to_json());
    }
}

/// An event's JSON, checked (id and signature) as the relay and every reader check it.
pub fn event(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(e) = seedstr_proto::parse_event(text) {
        exercise_event(&e);
    }
}

fn exercise_filter(f: &Filter, event: &Event) {
    let _ = f.matches(event);
    let _ = f.is_void();
    let _ = f.effective_limit(500);
}

fn exercise_event(e: &Event) {
    let _ = address(e);
    let _ = expiration(e);
    let _ = is_protected(e);
    let _ = kind_class(e);
}

/// An ILPv4 packet (Prepare, Fulfill, Reject) as a peer sends it: what reads writes back the
/// same bytes (the encoding is canonical).
pub fn ilp_packet(data: &[u8]) {
    if let Ok(p) = seedstr_ilp::packet::Packet::read(data) {
        assert_eq!(p.to_bytes(), data, "an ILP packet writes back as it read");
    }
}

/// A STREAM packet as a peer sends it: opened with a fixed key (nearly always refused by its
/// tag), and the bytes read as a decrypted packet; what reads writes back to the same packet.
/// The bytes also as an ILDCP answer, a BTP packet, CCP route messages, Nostr messages
/// framed in a stream and an SPSP answer.
pub fn stream_packet(data: &[u8]) {
    if let Ok(d) = seedstr_ilp::spsp::SpspDetails::parse(data) {
        let again = seedstr_ilp::spsp::SpspDetails::parse(d.to_json().as_bytes());
        assert_eq!(again.as_ref(), Ok(&d));
    }
    let mut framed = seedstr_ilp::nostr_frames::MessageReader::default();
    if let Ok(messages) = framed.push(data) {
        let again: Vec<u8> = messages
            .iter()
            .flat_map(|m| seedstr_ilp::nostr_frames::encode_message(m))
            .collect();
        assert_eq!(again[..], data[..again.len()]);
    }
    if let Ok(u) = seedstr_ilp::ccp::RouteUpdate::read(data) {
        assert_eq!(
            seedstr_ilp::ccp::RouteUpdate::read(&u.to_bytes()).as_ref(),
            Ok(&u)
        );
    }
    if let Ok(c) = seedstr_ilp::ccp::RouteControl::read(data) {
        assert_eq!(
            seedstr_ilp::ccp::RouteControl::read(&c.to_bytes()).as_ref(),
            Ok(&c)
        );
    }
    if let Ok(p) = seedstr_ilp::btp::BtpPacket::read(data) {
        assert_eq!(
            seedstr_ilp::btp::BtpPacket::read(&p.to_bytes()).as_ref(),
            Ok(&p)
        );
    }
    use seedstr_ilp::stream::crypto::decrypt;
    use seedstr_ilp::stream::packet::StreamPacket;
    let _ = decrypt(&[7; 32], data);
    // The bytes as a connection's decrypted packet, through a receiver's whole handling.
    {
        use seedstr_ilp::stream::crypto::{
            condition, encrypt, encryption_key, fulfillment, fulfillment_key,
        };
        use seedstr_ilp::stream::receiver::{ReceiverLimits, StreamReceiver};
        let mut receiver = StreamReceiver::new(
            seedstr_ilp::address::Address::new("test.fuzz").expect("an address"),
            [3; 32],
            "SAT",
            0,
            ReceiverLimits::default(),
        );
        let (destination, secret) = receiver.new_connection();
        let sealed = encrypt(&encryption_key(&secret), data);
        let prepare = seedstr_ilp::packet::Prepare {
            amount: 100,
            expires_at: 0,
            execution_condition: condition(&fulfillment(&fulfillment_key(&secret), &sealed)),
            destination,
            data: sealed,
        };
        let _ = receiver.handle(&prepare);
        // And through the priced Nostr application.
        struct Silent;
        impl seedstr_ilp::paid_messages::MessageHandler for Silent {
            fn message(&mut self, _connection: &str, _json: &str) -> Vec<String> {
                Vec::new()
            }
        }
        let mut app = seedstr_ilp::paid_messages::PaidMessages::new(
            seedstr_ilp::paid_messages::MessagePrices {
                per_event: 1,
                per_subscription: 1,
            },
            Silent,
        );
        let _ = receiver.handle_with(&prepare, &mut app);
    }
    if let Ok(p) = StreamPacket::read(data) {
        assert_eq!(StreamPacket::read(&p.to_bytes()).as_ref(), Ok(&p));
    }
    let f = seedstr_ilp::packet::Fulfill {
        fulfillment: [0; 32],
        data: data.to_vec(),
    };
    if let Ok(r) = seedstr_ilp::ildcp::IldcpResponse::from_fulfill(&f) {
        assert_eq!(
            seedstr_ilp::ildcp::IldcpResponse::from_fulfill(&r.to_fulfill()),
            Ok(r)
        );
    }
}

/// Payment channel messages from outside: a claim as a peer sends it (JSON), taken against a
/// channel; a chain node's receipt logs and error answer; a revert's reason.
pub fn channel_claim(data: &[u8]) {
    use seedstr_channel::claim::{domain, IncomingChannel, SignedClaim};
    let _ = seedstr_channel::contract::revert_reason(data);
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(claim) = serde_json::from_str::<SignedClaim>(text) {
        let again: SignedClaim =
            serde_json::from_str(&serde_json::to_string(&claim).unwrap()).unwrap();
        assert_eq!(again, claim);
        let mut channel = IncomingChannel {
            id: claim.channel,
            sender: alloy_primitives::Address::repeat_byte(1),
            deposit: alloy_primitives::U256::MAX,
            best: None,
        };
        let d = domain(31337, alloy_primitives::Address::repeat_byte(2));
        let _ = channel.take(&d, &claim);
    }
    if let Ok(v) = serde_json::from_str::<serde_json::Value>(text) {
        let _ = seedstr_channel::rpc::receipt_logs(&v);
        let _ = seedstr_channel::rpc::refusal(&v);
    }
}
