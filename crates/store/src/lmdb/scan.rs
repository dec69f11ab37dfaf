//! Resumable index scans. A filter is answered by walking one index newest first (a k-way
//! merge when it has several prefixes). The walk can stop at any key and pick up later in a
//! new read transaction from where it stopped, so the query pool can run long scans in time
//! slices between short ones (strfry's approach).

use std::cmp::Ordering;
use std::collections::{BinaryHeap, HashSet};
use std::sync::atomic::{AtomicUsize, Ordering as AtomicOrdering};
use std::time::Instant;

use heed::RoTxn;
use heed::WithoutTls;
use seedstr_proto::Filter;

use super::record::{decode, parse_json, to_stored, Record};
use super::{Db, Dbs};
use crate::search::SearchPlan;
use crate::{keys, Result, StoredEvent};

/// How often (in scanned keys) a scan looks at the clock.
const CLOCK_EVERY: u32 = 256;

/// Which index a filter is answered from, and which filter fields that index guarantees.
struct Plan {
    db: Db,
    prefixes: Vec<Vec<u8>>,
    covers_authors: bool,
    covers_kinds: bool,
    /// The tag letter the index guarantees, when it is the filter's only tag condition.
    covers_tag: Option<u8>,
    /// Whether one event can sit under several of the prefixes (tag values can; authors,
    /// kinds and their pairs cannot).
    prefixes_overlap: bool,
}

/// Most author×kind prefixes scanned before falling back to a coarser index. Each prefix costs
/// one B-tree seek; the coarser author index reads every event of every author, which for a
/// thousand people followed with a hundred posts each was 40 times slower (the timeline's
/// lookup of their relay lists: 120 ms at 256, 2.8 ms at 4096).
const MAX_PAIRS: usize = 4096;

fn plan(txn: &RoTxn<WithoutTls>, dbs: &Dbs, f: &Filter) -> Result<Plan> {
    let plan = |db, prefixes, a, k, t| Plan {
        db,
        prefixes,
        covers_authors: a,
        covers_kinds: k,
        covers_tag: t,
        prefixes_overlap: false,
    };
    if let (Some(authors), Some(kinds)) = (&f.authors, &f.kinds) {
        if authors.len() * kinds.len() <= MAX_PAIRS {
            let prefixes = authors
                .iter()
                .flat_map(|a| kinds.iter().map(move |k| keys::author_kind(a, *k)))
                .collect();
            return Ok(plan(dbs.by_author_kind, prefixes, true, true, None));
        }
    }
    if let Some((letter, values)) = f.tags.iter().min_by_key(|(_, v)| v.len()) {
        let prefixes = values.iter().map(|v| keys::tag(*letter, v)).collect();
        let only = (f.tags.len() == 1).then_some(*letter);
        let overlap = values.len() > 1;
        return Ok(Plan {
            prefixes_overlap: overlap,
            ..plan(dbs.by_tag, prefixes, false, false, only)
        });
    }
    if let Some(authors) = &f.authors {
        // No index by author alone (one fewer page written per event): the authors' own
        // author×kind prefixes, found one seek per kind each author has written.
        if let Some(prefixes) = kinds_of_authors(txn, dbs, authors)? {
            return Ok(plan(dbs.by_author_kind, prefixes, true, false, None));
        }
    }
    if let Some(kinds) = &f.kinds {
        let prefixes = kinds.iter().map(|k| keys::kind(*k)).collect();
        return Ok(plan(dbs.by_kind, prefixes, false, true, None));
    }
    Ok(plan(dbs.by_time, vec![Vec::new()], false, false, None))
}

