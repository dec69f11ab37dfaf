//! STREAM against its public vectors (tests/vectors/README.md): every packet of RFC 29's
//! `StreamPacketFixtures.json` reads to the fields its JSON gives and, unless the vector is
//! decode-only, writes back byte for byte; the key derivation, fulfillment, condition and a
//! known ciphertext of `ilp-protocol-stream`'s crypto tests.

use base64::Engine as _;
use seedstr_ilp::address::Address;
use seedstr_ilp::stream::crypto::{
    condition, decrypt, encryption_key, fulfillment, fulfillment_key,
};
use seedstr_ilp::stream::packet::{Frame, StreamPacket};
use serde_json::Value;

fn load(name: &str) -> Value {
    let path = format!("{}/tests/vectors/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn b64(v: &Value) -> Vec<u8> {
    base64::engine::general_purpose::STANDARD
        .decode(v.as_str().unwrap())
        .unwrap()
}

fn num(v: &Value) -> u64 {
    v.as_str()
        .map(|s| s.parse().unwrap())
        .or(v.as_u64())
        .unwrap()
}

fn frame(f: &Value) -> Frame {
    let text = |k: &str| f[k].as_str().unwrap().to_owned();
    let id = || num(&f["streamId"]);
    match f["type"].as_u64().unwrap() {
        1 => Frame::ConnectionClose {
            code: num(&f["errorCode"]) as u8,
            message: text("errorMessage"),
        },
        2 => Frame::ConnectionNewAddress {
            source_account: Address::new(&text("sourceAccount")).unwrap(),
        },
        3 => Frame::ConnectionMaxData {
            max_offset: num(&f["maxOffset"]),
        },
        4 => Frame::ConnectionDataBlocked {
            max_offset: num(&f["maxOffset"]),
        },
        5 => Frame::ConnectionMaxStreamId {
            max_stream_id: num(&f["maxStreamId"]),
        },
        6 => Frame::ConnectionStreamIdBlocked {
            max_stream_id: num(&f["maxStreamId"]),
        },
        7 => Frame::ConnectionAssetDetails {
            source_asset_code: text("sourceAssetCode"),
            source_asset_scale: num(&f["sourceAssetScale"]) as u8,
        },
        16 => Frame::StreamClose {
            stream_id: id(),
            code: num(&f["errorCode"]) as u8,
            message: text("errorMessage"),
        },
        17 => Frame::StreamMoney {
            stream_id: id(),
            shares: num(&f["shares"]),
        },
        18 => Frame::StreamMaxMoney {
            stream_id: id(),
            receive_max: num(&f["receiveMax"]),
            total_received: num(&f["totalReceived"]),
        },
        19 => Frame::StreamMoneyBlocked {
            stream_id: id(),
            send_max: num(&f["sendMax"]),
            total_sent: num(&f["totalSent"]),
        },
        20 => Frame::StreamData {
            stream_id: id(),
            offset: num(&f["offset"]),
            data: b64(&f["data"]),
        },
        21 => Frame::StreamMaxData {
            stream_id: id(),
            max_offset: num(&f["maxOffset"]),
        },
        22 => Frame::StreamDataBlocked {
            stream_id: id(),
            max_offset: num(&f["maxOffset"]),
        },
        23 => Frame::StreamReceipt {
            stream_id: id(),
            receipt: b64(&f["receipt"]),
        },
        other => panic!("frame type {other} in the fixtures"),
    }
}

#[test]
fn every_packet_of_rfc_29_s_fixtures() {
    let fixtures = load("StreamPacketFixtures.json");
    let fixtures = fixtures.as_array().unwrap();
    assert_eq!(fixtures.len(), 53);
    for v in fixtures {
        let name = v["name"].as_str().unwrap();
        let p = &v["packet"];
        let want = StreamPacket {
            ilp_packet_type: p["packetType"].as_u64().unwrap() as u8,
            sequence: num(&p["sequence"]),
            prepare_amount: num(&p["amount"]),
            frames: p["frames"].as_array().unwrap().iter().map(frame).collect(),
        };
        let bytes = b64(&v["buffer"]);
        assert_eq!(StreamPacket::read(&bytes).unwrap(), want, "{name}: read");
        if v["decode_only"] != true {
            assert_eq!(want.to_bytes(), bytes, "{name}: written");
        }
    }
}

#[test]
fn stream_crypto_of_ilp_protocol_stream() {
    let v = load("stream-crypto.json");
    let foo = v["psk_encryption_key"]["secret_utf8"]
        .as_str()
        .unwrap()
        .as_bytes();
    assert_eq!(
        encryption_key(foo).to_vec(),
        b64(&v["psk_encryption_key"]["key"])
    );
    assert_eq!(
        fulfillment_key(foo).to_vec(),
        b64(&v["fulfillment_key"]["key"])
    );
    let zeros = [0u8; 32];
    let f = fulfillment(
        &zeros,
        v["fulfillment"]["data_utf8"].as_str().unwrap().as_bytes(),
    );
    assert_eq!(f.to_vec(), b64(&v["fulfillment"]["fulfillment"]));
    assert_eq!(
        condition(&zeros).to_vec(),
        b64(&v["condition"]["condition"])
    );
    let key: [u8; 32] = b64(&v["decrypt_known"]["key"]).try_into().unwrap();
    let opened = decrypt(&key, &b64(&v["decrypt_known"]["ciphertext"])).unwrap();
    assert_eq!(
        opened,
        v["decrypt_known"]["cleartext_utf8"]
            .as_str()
            .unwrap()
            .as_bytes()
    );
}
