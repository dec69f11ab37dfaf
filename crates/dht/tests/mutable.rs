//! BEP-44 mutable items on a real loopback `mainline` testnet of 20 nodes: put from one node,
//! get from another, seq rules, compare-and-swap, size limits, and republishing by a follower
//! once the publisher is gone.

use seedstr_dht::{
    transport, DhtError, DhtNode, DhtOptions, RecordError, SigningKey, Testnet, Write,
};

fn testnet() -> Testnet {
    Testnet::builder(20).build().expect("a loopback testnet")
}

fn node(bootstrap: &[String]) -> DhtNode {
    DhtNode::start(&DhtOptions {
        bootstrap: Some(bootstrap.to_vec()),
        loopback: true,
        ..Default::default()
    })
    .unwrap()
}

fn key() -> SigningKey {
    transport::derive(nostr::prelude::Keys::generate().secret_key())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_record_put_by_one_node_is_read_by_another_and_only_grows() {
    let net = testnet();
    let (writer, reader) = (node(&net.bootstrap), node(&net.bootstrap));
    let key = key();
    let public = key.verifying_key().to_bytes();

    let first = writer
        .put(&key, b"feed", b"one", Write::Next)
        .await
        .unwrap();
    assert!(first.stored_at > 0, "{first:?}");
    let got = reader.first(&public, b"feed").await.expect("an item");
    assert_eq!(got.value(), b"one");
    assert_eq!(got.seq(), first.seq);
    // Another salt is another record.
    assert!(reader.first(&public, b"other").await.is_none());

    // An update takes a higher seq and wins.
    let second = writer
        .put(&key, b"feed", b"two", Write::Next)
        .await
        .unwrap();
    assert!(second.seq > first.seq);
    let newest = reader.most_recent(&public, b"feed").await.unwrap();
    assert_eq!((newest.value(), newest.seq()), (&b"two"[..], second.seq));

    // A lower or equal seq is refused, and the record is unchanged.
    for seq in [first.seq, second.seq] {
        let err = writer
            .put(&key, b"feed", b"old", Write::Exact { seq, cas: None })
            .await
            .unwrap_err();
        assert!(
            matches!(err, DhtError::NotMostRecent { stored, .. } if stored == second.seq),
            "{err}"
        );
    }
    assert_eq!(
        reader.most_recent(&public, b"feed").await.unwrap().value(),
        b"two"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_writers_meet_compare_and_swap() {
    let net = testnet();
    let (alice, bob) = (node(&net.bootstrap), node(&net.bootstrap));
    let key = key();
    let base = alice.put(&key, b"", b"base", Write::Next).await.unwrap();
    // Both read seq `base`; Alice writes first, so Bob's condition no longer holds.
    alice
        .put(
            &key,
            b"",
            b"alice",
            Write::Exact {
                seq: base.seq + 1,
                cas: Some(base.seq),
            },
        )
        .await
        .unwrap();
    let err = bob
        .put(
            &key,
            b"",
            b"bob",
            Write::Exact {
                seq: base.seq + 2,
                cas: Some(base.seq),
            },
        )
        .await
        .unwrap_err();
    assert!(
        matches!(err, DhtError::CasFailed { expected, found: Some(found) } if expected == base.seq && found == base.seq + 1),
        "{err}"
    );
    let public = key.verifying_key().to_bytes();
    assert_eq!(
        bob.most_recent(&public, b"").await.unwrap().value(),
        b"alice"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_values_and_salts_are_refused_before_the_network() {
    let net = testnet();
    let n = node(&net.bootstrap);
    let key = key();
    let err = n
        .put(&key, b"feed", &[b'x'; 997], Write::Next)
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            DhtError::Record(RecordError::ValueTooLarge { size: 997 })
        ),
        "{err}"
    );
    assert!(err.to_string().contains("at most 996"), "{err}");
    let err = n
        .put(&key, &[b's'; 65], b"v", Write::Next)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("at most 64"), "{err}");
    // The limits themselves are accepted by the nodes.
    let ok = n
        .put(&key, &[b's'; 64], &[b'x'; 996], Write::Next)
        .await
        .unwrap();
    assert!(ok.stored_at > 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_follower_republishes_a_record_its_publisher_no_longer_serves() {
    let first_net = testnet();
    let key = key();
    let public = key.verifying_key().to_bytes();
    let item = {
        let publisher = node(&first_net.bootstrap);
        publisher
            .put(&key, b"feed", b"pointer", Write::Next)
            .await
            .unwrap();
        let follower = node(&first_net.bootstrap);
        follower.most_recent(&public, b"feed").await.unwrap()
        // The publisher is gone from here on.
    };
    // A network that never saw the publisher: the follower carries the signed item there.
    let second_net = testnet();
    let follower = node(&second_net.bootstrap);
    assert!(follower.first(&public, b"feed").await.is_none());
    let stored = follower.republish(item.clone()).await.unwrap();
    assert_eq!(stored.seq, item.seq());
    let reader = node(&second_net.bootstrap);
    let got = reader.first(&public, b"feed").await.expect("republished");
    assert_eq!(
        (got.value(), got.seq()),
        (b"pointer".as_slice(), item.seq())
    );
    assert_eq!(got.signature(), item.signature());
}
