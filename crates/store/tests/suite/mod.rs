//! The store suite: every backend must pass these, through the `Store` trait only.

use std::sync::Arc;
use std::time::Duration;

use nostr::prelude::*;
use seedstr_proto::Filter;
use seedstr_store::{QueryOptions, SaveOutcome, Store};
use serde_json::json;

pub fn event(keys: &Keys, kind: u16, at: u64, tags: &[&[&str]], content: &str) -> Event {
    EventBuilder::new(Kind::from(kind), content)
        .tags(tags.iter().map(|t| Tag::parse(t.iter().copied()).unwrap()))
        .custom_created_at(Timestamp::from_secs(at))
        .finalize(keys)
        .unwrap()
}

fn f(v: serde_json::Value) -> Filter {
    Filter::parse(&v).unwrap()
}

fn opts() -> QueryOptions {
    QueryOptions {
        max_limit: 500,
        budget: Duration::from_secs(5),
        now: 1_750_000_000,
    }
}

async fn ids_of(store: &dyn Store, filters: Vec<Filter>) -> Vec<EventId> {
    store
        .query(filters, opts())
        .await
        .unwrap()
        .into_iter()
        .map(|e| EventId::from_byte_array(e.id))
        .collect()
}

pub async fn saves_and_dedupes(store: Arc<dyn Store>) {
    let k = Keys::generate();
    let e = event(&k, 1, 1_700_000_000, &[], "hello");
    assert_eq!(store.save(e.clone()).await.unwrap(), SaveOutcome::Saved);
    assert_eq!(store.save(e.clone()).await.unwrap(), SaveOutcome::Duplicate);
    let got = store
        .query(vec![f(json!({"ids": [e.id.to_hex()]}))], opts())
        .await
        .unwrap();
    assert_eq!(got.len(), 1);
    assert_eq!(Event::from_json(got[0].json.as_bytes()).unwrap(), e);
}

pub async fn orders_newest_first_with_limit_and_ties(store: Arc<dyn Store>) {
    let k = Keys::generate();
    let mut evs: Vec<Event> = (0..5)
        .map(|i| event(&k, 1, 1_700_000_100 + i, &[], "n"))
        .collect();
    // Three events share one timestamp: the lowest ids must come first.
    let tied: Vec<Event> = (0..3)
        .map(|i| event(&k, 1, 1_700_000_200, &[], &format!("t{i}")))
        .collect();
    evs.extend(tied.iter().cloned());
    for e in &evs {
        store.save(e.clone()).await.unwrap();
    }
    let author = k.public_key().to_hex();
    let got = ids_of(&*store, vec![f(json!({"authors": [author], "limit": 4}))]).await;
    let mut tied_ids: Vec<EventId> = tied.iter().map(|e| e.id).collect();
    tied_ids.sort();
    assert_eq!(&got[..3], &tied_ids[..]);
    assert_eq!(got[3], evs[4].id);
    assert_eq!(got.len(), 4);
    // With a limit that cuts through the tie, the lowest ids are the ones kept.
    let got = ids_of(&*store, vec![f(json!({"authors": [author], "limit": 2}))]).await;
    assert_eq!(&got[..], &tied_ids[..2]);

    // Inclusive since/until.
    let got = ids_of(
        &*store,
        vec![f(
            json!({"authors": [author], "since": 1_700_000_101, "until": 1_700_000_103}),
        )],
    )
    .await;
    assert_eq!(got, vec![evs[3].id, evs[2].id, evs[1].id]);
}