/// The author×kind prefixes the authors have events under; None past `MAX_PAIRS` of them
/// (the caller then walks a coarser index and checks each event).
fn kinds_of_authors(
    txn: &RoTxn<WithoutTls>,
    dbs: &Dbs,
    authors: &[[u8; 32]],
) -> Result<Option<Vec<Vec<u8>>>> {
    let mut prefixes = Vec::new();
    for author in authors {
        let mut next_kind = 0u32;
        while next_kind <= u32::from(u16::MAX) {
            let from = keys::author_kind(author, next_kind as u16);
            let range = (
                std::ops::Bound::Included(&from[..]),
                std::ops::Bound::Unbounded,
            );
            let Some(entry) = dbs.by_author_kind.range(txn, &range)?.next() else {
                break;
            };
            let (key, _) = entry?;
            if !key.starts_with(author) || key.len() < 34 {
                break;
            }
            let kind = u16::from_be_bytes([key[32], key[33]]);
            if prefixes.len() == MAX_PAIRS {
                return Ok(None);
            }
            prefixes.push(keys::author_kind(author, kind));
            next_kind = u32::from(kind) + 1;
        }
    }
    Ok(Some(prefixes))
}

/// One position in the k-way merge: the newest unread key of one scan.
#[derive(Clone, Copy)]
struct Head {
    created_at: u64,
    serial: u64,
    scan: usize,
}

impl PartialEq for Head {
    fn eq(&self, o: &Self) -> bool {
        self.cmp(o) == Ordering::Equal
    }
}
impl Eq for Head {}
impl PartialOrd for Head {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Head {
    fn cmp(&self, o: &Self) -> Ordering {
        (self.created_at, self.serial, self.scan).cmp(&(o.created_at, o.serial, o.scan))
    }
}

/// What a scan gives back.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Output {
    /// The events, JSON included (REQ).
    Events,
    /// Ids and timestamps only (negentropy, COUNT over several filters).
    Ids,
    /// How many events match, nothing else (COUNT of one filter).
    Count,
}

/// What a finished scan found.
pub(super) enum Found {
    /// Newest first, ties by lowest id, cut to the limit.
    Events(Vec<StoredEvent>),
    /// The number of matching events.
    Count(u64),
    /// The ids of the matching events, unsorted, with repeats across filters.
    Ids(Vec<[u8; 32]>),
}

/// When a slice ends: at `at`, or earlier once a query that has not run yet is waiting and
/// this one has had `soft` (so a short REQ never waits for a long scan's whole slice).
pub(super) struct Deadline<'a> {
    pub at: Instant,
    pub soft: Instant,
    pub fresh_waiting: &'a AtomicUsize,
}

impl Deadline<'_> {
    fn reached(&self) -> bool {
        let now = Instant::now();
        now >= self.at || (now >= self.soft && self.fresh_waiting.load(AtomicOrdering::Relaxed) > 0)
    }
}

/// Up to `limit` events matching one filter, newest first (ties by lowest id), skipping
/// expired ones; run in steps.
pub(super) struct FilterScan {
    filter: Filter,
    limit: usize,
    now: u64,
    output: Output,
    walk: Option<Walk>,
    out: Vec<StoredEvent>,
    counted: u64,
    /// Counting from index keys alone, expired events are counted too; this walk over the
    /// expiry index takes them back out. `Some` once the index walk is done.
    expired: Option<ExpiredWalk>,
    /// A NIP-50 search, answered from the word index in one step, ranked.
    search: Option<SearchPlan>,
    done: bool,
}

/// Where the walk over expired events stands: the next `by_expiry` key to read.
struct ExpiredWalk {
    from: Vec<u8>,
}

/// Where a walk stands between steps.
struct Walk {
    plan: Plan,
    needs_check: bool,
    since: u64,
    /// Per prefix, the newest key not yet read (inclusive), or None once exhausted.
    resume: Vec<Option<(u64, u64)>>,
    /// Several tag values can point at one event; other indexes' prefixes never share one.
    dedupe: bool,
    seen: HashSet<u64>,
    last_at: u64,
    /// Counting covered by the index: keys are counted without reading the events.
    keys_only: bool,
}

impl FilterScan {
    pub fn new(filter: Filter, limit: usize, now: u64, output: Output) -> FilterScan {
        FilterScan {
            done: limit == 0 || filter.is_void(),
            filter,
            limit,
            now,
            output,
            walk: None,
            out: Vec::new(),
            counted: 0,
            expired: None,
            search: None,
        }
    }

