//! BEP-44 with third-party nodes: libtorrent's Python binding (Debian `python3-libtorrent`,
//! `tests/py/lt_bep44.py`) runs 8 nodes beside a 20-node loopback `mainline` testnet; our node
//! joins both, libtorrent reads an item we put, and we read one libtorrent puts.

use std::io::{BufRead, BufReader, Write as _};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};

use seedstr_dht::{DhtNode, DhtOptions, SigningKey, Testnet, Write};
use serde_json::Value;

struct LibtorrentNode {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
}

impl LibtorrentNode {
    fn start(nodes: usize) -> (LibtorrentNode, Vec<String>) {
        let script = seedstr_testkit::py_script("lt_bep44.py");
        let mut child = Command::new("/usr/bin/python3")
            .arg(script)
            .arg(nodes.to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("python3 with libtorrent");
        let stdin = child.stdin.take().unwrap();
        let stdout = BufReader::new(child.stdout.take().unwrap());
        let mut node = LibtorrentNode {
            child,
            stdin,
            stdout,
        };
        let ready = node.answer();
        let bootstrap = ready["bootstrap"]
            .as_array()
            .expect("libtorrent's node addresses")
            .iter()
            .map(|a| a.as_str().unwrap().to_owned())
            .collect();
        (node, bootstrap)
    }

    fn answer(&mut self) -> Value {
        let mut line = String::new();
        self.stdout.read_line(&mut line).unwrap();
        serde_json::from_str(&line).unwrap_or_else(|_| panic!("libtorrent said {line:?}"))
    }

    fn ask(&mut self, words: &[String]) -> Value {
        writeln!(self.stdin, "{}", words.join(" ")).unwrap();
        self.stdin.flush().unwrap();
        self.answer()
    }
}

impl Drop for LibtorrentNode {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn libtorrent_reads_what_we_put_and_we_read_what_it_puts() {
    let net = Testnet::builder(20).build().unwrap();
    let (mut lt, lt_nodes) = LibtorrentNode::start(8);
    let ours = DhtNode::start(&DhtOptions {
        bootstrap: Some([net.bootstrap.clone(), lt_nodes].concat()),
        loopback: true,
        ..Default::default()
    })
    .unwrap();

    // We put; libtorrent gets.
    let key = SigningKey::from_bytes(&[7; 32]);
    let value = b"d2:ih20:aaaaaaaaaaaaaaaaaaaa2:tsi1700000000ee";
    let stored = ours.put(&key, b"feed", value, Write::Next).await.unwrap();
    let got = lt.ask(&[
        "get".into(),
        hex::encode(key.verifying_key().to_bytes()),
        hex::encode(b"feed"),
    ]);
    assert_eq!(got["value"], hex::encode(value), "{got}");
    assert_eq!(got["seq"], stored.seq);

    // libtorrent puts; we get, with the signature checked by our side.
    let seed = [9u8; 32];
    let their_key = SigningKey::from_bytes(&seed).verifying_key().to_bytes();
    let put = lt.ask(&[
        "put".into(),
        hex::encode(seed),
        hex::encode(b"from-lt"),
        hex::encode(b"hello from libtorrent"),
        hex::encode(their_key),
    ]);
    assert_eq!(put["put"], true, "{put}");
    let item = ours
        .most_recent(&their_key, b"from-lt")
        .await
        .expect("libtorrent's item");
    assert_eq!(item.value(), b"hello from libtorrent");
    assert_eq!(item.seq(), put["seq"].as_i64().unwrap());
}