pub async fn every_index_answers(store: Arc<dyn Store>) {
    let a = Keys::generate();
    let b = Keys::generate();
    let t = 1_700_001_000;
    let e1 = event(&a, 1, t, &[&["t", "mods"], &["e", &"aa".repeat(32)]], "one");
    let e2 = event(&a, 7, t + 1, &[&["t", "games"]], "two");
    let e3 = event(
        &b,
        1,
        t + 2,
        &[&["t", "mods"], &["p", &a.public_key().to_hex()]],
        "three",
    );
    for e in [&e1, &e2, &e3] {
        store.save(e.clone()).await.unwrap();
    }
    let (pa, pb) = (a.public_key().to_hex(), b.public_key().to_hex());
    let cases = vec![
        (json!({"authors": [pa], "kinds": [1]}), vec![e1.id]),
        (
            json!({"authors": [pa, pb], "kinds": [1]}),
            vec![e3.id, e1.id],
        ),
        (json!({"authors": [pa]}), vec![e2.id, e1.id]),
        (json!({"kinds": [7], "authors": [pa, pb]}), vec![e2.id]),
        (json!({"#t": ["mods"]}), vec![e3.id, e1.id]),
        (json!({"#t": ["mods"], "authors": [pb]}), vec![e3.id]),
        (json!({"#t": ["mods", "games"], "kinds": [7]}), vec![e2.id]),
        (json!({"#p": [pa]}), vec![e3.id]),
        (
            json!({"#t": ["mods"], "#e": ["aa".repeat(32)]}),
            vec![e1.id],
        ),
        (
            json!({"ids": [e1.id.to_hex(), e3.id.to_hex()], "kinds": [1]}),
            vec![e3.id, e1.id],
        ),
        (json!({"ids": [e1.id.to_hex()], "kinds": [7]}), vec![]),
        (
            json!({"since": t, "until": t + 2, "#t": ["nothing"]}),
            vec![],
        ),
        (json!({"kinds": []}), vec![]),
    ];
    for (filter, want) in cases {
        assert_eq!(
            ids_of(&*store, vec![f(filter.clone())]).await,
            want,
            "{filter}"
        );
    }
    // Several filters: union, no repeats.
    let both = vec![f(json!({"authors": [pa]})), f(json!({"#t": ["mods"]}))];
    let got = ids_of(&*store, both.clone()).await;
    assert_eq!(got, vec![e3.id, e2.id, e1.id]);
    assert_eq!(store.count(both, opts()).await.unwrap(), 3);
}

pub async fn replaceable_and_addressable(store: Arc<dyn Store>) {
    let k = Keys::generate();
    let p = k.public_key().to_hex();
    let old = event(&k, 0, 1_700_002_000, &[], "old profile");
    let new = event(&k, 0, 1_700_002_001, &[], "new profile");
    assert_eq!(store.save(old.clone()).await.unwrap(), SaveOutcome::Saved);
    assert_eq!(store.save(new.clone()).await.unwrap(), SaveOutcome::Saved);
    assert_eq!(
        store.save(old.clone()).await.unwrap(),
        SaveOutcome::Superseded
    );
    assert_eq!(
        ids_of(&*store, vec![f(json!({"authors": [p], "kinds": [0]}))]).await,
        vec![new.id]
    );

    // Same created_at: the lowest id wins, whichever arrives first.
    let x = event(&k, 10_002, 1_700_002_100, &[], "x");
    let y = event(&k, 10_002, 1_700_002_100, &[], "y");
    let (low, high) = if x.id < y.id { (x, y) } else { (y, x) };
    assert_eq!(store.save(high.clone()).await.unwrap(), SaveOutcome::Saved);
    assert_eq!(store.save(low.clone()).await.unwrap(), SaveOutcome::Saved);
    assert_eq!(
        store.save(high.clone()).await.unwrap(),
        SaveOutcome::Superseded
    );
    assert_eq!(
        ids_of(&*store, vec![f(json!({"kinds": [10_002], "authors": [p]}))]).await,
        vec![low.id]
    );

    // Addressable: one per d tag.
    let d1 = "skyrim-se.foo@1.0.0";
    let a1 = event(&k, 30_079, 1_700_002_200, &[&["d", d1]], "a1");
    let a2 = event(&k, 30_079, 1_700_002_300, &[&["d", d1]], "a2");
    let b1 = event(
        &k,
        30_079,
        1_700_002_250,
        &[&["d", "skyrim-se.foo@1.1.0"]],
        "b1",
    );
    for e in [&a1, &a2, &b1] {
        assert_eq!(store.save(e.clone()).await.unwrap(), SaveOutcome::Saved);
    }
    assert_eq!(
        ids_of(&*store, vec![f(json!({"kinds": [30_079], "authors": [p]}))]).await,
        vec![a2.id, b1.id]
    );
    assert!(ids_of(&*store, vec![f(json!({"ids": [a1.id.to_hex()]}))])
        .await
        .is_empty());
    assert_eq!(
        ids_of(&*store, vec![f(json!({"#d": [d1]}))]).await,
        vec![a2.id],
        "the replaced version leaves no index entry behind"
    );
}

