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
    // Each of Appendix D's rules broken in turn, each refused by name.
    let tag = |parts: &[&str]| Tag::parse(parts.iter().copied()).unwrap();
    let (p, relays) = (tag(&["p", &bob.hex()]), tag(&["relays", &node.relay()]));
    let signed = |kind: u16, tags: Vec<Tag>| {
        EventBuilder::new(Kind::from(kind), "")
            .tags(tags)
            .finalize(&alice.keys)
            .unwrap()
            .as_json()
    };
    let mut tampered: Value = serde_json::from_str(&request).unwrap();
    tampered["content"] = "changed after signing".into();
    let someone = Keys::generate().public_key().to_hex();
    let mallory = Keys::generate().public_key();
    let broken = [
        ("signature", tampered.to_string()),
        ("not 9734", signed(1, vec![p.clone(), relays.clone()])),
        (
            "exactly one",
            signed(9734, vec![p.clone(), tag(&["p", &someone]), relays.clone()]),
        ),
        (
            "at most one",
            signed(
                9734,
                vec![
                    p.clone(),
                    tag(&["e", &"1".repeat(64)]),
                    tag(&["e", &"2".repeat(64)]),
                    relays.clone(),
                ],
            ),
        ),
        ("names no relay", signed(9734, vec![p.clone()])),
        (
            "amount tag says 5000",
            signed(
                9734,
                vec![p.clone(), relays.clone(), tag(&["amount", "5000"])],
            ),
        ),
        (
            "not an event coordinate",
            signed(
                9734,
                vec![p.clone(), relays.clone(), tag(&["a", "not a coordinate"])],
            ),
        ),
        (
            "P tag",
            signed(
                9734,
                vec![p.clone(), relays.clone(), tag(&["P", &mallory.to_hex()])],
            ),
        ),
    ];
    for (rule, bad) in &broken {
        let refused = ask(21_000, bad).await;
        assert_eq!(refused["status"], "ERROR", "{rule}: {refused}");
        assert!(
            refused["reason"].as_str().unwrap().contains(rule),
            "{rule}: {refused}"
        );
    }

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

/// Waits until the development wallet answers `who`'s connection: it opens its subscription
/// as it starts.
/// On a relay that charges for writes: alice is refused with the price; the operator names
/// `address` as her lightning address (her profile, written there); alice zaps her and may
/// write; bob, who never paid, still may not.
async fn writes_after_zapping(
    relay: &str,
    alice: &Person,
    bob: &Person,
    operator: &Person,
    address: &str,
) {
    use nostr::prelude::*;
    let note = |who: &Person, text: &str| {
        EventBuilder::new(Kind::TextNote, text)
            .finalize(&who.keys)
            .unwrap()
    };
    let mut conn = seedstr_client::relays::conn::RelayConn::connect(relay)
        .await
        .unwrap();
    let (ok, why) = conn.publish(&note(alice, "before paying")).await.unwrap();
    assert!(
        !ok && why.starts_with("restricted: writing here costs 10 sats for 30 days"),
        "{why}"
    );
    let set = operator.run(&[
        "social", "profile", "set", "--lud16", address, "--relay", relay,
    ]);
    assert!(
        set.status.success(),
        "{}",
        String::from_utf8_lossy(&set.stderr)
    );
    wallet_answers(alice).await;
    let out = alice.run(&["zap", &operator.hex(), "10", "--relay", relay, "--json"]);
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let (ok, why) = conn.publish(&note(alice, "after paying")).await.unwrap();
    assert!(ok, "{why}");
    let (ok, why) = conn.publish(&note(bob, "never paid")).await.unwrap();
    assert!(!ok && why.starts_with("restricted:"), "{why}");
}

