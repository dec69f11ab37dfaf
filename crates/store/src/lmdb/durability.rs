//! How the writer keeps acknowledged writes durable: journaled (LMDB commits unsynced, the
//! journal synced per batch, the data file synced a checkpoint at a time), or LMDB's own synced
//! commits where journaling cannot run. See `journal.rs` and `checkpoint.rs`.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use heed::{Env, EnvFlags, FlagSetMode, RoTxn, WithoutTls};

use super::checkpoint::Checkpoint;
use super::journal::{self, Entry, Journal};
use crate::{Result, StoreError};

/// A checkpoint is started once the journal is this old…
const CHECKPOINT_EVERY: Duration = Duration::from_secs(1);
/// …or this large, whichever comes first (it bounds the replay after a crash).
const CHECKPOINT_BYTES: u64 = 32 << 20;

/// A read transaction held so that LMDB reuses none of the pages it sees.
pub type Pin = RoTxn<'static, WithoutTls>;

/// The writer's way of making a committed batch durable.
pub enum Durability {
    /// LMDB syncs every commit (before journaling starts, or where it cannot).
    Synced,
    /// Commits unsynced; the journal makes them durable.
    Journaled(Box<Journaling>),
    /// A sync failed: what was written may not be on disk, so writes are refused until a
    /// restart recovers from the journal.
    Failed(String),
}

/// The state of journaled writing.
pub struct Journaling {
    dir: PathBuf,
    data: File,
    page_size: usize,
    journal: Journal,
    seq: u64,
    /// Holds the current journal's checkpoint whole on disk.
    pin: Pin,
    /// The background sync of the current checkpoint; when it is done, the previous journal
    /// and its pin are gone.
    syncing: Option<JoinHandle<Result<()>>>,
    started: Instant,
}

impl Durability {
    /// Starts journaling on `env`, whose every commit so far LMDB has synced. Where that is not
    /// possible the store keeps synced commits, and says why.
    pub fn start(env: &Env<WithoutTls>, dir: &Path) -> Durability {
        match Journaling::start(env, dir) {
            Ok(j) => Durability::Journaled(Box::new(j)),
            Err(why) => {
                tracing::warn!(
                    "LMDB store in {}: commits stay synced ({why})",
                    dir.display()
                );
                Durability::Synced
            }
        }
    }

    /// Why writes are refused, if they are.
    pub fn refusal(&self) -> Option<String> {
        match self {
            Durability::Failed(why) => Some(why.clone()),
            _ => None,
        }
    }

    /// Makes a committed batch durable: its `records` appended to the journal and synced. If
    /// the journal cannot be written, the data file is synced instead (the batch is then
    /// durable all the same) and the store goes on with synced commits.
    pub fn record(&mut self, env: &Env<WithoutTls>, records: &[u8]) -> Result<()> {
        let Durability::Journaled(j) = self else {
            return Ok(());
        };
        let Err(e) = j.journal.append(records) else {
            return Ok(());
        };
        tracing::error!(
            "journal {}: {e}; syncing commits from now on",
            j.journal.path().display()
        );
        self.fall_back(env)
    }

    /// Between batches: finishes a checkpoint whose sync is done, starts one when due.
    pub fn after_batch(&mut self, env: &Env<WithoutTls>) {
        let Durability::Journaled(j) = self else {
            return;
        };
        if j.syncing.as_ref().is_some_and(|s| !s.is_finished()) {
            return;
        }
        if let Err(e) = j.finish_sync() {
            *self = Durability::Failed(e);
            return;
        }
        if j.started.elapsed() >= CHECKPOINT_EVERY || j.journal.appended >= CHECKPOINT_BYTES {
            if let Err(e) = j.begin_checkpoint(env) {
                // Not fatal: the current journal goes on holding every write.
                tracing::warn!("checkpoint not started: {e}");
                j.started = Instant::now();
            }
        }
    }

