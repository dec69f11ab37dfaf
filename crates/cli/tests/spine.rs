//! The spine end to end with the real binary: publish to a real relay, seed with `seedstr seed`,
//! install over loopback BitTorrent, upgrade, refuse a downgrade, verify, resume, an install
//! served by another installer once the publisher is gone, and installs that find their seeder
//! only through a loopback DHT or only through the release's tracker.

mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use common::spine::{bytes, tree, write, Person, Scene, Tracker};
use serde_json::Value;

fn payload_v1(dir: &Path) {
    write(dir, "Data/big.bin", &bytes(3_000_000, 1));
    write(dir, "readme.txt", b"version one\n");
    write(dir, "empty", b"");
}

fn payload_v2(dir: &Path) {
    write(dir, "Data/big.bin", &bytes(3_000_000, 1));
    write(dir, "readme.txt", b"version two\n");
    write(dir, "Data/new.txt", b"added in 1.1.0\n");
}

#[test]
fn publish_seed_install_upgrade_refuse_downgrade_and_verify() {
    let Scene {
        relay_dir: _relay_dir,
        relay,
        author,
        player,
        work,
    } = Scene::new();
    let (v1, v2, root) = (
        work.path().join("v1"),
        work.path().join("v2"),
        work.path().join("game"),
    );
    payload_v1(&v1);
    payload_v2(&v2);

    let p1 = author.publish(&v1, "tool", "1.0.0", &relay.url, &["--summary", "a tool"]);
    assert!(
        p1["project_event_id"].is_string(),
        "a new project is signed: {p1}"
    );
    assert_eq!(p1["answers"][1]["accepted"], true, "{p1}");
    assert!(p1["supersedes"].is_null());
    let seeder = author.seed(&[]);
    seeder.wait_seeding(p1["infohash"].as_str().unwrap());
    let peers = [seeder.addr.clone()];
    let target = format!("{}/generic.tool", author.hex());

    let r = player
        .install(&target, &root, &relay.url, &peers, &[])
        .unwrap();
    assert_eq!(r["outcome"], "installed");
    assert_eq!(r["version"], "1.0.0");
    assert_eq!(tree(&root), tree(&v1));
    let ok = player.run(&["verify", root.to_str().unwrap()]);
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stdout)
    );
    // The same release again changes nothing.
    let again = player
        .install(&target, &root, &relay.url, &peers, &[])
        .unwrap();
    assert_eq!(again["outcome"], "already_installed");

    // 1.1.0: the project is unchanged so only the release is signed, and it supersedes 1.0.0.
    let p2 = author.publish(&v2, "tool", "1.1.0", &relay.url, &[]);
    assert!(p2["project_event_id"].is_null(), "{p2}");
    assert_eq!(p2["supersedes"], "1.0.0");
    seeder.wait_seeding(p2["infohash"].as_str().unwrap());
    // Publishing 1.1.0 again with other bytes is refused; versions never change.
    let changed = author.run(&[
        "publish",
        v1.to_str().unwrap(),
        "--ns",
        "generic",
        "--slug",
        "tool",
        "--version",
        "1.1.0",
        "--relay",
        &relay.url,
    ]);
    assert!(!changed.status.success());
    assert!(String::from_utf8_lossy(&changed.stderr).contains("already published with other files"));

    let up = player
        .install(&target, &root, &relay.url, &peers, &[])
        .unwrap();
    assert_eq!(up["outcome"], "upgraded");
    assert_eq!(up["previous"], "1.0.0");
    assert_eq!(up["chain"]["links"][0][0], "1.0.0");
    assert_eq!(
        tree(&root),
        tree(&v2),
        "the file 1.1.0 dropped is gone, the others replaced"
    );

    let before = tree(&root);
    let down = player
        .install(&format!("{target}@1.0.0"), &root, &relay.url, &peers, &[])
        .unwrap_err();
    assert!(down.contains("older than the installed 1.1.0"), "{down}");
    assert_eq!(tree(&root), before, "a refused downgrade changes nothing");
    let down = player
        .install(
            &format!("{target}@1.0.0"),
            &root,
            &relay.url,
            &peers,
            &["--allow-downgrade"],
        )
        .unwrap();
    assert_eq!(down["outcome"], "downgraded");
    assert_eq!(tree(&root), tree(&v1));

    // Drift is found and named.
    write(&root, "readme.txt", b"edited by hand\n");
    let drift = player.run(&["verify", root.to_str().unwrap()]);
    assert!(!drift.status.success());
    assert!(String::from_utf8_lossy(&drift.stdout)
        .contains("readme.txt: 15 bytes where 12 were expected"));
    let fixed = player
        .install(&format!("{target}@1.0.0"), &root, &relay.url, &peers, &[])
        .unwrap();
    assert_eq!(fixed["outcome"], "repaired");
    assert_eq!(tree(&root), tree(&v1));
}

