//! Payments through the binary: the development wallet (not money) served on a real relay,
//! a connection kept like the key, and the balance asked through NIP-47.

mod common;

use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::time::{Duration, Instant};

use common::spine::Person;
use common::RelayProcess;
use serde_json::Value;

/// A running `seedstr wallet dev serve`.
struct DevWalletProcess {
    child: std::process::Child,
    _stdout: std::io::Lines<BufReader<std::process::ChildStdout>>,
}

impl Drop for DevWalletProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn dev_wallet(operator: &Person, relay: &str) -> DevWalletProcess {
    let mut child = operator
        .command(&["wallet", "dev", "serve", "--relay", relay])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = lines.next().unwrap().unwrap();
    assert!(first.contains("DEVELOPMENT WALLET"), "{first}");
    DevWalletProcess {
        child,
        _stdout: lines,
    }
}

#[test]
fn a_connection_to_the_development_wallet_is_kept_like_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let relay = RelayProcess::start(dir.path(), &[]);
    let (operator, alice) = (Person::new(), Person::new());
    let issued = operator.run(&["wallet", "dev", "connection", "--relay", &relay.url]);
    assert!(issued.status.success());
    assert!(String::from_utf8_lossy(&issued.stderr).contains("never real money"));
    let uri = String::from_utf8(issued.stdout).unwrap().trim().to_owned();
    assert!(uri.starts_with("nostr+walletconnect://"), "{uri}");
    let _wallet = dev_wallet(&operator, &relay.url);
    let kept = alice.run(&["wallet", "connect", &uri, "--json"]);
    assert!(
        kept.status.success(),
        "{}",
        String::from_utf8_lossy(&kept.stderr)
    );
    let secret = std::fs::read_to_string(alice.home.path().join("wallet.ncryptsec")).unwrap();
    assert!(secret.starts_with("ncryptsec1"));
    // The wallet's subscription opens as it starts: ask until it answers.
    let deadline = Instant::now() + Duration::from_secs(30);
    let balance: Value = loop {
        let out = alice.run(&["wallet", "balance", "--timeout", "2", "--json"]);
        if out.status.success() {
            break serde_json::from_slice(&out.stdout).unwrap();
        }
        assert!(
            Instant::now() < deadline,
            "{}",
            String::from_utf8_lossy(&out.stdout)
        );
        std::thread::sleep(Duration::from_millis(200));
    };
    assert_eq!(balance["balance_msat"], 1_000_000_000u64);
}
