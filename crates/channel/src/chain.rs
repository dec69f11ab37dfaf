//! Where channel transactions run: a chain that takes transactions from a wallet and answers
//! calls. Two are built: a real node over JSON-RPC ([`crate::rpc`], anvil in the tests) and revm
//! in the process ([`crate::sim`]), which run the same contract bytecode.

use std::future::Future;

use alloy_primitives::{Address, Bytes, Log, U256};
use k256::ecdsa::SigningKey;

/// A key that signs transactions and claims.
#[derive(Clone)]
pub struct Wallet {
    /// The key.
    pub key: SigningKey,
    /// Its address.
    pub address: Address,
}

impl Wallet {
    /// The wallet of `key`.
    pub fn new(key: SigningKey) -> Wallet {
        let address = crate::claim::address_of(&key);
        Wallet { key, address }
    }

    /// The wallet of a 32-byte secret in hex (`0x…`), as devnets print them.
    pub fn from_hex(secret: &str) -> Result<Wallet, ChainError> {
        let bytes = hex::decode(secret.trim_start_matches("0x"))
            .map_err(|e| ChainError::Wallet(e.to_string()))?;
        let key = SigningKey::from_slice(&bytes).map_err(|e| ChainError::Wallet(e.to_string()))?;
        Ok(Wallet::new(key))
    }
}

impl std::fmt::Debug for Wallet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Wallet({})", self.address)
    }
}

/// What a transaction did.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// The contract it created, if it created one.
    pub created: Option<Address>,
    /// The logs it emitted.
    pub logs: Vec<Log>,
    /// The gas it used.
    pub gas_used: u64,
    /// What the sender paid for it (gas used × its price).
    pub fee: U256,
    /// Its hash, on a real chain.
    pub hash: Option<String>,
}

/// Why a transaction or call failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChainError {
    /// The contract refused (its revert reason).
    #[error("the contract refused: {0}")]
    Reverted(String),
    /// The chain could not be reached or answered something unexpected.
    #[error("the chain: {0}")]
    Rpc(String),
    /// A key that does not read.
    #[error("the wallet key: {0}")]
    Wallet(String),
}

/// A chain channel transactions run on.
pub trait Chain: Send + Sync {
    /// Its chain id (EIP-155), part of every claim's domain.
    fn chain_id(&self) -> u64;

    /// Runs a transaction from `from`: to `to` (None: create a contract) with `value` and `data`.
    fn send(
        &self,
        from: &Wallet,
        to: Option<Address>,
        value: U256,
        data: Bytes,
    ) -> impl Future<Output = Result<Outcome, ChainError>> + Send;

    /// Answers a read-only call to `to`.
    fn call(
        &self,
        to: Address,
        data: Bytes,
    ) -> impl Future<Output = Result<Bytes, ChainError>> + Send;

    /// `who`'s balance.
    fn balance(&self, who: Address) -> impl Future<Output = Result<U256, ChainError>> + Send;

    /// The latest block's time (Unix seconds).
    fn now(&self) -> impl Future<Output = Result<u64, ChainError>> + Send;

    /// Moves the chain's clock `secs` ahead (development chains only: a challenge period in a
    /// test).
    fn advance(&self, secs: u64) -> impl Future<Output = Result<(), ChainError>> + Send;
}
