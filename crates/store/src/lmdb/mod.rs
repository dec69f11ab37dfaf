//! Embedded store on LMDB.
//!
//! One writer thread owns every write transaction. It takes all the jobs waiting for it, applies
//! them in one transaction and commits it without fsync (readers see it at once), appends what
//! changed to the journal and fdatasyncs that, and only then tells the callers: many events share
//! one small sequential sync, and an acknowledged event survives `kill -9` and a power cut. The
//! data file is synced in the background, a checkpoint at a time (`journal.rs`, `checkpoint.rs`);
//! opening after a crash rolls it back to the last whole checkpoint and replays the journal.
//! Readers run in the query pool (`query_pool`), in time slices, each slice in its own snapshot;
//! they never wait for the writer.
//!
//! `events` maps a serial number to `id (32) | created_at (8) | expiration (8) | JSON`, so scans
//! can order, dedupe and hide expired events without parsing JSON; the JSON is parsed only when
//! a filter asks for more than the scanned index guarantees.

use std::collections::HashSet;
use std::path::Path;
use std::sync::mpsc;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use futures_util::future::BoxFuture;
use heed::types::Bytes;
use heed::{Database, Env, EnvOpenOptions, RwTxn, WithoutTls};
use seedstr_proto::event::{expiration, supersedes_parts};
use seedstr_proto::{Event, Filter};
use tokio::sync::{oneshot, Semaphore};

pub mod checkpoint;
mod durability;
pub mod journal;
mod query_pool;
mod record;
mod scan;
mod words;

use durability::{Durability, Recovery};
use journal::Entry;
use query_pool::{Combine, QueryPool, ScanResults};
use record::{decode, parse_json, HEADER};
use scan::{FilterScan, Found, Output};

use crate::keys;
use crate::rules::{address_d, deletion_targets, indexed_tags};
use crate::search::SearchPlan;
use crate::{
    merge_results, IdList, QueryOptions, Result, SaveOutcome, Store, StoreError, StoredEvent,
};

type Db = Database<Bytes, Bytes>;

/// Most jobs one write transaction takes.
const MAX_BATCH: usize = 16384;
/// Queries admitted at once; more wait for a slot before they are even queued.
const QUERY_SLOTS: usize = 256;
/// Longest a write transaction goes on taking jobs that queued while it ran.
const GROUP_FOR: Duration = Duration::from_millis(50);
/// Jobs queued during one round of a transaction that make a backlog worth joining it.
const BACKLOG: usize = 64;
/// Journal entries replayed per transaction when the store opens after a crash.
const REPLAY_BATCH: usize = 10_000;

#[derive(Clone, Copy)]
struct Dbs {
    events: Db,
    ids: Db,
    by_time: Db,
    by_kind: Db,
    by_author_kind: Db,
    by_tag: Db,
    by_address: Db,
    by_expiry: Db,
    /// `id | deleter pubkey` of deletion requests: keyed by both, so a stranger's request
    /// for someone else's id can neither delete it nor shadow the author's own tombstone.
    tomb_ids: Db,
    /// Deleted address → created_at of the newest deletion request.
    tomb_addresses: Db,
    /// The word index (NIP-50): `word | 0 | created_at | serial` → `weight | kind`.
    by_word: Db,
    /// What the store's layout holds beyond its tables' creation (the word index's version).
    meta: Db,
}

/// An event on its way to the writer, already serialized (by the caller's thread, so the
/// single writer spends its time on the B-trees).
struct Pending {
    event: Event,
    json: String,
}

enum Job {
    Save(Box<Pending>, oneshot::Sender<Result<SaveOutcome>>),
    Purge(u64, oneshot::Sender<Result<usize>>),
    Checkpoint(oneshot::Sender<Result<()>>),
}

