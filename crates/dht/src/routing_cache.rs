//! The routing table kept across restarts: the nodes a long-running node knew are written to
//! `<home>/dht/routing-table` (one `ip:port` per line), so the next start can rejoin through
//! them before asking its configured bootstrap nodes or the public routers. A node that was
//! offline for a while rejoins through whichever of them still run.

use std::net::SocketAddrV4;
use std::path::{Path, PathBuf};

/// The most nodes kept or read back: a routing table holds a few hundred at most, and a file
/// changed by someone else must not make a start ask thousands.
pub const MAX_CACHED_NODES: usize = 256;

/// The longest line read (an IPv4 `ip:port` is at most 21 bytes).
const MAX_LINE: usize = 64;

/// Where `home`'s routing table is kept.
pub fn cache_path(home: &Path) -> PathBuf {
    home.join("dht").join("routing-table")
}

/// The nodes in a kept routing table: each line an IPv4 `ip:port`; blank lines, `#` comments,
/// lines that do not read, port 0, unspecified, broadcast and multicast addresses, and repeats
/// are skipped; at most [`MAX_CACHED_NODES`].
pub fn parse_cached_nodes(bytes: &[u8]) -> Vec<SocketAddrV4> {
    let mut nodes: Vec<SocketAddrV4> = Vec::new();
    for line in bytes.split(|b| *b == b'\n') {
        if nodes.len() == MAX_CACHED_NODES {
            break;
        }
        if line.len() > MAX_LINE {
            continue;
        }
        let Ok(text) = std::str::from_utf8(line) else {
            continue;
        };
        let text = text.trim();
        if text.is_empty() || text.starts_with('#') {
            continue;
        }
        let Ok(addr) = text.parse::<SocketAddrV4>() else {
            continue;
        };
        let ip = addr.ip();
        let usable =
            addr.port() != 0 && !ip.is_unspecified() && !ip.is_broadcast() && !ip.is_multicast();
        if usable && !nodes.contains(&addr) {
            nodes.push(addr);
        }
    }
    nodes
}

/// The file's text for `nodes` (those beyond [`MAX_CACHED_NODES`] left out).
pub fn encode_cached_nodes(nodes: &[SocketAddrV4]) -> String {
    let mut text = String::from("# Mainline DHT nodes this node knew, kept by seedstr\n");
    for n in nodes.iter().take(MAX_CACHED_NODES) {
        text.push_str(&n.to_string());
        text.push('\n');
    }
    text
}

/// The nodes kept in `home`; none when there is no file or it cannot be read (said in the log).
pub fn load(home: &Path) -> Vec<SocketAddrV4> {
    let path = cache_path(home);
    match std::fs::read(&path) {
        Ok(bytes) => parse_cached_nodes(&bytes),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
        Err(e) => {
            tracing::warn!("reading the kept DHT routing table {}: {e}", path.display());
            Vec::new()
        }
    }
}

/// Keeps `nodes` (as the library lists its routing table, `ip:port` strings) in `home`,
/// replacing the file whole. An empty table is not written: it would only lose the last good
/// one. Returns how many were kept.
pub fn save(home: &Path, nodes: &[String]) -> std::io::Result<usize> {
    let parsed = parse_cached_nodes(nodes.join("\n").as_bytes());
    if parsed.is_empty() {
        return Ok(0);
    }
    let path = cache_path(home);
    let dir = path.parent().expect("the file is inside dht/");
    std::fs::create_dir_all(dir)?;
    let staged = dir.join(".routing-table.tmp");
    std::fs::write(&staged, encode_cached_nodes(&parsed))?;
    std::fs::rename(&staged, &path)?;
    Ok(parsed.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn config() -> ProptestConfig {
        ProptestConfig {
            rng_seed: proptest::test_runner::RngSeed::Fixed(0x5eed),
            failure_persistence: None,
            ..ProptestConfig::default()
        }
    }

    fn node() -> impl Strategy<Value = SocketAddrV4> {
        (1u8..224, any::<[u8; 3]>(), 1u16..).prop_map(|(a, [b, c, d], port)| {
            SocketAddrV4::new(std::net::Ipv4Addr::new(a, b, c, d), port)
        })
    }

    proptest! {
        #![proptest_config(config())]

        #[test]
        fn kept_nodes_read_back_in_order_without_repeats(nodes in prop::collection::vec(node(), 0..300)) {
            let mut expected: Vec<SocketAddrV4> = Vec::new();
            for n in &nodes {
                if !expected.contains(n) && expected.len() < MAX_CACHED_NODES {
                    expected.push(*n);
                }
            }
            prop_assert_eq!(parse_cached_nodes(encode_cached_nodes(&nodes).as_bytes()), expected);
        }

        #[test]
        fn any_bytes_give_at_most_the_cap_of_usable_distinct_nodes(bytes in prop::collection::vec(any::<u8>(), 0..4096)) {
            let nodes = parse_cached_nodes(&bytes);
            prop_assert!(nodes.len() <= MAX_CACHED_NODES);
            for (i, n) in nodes.iter().enumerate() {
                prop_assert!(n.port() != 0 && !n.ip().is_unspecified());
                prop_assert!(!nodes[..i].contains(n));
            }
        }
    }

    #[test]
    fn bad_lines_are_skipped_and_an_empty_table_never_replaces_a_kept_one() {
        let text = b"# comment\n\n10.0.0.1:6881\nnot a node\n0.0.0.0:1\n10.0.0.2:0\n[::1]:6881\n10.0.0.1:6881\n 10.0.0.3:7000 \n";
        let nodes = parse_cached_nodes(text);
        assert_eq!(
            nodes,
            ["10.0.0.1:6881", "10.0.0.3:7000"].map(|s| s.parse::<SocketAddrV4>().unwrap())
        );
        let home = tempfile::tempdir().unwrap();
        assert_eq!(save(home.path(), &["10.0.0.1:6881".into()]).unwrap(), 1);
        assert_eq!(save(home.path(), &[]).unwrap(), 0);
        assert_eq!(load(home.path()), vec!["10.0.0.1:6881".parse().unwrap()]);
        assert!(load(&home.path().join("elsewhere")).is_empty());
    }
}
