//! `seedstr node`: one process, one HTTP port for the relay, the health report and the registry
//! views, beside the seeder. Configured from its own `--print-config` output, it relays a
//! release and seeds it, lets the unmodified npm install a package through it, stops cleanly on
//! SIGTERM and comes back with what it had acknowledged.

mod common;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use common::node::{node_config, NodeProcess};
use common::spine::{write, Person};
use nostr::prelude::{FinalizeEvent as _, ToBech32};
use serde_json::Value;

fn http_get(addr: &str, path: &str, accept: &str) -> (u16, String) {
    common::http(addr, "GET", path, &[("Accept", accept)], "")
}

fn http_post(addr: &str, path: &str, body: &str) -> (u16, String) {
    common::http(
        addr,
        "POST",
        path,
        &[("Content-Type", "application/json")],
        body,
    )
}

/// An API answer: status and JSON body.
fn api_get(node: &NodeProcess, path: &str) -> (u16, Value) {
    let (status, body) = http_get(&node.http, path, "application/json");
    let value = serde_json::from_str(&body).unwrap_or_else(|_| panic!("{path}: {body}"));
    (status, value)
}

fn health(node: &NodeProcess) -> Value {
    let (status, body) = http_get(&node.http, "/health", "application/json");
    assert_eq!(status, 200, "{body}");
    serde_json::from_str(&body).unwrap()
}

/// The value of `name` in a Prometheus text exposition.
fn metric(text: &str, name: &str) -> u64 {
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("{name} ")))
        .unwrap_or_else(|| panic!("{name} missing from {text}"))
        .parse()
        .unwrap()
}