pub async fn deletions(store: Arc<dyn Store>) {
    let k = Keys::generate();
    let other = Keys::generate();
    let p = k.public_key().to_hex();
    let note = event(&k, 1, 1_700_003_000, &[], "to delete");
    let foreign = event(&other, 1, 1_700_003_000, &[], "not yours");
    let later = event(&k, 1, 1_700_003_001, &[], "deleted before it arrives");
    let art = event(&k, 30_078, 1_700_003_000, &[&["d", "ns.slug"]], "project");
    for e in [&note, &foreign, &art] {
        store.save(e.clone()).await.unwrap();
    }
    let coord = format!("30078:{p}:ns.slug");
    let del = event(
        &k,
        5,
        1_700_003_010,
        &[
            &["e", &note.id.to_hex()],
            &["e", &foreign.id.to_hex()],
            &["e", &later.id.to_hex()],
            &["a", &coord],
            &["k", "1"],
        ],
        "",
    );
    assert_eq!(store.save(del.clone()).await.unwrap(), SaveOutcome::Saved);
    let ids = vec![
        note.id.to_hex(),
        foreign.id.to_hex(),
        art.id.to_hex(),
        del.id.to_hex(),
    ];
    assert_eq!(
        ids_of(&*store, vec![f(json!({ "ids": ids }))]).await,
        vec![del.id, foreign.id]
    );
    // Deleted events are refused when they come back; a newer version of the address is not.
    assert_eq!(
        store.save(note.clone()).await.unwrap(),
        SaveOutcome::Deleted
    );
    assert_eq!(
        store.save(later.clone()).await.unwrap(),
        SaveOutcome::Deleted
    );
    let old_art = event(
        &k,
        30_078,
        1_700_003_005,
        &[&["d", "ns.slug"]],
        "older project",
    );
    assert_eq!(store.save(old_art).await.unwrap(), SaveOutcome::Deleted);
    let new_art = event(
        &k,
        30_078,
        1_700_003_020,
        &[&["d", "ns.slug"]],
        "newer project",
    );
    assert_eq!(store.save(new_art).await.unwrap(), SaveOutcome::Saved);
    // A stranger's deletion request neither deletes an event nor blocks it from coming back.
    let kept = event(&k, 1, 1_700_003_050, &[], "kept");
    let hostile = event(&other, 5, 1_700_003_040, &[&["e", &kept.id.to_hex()]], "");
    store.save(hostile).await.unwrap();
    assert_eq!(store.save(kept.clone()).await.unwrap(), SaveOutcome::Saved);
    let hostile2 = event(&other, 5, 1_700_003_060, &[&["e", &kept.id.to_hex()]], "");
    store.save(hostile2).await.unwrap();
    assert_eq!(
        ids_of(&*store, vec![f(json!({"ids": [kept.id.to_hex()]}))]).await,
        vec![kept.id]
    );
    // A deletion of a deletion does nothing.
    let del2 = event(&k, 5, 1_700_003_030, &[&["e", &del.id.to_hex()]], "");
    store.save(del2).await.unwrap();
    assert_eq!(
        ids_of(&*store, vec![f(json!({"ids": [del.id.to_hex()]}))]).await,
        vec![del.id]
    );
}

