//! The relay cache against our relay on a real socket: answers are kept, a new event drops
//! exactly the answers it could change, a deletion drops its author's, and a lost
//! subscription empties the cache until it is caught up again.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use nostr::prelude::{EventBuilder, FinalizeEvent as _, Keys, Kind, Tag};
use seedstr_client::relays::cache::RelayCache;
use seedstr_client::relays::conn::RelayConn;
use serde_json::{json, Value};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;

const TIMEOUT: Duration = Duration::from_secs(10);

/// Our relay on loopback, reached through a forwarder whose connections the test can cut.
struct Relay {
    url: String,
    cut: tokio::sync::mpsc::UnboundedSender<()>,
    _dir: tempfile::TempDir,
}

async fn relay() -> Relay {
    let dir = tempfile::tempdir().unwrap();
    let store = seedstr_store::lmdb::LmdbStore::open(dir.path()).unwrap();
    let relay =
        seedstr_relay::Relay::serve_on_loopback(seedstr_relay::RelayConfig::default(), store)
            .unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (cut, mut cuts) = tokio::sync::mpsc::unbounded_channel::<()>();
    tokio::spawn(async move {
        let mut connections = JoinSet::new();
        loop {
            tokio::select! {
                accepted = listener.accept() => {
                    let (inbound, _) = accepted.unwrap();
                    connections.spawn(forward(inbound, relay));
                }
                Some(()) = cuts.recv() => connections.abort_all(),
            }
        }
    });
    Relay {
        url: format!("ws://{addr}/"),
        cut,
        _dir: dir,
    }
}

async fn forward(mut inbound: TcpStream, to: SocketAddr) {
    let mut outbound = TcpStream::connect(to).await.unwrap();
    let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
}

async fn publish(url: &str, event: &nostr::prelude::Event) {
    let mut conn = RelayConn::connect(url).await.unwrap();
    let (ok, why) = conn.publish(event).await.unwrap();
    assert!(ok, "{why}");
}

fn note(keys: &Keys, text: &str) -> nostr::prelude::Event {
    EventBuilder::new(Kind::TextNote, text)
        .finalize(keys)
        .unwrap()
}

fn by(keys: &Keys) -> Value {
    json!({"kinds": [1], "authors": [keys.public_key().to_hex()]})
}

/// Polls `check` until it holds; fails naming `what` after a deadline.
async fn until<F: std::future::Future<Output = bool>>(what: &str, mut check: impl FnMut() -> F) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !check().await {
        assert!(Instant::now() < deadline, "never: {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answers_are_kept_until_the_relay_says_something_they_depend_on_changed() {
    let relay = relay().await;
    let (alice, bob) = (Keys::generate(), Keys::generate());
    publish(&relay.url, &note(&alice, "first")).await;
    let cache = RelayCache::start(vec![relay.url.clone()], TIMEOUT, &[1]);
    until("the subscription is caught up", || async {
        cache.stats().live
    })
    .await;

    let first = cache.query(&by(&alice)).await;
    assert!(!first.from_cache);
    assert_eq!(first.gathered.events.len(), 1);
    let again = cache.query(&by(&alice)).await;
    assert!(
        again.from_cache,
        "the same question is answered from memory"
    );
    assert_eq!(again.gathered.events.len(), 1);
    // A kind the subscription does not follow is never kept.
    let profiles = json!({"kinds": [0], "authors": [alice.public_key().to_hex()]});
    cache.query(&profiles).await;
    assert!(!cache.query(&profiles).await.from_cache);
    // Nor is an answer some relay did not give.
    let partial = RelayCache::start(
        vec![relay.url.clone(), "ws://127.0.0.1:9/".into()],
        Duration::from_secs(2),
        &[1],
    );
    partial.query(&by(&alice)).await;
    assert!(!partial.query(&by(&alice)).await.from_cache);

    // Bob's note drops answers about bob (and any author), not alice's.
    cache.query(&by(&bob)).await;
    let anyone = json!({"kinds": [1]});
    cache.query(&anyone).await;
    assert_eq!(cache.stats().kept, 3);
    publish(&relay.url, &note(&bob, "hello")).await;
    until("bob's answer shows his note", || async {
        cache.query(&by(&bob)).await.gathered.events.len() == 1
    })
    .await;
    let everyone = cache.query(&anyone).await;
    assert!(!everyone.from_cache);
    assert_eq!(everyone.gathered.events.len(), 2);
    assert!(
        cache.query(&by(&alice)).await.from_cache,
        "alice's answer is untouched"
    );

    // A note of alice's tagged for nobody in particular still drops her answer.
    let second = EventBuilder::new(Kind::TextNote, "second")
        .tags([Tag::parse(["t", "news"]).unwrap()])
        .finalize(&alice)
        .unwrap();
    publish(&relay.url, &second).await;
    until("alice's answer shows her second note", || async {
        cache.query(&by(&alice)).await.gathered.events.len() == 2
    })
    .await;

    // Her deletion (another kind) drops her answers too.
    let deletion = EventBuilder::new(Kind::EventDeletion, "")
        .tags([Tag::event(second.id)])
        .finalize(&alice)
        .unwrap();
    publish(&relay.url, &deletion).await;
    until("alice's answer loses the deleted note", || async {
        cache.query(&by(&alice)).await.gathered.events.len() == 1
    })
    .await;
    assert!(cache.query(&by(&alice)).await.from_cache);

    // The subscription is cut: nothing is kept until it is caught up again.
    relay.cut.send(()).unwrap();
    until("the cut is noticed", || async { !cache.stats().live }).await;
    assert_eq!(cache.stats().kept, 0);
    until("the subscription is caught up again", || async {
        cache.stats().live
    })
    .await;
    assert!(!cache.query(&by(&alice)).await.from_cache);
    assert!(cache.query(&by(&alice)).await.from_cache);
    let stats = cache.stats();
    assert!(stats.hits >= 5 && stats.misses >= 6, "{stats:?}");
}
