//! A channel's whole life on the contract, run by revm in the process and by anvil (npm
//! `@foundry-rs/anvil-linux-amd64`, a real chain node on loopback): our EIP-712 digest is the
//! contract's; claims cashed by the recipient only, each for more than the last and within
//! the deposit; forged, replayed and over-cumulative claims refused by the contract with its
//! reason; a closing sender challenged with a later claim; the rest refunded after the
//! challenge period, or at once after expiry; every balance to the wei, fees counted.

use alloy_primitives::{Address, U256};
use k256::ecdsa::SigningKey;
use seedstr_channel::chain::{Chain, ChainError, Wallet};
use seedstr_channel::channels::{Channels, Done};
use seedstr_channel::claim;
use seedstr_channel::sim::SimChain;

const T0: u64 = 1_800_000_000;

fn wallet(byte: u8) -> Wallet {
    Wallet::new(SigningKey::from_slice(&[byte; 32]).unwrap())
}

fn refused(r: Result<impl std::fmt::Debug, ChainError>, why: &str) {
    match r {
        Err(ChainError::Reverted(reason)) => assert!(reason.contains(why), "{reason}"),
        other => panic!("expected a refusal ({why}), got {other:?}"),
    }
}

fn wallets() -> [Wallet; 4] {
    [wallet(1), wallet(2), wallet(3), wallet(4)]
}

const FUNDS: u64 = 1_000_000_000_000_000_000;

#[tokio::test]
async fn on_revm() {
    let w = wallets();
    let chain = SimChain::new(
        T0,
        &w.iter().map(|w| w.address).collect::<Vec<_>>(),
        U256::from(FUNDS),
    );
    lifecycle(&chain, w).await;
}

#[tokio::test]
async fn on_anvil() {
    let node = seedstr_testkit::anvil::Anvil::start();
    let chain = seedstr_channel::rpc::RpcChain::connect(&node.url)
        .await
        .unwrap();
    assert_eq!(chain.chain_id(), 31337);
    let w = wallets();
    for wallet in &w {
        chain
            .rpc(
                "anvil_setBalance",
                serde_json::json!([
                    wallet.address.to_string(),
                    format!("{:#x}", U256::from(FUNDS))
                ]),
            )
            .await
            .unwrap();
    }
    lifecycle(&chain, w).await;
}

/// Fees each wallet paid, to count balances to the wei.
#[derive(Default)]
struct Fees(std::collections::HashMap<Address, U256>);

impl Fees {
    /// What `done` gave, its fee charged to `by`.
    fn of<T>(&mut self, by: &Wallet, done: Done<T>) -> T {
        *self.0.entry(by.address).or_default() += done.fee;
        done.value
    }

    fn paid_by(&self, w: &Wallet) -> U256 {
        self.0.get(&w.address).copied().unwrap_or_default()
    }
}

