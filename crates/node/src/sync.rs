//! Relay-to-relay sync (NIP-77): a store reconciled with another relay, and what each lacked
//! copied across. `seedstr relay sync` runs it on the relay's own store.

use std::time::Duration;

use seedstr_client::relays::conn::{ConnError, RelayConn};
use seedstr_client::relays::sync::{reconcile, SyncError};
use seedstr_proto::Filter;
use seedstr_store::{QueryOptions, Store, StoreError};
use serde_json::{json, Value};

/// Why a sync stopped.
#[derive(Debug, thiserror::Error)]
pub enum StoreSyncError {
    /// The filter does not parse.
    #[error("the filter: {0}")]
    Filter(String),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The connection to the other relay failed.
    #[error(transparent)]
    Conn(#[from] ConnError),
    /// Negentropy failed.
    #[error(transparent)]
    Sync(#[from] SyncError),
    /// The other relay answered with something not asked for, or with a bad signature.
    /// The other relay sent an event not asked for, or forged.
    #[error("{url} sent an event we did not ask for, or with a bad signature: {id}")]
    Forged {
        /// The other relay.
        url: String,
        /// The event it sent.
        id: String,
    },
}

/// What a sync did.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct SyncReport {
    /// Events the filter matched here.
    pub here: usize,
    /// Events only the store has.
    pub only_here: usize,
    /// Events only the other relay has.
    pub only_there: usize,
    /// Copied from the other relay into the store.
    pub fetched: usize,
    /// Sent to the other relay, and accepted.
    pub sent: usize,
    /// Sent but refused: event id and the relay's message.
    pub refused: Vec<(String, String)>,
    /// Fetched but turned down by the caller's rule, so not stored.
    pub turned_down: usize,
    /// The events copied in, for a caller that looks further (missing thread parents).
    #[serde(skip)]
    pub fetched_events: Vec<seedstr_proto::Event>,
}

/// Events asked for or sent per round trip.
const BATCH: usize = 200;

/// Reconciles `store` with the relay at `url` over `filter` (NIP-01 JSON), copies what the
/// store lacks into it (each event checked against the ids asked for and its signature), and,
/// unless `down_only`, sends what the other relay lacks. With `auth`, the connection
/// authenticates first (NIP-42): what a relay gives only to its recipient (gift wraps).
/// An event fetched that `admit` turns down is not stored (counted in `turned_down`).
pub async fn sync_store(
    store: &dyn Store,
    url: &str,
    filter: &Value,
    down_only: bool,
    auth: Option<&nostr::prelude::Keys>,
    admit: &(dyn Fn(&seedstr_proto::Event) -> bool + Send + Sync),
) -> Result<SyncReport, StoreSyncError> {
    let parsed = Filter::parse(filter).map_err(|e| StoreSyncError::Filter(format!("{e:?}")))?;
    let opts = QueryOptions {
        budget: Duration::from_secs(600),
        ..QueryOptions::default()
    };
    let local = store.ids(parsed, opts).await?;
    let mut conn = RelayConn::connect(url).await?;
    if let Some(keys) = auth {
        conn.authenticate(keys, url).await?;
    }
    let diff = reconcile(&mut conn, filter, &local).await?;
    let mut report = SyncReport {
        here: local.len(),
        only_here: diff.have.len(),
        only_there: diff.need.len(),
        ..SyncReport::default()
    };
    for (i, chunk) in diff.need.chunks(BATCH).enumerate() {
        let ids: Vec<String> = chunk.iter().map(hex::encode).collect();
        let sub = format!("sync-{i}");
        let events = conn.query(&sub, &[json!({ "ids": ids })]).await?;
        conn.close_sub(&sub).await?;
        for e in events {
            if !chunk.contains(e.id.as_bytes()) || e.verify().is_err() {
                return Err(StoreSyncError::Forged {
                    url: url.to_owned(),
                    id: e.id.to_hex(),
                });
            }
            if !admit(&e) {
                report.turned_down += 1;
                continue;
            }
            store.save(e.clone()).await?;
            report.fetched += 1;
            report.fetched_events.push(e);
        }
    }
    if !down_only {
        for chunk in diff.have.chunks(BATCH) {
            let filter = Filter::for_ids(chunk.iter().copied());
            for e in store.query(vec![filter], opts).await? {
                let id = hex::encode(e.id);
                let (ok, msg) = conn.publish_raw(&e.json, &id).await?;
                if ok {
                    report.sent += 1;
                } else {
                    report.refused.push((id, msg));
                }
            }
        }
    }
    Ok(report)
}
