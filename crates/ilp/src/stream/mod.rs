//! STREAM (RFC 29): multiplexed money and data streams over ILP, each Prepare's data an
//! encrypted STREAM packet whose fulfillment only the receiver can compute.

pub mod crypto;
pub mod packet;
pub mod receiver;
pub mod sender;