    /// Checkpoints now and waits until the data file holds everything committed.
    pub fn checkpoint_now(&mut self, env: &Env<WithoutTls>) -> Result<()> {
        match self {
            Durability::Synced => Ok(()),
            Durability::Failed(why) => Err(StoreError::Backend(why.clone())),
            Durability::Journaled(j) => {
                let synced = j
                    .finish_sync()
                    .and_then(|()| match j.begin_checkpoint(env) {
                        // Not started: the journal still holds every write; only the caller hears.
                        Err(e) => Ok(Err(StoreError::Backend(format!(
                            "checkpoint not started: {e}"
                        )))),
                        Ok(()) => j.finish_sync().map(Ok),
                    });
                synced.unwrap_or_else(|e| {
                    *self = Durability::Failed(e.clone());
                    Err(StoreError::Backend(e))
                })
            }
        }
    }

    /// At shutdown: syncs the data file and removes the journals, so the next open has nothing
    /// to replay. (If this fails, the journals stay and the next open replays them.)
    pub fn finish(&mut self, env: &Env<WithoutTls>) {
        let Durability::Journaled(j) = self else {
            return;
        };
        let done = j.finish_sync().and_then(|()| {
            env.force_sync().map_err(|e| e.to_string())?;
            let removed = journal::remove_all(&j.dir).map_err(|e| e.to_string())?;
            tracing::debug!("closed cleanly; removed {removed} journal files");
            Ok(())
        });
        if let Err(e) = done {
            tracing::warn!(
                "LMDB store did not close cleanly ({e}); the next open replays its journal"
            );
        }
    }

    /// The journal failed: sync the data file (everything committed is then durable), stop
    /// journaling and remove the journals, which the synced file has made redundant.
    fn fall_back(&mut self, env: &Env<WithoutTls>) -> Result<()> {
        let Durability::Journaled(j) = self else {
            return Ok(());
        };
        let synced = j.finish_sync().and_then(|()| {
            env.force_sync().map_err(|e| e.to_string())?;
            // SAFETY: no transaction is active; the writer thread is the caller.
            unsafe { env.set_flags(EnvFlags::NO_SYNC, FlagSetMode::Disable) }
                .map_err(|e| e.to_string())
        });
        match synced {
            Ok(()) => {
                let dir = j.dir.clone();
                *self = Durability::Synced;
                if let Err(e) = journal::remove_all(&dir) {
                    tracing::warn!(
                        "journals left in {} ({e}); the next open replays them",
                        dir.display()
                    );
                }
                Ok(())
            }
            Err(e) => {
                let why = format!("the data file could not be synced: {e}; restart to recover");
                *self = Durability::Failed(why.clone());
                Err(StoreError::Backend(why))
            }
        }
    }
}

impl Journaling {
    fn start(env: &Env<WithoutTls>, dir: &Path) -> std::result::Result<Journaling, String> {
        let data = File::open(dir.join("data.mdb")).map_err(|e| format!("data.mdb: {e}"))?;
        let page_size = env.stat().page_size as usize;
        let txnid = env.info().last_txn_id as u64;
        let checkpoint = Checkpoint::read(&data, page_size, txnid)?;
        let pin = pin(env, txnid)?;
        let seq = 1;
        let journal =
            Journal::create(dir, seq, &checkpoint).map_err(|e| format!("journal: {e}"))?;
        // SAFETY: no transaction is active; the writer thread has not started.
        unsafe { env.set_flags(EnvFlags::NO_SYNC, FlagSetMode::Enable) }
            .map_err(|e| format!("NO_SYNC: {e}"))?;
        Ok(Journaling {
            dir: dir.to_path_buf(),
            data,
            page_size,
            journal,
            seq,
            pin,
            syncing: None,
            started: Instant::now(),
        })
    }

