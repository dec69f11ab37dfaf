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

/// The LISTEN connection is cut by the server (as a restart or a network fault would): the
/// store says so in its log, connects again, and saves by another front-end reach it again.
#[tokio::test]
async fn a_lost_listen_connection_is_made_again() {
    let url = fresh_database().await;
    let a = PgStore::connect(&url).await.unwrap();
    let b = PgStore::connect(&url).await.unwrap();
    let mut from_a = b.foreign_events().unwrap();
    let (admin, conn) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(conn);
    let k = nostr::prelude::Keys::generate();
    let cut = admin
        .query(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
             WHERE datname = current_database() AND query LIKE 'LISTEN%' AND pid <> pg_backend_pid()",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(cut.len(), 2, "both front-ends listen");
    // Saves keep coming until one is heard: the reconnect takes about a second.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    for n in 0.. {
        assert!(
            std::time::Instant::now() < deadline,
            "no save was heard after the LISTEN connection was cut"
        );
        let e = suite::event(&k, 1, 1_700_000_000 + n, &[], "after the cut");
        a.save(e.clone()).await.unwrap();
        match tokio::time::timeout(std::time::Duration::from_millis(500), from_a.recv()).await {
            Ok(Ok(got)) => {
                assert_eq!(got.kind.as_u16(), 1);
                break;
            }
            _ => continue,
        }
    }
}

/// TLS to the database: a server that refuses plain TCP (`hostnossl … reject`), with a
/// self-signed certificate. The store connects with `sslmode=require` and the certificate as
/// `sslrootcert` (its pool and its LISTEN connection), and saves; without the certificate to
/// trust, or without TLS, the connection is refused.
#[tokio::test]
async fn connections_can_use_tls() {
    let (url, cert) = seedstr_testkit::postgres::tls_server().unwrap();
    let tls_url = format!("{url}?sslmode=require&sslrootcert={}", cert.display());
    let store = PgStore::connect(&tls_url).await.unwrap();
    let k = nostr::prelude::Keys::generate();
    let e = suite::event(&k, 1, 1_700_000_000, &[], "over TLS");
    store.save(e).await.unwrap();
    let err = match PgStore::connect(&format!("{url}?sslmode=require")).await {
        Ok(_) => panic!("a certificate nobody trusts was accepted"),
        Err(e) => e.to_string(),
    };
    assert!(
        err.to_lowercase().contains("certificate") || err.contains("tls") || err.contains("TLS"),
        "{err}"
    );
    let plain = format!("{url}?sslmode=disable");
    assert!(
        PgStore::connect(&plain).await.is_err(),
        "the server takes plain TCP"
    );
}