pub async fn expiration(store: Arc<dyn Store>) {
    let k = Keys::generate();
    let now = opts().now;
    let gone = event(
        &k,
        1,
        now - 100,
        &[&["expiration", &(now - 10).to_string()]],
        "gone",
    );
    let alive = event(
        &k,
        1,
        now - 100,
        &[&["expiration", &(now + 1000).to_string()]],
        "alive",
    );
    store.save(gone.clone()).await.unwrap();
    store.save(alive.clone()).await.unwrap();
    let p = k.public_key().to_hex();
    assert_eq!(
        ids_of(&*store, vec![f(json!({"authors": [p]}))]).await,
        vec![alive.id]
    );
    // Counts leave expired events out too, whichever way they are counted.
    for filter in [json!({}), json!({"authors": [p]}), json!({"kinds": [1]})] {
        assert_eq!(
            store.count(vec![f(filter.clone())], opts()).await.unwrap(),
            1,
            "{filter}"
        );
    }
    assert!(store.purge_expired(now).await.unwrap() >= 1);
    let later = QueryOptions {
        now: now + 2000,
        ..opts()
    };
    assert!(store
        .query(vec![f(json!({"authors": [p]}))], later)
        .await
        .unwrap()
        .is_empty());
    assert_eq!(
        store.save(gone).await.unwrap(),
        SaveOutcome::Saved,
        "a purged event leaves no tombstone"
    );
}

pub async fn negentropy_ids(store: Arc<dyn Store>) {
    let k = Keys::generate();
    let evs: Vec<Event> = (0..10)
        .map(|i| event(&k, 1, 1_700_004_000 + i, &[], "n"))
        .collect();
    for e in &evs {
        store.save(e.clone()).await.unwrap();
    }
    let got = store
        .ids(f(json!({"authors": [k.public_key().to_hex()]})), opts())
        .await
        .unwrap();
    assert_eq!(got.len(), 10);
    assert!(got.iter().all(|(at, id)| evs
        .iter()
        .any(|e| e.id.as_bytes() == id && e.created_at.as_secs() == *at)));
}

pub async fn concurrent_writes(store: Arc<dyn Store>) {
    let k = Keys::generate();
    let mut tasks = Vec::new();
    for i in 0..200u64 {
        let store = store.clone();
        let e = event(&k, 1, 1_700_005_000 + i, &[&["t", "burst"]], "b");
        tasks.push(tokio::spawn(async move { store.save(e).await.unwrap() }));
    }
    for t in tasks {
        assert_eq!(t.await.unwrap(), SaveOutcome::Saved);
    }
    let n = store
        .count(vec![f(json!({"#t": ["burst"]}))], opts())
        .await
        .unwrap();
    assert_eq!(n, 200);
}

/// A small deterministic generator, so the differential test is the same on every run.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % n
    }
}

