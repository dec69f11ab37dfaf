//! The word index (NIP-50) on LMDB: `by_word` maps `word | 0x00 | created_at | serial` to
//! `weight | kind`, written by the writer in the same transaction as the event, so a search
//! sees exactly what a query sees. A search reads it as `crate::search` describes.

use std::cmp::{Ordering, Reverse};
use std::collections::BinaryHeap;
use std::ops::Bound;

use heed::{RoTxn, WithoutTls};
use seedstr_proto::{search, Event};

use super::record::{decode, parse_json, to_stored};
use super::Dbs;
use crate::keys;
use crate::search::{
    prefix_bounds, rank, SearchPlan, CANDIDATES, MAX_EXPANSIONS, MAX_POSTINGS, SAMPLE,
};
use crate::{Result, StoredEvent};

/// Ends a word in a key: no indexed word holds a NUL (they are letters and digits).
const WORD_END: u8 = 0;

/// The `by_word` entries of an event: key and `weight | kind`.
pub(super) fn entries(event: &Event, serial: u64) -> Vec<(Vec<u8>, [u8; 3])> {
    let at = event.created_at.as_secs();
    let kind = event.kind.as_u16().to_be_bytes();
    search::indexed_words(event)
        .into_iter()
        .map(|(word, weight)| {
            let mut key = word.into_bytes();
            key.push(WORD_END);
            (
                keys::with_suffix(key, at, serial),
                [weight, kind[0], kind[1]],
            )
        })
        .collect()
}

/// `word | 0x00`: the prefix of one indexed word's postings.
fn postings_prefix(word: &[u8]) -> Vec<u8> {
    let mut k = word.to_vec();
    k.push(WORD_END);
    k
}

/// The word of a `by_word` key.
fn word_of(key: &[u8]) -> &[u8] {
    let end = key.len().saturating_sub(keys::SUFFIX + 1);
    &key[..end]
}

/// Postings under every word `word` begins, counted up to `cap`.
fn postings_up_to(txn: &RoTxn<WithoutTls>, dbs: &Dbs, word: &str, cap: usize) -> Result<usize> {
    let (lo, hi) = prefix_bounds(word);
    let range = (Bound::Included(&lo[..]), Bound::Excluded(&hi[..]));
    let mut n = 0;
    for entry in dbs.by_word.range(txn, &range)? {
        entry?;
        n += 1;
        if n >= cap {
            break;
        }
    }
    Ok(n)
}

/// The indexed words `word` begins, in byte order (so the word itself first when indexed),
/// at most `MAX_EXPANSIONS`; and whether that is all of them. One seek per word.
fn expansions(txn: &RoTxn<WithoutTls>, dbs: &Dbs, word: &str) -> Result<(Vec<Vec<u8>>, bool)> {
    let (lo, hi) = prefix_bounds(word);
    let mut out: Vec<Vec<u8>> = Vec::new();
    let mut from = lo;
    loop {
        let range = (Bound::Included(&from[..]), Bound::Excluded(&hi[..]));
        let Some(entry) = dbs.by_word.range(txn, &range)?.next() else {
            return Ok((out, true));
        };
        let (key, _) = entry?;
        if out.len() == MAX_EXPANSIONS {
            return Ok((out, false));
        }
        let w = word_of(key).to_vec();
        // Past every posting of `w`: `w | 0x01` sorts after `w | 0x00 | …`.
        from = w.clone();
        from.push(WORD_END + 1);
        out.push(w);
    }
}

/// Whether the event at `(at, serial)` is posted under one of `words`; each lookup counted in
/// `work`.
fn posted_under(
    txn: &RoTxn<WithoutTls>,
    dbs: &Dbs,
    words: &[Vec<u8>],
    at: u64,
    serial: u64,
    work: &mut usize,
) -> Result<bool> {
    for w in words {
        *work += 1;
        let key = keys::with_suffix(postings_prefix(w), at, serial);
        if dbs.by_word.get(txn, &key)?.is_some() {
            return Ok(true);
        }
    }
    Ok(false)
}

/// A query word whose beginnings stand for more indexed words than this is checked in the
/// candidate's text instead of by one lookup per word.
const MAX_LOOKUPS_PER_WORD: usize = 8;

/// The next posting of one expansion in the newest-first merge.
struct Head {
    at: u64,
    serial: u64,
    expansion: usize,
    /// The event's kind, from the posting's value.
    kind: Option<u16>,
}

impl Head {
    fn of(key: &[u8], value: &[u8], expansion: usize) -> Head {
        let (at, serial) = keys::split_suffix(key);
        let kind = (value.len() == 3).then(|| u16::from_be_bytes([value[1], value[2]]));
        Head {
            at,
            serial,
            expansion,
            kind,
        }
    }
}

impl PartialEq for Head {
    fn eq(&self, o: &Self) -> bool {
        self.cmp(o) == Ordering::Equal
    }
}
impl Eq for Head {}

impl Ord for Head {
    fn cmp(&self, o: &Self) -> Ordering {
        (self.at, self.serial, Reverse(self.expansion)).cmp(&(o.at, o.serial, Reverse(o.expansion)))
    }
}
impl PartialOrd for Head {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}

