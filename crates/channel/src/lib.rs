#![warn(missing_docs)]
//! Unidirectional payment channels on an EVM chain (docs/channels.md): the contract compiled
//! from `contracts/UnidirectionalChannel.sol`, EIP-712 claims signed by the sender and checked
//! by the recipient, and settlement: opening, topping up, cashing claims and closing, on a real
//! chain over JSON-RPC or in-process with revm.

pub mod chain;
pub mod channels;
pub mod claim;
pub mod contract;
pub mod rpc;
pub mod sim;