/// The embedded store: one LMDB environment, one batching writer, readers in parallel.
pub struct LmdbStore {
    jobs: mpsc::Sender<Job>,
    /// The writer and the query threads, joined on drop: the environment is closed (and can be
    /// opened again) once the store is dropped.
    threads: Vec<JoinHandle<()>>,
    /// Held while the store is open (released after the threads are joined).
    _folder_lock: std::fs::File,
    pool: Arc<QueryPool>,
    query_slots: Arc<Semaphore>,
}

/// Default LMDB map size: address space, not disk; the file grows as data arrives.
pub const DEFAULT_MAP_SIZE: usize = 1 << 40;

impl LmdbStore {
    /// Opens (or creates) the store in `dir` with the default map size.
    pub fn open(dir: &Path) -> Result<Arc<LmdbStore>> {
        Self::open_with_map_size(dir, DEFAULT_MAP_SIZE)
    }

    /// Opens (or creates) the store in `dir`, its map `map_size` bytes at most.
    pub fn open_with_map_size(dir: &Path, map_size: usize) -> Result<Arc<LmdbStore>> {
        std::fs::create_dir_all(dir)?;
        let folder_lock = lock_folder(dir)?;
        let recovery = Recovery::read(dir)?;
        if let Some(r) = &recovery {
            let data = dir.join("data.mdb");
            if !data.exists() {
                return Err(StoreError::Corrupt(format!(
                    "{} holds journal files but no data.mdb to replay them onto",
                    dir.display()
                )));
            }
            r.checkpoint.restore(&data)?;
        }
        let (env, dbs, next_serial, pin) =
            open_env(dir, map_size, recovery.as_ref().map(|r| r.checkpoint.txnid))?;
        let mut writer = Writer {
            env: env.clone(),
            dbs,
            next_serial,
            durability: Durability::Synced,
        };
        if let Some(r) = recovery {
            writer.replay(&r)?;
            // Every replayed commit is synced: the checkpoint and its journals are done with.
            drop(pin);
            journal::remove(dir, &r.paths)?;
        }
        writer.durability = Durability::start(&env, dir);
        let (tx, rx) = mpsc::channel();
        let mut handles = vec![std::thread::Builder::new()
            .name("lmdb-writer".into())
            .spawn(move || writer.run(rx))?];
        let (pool, readers) = QueryPool::start(env.clone(), dbs, query_threads())?;
        handles.extend(readers);
        Ok(Arc::new(LmdbStore {
            jobs: tx,
            threads: handles,
            _folder_lock: folder_lock,
            pool,
            query_slots: Arc::new(Semaphore::new(QUERY_SLOTS)),
        }))
    }

    /// Syncs everything written so far into the data file and starts a new journal, waiting
    /// until the data file is synced (the writer does this every second on its own; tests use
    /// it to stage a crash at a known checkpoint).
    pub async fn checkpoint(&self) -> Result<()> {
        let (tx, rx) = oneshot::channel();
        self.jobs
            .send(Job::Checkpoint(tx))
            .map_err(|_| StoreError::Closed)?;
        rx.await.map_err(|_| StoreError::Closed)?
    }

    /// Sets how long one query runs before others get their turn (tests use zero to make
    /// every scan stop and resume as often as it can).
    pub fn set_query_slice(&self, slice: Duration) {
        self.pool.set_slice(slice);
    }

    /// Runs the scans in the query pool, once an admission slot is free.
    async fn scan(&self, scans: Vec<FilterScan>, opts: QueryOptions) -> Result<ScanResults> {
        self.scan_combined(scans, Combine::Each, opts).await
    }

    /// [`Self::scan`], the results combined as `combine` says.
    async fn scan_combined(
        &self,
        scans: Vec<FilterScan>,
        combine: Combine,
        opts: QueryOptions,
    ) -> Result<ScanResults> {
        let _slot = self
            .query_slots
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| StoreError::Closed)?;
        self.pool
            .submit(scans, combine, opts.budget)
            .await
            .map_err(|_| StoreError::Closed)?
    }
}

