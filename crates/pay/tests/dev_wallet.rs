//! The development wallet (not money) over a real relay on loopback, asked by our NWC client:
//! invoices made and paid between two connections, notifications, lookups, balances, and the
//! refusals NIP-47 names.

use std::sync::Arc;
use std::time::Duration;

use seedstr_pay::dev_wallet::{new_connection, DevWallet};
use seedstr_pay::nwc::WalletClient;

fn relay() -> (String, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let store = seedstr_store::lmdb::LmdbStore::open(dir.path()).unwrap();
    let config = seedstr_relay::RelayConfig::default();
    let addr = seedstr_relay::Relay::serve_on_loopback(config, store).unwrap();
    (format!("ws://{addr}/"), dir)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_connections_invoice_pay_and_hear_of_it() {
    let (url, _relay_dir) = relay();
    let dir = tempfile::tempdir().unwrap();
    let (alice_uri, bob_uri) = (
        new_connection(dir.path(), &url).unwrap(),
        new_connection(dir.path(), &url).unwrap(),
    );
    let wallet = Arc::new(
        DevWallet::open(dir.path(), &url, Arc::new(seedstr_proto::clock::unix_now)).unwrap(),
    );
    tokio::spawn(wallet.clone().serve());
    let t = Duration::from_secs(10);
    let (alice, bob) = (
        WalletClient::new(&alice_uri, t).unwrap(),
        WalletClient::new(&bob_uri, t).unwrap(),
    );
    // Requests are ephemeral (kind 23194): one sent before the wallet's subscription is open
    // is lost, so the first call is retried, briefly, until the wallet answers.
    let probe = WalletClient::new(&bob_uri, Duration::from_millis(500)).unwrap();
    let start = loop {
        match probe.get_balance().await {
            Ok(b) => break b.balance,
            Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    };
    assert_eq!(start, seedstr_pay::dev_ledger::STARTING_BALANCE_MSAT);
    let made = bob
        .make_invoice(21_000, &hex::encode([7u8; 32]))
        .await
        .unwrap();
    assert!(made.invoice.starts_with("lnbcrt"), "regtest: never money");
    let read = seedstr_pay::invoice::read_invoice(&made.invoice).unwrap();
    assert_eq!(read.description_hash, Some(hex::encode([7u8; 32])));
    // Bob listens for his connection's notifications.
    let mut listen = seedstr_client::relays::conn::RelayConn::connect(&url)
        .await
        .unwrap();
    listen
        .send(&serde_json::json!(["REQ", "n", {"kinds": [23197], "#p": [bob.client_keys().public_key().to_hex()]}]))
        .await
        .unwrap();
    let paid = alice.pay_invoice(&made.invoice).await.unwrap();
    let note = loop {
        let m = listen.recv().await.unwrap();
        if m[0] == "EVENT" {
            let e = nostr::prelude::Event::from_json(m[2].to_string()).unwrap();
            break bob.notification(&e).unwrap();
        }
    };
    assert_eq!(
        note.notification_type,
        nostr::nips::nip47::NotificationType::PaymentReceived
    );
    let received = note.to_pay_notification().unwrap();
    assert_eq!(received.amount, 21_000);
    assert_eq!(received.preimage, paid.preimage);
    let looked = bob
        .lookup_invoice(made.payment_hash.as_deref().unwrap())
        .await
        .unwrap();
    assert_eq!(looked.preimage.as_deref(), Some(paid.preimage.as_str()));
    assert!(looked.settled_at.is_some());
    assert_eq!(bob.get_balance().await.unwrap().balance, start + 21_000);
    assert_eq!(alice.get_balance().await.unwrap().balance, start - 21_000);
    // Paying twice, too much, or from a connection the wallet never issued: refused by name.
    let again = alice
        .pay_invoice(&made.invoice)
        .await
        .unwrap_err()
        .to_string();
    assert!(again.contains("paid already"), "{again}");
    let big = bob
        .make_invoice(start * 3, &hex::encode([1u8; 32]))
        .await
        .unwrap();
    let err = alice
        .pay_invoice(&big.invoice)
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("InsufficientBalance"), "{err}");
    let stranger = format!(
        "nostr+walletconnect://{}?relay={}&secret={}",
        wallet.public_key().to_hex(),
        url,
        "11".repeat(32)
    );
    let err = WalletClient::new(&stranger, t)
        .unwrap()
        .get_balance()
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("Unauthorized"), "{err}");
}