async fn lifecycle(chain: &impl Chain, [deployer, alice, bob, carol]: [Wallet; 4]) {
    let funds = U256::from(FUNDS);
    let mut fees = Fees::default();
    let t0 = chain.now().await.unwrap();
    let channels = Channels::deploy(chain, &deployer).await.unwrap();
    let domain = channels.domain();

    let opened = channels
        .open(&alice, bob.address, U256::from(1000), 3600, t0 + 86_400)
        .await
        .unwrap();
    let id = fees.of(&alice, opened);
    // The digest we sign is the one the contract checks.
    assert_eq!(
        channels.claim_digest(id, U256::from(77)).await.unwrap(),
        claim::digest(&domain, id, U256::from(77))
    );
    let on_chain = channels.channel(id).await.unwrap().unwrap();
    assert_eq!(
        (on_chain.sender, on_chain.recipient, on_chain.deposit),
        (alice.address, bob.address, U256::from(1000))
    );

    // Bob takes claims off-chain, then cashes the best.
    let mut book = channels.incoming(id, bob.address).await.unwrap();
    let c100 = claim::sign(&alice.key, &domain, id, U256::from(100));
    let c300 = claim::sign(&alice.key, &domain, id, U256::from(300));
    assert_eq!(book.take(&domain, &c100), Ok(U256::from(100)));
    assert_eq!(book.take(&domain, &c300), Ok(U256::from(200)));
    let cashed = channels.cash(&bob, &c300).await.unwrap();
    assert_eq!(fees.of(&bob, cashed), U256::from(300));

    // What the contract refuses, and why (a refused transaction is never sent: no fee).
    let forged = claim::sign(&carol.key, &domain, id, U256::from(400));
    refused(
        channels.cash(&bob, &forged).await,
        "not signed by the sender",
    );
    refused(
        channels.cash(&bob, &c300).await,
        "not more than already claimed",
    );
    refused(
        channels.cash(&bob, &c100).await,
        "not more than already claimed",
    );
    let over = claim::sign(&alice.key, &domain, id, U256::from(1001));
    refused(channels.cash(&bob, &over).await, "over the deposit");
    let c500 = claim::sign(&alice.key, &domain, id, U256::from(500));
    refused(
        channels.cash(&carol, &c500).await,
        "only the recipient claims",
    );
    refused(
        channels.start_close(&bob, id).await,
        "only the sender closes",
    );

    // Alice starts closing; bob answers with a later claim within the challenge period.
    let started = chain.now().await.unwrap();
    let closing = channels.start_close(&alice, id).await.unwrap();
    let closes_at = fees.of(&alice, closing);
    // The close waits the challenge period from the block that started it.
    assert!(
        (started..=started + 60).contains(&(closes_at - 3600)),
        "{closes_at}"
    );
    refused(channels.finish_close(&alice, id).await, "still open");
    let c600 = claim::sign(&alice.key, &domain, id, U256::from(600));
    let challenged = channels.cash(&bob, &c600).await.unwrap();
    assert_eq!(fees.of(&bob, challenged), U256::from(300));
    chain.advance(3600 + 60).await.unwrap();
    let closed = channels.finish_close(&alice, id).await.unwrap();
    assert_eq!(fees.of(&alice, closed), U256::from(400));
    assert!(channels.channel(id).await.unwrap().is_none());
    refused(
        channels
            .cash(&bob, &claim::sign(&alice.key, &domain, id, U256::from(700)))
            .await,
        "no such channel",
    );
    // The balances moved by exactly what was paid, less each one's fees.
    assert_eq!(
        chain.balance(bob.address).await.unwrap(),
        funds + U256::from(600) - fees.paid_by(&bob)
    );
    assert_eq!(
        chain.balance(alice.address).await.unwrap(),
        funds - U256::from(600) - fees.paid_by(&alice)
    );

    // Expired: the sender takes the rest back at once; a top-up moved the expiry later.
    let now = chain.now().await.unwrap();
    let opened = channels
        .open(&alice, bob.address, U256::from(50), 3600, now + 1000)
        .await
        .unwrap();
    let id2 = fees.of(&alice, opened);
    let topped = channels
        .top_up(&alice, id2, U256::from(25), now + 2000)
        .await
        .unwrap();
    fees.of(&alice, topped);
    chain.advance(1500).await.unwrap();
    refused(channels.finish_close(&carol, id2).await, "still open");
    chain.advance(600).await.unwrap();
    let refunded = channels.finish_close(&carol, id2).await.unwrap();
    assert_eq!(fees.of(&carol, refunded), U256::from(75));
    assert_eq!(
        chain.balance(alice.address).await.unwrap(),
        funds - U256::from(600) - fees.paid_by(&alice)
    );
    assert_eq!(
        chain.balance(carol.address).await.unwrap(),
        funds - fees.paid_by(&carol)
    );
    refused(
        channels
            .open(&alice, Address::ZERO, U256::from(1), 1, now + 100)
            .await,
        "bad recipient",
    );
}
