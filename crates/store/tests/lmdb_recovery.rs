//! Crash recovery of the LMDB store, staged on real files: the disk as a power cut or
//! `kill -9` leaves it, then opened. (`kill -9` of the real relay under load is
//! `crates/cli/tests/crash.rs`.)

#[allow(dead_code)]
mod suite;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use nostr::prelude::Keys;
use seedstr_proto::Filter;
use seedstr_store::lmdb::checkpoint::Checkpoint;
use seedstr_store::lmdb::{journal, LmdbStore};
use seedstr_store::{QueryOptions, SaveOutcome, Store};
use serde_json::json;

const NOW: u64 = 1_760_000_000;

fn opts() -> QueryOptions {
    QueryOptions {
        max_limit: 10_000,
        budget: std::time::Duration::from_secs(10),
        now: NOW,
    }
}

fn filter(v: serde_json::Value) -> Filter {
    Filter::parse(&v).unwrap()
}

/// The filters both stores must answer alike.
fn filters() -> Vec<Filter> {
    vec![
        filter(json!({})),
        filter(json!({"kinds": [1]})),
        filter(json!({"kinds": [0]})),
        filter(json!({"#t": ["later"]})),
        filter(json!({"search": "note"})),
    ]
}

/// Ids of every event each filter finds, and its count.
async fn answers(store: &Arc<LmdbStore>) -> Vec<(Vec<[u8; 32]>, u64)> {
    let mut out = Vec::new();
    for f in filters() {
        let ids = if f.search.is_some() {
            store.search(f.clone(), opts()).await.unwrap()
        } else {
            store.query(vec![f.clone()], opts()).await.unwrap()
        };
        let mut ids: Vec<[u8; 32]> = ids.into_iter().map(|e| e.id).collect();
        ids.sort();
        out.push((ids, store.count(vec![f], opts()).await.unwrap()));
    }
    out
}

fn journals(dir: &Path) -> Vec<PathBuf> {
    journal::list(dir)
        .unwrap()
        .into_iter()
        .map(|(_, p)| p)
        .collect()
}

/// A directory holding `data` as `data.mdb` and copies of `dir`'s journals.
fn disk_image(dir: &Path, data: &[u8]) -> PathBuf {
    let image = tempfile::tempdir().unwrap().keep();
    std::fs::write(image.join("data.mdb"), data).unwrap();
    for path in journals(dir) {
        std::fs::copy(&path, image.join(path.file_name().unwrap())).unwrap();
    }
    image
}

/// Saves notes, a profile, its replacement and a deletion: every rule the replay must repeat.
async fn write(store: &LmdbStore, keys: &Keys, from: u64, tag: &str) -> Vec<[u8; 32]> {
    let mut saved = Vec::new();
    for i in from..from + 200 {
        let e = suite::event(
            keys,
            1,
            NOW - 10_000 + i,
            &[&["t", tag]],
            &format!("note {i}"),
        );
        saved.push(*e.id.as_bytes());
        assert_eq!(store.save(e).await.unwrap(), SaveOutcome::Saved);
    }
    let profile = suite::event(keys, 0, NOW - 5_000 + from, &[], "{\"name\":\"p\"}");
    assert_eq!(store.save(profile).await.unwrap(), SaveOutcome::Saved);
    let doomed = saved[3];
    let deletion = suite::event(
        keys,
        5,
        NOW - 1_000 + from,
        &[&["e", &hex::encode(doomed)]],
        "",
    );
    assert_eq!(store.save(deletion).await.unwrap(), SaveOutcome::Saved);
    saved
}

/// A store's folder after writes, a checkpoint and more writes, the store still open (as at a
/// crash); every filter's answers, and the data file as the checkpoint left it.
async fn written(keys: &Keys) -> (PathBuf, Vec<(Vec<[u8; 32]>, u64)>, Vec<u8>) {
    let dir = tempfile::tempdir().unwrap().keep();
    let store = LmdbStore::open(&dir).unwrap();
    write(&store, keys, 0, "earlier").await;
    store.checkpoint().await.unwrap();
    let at_checkpoint = std::fs::read(dir.join("data.mdb")).unwrap();
    write(&store, keys, 1_000, "later").await;
    let expected = answers(&store).await;
    // Not dropped: a clean close would sync the file and remove the journal.
    std::mem::forget(store);
    (dir, expected, at_checkpoint)
}