impl Drop for LmdbStore {
    fn drop(&mut self) {
        self.pool.close();
        // The writer ends once its queue is closed: it syncs the data file and removes the
        // journal, so the next open has nothing to replay.
        drop(std::mem::replace(&mut self.jobs, mpsc::channel().0));
        for thread in self.threads.drain(..) {
            let _ = thread.join();
        }
    }
}

/// Locks the store's folder for this process. The journal assumes one writing process: a
/// second one's commits would be in no journal, and its opening would take the first's journal
/// for a crash's and roll a live file back.
fn lock_folder(dir: &Path) -> Result<std::fs::File> {
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(dir.join("store.lock"))?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => Err(StoreError::InUse(dir.to_path_buf())),
        Err(std::fs::TryLockError::Error(e)) => Err(e.into()),
    }
}

/// The environment and its tables, created if missing, and the next serial number to give.
/// With `checkpoint`, the commit a crash recovery restored, it is pinned before anything is
/// written, so a crash during recovery finds it whole again.
fn open_env(
    dir: &Path,
    map_size: usize,
    checkpoint: Option<u64>,
) -> Result<(Env<WithoutTls>, Dbs, u64, Option<durability::Pin>)> {
    // SAFETY: heed requires that the same environment is not opened twice in one process
    // and that the files are not changed behind LMDB's back; the relay opens it once.
    let env = unsafe {
        EnvOpenOptions::new()
            .read_txn_without_tls()
            .map_size(map_size)
            .max_dbs(16)
            .max_readers(126)
            .open(dir)?
    };
    let pin = checkpoint
        .map(|txnid| {
            durability::pin(&env, txnid).map_err(|e| {
                StoreError::Corrupt(format!("restoring the journal's checkpoint: {e}"))
            })
        })
        .transpose()?;
    let mut wtxn = env.write_txn()?;
    let mut create = |name: &str| env.create_database::<Bytes, Bytes>(&mut wtxn, Some(name));
    let dbs = Dbs {
        events: create("events")?,
        ids: create("ids")?,
        by_time: create("by_time")?,
        by_kind: create("by_kind")?,
        by_author_kind: create("by_author_kind")?,
        by_tag: create("by_tag")?,
        by_address: create("by_address")?,
        by_expiry: create("by_expiry")?,
        tomb_ids: create("tomb_ids")?,
        tomb_addresses: create("tomb_addresses")?,
        by_word: create("by_word")?,
        meta: create("meta")?,
    };
    let next_serial = match dbs.events.last(&wtxn)? {
        Some((k, _)) => u64::from_be_bytes(k.try_into().map_err(|_| corrupt("serial"))?) + 1,
        None => 1,
    };
    // Stores of an earlier layout had an index by author alone; author queries now read the
    // author×kind index, so its pages are given back.
    if let Some(old) = env.open_database::<Bytes, Bytes>(&wtxn, Some("by_author"))? {
        if !old.is_empty(&wtxn)? {
            old.clear(&mut wtxn)?;
        }
    }
    wtxn.commit()?;
    index_words_of_older_events(&env, &dbs)?;
    Ok((env, dbs, next_serial, pin))
}

/// The `meta` key under which the word index's version is kept.
const WORD_INDEX_KEY: &[u8] = b"word_index";
/// The word index's version: bumped when what is indexed changes, so stores rebuild it.
const WORD_INDEX_VERSION: &[u8] = b"2";
/// Events indexed per transaction while a store's word index is built.
const WORD_INDEX_BATCH: usize = 10_000;

