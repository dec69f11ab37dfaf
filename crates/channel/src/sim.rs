//! A chain in the process: revm running the contract over an in-memory state, for tests and
//! benchmarks where no chain node runs. Accounts start funded; the clock moves only when told.

use std::sync::Mutex;

use alloy_primitives::{Address, Bytes, TxKind, U256};
use revm::context::result::{ExecutionResult, Output};
use revm::context::TxEnv;
use revm::database::{CacheDB, EmptyDB};
use revm::state::AccountInfo;
use revm::{Context, ExecuteCommitEvm, ExecuteEvm, MainBuilder, MainContext};

use crate::chain::{Chain, ChainError, Outcome, Wallet};

/// The chain id the simulated chain says it is (anvil's).
pub const SIM_CHAIN_ID: u64 = 31337;
/// Gas each transaction may use.
const GAS_LIMIT: u64 = 5_000_000;

struct State {
    db: CacheDB<EmptyDB>,
    time: u64,
    block: u64,
}

/// An in-process chain.
pub struct SimChain {
    state: Mutex<State>,
}

impl SimChain {
    /// A chain whose clock reads `time`, with `funded` accounts holding `amount` each.
    pub fn new(time: u64, funded: &[Address], amount: U256) -> SimChain {
        let mut db = CacheDB::<EmptyDB>::default();
        for a in funded {
            db.insert_account_info(
                *a,
                AccountInfo {
                    balance: amount,
                    ..AccountInfo::default()
                },
            );
        }
        SimChain {
            state: Mutex::new(State { db, time, block: 1 }),
        }
    }

    fn run(
        &self,
        from: Address,
        to: Option<Address>,
        value: U256,
        data: Bytes,
        commit: bool,
    ) -> Result<(Outcome, Bytes), ChainError> {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let nonce = state
            .db
            .cache
            .accounts
            .get(&from)
            .map_or(0, |a| a.info.nonce);
        let (time, block) = (state.time, state.block);
        let tx = TxEnv::builder()
            .caller(from)
            .kind(to.map_or(TxKind::Create, TxKind::Call))
            .value(value)
            .data(data)
            .gas_limit(GAS_LIMIT)
            .gas_price(0)
            .nonce(nonce)
            .chain_id(Some(SIM_CHAIN_ID))
            .build()
            .map_err(|e| ChainError::Rpc(format!("{e:?}")))?;
        let db = std::mem::take(&mut state.db);
        let mut evm = Context::mainnet()
            .with_db(db)
            .modify_block_chained(|b| {
                b.timestamp = U256::from(time);
                b.number = U256::from(block);
                b.basefee = 0;
            })
            .modify_cfg_chained(|c| {
                c.chain_id = SIM_CHAIN_ID;
            })
            .build_mainnet();
        let result = if commit {
            evm.transact_commit(tx)
        } else {
            let r = evm.transact_one(tx);
            let _ = evm.finalize();
            r
        };
        state.db = std::mem::take(&mut evm.ctx.journaled_state.database);
        if commit {
            state.block += 1;
        }
        match result.map_err(|e| ChainError::Rpc(format!("{e:?}")))? {
            ExecutionResult::Success {
                gas, logs, output, ..
            } => {
                let (created, out) = match output {
                    Output::Create(bytes, address) => (address, bytes),
                    Output::Call(bytes) => (None, bytes),
                };
                Ok((
                    Outcome {
                        created,
                        logs,
                        gas_used: gas.tx_gas_used(),
                        fee: U256::ZERO,
                        hash: None,
                    },
                    out,
                ))
            }
            ExecutionResult::Revert { output, .. } => Err(ChainError::Reverted(
                crate::contract::revert_reason(&output).unwrap_or_else(|| "no reason".into()),
            )),
            ExecutionResult::Halt { reason, .. } => {
                Err(ChainError::Reverted(format!("halted: {reason:?}")))
            }
        }
    }
}

impl Chain for SimChain {
    fn chain_id(&self) -> u64 {
        SIM_CHAIN_ID
    }

    async fn send(
        &self,
        from: &Wallet,
        to: Option<Address>,
        value: U256,
        data: Bytes,
    ) -> Result<Outcome, ChainError> {
        self.run(from.address, to, value, data, true)
            .map(|(o, _)| o)
    }

    async fn call(&self, to: Address, data: Bytes) -> Result<Bytes, ChainError> {
        self.run(Address::ZERO, Some(to), U256::ZERO, data, false)
            .map(|(_, out)| out)
    }

    async fn balance(&self, who: Address) -> Result<U256, ChainError> {
        let state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        Ok(state
            .db
            .cache
            .accounts
            .get(&who)
            .map_or(U256::ZERO, |a| a.info.balance))
    }

    async fn now(&self) -> Result<u64, ChainError> {
        Ok(self.state.lock().unwrap_or_else(|p| p.into_inner()).time)
    }

    async fn advance(&self, secs: u64) -> Result<(), ChainError> {
        self.state.lock().unwrap_or_else(|p| p.into_inner()).time += secs;
        Ok(())
    }
}