/// The worst a power cut can leave: the data file as the last checkpoint synced it, except
/// that the newest meta pages reached the disk and the pages they point at did not. Opening
/// rolls back to the checkpoint and replays the journal, a torn last record dropped.
#[tokio::test]
async fn a_power_cut_loses_no_acknowledged_write() {
    let keys = Keys::generate();
    let (dir, expected, at_checkpoint) = written(&keys).await;

    let newest = std::fs::read(dir.join("data.mdb")).unwrap();
    let [journal] = &journals(&dir)[..] else {
        panic!(
            "one journal after a finished checkpoint: {:?}",
            journals(&dir)
        );
    };
    let parsed = journal::parse(&std::fs::read(journal).unwrap()).unwrap();
    assert!(parsed.entries.len() > 200, "the later writes are journaled");
    let meta = 2 * parsed.checkpoint.page_size;
    let mut torn = at_checkpoint.clone();
    torn[..meta].copy_from_slice(&newest[..meta]);
    let newer = Checkpoint {
        txnid: 0,
        page_size: parsed.checkpoint.page_size,
        meta: torn[..meta].to_vec(),
    };
    assert!(
        newer.newest_txnid().unwrap() > parsed.checkpoint.txnid,
        "the staged file opens past the checkpoint unless rolled back"
    );
    let image = disk_image(&dir, &torn);
    // The batch being synced at the cut: half a record, never acknowledged.
    let mut tail = Vec::new();
    journal::encode_save(&mut tail, "{\"half\":");
    let journal_copy = image.join(journal.file_name().unwrap());
    let mut bytes = std::fs::read(&journal_copy).unwrap();
    bytes.extend_from_slice(&tail[..tail.len() - 3]);
    std::fs::write(&journal_copy, bytes).unwrap();

    let recovered = LmdbStore::open(&image).unwrap();
    assert_eq!(answers(&recovered).await, expected);
    assert!(
        journals(&image).len() == 1,
        "the replayed journals are replaced by a fresh one"
    );
    let more = suite::event(&keys, 1, NOW - 1, &[], "after the cut");
    assert_eq!(recovered.save(more).await.unwrap(), SaveOutcome::Saved);
    drop(recovered);
    assert!(
        journals(&image).is_empty(),
        "a clean close leaves no journal"
    );
    let reopened = LmdbStore::open(&image).unwrap();
    let all = reopened
        .count(vec![filter(json!({}))], opts())
        .await
        .unwrap();
    assert_eq!(all, expected[0].1 + 1);
}

/// `kill -9`: the page cache keeps every unsynced commit, and the journal replays onto them.
#[tokio::test]
async fn a_killed_process_loses_no_acknowledged_write() {
    let (dir, expected, _) = written(&Keys::generate()).await;
    let image = disk_image(&dir, &std::fs::read(dir.join("data.mdb")).unwrap());
    let recovered = LmdbStore::open(&image).unwrap();
    assert_eq!(answers(&recovered).await, expected);
}

/// A crash while the first journal's header was being written (journaling had not begun, so
/// every commit was synced): the torn file is removed and the store opens as it was.
#[tokio::test]
async fn a_torn_first_journal_is_set_aside() {
    let dir = tempfile::tempdir().unwrap().keep();
    let store = LmdbStore::open(&dir).unwrap();
    let keys = Keys::generate();
    write(&store, &keys, 0, "earlier").await;
    let expected = answers(&store).await;
    drop(store);
    std::fs::write(
        dir.join("journal-0000000000000001"),
        b"seedstr-journal\n\x01",
    )
    .unwrap();
    let reopened = LmdbStore::open(&dir).unwrap();
    assert_eq!(answers(&reopened).await, expected);
}

/// A damaged header in the only journal that holds writes is refused, by name, not skipped.
#[tokio::test]
async fn a_damaged_journal_is_refused_by_name() {
    let (dir, _, _) = written(&Keys::generate()).await;
    let image = disk_image(&dir, &std::fs::read(dir.join("data.mdb")).unwrap());
    let [journal] = &journals(&image)[..] else {
        panic!("one journal");
    };
    let mut bytes = std::fs::read(journal).unwrap();
    bytes[20] ^= 0xff;
    std::fs::write(journal, bytes).unwrap();
    // A newer journal (as a checkpoint in progress leaves one) makes the damaged one not the newest.
    let cp = journal::parse(&std::fs::read(journals(&dir)[0].clone()).unwrap())
        .unwrap()
        .checkpoint;
    std::fs::write(
        image.join("journal-00000000000000ff"),
        journal::encode_header(&cp),
    )
    .unwrap();
    let err = LmdbStore::open(&image).err().expect("refused").to_string();
    assert!(
        err.contains(&journal.file_name().unwrap().to_string_lossy().to_string()),
        "{err}"
    );
}

/// One process at a time: a second open of a folder in use is refused by name, since it would
/// take the live journal for a crash's.
#[tokio::test]
async fn a_folder_in_use_is_refused() {
    let dir = tempfile::tempdir().unwrap().keep();
    let store = LmdbStore::open(&dir).unwrap();
    let err = LmdbStore::open(&dir).err().expect("refused").to_string();
    assert!(err.contains("open in another process"), "{err}");
    assert!(err.contains(&dir.display().to_string()), "{err}");
    drop(store);
    LmdbStore::open(&dir).expect("free again once closed");
}