/// A store written before the word index existed (or under another version of it) gets it
/// built once, at open, in batches; the version is recorded only when every event is in.
fn index_words_of_older_events(env: &Env<WithoutTls>, dbs: &Dbs) -> Result<()> {
    {
        let rtxn = env.read_txn()?;
        if dbs.meta.get(&rtxn, WORD_INDEX_KEY)? == Some(WORD_INDEX_VERSION) {
            return Ok(());
        }
    }
    let mut wtxn = env.write_txn()?;
    dbs.by_word.clear(&mut wtxn)?;
    wtxn.commit()?;
    let started = std::time::Instant::now();
    let mut from: Option<Vec<u8>> = None;
    let mut indexed = 0usize;
    loop {
        let mut wtxn = env.write_txn()?;
        let mut batch: Vec<(Vec<u8>, [u8; 3])> = Vec::new();
        let mut last = None;
        {
            let lower = match &from {
                Some(k) => std::ops::Bound::Excluded(&k[..]),
                None => std::ops::Bound::Unbounded,
            };
            let range = (lower, std::ops::Bound::Unbounded);
            for entry in dbs.events.range(&wtxn, &range)?.take(WORD_INDEX_BATCH) {
                let (k, v) = entry?;
                let serial = u64::from_be_bytes(k.try_into().map_err(|_| corrupt("serial"))?);
                batch.extend(words::entries(&parse_json(decode(v)?.json)?, serial));
                last = Some(k.to_vec());
                indexed += 1;
            }
        }
        for (key, value) in &batch {
            dbs.by_word.put(&mut wtxn, key, value)?;
        }
        let Some(last) = last else {
            dbs.meta
                .put(&mut wtxn, WORD_INDEX_KEY, WORD_INDEX_VERSION)?;
            wtxn.commit()?;
            break;
        };
        wtxn.commit()?;
        from = Some(last);
    }
    if indexed > 0 {
        tracing::info!(
            "built the word index of {indexed} stored events in {:.1} s",
            started.elapsed().as_secs_f64()
        );
    }
    Ok(())
}

/// One query thread per core: slices keep them fair, so more threads would only contend.
fn query_threads() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get())
}

/// Whether every filter names its kinds and no kind is in two of them.
fn kinds_are_disjoint(filters: &[Filter]) -> bool {
    let mut seen = HashSet::new();
    filters.iter().all(|f| {
        f.kinds
            .as_ref()
            .is_some_and(|kinds| kinds.iter().all(|k| seen.insert(*k)))
    })
}

/// The events a scan found (a count has none).
fn events(found: Found) -> Vec<StoredEvent> {
    match found {
        Found::Events(events) => events,
        Found::Count(_) | Found::Ids(_) => Vec::new(),
    }
}

fn corrupt(what: &str) -> StoreError {
    StoreError::Corrupt(what.to_string())
}

