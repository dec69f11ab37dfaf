//! The channel operations on a chain: deploy the contract, open a channel with a deposit, top
//! it up, cash a claim, close (start, then finish after the challenge period) and read a
//! channel's state. Each returns what the chain did, or the contract's reason for refusing.

use alloy_primitives::{Address, Bytes, B256, U256};
use alloy_sol_types::{Eip712Domain, SolCall as _, SolEvent as _};

use crate::chain::{Chain, ChainError, Wallet};
use crate::claim::{self, IncomingChannel, SignedClaim};
use crate::contract::UnidirectionalChannel as C;

/// A channel as the chain holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OnChain {
    /// Who pays.
    pub sender: Address,
    /// Who is paid.
    pub recipient: Address,
    /// The deposit.
    pub deposit: U256,
    /// Cashed so far.
    pub claimed: U256,
    /// Seconds a close waits for a later claim.
    pub challenge_period: u64,
    /// When the sender may take the rest back without a challenge.
    pub expires_at: u64,
    /// When a started close may finish (0: not closing).
    pub closes_at: u64,
}

/// What a transaction gave, and what it cost its sender.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Done<T> {
    /// What it gave (a channel id, an amount paid or refunded…).
    pub value: T,
    /// Its fee, paid by the wallet that sent it.
    pub fee: U256,
    /// Its hash, on a real chain.
    pub hash: Option<String>,
}

fn done<T>(value: T, o: &crate::chain::Outcome) -> Done<T> {
    Done {
        value,
        fee: o.fee,
        hash: o.hash.clone(),
    }
}

/// The contract deployed on a chain.
pub struct Channels<'c, Ch: Chain> {
    chain: &'c Ch,
    /// The contract's address.
    pub contract: Address,
}

fn decode<T>(r: Result<T, alloy_sol_types::Error>) -> Result<T, ChainError> {
    r.map_err(|e| ChainError::Rpc(format!("an answer that does not decode: {e}")))
}

