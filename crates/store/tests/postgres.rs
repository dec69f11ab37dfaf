//! The store suite on PostgreSQL: the server `SEEDSTR_TEST_POSTGRES` names (`scripts/test`
//! starts one), or a throwaway one started here (`seedstr_testkit::postgres`); each test gets a
//! database of its own.

mod suite;

use std::sync::Arc;

use seedstr_store::postgres::PgStore;
use seedstr_store::Store;

use seedstr_testkit::postgres::fresh_database;

async fn open() -> Arc<dyn Store> {
    PgStore::connect(&fresh_database().await).await.unwrap()
}

store_suite!(open());

/// Two front-ends on one database: an event saved through one is announced to the other.
#[tokio::test]
async fn saves_reach_other_front_ends() {
    let url = fresh_database().await;
    let a = PgStore::connect(&url).await.unwrap();
    let b = PgStore::connect(&url).await.unwrap();
    let mut from_a = b.foreign_events().unwrap();
    let mut own = a.foreign_events().unwrap();
    let k = nostr::prelude::Keys::generate();
    let e = suite::event(&k, 1, 1_700_000_000, &[], "across");
    a.save(e.clone()).await.unwrap();
    let got = tokio::time::timeout(std::time::Duration::from_secs(10), from_a.recv())
        .await
        .expect("notification within 10 s")
        .unwrap();
    assert_eq!(*got, e);
    // A front-end does not hear its own saves back (it fans them out itself).
    assert!(
        tokio::time::timeout(std::time::Duration::from_millis(300), own.recv())
            .await
            .is_err()
    );
}
