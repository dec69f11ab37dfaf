//! Bad input and faults on the install path, each against real parts: releases crafted and
//! signed here (as a careless or hostile publisher would), a real relay, a librqbit seeder,
//! a web mirror served by Python's http.server. Every refusal names the problem and installs
//! nothing.

mod common;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;

use common::spine::{bytes, release_for, tree, write, Person, Scene, WebMirror};
use common::RelayProcess;
use nostr::prelude::FinalizeEvent as _;
use nostr::prelude::*;
use seedstr_proto::release::{Coordinate, Release};
use seedstr_store::Store;
use seedstr_swarm::{Sources, Swarm, SwarmOptions, Torrent};

fn payload(dir: &Path) {
    write(dir, "Data/big.bin", &bytes(2_000_000, 3));
    write(dir, "readme.txt", b"read me\n");
}

fn sign(person: &Person, release: &Release) -> Event {
    release
        .to_builder(&person.keys.public_key())
        .finalize(&person.keys)
        .unwrap()
}

async fn send(relay: &RelayProcess, event: &Event) {
    let (ok, msg) = relay.connect().await.publish(event).await.unwrap();
    assert!(ok, "the relay refused a crafted event: {msg}");
}

async fn seeder_for(torrent: &Torrent, dir: &Path) -> (Swarm, String) {
    let swarm = Swarm::start(SwarmOptions {
        listen: Some("127.0.0.1:0".parse().unwrap()),
        ..Default::default()
    })
    .await
    .unwrap();
    swarm
        .seed(&torrent.to_file_bytes(&[]), dir, &Sources::default())
        .await
        .unwrap()
        .wait_until_completed()
        .await
        .unwrap();
    let addr = swarm.local_peer_addr().unwrap().to_string();
    (swarm, addr)
}

/// The CLI blocks; run it off the runtime that drives the in-process seeder.
async fn install(
    person: &Arc<Person>,
    target: String,
    root: &Path,
    relay: &str,
    peers: Vec<String>,
) -> Result<serde_json::Value, String> {
    let (person, root, relay) = (person.clone(), root.to_path_buf(), relay.to_owned());
    tokio::task::spawn_blocking(move || person.install(&target, &root, &relay, &peers, &[]))
        .await
        .unwrap()
}

