//! Where an operation reads events from: the relays, or a node's own store. Operations that
//! show or choose events (a project's page, say) take any [`EventSource`], so the command line
//! and the node run the same code over different sources.

use std::future::Future;

use seedstr_proto::Verified;
use serde_json::Value;

use crate::relays::{list_failures, query_all, RelaySet};

/// Why a source could not answer.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    /// No relay answered.
    #[error("no relay answered: {}", list_failures(.0))]
    NoRelay(Vec<(String, String)>),
    /// The local store could not be read.
    #[error("reading the store: {0}")]
    Store(String),
    /// The filter does not parse.
    #[error("the filter does not parse: {0}")]
    Filter(String),
}

/// Events matching a NIP-01 filter. Every event a source returns has a valid id and
/// signature, so a reader may choose among them (newest at an address, say) without checking
/// again: verify, then select.
pub trait EventSource: Sync {
    /// The events matching `filter`, each verified.
    fn events(
        &self,
        filter: Value,
    ) -> impl Future<Output = Result<Vec<Verified>, SourceError>> + Send;
}

/// The relays, asked all at once. Refused when none answers; an event that does not verify
/// is dropped before anyone can select it.
impl EventSource for RelaySet {
    async fn events(&self, filter: Value) -> Result<Vec<Verified>, SourceError> {
        let gathered = query_all(&self.urls, &filter, self.timeout).await;
        if gathered.answered.is_empty() {
            return Err(SourceError::NoRelay(gathered.failed));
        }
        // query_all verified every copy before keeping it.
        Ok(gathered.events)
    }
}

/// The newest addressable event (`kind`, `author`, `d`) that `source` holds, NIP-01's winner
/// among the verified copies.
pub async fn newest_addressable(
    source: &impl EventSource,
    kind: u16,
    author: &nostr::prelude::PublicKey,
    d: &str,
) -> Result<Option<Verified>, SourceError> {
    let events = source
        .events(serde_json::json!({"kinds": [kind], "authors": [author.to_hex()], "#d": [d]}))
        .await?;
    Ok(
        seedstr_proto::event::newest_by_address(events.iter().filter(|e| e.pubkey == *author))
            .pop()
            .cloned(),
    )
}

/// The lightning address (`lud16`) each of `people` names in their newest verified profile
/// that `source` holds; someone whose profile names none is absent.
pub async fn lightning_addresses(
    source: &impl EventSource,
    people: impl IntoIterator<Item = &nostr::prelude::PublicKey>,
) -> Result<std::collections::BTreeMap<nostr::prelude::PublicKey, String>, SourceError> {
    let authors: Vec<String> = people.into_iter().map(|k| k.to_hex()).collect();
    let mut out = std::collections::BTreeMap::new();
    if authors.is_empty() {
        return Ok(out);
    }
    let profiles = source
        .events(serde_json::json!({"kinds": [0], "authors": authors}))
        .await?;
    let theirs = profiles
        .iter()
        .filter(|p| authors.contains(&p.pubkey.to_hex()));
    for p in seedstr_proto::event::newest_by_address(theirs) {
        let lud16 = serde_json::from_str::<Value>(&p.content)
            .ok()
            .and_then(|v| v["lud16"].as_str().map(str::to_owned));
        if let Some(address) = lud16 {
            out.insert(p.pubkey, address);
        }
    }
    Ok(out)
}
