#![warn(missing_docs)]
//! Payments: zaps (NIP-57) for authors, curators and seeders; the LNURL-pay endpoint a node
//! serves for its owner; wallets (NIP-47 Nostr Wallet Connect, and a development wallet that
//! settles in a local ledger and is named as such); paid admission to a relay.

pub mod admission;
pub mod backend;
pub mod connection;
pub mod dev_ledger;
pub mod dev_wallet;
pub mod invoice;
pub mod lnurl;
pub mod nwc;
pub mod receipt;
#[cfg(test)]
mod test_receipts;
pub mod totals;
pub mod zap;
pub mod zap_request;
pub mod zapper;