impl<'c, Ch: Chain> Channels<'c, Ch> {
    /// Deploys the committed contract from `from`.
    pub async fn deploy(chain: &'c Ch, from: &Wallet) -> Result<Channels<'c, Ch>, ChainError> {
        let code = crate::contract::artifact().bytecode;
        let outcome = chain.send(from, None, U256::ZERO, code).await?;
        let contract = outcome
            .created
            .ok_or_else(|| ChainError::Rpc("the deployment created no contract".into()))?;
        Ok(Channels { chain, contract })
    }

    /// The contract already at `contract`.
    pub fn at(chain: &'c Ch, contract: Address) -> Channels<'c, Ch> {
        Channels { chain, contract }
    }

    /// The EIP-712 domain its claims are signed in.
    pub fn domain(&self) -> Eip712Domain {
        claim::domain(self.chain.chain_id(), self.contract)
    }

    /// Opens a channel from `sender` to `recipient` with `deposit`: its id.
    pub async fn open(
        &self,
        sender: &Wallet,
        recipient: Address,
        deposit: U256,
        challenge_period: u64,
        expires_at: u64,
    ) -> Result<Done<B256>, ChainError> {
        let data = C::openCall {
            recipient,
            challengePeriod: challenge_period,
            expiresAt: expires_at,
        }
        .abi_encode();
        let outcome = self
            .chain
            .send(sender, Some(self.contract), deposit, data.into())
            .await?;
        let id = outcome
            .logs
            .iter()
            .filter(|l| l.address == self.contract)
            .find_map(|l| C::Opened::decode_log_data(&l.data).ok())
            .map(|e| e.id)
            .ok_or_else(|| ChainError::Rpc("the channel opened without an Opened event".into()))?;
        Ok(done(id, &outcome))
    }

    /// Adds `amount` to the deposit, moving the expiry to `expires_at` if that is later.
    pub async fn top_up(
        &self,
        sender: &Wallet,
        id: B256,
        amount: U256,
        expires_at: u64,
    ) -> Result<Done<()>, ChainError> {
        let data = C::topUpCall {
            id,
            expiresAt: expires_at,
        }
        .abi_encode();
        let outcome = self
            .chain
            .send(sender, Some(self.contract), amount, data.into())
            .await?;
        Ok(done((), &outcome))
    }

    /// Cashes `claim` as the recipient: what it paid out.
    pub async fn cash(
        &self,
        recipient: &Wallet,
        claim: &SignedClaim,
    ) -> Result<Done<U256>, ChainError> {
        let data = C::claimCall {
            id: claim.channel,
            cumulativeAmount: claim.cumulative,
            signature: Bytes::copy_from_slice(&claim.signature),
        }
        .abi_encode();
        let outcome = self
            .chain
            .send(recipient, Some(self.contract), U256::ZERO, data.into())
            .await?;
        let paid = outcome
            .logs
            .iter()
            .filter(|l| l.address == self.contract)
            .find_map(|l| C::Claimed::decode_log_data(&l.data).ok())
            .map_or(U256::ZERO, |e| e.paid);
        Ok(done(paid, &outcome))
    }

    /// Starts closing `id` as its sender: when the close may finish.
    pub async fn start_close(&self, sender: &Wallet, id: B256) -> Result<Done<u64>, ChainError> {
        let data = C::startCloseCall { id }.abi_encode();
        let outcome = self
            .chain
            .send(sender, Some(self.contract), U256::ZERO, data.into())
            .await?;
        let closes_at = outcome
            .logs
            .iter()
            .filter(|l| l.address == self.contract)
            .find_map(|l| C::CloseStarted::decode_log_data(&l.data).ok())
            .map_or(0, |e| e.closesAt);
        Ok(done(closes_at, &outcome))
    }

    /// Finishes closing `id` (anyone may): what went back to the sender.
    pub async fn finish_close(&self, by: &Wallet, id: B256) -> Result<Done<U256>, ChainError> {
        let data = C::finishCloseCall { id }.abi_encode();
        let outcome = self
            .chain
            .send(by, Some(self.contract), U256::ZERO, data.into())
            .await?;
        let refunded = outcome
            .logs
            .iter()
            .filter(|l| l.address == self.contract)
            .find_map(|l| C::Closed::decode_log_data(&l.data).ok())
            .map_or(U256::ZERO, |e| e.refunded);
        Ok(done(refunded, &outcome))
    }

    /// `id` as the chain holds it; None when there is no such channel (or it was closed).
    pub async fn channel(&self, id: B256) -> Result<Option<OnChain>, ChainError> {
        let out = self
            .chain
            .call(self.contract, C::channelsCall { id }.abi_encode().into())
            .await?;
        let c = decode(C::channelsCall::abi_decode_returns(&out))?;
        if c.sender == Address::ZERO {
            return Ok(None);
        }
        Ok(Some(OnChain {
            sender: c.sender,
            recipient: c.recipient,
            deposit: c.deposit,
            claimed: c.claimed,
            challenge_period: c.challengePeriod,
            expires_at: c.expiresAt,
            closes_at: c.closesAt,
        }))
    }

    /// The contract's own digest for a claim (to check ours matches the chain's).
    pub async fn claim_digest(&self, id: B256, cumulative: U256) -> Result<B256, ChainError> {
        let out = self
            .chain
            .call(
                self.contract,
                C::claimDigestCall {
                    id,
                    cumulativeAmount: cumulative,
                }
                .abi_encode()
                .into(),
            )
            .await?;
        decode(C::claimDigestCall::abi_decode_returns(&out))
    }

    /// The recipient's record of channel `id`, read from the chain, to take claims against:
    /// refused unless `recipient` is the channel's recipient.
    pub async fn incoming(
        &self,
        id: B256,
        recipient: Address,
    ) -> Result<IncomingChannel, ChainError> {
        let c = self
            .channel(id)
            .await?
            .ok_or_else(|| ChainError::Reverted(format!("no channel {id}")))?;
        if c.recipient != recipient {
            return Err(ChainError::Reverted(format!(
                "channel {id} pays {}, not {recipient}",
                c.recipient
            )));
        }
        Ok(IncomingChannel {
            id,
            sender: c.sender,
            deposit: c.deposit,
            best: None,
        })
    }
}
