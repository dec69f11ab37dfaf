//! Governance operations over any event source: finding a proposal, checking a vote before it
//! is signed, and tallying as of a given time (the clock is the caller's, so a tally can be
//! asked of any moment, and tests need no waiting).

use nostr::prelude::PublicKey;
use seedstr_client::relays::source::{newest_addressable, EventSource, SourceError};
use seedstr_client::resolve::target::{parse_public_key, TargetError};
use serde_json::json;

use crate::events::governance::{tally, Proposal, Quorum, Tally, Vote};
use crate::events::{EventReadError, PROPOSAL_KIND, VOTE_KIND};

/// Why a governance operation could not be done.
#[derive(Debug, thiserror::Error)]
pub enum GovernanceError {
    /// The relays could not be asked.
    #[error(transparent)]
    Source(#[from] SourceError),
    /// Not a proposal's address.
    #[error("{0:?} is not <npub>/<ns>.proposal.<slug> or a proposal address")]
    NotAnAddress(String),
    /// The author's key does not read.
    #[error(transparent)]
    Key(#[from] TargetError),
    /// No relay holds the proposal.
    #[error("no relay holds the proposal {0}")]
    NoProposal(String),
    /// The proposal does not read.
    #[error(transparent)]
    Unreadable(#[from] EventReadError),
    /// The option is not one of the proposal's.
    #[error("{option:?} is not an option of {d}; the options are {}", .options.join(", "))]
    NotAnOption {
        /// The option asked for.
        option: String,
        /// The proposal's `d`.
        d: String,
        /// The proposal's options.
        options: Vec<String>,
    },
    /// Voting has closed.
    #[error("{d} closed at {closes}; a vote now would not count")]
    Closed {
        /// The proposal's `d`.
        d: String,
        /// When voting closed (Unix seconds).
        closes: u64,
    },
}

/// Reads `<npub>/<ns>.proposal.<slug>` or the address `30100:<hex>:<d>`: the author and `d`.
pub fn parse_proposal_address(s: &str) -> Result<(PublicKey, String), GovernanceError> {
    let not = || GovernanceError::NotAnAddress(s.to_owned());
    let (author, d) = match s.strip_prefix(&format!("{PROPOSAL_KIND}:")) {
        Some(rest) => rest.split_once(':').ok_or_else(not)?,
        None => s.split_once('/').ok_or_else(not)?,
    };
    Ok((parse_public_key(author)?, d.to_owned()))
}

/// The newest proposal `d` by `author` that `source` holds.
pub async fn fetch_proposal(
    source: &impl EventSource,
    author: &PublicKey,
    d: &str,
) -> Result<Proposal, GovernanceError> {
    let newest = newest_addressable(source, PROPOSAL_KIND, author, d)
        .await?
        .ok_or_else(|| GovernanceError::NoProposal(d.to_owned()))?;
    Ok(Proposal::from_event(&newest)?)
}

/// The vote for `option` on `proposal` (by `author`), refused when the option is not one of
/// its options or when it closed before `now`.
pub fn vote_on(
    proposal: &Proposal,
    author: &PublicKey,
    option: &str,
    reason: &str,
    now: u64,
) -> Result<Vote, GovernanceError> {
    if !proposal.options.iter().any(|o| o == option) {
        return Err(GovernanceError::NotAnOption {
            option: option.to_owned(),
            d: proposal.d(),
            options: proposal.options.clone(),
        });
    }
    if now > proposal.closes {
        return Err(GovernanceError::Closed {
            d: proposal.d(),
            closes: proposal.closes,
        });
    }
    Ok(Vote {
        proposal: proposal.address(author),
        option: option.to_owned(),
        reason: reason.to_owned(),
    })
}

/// A proposal's tally as of a moment.
#[derive(Debug, Clone, serde::Serialize)]
pub struct TallyReport {
    /// The proposal's address.
    pub proposal: String,
    /// The proposal's title.
    pub title: String,
    /// When it is decided.
    pub quorum: Quorum,
    /// When voting closes (Unix seconds).
    pub closes: u64,
    /// The Unix time the tally is as of.
    pub at: u64,
    /// The counts and the outcome.
    pub tally: Tally,
}

/// Tallies the votes `source` holds for the proposal `d` by `author`, as of Unix time `at`.
pub async fn tally_proposal(
    source: &impl EventSource,
    author: &PublicKey,
    d: &str,
    at: u64,
) -> Result<TallyReport, GovernanceError> {
    let p = fetch_proposal(source, author, d).await?;
    let address = p.address(author);
    let votes = source
        .events(json!({"kinds": [VOTE_KIND], "#a": [address]}))
        .await?;
    Ok(TallyReport {
        tally: tally(&p, author, &votes, at),
        proposal: address,
        title: p.title,
        quorum: p.quorum,
        closes: p.closes,
        at,
    })
}
