//! A Mainline DHT of libtorrent nodes on loopback, for finding peers without the internet.
//!
//! Two simpler testnets do not work, which is why this one runs a third-party program:
//! - `mainline` 8.0.1 drops every request whose transaction id is not 4 bytes, and librqbit
//!   sends 2 (BEP 5 leaves the length open), so a `mainline` testnet never answers librqbit.
//! - librqbit's own nodes never add a node that queries them to their routing table, so a
//!   network made only of them never learns its members.
//!
//! libtorrent (Debian `python3-libtorrent`) runs `tests/py/lt_dht.py`.

use std::process::Stdio;

use anyhow::Context;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, ChildStdin, ChildStdout, Command};

/// A loopback DHT of libtorrent nodes, stopped when dropped.
pub struct PeerDhtTestnet {
    bootstrap: Vec<String>,
    ids: Vec<[u8; 20]>,
    questions: ChildStdin,
    answers: BufReader<ChildStdout>,
    // Killed on drop; the script also exits when its stdin closes.
    _child: Child,
}

impl PeerDhtTestnet {
    /// Starts `n` libtorrent DHT nodes that know each other (`tests/py/lt_dht.py`).
    pub async fn start(n: usize) -> anyhow::Result<PeerDhtTestnet> {
        let mut child = Command::new("/usr/bin/python3")
            .arg(crate::py_script("lt_dht.py"))
            .arg(n.to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .context("starting the libtorrent DHT testnet (is python3-libtorrent installed?)")?;
        let questions = child.stdin.take().expect("piped");
        let mut answers = BufReader::new(child.stdout.take().expect("piped"));
        let mut line = String::new();
        answers.read_line(&mut line).await?;
        #[derive(serde::Deserialize)]
        struct Ready {
            bootstrap: Vec<String>,
            ids: Vec<String>,
        }
        let ready: Ready = serde_json::from_str(&line)
            .with_context(|| format!("the DHT testnet did not start: {line:?}"))?;
        let mut ids = Vec::new();
        for id in &ready.ids {
            let mut bytes = [0u8; 20];
            hex::decode_to_slice(id, &mut bytes).context("a node id from the testnet")?;
            ids.push(bytes);
        }
        Ok(PeerDhtTestnet {
            bootstrap: ready.bootstrap,
            ids,
            questions,
            answers,
            _child: child,
        })
    }

    /// `host:port` of every node, for `SwarmOptions::dht_bootstrap`.
    pub fn bootstrap(&self) -> Vec<String> {
        self.bootstrap.clone()
    }

    /// Whether some node is close enough to `info_hash` for librqbit to announce to it.
    ///
    /// librqbit announces a torrent only to nodes whose id shares the first 16 bits with the info
    /// hash. On the real DHT such nodes always exist; on a testnet of a few nodes a test picks a
    /// payload name that lands near one (see [`crate::Torrent::renamed`]).
    pub fn has_node_near(&self, info_hash: &[u8; 20]) -> bool {
        self.ids.iter().any(|id| id[..2] == info_hash[..2])
    }

    /// The peers a lookup on the testnet finds announced for `info_hash`: lets a test wait for a
    /// seeder's announce instead of racing it (a fetcher that looked first asks again only a
    /// minute later).
    pub async fn announced(&mut self, info_hash: &[u8; 20]) -> anyhow::Result<Vec<String>> {
        self.questions
            .write_all(format!("peers {}\n", hex::encode(info_hash)).as_bytes())
            .await?;
        self.questions.flush().await?;
        let mut line = String::new();
        self.answers.read_line(&mut line).await?;
        #[derive(serde::Deserialize)]
        struct Answer {
            peers: Vec<String>,
        }
        let answer: Answer = serde_json::from_str(&line)
            .with_context(|| format!("the DHT testnet answered {line:?}"))?;
        Ok(answer.peers)
    }
}