async fn wallet_answers(who: &Person) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !who
        .run(&["wallet", "balance", "--timeout", "2"])
        .status
        .success()
    {
        assert!(
            Instant::now() < deadline,
            "the development wallet never answered"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Waits until `url` answers JSON for which `ready` holds.
async fn poll_json(url: &str, ready: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let got = reqwest::get(url).await.unwrap();
        let v: Value = got.json().await.unwrap_or(Value::Null);
        if ready(&v) {
            return v;
        }
        assert!(Instant::now() < deadline, "{url}: {v}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// A zap on a release that names splits (NIP-57 Appendix G): bob names carol (a mirror) for a
/// quarter; alice's `seedstr zap` on the release pays each share to that person's own node,
/// each receipt checked; the release page, the API and `mod info` count both, per release and
/// per project. Receipts that break Appendix F (signed by someone else, a description that is
/// not the invoice's, an invoice for another amount than the request's) and a second receipt
/// for a counted invoice are counted nowhere and are shown with why.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_zap_on_a_release_is_split_counted_and_forgeries_refused() {
    use common::node::{node_config, NodeProcess};
    use nostr::prelude::*;
    use seedstr_pay::invoice::{make_invoice, NewInvoice};
    use seedstr_pay::lnurl::zapper_keys;
    use seedstr_pay::zap_request::{check_zap_request, make_zap_request, ZapTarget};
    use sha2::Digest as _;
    let dir = tempfile::tempdir().unwrap();
    let relay = RelayProcess::start(dir.path(), &[]);
    let (operator, alice, bob, carol) =
        (Person::new(), Person::new(), Person::new(), Person::new());
    let issue = || {
        let out = operator.run(&["wallet", "dev", "connection", "--relay", &relay.url]);
        String::from_utf8(out.stdout).unwrap().trim().to_owned()
    };
    // Connections are issued before the wallet starts: it serves those its ledger holds then.
    for p in [&alice, &bob, &carol] {
        assert!(p.run(&["wallet", "connect", &issue()]).status.success());
    }
    let _wallet = dev_wallet(&operator, &relay.url);
    let owner = [("owner = false", "owner = true")];
    let bobs = NodeProcess::start(bob.home.path(), &node_config(&bob, &owner));
    let carols = NodeProcess::start(carol.home.path(), &node_config(&carol, &owner));
    // Everything meets on bob's node: profiles, the release, the receipts.
    let hub = bobs.relay();
    for (p, node) in [(&bob, &bobs), (&carol, &carols)] {
        let lud16 = format!("me@{}", node.http);
        let set = p.run(&[
            "social", "profile", "set", "--lud16", &lud16, "--relay", &hub,
        ]);
        assert!(
            set.status.success(),
            "{}",
            String::from_utf8_lossy(&set.stderr)
        );
    }
    let payload = dir.path().join("tool");
    std::fs::create_dir_all(&payload).unwrap();
    std::fs::write(payload.join("tool.txt"), b"a tool").unwrap();
    let published = bob.run(&[
        "publish",
        payload.to_str().unwrap(),
        "--ns",
        "generic",
        "--slug",
        "tool",
        "--version",
        "1.0.0",
        "--split",
        &format!("{}:3", bob.hex()),
        "--split",
        &format!("{}:1", carol.hex()),
        "--relay",
        &hub,
        "--no-dht",
        "--json",
    ]);
    assert!(
        published.status.success(),
        "{}",
        String::from_utf8_lossy(&published.stderr)
    );

    wallet_answers(&alice).await;
    let bob_npub = bob.keys.public_key().to_bech32().unwrap();
    let release = format!("{bob_npub}/generic.tool@1.0.0");
    let out = alice.run(&[
        "zap",
        &release,
        "100",
        "--comment",
        "keep seeding",
        "--relay",
        &hub,
        "--json",
    ]);
    let sent: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|_| {
        panic!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    assert!(out.status.success(), "{sent}");
    assert_eq!(sent["split"], true);
    let shares: Vec<(String, u64)> = sent["shares"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            assert!(s["sent"]["zap"]["receipt"].is_string(), "{s}");
            (
                s["recipient"].as_str().unwrap().to_owned(),
                s["amount_msat"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(shares, vec![(bob.hex(), 75_000), (carol.hex(), 25_000)]);

    // Counted on bob's node: the release's API and page, the project's.
    let base = format!("http://{}", bobs.http);
    let api = format!("{base}/api/v1/releases/{release}");
    let view = poll_json(&api, |v| v["zaps"]["total_msat"] == 100_000).await;
    assert_eq!(view["zaps"]["zaps"].as_array().unwrap().len(), 2);
    assert_eq!(view["zap_splits"].as_array().unwrap().len(), 2);
    assert_eq!(view["zaps"]["by_recipient"][carol.hex()], 25_000);
    let page = reqwest::get(format!("{base}/r/{release}"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("⚡ 100 sats from 2 zaps"), "{page}");
    assert!(page.contains("keep seeding"), "{page}");
    let project: Value = reqwest::get(format!("{base}/api/v1/projects/{bob_npub}/generic.tool"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(project["zaps"]["total_msat"], 100_000);
    let address = format!("30079:{}:generic.tool@1.0.0", bob.hex());
    assert_eq!(project["zaps"]["by_target"][&address]["zaps"], 2);
    // Bob's author page counts his share only: carol's went to her.
    let author: Value = reqwest::get(format!("{base}/api/v1/authors/{bob_npub}"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(author["zaps"]["total_msat"], 75_000, "{author}");
    let page = reqwest::get(format!("{base}/u/{bob_npub}"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("⚡ 75 sats from 1 zap"), "{page}");

    // Forgeries, each breaking one rule, sent to the same relay.
    let real = seedstr_client::relays::conn::RelayConn::connect(&hub)
        .await
        .unwrap()
        .query(
            "r",
            &[serde_json::json!({"kinds": [9735], "#p": [bob.hex()]})],
        )
        .await
        .unwrap()
        .into_iter()
        .next()
        .unwrap();
    let bobs_zapper = zapper_keys(&bob.keys);
    let resign = |tags: Vec<Tag>, by: &Keys| {
        EventBuilder::new(Kind::from(9735u16), "")
            .tags(tags)
            .finalize(by)
            .unwrap()
    };
    let replace = |e: &Event, name: &str, value: &str| -> Vec<Tag> {
        e.tags
            .iter()
            .map(|t| {
                if t.as_slice()[0] == name {
                    Tag::parse([name, value]).unwrap()
                } else {
                    t.clone()
                }
            })
            .collect()
    };
    let target = ZapTarget {
        event: None,
        address: Some(address.clone()),
    };
    let other_request = make_zap_request(
        &alice.keys,
        bob.keys.public_key(),
        &target,
        75_000,
        std::slice::from_ref(&hub),
        None,
        "other",
    )
    .unwrap()
    .as_json();
    // An invoice for 1,000,000 sats over a request that asked 75 sats.
    let greedy = make_invoice(
        &[7; 32],
        &NewInvoice {
            amount_msat: 1_000_000_000,
            description_hash: sha2::Sha256::digest(other_request.as_bytes()).into(),
            payment_hash: [8; 32],
            payment_secret: [9; 32],
            created_at: Timestamp::now().as_secs(),
            expiry: Duration::from_secs(600),
        },
    )
    .unwrap();
    check_zap_request(&other_request, 75_000).unwrap();
    let mut wrong_amount = replace(&real, "bolt11", &greedy);
    wrong_amount = wrong_amount
        .into_iter()
        .map(|t| {
            if t.as_slice()[0] == "description" {
                Tag::parse(["description", other_request.as_str()]).unwrap()
            } else {
                t
            }
        })
        .collect();
    let forgeries = [
        (
            "signed by",
            resign(real.tags.iter().cloned().collect(), &Keys::generate()),
        ),
        (
            "description",
            resign(replace(&real, "description", &other_request), &bobs_zapper),
        ),
        ("the invoice is for", resign(wrong_amount, &bobs_zapper)),
        (
            "already counted",
            // Another second than the real one's, or it would be the same event.
            EventBuilder::new(Kind::from(9735u16), "")
                .tags(real.tags.iter().cloned())
                .custom_created_at(Timestamp::from(real.created_at.as_secs() + 1))
                .finalize(&bobs_zapper)
                .unwrap(),
        ),
    ];
    let mut conn = seedstr_client::relays::conn::RelayConn::connect(&hub)
        .await
        .unwrap();
    for (_, f) in &forgeries {
        conn.publish(f).await.unwrap();
    }
    let view = poll_json(&api, |v| {
        v["zaps"]["refused"]
            .as_array()
            .is_some_and(|r| r.len() == 4)
    })
    .await;
    assert_eq!(view["zaps"]["total_msat"], 100_000, "{view}");
    let refused: Vec<String> = view["zaps"]["refused"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["why"].as_str().unwrap().to_owned())
        .collect();
    for (why, _) in &forgeries {
        assert!(
            refused.iter().any(|r| r.contains(why)),
            "{why}: {refused:?}"
        );
    }
    let page = reqwest::get(format!("{base}/r/{release}"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("4 receipts not counted"), "{page}");

    // `mod info` reads the same from the relay.
    let alice2 = std::sync::Arc::new(alice);
    let hub2 = hub.clone();
    let bob_npub2 = bob_npub.clone();
    let info = tokio::task::spawn_blocking(move || {
        alice2.run(&[
            "mod",
            "info",
            &format!("{bob_npub2}/generic.tool"),
            "--relay",
            &hub2,
        ])
    })
    .await
    .unwrap();
    let text = String::from_utf8_lossy(&info.stdout);
    assert!(
        info.status.success(),
        "{}",
        String::from_utf8_lossy(&info.stderr)
    );
    assert!(text.contains("zaps: 100 sats from 2 zaps"), "{text}");
    assert!(
        text.contains("1.0.0: 1 files") && text.contains("100 sats from 2 zaps\n"),
        "{text}"
    );
    assert_eq!(text.matches("not counted").count(), 4, "{text}");
}

/// A paid relay: its NIP-11 document gives the price (`fees`), the period and where to pay;
/// a write from a key that has not paid is refused with `restricted:` and the price; a zap to
/// the operator for the price, with the relay among the zap's relays, admits the payer, whose
/// next write is taken; a key that paid nothing is still refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_paid_relay_admits_writers_who_zapped_its_operator() {
    use common::node::{node_config, NodeProcess};
    let dir = tempfile::tempdir().unwrap();
    let relay = RelayProcess::start(&dir.path().join("wallet-relay"), &[]);
    let (operator, olga, alice, bob) = (Person::new(), Person::new(), Person::new(), Person::new());
    for p in [&olga, &alice] {
        let out = operator.run(&["wallet", "dev", "connection", "--relay", &relay.url]);
        let uri = String::from_utf8(out.stdout).unwrap().trim().to_owned();
        assert!(p.run(&["wallet", "connect", &uri]).status.success());
    }
    let _wallet = dev_wallet(&operator, &relay.url);
    // Olga runs the paid relay; her own node is her lightning address.
    let node = NodeProcess::start(
        olga.home.path(),
        &node_config(&olga, &[("owner = false", "owner = true")]),
    );
    let address = format!("me@{}", node.http);
    let config = dir.path().join("paid.toml");
    std::fs::write(
        &config,
        format!(
            "[info]\npubkey = \"{}\"\n\n[admission]\nprice_sats = 10\nperiod_days = 30\nlightning_address = \"{address}\"\n",
            olga.hex()
        ),
    )
    .unwrap();
    let paid = RelayProcess::start(
        &dir.path().join("paid"),
        &["--config", config.to_str().unwrap()],
    );
    let info: Value = reqwest::Client::new()
        .get(paid.url.replace("ws://", "http://"))
        .header("Accept", "application/nostr+json")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(info["limitation"]["payment_required"], true);
    assert_eq!(info["fees"]["admission"][0]["amount"], 10_000);
    assert_eq!(info["fees"]["admission"][0]["period"], 30 * 86_400);
    assert_eq!(
        info["payments_url"],
        format!("http://{}/.well-known/lnurlp/me", node.http)
    );

    writes_after_zapping(&paid.url, &alice, &bob, &olga, &address).await;
}

/// A node's relay charges for writes too, when its owner connected a wallet (the node is the
/// lightning address writers zap): a write from a key that has not paid is refused with the
/// price, a zap to the owner admits its sender. Without a wallet, a node with a price stops at
/// start and says what it needs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_relay_admits_writers_who_zapped_its_owner() {
    use common::node::{node_config, NodeProcess};
    let dir = tempfile::tempdir().unwrap();
    let relay = RelayProcess::start(&dir.path().join("wallet-relay"), &[]);
    let (operator, olga, alice, bob) = (Person::new(), Person::new(), Person::new(), Person::new());

    let unready = node_config(
        &olga,
        &[
            ("price_sats = 0", "price_sats = 10"),
            ("owner = false", "owner = true"),
        ],
    );
    let out = olga.run(&["node", "--config", unready.to_str().unwrap()]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("need its owner (social.owner) with a connected wallet"),
        "{err}"
    );

    for p in [&olga, &alice] {
        let out = operator.run(&["wallet", "dev", "connection", "--relay", &relay.url]);
        let uri = String::from_utf8(out.stdout).unwrap().trim().to_owned();
        assert!(p.run(&["wallet", "connect", &uri]).status.success());
    }
    let _wallet = dev_wallet(&operator, &relay.url);
    let node = NodeProcess::start(
        olga.home.path(),
        &node_config(
            &olga,
            &[
                ("price_sats = 0", "price_sats = 10"),
                ("owner = false", "owner = true"),
            ],
        ),
    );
    let info: Value = reqwest::Client::new()
        .get(format!("http://{}/", node.http))
        .header("Accept", "application/nostr+json")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(info["limitation"]["payment_required"], true, "{info}");
    assert_eq!(
        info["payments_url"],
        format!("http://{}/.well-known/lnurlp/me", node.http)
    );
    let address = format!("me@{}", node.http);
    writes_after_zapping(&node.relay(), &alice, &bob, &olga, &address).await;
}
