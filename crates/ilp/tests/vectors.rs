//! The ILPv4 packets of interledgerjs' `ilp-packet` tests (tests/vectors/README.md): each reads
//! to the fields its JSON gives and writes back byte for byte.

use base64::Engine as _;
use seedstr_ilp::packet::Packet;
use seedstr_ilp::timestamp::read_timestamp;
use serde_json::Value;

fn vector(name: &str) -> (Vec<u8>, Value) {
    let path = format!("{}/tests/vectors/{name}", env!("CARGO_MANIFEST_DIR"));
    let v: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    (
        hex::decode(v["binary"].as_str().unwrap()).unwrap(),
        v["json"].clone(),
    )
}

fn b64(v: &Value) -> Vec<u8> {
    base64::engine::general_purpose::STANDARD
        .decode(v.as_str().unwrap())
        .unwrap()
}

#[test]
fn prepare_example_01() {
    let (bytes, json) = vector("ilp_prepare.example01.json");
    let Packet::Prepare(p) = Packet::read(&bytes).unwrap() else {
        panic!("not a prepare")
    };
    assert_eq!(p.amount.to_string(), json["amount"]);
    assert_eq!(
        p.execution_condition.to_vec(),
        b64(&json["executionCondition"])
    );
    assert_eq!(p.destination.as_str(), json["destination"]);
    assert_eq!(p.data, b64(&json["data"]));
    // 2017-12-23T01:21:40.549Z
    assert_eq!(p.expires_at, read_timestamp(b"20171223012140549").unwrap());
    assert_eq!(Packet::Prepare(p).to_bytes(), bytes);
}

#[test]
fn fulfill_example_01() {
    let (bytes, json) = vector("ilp_fulfill.example01.json");
    let Packet::Fulfill(f) = Packet::read(&bytes).unwrap() else {
        panic!("not a fulfill")
    };
    assert_eq!(f.fulfillment.to_vec(), b64(&json["fulfillment"]));
    assert_eq!(f.data, b64(&json["data"]));
    assert_eq!(Packet::Fulfill(f).to_bytes(), bytes);
}

#[test]
fn reject_example_01() {
    let (bytes, json) = vector("ilp_reject.example01.json");
    let Packet::Reject(j) = Packet::read(&bytes).unwrap() else {
        panic!("not a reject")
    };
    assert_eq!(j.code.as_str(), json["code"]);
    assert_eq!(
        j.triggered_by.as_ref().unwrap().as_str(),
        json["triggeredBy"]
    );
    assert_eq!(j.message, json["message"]);
    assert_eq!(j.data, b64(&json["data"]));
    assert_eq!(Packet::Reject(j).to_bytes(), bytes);
}

#[test]
fn a_truncated_or_padded_packet_is_refused() {
    let (bytes, _) = vector("ilp_prepare.example01.json");
    assert!(Packet::read(&bytes[..bytes.len() - 1]).is_err());
    let mut longer = bytes.clone();
    longer.push(0);
    assert!(Packet::read(&longer).is_err());
}