/// Runs a search in one read transaction; bounded by `MAX_POSTINGS` postings read and lookups
/// made, together.
pub(super) fn run(
    txn: &RoTxn<WithoutTls>,
    dbs: &Dbs,
    plan: &SearchPlan,
    now: u64,
) -> Result<Vec<StoredEvent>> {
    if plan.words.is_empty() || plan.rest.is_void() || plan.limit == 0 {
        return Ok(Vec::new());
    }
    let alive = |expiration: u64| expiration == 0 || expiration > now;
    let mut found: Vec<(u32, StoredEvent)> = Vec::new();

    if let Some(ids) = &plan.rest.ids {
        for id in ids {
            let Some(serial) = dbs.ids.get(txn, id)? else {
                continue;
            };
            let Some(value) = dbs.events.get(txn, serial)? else {
                continue;
            };
            let r = decode(value)?;
            if let Some(score) = plan.relevance(&parse_json(r.json)?) {
                if alive(r.expiration) {
                    found.push((score, to_stored(&r)?));
                }
            }
        }
        return Ok(rank(found, plan.limit));
    }

    // The rarest word drives (ties: the longest, the narrower beginning).
    let mut driver = 0;
    let mut fewest = (usize::MAX, Reverse(0));
    for (i, w) in plan.words.iter().enumerate() {
        let n = (postings_up_to(txn, dbs, w, SAMPLE)?, Reverse(w.len()));
        if n < fewest {
            (driver, fewest) = (i, n);
        }
        if n.0 == 0 {
            return Ok(Vec::new());
        }
    }
    let (driving, _) = expansions(txn, dbs, &plan.words[driver])?;
    // The other words, checked by index lookups where their expansions are all known and
    // few; the rest in the candidate's text.
    let mut others = Vec::new();
    for (i, w) in plan.words.iter().enumerate() {
        if i != driver {
            let (exp, complete) = expansions(txn, dbs, w)?;
            if complete && exp.len() <= MAX_LOOKUPS_PER_WORD {
                others.push(exp);
            }
        }
    }

    let since = plan.rest.since.unwrap_or(0);
    let until = plan.rest.until.unwrap_or(u64::MAX);
    let mut walks = Vec::with_capacity(driving.len());
    let mut heap = BinaryHeap::new();
    for (i, w) in driving.iter().enumerate() {
        let lo = keys::with_suffix(postings_prefix(w), since, 0);
        let hi = keys::with_suffix(postings_prefix(w), until, u64::MAX);
        let mut walk = dbs
            .by_word
            .rev_range(txn, &(Bound::Included(&lo[..]), Bound::Included(&hi[..])))?;
        if let Some(entry) = walk.next() {
            let (k, v) = entry?;
            heap.push(Head::of(k, v, i));
        }
        walks.push(walk);
    }

    // Postings read and lookups made: the bound on one search's work.
    let mut work = 0usize;
    let mut last_serial = None;
    while let Some(head) = heap.pop() {
        work += 1;
        if work > MAX_POSTINGS || found.len() >= CANDIDATES {
            break;
        }
        if let Some(entry) = walks[head.expansion].next() {
            let (k, v) = entry?;
            heap.push(Head::of(k, v, head.expansion));
        }
        // One event under several expansions comes up once per expansion, one after another.
        if last_serial == Some(head.serial) {
            continue;
        }
        last_serial = Some(head.serial);
        if let (Some(kinds), Some(kind)) = (&plan.rest.kinds, head.kind) {
            if kinds.binary_search(&kind).is_err() {
                continue;
            }
        }
        let mut other_words_posted = true;
        for exp in &others {
            if !posted_under(txn, dbs, exp, head.at, head.serial, &mut work)? {
                other_words_posted = false;
                break;
            }
        }
        if !other_words_posted {
            continue;
        }
        let Some(value) = dbs.events.get(txn, &head.serial.to_be_bytes())? else {
            continue;
        };
        let r = decode(value)?;
        if !alive(r.expiration) {
            continue;
        }
        if let Some(score) = plan.relevance(&parse_json(r.json)?) {
            found.push((score, to_stored(&r)?));
        }
    }
    Ok(rank(found, plan.limit))
}

#[cfg(test)]
mod tests {
    use nostr::prelude::*;

    use super::super::{open_env, Job, Pending, Writer, WORD_INDEX_KEY};
    use super::*;

    /// A store written before the word index existed gets it built when it is opened.
    #[test]
    fn an_older_store_is_indexed_when_opened() {
        let dir = tempfile::tempdir().unwrap();
        let (env, dbs, next_serial, _) = open_env(dir.path(), 1 << 30, None).unwrap();
        let mut writer = Writer {
            env: env.clone(),
            dbs,
            next_serial,
            durability: crate::lmdb::durability::Durability::Synced,
        };
        let keys = Keys::generate();
        let jobs = (0..25u64)
            .map(|i| {
                let e = EventBuilder::new(Kind::TextNote, format!("river note {i}"))
                    .custom_created_at(Timestamp::from_secs(1_700_000_000 + i))
                    .finalize(&keys)
                    .unwrap();
                let event = seedstr_proto::Event::from_json(e.as_json().as_bytes()).unwrap();
                let (tx, _) = tokio::sync::oneshot::channel();
                let json = event.as_json();
                Job::Save(Box::new(Pending { event, json }), tx)
            })
            .collect();
        writer.apply_all(jobs);
        // As an older version left it: no word index, no version.
        let mut wtxn = env.write_txn().unwrap();
        dbs.by_word.clear(&mut wtxn).unwrap();
        dbs.meta.delete(&mut wtxn, WORD_INDEX_KEY).unwrap();
        wtxn.commit().unwrap();
        drop((writer, env));

        let (env, dbs, _, _) = open_env(dir.path(), 1 << 30, None).unwrap();
        let txn = env.read_txn().unwrap();
        let filter = seedstr_proto::Filter::parse(&serde_json::json!({"search": "river"})).unwrap();
        let found = run(&txn, &dbs, &SearchPlan::new(&filter, 100), 1_800_000_000).unwrap();
        assert_eq!(found.len(), 25);
        assert!(dbs.meta.get(&txn, WORD_INDEX_KEY).unwrap().is_some());
    }
}