#[test]
fn an_installer_serves_the_release_once_the_publisher_is_gone() {
    let Scene {
        relay_dir: _relay_dir,
        relay,
        author,
        player: first,
        work,
    } = Scene::new();
    let second = Person::new();
    let src = work.path().join("src");
    payload_v1(&src);
    let p = author.publish(&src, "tool", "1.0.0", &relay.url, &[]);
    let ih = p["infohash"].as_str().unwrap();
    let mut publisher = author.seed(&[]);
    publisher.wait_seeding(ih);
    let target = format!("{}/generic.tool", author.hex());
    first
        .install(
            &target,
            &work.path().join("a"),
            &relay.url,
            &[publisher.addr.clone()],
            &[],
        )
        .unwrap();
    // The first installer's registry now holds the payload; its seeder serves it.
    let relay_seeder = first.seed(&[]);
    relay_seeder.wait_seeding(ih);
    publisher.kill();
    let b = work.path().join("b");
    let r = second
        .install(
            &target,
            &b,
            &relay.url,
            std::slice::from_ref(&relay_seeder.addr),
            &[],
        )
        .unwrap();
    assert_eq!(r["swarm_bytes"].as_u64().unwrap(), 3_000_012);
    assert_eq!(tree(&b), tree(&src));
}

fn allocated_bytes(dir: &Path) -> u64 {
    use std::os::unix::fs::MetadataExt;
    let mut total = 0;
    for e in walkdir(dir) {
        total += e.blocks() * 512;
    }
    total
}

fn walkdir(dir: &Path) -> Vec<std::fs::Metadata> {
    let mut out = Vec::new();
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            let m = e.metadata().unwrap();
            if m.is_dir() {
                out.extend(walkdir(&e.path()));
            } else {
                out.push(m);
            }
        }
    }
    out
}

