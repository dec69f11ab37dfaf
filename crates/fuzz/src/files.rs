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
    if let Ok(t) = Torrent::from_file_bytes(data) {
        let again = Torrent::from_file_bytes(&t.to_file_bytes(&["http://t.example/a".into()]))
            .expect("a torrent's own file reads back");
        assert_eq!(again.info_hash, t.info_hash);
    }
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