fn ok(p: &Person, args: &[&str]) -> Value {
    let out = p.run(args);
    assert!(
        out.status.success(),
        "seedstr {}: {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap_or(Value::Null)
}

/// `pkg publish` of the npm package in `dir`, to `relay` only.
fn publish_npm(p: &Person, dir: &Path, relay: &str) -> Value {
    let dir = dir.to_str().unwrap();
    ok(
        p,
        &[
            "pkg", "publish", dir, "--ns", "npm", "--relay", relay, "--no-dht", "--json",
        ],
    )
}

#[test]
fn the_node_prints_and_reports_the_torrent_address_it_is_bound_to() {
    let owner = Person::new();
    let config = node_config(
        &owner,
        &[
            ("enabled = true", "enabled = false"),
            (
                "[torrent]\nlisten = \"127.0.0.1:0\"",
                "[torrent]\nlisten = \"0.0.0.0:0\"",
            ),
        ],
    );
    let node = NodeProcess::start(owner.home.path(), &config);
    assert!(node.torrent.starts_with("0.0.0.0:"), "{}", node.torrent);
    assert_ne!(
        node.torrent, "0.0.0.0:0",
        "the port bound, not the one asked for"
    );
    let health = health(&node);
    assert_eq!(
        health["seeding"]["listen"],
        node.torrent.as_str(),
        "{health}"
    );
    assert!(node.terminate());
}

#[test]
fn one_node_relays_seeds_serves_npm_and_stops_cleanly() {
    let (alice, player) = (Person::new(), Person::new());
    let alice_npub = alice.keys.public_key().to_bech32().unwrap();

    // The printed defaults, edited as an operator would: loopback ports, no public DHT, and
    // alice's publisher registry trusted by the views.
    let config_file = node_config(&alice, &[("enabled = true", "enabled = false")]);
    let node = NodeProcess::start(alice.home.path(), &config_file);

    let h = health(&node);
    assert_eq!(h["status"], "ok");
    assert_eq!(h["dht"]["state"], "off");
    let (status, body) = http_get(&node.http, "/", "application/nostr+json");
    assert_eq!(status, 200);
    assert_eq!(
        serde_json::from_str::<Value>(&body).unwrap()["name"],
        "seedstr"
    );

    // Alice publishes through the node's relay; the node, whose data folder is hers, starts
    // seeding the payload on its next look at the registry.
    let work = tempfile::tempdir().unwrap();
    let payload = work.path().join("tool");
    write(&payload, "bin/tool.sh", b"echo tool\n");
    let published = alice.publish(&payload, "tool", "1.0.0", &node.relay(), &[]);
    let deadline = Instant::now() + Duration::from_secs(20);
    while health(&node)["seeding"]["torrents"] != 1 {
        assert!(
            Instant::now() < deadline,
            "the node never seeded the release"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    // The metrics count the event stored and the torrent served, in Prometheus's format.
    let metrics = || {
        let (status, text) = http_get(&node.http, "/metrics", "text/plain");
        assert_eq!(status, 200);
        text
    };
    let text = metrics();
    assert!(text.contains("# TYPE seedstr_relay_events_saved_total counter"));
    assert!(
        metric(&text, "seedstr_relay_events_saved_total") >= 2,
        "{text}"
    );
    assert_eq!(metric(&text, "seedstr_torrents_seeding"), 1);
    assert_eq!(metric(&text, "seedstr_dht_joined"), 0);
    let target = format!("{alice_npub}/generic.tool");
    let root = work.path().join("game");
    let installed = player
        .install(
            &target,
            &root,
            &node.relay(),
            std::slice::from_ref(&node.torrent),
            &[],
        )
        .unwrap();
    assert_eq!(installed["event_id"], published["event_id"]);
    assert!(root.join("bin/tool.sh").is_file());
    // The bytes the player fetched show up as uploaded once the seeder looks again.
    let deadline = Instant::now() + Duration::from_secs(10);
    while metric(&metrics(), "seedstr_torrent_uploaded_bytes") == 0 {
        assert!(
            Instant::now() < deadline,
            "no upload counted: {}",
            metrics()
        );
        std::thread::sleep(Duration::from_millis(200));
    }

    // An npm package through the node's view: published by alice, mapped in her registry,
    // served from the copy she published.
    let pad = work.path().join("pad");
    write(
        &pad,
        "package.json",
        br#"{"name":"pad","version":"1.0.0","main":"index.js"}"#,
    );
    write(
        &pad,
        "index.js",
        b"module.exports = (s) => s.padStart(5, '*');\n",
    );
    let relay = node.relay();
    publish_npm(&alice, &pad, &relay);
    ok(
        &alice,
        &[
            "pkg",
            "registry",
            "add",
            "pad",
            &alice_npub,
            "--relay",
            &relay,
            "--no-dht",
            "--json",
        ],
    );
    let project = work.path().join("app");
    write(
        &project,
        "package.json",
        br#"{"name":"app","version":"1.0.0","private":true,"dependencies":{"pad":"^1.0.0"}}"#,
    );
    let registry = format!("--registry=http://{}/npm/", node.http);
    let npm = common::npm(
        &project,
        &work.path().join("npm-cache"),
        &["install", &registry],
    );
    assert!(
        npm.status.success(),
        "npm install: {}",
        String::from_utf8_lossy(&npm.stderr)
    );
    let ran = Command::new("node")
        .args(["-e", "console.log(require('pad')('x'))"])
        .current_dir(&project)
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&ran.stdout).trim(), "****x");

    // The API answers from the node's store: status, search, a project and a release with
    // what was checked, an incident shown on the release it blocks, and errors that say why.
    let api = |path: &str| api_get(&node, path);
    let (status, st) = api("/api/v1/status");
    assert_eq!(status, 200, "{st}");
    assert!(
        st["seeding"]["registered"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["release"] == "generic.tool@1.0.0"),
        "{st}"
    );
    let (_, found) = api("/api/v1/search?q=TOOL");
    assert_eq!(found["results"][0]["coordinate"], "generic.tool", "{found}");
    assert_eq!(found["results"][0]["author"], alice_npub.as_str());
    let (_, found) = api("/api/v1/search?type=package&q=pad&ns=npm");
    assert_eq!(found["results"][0]["package"], "pad", "{found}");
    assert_eq!(found["results"][0]["version"], "1.0.0");
    let (_, none) = api("/api/v1/search?q=nothing+like+this");
    assert_eq!(none["results"].as_array().unwrap().len(), 0);
    let (status, bad) = api("/api/v1/search?type=planet");
    assert_eq!(status, 400);
    assert!(bad["error"].as_str().unwrap().contains("planet"), "{bad}");

    let (status, project) = api(&format!("/api/v1/projects/{alice_npub}/generic.tool"));
    assert_eq!(status, 200, "{project}");
    assert_eq!(project["versions"][0]["version"], "1.0.0");
    // `mod info` over the node's relay shows the same page, built by the same code.
    let info = ok(
        &player,
        &[
            "mod",
            "info",
            &format!("{alice_npub}/generic.tool"),
            "--relay",
            &node.relay(),
            "--json",
        ],
    );
    assert_eq!(info, project);
    let (status, release) = api(&format!("/api/v1/releases/{alice_npub}/generic.tool"));
    assert_eq!(status, 200, "{release}");
    assert_eq!(release["version"], "1.0.0");
    assert_eq!(release["event_id"], published["event_id"]);
    assert_eq!(release["files"][0]["path"], "bin/tool.sh");
    assert_eq!(release["seeded_here"], true);
    assert_eq!(release["verification"]["signature"], "valid");
    assert!(release["verification"]["blocked_by"].is_null());
    let (status, missing) = api(&format!("/api/v1/releases/{alice_npub}/generic.tool@9.9.9"));
    assert_eq!(status, 404);
    assert!(
        missing["error"].as_str().unwrap().contains("1.0.0"),
        "{missing}"
    );
    ok(
        &alice,
        &[
            "pkg",
            "incident",
            "pad",
            "--versions",
            "=1.0.0",
            "--summary",
            "pads with the wrong character",
            "--id",
            "fill",
            "--relay",
            &relay,
            "--no-dht",
            "--json",
        ],
    );
    let (_, pad_release) = api(&format!("/api/v1/releases/{alice_npub}/npm.pad@1.0.0"));
    assert_eq!(pad_release["package"]["name"], "pad", "{pad_release}");
    assert_eq!(pad_release["verification"]["blocked_by"], "fill");
    assert_eq!(
        pad_release["verification"]["incidents"][0]["summary"],
        "pads with the wrong character"
    );

    // Downloads: a file checked against the signed release, streamed; a withdrawn version and
    // a file the release does not hold are refused, saying why.
    let release_q = format!("{alice_npub}/generic.tool@1.0.0");
    let (status, body) = http_get(
        &node.http,
        &format!("/api/v1/download?release={release_q}&path=bin/tool.sh"),
        "*/*",
    );
    assert_eq!((status, body.as_str()), (200, "echo tool\n"));
    let (status, body) = http_get(
        &node.http,
        &format!("/api/v1/download?release={release_q}&path=bin/other.sh"),
        "*/*",
    );
    assert_eq!(status, 404, "{body}");
    assert!(
        body.contains("no file") && body.contains("bin/other.sh"),
        "{body}"
    );
    let (status, body) = http_get(
        &node.http,
        &format!("/api/v1/download?release={alice_npub}/npm.pad@1.0.0&path=pad-1.0.0.tgz"),
        "*/*",
    );
    assert_eq!(status, 403, "{body}");
    assert!(body.contains("incident fill"), "{body}");

    // An event published over HTTP goes through the relay's own checks.
    let note = common::event(&alice.keys, 1, &[], "over HTTP");
    let json = serde_json::to_string(&note).unwrap();
    let (status, body) = http_post(&node.http, "/api/v1/events", &json);
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("\"accepted\":true"), "{body}");
    let forged = json.replace("over HTTP", "forged");
    let (status, body) = http_post(&node.http, "/api/v1/events", &forged);
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("invalid:"), "{body}");

    // The seeder takes up the pad package on its next look at the registry.
    let deadline = Instant::now() + Duration::from_secs(20);
    while health(&node)["seeding"]["torrents"] != 2 {
        assert!(
            Instant::now() < deadline,
            "the node never seeded the package"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    // Commands find the running node and ask its API.
    let st = ok(&alice, &["status", "--json"]);
    assert_eq!(st["node"], format!("http://{}", node.http), "{st}");
    // The tool and the pad package alice published.
    assert_eq!(st["seeding"]["torrents"], 2);
    let found = ok(&alice, &["search", "tool", "--json"]);
    assert_eq!(found["results"][0]["coordinate"], "generic.tool", "{found}");
    let seed = alice.run(&["seed"]);
    assert!(seed.status.success());
    assert!(String::from_utf8_lossy(&seed.stdout).contains("already seeds everything"));

    // SIGTERM stops it cleanly; started again on the same data, it still holds the release it
    // acknowledged and seeds it again.
    assert!(node.terminate(), "the node did not exit cleanly");
    // With no node, status says what the data folder holds, and search asks the relays.
    let st = ok(&alice, &["status", "--json"]);
    assert!(st["node"].is_null(), "{st}");
    assert!(
        st["seeding"]["registered"].as_array().unwrap().len() >= 2,
        "{st}"
    );
    let out = alice.run(&[
        "search",
        "tool",
        "--relay",
        "ws://127.0.0.1:9/",
        "--relay-timeout",
        "1",
    ]);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("no node is running and no relay answered")
    );
    let node = NodeProcess::start(alice.home.path(), &config_file);
    let again = work.path().join("game2");
    let installed = player
        .install(
            &target,
            &again,
            &node.relay(),
            std::slice::from_ref(&node.torrent),
            &[],
        )
        .unwrap();
    assert_eq!(installed["event_id"], published["event_id"]);
    assert!(again.join("bin/tool.sh").is_file());
}

