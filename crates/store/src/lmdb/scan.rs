//! Resumable index scans. A filter is answered by walking one index newest first (a k-way
//! merge when it has several prefixes). The walk can stop at any key and pick up later in a
//! new read transaction from where it stopped, so the query pool can run long scans in time
//! slices between short ones (strfry's approach).

use std::cmp::Ordering;
use std::collections::{BinaryHeap, HashSet};
use std::time::Instant;

use heed::RoTxn;
use heed::WithoutTls;
use seedstr_proto::Filter;

use super::record::{decode, parse_json, to_stored, Record};
use super::{Db, Dbs};
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
}

/// Most author×kind prefixes scanned before falling back to a coarser index. Each prefix costs
/// one B-tree seek; the coarser author index reads every event of every author, which for a
/// thousand people followed with a hundred posts each was 40 times slower (the timeline's
/// lookup of their relay lists: 120 ms at 256, 2.8 ms at 4096).
const MAX_PAIRS: usize = 4096;

fn plan(dbs: &Dbs, f: &Filter) -> Plan {
    let plan = |db, prefixes, a, k, t| Plan {
        db,
        prefixes,
        covers_authors: a,
        covers_kinds: k,
        covers_tag: t,
    };
    if let (Some(authors), Some(kinds)) = (&f.authors, &f.kinds) {
        if authors.len() * kinds.len() <= MAX_PAIRS {
            let prefixes = authors
                .iter()
                .flat_map(|a| kinds.iter().map(move |k| keys::author_kind(a, *k)))
                .collect();
            return plan(dbs.by_author_kind, prefixes, true, true, None);
        }
    }
    if let Some((letter, values)) = f.tags.iter().min_by_key(|(_, v)| v.len()) {
        let prefixes = values.iter().map(|v| keys::tag(*letter, v)).collect();
        let only = (f.tags.len() == 1).then_some(*letter);
        return plan(dbs.by_tag, prefixes, false, false, only);
    }
    if let Some(authors) = &f.authors {
        let prefixes = authors.iter().map(keys::author).collect();
        return plan(dbs.by_author, prefixes, true, false, None);
    }
    if let Some(kinds) = &f.kinds {
        let prefixes = kinds.iter().map(|k| keys::kind(*k)).collect();
        return plan(dbs.by_kind, prefixes, false, true, None);
    }
    plan(dbs.by_time, vec![Vec::new()], false, false, None)
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

/// Up to `limit` events matching one filter, newest first (ties by lowest id), skipping
/// expired ones; run in steps.
pub(super) struct FilterScan {
    filter: Filter,
    limit: usize,
    now: u64,
    /// Without JSON the results carry only ids and timestamps (COUNT, negentropy).
    with_json: bool,
    walk: Option<Walk>,
    out: Vec<StoredEvent>,
    done: bool,
}

/// Where a walk stands between steps.
struct Walk {
    plan: Plan,
    needs_check: bool,
    since: u64,
    /// Per prefix, the newest key not yet read (inclusive), or None once exhausted.
    resume: Vec<Option<(u64, u64)>>,
    seen: HashSet<u64>,
    last_at: u64,
}

impl FilterScan {
    pub fn new(filter: Filter, limit: usize, now: u64, with_json: bool) -> FilterScan {
        FilterScan {
            done: limit == 0 || filter.is_void(),
            filter,
            limit,
            now,
            with_json,
            walk: None,
            out: Vec::new(),
        }
    }

    pub fn is_done(&self) -> bool {
        self.done
    }

    /// Scans until finished or until `stop`; returns whether it finished.
    pub fn step(&mut self, txn: &RoTxn<WithoutTls>, dbs: &Dbs, stop: Instant) -> Result<bool> {
        if self.done {
            return Ok(true);
        }
        if self.filter.ids.is_some() {
            self.by_ids(txn, dbs)?;
            self.done = true;
            return Ok(true);
        }
        let f = &self.filter;
        let walk = self.walk.get_or_insert_with(|| {
            let plan = plan(dbs, f);
            let needs_check = (f.authors.is_some() && !plan.covers_authors)
                || (f.kinds.is_some() && !plan.covers_kinds)
                || (!f.tags.is_empty() && plan.covers_tag.is_none());
            let until = f.until.unwrap_or(u64::MAX);
            Walk {
                resume: vec![Some((until, u64::MAX)); plan.prefixes.len()],
                plan,
                needs_check,
                since: f.since.unwrap_or(0),
                seen: HashSet::new(),
                last_at: u64::MAX,
            }
        });

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
        // A zero slice (tests) stops after every key, to exercise resumption everywhere.
        let check_every = if Instant::now() >= stop {
            1
        } else {
            CLOCK_EVERY
        };
        let mut ticks = 0u32;
        loop {
            ticks += 1;
            // Each step reads at least one key, so a scan always makes progress.
            if ticks > 1 && ticks.is_multiple_of(check_every) && Instant::now() >= stop {
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
            if walk.plan.prefixes.len() > 1 && !walk.seen.insert(head.serial) {
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
            self.out.push(stored(self.with_json, &r)?);
        }
        self.done = true;
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
                self.out.push(stored(self.with_json, &r)?);
            }
        }
        Ok(())
    }

    /// The results, newest first, ties by lowest id, cut to the limit.
    pub fn into_results(self) -> Vec<StoredEvent> {
        let mut out = self.out;
        out.sort_unstable_by_key(StoredEvent::order_key);
        out.truncate(self.limit);
        out
    }
}

fn stored(with_json: bool, r: &Record) -> Result<StoredEvent> {
    if with_json {
        to_stored(r)
    } else {
        Ok(StoredEvent {
            created_at: r.created_at,
            id: r.id,
            json: std::sync::Arc::from(""),
        })
    }
}
