//! The OpenMods events beyond projects and releases (those live in `seedstr_proto::release`):
//! collections, curation, relay policy and governance (incidents, which packages share, live
//! in `seedstr_proto::incident`). docs/mods.md describes each
//! kind's tags; every reader here checks the signature and names the tag at fault.

pub mod collection;
pub mod curation;
pub mod governance;
pub mod relay_policy;
mod tags;

pub use seedstr_proto::incident;
pub use seedstr_proto::incident::{INCIDENT_KIND, REPORT_KIND};
pub use tags::{EventReadError, ReleaseRef};

pub const SUPPORT_KIND: u16 = 30080;
pub const REVIEW_KIND: u16 = 30081;
pub const COMPAT_KIND: u16 = 30082;
pub const COLLECTION_KIND: u16 = 30083;
pub const BUG_KIND: u16 = 30084;
pub const RELAY_POLICY_KIND: u16 = 30086;
pub const PROPOSAL_KIND: u16 = 30100;
pub const VOTE_KIND: u16 = 30109;
