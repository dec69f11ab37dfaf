#![warn(missing_docs)]
//! Interledger for Seedstr's peer network (Nostr-ILP): the ILPv4 packets in their OER encoding,
//! and, built on them, ILDCP, STREAM, BTP and a connector. Written here because the registry's
//! interledger crates are 2019-era (tokio 0.1); every decoder is bounded by the bytes it is
//! given and checked against the public test vectors.

pub mod address;
pub mod announcement;
pub mod btp;
pub mod btp_session;
pub mod ccp;
pub mod connector;
pub mod ildcp;
pub mod link;
pub mod nostr_frames;
pub mod oer;
pub mod packet;
pub mod paid_messages;
pub mod peer_auth;
pub mod settle;
pub mod spsp;
pub mod stream;
pub mod timestamp;