fn assert_nothing_installed(root: &Path) {
    assert!(
        tree(root).is_empty(),
        "files were installed: {:?}",
        tree(root)
    );
    assert!(
        !root.join("seedstr.lock").exists(),
        "a lockfile was written"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_manifest_hash_the_swarms_bytes_do_not_match_installs_nothing() {
    let Scene {
        relay_dir: _relay_dir,
        relay,
        author,
        player,
        work,
    } = Scene::new();
    let src = work.path().join("src");
    payload(&src);
    // The torrent is sound (librqbit checks its SHA-1 pieces) but the signed SHA-256 is not.
    let (release, torrent) = release_for(&src, "tool", "1.0.0", |r| r.files[0].sha256[0] ^= 1);
    send(&relay, &sign(&author, &release)).await;
    let (_seeder, addr) = seeder_for(&torrent, &src).await;
    let root = work.path().join("root");
    let err = install(
        &player,
        format!("{}/generic.tool", author.hex()),
        &root,
        &relay.url,
        vec![addr],
    )
    .await
    .unwrap_err();
    assert!(
        err.contains("wrong bytes for \"Data/big.bin\" from the swarm: SHA-256"),
        "{err}"
    );
    assert!(err.contains("nothing was installed"), "{err}");
    assert_nothing_installed(&root);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malicious_mirror_mirrors_take_over_from_an_empty_swarm_and_their_bytes_are_checked() {
    let Scene {
        relay_dir: _relay_dir,
        relay,
        author,
        player,
        work,
    } = Scene::new();
    let src = work.path().join("src");
    payload(&src);
    let site = work.path().join("site");
    write(
        &site,
        "good/Data/big.bin",
        &std::fs::read(src.join("Data/big.bin")).unwrap(),
    );
    write(&site, "good/readme.txt", b"read me\n");
    let mut corrupt = std::fs::read(src.join("Data/big.bin")).unwrap();
    corrupt[1_000_000] ^= 0xff;
    write(&site, "bad/Data/big.bin", &corrupt);
    write(&site, "bad/readme.txt", b"read me\n");
    let mirror = WebMirror::start(&site);

    // No seeder at all: the swarm never answers, the mirror delivers.
    let (good, _) = release_for(&src, "tool", "1.0.0", |r| {
        r.mirrors = vec![format!("{}/good", mirror.url)]
    });
    send(&relay, &sign(&author, &good)).await;
    let root = work.path().join("root");
    let target = format!("{}/generic.tool", author.hex());
    let r = install(&player, target.clone(), &root, &relay.url, vec![])
        .await
        .unwrap();
    assert_eq!(r["swarm_bytes"], 0);
    assert_eq!(r["mirror_bytes"], 2_000_008);
    assert_eq!(tree(&root), tree(&src));
    // Our torrents are deterministic, so the installer rebuilt the very torrent and seeds it.
    let seeds = player
        .home
        .path()
        .join("seeds")
        .join(format!("{}.torrent", good.infohash_hex()));
    assert!(
        seeds.exists(),
        "the mirror-installed payload is registered for seeding"
    );

    // 1.0.1 names only a mirror with a corrupted file: refused, and 1.0.0 stays.
    let (bad, _) = release_for(&src, "tool", "1.0.1", |r| {
        r.mirrors = vec![format!("{}/bad", mirror.url)]
    });
    send(&relay, &sign(&author, &bad)).await;
    let before = tree(&root);
    let err = install(&player, target, &root, &relay.url, vec![])
        .await
        .unwrap_err();
    assert!(err.contains("wrong bytes for \"Data/big.bin\""), "{err}");
    assert!(err.contains("SHA-256"), "{err}");
    assert_eq!(tree(&root), before);
}

/// Endless data, two ways: a release declaring more than the install's cap is refused before
/// any byte is asked for, naming the cap; a mirror sending more than the signed size is cut
/// off at that size and nothing is installed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn endless_data_declared_or_sent_is_refused_at_the_cap() {
    let Scene {
        relay_dir: _relay_dir,
        relay,
        author,
        player,
        work,
    } = Scene::new();
    let src = work.path().join("src");
    payload(&src);
    let site = work.path().join("site");
    write(&site, "long/Data/big.bin", &bytes(3_000_000, 3));
    write(&site, "long/readme.txt", b"read me\n");
    let mirror = WebMirror::start(&site);
    let root = work.path().join("root");

    // A terabyte declared: refused under the default 64 GiB cap, the mirror never asked.
    let (huge, _) = release_for(&src, "huge", "1.0.0", |r| {
        r.mirrors = vec![format!("{}/long", mirror.url)];
        r.files.iter_mut().for_each(|f| f.size = 1 << 40);
    });
    send(&relay, &sign(&author, &huge)).await;
    let err = install(
        &player,
        format!("{}/generic.huge", author.hex()),
        &root,
        &relay.url,
        vec![],
    )
    .await
    .unwrap_err();
    assert!(err.contains("more than the 68719476736-byte cap"), "{err}");
    assert!(err.contains("nothing was fetched"), "{err}");
    assert_eq!(mirror.requests(), Vec::<String>::new());
    assert_nothing_installed(&root);

    // An honest 2 MB release, over a cap the user lowered: refused the same way.
    let (honest, _) = release_for(&src, "tool", "1.0.0", |r| {
        r.mirrors = vec![format!("{}/long", mirror.url)]
    });
    send(&relay, &sign(&author, &honest)).await;
    let target = format!("{}/generic.tool", author.hex());
    let (p, t, r) = (player.clone(), target.clone(), root.clone());
    let relay_url = relay.url.clone();
    let err = tokio::task::spawn_blocking(move || {
        p.install(&t, &r, &relay_url, &[], &["--max-release-bytes", "1000000"])
    })
    .await
    .unwrap()
    .unwrap_err();
    assert!(err.contains("2000008 bytes"), "{err}");
    assert!(err.contains("1000000-byte cap"), "{err}");
    assert_eq!(mirror.requests(), Vec::<String>::new());

    // Under the cap, the mirror sends 3 MB for a file signed at 2 MB: cut off, nothing installed.
    let err = install(&player, target, &root, &relay.url, vec![])
        .await
        .unwrap_err();
    assert!(err.contains("\"Data/big.bin\""), "{err}");
    assert!(
        err.contains("more than the 2000000 bytes expected"),
        "{err}"
    );
    assert!(mirror.requests().contains(&"/long/Data/big.bin".to_owned()));
    assert_nothing_installed(&root);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn arbitrary_installation_a_forged_event_in_the_relays_own_store_is_refused() {
    let relay_dir = tempfile::tempdir().unwrap();
    let (author, player) = (Person::new(), Arc::new(Person::new()));
    let work = tempfile::tempdir().unwrap();
    let src = work.path().join("src");
    payload(&src);
    let (release, _) = release_for(&src, "tool", "1.0.0", |_| {});
    let signed = sign(&author, &release);
    // Someone with disk access swaps a file hash; id and signature no longer fit the content.
    let mut forged: serde_json::Value = serde_json::from_str(&signed.as_json()).unwrap();
    let tags = forged["tags"].as_array_mut().unwrap();
    let file_tag = tags.iter_mut().find(|t| t[0] == "file").unwrap();
    file_tag[2] = serde_json::Value::String("00".repeat(32));
    let forged = Event::from_json(forged.to_string()).unwrap();
    {
        let store = seedstr_store::lmdb::LmdbStore::open(relay_dir.path()).unwrap();
        store.save(forged.clone()).await.unwrap();
    }
    let relay = RelayProcess::start(relay_dir.path(), &[]);
    let root = work.path().join("root");
    let err = install(
        &player,
        format!("{}/generic.tool", author.hex()),
        &root,
        &relay.url,
        vec![],
    )
    .await
    .unwrap_err();
    assert!(err.contains("was refused"), "{err}");
    assert!(err.contains(&forged.id.to_hex()), "{err}");
    assert!(err.contains("signature or id is invalid"), "{err}");
    assert_nothing_installed(&root);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn foreign_namespaces_unsafe_and_reserved_paths_and_links_are_refused() {
    let Scene {
        relay_dir: _relay_dir,
        relay,
        author,
        player,
        work,
    } = Scene::new();
    let src = work.path().join("src");
    payload(&src);
    let root = work.path().join("root");
    let target = |slug: &str| format!("{}/generic.{slug}", author.hex());

    // A release of another game's namespace that also tags itself as ours.
    let (mut foreign, _) = release_for(&src, "tool", "1.0.0", |_| {});
    foreign.coordinate = Coordinate::new("fallout-4", "tool").unwrap();
    let ours = Coordinate::new("generic", "tool")
        .unwrap()
        .project_address(&author.keys.public_key());
    let foreign = foreign
        .to_builder(&author.keys.public_key())
        .tag(Tag::parse(["a", &ours]).unwrap())
        .finalize(&author.keys)
        .unwrap();
    send(&relay, &foreign).await;
    let err = install(&player, target("tool"), &root, &relay.url, vec![])
        .await
        .unwrap_err();
    assert!(
        err.contains("belongs to namespace \"fallout-4\", not \"generic\""),
        "{err}"
    );

    for (slug, path, says) in [
        ("up", "../escape.txt", "escape"),
        ("abs", "/etc/escape.txt", "absolute"),
        ("deep", "Data/../../escape.txt", "escape"),
    ] {
        let (r, _) = release_for(&src, slug, "1.0.0", |r| r.files[1].path = path.into());
        send(&relay, &sign(&author, &r)).await;
        let err = install(&player, target(slug), &root, &relay.url, vec![])
            .await
            .unwrap_err();
        assert!(err.contains(path) && err.contains(says), "{path}: {err}");
    }
    assert!(!work.path().join("escape.txt").exists());

    let (reserved, _) = release_for(&src, "state", "1.0.0", |r| {
        r.files[1].path = ".seedstr/tx/evil".into()
    });
    send(&relay, &sign(&author, &reserved)).await;
    let err = install(&player, target("state"), &root, &relay.url, vec![])
        .await
        .unwrap_err();
    assert!(
        err.contains("a name Seedstr keeps for its own state"),
        "{err}"
    );
    assert_nothing_installed(&root);

    // A folder in the root that is a link to elsewhere is never written through.
    let (linked, torrent) = release_for(&src, "linked", "1.0.0", |_| {});
    send(&relay, &sign(&author, &linked)).await;
    let (_seeder, addr) = seeder_for(&torrent, &src).await;
    let elsewhere = work.path().join("elsewhere");
    std::fs::create_dir_all(&elsewhere).unwrap();
    std::fs::create_dir_all(&root).unwrap();
    std::os::unix::fs::symlink(&elsewhere, root.join("Data")).unwrap();
    let err = install(&player, target("linked"), &root, &relay.url, vec![addr])
        .await
        .unwrap_err();
    assert!(err.contains("symbolic link"), "{err}");
    assert!(
        std::fs::read_dir(&elsewhere).unwrap().next().is_none(),
        "nothing written through the link"
    );
    assert!(
        !root.join("readme.txt").exists(),
        "the transaction rolled back"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn files_of_another_install_or_of_nobody_are_not_overwritten() {
    let Scene {
        relay_dir: _relay_dir,
        relay,
        author,
        player,
        work,
    } = Scene::new();
    let (a, b) = (work.path().join("a"), work.path().join("b"));
    payload(&a);
    write(&b, "readme.txt", b"another project's readme\n");
    let (ra, ta) = release_for(&a, "first", "1.0.0", |_| {});
    let (rb, _) = release_for(&b, "second", "1.0.0", |_| {});
    send(&relay, &sign(&author, &ra)).await;
    send(&relay, &sign(&author, &rb)).await;
    let (_seeder, addr) = seeder_for(&ta, &a).await;
    let root = work.path().join("root");
    install(
        &player,
        format!("{}/generic.first", author.hex()),
        &root,
        &relay.url,
        vec![addr],
    )
    .await
    .unwrap();
    let err = install(
        &player,
        format!("{}/generic.second", author.hex()),
        &root,
        &relay.url,
        vec![],
    )
    .await
    .unwrap_err();
    assert!(
        err.contains("\"readme.txt\", which belongs to generic.first@1.0.0"),
        "{err}"
    );

    let fresh = work.path().join("fresh");
    write(&fresh, "readme.txt", b"mine, not seedstr's\n");
    let err = install(
        &player,
        format!("{}/generic.second", author.hex()),
        &fresh,
        &relay.url,
        vec![],
    )
    .await
    .unwrap_err();
    assert!(
        err.contains("already exists in the install folder and no install owns it"),
        "{err}"
    );
    assert_eq!(
        std::fs::read(fresh.join("readme.txt")).unwrap(),
        b"mine, not seedstr's\n"
    );
}

/// `seedstr install --into <root> …` as a child process, its stderr lines sent to a channel.
fn spawn_install(
    person: &Person,
    target: &str,
    root: &Path,
    relay: &str,
    stall_secs: &str,
    extra: &[&str],
) -> (Child, std::sync::mpsc::Receiver<String>) {
    let mut child = person
        .command(&[
            "install",
            target,
            "--into",
            root.to_str().unwrap(),
            "--relay",
            relay,
            "--listen",
            "127.0.0.1:0",
            "--no-dht",
            "--stall-timeout",
            stall_secs,
            "--json",
        ])
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let stderr = child.stderr.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            eprintln!("{line}");
            let _ = tx.send(line);
        }
    });
    (child, rx)
}

/// Waits (with a deadline) until process `pid` holds the folder's lock.
fn wait_for_holder(root: &Path, pid: u32) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let holder = seedstr_client::files::lock::holder_of(root);
        if holder.as_ref().map(|h| h.pid) == Some(pid) {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "process {pid} never took the lock: {holder:?}"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

/// One writer per install folder, with real processes: two installs started together both
/// complete, one after the other; an install that finds the folder held says whom it waits
/// for, and goes on once the holder is killed (the kernel drops a dead process's lock).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_installers_in_one_folder_take_turns() {
    let Scene {
        relay_dir: _relay_dir,
        relay,
        author,
        player,
        work,
    } = Scene::new();
    let site = work.path().join("site");
    let mut targets = Vec::new();
    for slug in ["one", "two", "three"] {
        let src = work.path().join(slug);
        write(
            &src,
            &format!("{slug}/data.bin"),
            &bytes(300_000, slug.len() as u32),
        );
        write(
            &site,
            &format!("{slug}/{slug}/data.bin"),
            &std::fs::read(src.join(format!("{slug}/data.bin"))).unwrap(),
        );
        targets.push((slug, src));
    }
    let mirror = WebMirror::start(&site);
    for (slug, src) in &targets {
        let (r, _) = release_for(src, slug, "1.0.0", |r| {
            r.mirrors = vec![format!("{}/{slug}", mirror.url)]
        });
        send(&relay, &sign(&author, &r)).await;
    }
    // A fourth release with neither seeder nor mirror: its installer waits for peers, holding
    // the folder.
    let stuck_src = work.path().join("stuck");
    write(&stuck_src, "stuck/data.bin", b"never delivered");
    let (stuck, _) = release_for(&stuck_src, "stuck", "1.0.0", |_| {});
    send(&relay, &sign(&author, &stuck)).await;

    let root = work.path().join("root");
    let target = |slug: &str| format!("{}/generic.{slug}", author.hex());
    let (player_ref, relay_url) = (player.clone(), relay.url.clone());
    let (root2, t1, t2) = (root.clone(), target("one"), target("two"));
    let outputs = tokio::task::spawn_blocking(move || {
        let (a, _) = spawn_install(&player_ref, &t1, &root2, &relay_url, "5", &[]);
        let (b, _) = spawn_install(&player_ref, &t2, &root2, &relay_url, "5", &[]);
        [a.wait_with_output().unwrap(), b.wait_with_output().unwrap()]
    })
    .await
    .unwrap();
    for out in &outputs {
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stdout)
        );
    }
    let lock: serde_json::Value =
        serde_json::from_slice(&std::fs::read(root.join("seedstr.lock")).unwrap()).unwrap();
    let installed: Vec<&str> = lock["installs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["coordinate"].as_str().unwrap())
        .collect();
    assert_eq!(installed.len(), 2, "{lock}");
    assert!(installed.contains(&"generic.one") && installed.contains(&"generic.two"));

    let (player_ref, relay_url, root2) = (player.clone(), relay.url.clone(), root.clone());
    let (t_stuck, t3) = (target("stuck"), target("three"));
    // A "peer" that accepts connections and never says a word: the stuck installer waits on
    // it, holding the folder.
    let mute = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let mute_peer = mute.local_addr().unwrap().to_string();
    std::thread::spawn(move || {
        let held: Vec<_> = mute.incoming().map_while(Result::ok).collect();
        drop(held);
    });
    let (waiter_out, waited_for) = tokio::task::spawn_blocking(move || {
        let (mut holder, _) = spawn_install(
            &player_ref,
            &t_stuck,
            &root2,
            &relay_url,
            "600",
            &["--peer", &mute_peer],
        );
        wait_for_holder(&root2, holder.id());
        let (waiter, lines) = spawn_install(&player_ref, &t3, &root2, &relay_url, "5", &[]);
        let Some(waiting) = lines.iter().find(|l| l.contains("waiting for process")) else {
            let _ = holder.kill();
            let out = holder.wait_with_output().unwrap();
            panic!(
                "the second installer did not say whom it waits for; the holder printed {}",
                String::from_utf8_lossy(&out.stdout)
            );
        };
        holder.kill().unwrap();
        holder.wait().unwrap();
        (waiter.wait_with_output().unwrap(), (waiting, holder.id()))
    })
    .await
    .unwrap();
    let (waiting, holder_pid) = waited_for;
    assert!(
        waiting.contains(&format!("waiting for process {holder_pid} (")),
        "{waiting}"
    );
    assert!(waiting.contains("install"), "{waiting}");
    assert!(
        waiter_out.status.success(),
        "{}",
        String::from_utf8_lossy(&waiter_out.stdout)
    );
    assert!(root.join("three/data.bin").exists());
    assert!(
        !root.join("stuck").exists(),
        "the killed install left files"
    );
    let verify = player.run(&["verify", root.to_str().unwrap(), "--json"]);
    assert!(
        verify.status.success(),
        "{}",
        String::from_utf8_lossy(&verify.stdout)
    );
}

/// Signed releases of `generic.tool`, one per (version, seed), each a `tool/data.bin` of
/// `size` bytes, served by a web mirror (kept alive by the caller) that the releases name.
fn tool_versions_on_a_mirror(
    work: &Path,
    author: &Person,
    versions: &[(&str, u32)],
    size: usize,
) -> (WebMirror, Vec<Event>) {
    let site = work.join("site");
    for (version, seed) in versions {
        write(
            &site,
            &format!("{version}/tool/data.bin"),
            &bytes(size, *seed),
        );
    }
    let mirror = WebMirror::start(&site);
    let events = versions
        .iter()
        .map(|(version, _)| {
            let (r, _) = release_for(&site.join(version), "tool", version, |r| {
                r.mirrors = vec![format!("{}/{version}", mirror.url)]
            });
            sign(author, &r)
        })
        .collect();
    (mirror, events)
}

/// Fast-forward attack: a huge version (999.0.0, as a thief of the author's key would publish)
/// gets installed. The author's incident withdraws it, and that binds `seedstr install` as it
/// binds every other install path: the withdrawn version asked for by name is refused naming
/// the incident, an unnamed version is never a withdrawn one, and the folder moves back off it
/// without --allow-downgrade, so the huge version cannot hold the folder hostage. A hostile
/// relay, asked first, forges a newer version of the incident that covers nothing: the
/// author's word stands. (Events dated far ahead are set aside by the selection rule; see
/// proto's event tests.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fast_forward_a_huge_version_its_author_withdrew_is_left_and_never_chosen() {
    let Scene {
        relay_dir: _relay_dir,
        relay,
        author,
        player,
        work,
    } = Scene::new();
    let (_mirror, events) = tool_versions_on_a_mirror(
        work.path(),
        &author,
        &[("1.0.0", 1), ("999.0.0", 2)],
        100_000,
    );
    for e in &events {
        send(&relay, e).await;
    }
    let root = work.path().join("root");
    let target = format!("{}/generic.tool", author.hex());
    let first = install(&player, target.clone(), &root, &relay.url, vec![])
        .await
        .unwrap();
    assert_eq!(first["version"], "999.0.0");

    let incident = seedstr_proto::incident::Incident {
        project_author: author.keys.public_key(),
        coordinate: Coordinate::new("generic", "tool").unwrap(),
        id: "bad-build".into(),
        versions: seedstr_proto::release::VersionReq::parse(">=2.0.0").unwrap(),
        severity: seedstr_proto::incident::Severity::Critical,
        summary: "999.0.0 was signed with a stolen key".into(),
        instructions: "Use 1.0.0".into(),
        affected_events: vec![],
        withdrawn: false,
    };
    send(
        &relay,
        &incident.to_builder().finalize(&author.keys).unwrap(),
    )
    .await;
    let hostile = common::hostile::HostileRelay::start(&relay.url);
    let relays = relay.url.clone();
    let both = |p: &Arc<Person>, t: String, r: &Path| {
        let (p, r, hostile, relays) = (
            p.clone(),
            r.to_path_buf(),
            hostile.url.clone(),
            relays.clone(),
        );
        tokio::task::spawn_blocking(move || p.install(&t, &r, &hostile, &[], &["--relay", &relays]))
    };

    // By name: refused, naming the incident, and nothing installed.
    let fresh = work.path().join("fresh");
    let err = both(&player, format!("{target}@999.0.0"), &fresh)
        .await
        .unwrap()
        .unwrap_err();
    assert!(
        err.contains("generic.tool@999.0.0 is withdrawn by its author's incident bad-build (critical): 999.0.0 was signed with a stolen key (Use 1.0.0)"),
        "{err}"
    );
    assert_nothing_installed(&fresh);

    // By default: 1.0.0, and the folder holding 1.1.0 moves off it without --allow-downgrade.
    let moved = both(&player, target, &root).await.unwrap().unwrap();
    assert_eq!(moved["version"], "1.0.0");
    assert_eq!(moved["outcome"], "downgraded");
    assert!(
        moved["rejected"].to_string().contains("bad-build"),
        "{moved}"
    );
    assert_eq!(
        std::fs::read(root.join("tool/data.bin")).unwrap(),
        bytes(100_000, 1)
    );
}

/// `key import` takes the secret from standard input or a file, never from argv, where the
/// process list and shell history would keep it.
#[test]
fn a_secret_key_on_the_command_line_is_refused() {
    let home = tempfile::tempdir().unwrap();
    let secret = Keys::generate().secret_key().to_secret_hex();
    let seedstr = || {
        let mut c = Command::new(env!("CARGO_BIN_EXE_seedstr"));
        c.env("SEEDSTR_HOME", home.path())
            .env("SEEDSTR_PASSPHRASE", "pass");
        c
    };
    let out = seedstr().args(["key", "import", &secret]).output().unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("not taken on the command line"), "{err}");
    assert!(!err.contains(&secret), "the error repeats the secret");
    assert!(!home.path().join("key.ncryptsec").exists());

    let file = home.path().join("secret.txt");
    std::fs::write(&file, format!("{secret}\n")).unwrap();
    let out = seedstr()
        .args(["key", "import", "--file", file.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let shown = seedstr().args(["key", "show"]).output().unwrap();
    let public = Keys::parse(&secret).unwrap().public_key().to_hex();
    assert!(String::from_utf8_lossy(&shown.stdout).contains(&public));
}

/// Rollback attack: a relay that holds only an older release (it dropped or hides the newer
/// one) cannot take an installed folder back: the install refuses the downgrade, naming both
/// versions, and the folder keeps the newer files.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rollback_attack_an_older_release_alone_is_refused_as_a_downgrade() {
    let Scene {
        relay_dir: _relay_dir,
        relay,
        author,
        player,
        work,
    } = Scene::new();
    let (_mirror, signed) =
        tool_versions_on_a_mirror(work.path(), &author, &[("1.0.0", 1), ("1.1.0", 2)], 50_000);
    for e in &signed {
        send(&relay, e).await;
    }
    let root = work.path().join("root");
    let target = format!("{}/generic.tool", author.hex());
    let done = install(&player, target.clone(), &root, &relay.url, vec![])
        .await
        .unwrap();
    assert_eq!(done["version"], "1.1.0");

    // A second relay that only ever saw 1.0.0.
    let stale_dir = tempfile::tempdir().unwrap();
    let stale = RelayProcess::start(stale_dir.path(), &[]);
    send(&stale, &signed[0]).await;
    let err = install(&player, target, &root, &stale.url, vec![])
        .await
        .unwrap_err();
    assert!(
        err.contains("1.0.0 is older than the installed 1.1.0"),
        "{err}"
    );
    assert_eq!(
        std::fs::read(root.join("tool/data.bin")).unwrap(),
        bytes(50_000, 2)
    );
}

/// Mix-and-match attack: a mirror serves one file of another release under this release's
/// path. Each file is checked against this release's own signed SHA-256, so the mix is refused
/// and nothing is installed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mix_and_match_files_from_another_release_are_refused() {
    let Scene {
        relay_dir: _relay_dir,
        relay,
        author,
        player,
        work,
    } = Scene::new();
    let src = work.path().join("src");
    write(&src, "tool/a.bin", &bytes(40_000, 7));
    write(&src, "tool/b.bin", &bytes(40_000, 8));
    // The mirror has this release's a.bin, and b.bin as an older release shipped it.
    let site = work.path().join("site");
    write(&site, "m/tool/a.bin", &bytes(40_000, 7));
    write(&site, "m/tool/b.bin", &bytes(40_000, 5));
    let mirror = WebMirror::start(&site);
    let (r, _) = release_for(&src, "tool", "2.0.0", |r| {
        r.mirrors = vec![format!("{}/m", mirror.url)]
    });
    send(&relay, &sign(&author, &r)).await;
    let root = work.path().join("root");
    let err = install(
        &player,
        format!("{}/generic.tool", author.hex()),
        &root,
        &relay.url,
        vec![],
    )
    .await
    .unwrap_err();
    assert!(err.contains("\"tool/b.bin\""), "{err}");
    assert!(err.contains("SHA-256"), "{err}");
    assert_nothing_installed(&root);
}