    /// A NIP-50 search: bounded (`crate::search`), so it runs in one step.
    pub fn search(plan: SearchPlan, now: u64) -> FilterScan {
        let mut scan = FilterScan::new(plan.rest.clone(), plan.limit, now, Output::Events);
        scan.search = Some(plan);
        scan
    }

    pub fn is_done(&self) -> bool {
        self.done
    }

    /// Scans until finished or until the deadline; returns whether it finished.
    pub fn step(&mut self, txn: &RoTxn<WithoutTls>, dbs: &Dbs, stop: &Deadline) -> Result<bool> {
        if self.done {
            return Ok(true);
        }
        if let Some(plan) = &self.search {
            self.out = super::words::run(txn, dbs, plan, self.now)?;
            self.done = true;
            return Ok(true);
        }
        if self.filter.ids.is_some() {
            self.by_ids(txn, dbs)?;
            self.done = true;
            return Ok(true);
        }
        // A zero slice (tests) stops after every key, to exercise resumption everywhere.
        let check_every = if Instant::now() >= stop.at {
            1
        } else {
            CLOCK_EVERY
        };
        if self.expired.is_none() && !self.walk_index(txn, dbs, stop, check_every)? {
            return Ok(false);
        }
        let keys_only = self.walk.as_ref().is_some_and(|w| w.keys_only);
        if keys_only && !self.take_back_expired(txn, dbs, stop, check_every)? {
            return Ok(false);
        }
        self.done = true;
        Ok(true)
    }

    /// The walk over the filter's index; true when it has finished.
    fn walk_index(
        &mut self,
        txn: &RoTxn<WithoutTls>,
        dbs: &Dbs,
        stop: &Deadline,
        check_every: u32,
    ) -> Result<bool> {
        let f = &self.filter;
        let output = self.output;
        if self.walk.is_none() {
            let plan = plan(txn, dbs, f)?;
            let needs_check = (f.authors.is_some() && !plan.covers_authors)
                || (f.kinds.is_some() && !plan.covers_kinds)
                || (!f.tags.is_empty() && plan.covers_tag.is_none())
                || f.search.is_some();
            let until = f.until.unwrap_or(u64::MAX);
            self.walk = Some(Walk {
                resume: vec![Some((until, u64::MAX)); plan.prefixes.len()],
                dedupe: plan.prefixes_overlap,
                keys_only: output == Output::Count && !needs_check,
                plan,
                needs_check,
                since: f.since.unwrap_or(0),
                seen: HashSet::new(),
                last_at: u64::MAX,
            });
        }
        let walk = self.walk.as_mut().expect("planned above");
        // Everything, counted: the events table knows its own size.
        if walk.keys_only && is_everything(f) {
            self.counted = dbs.events.len(txn)?;
            self.expired = Some(ExpiredWalk { from: Vec::new() });
            return Ok(true);
        }

        let mut scans = Vec::with_capacity(walk.plan.prefixes.len());
        let mut heap = BinaryHeap::new();
        for (i, prefix) in walk.plan.prefixes.iter().enumerate() {
            let Some((at, serial)) = walk.resume[i] else {
                scans.push(None);
                continue;
            };
            let lo = keys::with_suffix(prefix.clone(), walk.since, 0);
            let hi = keys::with_suffix(prefix.clone(), at, serial);
            let range = (
                std::ops::Bound::Included(&lo[..]),
                std::ops::Bound::Included(&hi[..]),
            );
            let mut scan = walk.plan.db.rev_range(txn, &range)?;
            if let Some(entry) = scan.next() {
                let (k, _) = entry?;
                let (created_at, serial) = keys::split_suffix(k);
                heap.push(Head {
                    created_at,
                    serial,
                    scan: i,
                });
            }
            scans.push(Some(scan));
        }

        let alive = |r: &Record| r.expiration == 0 || r.expiration > self.now;
        let mut ticks = 0u32;
        loop {
            ticks += 1;
            // Each step reads at least one key, so a scan always makes progress.
            if ticks > 1 && ticks.is_multiple_of(check_every) && stop.reached() {
                // Suspend: every scan resumes at its unread head; the others are exhausted.
                walk.resume.iter_mut().for_each(|r| *r = None);
                for h in heap.iter() {
                    walk.resume[h.scan] = Some((h.created_at, h.serial));
                }
                return Ok(false);
            }
            let Some(head) = heap.pop() else { break };
            // Past the limit, keep only events tied with the last one so ties resolve by id.
            if self.out.len() >= self.limit && head.created_at < walk.last_at {
                break;
            }
            if let Some(entry) = scans[head.scan].as_mut().and_then(|s| s.next()) {
                let (k, _) = entry?;
                let (created_at, serial) = keys::split_suffix(k);
                heap.push(Head {
                    created_at,
                    serial,
                    scan: head.scan,
                });
            }
            if walk.dedupe && !walk.seen.insert(head.serial) {
                continue;
            }
            if walk.keys_only {
                self.counted += 1;
                continue;
            }
            let Some(value) = dbs.events.get(txn, &head.serial.to_be_bytes())? else {
                continue;
            };
            let r = decode(value)?;
            if !alive(&r) || (walk.needs_check && !self.filter.matches(&parse_json(r.json)?)) {
                continue;
            }
            walk.last_at = r.created_at;
            take(self.output, &mut self.out, &mut self.counted, &r)?;
        }
        self.expired = Some(ExpiredWalk { from: Vec::new() });
        Ok(true)
    }

