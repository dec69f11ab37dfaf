//! `seedstr dht` with the real binary: an attestation on a real relay, records on a 20-node
//! loopback `mainline` testnet, and resolution by npub, also once the relay is gone.

mod common;

use common::spine::{Person, Scene};
use nostr::prelude::ToBech32;
use seedstr_dht::Testnet;
use serde_json::Value;

fn json(out: &std::process::Output) -> Value {
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn stderr(out: &std::process::Output) -> String {
    assert!(!out.status.success(), "expected a failure");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn records_resolve_by_npub_through_the_attestation_even_without_relays() {
    let net = Testnet::builder(20).build().unwrap();
    let mut dht: Vec<&str> = Vec::new();
    for node in &net.bootstrap {
        dht.extend(["--dht-bootstrap", node]);
    }
    let Scene {
        relay_dir: _relay_dir,
        mut relay,
        author,
        player: reader,
        work: _work,
    } = Scene::new();
    let npub = author.keys.public_key().to_bech32().unwrap();

    // Before any attestation, the identity cannot be resolved.
    let none = reader.run(
        &[
            &["dht", "get", &npub, "--salt", "feed", "--relay", &relay.url][..],
            &dht,
        ]
        .concat(),
    );
    assert!(
        stderr(&none).contains("no transport-key attestation"),
        "{}",
        stderr(&none)
    );

    let attested = json(&author.run(&["dht", "attest", "--relay", &relay.url, "--json"]));
    let transport_key = attested["transport_key"].as_str().unwrap().to_owned();
    let put = |extra: &[&str]| {
        author.run(&[&["dht", "put", "--salt", "feed", "--json"][..], &dht, extra].concat())
    };
    let first = json(&put(&["--value", "hello"]));
    let second = json(&put(&["--value", "hello again"]));
    assert!(second["seq"].as_i64() > first["seq"].as_i64());

    let get = |who: &str| {
        reader.run(
            &[
                &[
                    "dht", "get", who, "--salt", "feed", "--relay", &relay.url, "--json",
                ][..],
                &dht,
            ]
            .concat(),
        )
    };
    let got = json(&get(&npub));
    assert_eq!(got["value"], "hello again");
    assert_eq!(got["transport_key"], transport_key);
    assert_eq!(got["resolved"]["source"], "relays");

    // A lower seq and an oversized value are refused with the rule they break.
    let lower = put(&["--value", "old", "--seq", "1"]);
    assert!(
        stderr(&lower).contains("not above the stored seq"),
        "{}",
        stderr(&lower)
    );
    let big = "x".repeat(997);
    let oversized = put(&["--value", &big]);
    assert!(
        stderr(&oversized).contains("at most 996"),
        "{}",
        stderr(&oversized)
    );

    // The relay goes away: the attestation seen before still resolves the npub.
    let _ = relay.child.kill();
    let _ = relay.child.wait();
    let offline = json(&get(&npub));
    assert_eq!(offline["value"], "hello again");
    assert_eq!(offline["resolved"]["source"], "cache");
    // And a transport key needs no relay at all.
    let direct = json(&get(&format!("transport:{transport_key}")));
    assert_eq!(direct["seq"], second["seq"]);
}

#[test]
fn seedstr_nodes_alone_make_a_private_dht() {
    let (first, writer, reader) = (Person::new(), Person::new(), Person::new());
    // The first node of a private DHT listens on an address the others are told, with nobody
    // to join: it starts alone and says where it listens.
    let seed = first.seed(&["--dht-listen", "127.0.0.1:0", "--dht-bootstrap", "none"]);
    let listening = seed.wait_for("the DHT node's address", |v| v["dht_listening"].is_string());
    let addr = listening["dht_listening"].as_str().unwrap().to_owned();
    assert!(
        addr.starts_with("127.0.0.1:") && !addr.ends_with(":0"),
        "{addr}"
    );

    // Another Seedstr node joins through it, writes a record, and a third reads it back: no
    // other DHT software anywhere.
    let boot = ["--dht-bootstrap", addr.as_str()];
    let stored = json(
        &writer.run(
            &[
                &[
                    "dht",
                    "put",
                    "--salt",
                    "notes",
                    "--value",
                    "private hello",
                    "--json",
                ][..],
                &boot,
            ]
            .concat(),
        ),
    );
    assert!(stored["stored_at"].as_u64().unwrap() >= 1, "{stored}");
    let transport_key = hex::encode(
        seedstr_dht::transport::derive(writer.keys.secret_key())
            .verifying_key()
            .to_bytes(),
    );
    let got = json(
        &reader.run(
            &[
                &[
                    "dht",
                    "get",
                    &format!("transport:{transport_key}"),
                    "--salt",
                    "notes",
                    "--json",
                ][..],
                &boot,
            ]
            .concat(),
        ),
    );
    assert_eq!(got["value"], "private hello", "{got}");
}