/// Extraneous files: peers offer a torrent whose info hash the release names, but the
/// release's manifest leaves one of its files out. The torrent and the manifest must list
/// the same files, so the install is refused before a file is placed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn extraneous_files_beyond_the_manifest_are_refused() {
    let Scene {
        relay_dir: _relay_dir,
        relay,
        author,
        player,
        work,
    } = Scene::new();
    let src = work.path().join("src");
    payload(&src);
    write(&src, "extra/autorun.sh", b"#!/bin/sh\necho surprise\n");
    let (release, torrent) = release_for(&src, "tool", "1.0.0", |r| {
        r.files.retain(|f| f.path != "extra/autorun.sh")
    });
    send(&relay, &sign(&author, &release)).await;
    let (_seeder, addr) = seeder_for(&torrent, &src).await;
    let root = work.path().join("root");
    let err = install(
        &player,
        format!("{}/generic.tool", author.hex()),
        &root,
        &relay.url,
        vec![addr],
    )
    .await
    .unwrap_err();
    assert!(
        err.contains("does not match the signed manifest")
            && err.contains("\"extra/autorun.sh\"")
            && err.contains("which the manifest does not"),
        "{err}"
    );
    assert_nothing_installed(&root);
}

/// Indefinite freeze: a relay keeps answering with an old state (here it never saw 1.1.0).
/// Asked beside others, it cannot hold the reader back — the newest valid release any relay
/// holds is chosen — and the report names it as stale, on stderr and in JSON.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn indefinite_freeze_a_relay_that_lags_is_named_and_outvoted() {
    let Scene {
        relay_dir: _relay_dir,
        relay,
        author,
        player,
        work,
    } = Scene::new();
    let (_mirror, signed) =
        tool_versions_on_a_mirror(work.path(), &author, &[("1.0.0", 1), ("1.1.0", 2)], 50_000);
    let frozen_dir = tempfile::tempdir().unwrap();
    let frozen = RelayProcess::start(frozen_dir.path(), &[]);
    for e in &signed {
        send(&relay, e).await;
    }
    send(&frozen, &signed[0]).await;
    let root = work.path().join("root");
    let target = format!("{}/generic.tool", author.hex());
    let (p, r, frozen_url, fresh) = (
        player.clone(),
        root.clone(),
        frozen.url.clone(),
        relay.url.clone(),
    );
    let report = tokio::task::spawn_blocking(move || {
        p.install(&target, &r, &frozen_url, &[], &["--relay", &fresh])
    })
    .await
    .unwrap()
    .unwrap();
    assert_eq!(report["version"], "1.1.0");
    assert_eq!(report["stale_relays"], serde_json::json!([frozen.url]));
    assert_eq!(
        std::fs::read(root.join("tool/data.bin")).unwrap(),
        bytes(50_000, 2)
    );
}