/// The query engine against a plain model: thousands of random events (regular, replaceable
/// and addressable, with tag and timestamp collisions) saved, then hundreds of random filters,
/// each answered by the store and by filtering the current events in a vector (NIP-01
/// replacement, newest first, lowest id on a tie, the limit). The answers must be identical.
pub async fn matches_a_plain_model(store: Arc<dyn Store>) {
    let mut rng = Lcg(0x5eed);
    let keys: Vec<Keys> = (1..=5u8)
        .map(|i| Keys::new(SecretKey::from_slice(&[i; 32]).unwrap()))
        .collect();
    let kinds = [1u16, 7, 1984, 10_002, 30_023];
    let tags = ["a", "b", "c", "d"];
    let mut saved: Vec<Event> = Vec::new();
    for n in 0..3000 {
        let k = &keys[rng.next(5) as usize];
        let kind = kinds[rng.next(5) as usize];
        let at = 1_700_000_000 + rng.next(200);
        let t = tags[rng.next(4) as usize];
        let mut tag_list: Vec<Vec<String>> = vec![vec!["t".into(), t.into()]];
        if kind == 30_023 {
            tag_list.push(vec![
                "d".into(),
                ["x", "y", "z"][rng.next(3) as usize].into(),
            ]);
        }
        if rng.next(4) == 0 && !saved.is_empty() {
            let target = saved[rng.next(saved.len() as u64) as usize].id.to_hex();
            tag_list.push(vec!["e".into(), target]);
        }
        // Some events carry a second topic (one event under two tag values), some expire
        // before the queries' `now`, some after.
        if rng.next(4) == 0 {
            tag_list.push(vec!["t".into(), tags[rng.next(4) as usize].into()]);
        }
        match rng.next(10) {
            0 => tag_list.push(vec!["expiration".into(), (opts().now - 10).to_string()]),
            1 => tag_list.push(vec!["expiration".into(), (opts().now + 10).to_string()]),
            _ => {}
        }
        let e = EventBuilder::new(Kind::from(kind), format!("{n}"))
            .tags(tag_list.into_iter().map(|t| Tag::parse(t).unwrap()))
            .custom_created_at(Timestamp::from_secs(at))
            .finalize(k)
            .unwrap();
        store.save(e.clone()).await.unwrap();
        saved.push(e);
    }
    let checked = seedstr_proto::Verified::keep_valid(saved.iter().cloned());
    let current: Vec<&Event> = seedstr_proto::event::newest_by_address_at(&checked, u64::MAX / 2)
        .into_iter()
        .map(|e| e.event())
        .filter(|e| seedstr_proto::event::expiration(e).is_none_or(|x| x > opts().now))
        .collect();
    for case in 0..300 {
        let mut filter = serde_json::Map::new();
        if rng.next(6) == 0 {
            let ids: Vec<String> = (0..1 + rng.next(3))
                .map(|_| saved[rng.next(saved.len() as u64) as usize].id.to_hex())
                .collect();
            filter.insert("ids".into(), json!(ids));
        }
        if rng.next(2) == 0 {
            let authors: Vec<String> = (0..1 + rng.next(2))
                .map(|_| keys[rng.next(5) as usize].public_key().to_hex())
                .collect();
            filter.insert("authors".into(), json!(authors));
        }
        if rng.next(2) == 0 {
            let ks: Vec<u16> = (0..1 + rng.next(2))
                .map(|_| kinds[rng.next(5) as usize])
                .collect();
            filter.insert("kinds".into(), json!(ks));
        }
        if rng.next(3) == 0 {
            let ts: Vec<&str> = (0..1 + rng.next(2))
                .map(|_| tags[rng.next(4) as usize])
                .collect();
            filter.insert("#t".into(), json!(ts));
        }
        if rng.next(5) == 0 {
            let d = ["x", "y", "z"][rng.next(3) as usize];
            filter.insert("#d".into(), json!([d]));
        }
        if rng.next(3) == 0 {
            filter.insert("since".into(), json!(1_700_000_000 + rng.next(200)));
        }
        if rng.next(3) == 0 {
            filter.insert("until".into(), json!(1_700_000_000 + rng.next(200)));
        }
        if rng.next(2) == 0 {
            filter.insert("limit".into(), json!(1 + rng.next(60)));
        }
        let parsed = f(serde_json::Value::Object(filter.clone()));
        let mut model: Vec<&Event> = current
            .iter()
            .copied()
            .filter(|e| parsed.matches(e))
            .collect();
        model.sort_by(|a, b| {
            b.created_at
                .cmp(&a.created_at)
                .then_with(|| a.id.as_bytes().cmp(b.id.as_bytes()))
        });
        let count = store.count(vec![parsed.clone()], opts()).await.unwrap();
        assert_eq!(
            count,
            model.len() as u64,
            "count, case {case}, filter {}",
            serde_json::Value::Object(filter.clone())
        );
        // Counts over two filters: one event counted once, whether the filters' kinds are
        // disjoint (counts add up) or not (ids are collected).
        for other in [json!({"kinds": [1984]}), json!({"#t": ["a"]})] {
            let other = f(other);
            let union = current
                .iter()
                .filter(|e| parsed.matches(e) || other.matches(e))
                .count();
            let got = store
                .count(vec![parsed.clone(), other.clone()], opts())
                .await
                .unwrap();
            assert_eq!(got, union as u64, "count of two, case {case}");
        }
        model.truncate(parsed.effective_limit(opts().max_limit));
        let want: Vec<EventId> = model.iter().map(|e| e.id).collect();
        let got = ids_of(store.as_ref(), vec![parsed]).await;
        assert_eq!(
            got,
            want,
            "case {case}, filter {}",
            serde_json::Value::Object(filter)
        );
    }
}

async fn searched(store: &dyn Store, filter: serde_json::Value) -> Vec<EventId> {
    store
        .search(f(filter), opts())
        .await
        .unwrap()
        .into_iter()
        .map(|e| EventId::from_byte_array(e.id))
        .collect()
}

