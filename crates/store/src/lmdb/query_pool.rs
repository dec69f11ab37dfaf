//! The query pool: a few threads (one per core) take queries from one queue and run each for
//! a short slice; a query that is not finished goes to the back of the queue and resumes in a
//! fresh read transaction. A scan over millions of keys thus shares the cores with short
//! queries instead of holding a thread until it ends (strfry's approach).

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use heed::{Env, WithoutTls};
use tokio::sync::oneshot;

use super::scan::{Deadline, FilterScan, Found};
use super::Dbs;
use crate::{Result, StoreError};

/// Longest run of one query before the others get their turn.
const DEFAULT_SLICE: Duration = Duration::from_millis(5);

/// What each filter of a query found, in the order given.
pub(super) type ScanResults = Vec<Found>;

/// How the results of a query's filters are given back.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Combine {
    /// Each filter's results, in the order of the filters.
    Each,
    /// One count: the sum of the filters' counts (they match disjoint events).
    Sum,
    /// The ids every filter found, in one list, unsorted: the caller counts the distinct ones
    /// off the query threads (sorting a million ids would hold one for 100 ms).
    Distinct,
}

/// A query in progress: its filters' scans and how much scanning time it has used.
struct Job {
    scans: Vec<FilterScan>,
    combine: Combine,
    spent: Duration,
    budget: Duration,
    reply: oneshot::Sender<Result<ScanResults>>,
}

/// Queries that have not run yet go first; the others take turns. A new query thus waits at
/// most for the slices already running to notice it, not behind every long scan's turn.
#[derive(Default)]
struct Queue {
    fresh: VecDeque<Job>,
    resumed: VecDeque<Job>,
    closed: bool,
}

pub(super) struct QueryPool {
    queue: Mutex<Queue>,
    ready: Condvar,
    /// The slice, in microseconds.
    slice_us: AtomicU64,
    /// `queue.fresh.len()`, read by running scans without the lock.
    fresh_waiting: AtomicUsize,
}

/// How long a query that has not run before keeps its thread once another new query waits:
/// enough for any short query to finish in its first slice.
const FIRST_SLICE_BEFORE_YIELD: Duration = Duration::from_millis(1);

impl QueryPool {
    /// Starts `threads` workers over `env`; their handles come back so that closing can wait
    /// for them (the environment closes only once they have let go of it).
    pub fn start(
        env: Env<WithoutTls>,
        dbs: Dbs,
        threads: usize,
    ) -> std::io::Result<(Arc<Self>, Vec<std::thread::JoinHandle<()>>)> {
        let pool = Arc::new(QueryPool {
            queue: Mutex::new(Queue::default()),
            ready: Condvar::new(),
            slice_us: AtomicU64::new(DEFAULT_SLICE.as_micros() as u64),
            fresh_waiting: AtomicUsize::new(0),
        });
        let mut workers = Vec::new();
        for n in 0..threads.max(1) {
            let (pool, env) = (pool.clone(), env.clone());
            workers.push(
                std::thread::Builder::new()
                    .name(format!("lmdb-query-{n}"))
                    .spawn(move || pool.work(&env, &dbs))?,
            );
        }
        Ok((pool, workers))
    }

    /// Queues the scans; the answer arrives when all are done, or with `OverBudget` once they
    /// have scanned for longer than `budget` in all.
    pub fn submit(
        &self,
        scans: Vec<FilterScan>,
        combine: Combine,
        budget: Duration,
    ) -> oneshot::Receiver<Result<ScanResults>> {
        let (reply, rx) = oneshot::channel();
        let job = Job {
            scans,
            combine,
            spent: Duration::ZERO,
            budget,
            reply,
        };
        let mut q = self.queue.lock().expect("query queue");
        if !q.closed {
            q.fresh.push_back(job);
            self.fresh_waiting.store(q.fresh.len(), Ordering::Relaxed);
            self.ready.notify_one();
        }
        rx
    }

    pub fn set_slice(&self, slice: Duration) {
        self.slice_us
            .store(slice.as_micros() as u64, Ordering::Relaxed);
    }

    /// Stops the workers once the queue is empty of their current jobs.
    pub fn close(&self) {
        self.queue.lock().expect("query queue").closed = true;
        self.ready.notify_all();
    }

    fn work(&self, env: &Env<WithoutTls>, dbs: &Dbs) {
        loop {
            let mut job = {
                let mut q = self.queue.lock().expect("query queue");
                loop {
                    if q.closed {
                        return;
                    }
                    if let Some(job) = q.fresh.pop_front() {
                        self.fresh_waiting.store(q.fresh.len(), Ordering::Relaxed);
                        break job;
                    }
                    if let Some(job) = q.resumed.pop_front() {
                        break job;
                    }
                    q = self.ready.wait(q).expect("query queue");
                }
            };
            // Nobody is waiting for the answer any more (the REQ was closed or the client left).
            if job.reply.is_closed() {
                continue;
            }
            let slice = Duration::from_micros(self.slice_us.load(Ordering::Relaxed));
            match run_slice(env, dbs, &mut job, slice, &self.fresh_waiting) {
                Ok(false) => {
                    let mut q = self.queue.lock().expect("query queue");
                    q.resumed.push_back(job);
                }
                Ok(true) => {
                    let results = combine(job.combine, job.scans);
                    let _ = job.reply.send(Ok(results));
                }
                Err(e) => {
                    let _ = job.reply.send(Err(e));
                }
            }
        }
    }
}

/// A finished job's answer.
fn combine(how: Combine, scans: Vec<FilterScan>) -> ScanResults {
    match how {
        Combine::Each => scans.into_iter().map(FilterScan::into_found).collect(),
        Combine::Sum => {
            let total = scans
                .into_iter()
                .map(|s| match s.into_found() {
                    Found::Count(n) => n,
                    Found::Events(e) => e.len() as u64,
                    Found::Ids(ids) => ids.len() as u64,
                })
                .sum();
            vec![Found::Count(total)]
        }
        Combine::Distinct => vec![Found::Ids(
            scans.into_iter().flat_map(FilterScan::into_ids).collect(),
        )],
    }
}

/// One slice of a job; true when every scan has finished.
fn run_slice(
    env: &Env<WithoutTls>,
    dbs: &Dbs,
    job: &mut Job,
    slice: Duration,
    fresh_waiting: &AtomicUsize,
) -> Result<bool> {
    let started = Instant::now();
    // A query that has had a turn already yields at once to one that has not.
    let first_turn = if job.spent.is_zero() {
        FIRST_SLICE_BEFORE_YIELD
    } else {
        Duration::ZERO
    };
    let stop = Deadline {
        at: started + slice,
        soft: started + first_turn.min(slice),
        fresh_waiting,
    };
    let txn = env.read_txn()?;
    let mut finished = true;
    for scan in job.scans.iter_mut().filter(|s| !s.is_done()) {
        if !scan.step(&txn, dbs, &stop)? {
            finished = false;
            break;
        }
    }
    job.spent += started.elapsed();
    if !finished && job.spent > job.budget {
        return Err(StoreError::OverBudget(job.budget));
    }
    Ok(finished)
}