#[test]
fn an_interrupted_install_resumes_where_it_stopped() {
    let Scene {
        relay_dir: _relay_dir,
        relay,
        author,
        player,
        work,
    } = Scene::new();
    let src = work.path().join("src");
    write(&src, "big.bin", &bytes(6_000_000, 9));
    let p = author.publish(&src, "big", "1.0.0", &relay.url, &[]);
    let ih = p["infohash"].as_str().unwrap().to_owned();
    // A slow seeder, so the install can be killed midway.
    let seeder = author.seed(&["--upload-limit", "400000"]);
    seeder.wait_seeding(&ih);
    let root = work.path().join("root");
    let target = format!("{}/generic.big", author.hex());
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_seedstr"))
        .args([
            "install",
            &target,
            "--into",
            root.to_str().unwrap(),
            "--relay",
            &relay.url,
            "--no-dht",
            "--listen",
            "127.0.0.1:0",
            "--peer",
            &seeder.addr,
            "--json",
        ])
        .env("SEEDSTR_HOME", player.home.path())
        .env("SEEDSTR_LOG", "warn")
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let staging = root.join(".seedstr/staging").join(&ih);
    let deadline = Instant::now() + Duration::from_secs(60);
    while allocated_bytes(&staging) < 1_000_000 {
        assert!(Instant::now() < deadline, "no bytes arrived within 60 s");
        std::thread::sleep(Duration::from_millis(50));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(
        tree(&root).is_empty(),
        "an interrupted install leaves nothing installed"
    );

    let r = player
        .install(
            &target,
            &root,
            &relay.url,
            std::slice::from_ref(&seeder.addr),
            &[],
        )
        .unwrap();
    let fetched = r["swarm_bytes"].as_u64().unwrap();
    assert!(
        fetched < 6_000_000 - 500_000,
        "the second run fetched {fetched} bytes: no resume"
    );
    assert_eq!(tree(&root), tree(&src));
    assert!(!staging.exists(), "staging is cleaned up after the commit");
}

#[test]
fn an_install_finds_its_seeder_through_a_loopback_dht_alone() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let mut testnet = runtime
        .block_on(seedstr_testkit::PeerDhtTestnet::start(8))
        .unwrap();
    let mut dht: Vec<&str> = Vec::new();
    let bootstrap = testnet.bootstrap();
    for node in &bootstrap {
        dht.extend(["--dht-bootstrap", node]);
    }
    let Scene {
        relay_dir: _relay_dir,
        relay,
        author,
        player,
        work,
    } = Scene::new();
    let src = work.path().join("src");
    payload_v1(&src);
    // Stand in for the real DHT's density: pick the version (publish names the torrent
    // `<slug>-<version>`) so that a testnet node is near the info hash.
    let torrent = seedstr_swarm::create(&src, "tool").unwrap();
    let (version, infohash) = (0..)
        .map(|n| {
            let v = format!("1.0.{n}");
            let t = torrent.renamed(&format!("tool-{v}")).unwrap();
            (v, t.info_hash)
        })
        .find(|(_, ih)| testnet.has_node_near(ih))
        .unwrap();
    let p = author.publish(&src, "tool", &version, &relay.url, &[]);
    assert_eq!(p["infohash"], hex(&infohash));
    let seeder = author.seed(&dht);
    seeder.wait_seeding(p["infohash"].as_str().unwrap());
    // The seeder announces from its first lookups, within seconds; should a UDP answer be lost
    // it tries again after librqbit's 60 s requery.
    let deadline = Instant::now() + Duration::from_secs(90);
    let seeder_port = seeder.addr.rsplit(':').next().unwrap().to_owned();
    while !runtime
        .block_on(testnet.announced(&infohash))
        .unwrap()
        .iter()
        .any(|p| p.ends_with(&format!(":{seeder_port}")))
    {
        assert!(Instant::now() < deadline, "the seeder never announced");
        std::thread::sleep(Duration::from_millis(200));
    }

    // No --peer and no tracker: the DHT is the only way to the seeder.
    let root = work.path().join("game");
    let mut extra = dht.clone();
    extra.extend(["--stall-timeout", "60"]);
    let r = player
        .install(
            &format!("{}/generic.tool", author.hex()),
            &root,
            &relay.url,
            &[],
            &extra,
        )
        .unwrap();
    assert_eq!(r["version"], version);
    assert_eq!(r["swarm_bytes"].as_u64().unwrap(), 3_000_012);
    assert_eq!(tree(&root), tree(&src));
    drop(seeder);
    drop(testnet);
}

#[test]
fn an_install_finds_its_seeder_through_the_releases_tracker_alone() {
    let tracker = Tracker::start();
    let Scene {
        relay_dir: _relay_dir,
        relay,
        author,
        player,
        work,
    } = Scene::new();
    let src = work.path().join("src");
    payload_v1(&src);
    let p = author.publish(
        &src,
        "tool",
        "1.0.0",
        &relay.url,
        &["--tracker", &tracker.announce],
    );
    let seeder = author.seed(&[]);
    seeder.wait_seeding(p["infohash"].as_str().unwrap());

    // No --peer and no DHT: the tracker the release names is the only way to the seeder.
    let root = work.path().join("game");
    let r = player
        .install(
            &format!("{}/generic.tool", author.hex()),
            &root,
            &relay.url,
            &[],
            &["--stall-timeout", "30"],
        )
        .unwrap();
    assert_eq!(r["swarm_bytes"].as_u64().unwrap(), 3_000_012);
    assert_eq!(tree(&root), tree(&src));
    drop(seeder);
}

