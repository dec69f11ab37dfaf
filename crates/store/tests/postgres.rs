//! The store suite on PostgreSQL. `scripts/test` starts a private server on loopback and sets
//! `SEEDSTR_TEST_POSTGRES`; each test gets a database of its own.

mod suite;

use std::sync::Arc;

use seedstr_store::postgres::PgStore;
use seedstr_store::Store;

/// A fresh database on the test server.
pub async fn fresh_database() -> String {
    let base = std::env::var("SEEDSTR_TEST_POSTGRES").expect(
        "SEEDSTR_TEST_POSTGRES must name a PostgreSQL server (postgres://user@127.0.0.1:port/db); scripts/test starts one",
    );
    let (client, conn) = tokio_postgres::connect(&base, tokio_postgres::NoTls)
        .await
        .expect("connect to the test PostgreSQL server");
    tokio::spawn(conn);
    let name = format!(
        "seedstr_test_{}",
        &nostr::prelude::Keys::generate().public_key().to_hex()[..16]
    );
    client
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .await
        .expect("create a test database");
    let (prefix, _) = base.rsplit_once('/').expect("URL ends in /dbname");
    format!("{prefix}/{name}")
}

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