impl Store for LmdbStore {
    fn save(&self, event: Event) -> BoxFuture<'_, Result<SaveOutcome>> {
        Box::pin(async move {
            let (tx, rx) = oneshot::channel();
            self.jobs
                .send(Job::Save(
                    Box::new(Pending {
                        json: event.as_json(),
                        event,
                    }),
                    tx,
                ))
                .map_err(|_| StoreError::Closed)?;
            rx.await.map_err(|_| StoreError::Closed)?
        })
    }

    fn query(
        &self,
        filters: Vec<Filter>,
        opts: QueryOptions,
    ) -> BoxFuture<'_, Result<Vec<StoredEvent>>> {
        let scans = filters
            .into_iter()
            .map(|f| {
                let limit = f.effective_limit(opts.max_limit);
                FilterScan::new(f, limit, opts.now, Output::Events)
            })
            .collect();
        Box::pin(async move {
            let results = self.scan(scans, opts).await?;
            Ok(merge_results(
                results.into_iter().flat_map(events).collect(),
            ))
        })
    }

    fn count(&self, filters: Vec<Filter>, opts: QueryOptions) -> BoxFuture<'_, Result<u64>> {
        // Filters whose kinds do not overlap match disjoint events (an event has one kind), so
        // their counts add up, each counted without ids (from index keys alone where the index
        // covers the filter). Others collect ids to count each event once.
        let (output, combine) = if filters.len() == 1 || kinds_are_disjoint(&filters) {
            (Output::Count, Combine::Sum)
        } else {
            (Output::Ids, Combine::Distinct)
        };
        let scans = filters
            .into_iter()
            .map(|f| FilterScan::new(f, usize::MAX, opts.now, output))
            .collect();
        Box::pin(async move {
            let mut found = self.scan_combined(scans, combine, opts).await?;
            match found.pop() {
                Some(Found::Count(n)) => Ok(n),
                Some(Found::Ids(mut ids)) => {
                    // Off the runtime's threads and the query pool's alike.
                    let distinct = tokio::task::spawn_blocking(move || {
                        ids.sort_unstable();
                        ids.dedup();
                        ids.len() as u64
                    });
                    distinct
                        .await
                        .map_err(|e| StoreError::Backend(e.to_string()))
                }
                _ => Err(corrupt("a count came back without its number")),
            }
        })
    }

    fn ids(&self, filter: Filter, opts: QueryOptions) -> BoxFuture<'_, Result<IdList>> {
        let limit = filter.limit.unwrap_or(usize::MAX);
        let scans = vec![FilterScan::new(filter, limit, opts.now, Output::Ids)];
        Box::pin(async move {
            let results = self.scan(scans, opts).await?;
            Ok(results
                .into_iter()
                .flat_map(events)
                .map(|e| (e.created_at, e.id))
                .collect())
        })
    }

    fn search(
        &self,
        filter: Filter,
        opts: QueryOptions,
    ) -> BoxFuture<'_, Result<Vec<StoredEvent>>> {
        let limit = filter.effective_limit(opts.max_limit);
        let scans = vec![FilterScan::search(
            SearchPlan::new(&filter, limit),
            opts.now,
        )];
        Box::pin(async move {
            let results = self.scan(scans, opts).await?;
            Ok(results.into_iter().flat_map(events).collect())
        })
    }

    fn purge_expired(&self, now: u64) -> BoxFuture<'_, Result<usize>> {
        Box::pin(async move {
            let (tx, rx) = oneshot::channel();
            self.jobs
                .send(Job::Purge(now, tx))
                .map_err(|_| StoreError::Closed)?;
            rx.await.map_err(|_| StoreError::Closed)?
        })
    }
}

/// The single owner of write transactions.
struct Writer {
    env: Env<WithoutTls>,
    dbs: Dbs,
    next_serial: u64,
    durability: Durability,
}

impl Writer {
    fn run(mut self, rx: mpsc::Receiver<Job>) {
        while let Ok(first) = rx.recv() {
            self.apply(first, &rx);
            self.durability.after_batch(&self.env);
        }
        self.durability.finish(&self.env);
    }

    /// Applies `first` and every job waiting behind it in one transaction, makes them durable,
    /// and answers them.
    fn apply(&mut self, first: Job, rx: &mpsc::Receiver<Job>) {
        let mut batch = vec![first];
        take_waiting(rx, &mut batch);
        let serial_before = self.next_serial;
        let mut outcomes = Vec::with_capacity(batch.len());
        let applied = match self.durability.refusal() {
            Some(why) => Err(StoreError::Backend(why)),
            None => self.apply_in_txn(&mut batch, rx, &mut outcomes),
        };
        if applied.is_err() {
            // Nothing was committed: the serials are free again.
            self.next_serial = serial_before;
        }
        let result = applied.and_then(|()| self.make_durable(&batch, &outcomes));
        if let Err(e) = result {
            tracing::error!("LMDB write batch failed: {e}");
            let msg = e.to_string();
            outcomes = batch
                .iter()
                .map(|_| Err(StoreError::Corrupt(format!("write failed: {msg}"))))
                .collect();
        }
        for (job, outcome) in batch.into_iter().zip(outcomes) {
            match (job, outcome) {
                (Job::Save(_, tx), Ok(Done::Saved(o))) => drop(tx.send(Ok(o))),
                (Job::Purge(_, tx), Ok(Done::Purged(n))) => drop(tx.send(Ok(n))),
                (Job::Checkpoint(tx), Ok(Done::Checkpoint)) => {
                    drop(tx.send(self.durability.checkpoint_now(&self.env)))
                }
                (Job::Save(_, tx), Err(e)) => drop(tx.send(Err(e))),
                (Job::Purge(_, tx), Err(e)) => drop(tx.send(Err(e))),
                (Job::Checkpoint(tx), Err(e)) => drop(tx.send(Err(e))),
                _ => unreachable!("outcome kinds follow job kinds"),
            }
        }
    }