/// NIP-50: words begin words, titles weigh more than content, ties go to the newest; the
/// other conditions, expiry and deletions hold; private and reaction kinds are not searched.
pub async fn search_ranks_by_relevance_then_recency(store: Arc<dyn Store>) {
    let k = Keys::generate();
    let now = opts().now;
    let t0 = now - 1000;
    let article = event(
        &k,
        30_023,
        t0,
        &[&["d", "a"], &["title", "River Maps"]],
        "charts of the river delta",
    );
    let trip = event(&k, 1, t0 + 10, &[], "a river trip, maps later");
    let lakes = event(&k, 1, t0 + 20, &[], "Rivers and lakes");
    let other = event(&k, 1, t0 + 30, &[], "nothing here");
    let reaction = event(&k, 7, t0 + 40, &[], "river");
    let gone = event(
        &k,
        1,
        t0 + 50,
        &[&["expiration", &(now - 1).to_string()]],
        "river",
    );
    let private = event(&k, 4, t0 + 60, &[], "river maps");
    for e in [&article, &trip, &lakes, &other, &reaction, &gone, &private] {
        store.save(e.clone()).await.unwrap();
    }
    assert_eq!(
        searched(&*store, json!({"search": "river"})).await,
        [article.id, trip.id, lakes.id]
    );
    assert_eq!(
        searched(&*store, json!({"search": "RIVER maps"})).await,
        [article.id, trip.id]
    );
    assert_eq!(
        searched(&*store, json!({"search": "riv", "kinds": [1]})).await,
        [lakes.id, trip.id],
        "equal relevance: newest first"
    );
    assert_eq!(
        searched(&*store, json!({"search": "river", "limit": 1})).await,
        [article.id]
    );
    assert_eq!(
        searched(&*store, json!({"search": "river", "since": t0 + 15})).await,
        [lakes.id]
    );
    let stranger = Keys::generate().public_key().to_hex();
    assert!(
        searched(&*store, json!({"search": "river", "authors": [stranger]}))
            .await
            .is_empty()
    );
    assert!(
        searched(&*store, json!({"search": "ivers"}))
            .await
            .is_empty(),
        "beginnings only"
    );
    assert!(searched(&*store, json!({"search": "lake river nothing"}))
        .await
        .is_empty());
    assert!(searched(&*store, json!({"search": "   "})).await.is_empty());
    assert_eq!(
        searched(
            &*store,
            json!({"search": "river", "ids": [lakes.id.to_hex(), other.id.to_hex()]})
        )
        .await,
        [lakes.id]
    );
    let del = event(&k, 5, t0 + 70, &[&["e", &trip.id.to_hex()]], "");
    store.save(del).await.unwrap();
    assert_eq!(
        searched(&*store, json!({"search": "river"})).await,
        [article.id, lakes.id]
    );
    let newer = event(
        &k,
        30_023,
        t0 + 80,
        &[&["d", "a"], &["title", "Lake Charts"]],
        "",
    );
    store.save(newer.clone()).await.unwrap();
    assert_eq!(
        searched(&*store, json!({"search": "river"})).await,
        [lakes.id],
        "a replaced version leaves the index"
    );
    assert_eq!(
        searched(&*store, json!({"search": "lake"})).await,
        [newer.id, lakes.id]
    );
}