/// A tar archive of `files` (path, bytes).
fn tar_of(files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut out = tar::Builder::new(Vec::new());
    for (path, bytes) in files {
        let mut header = tar::Header::new_gnu();
        header.set_size(bytes.len() as u64);
        header.set_mode(0o644);
        header.set_entry_type(tar::EntryType::Regular);
        out.append_data(&mut header, path, *bytes).unwrap();
    }
    out.into_inner().unwrap()
}

#[test]
fn the_node_shows_packages_authors_feeds_seeders_and_takes_payloads() {
    let net = seedstr_dht::Testnet::builder(12).build().unwrap();
    let dht = common::dht_bootstrap(&net);
    let (alice, bob, player) = (Person::new(), Person::new(), Person::new());
    let alice_npub = alice.keys.public_key().to_bech32().unwrap();
    let bob_npub = bob.keys.public_key().to_bech32().unwrap();
    let bootstrap: Vec<String> = net.bootstrap.iter().map(|b| format!("\"{b}\"")).collect();
    let bootstrap = format!("bootstrap = [{}]", bootstrap.join(", "));
    let config_file = node_config(
        &alice,
        &[
            ("bootstrap = []", &bootstrap),
            ("max_upload_mib = 4096", "max_upload_mib = 1"),
        ],
    );
    let node = NodeProcess::start(alice.home.path(), &config_file);
    let relay = node.relay();
    let api = |path: &str| api_get(&node, path);
    let page = |path: &str| http_get(&node.http, path, "text/html");

    // Packages: alice's pad, and her greet that depends on it, both mapped in her registry;
    // bob's rogue, which no trusted registry maps.
    let work = tempfile::tempdir().unwrap();
    let package = |p: &Person, name: &str, json: &str| {
        let dir = work.path().join(name);
        write(&dir, "package.json", json.as_bytes());
        write(&dir, "index.js", b"module.exports = 1;\n");
        publish_npm(p, &dir, &relay);
    };
    package(&alice, "pad", r#"{"name":"pad","version":"1.0.0"}"#);
    package(
        &alice,
        "greet",
        r#"{"name":"greet","version":"2.0.0","dependencies":{"pad":"^1.0.0"}}"#,
    );
    package(
        &bob,
        "rogue",
        r#"{"name":"rogue","version":"0.1.0","dependencies":{"pad":"*"}}"#,
    );
    for name in ["pad", "greet"] {
        ok(
            &alice,
            &[
                "pkg",
                "registry",
                "add",
                name,
                &alice_npub,
                "--relay",
                &relay,
                "--no-dht",
                "--json",
            ],
        );
    }
    let (status, pad) = api("/api/v1/packages/npm/pad");
    assert_eq!(status, 200, "{pad}");
    assert_eq!(pad["checked"], true, "{pad}");
    assert_eq!(pad["latest"], "1.0.0");
    assert_eq!(pad["publishers"][0]["key"], alice_npub.as_str());
    assert_eq!(pad["publishers"][0]["mapped_by"][0], alice_npub.as_str());
    // greet depends on pad and is accepted; rogue names pad too but is refused, so it is not
    // listed as a dependent.
    let dependents = pad["dependents"].as_array().unwrap();
    assert_eq!(dependents.len(), 1, "{pad}");
    assert_eq!(dependents[0]["name"], "greet");
    assert_eq!(dependents[0]["range"], "^1.0.0");
    let (_, greet) = api("/api/v1/packages/npm/greet");
    assert_eq!(greet["dependencies"][0]["name"], "pad", "{greet}");
    let (status, rogue) = api("/api/v1/packages/npm/rogue");
    assert_eq!(status, 200, "{rogue}");
    assert!(rogue["versions"].as_array().unwrap().is_empty(), "{rogue}");
    assert!(
        rogue["refused"][0]["why"]
            .as_str()
            .unwrap()
            .contains("no trusted registry names a publisher"),
        "{rogue}"
    );
    let (status, missing) = api("/api/v1/packages/npm/left-pad");
    assert_eq!(status, 404, "{missing}");
    assert!(missing["error"].as_str().unwrap().contains("left-pad"));
    let (status, bad) = api("/api/v1/packages/pypi/pad");
    assert_eq!(status, 400, "{bad}");
    let (status, html) = page("/pkg/npm/pad");
    assert_eq!(status, 200);
    assert!(html.contains("href=\"/pkg/npm/greet\""), "{html}");

    // Bob publishes a tool with its feed on the DHT and seeds it: the node reads his feed,
    // and asks the swarm who holds his release.
    let tool = work.path().join("tool");
    write(&tool, "tool.txt", b"bob's tool");
    let published = bob.publish(&tool, "bobtool", "1.0.0", &relay, &dht);
    let infohash = published["infohash"].as_str().unwrap().to_owned();
    let index = published["dht"]["feed"]["infohash"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut seeder = bob.seed(&dht);
    seeder.wait_for("announcing the payload", |v| v["announced"] == infohash);
    seeder.wait_for("announcing the feed index", |v| v["announced"] == index);
    let deadline = Instant::now() + Duration::from_secs(20);
    while health(&node)["dht"]["state"] != "joined" {
        assert!(Instant::now() < deadline, "the node never joined the DHT");
        std::thread::sleep(Duration::from_millis(200));
    }

    let (status, feed) = api(&format!("/api/v1/feeds/{bob_npub}"));
    assert_eq!(status, 200, "{feed}");
    assert_eq!(feed["infohash"], index.as_str());
    assert_eq!(feed["fetched_from"], "swarm");
    let what: Vec<&str> = feed["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["what"].as_str().unwrap())
        .collect();
    assert!(what.contains(&"release generic.bobtool 1.0.0"), "{what:?}");
    let (status, html) = page(&format!("/f/{bob_npub}"));
    assert_eq!(status, 200);
    assert!(html.contains("release generic.bobtool 1.0.0"), "{html}");
    let (status, nofeed) = api(&format!(
        "/api/v1/feeds/{}",
        player.keys.public_key().to_bech32().unwrap()
    ));
    assert_eq!(status, 404, "{nofeed}");
    assert!(
        nofeed["error"].as_str().unwrap().contains("attestation"),
        "{nofeed}"
    );

    // What this node remembers of bob's seeder (as if it once sent a bad piece) shows beside it.
    let reputation = serde_json::json!({"peers": {seeder.addr.as_str(): {
        "delivered_bytes": 4096, "good_pieces": 1, "bad_pieces": 1, "transfers": 2,
        "first_piece_ms": 7, "last_seen": 1_800_000_000u64, "banned_until": 4_000_000_000u64,
        "offences": 1}}});
    std::fs::create_dir_all(alice.home.path().join("peers")).unwrap();
    std::fs::write(
        alice.home.path().join("peers/reputation.json"),
        reputation.to_string(),
    )
    .unwrap();
    let target = format!("{bob_npub}/generic.bobtool@1.0.0");
    let (_, release) = api(&format!("/api/v1/releases/{target}"));
    assert_eq!(release["seeders"]["state"], "checking", "{release}");
    let (status, seeders) = api(&format!("/api/v1/seeders?release={target}"));
    assert_eq!(status, 200, "{seeders}");
    let known = seeders["health"]["peers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["addr"] == seeder.addr.as_str())
        .unwrap_or_else(|| panic!("{seeders}"));
    assert_eq!(known["reputation"]["bad_pieces"], 1, "{seeders}");
    assert_eq!(seeders["dht_asked"], true, "{seeders}");
    assert!(seeders["seeders"].as_u64().unwrap() >= 1, "{seeders}");
    let (_, release) = api(&format!("/api/v1/releases/{target}"));
    assert_eq!(
        release["seeders"]["seeders"], seeders["seeders"],
        "{release}"
    );
    let (_, html) = page(&format!("/r/{target}"));
    assert!(html.contains("seeder"), "{html}");
    assert!(
        html.contains("seen here: 4.1 kB in 2 transfers, 1 good, 1 bad pieces"),
        "{html}"
    );
    assert!(html.contains("left out after bad pieces"), "{html}");
    seeder.kill();

    // The author page lists what the node holds of bob's.
    let (status, author) = api(&format!("/api/v1/authors/{bob_npub}"));
    assert_eq!(status, 200, "{author}");
    // bob's tool and the project of his rogue package, signed in the same second or not.
    let coordinates: Vec<&str> = author["projects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["coordinate"].as_str().unwrap())
        .collect();
    assert!(coordinates.contains(&"generic.bobtool"), "{author}");
    assert_eq!(author["packages"][0]["package"], "rogue", "{author}");
    let (status, html) = page(&format!("/u/{bob_npub}"));
    assert_eq!(status, 200);
    assert!(html.contains(&format!("/f/{bob_npub}")), "{html}");

    // A payload handed to the node over HTTP: seeded by the node, signed by its author, and
    // installed from the node alone.
    let archive = tar_of(&[("docs/readme.txt", b"uploaded"), ("run.sh", b"echo up\n")]);
    let (status, body) = common::http_bytes(
        &node.http,
        "POST",
        "/api/v1/payloads?coordinate=generic.uploaded&version=1.0.0",
        &[("Content-Type", "application/x-tar")],
        &archive,
    );
    assert_eq!(status, 200, "{body}");
    let held: Value = serde_json::from_str(&body).unwrap();
    let files: Vec<seedstr_proto::release::ReleaseFile> = held["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| seedstr_proto::release::ReleaseFile {
            path: f["path"].as_str().unwrap().into(),
            size: f["size"].as_u64().unwrap(),
            sha256: hex::decode(f["sha256"].as_str().unwrap())
                .unwrap()
                .try_into()
                .unwrap(),
        })
        .collect();
    assert_eq!(files.len(), 2, "{held}");
    let release = seedstr_proto::release::Release {
        coordinate: seedstr_proto::release::Coordinate::parse("generic.uploaded").unwrap(),
        version: seedstr_proto::release::parse_version("1.0.0").unwrap(),
        files,
        infohash: hex::decode(held["infohash"].as_str().unwrap())
            .unwrap()
            .try_into()
            .unwrap(),
        torrent_name: held["name"].as_str().unwrap().into(),
        trackers: vec![],
        mirrors: vec![],
        seeders: Vec::new(),
        supersedes: None,
        changelog: "sent over HTTP".into(),
        dependencies: vec![],
        game_versions: vec![],
        zap_target: None,
        zap_splits: Vec::new(),
        package: None,
    };
    use nostr::prelude::FinalizeEvent as _;
    let event = release
        .to_builder(&alice.keys.public_key())
        .finalize(&alice.keys)
        .unwrap();
    let (status, body) = http_post(
        &node.http,
        "/api/v1/events",
        &serde_json::to_string(&event).unwrap(),
    );
    assert_eq!(status, 200, "{body}");
    let root = work.path().join("uploaded");
    let installed = player
        .install(
            &format!("{alice_npub}/generic.uploaded"),
            &root,
            &relay,
            std::slice::from_ref(&node.torrent),
            &[],
        )
        .unwrap();
    assert_eq!(installed["event_id"], event.id.to_hex());
    assert_eq!(
        std::fs::read(root.join("docs/readme.txt")).unwrap(),
        b"uploaded"
    );

    // Refused uploads say why and leave nothing behind.
    let post = |query: &str, body: &[u8]| {
        common::http_bytes(
            &node.http,
            "POST",
            &format!("/api/v1/payloads?{query}"),
            &[("Content-Type", "application/x-tar")],
            body,
        )
    };
    let escaping = {
        // tar::Builder refuses `..` itself, so the header is written by hand.
        let mut header = tar::Header::new_old();
        header.as_old_mut().name[..9].copy_from_slice(b"../x.txt\0");
        header.set_size(1);
        header.set_mode(0o644);
        header.set_entry_type(tar::EntryType::Regular);
        header.set_cksum();
        let mut out = tar::Builder::new(Vec::new());
        out.append(&header, &b"x"[..]).unwrap();
        out.into_inner().unwrap()
    };
    let (status, body) = post("coordinate=generic.bad&version=1.0.0", &escaping);
    assert_eq!(status, 400, "{body}");
    assert!(
        body.contains("../x.txt") && body.contains("plain relative path"),
        "{body}"
    );
    // Refused from the declared length, before a byte of the body is read.
    let (status, body) = common::http_bytes(
        &node.http,
        "POST",
        "/api/v1/payloads?coordinate=generic.big&version=1.0.0",
        &[("Content-Length", "2097152")],
        b"",
    );
    assert_eq!(status, 413, "{body}");
    assert!(body.contains("http.max_upload_mib"), "{body}");
    let (status, body) = post("coordinate=nodot&version=1.0.0", &archive);
    assert_eq!(status, 400, "{body}");
    let left: Vec<String> = std::fs::read_dir(alice.home.path().join("uploads"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(left, [held["infohash"].as_str().unwrap()], "{left:?}");
}

/// The node's HTTP bounds: a download that cannot start is answered 504 at the transfer time
/// limit, naming it; while it holds the one request slot this node is given, other requests
/// are answered 503 at once, naming the limit; afterwards the node serves again.
#[test]
fn slow_requests_time_out_and_excess_requests_are_shed() {
    let owner = Person::new();
    let config = node_config(
        &owner,
        &[
            ("enabled = true", "enabled = false"),
            ("transfer_timeout_secs = 900", "transfer_timeout_secs = 10"),
            (
                "max_concurrent_requests = 512",
                "max_concurrent_requests = 1",
            ),
            ("stall_timeout_secs = 60", "stall_timeout_secs = 600"),
        ],
    );
    let node = NodeProcess::start(owner.home.path(), &config);

    // A release nobody seeds and no mirror serves, whose tracker accepts connections and
    // never answers: fetching it waits on the swarm.
    let mute = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let tracker = format!("http://{}/announce", mute.local_addr().unwrap());
    std::thread::spawn(move || {
        let held: Vec<_> = mute.incoming().map_while(Result::ok).collect();
        drop(held);
    });
    let release = seedstr_proto::release::Release {
        coordinate: seedstr_proto::release::Coordinate::new("generic", "ghost").unwrap(),
        version: seedstr_proto::release::Version::parse("1.0.0").unwrap(),
        files: vec![seedstr_proto::release::ReleaseFile {
            path: "a.txt".into(),
            sha256: [1; 32],
            size: 10,
        }],
        infohash: [9; 20],
        torrent_name: "ghost".into(),
        trackers: vec![tracker],
        mirrors: vec![],
        seeders: Vec::new(),
        supersedes: None,
        changelog: String::new(),
        dependencies: vec![],
        game_versions: vec![],
        zap_target: None,
        zap_splits: Vec::new(),
        package: None,
    };
    let event = release
        .to_builder(&owner.keys.public_key())
        .finalize(&owner.keys)
        .unwrap();
    let (status, body) = http_post(&node.http, "/api/v1/events", &event.as_json());
    assert_eq!(status, 200, "{body}");
    // A body past the limit is refused, naming the setting.
    let (status, body) = http_post(&node.http, "/api/v1/events", &"x".repeat(2 << 20));
    assert_eq!(status, 413, "{body}");
    assert!(body.contains("http.max_body_kib"), "{body}");

    let npub = owner.keys.public_key().to_bech32().unwrap();
    let start_download = || {
        let (addr, npub) = (node.http.clone(), npub.clone());
        std::thread::spawn(move || {
            http_get(
                &addr,
                &format!("/api/v1/download?release={npub}/generic.ghost@1.0.0&path=a.txt"),
                "application/json",
            )
        })
    };
    // While the download holds the slot, a query is shed at once. The node has one slot, so a
    // status query that holds it when the download arrives sheds the download instead: then the
    // download is asked again (poll with a deadline, no timing assumed).
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut download = start_download();
    let shed = loop {
        let (status, body) = http_get(&node.http, "/api/v1/status", "application/json");
        if status == 503 {
            break body;
        }
        assert_eq!(status, 200, "{body}");
        if download.is_finished() {
            // Shed by a poll (503), or timed out before a poll got in (504): ask again.
            let (status, body) = download.join().unwrap();
            assert!(status == 503 || status == 504, "{status} {body}");
            download = start_download();
        }
        assert!(
            Instant::now() < deadline,
            "the download never held the slot"
        );
        std::thread::sleep(Duration::from_millis(10));
    };
    assert!(
        shed.contains("the node is busy (1 requests at once"),
        "{shed}"
    );
    let (status, body) = download.join().unwrap();
    assert_eq!(status, 504, "{body}");
    assert!(body.contains("did not answer within 10 s"), "{body}");
    let (status, body) = http_get(&node.http, "/api/v1/status", "application/json");
    assert_eq!(status, 200, "{body}");
}

/// The download store keeps to its cap: serving a second release evicts the one served least
/// recently, which comes back on demand; a release larger than the whole store is refused
/// before fetching, naming the cap.
#[test]
fn the_download_store_evicts_the_least_recently_served() {
    use common::spine::{bytes, WebMirror};
    let owner = Person::new();
    let config = node_config(
        &owner,
        &[
            ("enabled = true", "enabled = false"),
            ("stall_timeout_secs = 60", "stall_timeout_secs = 1"),
            (
                "download_store_max_bytes = 34359738368",
                "download_store_max_bytes = 500000",
            ),
        ],
    );
    let node = NodeProcess::start(owner.home.path(), &config);
    let work = tempfile::tempdir().unwrap();
    let site = work.path().join("site");
    let mirror_holder = std::cell::OnceCell::new();
    let mut infohashes = Vec::new();
    for (slug, size) in [("one", 300_000), ("two", 300_000), ("big", 600_000)] {
        let dir = site.join(slug);
        write(&dir, "data.bin", &bytes(size, size as u32));
        let mirror = mirror_holder.get_or_init(|| WebMirror::start(&site));
        let (release, _) = common::spine::release_for(&dir, slug, "1.0.0", |r| {
            r.mirrors = vec![format!("{}/{slug}", mirror.url)]
        });
        let event = release
            .to_builder(&owner.keys.public_key())
            .finalize(&owner.keys)
            .unwrap();
        let (status, body) = http_post(&node.http, "/api/v1/events", &event.as_json());
        assert_eq!(status, 200, "{body}");
        infohashes.push(release.infohash_hex());
    }
    let npub = owner.keys.public_key().to_bech32().unwrap();
    let download = |slug: &str| {
        http_get(
            &node.http,
            &format!("/api/v1/download?release={npub}/generic.{slug}@1.0.0&path=data.bin"),
            "application/octet-stream",
        )
    };
    let held = |n: usize| {
        owner
            .home
            .path()
            .join("downloads")
            .join(&infohashes[n])
            .is_dir()
    };
    let (status, body) = download("one");
    assert_eq!(status, 200, "{body}");
    assert!(held(0));
    let (status, body) = download("two");
    assert_eq!(status, 200, "{body}");
    assert!(held(1) && !held(0), "one was not evicted for two");
    let (status, body) = download("one");
    assert_eq!(status, 200, "{body}");
    assert!(held(0) && !held(1), "two was not evicted for one");
    let (status, body) = download("big");
    assert_eq!(status, 502, "{body}");
    assert!(
        body.contains("more than this store holds (500000 bytes)"),
        "{body}"
    );
    assert!(held(0), "a refused release evicted what was there");
}

/// Polls `/health` until the DHT node is joined; its `dht` part.
fn joined_dht(node: &NodeProcess) -> Value {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let h = health(node);
        if h["dht"]["state"] == "joined" {
            return h["dht"].clone();
        }
        assert!(Instant::now() < deadline, "the node never joined: {h}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn a_restarted_node_rejoins_the_dht_through_the_nodes_it_knew() {
    let net = seedstr_dht::Testnet::builder(8).build().unwrap();
    // The one bootstrap node the configuration names: it is gone when the node starts again.
    let gateway = seedstr_dht::DhtNode::start(&seedstr_dht::DhtOptions {
        server: true,
        ..seedstr_dht::DhtOptions::joining(&net.bootstrap)
    })
    .unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    assert!(rt.block_on(gateway.bootstrapped()));
    let gateway_addr = rt.block_on(gateway.local_addr()).to_string();
    let owner = Person::new();
    let config_file = node_config(
        &owner,
        &[(
            "bootstrap = []",
            &format!("bootstrap = [\"{gateway_addr}\"]"),
        )],
    );

    let node = NodeProcess::start(owner.home.path(), &config_file);
    let dht = joined_dht(&node);
    assert_eq!(dht["bootstrap"]["source"], "configured", "{dht}");
    // No routing table was kept yet: the configured node was the only source (a loopback list
    // rules the public routers out).
    assert_eq!(
        dht["bootstrap"]["tried"].as_array().unwrap().len(),
        1,
        "{dht}"
    );
    let kept = owner.home.path().join("dht/routing-table");
    let deadline = Instant::now() + Duration::from_secs(30);
    while !std::fs::read_to_string(&kept).is_ok_and(|t| t.contains("127.0.0.1:")) {
        assert!(
            Instant::now() < deadline,
            "the routing table was never kept"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(node.terminate());
    drop(gateway);

    // Offline for a while: the configured node is gone, and there is no public router to ask;
    // the nodes it knew take it back in.
    let node = NodeProcess::start(owner.home.path(), &config_file);
    let dht = joined_dht(&node);
    assert_eq!(dht["bootstrap"]["source"], "cached_nodes", "{dht}");
    let tried = &dht["bootstrap"]["tried"][0];
    assert_eq!(tried["source"], "cached_nodes", "{dht}");
    assert_eq!(tried["answered"], true, "{dht}");
    assert!(tried["nodes"].as_u64().unwrap() >= 1, "{dht}");
    assert!(node.terminate());
}