/// A hostile HTTP tracker named in a release answers every announce with an endless body.
/// librqbit would read all of it into memory; our sessions reach HTTP trackers only through the
/// tracker gate, which stops at its cap. The author's `seedstr seed` keeps announcing to it and
/// keeps serving: each hostile answer is cut off after a few hundred KB (what the gate read plus
/// the sockets' buffers), the seeder's memory stays small, and a player installs from it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malicious_tracker_an_endless_answer_is_cut_off_and_the_seeder_keeps_serving() {
    use std::sync::Mutex;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let Scene {
        relay_dir: _relay_dir,
        relay,
        author,
        player,
        work,
    } = Scene::new();
    // The tracker: reads the request, then writes until the reader goes; each connection's
    // total is recorded when it ends.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let tracker = format!("http://{}/announce", listener.local_addr().unwrap());
    let written: Arc<Mutex<Vec<u64>>> = Arc::default();
    let record = written.clone();
    tokio::spawn(async move {
        while let Ok((mut tcp, _)) = listener.accept().await {
            let record = record.clone();
            tokio::spawn(async move {
                let mut head = vec![0u8; 8192];
                let _ = tcp.read(&mut head).await;
                let mut sent = 0u64;
                let chunk = vec![b'9'; 64 * 1024];
                if tcp
                    .write_all(b"HTTP/1.1 200 OK\r\n\r\nd5:peers")
                    .await
                    .is_ok()
                {
                    while tcp.write_all(&chunk).await.is_ok() {
                        sent += chunk.len() as u64;
                    }
                }
                record.lock().unwrap().push(sent);
            });
        }
    });
    let src = work.path().join("src");
    payload(&src);
    let p = author.publish(&src, "tool", "1.0.0", &relay.url, &["--tracker", &tracker]);
    let mut seeder = author.seed(&[]);
    seeder.wait_seeding(p["infohash"].as_str().unwrap());
    // Poll with a deadline: an announce's answer has been cut off while the seeder runs.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let cut = loop {
        if let Some(&sent) = written.lock().unwrap().first() {
            break sent;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no announce answer was cut off within a minute"
        );
        assert!(seeder.running(), "the seeder died");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    assert!(seeder.running(), "the seeder died");
    assert!(
        cut < 32 << 20,
        "the tracker sent {cut} bytes before the reader stopped"
    );
    let peak = seeder.peak_memory_kb().unwrap();
    assert!(peak < 512 * 1024, "the seeder's peak memory is {peak} kB");
    eprintln!("hostile tracker: answer cut off after {cut} bytes; seeder peak memory {peak} kB");

    let root = work.path().join("root");
    let r = install(
        &player,
        format!("{}/generic.tool", author.hex()),
        &root,
        &relay.url,
        vec![seeder.addr.clone()],
    )
    .await
    .unwrap();
    assert_eq!(r["version"], "1.0.0");
    assert_eq!(tree(&root), tree(&src));
}
