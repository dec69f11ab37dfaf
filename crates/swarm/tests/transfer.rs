//! Real librqbit sessions on loopback: a seeder and a fetcher, found by explicit address or
//! through a loopback Mainline DHT testnet.

use std::net::{Ipv4Addr, SocketAddr};
use std::path::Path;
use std::time::Duration;

use seedstr_swarm::{create, Sources, Swarm, SwarmOptions};

fn write_payload(dir: &Path) {
    std::fs::create_dir_all(dir.join("Data")).unwrap();
    let big: Vec<u8> = (0..3_000_000u32).map(|i| (i % 251) as u8).collect();
    std::fs::write(dir.join("Data/big.bin"), big).unwrap();
    std::fs::write(dir.join("readme.txt"), b"hello swarm").unwrap();
}

fn loopback() -> SwarmOptions {
    SwarmOptions {
        listen: Some(SocketAddr::from((Ipv4Addr::LOCALHOST, 0))),
        ..Default::default()
    }
}

fn magnet(hash: &str) -> String {
    format!("magnet:?xt=urn:btih:{hash}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fetcher_gets_the_payload_from_a_seeder_by_address() {
    let src = tempfile::tempdir().unwrap();
    write_payload(src.path());
    let torrent = create(src.path(), "payload").unwrap();
    let file = torrent.to_file_bytes(&[]);

    let seeder = Swarm::start(loopback()).await.unwrap();
    let seeding = seeder
        .seed(&file, src.path(), &Sources::default())
        .await
        .unwrap();
    seeding.wait_until_completed().await.unwrap();
    let sources = Sources {
        peers: vec![seeder.local_peer_addr().unwrap()],
        trackers: vec![],
    };

    let fetcher = Swarm::start(loopback()).await.unwrap();
    let meta = tokio::time::timeout(
        Duration::from_secs(30),
        fetcher.metadata(&magnet(&torrent.info_hash_hex()), &sources),
    )
    .await
    .expect("metadata within 30 s")
    .unwrap();
    assert_eq!(meta.torrent.info_hash, torrent.info_hash);
    assert_eq!(meta.torrent.files.len(), 2);

    let out = tempfile::tempdir().unwrap();
    let t = fetcher
        .fetch(&meta.torrent_file, out.path(), &sources)
        .await
        .unwrap();
    t.wait_or_stall(Duration::from_secs(30), |_| {})
        .await
        .unwrap();
    assert_eq!(
        std::fs::read(out.path().join("Data/big.bin")).unwrap(),
        std::fs::read(src.path().join("Data/big.bin")).unwrap()
    );
    assert_eq!(
        std::fs::read(out.path().join("readme.txt")).unwrap(),
        b"hello swarm"
    );
    assert!(t.progress().finished);
    fetcher.stop().await;
    seeder.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_payload_changed_since_hashing_is_not_seeded() {
    let src = tempfile::tempdir().unwrap();
    write_payload(src.path());
    let torrent = create(src.path(), "payload").unwrap();
    let file = torrent.to_file_bytes(&[]);
    let seeder = Swarm::start(loopback()).await.unwrap();
    let readme = src.path().join("readme.txt");
    // Same size, other bytes: librqbit's check finds the piece missing.
    std::fs::write(&readme, b"HELLO SWARM").unwrap();
    let err = seeder
        .seed(&file, src.path(), &Sources::default())
        .await
        .err()
        .expect("a changed payload is refused");
    assert!(
        err.to_string()
            .contains("not seeding a changed or incomplete copy"),
        "{err}"
    );
    assert_eq!(std::fs::read(&readme).unwrap(), b"HELLO SWARM");
    // Another size: refused before librqbit (which cuts files to length) opens it.
    std::fs::write(&readme, b"edited after publishing").unwrap();
    let err = seeder
        .seed(&file, src.path(), &Sources::default())
        .await
        .err()
        .expect("a changed payload is refused");
    assert!(err.to_string().contains("not the 11 published"), "{err}");
    assert_eq!(
        std::fs::read(&readme).unwrap(),
        b"edited after publishing",
        "the author's folder is left alone"
    );
    seeder.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn digests_taken_during_a_fetch_match_the_files_resumed_or_fetched() {
    let src = tempfile::tempdir().unwrap();
    write_payload(src.path());
    // An empty file, and one that starts and ends inside pieces.
    std::fs::write(src.path().join("empty"), b"").unwrap();
    let odd: Vec<u8> = (0..1_234_567u32).map(|i| (i % 241) as u8).collect();
    std::fs::write(src.path().join("odd.bin"), &odd).unwrap();
    let torrent = create(src.path(), "payload").unwrap();
    let file = torrent.to_file_bytes(&[]);
    let seeder = Swarm::start(loopback()).await.unwrap();
    seeder
        .seed(&file, src.path(), &Sources::default())
        .await
        .unwrap();

    // A resumed fetch: the first half of big.bin is already staged, the rest is not.
    let out = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(out.path().join("Data")).unwrap();
    let big = std::fs::read(src.path().join("Data/big.bin")).unwrap();
    std::fs::write(out.path().join("Data/big.bin"), &big[..big.len() / 2]).unwrap();

    let fetcher = Swarm::start(loopback()).await.unwrap();
    let t = fetcher
        .fetch(
            &file,
            out.path(),
            &Sources {
                peers: vec![seeder.local_peer_addr().unwrap()],
                trackers: vec![],
            },
        )
        .await
        .unwrap();
    let digests = fetcher.digest_files(&t, out.path(), &torrent);
    t.wait_or_stall(Duration::from_secs(30), |_| {})
        .await
        .unwrap();
    let digests = digests.finish().await.unwrap();
    assert_eq!(digests.len(), torrent.files.len());
    for (f, digest) in torrent.files.iter().zip(&digests) {
        let on_disk = seedstr_swarm::sha256_file(&src.path().join(&f.path)).unwrap();
        assert_eq!(*digest, on_disk, "{}", f.path);
        assert_eq!(digest.0, f.sha256, "{}", f.path);
    }
    assert!(t.progress().fetched_bytes < torrent.files.iter().map(|f| f.size).sum::<u64>());
    fetcher.stop().await;
    seeder.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn digests_of_a_transfer_with_no_peer_stop_when_dropped() {
    let src = tempfile::tempdir().unwrap();
    write_payload(src.path());
    let torrent = create(src.path(), "payload").unwrap();
    let fetcher = Swarm::start(loopback()).await.unwrap();
    let out = tempfile::tempdir().unwrap();
    let t = fetcher
        .fetch(&torrent.to_file_bytes(&[]), out.path(), &Sources::default())
        .await
        .unwrap();
    let digests = fetcher.digest_files(&t, out.path(), &torrent);
    assert!(t
        .wait_or_stall(Duration::from_millis(500), |_| {})
        .await
        .is_err());
    // Dropping waits for the hashing thread, which is waiting for pieces that never come: it
    // must notice the stop, or the drop never returns.
    tokio::time::timeout(
        Duration::from_secs(10),
        tokio::task::spawn_blocking(move || drop(digests)),
    )
    .await
    .expect("the hashing thread stops when its digests are dropped")
    .unwrap();
    fetcher.remove(&t).await.unwrap();
    fetcher.stop().await;
}