    /// One transaction for the whole batch; a job's own refusal is an outcome, not a failure.
    ///
    /// While jobs keep arriving in bulk (a backlog, not a trickle), those that queued while
    /// the batch was applied join the same transaction, for up to `GROUP_FOR`: each page a
    /// commit copies is then shared by more events. A trickle is committed at once, so light
    /// load keeps its short OK latency.
    fn apply_in_txn(
        &mut self,
        batch: &mut Vec<Job>,
        rx: &mpsc::Receiver<Job>,
        outcomes: &mut Vec<Result<Done>>,
    ) -> Result<()> {
        let env = self.env.clone();
        let mut wtxn = env.write_txn()?;
        let started = Instant::now();
        let mut last_round = false;
        loop {
            for job in &batch[outcomes.len()..] {
                outcomes.push(match job {
                    Job::Save(p, _) => self.save(&mut wtxn, &p.event, &p.json).map(Done::Saved),
                    Job::Purge(now, _) => self.purge(&mut wtxn, *now).map(Done::Purged),
                    Job::Checkpoint(_) => Ok(Done::Checkpoint),
                });
            }
            if last_round || started.elapsed() >= GROUP_FOR {
                break;
            }
            let taken = take_waiting(rx, batch);
            if taken == 0 {
                break;
            }
            last_round = taken < BACKLOG;
        }
        wtxn.commit()?;
        Ok(())
    }

    /// Applies `jobs` as the writer thread would if they were all queued (tests build stores
    /// with it).
    #[cfg(test)]
    fn apply_all(&mut self, jobs: Vec<Job>) {
        let (tx, rx) = mpsc::channel();
        for job in jobs {
            tx.send(job).expect("the receiver is here");
        }
        while let Ok(first) = rx.try_recv() {
            self.apply(first, &rx);
        }
    }

    /// Journals what the committed batch changed (saves that stored an event, purges that
    /// removed some): replaying them in order from the checkpoint rebuilds the same store.
    fn make_durable(&mut self, batch: &[Job], outcomes: &[Result<Done>]) -> Result<()> {
        let mut records = Vec::new();
        for (job, outcome) in batch.iter().zip(outcomes) {
            match (job, outcome) {
                (Job::Save(p, _), Ok(Done::Saved(SaveOutcome::Saved))) => {
                    journal::encode_save(&mut records, &p.json)
                }
                (Job::Purge(now, _), Ok(Done::Purged(n))) if *n > 0 => {
                    journal::encode_purge(&mut records, *now)
                }
                _ => {}
            }
        }
        self.durability.record(&self.env, &records)
    }

    /// Replays the journals a crash left, in transactions LMDB syncs.
    fn replay(&mut self, recovery: &Recovery) -> Result<()> {
        let started = Instant::now();
        for chunk in recovery.entries.chunks(REPLAY_BATCH) {
            let env = self.env.clone();
            let mut wtxn = env.write_txn()?;
            for entry in chunk {
                match entry {
                    Entry::Save(json) => {
                        let event = parse_json(json.as_bytes())?;
                        self.save(&mut wtxn, &event, json)?;
                    }
                    Entry::Purge(now) => {
                        self.purge(&mut wtxn, *now)?;
                    }
                }
            }
            wtxn.commit()?;
        }
        tracing::info!(
            "recovered after a crash: replayed {} journal entries from transaction {} in {:.1} s",
            recovery.entries.len(),
            recovery.checkpoint.txnid,
            started.elapsed().as_secs_f64()
        );
        Ok(())
    }

