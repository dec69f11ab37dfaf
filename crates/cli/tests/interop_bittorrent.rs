//! Third-party BitTorrent peers against ours: libtorrent (Debian python3-libtorrent) downloads a
//! torrent we created from `seedstr seed`, `seedstr install` downloads from a libtorrent seeder,
//! and an aria2 seeder that serves corrupted bytes unchecked gets nothing installed.

mod common;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use common::spine::{bytes, tree, write, Person, Scene};
use common::RelayProcess;
use serde_json::Value;

fn script() -> PathBuf {
    seedstr_testkit::py_script("lt_peer.py")
}

/// Copies `src` to `dest/<name>/`: libtorrent and aria2 keep a multi-file torrent in a folder
/// named after it.
fn lay_out_as(src: &Path, dest: &Path, name: &str) {
    for (rel, content) in tree(src) {
        write(&dest.join(name), rel.to_str().unwrap(), &content);
    }
}

struct Peer(Child);

impl Drop for Peer {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts a process that prints one JSON line first; returns it and that line.
fn start(cmd: &mut Command) -> (Peer, Value) {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let v: Value = serde_json::from_str(&line).unwrap_or_else(|_| panic!("not JSON: {line:?}"));
    (Peer(child), v)
}

fn published(relay: &RelayProcess, author: &Person, src: &Path) -> (Value, Vec<u8>) {
    let p = author.publish(src, "tool", "1.0.0", &relay.url, &[]);
    let torrent = std::fs::read(
        author
            .home
            .path()
            .join("seeds")
            .join(format!("{}.torrent", p["infohash"].as_str().unwrap())),
    )
    .unwrap();
    (p, torrent)
}

#[test]
fn libtorrent_downloads_from_our_seeder_and_we_download_from_libtorrent() {
    let Scene {
        relay_dir: _relay_dir,
        relay,
        author,
        player,
        work,
    } = Scene::new();
    let src = work.path().join("src");
    write(&src, "Data/big.bin", &bytes(5_000_000, 4));
    write(&src, "Data/sub/small.txt", b"small\n");
    write(&src, "readme.txt", b"interop\n");
    let (p, torrent) = published(&relay, &author, &src);
    let torrent_path = work.path().join("tool.torrent");
    std::fs::write(&torrent_path, &torrent).unwrap();
    let name = "tool-1.0.0";

    // libtorrent fetches from `seedstr seed`.
    let seeder = author.seed(&[]);
    seeder.wait_seeding(p["infohash"].as_str().unwrap());
    let lt_out = work.path().join("lt-out");
    let out = Command::new("/usr/bin/python3")
        .arg(script())
        .args([
            "fetch",
            torrent_path.to_str().unwrap(),
            lt_out.to_str().unwrap(),
            &seeder.addr,
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "libtorrent: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert_eq!(tree(&lt_out.join(name)), tree(&src));
    drop(seeder);

    // We fetch from a libtorrent seeder; nothing of ours seeds.
    let lt_src = work.path().join("lt-src");
    lay_out_as(&src, &lt_src, name);
    let (_lt, hello) = start(Command::new("/usr/bin/python3").arg(script()).args([
        "seed",
        torrent_path.to_str().unwrap(),
        lt_src.to_str().unwrap(),
    ]));
    let lt_addr = hello["listening"]
        .as_str()
        .expect("libtorrent listens")
        .to_owned();
    let root = work.path().join("root");
    let r = player
        .install(
            &format!("{}/generic.tool", author.hex()),
            &root,
            &relay.url,
            &[lt_addr],
            &[],
        )
        .unwrap();
    assert_eq!(r["swarm_bytes"], 5_000_014);
    assert_eq!(tree(&root), tree(&src));
}

#[test]
fn malicious_peer_an_aria2_peer_serving_corrupted_bytes_gets_nothing_installed() {
    let Scene {
        relay_dir: _relay_dir,
        relay,
        author,
        player,
        work,
    } = Scene::new();
    let src = work.path().join("src");
    write(&src, "Data/big.bin", &bytes(2_000_000, 5));
    write(&src, "readme.txt", b"honest\n");
    let (_, torrent) = published(&relay, &author, &src);
    let torrent_path = work.path().join("tool.torrent");
    std::fs::write(&torrent_path, &torrent).unwrap();

    // aria2 told to seed without checking, over a copy with one byte flipped.
    let bad = work.path().join("aria2");
    lay_out_as(&src, &bad, "tool-1.0.0");
    let big = bad.join("tool-1.0.0/Data/big.bin");
    let mut content = std::fs::read(&big).unwrap();
    content[1_500_000] ^= 0x55;
    std::fs::write(&big, content).unwrap();
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let _aria2 = Peer(
        Command::new("aria2c")
            .args([
                "--bt-seed-unverified=true",
                "--check-integrity=false",
                "--seed-ratio=0.0",
                "--enable-dht=false",
                "--enable-dht6=false",
                "--bt-enable-lpd=false",
                "--enable-peer-exchange=false",
                "--disable-ipv6=true",
                "--quiet=true",
                &format!("--listen-port={port}"),
                &format!("--dir={}", bad.display()),
                torrent_path.to_str().unwrap(),
            ])
            .stdin(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(std::time::Instant::now() < deadline, "aria2 never listened");
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let root = work.path().join("root");
    let err = player
        .install(
            &format!("{}/generic.tool", author.hex()),
            &root,
            &relay.url,
            &[format!("127.0.0.1:{port}")],
            &[],
        )
        .unwrap_err();
    eprintln!("refused as expected: {err}");
    assert!(err.contains("incomplete: Data/big.bin"), "{err}");
    assert!(
        !err.contains("readme.txt"),
        "the good file is not blamed: {err}"
    );
    assert!(tree(&root).is_empty());
    assert!(!root.join("seedstr.lock").exists());

    // The player's machine remembers the peer that sent a bad piece and leaves it out for a
    // while: asked again, the install has nobody to ask.
    let aria2 = format!("127.0.0.1:{port}");
    let kept = player.peer_reputation();
    let record = &kept["peers"][&aria2];
    assert!(record["bad_pieces"].as_u64().unwrap() >= 1, "{kept}");
    assert!(record["banned_until"].as_u64().is_some(), "{kept}");
    let err = player
        .install(
            &format!("{}/generic.tool", author.hex()),
            &root,
            &relay.url,
            std::slice::from_ref(&aria2),
            &[],
        )
        .unwrap_err();
    assert!(
        err.contains(&format!("left out for sending bad pieces: {aria2}")),
        "{err}"
    );
    // seed-health shows what this machine saw of it.
    let out = player.run(&[
        "mod",
        "seed-health",
        &format!("{}/generic.tool", author.hex()),
        "--relay",
        &relay.url,
        "--peer",
        &aria2,
        "--no-dht",
        "--json",
    ]);
    let health: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let seen = &health["health"]["peers"][0];
    assert_eq!(seen["addr"], aria2.as_str(), "{health}");
    assert!(
        seen["reputation"]["bad_pieces"].as_u64().unwrap() >= 1,
        "{health}"
    );
}
