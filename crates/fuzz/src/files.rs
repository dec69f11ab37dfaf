//! Targets for files and records from peers, the DHT and archives: package manifests,
//! `.torrent` files, BEP-44 records and signed items, feed indexes and npm archives.

use seedstr_dht::record::{check_sizes, FeedPointer, NameRecord};
use seedstr_dht::SignedItem;
use seedstr_pkg::{CargoManifest, NpmManifest};
use seedstr_swarm::Torrent;

use crate::events::fuzz_keys;

/// `package.json` and `Cargo.toml`, as read from a package archive.
pub fn package_manifest(data: &[u8]) {
    let _ = NpmManifest::parse(data);
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = CargoManifest::parse(text);
    }
}

/// A `.torrent` file from a peer (BEP-9 metadata) or from disk; what reads must write back to
/// the same info hash.
pub fn torrent_file(data: &[u8]) {
    // The tracker list a session takes out of a file before librqbit sees it.
    let announced = Torrent::announce_urls(data);
    if let Ok(t) = Torrent::from_file_bytes(data) {
        let again = Torrent::from_file_bytes(&t.to_file_bytes(&["http://t.example/a".into()]))
            .expect("a torrent's own file reads back");
        assert_eq!(again.info_hash, t.info_hash);
        // Taking the trackers out keeps the info hash.
        let bare = Torrent::from_file_bytes(&t.to_file_bytes(&[])).expect("reads back");
        assert_eq!(bare.info_hash, t.info_hash);
        assert!(Torrent::announce_urls(&t.to_file_bytes(&[])).is_empty());
    }
    let _ = announced;
}

/// A BEP-44 value read from the DHT (feed pointer or name record), and a signed item as the
/// attestations carry it; what decodes must encode back to itself.
pub fn dht_record(data: &[u8]) {
    let _ = check_sizes(data, &[]);
    if let Ok(p) = FeedPointer::decode(data) {
        let again = FeedPointer::decode(&p.encode().expect("encoding a pointer"));
        assert_eq!(again, Ok(p));
    }
    if let Ok(r) = NameRecord::decode(data) {
        let again = NameRecord::decode(&r.encode().expect("encoding a record"));
        assert_eq!(again, Ok(r));
    }
    if let Ok(item) = serde_json::from_slice::<SignedItem>(data) {
        let _ = item.verified();
    }
}

/// The DHT routing table kept across restarts (`<home>/dht/routing-table`): what reads back
/// is capped, usable and distinct, and encodes to text that reads back the same.
pub fn dht_routing_table(data: &[u8]) {
    use seedstr_dht::routing_cache::{encode_cached_nodes, parse_cached_nodes, MAX_CACHED_NODES};
    let nodes = parse_cached_nodes(data);
    assert!(nodes.len() <= MAX_CACHED_NODES);
    assert!(nodes.iter().all(|n| n.port() != 0));
    assert_eq!(
        parse_cached_nodes(encode_cached_nodes(&nodes).as_bytes()),
        nodes
    );
}

/// This machine's record of BitTorrent peers (`<home>/peers/reputation.json`): what reads is
/// within its caps and encodes to bytes that read back the same.
pub fn peer_reputation(data: &[u8]) {
    use seedstr_client::reputation::{Reputation, MAX_PEERS};
    if let Ok(r) = Reputation::parse(data) {
        assert!(r.peers.len() <= MAX_PEERS);
        assert_eq!(Reputation::parse(&r.to_bytes()).expect("reads back"), r);
    }
}

/// A feed index file (one event per line) fetched from a swarm.
pub fn feed_index(data: &[u8]) {
    let _ = seedstr_client::feed::index::parse(data, &fuzz_keys().public_key());
}

/// An npm `.tgz` unpacked into a fresh folder: nothing may land outside it. The input is the
/// tar stream; the target gzips it, so mutations reach the tar headers instead of dying in the
/// gzip checksum.
pub fn npm_archive(data: &[u8]) {
    use std::io::Write as _;
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(data).expect("gzip into memory");
    let tgz = gz.finish().expect("gzip into memory");
    let dir = tempfile::tempdir().expect("a temporary folder");
    let into = dir.path().join("pkg");
    let _ = seedstr_pkg::unpack::unpack_npm("fuzz.tgz", &tgz, &into);
    for entry in std::fs::read_dir(dir.path()).expect("listing the temporary folder") {
        let name = entry.expect("an entry").file_name();
        assert_eq!(name, "pkg", "an archive wrote outside its folder");
    }
}

/// A tracker's HTTP answer (scrape and announce) and a peer's wire messages, as `seed-health`
/// reads them. The first byte picks which; for peer messages the rest is frames, each a one-byte
/// length and its body, for a torrent of up to 65,535 pieces.
pub fn tracker_and_peer_answers(data: &[u8]) {
    use seedstr_swarm::health::peer_probe::report_from_frames;
    use seedstr_swarm::health::tracker::{parse_http_peers, parse_http_scrape};
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    if mode % 2 == 0 {
        let _ = parse_http_scrape(rest, &[7; 20]);
        let _ = parse_http_peers(rest);
        return;
    }
    let Some((pieces, mut rest)) = rest.split_first_chunk::<2>() else {
        return;
    };
    let mut frames = Vec::new();
    while let Some((&len, after)) = rest.split_first() {
        let len = (len as usize).min(after.len());
        frames.push(&after[..len]);
        rest = &after[len..];
    }
    let report = report_from_frames(u16::from_be_bytes(*pieces) as u64, frames);
    let _ = report;
}

/// A journal file of the LMDB store, read back when the store opens after a crash (a torn or
/// damaged file is what a crash leaves); what reads must encode back to the same bytes.
pub fn store_journal(data: &[u8]) {
    use seedstr_store::lmdb::journal;
    let Ok(parsed) = journal::parse(data) else {
        return;
    };
    let mut again = journal::encode_header(&parsed.checkpoint);
    for entry in &parsed.entries {
        journal::encode_entry(&mut again, entry);
    }
    let end = parsed.torn_at.unwrap_or(data.len());
    assert_eq!(
        again,
        data[..end],
        "a journal read back encodes to its own bytes"
    );
}