    /// Takes out of a count from index keys the expired events it counted (those not purged
    /// yet): few, as purges run every minute. True when finished.
    fn take_back_expired(
        &mut self,
        txn: &RoTxn<WithoutTls>,
        dbs: &Dbs,
        stop: &Deadline,
        check_every: u32,
    ) -> Result<bool> {
        let everything = is_everything(&self.filter);
        let walk = self.expired.as_mut().expect("after the index walk");
        let hi = keys::with_suffix(Vec::new(), self.now, u64::MAX);
        // LMDB takes no empty key, so the first walk starts unbounded.
        let from = match walk.from.is_empty() {
            true => std::ops::Bound::Unbounded,
            false => std::ops::Bound::Included(&walk.from[..]),
        };
        let range = (from, std::ops::Bound::Included(&hi[..]));
        let mut ticks = 0u32;
        for entry in dbs.by_expiry.range(txn, &range)? {
            let (k, _) = entry?;
            ticks += 1;
            if ticks > 1 && ticks.is_multiple_of(check_every) && stop.reached() {
                walk.from = k.to_vec();
                return Ok(false);
            }
            let matched = everything || {
                match dbs.events.get(txn, &k[8..16])? {
                    Some(value) => self.filter.matches(&parse_json(decode(value)?.json)?),
                    None => false,
                }
            };
            if matched {
                self.counted = self.counted.saturating_sub(1);
            }
        }
        Ok(true)
    }

    fn by_ids(&mut self, txn: &RoTxn<WithoutTls>, dbs: &Dbs) -> Result<()> {
        for id in self.filter.ids.as_deref().unwrap_or_default() {
            let Some(serial) = dbs.ids.get(txn, id)? else {
                continue;
            };
            let Some(value) = dbs.events.get(txn, serial)? else {
                continue;
            };
            let r = decode(value)?;
            let alive = r.expiration == 0 || r.expiration > self.now;
            if alive && self.filter.matches(&parse_json(r.json)?) {
                take(self.output, &mut self.out, &mut self.counted, &r)?;
            }
        }
        Ok(())
    }

    /// The ids found, unsorted (for counting distinct events across filters).
    pub fn into_ids(self) -> impl Iterator<Item = [u8; 32]> {
        self.out.into_iter().map(|e| e.id)
    }

    /// What the scan found: events newest first, ties by lowest id, cut to the limit; or
    /// their number.
    pub fn into_found(self) -> Found {
        if self.output == Output::Count {
            return Found::Count(self.counted);
        }
        if self.search.is_some() {
            // Ranked by relevance already.
            return Found::Events(self.out);
        }
        let mut out = self.out;
        out.sort_unstable_by_key(StoredEvent::order_key);
        out.truncate(self.limit);
        Found::Events(out)
    }
}

