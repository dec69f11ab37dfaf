//! `seedstr node` for tests: a process on loopback ports and its configuration.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

use nostr::prelude::ToBech32;

use super::spine::Person;

/// A running `seedstr node`.
pub struct NodeProcess {
    pub child: Child,
    /// host:port of its HTTP server.
    pub http: String,
    /// host:port of its torrent session.
    pub torrent: String,
    /// Held open: a closed pipe would fail the node's next line of output.
    _stdout: std::io::Lines<BufReader<std::process::ChildStdout>>,
}

impl NodeProcess {
    /// Starts `seedstr node --config <config>` as the person whose home is `home`.
    pub fn start(home: &Path, config: &Path) -> NodeProcess {
        let mut child = Command::new(env!("CARGO_BIN_EXE_seedstr"))
            .args(["node", "--config", config.to_str().unwrap()])
            .env("SEEDSTR_HOME", home)
            // Unlocks the owner's key when the configuration asks for it (social.owner).
            .env("SEEDSTR_PASSPHRASE", crate::common::spine::PASSPHRASE)
            .env("SEEDSTR_LOG", crate::common::spine::log_filter())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let mut next = || lines.next().unwrap().unwrap();
        let first = next();
        let http = first
            .strip_prefix("seedstr node listening on http://")
            .unwrap_or_else(|| panic!("unexpected first line {first:?}"))
            .to_owned();
        let torrent = loop {
            let line = next();
            if let Some(t) = line.trim().strip_prefix("torrent: ") {
                break t.to_owned();
            }
        };
        NodeProcess {
            child,
            http,
            torrent,
            _stdout: lines,
        }
    }

    /// Its relay's WebSocket URL.
    pub fn relay(&self) -> String {
        format!("ws://{}/", self.http)
    }

    /// SIGTERM, as a service manager stops it; whether it exited cleanly.
    pub fn terminate(mut self) -> bool {
        super::terminate(&mut self.child, "the node")
    }
}

impl Drop for NodeProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `owner`'s node configuration, written to a file: the printed defaults with loopback ports,
/// the owner's publisher registry trusted, and `edits` (text replaced).
pub fn node_config(owner: &Person, edits: &[(&str, &str)]) -> std::path::PathBuf {
    let printed = String::from_utf8(owner.run(&["node", "--print-config"]).stdout).unwrap();
    assert!(printed.contains("[relay.limits]") && printed.contains("[packages]"));
    let npub = owner.keys.public_key().to_bech32().unwrap();
    let mut config = printed
        .replace("listen = \"127.0.0.1:7447\"", "listen = \"127.0.0.1:0\"")
        .replace("listen = \"0.0.0.0:6881\"", "listen = \"127.0.0.1:0\"")
        .replace("poll_secs = 2", "poll_secs = 1")
        .replace("registries = []", &format!("registries = [\"{npub}\"]"));
    for (from, to) in edits {
        assert!(
            config.contains(from),
            "{from:?} is not in the printed defaults"
        );
        config = config.replace(from, to);
    }
    let file = owner.home.path().join("node.toml");
    std::fs::write(&file, config).unwrap();
    file
}

/// A running `seedstr directory`.
pub struct DirectoryProcess {
    pub child: Child,
    /// Its relay address.
    pub url: String,
    _stdout: std::io::Lines<BufReader<std::process::ChildStdout>>,
}

impl DirectoryProcess {
    /// Starts `seedstr directory` on a free loopback port with its LMDB store in `data`,
    /// signing its status reports as `operator`, probing every `probe_secs`.
    pub fn start(operator: &Person, data: &Path, probe_secs: u64) -> DirectoryProcess {
        Self::start_with(
            operator,
            &["--data", data.to_str().unwrap()],
            &["--probe-secs", &probe_secs.to_string()],
        )
    }

    /// Starts `seedstr directory` on a free loopback port with `store` flags (`--data DIR` or
    /// `--database URL`) and `extra` ones.
    pub fn start_with(operator: &Person, store: &[&str], extra: &[&str]) -> DirectoryProcess {
        let mut args = vec![
            "directory",
            "--listen",
            "127.0.0.1:0",
            "--probe-timeout",
            "2",
        ];
        args.extend(store);
        args.extend(extra);
        let mut child = operator
            .command(&args)
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let first = lines.next().unwrap().unwrap();
        let url = first
            .strip_prefix("seedstr directory listening on ")
            .unwrap_or_else(|| panic!("unexpected first line {first:?}"))
            .to_owned();
        DirectoryProcess {
            child,
            url,
            _stdout: lines,
        }
    }
}

impl Drop for DirectoryProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
