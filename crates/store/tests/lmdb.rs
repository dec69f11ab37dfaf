//! The store suite on LMDB. Durability across a crash is tested on the real binary
//! (`crates/cli/tests/crash.rs`).

mod suite;

use std::sync::Arc;

use seedstr_store::lmdb::LmdbStore;
use seedstr_store::Store;

async fn open() -> Arc<dyn Store> {
    // The directory is leaked on purpose: the store's writer thread outlives the test body.
    let dir = tempfile::tempdir().unwrap().keep();
    LmdbStore::open(&dir).unwrap()
}

store_suite!(open());

/// A query that keeps needing more slices past its budget is refused, and a short query
/// submitted behind it is answered.
#[tokio::test]
async fn scans_past_their_budget_are_refused() {
    use std::time::Duration;

    use nostr::prelude::Keys;
    use seedstr_proto::Filter;
    use seedstr_store::{QueryOptions, StoreError};

    let dir = tempfile::tempdir().unwrap().keep();
    let store = LmdbStore::open(&dir).unwrap();
    store.set_query_slice(Duration::ZERO);
    let k = Keys::generate();
    for i in 0..50 {
        store
            .save(suite::event(&k, 1, 1_700_000_000 + i, &[], "x"))
            .await
            .unwrap();
    }
    // (`{}` would not do: the whole store is counted from the table's size, without a scan.)
    let notes = Filter::parse(&serde_json::json!({"kinds": [1]})).unwrap();
    let tight = QueryOptions {
        max_limit: 500,
        budget: Duration::ZERO,
        now: 1_750_000_000,
    };
    let long = store.count(vec![notes], tight);
    let short = store.query(
        vec![Filter::parse(&serde_json::json!({"limit": 1})).unwrap()],
        QueryOptions {
            budget: Duration::from_secs(5),
            ..tight
        },
    );
    let (long, short) = tokio::join!(long, short);
    assert!(matches!(long, Err(StoreError::OverBudget(_))), "{long:?}");
    assert_eq!(short.unwrap().len(), 1);
}

/// The same suite with a zero time slice: every scan stops and resumes after each key, in a
/// new read transaction, so resumption is checked by every test above.
mod sliced {
    use std::sync::Arc;
    use std::time::Duration;

    use seedstr_store::lmdb::LmdbStore;
    use seedstr_store::Store;

    use super::suite;

    async fn open() -> Arc<dyn Store> {
        let dir = tempfile::tempdir().unwrap().keep();
        let store = LmdbStore::open(&dir).unwrap();
        store.set_query_slice(Duration::ZERO);
        store
    }

    crate::store_suite!(open());
}