    /// Makes the last commit the next checkpoint: its meta pages head a new journal, a pin
    /// holds its pages, and a background thread syncs the data file, then retires the previous
    /// journal and pin. Called between batches, so no commit can slip in.
    fn begin_checkpoint(&mut self, env: &Env<WithoutTls>) -> std::result::Result<(), String> {
        let txnid = env.info().last_txn_id as u64;
        let checkpoint = Checkpoint::read(&self.data, self.page_size, txnid)?;
        let pin = pin(env, txnid)?;
        let journal = Journal::create(&self.dir, self.seq + 1, &checkpoint)
            .map_err(|e| format!("journal: {e}"))?;
        self.seq += 1;
        let old_journal = std::mem::replace(&mut self.journal, journal);
        let old_pin = std::mem::replace(&mut self.pin, pin);
        let (env, dir) = (env.clone(), self.dir.clone());
        let sync = move || {
            env.force_sync()?;
            journal::remove(&dir, &[old_journal.path().to_path_buf()])?;
            drop(old_pin);
            Ok(())
        };
        self.syncing = Some(
            std::thread::Builder::new()
                .name("lmdb-checkpoint".into())
                .spawn(sync)
                .map_err(|e| format!("checkpoint thread: {e}"))?,
        );
        self.started = Instant::now();
        Ok(())
    }

    /// Waits for the checkpoint sync in flight, if any. A failed sync is fatal to writes.
    fn finish_sync(&mut self) -> std::result::Result<(), String> {
        let Some(syncing) = self.syncing.take() else {
            return Ok(());
        };
        match syncing.join() {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(format!(
                "the data file could not be synced: {e}; restart to recover"
            )),
            Err(_) => Err("the checkpoint thread panicked; restart to recover".into()),
        }
    }
}

/// A pin on the environment's last commit, `txnid`.
pub fn pin(env: &Env<WithoutTls>, txnid: u64) -> std::result::Result<Pin, String> {
    let pin = env
        .clone()
        .static_read_txn()
        .map_err(|e| format!("pin: {e}"))?;
    if pin.id() as u64 != txnid {
        return Err(format!(
            "pinned transaction {} is not the last commit {txnid}",
            pin.id()
        ));
    }
    Ok(pin)
}

/// What opening after a crash finds: the oldest journal's checkpoint and every entry after it.
pub struct Recovery {
    pub checkpoint: Checkpoint,
    pub entries: Vec<Entry>,
    pub paths: Vec<PathBuf>,
}

impl Recovery {
    /// Reads the journals in `dir`, if any (none after a clean shutdown).
    pub fn read(dir: &Path) -> Result<Option<Recovery>> {
        let files = journal::list(dir)?;
        let Some(newest) = files.last().map(|(seq, _)| *seq) else {
            return Ok(None);
        };
        let mut checkpoint = None;
        let mut entries = Vec::new();
        for (seq, path) in &files {
            let name = path.display();
            let parsed = match journal::parse(&std::fs::read(path)?) {
                Ok(parsed) => parsed,
                // A crash while the newest journal's header was being written: nothing was
                // appended to it yet (and if it is the only one, journaling had not begun:
                // every commit before it was synced).
                Err(_) if *seq == newest => continue,
                Err(e) => return Err(StoreError::Corrupt(format!("{name}: {e}"))),
            };
            if let Some(at) = parsed.torn_at {
                if *seq != newest {
                    return Err(StoreError::Corrupt(format!(
                        "{name} is damaged at byte {at}, and acknowledged writes follow it in newer journals; \
                         move the journals away to open the store without them"
                    )));
                }
                tracing::info!("{name}: the batch being written at the crash (byte {at} on) was never acknowledged; dropped");
            }
            checkpoint.get_or_insert(parsed.checkpoint);
            entries.extend(parsed.entries);
        }
        let paths: Vec<PathBuf> = files.into_iter().map(|(_, p)| p).collect();
        let Some(checkpoint) = checkpoint else {
            journal::remove(dir, &paths)?;
            return Ok(None);
        };
        Ok(Some(Recovery {
            checkpoint,
            entries,
            paths,
        }))
    }
}