    fn save(&mut self, txn: &mut RwTxn, event: &Event, json: &str) -> Result<SaveOutcome> {
        let d = self.dbs;
        let id = event.id.as_bytes();
        let pubkey = event.pubkey.as_bytes();
        let kind = event.kind.as_u16();
        let at = event.created_at.as_secs();
        if d.ids.get(txn, id)?.is_some() {
            return Ok(SaveOutcome::Duplicate);
        }
        if d.tomb_ids.get(txn, &tomb_key(id, pubkey))?.is_some() {
            return Ok(SaveOutcome::Deleted);
        }
        if let Some(dv) = address_d(event) {
            let addr = keys::address(kind, pubkey, dv);
            if let Some(until) = d.tomb_addresses.get(txn, &addr)? {
                if at <= u64::from_be_bytes(until.try_into().map_err(|_| corrupt("tombstone"))?) {
                    return Ok(SaveOutcome::Deleted);
                }
            }
            if let Some(old) = d.by_address.get(txn, &addr)? {
                let old_serial = old.to_vec();
                let value = d
                    .events
                    .get(txn, &old_serial)?
                    .ok_or_else(|| corrupt("address"))?;
                let r = decode(value)?;
                if !supersedes_parts(at, id, r.created_at, &r.id) {
                    return Ok(SaveOutcome::Superseded);
                }
                self.remove(txn, &old_serial)?;
            }
        }
        let serial = self.next_serial;
        self.next_serial += 1;
        self.insert(txn, event, json, serial)?;
        if kind == seedstr_proto::kind::DELETION {
            self.apply_deletion(txn, event)?;
        }
        Ok(SaveOutcome::Saved)
    }

    fn insert(&self, txn: &mut RwTxn, event: &Event, json: &str, serial: u64) -> Result<()> {
        let d = &self.dbs;
        let at = event.created_at.as_secs();
        let exp = expiration(event).unwrap_or(0);
        let mut value = Vec::with_capacity(HEADER + json.len());
        value.extend_from_slice(event.id.as_bytes());
        value.extend_from_slice(&at.to_be_bytes());
        value.extend_from_slice(&exp.to_be_bytes());
        value.extend_from_slice(json.as_bytes());
        let sk = serial.to_be_bytes();
        d.events.put(txn, &sk, &value)?;
        d.ids.put(txn, event.id.as_bytes(), &sk)?;
        for (db, key) in index_keys(d, event, serial) {
            db.put(txn, &key, &[])?;
        }
        for (key, value) in words::entries(event, serial) {
            d.by_word.put(txn, &key, &value)?;
        }
        if let Some(dv) = address_d(event) {
            let addr = keys::address(event.kind.as_u16(), event.pubkey.as_bytes(), dv);
            d.by_address.put(txn, &addr, &sk)?;
        }
        Ok(())
    }

    /// Removes an event and every index entry pointing at it.
    fn remove(&self, txn: &mut RwTxn, serial_key: &[u8]) -> Result<()> {
        let d = &self.dbs;
        let Some(value) = d.events.get(txn, serial_key)? else {
            return Ok(());
        };
        let event = parse_json(decode(value)?.json)?;
        let serial = u64::from_be_bytes(serial_key.try_into().map_err(|_| corrupt("serial"))?);
        for (db, key) in index_keys(d, &event, serial) {
            db.delete(txn, &key)?;
        }
        for (key, _) in words::entries(&event, serial) {
            d.by_word.delete(txn, &key)?;
        }
        if let Some(dv) = address_d(&event) {
            let addr = keys::address(event.kind.as_u16(), event.pubkey.as_bytes(), dv);
            if d.by_address.get(txn, &addr)? == Some(serial_key) {
                d.by_address.delete(txn, &addr)?;
            }
        }
        d.ids.delete(txn, event.id.as_bytes())?;
        d.events.delete(txn, serial_key)?;
        Ok(())
    }

