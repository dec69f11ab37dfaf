//! Mirror bots and seed health with the real binary: a mirror follows an author on a real relay,
//! fetches each release as it is published, serves it once the author is gone, lets go of what
//! the author's incident withdraws and resumes after a restart; `mod seed-health` counts the
//! seeders through opentracker (HTTP and UDP), a `mainline` DHT testnet and the peers themselves.

mod common;

use common::mods::{init, player_flags, prepare, release, run_mod, with};
use common::spine::{bytes, write, Opentracker, Person, Scene, Seeder};
use nostr::prelude::ToBech32;
use seedstr_dht::Testnet;
use serde_json::Value;

/// `mod seed-health` until `ready` accepts its report (swarms and trackers settle over a few
/// seconds); the last report if it never does.
fn seed_health_until(
    person: &Person,
    args: &[&str],
    ready: impl Fn(&Value) -> bool,
) -> Result<Value, String> {
    let mut last = Err(String::new());
    for _ in 0..30 {
        let mut all = vec!["seed-health"];
        all.extend_from_slice(args);
        last = run_mod(person, &all);
        if last.as_ref().is_ok_and(&ready) {
            break;
        }
        std::thread::sleep(std::time::Duration::from_secs(1));
    }
    last
}

#[test]
fn a_mirror_follows_an_author_serves_without_them_and_seed_health_counts_seeders() {
    let Scene {
        relay_dir: _relay_dir,
        relay,
        author,
        player,
        work,
    } = Scene::new();
    let url = relay.url.as_str();
    let net = Testnet::builder(20).build().unwrap();
    let dht = common::dht_bootstrap(&net);
    let tracker_port = Opentracker::free_port();

    // 1.0.0 names the tracker (over HTTP and UDP); the stranger's mod is never mirrored.
    let lamps = init(&author, work.path(), "skyrim-se", "lamps");
    prepare(
        &lamps,
        "1.0.0",
        &format!(
            "trackers:\n  - {}\n  - {}\n",
            Opentracker::http(tracker_port),
            Opentracker::udp(tracker_port)
        ),
        &[("Data/Lamps.esp", bytes(300_000, 1))],
    );
    let ih1 = release(&author, &lamps, "1.0.0", url)["infohash"]
        .as_str()
        .unwrap()
        .to_owned();
    let stranger = Person::new();
    let other = init(&stranger, work.path(), "skyrim-se", "other");
    prepare(&other, "1.0.0", "", &[("Data/Other.esp", bytes(1000, 9))]);
    let stranger_ih = release(&stranger, &other, "1.0.0", url)["infohash"]
        .as_str()
        .unwrap()
        .to_owned();
    let _tracker = Opentracker::start(tracker_port, &[&ih1]);

    let mut author_seed = author.seed(&dht);
    author_seed.wait_seeding(&ih1);
    let author_addr = author_seed.addr.clone();

    // The mirror has a key of its own, to ask the author to be named in the zap splits.
    let mirror_person = Person::new();
    let mirror_home = &mirror_person.home;
    let npub = author.keys.public_key().to_bech32().unwrap();
    let mirror_args = with(
        &[
            "--follow",
            &npub,
            "--relay",
            url,
            "--peer",
            &author_addr,
            "--stall-timeout",
            "10",
            "--retry-secs",
            "2",
            "--ask-to-be-named",
            "--offer-text",
            "seeding from a fast box",
        ],
        &dht,
    );
    let mut mirror = Seeder::mirror(mirror_home.path(), &mirror_args);
    let got = mirror.wait_for("1.0.0 mirrored", |v| v["mirrored"] == ih1);
    assert_eq!(got["release"], "skyrim-se.lamps@1.0.0");
    // Having mirrored it, the mirror asks to be named; the author sees who asked.
    let offered = mirror.wait_for("the offer", |v| v["offered"] == "skyrim-se.lamps");
    assert!(offered["event_id"].is_string(), "{offered}");
    let out = author.run(&["mod", "offers", "--relay", url, "--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let offers: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(offers.as_array().unwrap().len(), 1, "{offers}");
    assert_eq!(offers[0]["mirror_hex"], mirror_person.hex());
    assert_eq!(offers[0]["project"], "skyrim-se.lamps");
    assert_eq!(offers[0]["versions"][0], "1.0.0");
    assert_eq!(offers[0]["text"], "seeding from a fast box");
    assert_eq!(offers[0]["lightning_address"], Value::Null);
    mirror.wait_seeding(&ih1);
    let mirrored = mirror_home.path().join("mirror").join(&ih1);
    assert_eq!(
        std::fs::read(mirrored.join("Data/Lamps.esp")).unwrap(),
        bytes(300_000, 1)
    );

    // A release published while the mirror runs is fetched as it appears.
    prepare(
        &lamps,
        "1.1.0",
        "",
        &[("Data/Lamps.esp", bytes(200_000, 2))],
    );
    let ih2 = release(&author, &lamps, "1.1.0", url)["infohash"]
        .as_str()
        .unwrap()
        .to_owned();
    mirror.wait_for("1.1.0 mirrored", |v| v["mirrored"] == ih2);
    mirror.wait_seeding(&ih2);

    // Seed health of 1.0.0: the tracker counts two seeders, the DHT names both, and each one
    // says it holds every piece.
    author_seed.wait_for("1.0.0 announced", |v| v["announced"] == ih1);
    mirror.wait_for("1.0.0 announced", |v| v["announced"] == ih1);
    let target1 = format!("{npub}/skyrim-se.lamps@1.0.0");
    let mut health_args = vec![target1.as_str(), "--relay", url, "--timeout", "5"];
    health_args.extend(&dht);
    let health = seed_health_until(&author, &health_args, |h| {
        h["seeders"] == 2 && h["tracker_seeders"] == 2 && h["health"]["dht_peers"] == 2
    })
    .unwrap();
    assert_eq!(health["seeders"], 2, "{health:#}");
    assert_eq!(health["tracker_seeders"], 2, "{health:#}");
    assert_eq!(health["health"]["dht_peers"], 2, "{health:#}");
    assert_eq!(health["unreachable"], 0, "{health:#}");
    let trackers = health["health"]["trackers"].as_array().unwrap();
    assert_eq!(trackers.len(), 2, "HTTP and UDP: {health:#}");
    for t in trackers {
        assert_eq!(t["counts"]["seeders"], 2, "{t}");
        assert_eq!(t["peers"], 2, "{t}");
    }
    for p in health["health"]["peers"].as_array().unwrap() {
        assert_eq!(p["holds"], "everything", "{p}");
        assert!(p["client"].as_str().is_some_and(|c| !c.is_empty()), "{p}");
        assert_eq!(
            p["named_by"].as_array().unwrap().len(),
            3,
            "dht and both trackers: {p}"
        );
    }

    // The author goes away: a player installs 1.1.0 from the mirror alone.
    author_seed.kill();
    let game = work.path().join("game");
    write(&game, "Data/Skyrim.esm", b"the game's master");
    let mirrors = [&mirror];
    let flags = player_flags(&game, url, &mirrors);
    let target = format!("{}/skyrim-se.lamps", author.hex());
    run_mod(&player, &with(&["install", &target], &flags)).unwrap();
    assert_eq!(
        std::fs::read(game.join("Data/Lamps.esp")).unwrap(),
        bytes(200_000, 2)
    );
    // Only the mirror answers for 1.1.0 now.
    let target2 = format!("{npub}/skyrim-se.lamps@1.1.0");
    let health = seed_health_until(
        &author,
        &[
            &target2,
            "--relay",
            url,
            "--no-dht",
            "--timeout",
            "3",
            "--peer",
            &author_addr,
            "--peer",
            &mirror.addr,
        ],
        |h| h["seeders"] == 1,
    )
    .unwrap();
    assert_eq!(health["seeders"], 1, "{health:#}");
    assert_eq!(health["unreachable"], 1, "{health:#}");

    // The author withdraws 1.1.0: the mirror stops serving it and deletes it.
    let out = author.run(&[
        "mod",
        "incident",
        "lamps",
        "--dir",
        lamps.to_str().unwrap(),
        "--versions",
        "=1.1.0",
        "--summary",
        "1.1.0 breaks saves",
        "--relay",
        url,
        "--no-dht",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let dropped = mirror.wait_for("1.1.0 dropped", |v| v["dropped"] == ih2);
    assert!(
        dropped["why"]
            .as_str()
            .unwrap()
            .contains("1.1.0 breaks saves"),
        "{dropped}"
    );
    mirror.wait_for("1.1.0 stopped", |v| v["stopped"] == ih2);
    assert!(!mirror_home.path().join("mirror").join(&ih2).exists());

    // A restart serves what it holds without fetching again, and keeps 1.1.0 withheld.
    mirror.kill();
    let mirror = Seeder::mirror(mirror_home.path(), &mirror_args);
    mirror.wait_seeding(&ih1);
    mirror.wait_for("1.1.0 withheld", |v| v["withheld"] == ih2);
    let lines = mirror.printed();
    assert!(
        !lines.iter().any(|v| v.get("fetching").is_some()),
        "{lines:?}"
    );
    let mut held: Vec<String> = std::fs::read_dir(mirror_home.path().join("mirror"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| !n.starts_with('.'))
        .collect();
    held.sort();
    assert_eq!(held, vec![ih1.clone()], "not {stranger_ih}, nor 1.1.0");

    // Nobody seeds the withdrawn 1.1.0: seed-health says so and exits 1.
    let err = run_mod(
        &author,
        &[
            "seed-health",
            &target2,
            "--relay",
            url,
            "--no-dht",
            "--timeout",
            "2",
            "--peer",
            &mirror.addr,
        ],
    )
    .unwrap_err();
    assert!(
        err.contains("nobody is seeding skyrim-se.lamps@1.1.0"),
        "{err}"
    );
}
