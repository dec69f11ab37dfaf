//! Feeds and relay-less installs with the real binary: a real relay, a 20-node loopback
//! `mainline` testnet, and `seedstr seed` serving the feed index and the payloads.

mod common;

use common::spine::{tree, write, Person, Scene};
use nostr::prelude::ToBech32;
use seedstr_dht::Testnet;
use serde_json::Value;

fn ok_json(out: &std::process::Output) -> Value {
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn failure(out: &std::process::Output) -> String {
    assert!(
        !out.status.success(),
        "expected a failure: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn bootstrap_args(net: &Testnet) -> Vec<String> {
    net.bootstrap
        .iter()
        .flat_map(|n| ["--dht-bootstrap".to_owned(), n.clone()])
        .collect()
}

/// `seedstr feed resolve <author> --json` for `reader`.
fn resolve(
    reader: &Person,
    author: &str,
    relay: &str,
    dht: &[String],
    extra: &[&str],
) -> std::process::Output {
    let mut args: Vec<&str> = vec![
        "feed",
        "resolve",
        author,
        "--relay",
        relay,
        "--relay-timeout",
        "2",
        "--listen",
        "127.0.0.1:0",
        "--json",
    ];
    if !extra.contains(&"--stall-timeout") {
        args.extend(["--stall-timeout", "10"]);
    }
    args.extend(dht.iter().map(String::as_str));
    args.extend_from_slice(extra);
    reader.run(&args)
}

fn contents(feed: &Value) -> Vec<String> {
    feed["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["content"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn a_feed_is_published_and_resolved_from_another_node_also_without_relays() {
    let net = Testnet::builder(20).build().unwrap();
    let dht = bootstrap_args(&net);
    let dht_refs: Vec<&str> = dht.iter().map(String::as_str).collect();
    let Scene {
        relay_dir: _relay_dir,
        mut relay,
        author,
        player: reader,
        work,
    } = Scene::new();
    let npub = author.keys.public_key().to_bech32().unwrap();

    // Publishing a release writes the attestation, the feed and the name record.
    let src = work.path().join("src");
    write(&src, "tool.txt", b"a tool");
    let p = author.publish(&src, "tool", "1.0.0", &relay.url, &dht_refs);
    assert!(p["dht"]["feed"]["infohash"].is_string(), "{p}");
    assert!(p["dht"]["name"]["stored"]["seq"].is_i64(), "{p}");

    let posted = ok_json(
        &author.run(
            &[
                &["feed", "publish", "--post", "hello from the DHT", "--json"][..],
                &dht_refs,
            ]
            .concat(),
        ),
    );
    // Attestation, project, release and the note.
    assert_eq!(posted["events"], 4, "{posted}");
    assert!(posted["pointer"]["seq"].as_i64() > p["dht"]["feed"]["pointer"]["seq"].as_i64());
    let index = posted["infohash"].as_str().unwrap().to_owned();

    let seeder = author.seed(&dht_refs);
    seeder.wait_for("announcing the feed index", |v| v["announced"] == index);

    let feed = ok_json(&resolve(&reader, &npub, &relay.url, &dht, &[]));
    assert_eq!(feed["infohash"], index);
    assert_eq!(feed["fetched_from"], "swarm");
    assert_eq!(feed["key_source"], "relays");
    assert!(feed["refused"].as_array().unwrap().is_empty(), "{feed}");
    let kinds: Vec<u64> = feed["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_u64().unwrap())
        .collect();
    assert_eq!(kinds.len(), 4, "{feed}");
    for kind in [1, 30078, 30079, 10744] {
        assert!(kinds.contains(&kind), "kind {kind} missing: {kinds:?}");
    }
    assert_eq!(contents(&feed)[0], "hello from the DHT", "newest first");

    // Every relay goes away. The author still posts (a feed needs no relay), and the reader,
    // who met the author once, still reads it through the DHT and the swarm.
    let _ = relay.child.kill();
    let _ = relay.child.wait();
    let again = ok_json(
        &author.run(
            &[
                &["feed", "publish", "--post", "relays are down", "--json"][..],
                &dht_refs,
            ]
            .concat(),
        ),
    );
    let newer = again["infohash"].as_str().unwrap().to_owned();
    seeder.wait_for("announcing the new index", |v| v["announced"] == newer);
    let offline = ok_json(&resolve(&reader, &npub, &relay.url, &dht, &[]));
    assert_eq!(offline["key_source"], "cache");
    assert_eq!(offline["infohash"], newer);
    assert_eq!(offline["fetched_from"], "swarm");
    assert_eq!(contents(&offline)[0], "relays are down");
    assert_eq!(offline["events"].as_array().unwrap().len(), 5);

    // Someone never met cannot be resolved without a relay: a clear error, not a hang.
    let stranger = Person::new();
    let unknown = failure(&resolve(&stranger, &npub, &relay.url, &dht, &[]));
    assert!(
        unknown.contains("no attestation") && unknown.contains("was seen before"),
        "{unknown}"
    );
}

#[test]
fn an_install_succeeds_with_every_relay_stopped() {
    let net = Testnet::builder(20).build().unwrap();
    let dht = bootstrap_args(&net);
    let dht_refs: Vec<&str> = dht.iter().map(String::as_str).collect();
    let Scene {
        relay_dir: _relay_dir,
        mut relay,
        author,
        player,
        work,
    } = Scene::new();
    let npub = author.keys.public_key().to_bech32().unwrap();
    let v1 = work.path().join("v1");
    write(&v1, "bin/tool", &common::spine::bytes(300_000, 1));
    let v2 = work.path().join("v2");
    write(&v2, "bin/tool", &common::spine::bytes(300_000, 2));
    write(&v2, "README", b"version two");
    author.publish(&v1, "tool", "1.0.0", &relay.url, &dht_refs);
    let p2 = author.publish(&v2, "tool", "1.1.0", &relay.url, &dht_refs);
    // A later fix of the older line does not move the name record back.
    let v101 = work.path().join("v101");
    write(&v101, "bin/tool", &common::spine::bytes(300_000, 3));
    let p101 = author.publish(&v101, "tool", "1.0.1", &relay.url, &dht_refs);
    assert_eq!(
        p101["dht"]["name"]["kept_newer"]["version"], "1.1.0",
        "{p101}"
    );
    let seeder = author.seed(&dht_refs);
    let feed_index = p101["dht"]["feed"]["infohash"].as_str().unwrap().to_owned();
    seeder.wait_for("announcing the feed", |v| v["announced"] == feed_index);
    seeder.wait_for("announcing 1.1.0", |v| v["announced"] == p2["infohash"]);

    // The player met the author while a relay was up (its attestation is kept), then every
    // relay stops.
    ok_json(&resolve(&player, &npub, &relay.url, &dht, &[]));
    let _ = relay.child.kill();
    let _ = relay.child.wait();

    let root = work.path().join("game");
    let mut extra: Vec<&str> = dht_refs.clone();
    extra.extend(["--relay-timeout", "2", "--stall-timeout", "20"]);
    let r = player
        .install(
            &format!("{npub}/generic.tool"),
            &root,
            &relay.url,
            &[],
            &extra,
        )
        .unwrap();
    assert_eq!(r["resolved_via"], "dht", "{r}");
    assert_eq!(r["version"], "1.1.0");
    assert_eq!(r["event_id"], p2["event_id"]);
    assert!(!r["relays_failed"].as_array().unwrap().is_empty());
    assert_eq!(tree(&root), tree(&v2));
    // The supersedes chain was checked from the feed's events too.
    assert_eq!(r["chain"]["links"].as_array().unwrap().len(), 1, "{r}");
    // The feed's other events (the project, the attestation) were never candidates: nothing
    // reads as refused.
    assert_eq!(r["rejected"], serde_json::json!([]), "{r}");

    // Without the DHT the same install fails, naming the relays.
    let root2 = work.path().join("game2");
    let err = player
        .install(
            &format!("{npub}/generic.tool"),
            &root2,
            &relay.url,
            &[],
            &["--relay-timeout", "2"],
        )
        .unwrap_err();
    assert!(err.contains("no relay answered"), "{err}");
}

#[test]
fn a_follower_keeps_a_feed_alive_after_its_author_is_gone() {
    // Two networks: the author only ever joins `a`; the follower carries the records to `b`.
    let a = Testnet::builder(20).build().unwrap();
    let b = Testnet::builder(20).build().unwrap();
    let (dht_a, dht_b) = (bootstrap_args(&a), bootstrap_args(&b));
    let dht_a_refs: Vec<&str> = dht_a.iter().map(String::as_str).collect();
    let dht_b_refs: Vec<&str> = dht_b.iter().map(String::as_str).collect();
    let Scene {
        relay_dir: _relay_dir,
        relay,
        author,
        player: follower,
        work,
    } = Scene::new();
    let npub = author.keys.public_key().to_bech32().unwrap();
    let src = work.path().join("src");
    write(&src, "tool.txt", b"a tool");
    let p = author.publish(&src, "tool", "1.0.0", &relay.url, &dht_a_refs);
    let index = p["dht"]["feed"]["infohash"].as_str().unwrap().to_owned();
    let mut author_seed = author.seed(&dht_a_refs);
    author_seed.wait_for("announcing the feed", |v| v["announced"] == index);

    let mut args: Vec<&str> = vec![
        "feed",
        "follow",
        &npub,
        "--relay",
        &relay.url,
        "--listen",
        "127.0.0.1:0",
        "--json",
    ];
    args.extend(&dht_a_refs);
    let followed = ok_json(&follower.run(&args));
    assert_eq!(followed["feed"]["infohash"], index);
    assert_eq!(followed["names"], serde_json::json!(["generic.tool"]));

    // The author goes away for good; the follower's node runs on the other network.
    author_seed.kill();
    drop(a);
    let mut args = dht_b_refs.clone();
    args.extend(["--republish-secs", "3600"]);
    let follower_seed = follower.seed(&args);
    let republished = |label: &str| {
        follower_seed.wait_for(&format!("republishing {label}"), |v| {
            v["republished"]["label"] == label
                && v["republished"]["outcome"]["Ok"].as_u64() > Some(0)
        })
    };
    republished("feed:feed");
    republished("name:generic.tool");
    follower_seed.wait_for("announcing the index", |v| v["announced"] == index);

    // A reader on that network finds the author's feed, served by the follower.
    let reader = Person::new();
    let feed = ok_json(&resolve(&reader, &npub, &relay.url, &dht_b, &[]));
    assert_eq!(feed["infohash"], index);
    assert_eq!(feed["seq"], p["dht"]["feed"]["pointer"]["seq"]);
    assert_eq!(feed["fetched_from"], "swarm");
}

/// `python3 -m http.server` on loopback serving `dir`, stopped on drop.
struct WebServer(std::process::Child);

impl WebServer {
    fn start(dir: &std::path::Path) -> (WebServer, u16) {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = std::process::Command::new("python3")
            .args([
                "-m",
                "http.server",
                &port.to_string(),
                "--bind",
                "127.0.0.1",
            ])
            .current_dir(dir)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                std::time::Instant::now() < deadline,
                "http.server never listened"
            );
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        (WebServer(child), port)
    }
}

impl Drop for WebServer {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn malicious_web_seed_a_web_seed_serves_the_index_when_no_peer_does_and_wrong_bytes_are_refused() {
    let net = Testnet::builder(20).build().unwrap();
    let dht = bootstrap_args(&net);
    let dht_refs: Vec<&str> = dht.iter().map(String::as_str).collect();
    let Scene {
        relay_dir: _relay_dir,
        relay,
        author,
        player: reader,
        work,
    } = Scene::new();
    let npub = author.keys.public_key().to_bech32().unwrap();
    ok_json(&author.run(&["dht", "attest", "--relay", &relay.url, "--json"]));
    let www = work.path().join("www");
    std::fs::create_dir_all(&www).unwrap();
    let (_server, port) = WebServer::start(&www);
    let web_seed = format!("http://127.0.0.1:{port}/");
    let published = ok_json(
        &author.run(
            &[
                &[
                    "feed",
                    "publish",
                    "--post",
                    "over HTTP",
                    "--web-seed",
                    &web_seed,
                    "--json",
                ][..],
                &dht_refs,
            ]
            .concat(),
        ),
    );
    let index = std::path::Path::new(published["dir"].as_str().unwrap()).join("seedstr-feed.jsonl");
    let served = www.join("seedstr-feed.jsonl");
    std::fs::copy(&index, &served).unwrap();

    // No seeder runs: the swarm stalls and the web seed delivers.
    let feed = ok_json(&resolve(
        &reader,
        &npub,
        &relay.url,
        &dht,
        &["--stall-timeout", "3"],
    ));
    assert_eq!(
        feed["fetched_from"],
        format!("{web_seed}seedstr-feed.jsonl")
    );
    // The attestation may share the note's second, so the order between them is the ids'.
    assert!(contents(&feed).contains(&"over HTTP".to_owned()), "{feed}");

    // A web seed serving other bytes (here: the index with a line dropped) is refused.
    let text = std::fs::read_to_string(&index).unwrap();
    let first_line_only = text.lines().next().unwrap().to_owned() + "\n";
    std::fs::write(&served, first_line_only).unwrap();
    let stranger = Person::new();
    let refused = failure(&resolve(
        &stranger,
        &npub,
        &relay.url,
        &dht,
        &["--stall-timeout", "3"],
    ));
    assert!(
        refused.contains("could not be fetched") && refused.contains("wrong bytes"),
        "{refused}"
    );
}
