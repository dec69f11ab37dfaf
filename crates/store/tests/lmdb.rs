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
