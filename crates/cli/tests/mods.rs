//! OpenMods end to end with the real binary, a real relay and loopback swarms: authors scaffold
//! and release mods, players install them into game folders with dependencies, conflicts, game
//! versions and load orders, an incident is enforced and rolled back, a curator's collection is
//! reproduced elsewhere, and installs read the authors' DHT feeds when every relay is down.

mod common;

use std::path::PathBuf;

use common::mods::{
    init, player_flags, plugins_txt, prepare, release, run_mod, try_release, try_release_with, with,
};
use common::spine::{bytes, tree, write, Person, Scene};
use serde_json::Value;

#[test]
fn authors_release_and_players_install_with_dependencies_conflicts_and_load_order() {
    let Scene {
        relay_dir: _relay_dir,
        relay,
        author,
        player,
        work,
    } = Scene::new();
    let lib_author = Person::new();
    let url = relay.url.as_str();

    // A library mod, and a mod that requires it.
    let lib = init(&lib_author, work.path(), "skyrim-se", "lib");
    prepare(
        &lib,
        "1.0.0",
        "",
        &[
            ("Data/Lib.esm", bytes(40_000, 1)),
            ("Data/Scripts/lib.pex", b"lib scripts".to_vec()),
        ],
    );
    let r = release(&lib_author, &lib, "1.0.0", url);
    assert_eq!(r["release"], "skyrim-se.lib@1.0.0", "{r}");
    let trees = init(&author, work.path(), "skyrim-se", "trees");
    prepare(&trees, "1.0.0", &format!(
        "game_versions: [\"1.6.*\"]\ndependencies:\n  - project: {}/skyrim-se.lib\n    versions: \">=1.0, <2\"\n  - project: {}/skyrim-se.grass\n    kind: optional\n",
        lib_author.hex(), lib_author.hex()
    ), &[
        ("Data/Trees.esp", bytes(30_000, 2)),
        ("Data/Textures/trees/oak.dds", bytes(200_000, 3)),
    ]);
    release(&author, &trees, "1.0.0", url);
    let lib_seeder = lib_author.seed(&[]);
    let trees_seeder = author.seed(&[]);
    let seeders = [&lib_seeder, &trees_seeder];

    // Game rules are checked before anything is signed.
    prepare(
        &trees,
        "1.0.1",
        "",
        &[("Data/hook.dll", b"native".to_vec())],
    );
    let err = try_release(&author, &trees, "1.0.1", url).unwrap_err();
    assert!(
        err.contains("Data/hook.dll") && err.contains("only goes in Data/SKSE/Plugins/"),
        "{err}"
    );
    // A malformed release file names its line and field.
    write(
        &trees,
        "release/1.0.2.yaml",
        b"version: 1.0.2\ndependencies:\n  - project: nobody/skyrim-se.x\n",
    );
    let err = try_release(&author, &trees, "1.0.2", url).unwrap_err();
    assert!(
        err.contains("1.0.2.yaml:3:") && err.contains("dependencies[0].project"),
        "{err}"
    );

    // Player one: the plan pulls in the library first, then the load order lists both.
    let game_one = work.path().join("game-one");
    write(&game_one, "Data/Skyrim.esm", b"the game's own master");
    let flags = player_flags(&game_one, url, &seeders);
    let trees_target = format!("{}/skyrim-se.trees", author.hex());
    let dry = run_mod(
        &player,
        &with(&["install", &trees_target, "--dry-run"], &flags),
    )
    .unwrap();
    assert!(dry["applied"].is_null());
    assert!(
        !game_one.join("Data/Trees.esp").exists(),
        "a dry run changes nothing"
    );
    let done = run_mod(
        &player,
        &with(
            &["install", &trees_target, "--game-version", "1.6.1170.0"],
            &flags,
        ),
    )
    .unwrap();
    let actions = done["plan"]["actions"].as_array().unwrap();
    assert_eq!(actions.len(), 2, "{done}");
    assert_eq!(
        actions[0]["project"].as_str().unwrap().split(' ').next(),
        Some("skyrim-se.lib")
    );
    assert!(actions[0]["required_by"]
        .as_str()
        .unwrap()
        .contains("skyrim-se.trees"));
    assert_eq!(actions[1]["action"], "install");
    assert!(done["plan"]["optional"][0]["project"]
        .as_str()
        .unwrap()
        .contains("skyrim-se.grass"));
    assert_eq!(
        std::fs::read(game_one.join("Data/Lib.esm")).unwrap(),
        bytes(40_000, 1)
    );
    assert_eq!(
        std::fs::read(game_one.join("Data/Textures/trees/oak.dds")).unwrap(),
        bytes(200_000, 3)
    );
    assert_eq!(
        plugins_txt(&game_one).lines().skip(1).collect::<Vec<_>>(),
        ["*Lib.esm", "*Trees.esp"]
    );

    let list = run_mod(
        &player,
        &[
            "list",
            "--game-dir",
            game_one.to_str().unwrap(),
            "--relay",
            url,
            "--files",
        ],
    )
    .unwrap();
    assert_eq!(list["game"], "skyrim-se");
    assert_eq!(list["game_version"], "1.6.1170.0");
    let mods = list["mods"].as_array().unwrap();
    assert_eq!(mods.len(), 2);
    let lib_entry = mods
        .iter()
        .find(|m| m["project"].as_str().unwrap().starts_with("skyrim-se.lib"))
        .unwrap();
    assert_eq!(lib_entry["requested"], false);
    assert_eq!(
        lib_entry["files"],
        serde_json::json!(["Data/Lib.esm", "Data/Scripts/lib.pex"])
    );

    // A third author's mod that writes one of the library's files: refused, nothing changes.
    let rocks_author = Person::new();
    let rocks = init(&rocks_author, work.path(), "skyrim-se", "rocks");
    prepare(
        &rocks,
        "1.0.0",
        "",
        &[
            ("Data/Scripts/lib.pex", b"other scripts".to_vec()),
            ("Data/Rocks.esp", b"rocks".to_vec()),
        ],
    );
    release(&rocks_author, &rocks, "1.0.0", url);
    let before = tree(&game_one);
    let err = run_mod(
        &player,
        &with(
            &[
                "install",
                &format!("{}/skyrim-se.rocks", rocks_author.hex()),
            ],
            &flags,
        ),
    )
    .unwrap_err();
    assert!(
        err.contains("\"Data/Scripts/lib.pex\" is written by both")
            && err.contains("skyrim-se.rocks"),
        "{err}"
    );
    assert_eq!(tree(&game_one), before);
    // A release that would replace one of the game's own masters is refused before signing.
    let patch = init(&rocks_author, work.path(), "skyrim-se", "patch");
    prepare(
        &patch,
        "1.0.0",
        "",
        &[("Data/Skyrim.esm", b"replaced".to_vec())],
    );
    let err = try_release(&rocks_author, &patch, "1.0.0", url).unwrap_err();
    assert!(err.contains("the game's own plugins"), "{err}");

    // The library cannot go while trees needs it; an update moves it to its new version.
    let err = run_mod(&player, &with(&["uninstall", "lib"], &flags)).unwrap_err();
    assert!(
        err.contains("is required by") && err.contains("skyrim-se.trees"),
        "{err}"
    );
    prepare(
        &lib,
        "1.1.0",
        "",
        &[
            ("Data/Lib.esm", bytes(40_000, 4)),
            ("Data/Scripts/lib.pex", b"lib scripts 1.1".to_vec()),
            ("Data/Lib - Extra.esp", b"extra".to_vec()),
        ],
    );
    let r = release(&lib_author, &lib, "1.1.0", url);
    lib_seeder.wait_seeding(r["infohash"].as_str().unwrap());
    let up = run_mod(&player, &with(&["update"], &flags)).unwrap();
    let actions = up["plan"]["actions"].as_array().unwrap();
    assert_eq!(actions.len(), 1, "{up}");
    assert_eq!(
        (
            actions[0]["action"].as_str(),
            actions[0]["from"].as_str(),
            actions[0]["to"].as_str()
        ),
        (Some("upgrade"), Some("1.0.0"), Some("1.1.0"))
    );
    assert_eq!(
        std::fs::read(game_one.join("Data/Lib.esm")).unwrap(),
        bytes(40_000, 4)
    );
    assert_eq!(
        plugins_txt(&game_one).lines().skip(1).collect::<Vec<_>>(),
        ["*Lib.esm", "*Trees.esp", "*Lib - Extra.esp"]
    );

    // Removing trees, then the library, leaves only the game's own file and an empty load order.
    run_mod(&player, &with(&["uninstall", "trees"], &flags)).unwrap();
    run_mod(&player, &with(&["uninstall", "skyrim-se.lib"], &flags)).unwrap();
    assert_eq!(
        tree(&game_one)
            .iter()
            .map(|(p, _)| p.to_str().unwrap().to_owned())
            .collect::<Vec<_>>(),
        ["Data/Skyrim.esm", "plugins.txt"]
    );
    // No empty folders are left behind (Data/Textures/trees, Data/Scripts).
    let data: Vec<_> = std::fs::read_dir(game_one.join("Data"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(data, ["Skyrim.esm"]);
    assert_eq!(plugins_txt(&game_one).lines().count(), 1);

    // Player two runs an older game: trees names only 1.6.*, so it is refused with the reason.
    let player_two = Person::new();
    let game_two = work.path().join("game-two");
    let flags_two = player_flags(&game_two, url, &seeders);
    let err = run_mod(
        &player_two,
        &with(
            &["install", &trees_target, "--game-version", "1.5.97.0"],
            &flags_two,
        ),
    )
    .unwrap_err();
    assert!(
        err.contains("does not support game version 1.5.97.0") && err.contains("1.6.*"),
        "{err}"
    );
    // A Fallout 4 mod is refused in a Skyrim folder.
    let fo = init(&author, work.path(), "fallout-4", "power-armor");
    prepare(&fo, "1.0.0", "", &[("Data/Armor.esp", b"armor".to_vec())]);
    release(&author, &fo, "1.0.0", url);
    // A file put there by hand, which no mod owns, is never overwritten.
    write(&game_two, "Data/Textures/trees/oak.dds", b"hand-made oak");
    let err = run_mod(
        &player_two,
        &with(
            &["install", &trees_target, "--any-game-version"],
            &flags_two,
        ),
    )
    .unwrap_err();
    assert!(
        err.contains(
            "\"Data/Textures/trees/oak.dds\" already exists in the game folder and no mod owns it"
        ),
        "{err}"
    );
    assert_eq!(
        std::fs::read(game_two.join("Data/Textures/trees/oak.dds")).unwrap(),
        b"hand-made oak"
    );
    assert!(
        !game_two.join("Data/Lib.esm").exists(),
        "nothing of the plan was installed"
    );
    std::fs::remove_file(game_two.join("Data/Textures/trees/oak.dds")).unwrap();
    run_mod(
        &player_two,
        &with(
            &["install", &trees_target, "--any-game-version"],
            &flags_two,
        ),
    )
    .unwrap();
    let err = run_mod(
        &player_two,
        &with(
            &[
                "install",
                &format!("{}/fallout-4.power-armor", author.hex()),
            ],
            &flags_two,
        ),
    )
    .unwrap_err();
    assert!(err.contains("skyrim-se folder, not fallout-4"), "{err}");
}

#[test]
fn an_incident_alerts_blocks_installs_and_rolls_back() {
    let Scene {
        relay_dir: _relay_dir,
        relay,
        author,
        player,
        work,
    } = Scene::new();
    let url = relay.url.as_str();
    let trees = init(&author, work.path(), "skyrim-se", "trees");
    let v1 = [
        ("Data/Trees.esp", bytes(10_000, 1)),
        ("Data/Meshes/oak.nif", bytes(50_000, 2)),
    ];
    let v2 = [
        ("Data/Trees.esp", bytes(10_000, 3)),
        ("Data/Meshes/oak.nif", bytes(50_000, 4)),
        ("Data/Scripts/evil.pex", b"bad".to_vec()),
    ];
    prepare(&trees, "1.0.0", "", &v1);
    prepare(&trees, "1.1.0", "", &v2);
    release(&author, &trees, "1.0.0", url);
    let bad = release(&author, &trees, "1.1.0", url);
    let seeder = author.seed(&[]);
    let seeders = [&seeder];
    let game = work.path().join("game");
    let flags = player_flags(&game, url, &seeders);
    let target = format!("{}/skyrim-se.trees", author.hex());
    let done = run_mod(&player, &with(&["install", &target], &flags)).unwrap();
    assert_eq!(done["plan"]["actions"][0]["to"], "1.1.0");
    assert!(game.join("Data/Scripts/evil.pex").exists());

    // Someone else's incident is shown, never enforced.
    let stranger = Person::new();
    let out = stranger.run(&[
        "mod",
        "incident",
        &target,
        "--versions",
        "*",
        "--summary",
        "I dislike trees",
        "--relay",
        url,
        "--no-dht",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let list = run_mod(
        &player,
        &["list", "--game-dir", game.to_str().unwrap(), "--relay", url],
    )
    .unwrap();
    assert_eq!(list["alerts"], 0, "{list}");
    assert_eq!(list["mods"][0]["warnings"][0], "I dislike trees");

    // The author's incident: signed, also as a NIP-56 report.
    let inc = author.run(&[
        "mod",
        "incident",
        "trees",
        "--dir",
        trees.to_str().unwrap(),
        "--versions",
        "=1.1.0",
        "--summary",
        "1.1.0 ships a malicious script",
        "--severity",
        "critical",
        "--instructions",
        "Roll back to 1.0.0",
        "--id",
        "evil-script",
        "--relay",
        url,
        "--no-dht",
        "--json",
    ]);
    assert!(
        inc.status.success(),
        "{}",
        String::from_utf8_lossy(&inc.stderr)
    );
    let inc: Value = serde_json::from_slice(&inc.stdout).unwrap();
    assert_eq!(inc["affected"], serde_json::json!(["1.1.0"]));
    let report_id = inc["report"].as_str().unwrap().to_owned();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let reports = rt.block_on(async {
        let mut conn = relay.connect().await;
        conn.query(
            "r",
            &[serde_json::json!({"kinds": [1984], "authors": [author.hex()], "#p": [author.hex()]})],
        )
        .await
        .unwrap()
    });
    assert_eq!(reports.len(), 1);
    assert_eq!(reports[0].id.to_hex(), report_id);
    let tags: Vec<Vec<String>> = reports[0]
        .tags
        .iter()
        .map(|t| t.as_slice().to_vec())
        .collect();
    let reported: Vec<&str> = tags
        .iter()
        .filter(|t| t[0] == "e" && t[2] == "malware")
        .map(|t| t[1].as_str())
        .collect();
    assert_eq!(
        reported,
        [bad["event_id"].as_str().unwrap()],
        "the 1.1.0 release event"
    );
    assert!(
        tags.iter()
            .filter(|t| t[0] == "x" && t[2] == "malware")
            .count()
            == 3,
        "{tags:?}"
    );

    // From here on players ask a hostile relay first: it forges a newer incident (with no
    // versions) and a newer release at each address, and copies of their ids. Every decision
    // stays the author's.
    let hostile = common::hostile::HostileRelay::start(url);
    let h = hostile.url.as_str();
    let flags = with(&["--relay", h], &flags);

    // The player is alerted, with the author's instructions.
    let list = run_mod(
        &player,
        &[
            "list",
            "--game-dir",
            game.to_str().unwrap(),
            "--relay",
            h,
            "--relay",
            url,
        ],
    )
    .unwrap();
    assert_eq!(list["alerts"], 1);
    assert_eq!(list["mods"][0]["alert"]["severity"], "critical");
    assert_eq!(
        list["mods"][0]["alert"]["instructions"],
        "Roll back to 1.0.0"
    );
    let text = player.run(&[
        "mod",
        "list",
        "--game-dir",
        game.to_str().unwrap(),
        "--relay",
        h,
        "--relay",
        url,
    ]);
    assert!(
        !text.status.success(),
        "an alert makes list fail, for scripts"
    );
    assert!(String::from_utf8_lossy(&text.stdout)
        .contains("ALERT critical incident: 1.1.0 ships a malicious script"));

    // New installs refuse 1.1.0, and pick 1.0.0 when no version is named.
    let other = Person::new();
    let game_two = work.path().join("game-two");
    let flags_two = with(&["--relay", h], &player_flags(&game_two, url, &seeders));
    let err = run_mod(
        &other,
        &with(&["install", &format!("{target}@1.1.0")], &flags_two),
    )
    .unwrap_err();
    assert!(
        err.contains("withdrawn by its author")
            && err.contains("malicious script")
            && err.contains("Install 1.0.0 instead"),
        "{err}"
    );
    let fresh = run_mod(&other, &with(&["install", &target], &flags_two)).unwrap();
    assert_eq!(fresh["plan"]["actions"][0]["to"], "1.0.0");

    // Rollback restores 1.0.0's exact files; the evil script is gone.
    let back = run_mod(&player, &with(&["rollback", "trees"], &flags)).unwrap();
    assert_eq!(back["plan"]["actions"][0]["action"], "downgrade");
    let expected: Vec<(PathBuf, Vec<u8>)> = {
        let mut t: Vec<(PathBuf, Vec<u8>)> = v1
            .iter()
            .map(|(p, b)| (PathBuf::from(p), b.clone()))
            .collect();
        t.push((
            PathBuf::from("plugins.txt"),
            std::fs::read(game.join("plugins.txt")).unwrap(),
        ));
        t.sort();
        t
    };
    assert_eq!(tree(&game), expected);
    let list = run_mod(
        &player,
        &[
            "list",
            "--game-dir",
            game.to_str().unwrap(),
            "--relay",
            h,
            "--relay",
            url,
        ],
    )
    .unwrap();
    assert_eq!(list["alerts"], 0);
    // And update does not walk back into the withdrawn version.
    let up = run_mod(&player, &with(&["update"], &flags)).unwrap();
    assert!(up["applied"].is_null(), "{up}");
}

#[test]
fn a_curator_and_two_players_a_collection_reproduces_the_same_folder_elsewhere() {
    let Scene {
        relay_dir: _relay_dir,
        relay,
        author,
        player,
        work,
    } = Scene::new();
    let url = relay.url.as_str();
    let lib = init(&author, work.path(), "skyrim-se", "lib");
    prepare(&lib, "1.0.0", "", &[("Data/Lib.esm", bytes(20_000, 1))]);
    release(&author, &lib, "1.0.0", url);
    let trees = init(&author, work.path(), "skyrim-se", "trees");
    prepare(
        &trees,
        "2.0.0",
        &format!(
            "dependencies:\n  - project: {}/skyrim-se.lib\n",
            author.hex()
        ),
        &[
            ("Data/Trees.esp", bytes(20_000, 2)),
            ("Data/Textures/bark.dds", bytes(90_000, 3)),
        ],
    );
    release(&author, &trees, "2.0.0", url);
    let grass = init(&author, work.path(), "skyrim-se", "grass");
    prepare(&grass, "0.3.0", "", &[("Data/Grass.esp", bytes(5_000, 4))]);
    release(&author, &grass, "0.3.0", url);
    let seeder = author.seed(&[]);
    let seeders = [&seeder];

    // The curator sets up a folder, then signs it as a collection.
    let curator = &player;
    let curated = work.path().join("curated");
    let flags = player_flags(&curated, url, &seeders);
    run_mod(
        curator,
        &with(
            &[
                "install",
                &format!("{}/skyrim-se.grass", author.hex()),
                &format!("{}/skyrim-se.trees", author.hex()),
            ],
            &flags,
        ),
    )
    .unwrap();
    let created = run_mod(
        curator,
        &[
            "collection",
            "create",
            "winter",
            "--game-dir",
            curated.to_str().unwrap(),
            "--name",
            "Winter",
            "--relay",
            url,
        ],
    )
    .unwrap();
    assert_eq!(created["mods"], 3);
    let name = created["collection"].as_str().unwrap().to_owned();
    assert!(name.ends_with("/skyrim-se.collection.winter"), "{name}");

    // Newer releases appear afterwards; the collection still pins what the curator tested.
    prepare(&lib, "1.1.0", "", &[("Data/Lib.esm", bytes(20_000, 9))]);
    release(&author, &lib, "1.1.0", url);

    // Another machine: its own home, its own folder. It asks a hostile relay first, which
    // forges a newer, empty collection at the same address and copies of every id: the
    // collection installs as the curator signed it.
    let hostile = common::hostile::HostileRelay::start(url);
    let h = hostile.url.as_str();
    let other = Person::new();
    let copy = work.path().join("copy");
    let flags_two = with(&["--relay", h], &player_flags(&copy, url, &seeders));
    let done = run_mod(&other, &with(&["collection", "install", &name], &flags_two)).unwrap();
    assert_eq!(
        done["plan"]["actions"].as_array().unwrap().len(),
        3,
        "{done}"
    );
    assert_eq!(
        tree(&copy),
        tree(&curated),
        "the same files, bytes and plugins.txt"
    );
    assert_eq!(
        std::fs::read(copy.join("Data/Lib.esm")).unwrap(),
        bytes(20_000, 1),
        "lib 1.0.0, as pinned"
    );
    let list = run_mod(
        &other,
        &["list", "--game-dir", copy.to_str().unwrap(), "--relay", url],
    )
    .unwrap();
    assert_eq!(list["collection"], name.as_str());
    assert_eq!(
        list["load_order"],
        serde_json::json!(["Lib.esm", "Grass.esp", "Trees.esp"])
    );

    // A second player installs trees on its own: unpinned, it gets the newest library. The
    // curator and this player review it, and the project's page shows both.
    let player_two = Person::new();
    let own = work.path().join("own");
    let flags_own = player_flags(&own, url, &seeders);
    let trees_target = format!("{}/skyrim-se.trees", author.hex());
    run_mod(&player_two, &with(&["install", &trees_target], &flags_own)).unwrap();
    assert_eq!(
        std::fs::read(own.join("Data/Lib.esm")).unwrap(),
        bytes(20_000, 9),
        "lib 1.1.0, the newest"
    );
    let trees_release = format!("{trees_target}@2.0.0");
    for (who, rating) in [(curator.as_ref(), "5"), (&player_two, "4")] {
        run_mod(
            who,
            &["review", &trees_release, "--rating", rating, "--relay", url],
        )
        .unwrap();
    }
    let page = run_mod(
        &other,
        &["info", &trees_target, "--relay", h, "--relay", url],
    )
    .unwrap();
    let r = &page["versions"][0];
    assert_eq!(r["rating"]["reviews"], 2, "{page}");
    assert_eq!(r["rating"]["average"], 4.5, "{page}");

    // The author withdraws the library version the collection pins: a pin does not outrank
    // the author, so the collection no longer installs, and the refusal names the incident.
    let inc = author.run(&[
        "mod",
        "incident",
        "lib",
        "--dir",
        lib.to_str().unwrap(),
        "--versions",
        "=1.0.0",
        "--summary",
        "1.0.0 corrupts saves",
        "--severity",
        "critical",
        "--id",
        "lib-saves",
        "--relay",
        url,
        "--no-dht",
    ]);
    assert!(
        inc.status.success(),
        "{}",
        String::from_utf8_lossy(&inc.stderr)
    );
    let third = Person::new();
    let refused_dir = work.path().join("refused");
    let flags_three = with(&["--relay", h], &player_flags(&refused_dir, url, &seeders));
    let err = run_mod(
        &third,
        &with(&["collection", "install", &name], &flags_three),
    )
    .unwrap_err();
    assert!(err.contains("lib-saves"), "{err}");
    assert!(!refused_dir.join("Data/Lib.esm").exists());
}

#[test]
fn curators_review_report_and_govern_and_relays_state_their_policy() {
    let operator = Person::new();
    let relay_dir = tempfile::tempdir().unwrap();
    let config = relay_dir.path().join("relay.toml");
    std::fs::write(
        &config,
        format!("[info]\npubkey = \"{}\"\n", operator.hex()),
    )
    .unwrap();
    let relay = common::RelayProcess::start(
        &relay_dir.path().join("data"),
        &["--config", config.to_str().unwrap()],
    );
    let url = relay.url.as_str();
    let author = Person::new();
    let work = tempfile::tempdir().unwrap();
    let trees = init(&author, work.path(), "skyrim-se", "trees");
    prepare(
        &trees,
        "1.0.0",
        "",
        &[("Data/Trees.esp", b"trees".to_vec())],
    );
    release(&author, &trees, "1.0.0", url);
    let rel = format!("{}/skyrim-se.trees@1.0.0", author.hex());
    let project = format!("{}/skyrim-se.trees", author.hex());

    let (curator, player) = (Person::new(), Person::new());
    run_mod(
        &curator,
        &[
            "review",
            &rel,
            "--rating",
            "4",
            "--text",
            "Lovely bark",
            "--relay",
            url,
        ],
    )
    .unwrap();
    run_mod(&player, &["review", &rel, "--rating", "5", "--relay", url]).unwrap();
    // A reviewer's second review replaces the first, even within the same second: the
    // client dates it after the one it replaces.
    run_mod(
        &player,
        &[
            "review",
            &rel,
            "--rating",
            "3",
            "--text",
            "changed my mind",
            "--relay",
            url,
        ],
    )
    .unwrap();
    let err = run_mod(&player, &["review", &rel, "--rating", "7", "--relay", url]).unwrap_err();
    assert!(err.contains("--rating 7 is not from 1 to 5"), "{err}");
    run_mod(
        &curator,
        &[
            "compat",
            &rel,
            "--game-version",
            "1.6.1170",
            "--status",
            "works",
            "--relay",
            url,
        ],
    )
    .unwrap();
    run_mod(
        &player,
        &[
            "bug",
            &rel,
            "--title",
            "Floating trees near Riverwood",
            "--id",
            "1",
            "--relay",
            url,
        ],
    )
    .unwrap();
    run_mod(
        &player,
        &["support", &project, "--text", "Thank you!", "--relay", url],
    )
    .unwrap();
    let err = run_mod(
        &player,
        &[
            "compat",
            &rel,
            "--game-version",
            "1.6",
            "--status",
            "meh",
            "--relay",
            url,
        ],
    )
    .unwrap_err();
    assert!(err.contains("use works, issues or broken"), "{err}");

    let page = run_mod(&player, &["info", &project, "--relay", url]).unwrap();
    let r = &page["versions"][0];
    assert_eq!(r["version"], "1.0.0");
    assert_eq!(r["rating"]["reviews"], 2, "{page}");
    assert_eq!(r["rating"]["average"], 3.5);
    assert_eq!(r["compatibility"][0]["status"], "works");
    assert_eq!(r["bugs"][0]["title"], "Floating trees near Riverwood");
    assert_eq!(page["support_messages"], 1);

    // Relay policies: the operator's is marked as such; anyone else's is not.
    for who in [&operator, &curator] {
        run_mod(
            who,
            &[
                "policy",
                "publish",
                "--relay-url",
                url,
                "--retention",
                "forever",
                "--jurisdiction",
                "EU",
                "--moderation",
                "incidents honoured",
                "--kind",
                "30079",
                "--relay",
                url,
            ],
        )
        .unwrap();
    }
    let shown = run_mod(&player, &["policy", "show", "--relay", url]).unwrap();
    let policies = shown["policies"].as_array().unwrap();
    assert_eq!(policies.len(), 2, "{shown}");
    let by_op: Vec<bool> = policies.iter().map(|p| p["by_operator"] == true).collect();
    assert_eq!(by_op.iter().filter(|b| **b).count(), 1);
    let op = policies.iter().find(|p| p["by_operator"] == true).unwrap();
    assert_eq!(op["signer"], operator.hex());
    assert_eq!(op["policy"]["jurisdiction"], "EU");

    // Governance: a proposal with a quorum of three and a 60% threshold, open for an hour.
    let voters: Vec<Person> = (0..3).map(|_| Person::new()).collect();
    let closes = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        + 3600;
    let proposed = run_mod(
        &curator,
        &[
            "propose",
            "skyrim-se",
            "esl-only",
            "--title",
            "Prefer ESL plugins",
            "--option",
            "yes",
            "--option",
            "no",
            "--min-voters",
            "3",
            "--threshold",
            "60",
            "--closes",
            &closes.to_string(),
            "--relay",
            url,
        ],
    )
    .unwrap();
    let address = proposed["proposal"].as_str().unwrap().to_owned();
    let name = format!("{}/skyrim-se.proposal.esl-only", curator.hex());
    assert!(address.ends_with(":skyrim-se.proposal.esl-only"));
    for (v, option) in voters.iter().zip(["no", "yes", "yes"]) {
        run_mod(v, &["vote", &name, "--option", option, "--relay", url]).unwrap();
    }
    // The first voter changes their mind at once; only the newest vote counts.
    run_mod(
        &voters[0],
        &["vote", &name, "--option", "yes", "--relay", url],
    )
    .unwrap();
    let err = run_mod(
        &voters[0],
        &["vote", &name, "--option", "maybe", "--relay", url],
    )
    .unwrap_err();
    assert!(err.contains("\"maybe\" is not an option"), "{err}");
    let open = run_mod(&player, &["tally", &name, "--relay", url]).unwrap();
    assert_eq!(open["tally"]["outcome"]["state"], "open");
    // Tallied as of a moment after the close: decided.
    let after = (closes + 1).to_string();
    let closed = run_mod(
        &player,
        &["tally", &address, "--at", &after, "--relay", url],
    )
    .unwrap();
    assert_eq!(closed["tally"]["voters"], 3, "{closed}");
    assert_eq!(
        closed["tally"]["counts"],
        serde_json::json!([["yes", 3], ["no", 0]])
    );
    assert_eq!(
        closed["tally"]["outcome"],
        serde_json::json!({"state": "passed", "option": "yes"})
    );
}

#[test]
fn with_every_relay_down_mods_install_from_the_authors_feeds_on_the_dht() {
    let net = seedstr_dht::Testnet::builder(20).build().unwrap();
    let dht = common::dht_bootstrap(&net);
    let Scene {
        relay_dir: _relay_dir,
        mut relay,
        author,
        player,
        work,
    } = Scene::new();
    let url = relay.url.clone();
    let lib_author = Person::new();
    let lib = init(&lib_author, work.path(), "skyrim-se", "lib");
    prepare(&lib, "1.0.0", "", &[("Data/Lib.esm", bytes(20_000, 1))]);
    let lib_feed = try_release_with(&lib_author, &lib, "1.0.0", &url, &dht).unwrap()["dht"]["feed"]
        ["infohash"]
        .as_str()
        .unwrap()
        .to_owned();
    let trees = init(&author, work.path(), "skyrim-se", "trees");
    let requires_lib = format!(
        "dependencies:\n  - project: {}/skyrim-se.lib\n",
        lib_author.hex()
    );
    for (version, seed) in [("1.0.0", 2), ("1.1.0", 3)] {
        prepare(
            &trees,
            version,
            &requires_lib,
            &[("Data/Trees.esp", bytes(30_000, seed))],
        );
        try_release_with(&author, &trees, version, &url, &dht).unwrap();
    }
    // The incident also rewrites the author's feed, so it reaches players without relays.
    let mut incident = vec![
        "mod",
        "incident",
        "trees",
        "--dir",
        trees.to_str().unwrap(),
        "--versions",
        "=1.1.0",
        "--summary",
        "1.1.0 corrupts saves",
        "--relay",
        &url,
        "--json",
    ];
    incident.extend(&dht);
    let out = author.run(&incident);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let trees_feed = serde_json::from_slice::<Value>(&out.stdout).unwrap()["feed"]
        .as_str()
        .expect("the feed was rewritten")
        .to_owned();
    let lib_seed = lib_author.seed(&dht);
    let trees_seed = author.seed(&dht);
    lib_seed.wait_for("the lib feed announced", |v| v["announced"] == lib_feed);
    trees_seed.wait_for("the trees feed announced", |v| v["announced"] == trees_feed);

    // The player met both authors while the relay was up (their attestations are kept).
    for who in [&author, &lib_author] {
        let mut args: Vec<String> = vec![
            "feed".into(),
            "resolve".into(),
            who.hex(),
            "--relay".into(),
            url.clone(),
            "--listen".into(),
            "127.0.0.1:0".into(),
            "--json".into(),
        ];
        args.extend(dht.iter().map(|s| s.to_string()));
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = player.run(&args);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let _ = relay.child.kill();
    let _ = relay.child.wait();

    let game = work.path().join("game");
    write(&game, "Data/Skyrim.esm", b"the game's master");
    let target = format!("{}/skyrim-se.trees", author.hex());
    let mut args = vec![
        "install",
        &target,
        "--game-dir",
        game.to_str().unwrap(),
        "--relay",
        &url,
        "--relay-timeout",
        "2",
        "--listen",
        "127.0.0.1:0",
        "--stall-timeout",
        "20",
        "--yes",
        "--peer",
        &lib_seed.addr,
        "--peer",
        &trees_seed.addr,
    ];
    args.extend(&dht);
    let done = run_mod(&player, &args).unwrap();
    let actions: Vec<(String, String)> = done["plan"]["actions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["mod"]
                    .as_str()
                    .unwrap()
                    .rsplit('/')
                    .next()
                    .unwrap()
                    .to_owned(),
                a["to"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        actions,
        vec![
            ("skyrim-se.lib".to_owned(), "1.0.0".to_owned()),
            ("skyrim-se.trees".to_owned(), "1.0.0".to_owned())
        ],
        "1.1.0 is withdrawn by the incident read from the feed: {done}"
    );
    let warnings = done["plan"]["warnings"].to_string();
    assert!(warnings.contains("feeds on the DHT"), "{done}");
    assert_eq!(
        std::fs::read(game.join("Data/Trees.esp")).unwrap(),
        bytes(30_000, 2)
    );
    assert!(
        plugins_txt(&game).ends_with("*Lib.esm\r\n*Trees.esp\r\n"),
        "{}",
        plugins_txt(&game)
    );

    // Without the DHT the same install fails, naming the relay.
    let err = run_mod(
        &player,
        &with(&["install", &target], &player_flags(&game, &url, &[])),
    )
    .unwrap_err();
    assert!(err.contains("no relay answered"), "{err}");
}

/// Two `mod install` processes into one game folder at once take turns (one writer per
/// folder): both mods end up installed, in the lockfile and in plugins.txt. Without the lock,
/// each would commit the lockfile it read before the other's commit, and one install would
/// vanish from it.
#[test]
fn two_mod_installs_into_one_folder_both_land() {
    let Scene {
        relay_dir: _relay_dir,
        relay,
        author,
        player,
        work,
    } = Scene::new();
    let url = relay.url.as_str();
    let mut targets = Vec::new();
    for (slug, plugin) in [("trees", "Trees.esp"), ("grass", "Grass.esp")] {
        let dir = init(&author, work.path(), "skyrim-se", slug);
        prepare(
            &dir,
            "1.0.0",
            "",
            &[
                (&format!("Data/{plugin}"), bytes(10_000, slug.len() as u32)),
                (&format!("Data/Meshes/{slug}.nif"), bytes(400_000, 7)),
            ],
        );
        release(&author, &dir, "1.0.0", url);
        targets.push(format!("{}/skyrim-se.{slug}", author.hex()));
    }
    let seeder = author.seed(&[]);
    let seeders = [&seeder];
    let game = work.path().join("game");
    std::fs::create_dir_all(&game).unwrap();
    let flags = player_flags(&game, url, &seeders);
    let (a, b) = std::thread::scope(|scope| {
        let a = scope.spawn(|| run_mod(&player, &with(&["install", &targets[0]], &flags)));
        let b = scope.spawn(|| run_mod(&player, &with(&["install", &targets[1]], &flags)));
        (a.join().unwrap(), b.join().unwrap())
    });
    assert!(a.is_ok() && b.is_ok(), "{a:?} {b:?}");
    let list = run_mod(
        &player,
        &["list", "--game-dir", game.to_str().unwrap(), "--relay", url],
    )
    .unwrap();
    assert_eq!(list["mods"].as_array().unwrap().len(), 2, "{list}");
    let plugins = plugins_txt(&game);
    assert!(
        plugins.contains("Trees.esp") && plugins.contains("Grass.esp"),
        "{plugins}"
    );
}