/// A matching event, kept as the scan's output asks: counted, or its id, or all of it.
fn take(output: Output, out: &mut Vec<StoredEvent>, counted: &mut u64, r: &Record) -> Result<()> {
    match output {
        Output::Count => *counted += 1,
        Output::Events => out.push(to_stored(r)?),
        Output::Ids => out.push(StoredEvent {
            created_at: r.created_at,
            id: r.id,
            json: no_json(),
        }),
    }
    Ok(())
}

/// The JSON of an id-only result: one shared empty string, so a scan of a million ids does
/// not allocate a million of them.
fn no_json() -> std::sync::Arc<str> {
    static EMPTY: std::sync::LazyLock<std::sync::Arc<str>> =
        std::sync::LazyLock::new(|| std::sync::Arc::from(""));
    EMPTY.clone()
}

/// A filter with no condition at all: every stored event matches.
fn is_everything(f: &Filter) -> bool {
    f.ids.is_none()
        && f.authors.is_none()
        && f.kinds.is_none()
        && f.tags.is_empty()
        && f.since.is_none()
        && f.until.is_none()
        && f.search.is_none()
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use nostr::prelude::*;

    use super::super::{open_env, Job, Pending, Writer};
    use super::*;

    /// A store of `n` notes by one author, and its tables.
    fn notes(n: u64) -> (heed::Env<WithoutTls>, Dbs) {
        let dir = tempfile::tempdir().unwrap().keep();
        let (env, dbs, next_serial, _) = open_env(&dir, 1 << 30, None).unwrap();
        let mut writer = Writer {
            env: env.clone(),
            dbs,
            next_serial,
            durability: crate::lmdb::durability::Durability::Synced,
        };
        let keys = Keys::generate();
        let jobs = (0..n)
            .map(|i| {
                let event = EventBuilder::new(Kind::TextNote, "n")
                    .custom_created_at(Timestamp::from_secs(1_700_000_000 + i))
                    .finalize(&keys)
                    .unwrap();
                let event = seedstr_proto::Event::from_json(event.as_json().as_bytes()).unwrap();
                let (tx, _) = tokio::sync::oneshot::channel();
                let json = event.as_json();
                Job::Save(Box::new(Pending { event, json }), tx)
            })
            .collect();
        writer.apply_all(jobs);
        (env, dbs)
    }

    fn filter(v: serde_json::Value) -> seedstr_proto::Filter {
        seedstr_proto::Filter::parse(&v).unwrap()
    }

    /// A scan that has had its first moment yields as soon as a query that has not run yet
    /// is waiting, long before its slice ends; alone, it runs to the end in one slice.
    #[test]
    fn a_waiting_new_query_preempts_a_scan() {
        let (env, dbs) = notes(3 * CLOCK_EVERY as u64);
        let txn = env.read_txn().unwrap();
        let far = Instant::now() + Duration::from_secs(3600);
        let waiting = AtomicUsize::new(1);
        let nobody = AtomicUsize::new(0);
        let now = 1_800_000_000;
        let soft_passed = Deadline {
            at: far,
            soft: Instant::now(),
            fresh_waiting: &waiting,
        };
        let mut scan = FilterScan::new(filter(serde_json::json!({})), 10_000, now, Output::Ids);
        assert!(!scan.step(&txn, &dbs, &soft_passed).unwrap(), "yields");
        let alone = Deadline {
            at: far,
            soft: Instant::now(),
            fresh_waiting: &nobody,
        };
        assert!(scan.step(&txn, &dbs, &alone).unwrap(), "then finishes");
        let Found::Events(found) = scan.into_found() else {
            panic!("ids asked")
        };
        assert_eq!(found.len(), 3 * CLOCK_EVERY as usize);

        // Before its first moment is over, a new scan keeps going.
        let not_yet = Deadline {
            at: far,
            soft: far,
            fresh_waiting: &waiting,
        };
        let mut scan = FilterScan::new(filter(serde_json::json!({})), 10_000, now, Output::Ids);
        assert!(scan.step(&txn, &dbs, &not_yet).unwrap());
    }

    /// Author queries read the author×kind index under each kind the author wrote; a store of
    /// the earlier layout gets its index by author alone emptied when opened.
    #[test]
    fn author_queries_without_an_author_index() {
        let dir = tempfile::tempdir().unwrap();
        let (env, dbs, next_serial, _) = open_env(dir.path(), 1 << 30, None).unwrap();
        let keys = Keys::generate();
        let jobs = [1u16, 7, 30_023, 1, 0]
            .iter()
            .enumerate()
            .map(|(i, kind)| {
                let mut b = EventBuilder::new(Kind::from(*kind), "x")
                    .custom_created_at(Timestamp::from_secs(1_700_000_000 + i as u64));
                if *kind == 30_023 {
                    b = b.tag(Tag::identifier("a"));
                }
                let e = b.finalize(&keys).unwrap();
                let event = seedstr_proto::Event::from_json(e.as_json().as_bytes()).unwrap();
                let (tx, _) = tokio::sync::oneshot::channel();
                let json = event.as_json();
                Job::Save(Box::new(Pending { event, json }), tx)
            })
            .collect();
        Writer {
            env: env.clone(),
            dbs,
            next_serial,
            durability: crate::lmdb::durability::Durability::Synced,
        }
        .apply_all(jobs);
        let mut wtxn = env.write_txn().unwrap();
        let old = env
            .create_database::<heed::types::Bytes, heed::types::Bytes>(&mut wtxn, Some("by_author"))
            .unwrap();
        old.put(&mut wtxn, b"left over", b"").unwrap();
        wtxn.commit().unwrap();
        drop(env);

        let (env, dbs, _, _) = open_env(dir.path(), 1 << 30, None).unwrap();
        let txn = env.read_txn().unwrap();
        let old = env
            .open_database::<heed::types::Bytes, heed::types::Bytes>(&txn, Some("by_author"))
            .unwrap()
            .unwrap();
        assert!(old.is_empty(&txn).unwrap());
        let author = keys.public_key().to_hex();
        let waiting = AtomicUsize::new(0);
        let stop = Deadline {
            at: Instant::now() + Duration::from_secs(3600),
            soft: Instant::now() + Duration::from_secs(3600),
            fresh_waiting: &waiting,
        };
        let mut scan = FilterScan::new(
            filter(serde_json::json!({"authors": [author], "limit": 3})),
            3,
            1,
            Output::Ids,
        );
        assert!(scan.step(&txn, &dbs, &stop).unwrap());
        let Found::Events(found) = scan.into_found() else {
            panic!("ids asked")
        };
        let times: Vec<u64> = found.iter().map(|e| e.created_at).collect();
        assert_eq!(times, [1_700_000_004, 1_700_000_003, 1_700_000_002]);
    }

    /// Counting a filter the index covers reads no event: the count of everything comes from
    /// the table's size, others from index keys, and both resume across slices.
    #[test]
    fn counts_resume_across_slices() {
        let n = 3 * CLOCK_EVERY as u64;
        let (env, dbs) = notes(n);
        let waiting = AtomicUsize::new(1);
        for f in [
            serde_json::json!({}),
            serde_json::json!({"kinds": [1]}),
            serde_json::json!({"kinds": [1], "since": 1_700_000_010}),
        ] {
            let mut scan = FilterScan::new(filter(f.clone()), usize::MAX, 1, Output::Count);
            let mut slices = 0;
            loop {
                slices += 1;
                let txn = env.read_txn().unwrap();
                let yield_now = Deadline {
                    at: Instant::now() + Duration::from_secs(3600),
                    soft: Instant::now(),
                    fresh_waiting: &waiting,
                };
                if scan.step(&txn, &dbs, &yield_now).unwrap() {
                    break;
                }
            }
            let Found::Count(counted) = scan.into_found() else {
                panic!("a count was asked")
            };
            let want = if f.get("since").is_some() { n - 10 } else { n };
            assert_eq!(counted, want, "{f}");
            assert!(f == serde_json::json!({}) || slices > 1, "{f}: {slices}");
        }
    }
}
