//! The OpenMods events beyond projects and releases (those live in `seedstr_proto::release`):
//! collections, curation, relay policy and governance (incidents, which packages share, live
//! in `seedstr_proto::incident`). docs/mods.md describes each
//! kind's tags; every reader here checks the signature and names the tag at fault.

pub mod collection;
pub mod curation;
pub mod governance;
pub mod relay_policy;
pub mod seeder_offer;
mod tags;

pub use seedstr_proto::incident;
pub use seedstr_proto::incident::{INCIDENT_KIND, REPORT_KIND};
pub use tags::{EventReadError, ReleaseRef};

/// Support message (30080).
pub const SUPPORT_KIND: u16 = 30080;
/// Review (30081).
pub const REVIEW_KIND: u16 = 30081;
/// Compatibility report (30082).
pub const COMPAT_KIND: u16 = 30082;
/// Collection, a load order of pinned releases (30083).
pub const COLLECTION_KIND: u16 = 30083;
/// Bug report (30084).
pub const BUG_KIND: u16 = 30084;
/// A mirror's offer to be named in a project's zap splits (30088).
pub const SEEDER_OFFER_KIND: u16 = 30088;
/// Relay policy (30086).
pub const RELAY_POLICY_KIND: u16 = 30086;
/// Governance proposal (30100).
pub const PROPOSAL_KIND: u16 = 30100;
/// Vote on a proposal (30109).
pub const VOTE_KIND: u16 = 30109;