    fn apply_deletion(&self, txn: &mut RwTxn, deletion: &Event) -> Result<()> {
        let d = &self.dbs;
        let deleter = deletion.pubkey.as_bytes();
        let at = deletion.created_at.as_secs();
        let targets = deletion_targets(deletion);
        for id in &targets.ids {
            if let Some(serial) = d.ids.get(txn, id)? {
                let serial = serial.to_vec();
                let value = d.events.get(txn, &serial)?.ok_or_else(|| corrupt("ids"))?;
                let target = parse_json(decode(value)?.json)?;
                // Only the author may delete, and deletions themselves are not deletable.
                if target.pubkey.as_bytes() != deleter
                    || target.kind.as_u16() == seedstr_proto::kind::DELETION
                {
                    continue;
                }
                self.remove(txn, &serial)?;
            }
            d.tomb_ids.put(txn, &tomb_key(id, deleter), &[])?;
        }
        for (kind, dv) in &targets.addresses {
            let addr = keys::address(*kind, deleter, dv);
            if let Some(serial) = d.by_address.get(txn, &addr)? {
                let serial = serial.to_vec();
                let value = d
                    .events
                    .get(txn, &serial)?
                    .ok_or_else(|| corrupt("address"))?;
                if decode(value)?.created_at <= at {
                    self.remove(txn, &serial)?;
                }
            }
            let newer = match d.tomb_addresses.get(txn, &addr)? {
                Some(v) => at > u64::from_be_bytes(v.try_into().map_err(|_| corrupt("tombstone"))?),
                None => true,
            };
            if newer {
                d.tomb_addresses.put(txn, &addr, &at.to_be_bytes())?;
            }
        }
        Ok(())
    }

    fn purge(&self, txn: &mut RwTxn, now: u64) -> Result<usize> {
        let d = &self.dbs;
        let hi = keys::with_suffix(Vec::new(), now, u64::MAX);
        let expired: Vec<Vec<u8>> = d
            .by_expiry
            .range(
                txn,
                &(
                    std::ops::Bound::Unbounded,
                    std::ops::Bound::Included(&hi[..]),
                ),
            )?
            .map(|e| e.map(|(k, _)| k[8..16].to_vec()))
            .collect::<std::result::Result<_, _>>()?;
        for serial in &expired {
            self.remove(txn, serial)?;
        }
        Ok(expired.len())
    }
}

/// Moves the jobs waiting in `rx` into `batch` (up to `MAX_BATCH` in all); how many it took.
fn take_waiting(rx: &mpsc::Receiver<Job>, batch: &mut Vec<Job>) -> usize {
    let before = batch.len();
    while batch.len() < MAX_BATCH {
        match rx.try_recv() {
            Ok(job) => batch.push(job),
            Err(_) => break,
        }
    }
    batch.len() - before
}

enum Done {
    Saved(SaveOutcome),
    Purged(usize),
    /// Answered once the batch is durable, by the checkpoint it asked for.
    Checkpoint,
}

fn tomb_key(id: &[u8; 32], pubkey: &[u8; 32]) -> [u8; 64] {
    let mut k = [0u8; 64];
    k[..32].copy_from_slice(id);
    k[32..].copy_from_slice(pubkey);
    k
}

/// Every index entry of an event.
fn index_keys(d: &Dbs, event: &Event, serial: u64) -> Vec<(Db, Vec<u8>)> {
    let at = event.created_at.as_secs();
    let pubkey = event.pubkey.as_bytes();
    let kind = event.kind.as_u16();
    let mut out = vec![
        (d.by_time, keys::with_suffix(Vec::new(), at, serial)),
        (d.by_kind, keys::with_suffix(keys::kind(kind), at, serial)),
        (
            d.by_author_kind,
            keys::with_suffix(keys::author_kind(pubkey, kind), at, serial),
        ),
    ];
    for (letter, value) in indexed_tags(event) {
        out.push((
            d.by_tag,
            keys::with_suffix(keys::tag(letter, value), at, serial),
        ));
    }
    if let Some(exp) = expiration(event) {
        let mut k = exp.to_be_bytes().to_vec();
        k.extend_from_slice(&serial.to_be_bytes());
        out.push((d.by_expiry, k));
    }
    out
}
