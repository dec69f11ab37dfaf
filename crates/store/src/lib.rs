#![warn(missing_docs)]
//! The event store: one trait, two backends.
//!
//! - [`lmdb::LmdbStore`], embedded, in the manner of strfry: one writer thread batching many
//!   events per transaction (fsync before anyone hears OK), index keys that end in
//!   `created_at`, each event's canonical JSON stored once.
//! - [`postgres::PgStore`], for several relay front-ends on one database.
//!
//! Both apply the same rules on write (duplicates, replaceable and addressable versions,
//! NIP-09 deletions and their tombstones) and the same ordering on read (newest first, ties by
//! lowest id), and the same test suite runs against both.

pub mod keys;
pub mod lmdb;
pub mod postgres;

mod rules;
mod search;

use std::sync::Arc;
use std::time::Duration;

use futures_util::future::BoxFuture;
use seedstr_proto::{Event, Filter};

pub use rules::{deletion_targets, DeletionTargets};

/// What became of an event handed to the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SaveOutcome {
    /// Durably stored (and, for a replaceable event, the older version removed).
    Saved,
    /// The store already holds this event.
    Duplicate,
    /// A newer version of this replaceable or addressable event is stored.
    Superseded,
    /// The author deleted this event (NIP-09) before it arrived.
    Deleted,
}

/// A stored event as queries return it: enough to order and dedupe without parsing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredEvent {
    /// Unix seconds the author gives.
    pub created_at: u64,
    /// The event id.
    pub id: [u8; 32],
    /// The event as it was stored: canonical JSON, stored once and served as is.
    pub json: Arc<str>,
}

impl StoredEvent {
    /// NIP-01 result order: newest first, ties by lowest id.
    pub fn order_key(&self) -> (std::cmp::Reverse<u64>, [u8; 32]) {
        (std::cmp::Reverse(self.created_at), self.id)
    }
}

/// Bounds a query keeps to, whatever the filter asks.
#[derive(Debug, Clone, Copy)]
pub struct QueryOptions {
    /// Most events returned per filter, whatever `limit` asks.
    pub max_limit: usize,
    /// Wall time a query may take before it is abandoned.
    pub budget: Duration,
    /// Events whose NIP-40 expiration is at or before this are hidden.
    pub now: u64,
}

impl Default for QueryOptions {
    fn default() -> Self {
        QueryOptions {
            max_limit: 500,
            budget: Duration::from_secs(2),
            now: seedstr_proto::clock::unix_now(),
        }
    }
}

/// Why the store could not do what was asked.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The embedded LMDB store failed.
    #[error("LMDB: {0}")]
    Lmdb(#[from] heed::Error),
    /// The PostgreSQL server failed or refused.
    #[error("PostgreSQL: {0}")]
    Postgres(#[from] tokio_postgres::Error),
    /// A query ran past its time budget and was abandoned.
    #[error("query exceeded its time budget of {0:?}")]
    OverBudget(Duration),
    /// A stored row does not read back as what was written.
    #[error("stored event is corrupt: {0}")]
    Corrupt(String),
    /// Another backend failure, described.
    #[error("{0}")]
    Backend(String),
    /// The store was closed while the request waited.
    #[error("the store is shut down")]
    Closed,
    /// A file of the store could not be read or written.
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// Another process has the embedded store's folder open.
    #[error("the store in {0} is open in another process (a running relay or node?); stop it first, or reach it over WebSocket")]
    InUse(std::path::PathBuf),
}

/// The store's results.
pub type Result<T> = std::result::Result<T, StoreError>;

/// `(created_at, id)` pairs, the items of a NIP-77 set.
pub type IdList = Vec<(u64, [u8; 32])>;

/// The operations a relay needs from its store.
pub trait Store: Send + Sync + 'static {
    /// Stores a verified event. Returns only once the outcome is durable.
    fn save(&self, event: Event) -> BoxFuture<'_, Result<SaveOutcome>>;

    /// Events matching any filter, each filter bounded by its limit, newest first, no repeats.
    fn query(
        &self,
        filters: Vec<Filter>,
        opts: QueryOptions,
    ) -> BoxFuture<'_, Result<Vec<StoredEvent>>>;

    /// Number of distinct events matching any filter (NIP-45), ignoring limits.
    fn count(&self, filters: Vec<Filter>, opts: QueryOptions) -> BoxFuture<'_, Result<u64>>;

    /// `(created_at, id)` of the events matching the filter, newest first, at most its limit,
    /// for NIP-77.
    fn ids(&self, filter: Filter, opts: QueryOptions) -> BoxFuture<'_, Result<IdList>>;

    /// NIP-50: the events matching `filter` (its `search` and every other condition), most
    /// relevant first, then newest, at most its limit; bounded as `search` describes.
    fn search(&self, filter: Filter, opts: QueryOptions)
        -> BoxFuture<'_, Result<Vec<StoredEvent>>>;

    /// Removes events whose NIP-40 expiration is at or before `now`; returns how many.
    fn purge_expired(&self, now: u64) -> BoxFuture<'_, Result<usize>>;

    /// Hands an ephemeral event (never stored) to the other processes sharing this store, so
    /// their live subscribers hear it too; they receive it through [`Store::foreign_events`].
    /// Embedded stores have no such peers.
    fn share_ephemeral(&self, _event: &Event) -> BoxFuture<'_, Result<()>> {
        Box::pin(async { Ok(()) })
    }

    /// Events saved (or ephemeral events shared) by other processes sharing this store, to fan
    /// out to live subscribers. Embedded stores have no such peers and return None.
    fn foreign_events(&self) -> Option<tokio::sync::broadcast::Receiver<Arc<Event>>> {
        None
    }
}

/// Merges per-filter results: dedupes by id, orders newest first (ties by lowest id).
pub(crate) fn merge_results(mut all: Vec<StoredEvent>) -> Vec<StoredEvent> {
    all.sort_unstable_by_key(StoredEvent::order_key);
    all.dedup_by(|a, b| a.id == b.id);
    all
}
