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

/// A zap received by an owner's node: its LNURL-pay endpoint says it takes zaps and names its
/// zapper key; the callback checks the zap request and answers an invoice from the owner's
/// wallet (the development wallet here) committing to the request; once the payer's wallet
/// pays it, the node signs the receipt and publishes it; the receipt passes Appendix F. A wrong
/// amount, and a request for someone else, are refused by name.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_owners_node_receives_a_zap_and_publishes_its_receipt() {
    use common::node::{node_config, NodeProcess};
    use nostr::prelude::*;
    use seedstr_pay::receipt::check_receipt;
    use seedstr_pay::zap_request::{make_zap_request, ZapTarget};
    let dir = tempfile::tempdir().unwrap();
    let relay = RelayProcess::start(dir.path(), &[]);
    let (operator, alice, bob) = (Person::new(), Person::new(), Person::new());
    let issue = || {
        let out = operator.run(&["wallet", "dev", "connection", "--relay", &relay.url]);
        String::from_utf8(out.stdout).unwrap().trim().to_owned()
    };
    let (alice_uri, bob_uri) = (issue(), issue());
    let _wallet = dev_wallet(&operator, &relay.url);
    assert!(bob.run(&["wallet", "connect", &bob_uri]).status.success());
    let config = node_config(&bob, &[("owner = false", "owner = true")]);
    let node = NodeProcess::start(bob.home.path(), &config);
    let base = format!("http://{}", node.http);
    let http = reqwest::Client::new();
    let doc: Value = http
        .get(format!("{base}/.well-known/lnurlp/me"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(doc["tag"], "payRequest");
    assert_eq!(doc["allowsNostr"], true);
    let zapper = PublicKey::from_hex(doc["nostrPubkey"].as_str().unwrap()).unwrap();
    let callback = doc["callback"].as_str().unwrap().to_owned();

    let request = make_zap_request(
        &alice.keys,
        bob.keys.public_key(),
        &ZapTarget::default(),
        21_000,
        &[node.relay()],
        None,
        "thanks for the maps",
    )
    .unwrap()
    .as_json();
    let ask = |amount: u64, nostr: &str| {
        let url = reqwest::Url::parse_with_params(
            &callback,
            &[("amount", amount.to_string()), ("nostr", nostr.to_owned())],
        )
        .unwrap();
        let http = http.clone();
        async move {
            http.get(url)
                .send()
                .await
                .unwrap()
                .json::<Value>()
                .await
                .unwrap()
        }
    };
    // The wallet may still be opening its subscription: ask until an invoice comes.
    let deadline = Instant::now() + Duration::from_secs(60);
    let answer = loop {
        let a = ask(21_000, &request).await;
        if a["pr"].is_string() {
            break a;
        }
        assert!(Instant::now() < deadline, "{a}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let pr = answer["pr"].as_str().unwrap().to_owned();
    let invoice = seedstr_pay::invoice::read_invoice(&pr).unwrap();
    assert_eq!(invoice.amount_msat, Some(21_000));
    use sha2::Digest as _;
    assert_eq!(
        invoice.description_hash,
        Some(hex::encode(sha2::Sha256::digest(request.as_bytes())))
    );
    // Refusals, each naming its rule.
    let wrong = ask(5_000, &request).await;
    assert_eq!(wrong["status"], "ERROR");
    assert!(
        wrong["reason"].as_str().unwrap().contains("amount"),
        "{wrong}"
    );
    let for_alice = make_zap_request(
        &alice.keys,
        alice.keys.public_key(),
        &ZapTarget::default(),
        21_000,
        &[node.relay()],
        None,
        "",
    )
    .unwrap()
    .as_json();
    let other = ask(21_000, &for_alice).await;
    assert!(
        other["reason"].as_str().unwrap().contains("zaps for"),
        "{other}"
    );

    // Alice's wallet pays; bob's node publishes the receipt.
    let payer = seedstr_pay::nwc::WalletClient::new(&alice_uri, Duration::from_secs(10)).unwrap();
    payer.pay_invoice(&pr).await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    let receipt = loop {
        let found = seedstr_client::relays::conn::RelayConn::connect(&node.relay())
            .await
            .unwrap()
            .query(
                "r",
                &[serde_json::json!({"kinds": [9735], "#p": [bob.keys.public_key().to_hex()]})],
            )
            .await
            .unwrap();
        if let Some(r) = found.into_iter().next() {
            break r;
        }
        assert!(Instant::now() < deadline, "no receipt");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let zap = check_receipt(&receipt, &zapper).unwrap();
    assert_eq!(zap.amount_msat, 21_000);
    assert_eq!(zap.sender, alice.keys.public_key().to_hex());
    assert_eq!(zap.comment, "thanks for the maps");

    // The same through the binary: bob's profile names his lightning address; alice's wallet
    // connection pays; the command waits for the receipt and checks it.
    let lud16 = format!("me@{}", node.http);
    let set = bob.run(&[
        "social",
        "profile",
        "set",
        "--lud16",
        &lud16,
        "--relay",
        &node.relay(),
    ]);
    assert!(
        set.status.success(),
        "{}",
        String::from_utf8_lossy(&set.stderr)
    );
    assert!(alice
        .run(&["wallet", "connect", &alice_uri])
        .status
        .success());
    let out = alice.run(&[
        "zap",
        &bob.hex(),
        "5",
        "--comment",
        "again",
        "--relay",
        &node.relay(),
        "--json",
    ]);
    let sent: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|_| panic!("{}", String::from_utf8_lossy(&out.stderr)));
    assert!(out.status.success(), "{sent}");
    assert_eq!(sent["zap"]["amount_msat"], 5_000);
    assert_eq!(sent["zap"]["comment"], "again");
}