/// Search against a plain model: random texts over a small vocabulary whose words begin one
/// another, random queries; the store's answer is the model's (filter match, then relevance,
/// newest, lowest id).
pub async fn search_matches_a_plain_model(store: Arc<dyn Store>) {
    let mut rng = Lcg(0x5ea7c4);
    let keys: Vec<Keys> = (1..=3u8)
        .map(|i| Keys::new(SecretKey::from_slice(&[i; 32]).unwrap()))
        .collect();
    let vocabulary = [
        "map", "maps", "mapper", "river", "rivers", "lake", "la", "sea", "seal", "zebra",
    ];
    let mut saved: Vec<Event> = Vec::new();
    for n in 0..400 {
        let words: Vec<&str> = (0..1 + rng.next(4))
            .map(|_| vocabulary[rng.next(vocabulary.len() as u64) as usize])
            .collect();
        let kind = [1u16, 1, 30_023][rng.next(3) as usize];
        let mut tags: Vec<Vec<String>> = Vec::new();
        if kind == 30_023 {
            tags.push(vec!["d".into(), format!("{n}")]);
            let title = vocabulary[rng.next(vocabulary.len() as u64) as usize];
            tags.push(vec!["title".into(), title.to_uppercase()]);
        }
        let e = EventBuilder::new(Kind::from(kind), words.join(" "))
            .tags(tags.into_iter().map(|t| Tag::parse(t).unwrap()))
            .custom_created_at(Timestamp::from_secs(1_700_000_000 + rng.next(100)))
            .finalize(&keys[rng.next(3) as usize])
            .unwrap();
        store.save(e.clone()).await.unwrap();
        saved.push(e);
    }
    for case in 0..200 {
        let mut q: Vec<String> = (0..1 + rng.next(2))
            .map(|_| vocabulary[rng.next(vocabulary.len() as u64) as usize].to_string())
            .collect();
        if rng.next(4) == 0 {
            q[0].truncate(2);
        }
        let mut filter = serde_json::Map::new();
        filter.insert("search".into(), json!(q.join(" ")));
        if rng.next(3) == 0 {
            let kind = [1, 30_023][rng.next(2) as usize];
            filter.insert("kinds".into(), json!([kind]));
        }
        if rng.next(3) == 0 {
            filter.insert("since".into(), json!(1_700_000_000 + rng.next(100)));
        }
        if rng.next(3) == 0 {
            filter.insert(
                "authors".into(),
                json!([keys[rng.next(3) as usize].public_key().to_hex()]),
            );
        }
        filter.insert("limit".into(), json!(1 + rng.next(30)));
        let parsed = f(serde_json::Value::Object(filter.clone()));
        let words = seedstr_proto::search::query_words(&q.join(" "));
        let mut model: Vec<(u32, &Event)> = saved
            .iter()
            .filter(|e| parsed.matches(e))
            .map(|e| (seedstr_proto::search::relevance(e, &words), e))
            .collect();
        model.sort_by(|(ra, a), (rb, b)| {
            rb.cmp(ra)
                .then_with(|| b.created_at.cmp(&a.created_at))
                .then_with(|| a.id.as_bytes().cmp(b.id.as_bytes()))
        });
        model.truncate(parsed.effective_limit(opts().max_limit));
        let want: Vec<EventId> = model.iter().map(|(_, e)| e.id).collect();
        let got = searched(&*store, serde_json::Value::Object(filter.clone())).await;
        assert_eq!(
            got,
            want,
            "case {case}, filter {}",
            serde_json::Value::Object(filter)
        );
    }
}

/// Runs every case against a fresh store from `open`.
#[macro_export]
macro_rules! store_suite {
    ($open:expr) => {
        #[tokio::test]
        async fn search_ranks_by_relevance_then_recency() {
            suite::search_ranks_by_relevance_then_recency($open.await).await
        }
        #[tokio::test]
        async fn search_matches_a_plain_model() {
            suite::search_matches_a_plain_model($open.await).await
        }
        #[tokio::test]
        async fn saves_and_dedupes() {
            suite::saves_and_dedupes($open.await).await
        }
        #[tokio::test]
        async fn orders_newest_first_with_limit_and_ties() {
            suite::orders_newest_first_with_limit_and_ties($open.await).await
        }
        #[tokio::test]
        async fn every_index_answers() {
            suite::every_index_answers($open.await).await
        }
        #[tokio::test]
        async fn replaceable_and_addressable() {
            suite::replaceable_and_addressable($open.await).await
        }
        #[tokio::test]
        async fn deletions() {
            suite::deletions($open.await).await
        }
        #[tokio::test]
        async fn expiration() {
            suite::expiration($open.await).await
        }
        #[tokio::test]
        async fn negentropy_ids() {
            suite::negentropy_ids($open.await).await
        }
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn concurrent_writes() {
            suite::concurrent_writes($open.await).await
        }
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn matches_a_plain_model() {
            suite::matches_a_plain_model($open.await).await
        }
    };
}