#[test]
fn an_install_asks_the_seeders_the_publisher_named_first() {
    let Scene {
        relay_dir: _relay_dir,
        relay,
        author,
        player,
        work,
    } = Scene::new();
    // The seeder runs before the release exists, so the release can name its address.
    let seeder = author.seed(&[]);
    let src = work.path().join("src");
    payload_v1(&src);
    let p = author.publish(
        &src,
        "tool",
        "1.0.0",
        &relay.url,
        &["--seeder", &seeder.addr],
    );
    seeder.wait_seeding(p["infohash"].as_str().unwrap());

    // No --peer, no DHT, no tracker: the signed release's seeder is the only way.
    let root = work.path().join("game");
    let r = player
        .install(
            &format!("{}/generic.tool", author.hex()),
            &root,
            &relay.url,
            &[],
            &["--stall-timeout", "30"],
        )
        .unwrap();
    assert_eq!(r["swarm_bytes"].as_u64().unwrap(), 3_000_012);
    assert_eq!(tree(&root), tree(&src));
    // The player's machine remembers what the seeder delivered.
    let kept = player.peer_reputation();
    let record = &kept["peers"][&seeder.addr];
    assert!(
        record["delivered_bytes"].as_u64().unwrap() >= 3_000_012,
        "{kept}"
    );
    assert!(record["good_pieces"].as_u64().unwrap() >= 1, "{kept}");
    assert_eq!(record["bad_pieces"], 0, "{kept}");
    assert!(record["first_piece_ms"].as_u64().is_some(), "{kept}");

    // A seeder that is not host:port is refused before anything is signed, naming it.
    let out = author.run(&[
        "publish",
        src.to_str().unwrap(),
        "--ns",
        "generic",
        "--slug",
        "tool",
        "--version",
        "1.0.1",
        "--relay",
        &relay.url,
        "--no-dht",
        "--seeder",
        "http://seeder.example",
    ]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("seeder \"http://seeder.example\""), "{err}");
    drop(seeder);
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn a_published_release_is_seeded_from_a_kept_copy_while_the_author_edits_their_folder() {
    let scene = Scene::new();
    let build = scene.work.path().join("build");
    payload_v1(&build);
    let v1 = tree(&build);
    // Published with the folder typed as a relative path.
    let out = scene
        .author
        .command(&[
            "publish",
            "build",
            "--ns",
            "generic",
            "--slug",
            "tool",
            "--version",
            "1.0.0",
            "--relay",
            &scene.relay.url,
            "--no-dht",
            "--json",
        ])
        .current_dir(scene.work.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let p1: Value = serde_json::from_slice(&out.stdout).unwrap();
    let ih1 = p1["infohash"].as_str().unwrap();
    let kept = std::fs::canonicalize(scene.author.home.path().join("published").join(ih1)).unwrap();
    assert_eq!(
        std::path::PathBuf::from(p1["seed_dir"].as_str().unwrap()),
        kept,
        "seeded from the kept copy, named absolutely: {p1}"
    );
    assert_eq!(tree(&kept), v1);

    // The author edits build/ in place for the next version and publishes it too.
    std::fs::remove_dir_all(&build).unwrap();
    payload_v2(&build);
    let v2 = tree(&build);
    let p2 = scene
        .author
        .publish(&build, "tool", "1.1.0", &scene.relay.url, &[]);
    let seeder = scene.author.seed(&[]);
    seeder.wait_seeding(ih1);
    seeder.wait_seeding(p2["infohash"].as_str().unwrap());
    let peers = [seeder.addr.clone()];
    let target = format!("{}/generic.tool", scene.author.hex());
    for (version, expected) in [("1.0.0", &v1), ("1.1.0", &v2)] {
        let root = scene.work.path().join(format!("game-{version}"));
        let r = scene
            .player
            .install(
                &format!("{target}@{version}"),
                &root,
                &scene.relay.url,
                &peers,
                &["--allow-downgrade"],
            )
            .unwrap();
        assert_eq!(r["version"], version);
        assert_eq!(&tree(&root), expected, "{version} has its own bytes");
    }

    // Opting out seeds from the folder itself, as typed.
    let p3 = scene.author.publish(
        &build,
        "tool",
        "1.2.0",
        &scene.relay.url,
        &["--seed-in-place"],
    );
    assert_eq!(
        std::path::PathBuf::from(p3["seed_dir"].as_str().unwrap()),
        std::fs::canonicalize(&build).unwrap()
    );
}
