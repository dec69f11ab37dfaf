//! Signed events made ahead of time, so the load generator spends nothing on signing while it
//! measures. Their shape is close to a busy public relay's: many authors, a few kinds, topic
//! tags, reactions pointing at other events, timestamps spread over a month.

use std::thread;

use anyhow::Result;
use nostr::prelude::*;

/// One signed event, ready on the wire.
pub struct Prepared {
    pub id: [u8; 32],
    /// The whole client message: `["EVENT",{…}]`.
    pub wire: String,
}

impl Prepared {
    fn new(event: &Event) -> Prepared {
        Prepared {
            id: event.id.to_bytes(),
            wire: format!("[\"EVENT\",{}]", event.as_json()),
        }
    }

    /// The event's JSON alone.
    pub fn json(&self) -> &str {
        &self.wire[9..self.wire.len() - 1]
    }
}

/// What the generated events look like.
#[derive(Clone)]
pub struct Shape {
    pub authors: usize,
    pub topics: usize,
    /// Timestamps fall in `[now - span_secs, now)`.
    pub span_secs: u64,
    pub now: u64,
    /// Timestamps in random order (an import or a sync) rather than rising with the event's
    /// position, as on a relay that receives events as they are written.
    pub backfill: bool,
}

pub const TOPIC_TAG: &str = "t";

pub fn topic(i: usize) -> String {
    format!("topic{i}")
}

/// Distinct rare words in the notes: each note carries one, as real notes carry a name or an
/// unusual word, so a search has rare words to find and the word index has them to keep.
pub const RARE_WORDS: u64 = 100_000;

/// The `n`th rare word: syllables spelling `n` (pronounceable, no digits, at most 12 letters).
pub fn rare_word(n: u64) -> String {
    const SYLLABLES: [&str; 20] = [
        "ka", "lo", "mi", "ne", "ru", "sa", "to", "vi", "ze", "po", "da", "fe", "gu", "hi", "jo",
        "be", "wa", "xu", "yo", "qi",
    ];
    let mut n = n % RARE_WORDS;
    let mut word = String::from("zy");
    for _ in 0..4 {
        word.push_str(SYLLABLES[(n % 20) as usize]);
        n /= 20;
    }
    word
}

/// The kind of the `i`th event: seven notes, two reactions and one repost in ten.
pub fn kind_of(i: u64) -> u16 {
    match i % 10 {
        0..=6 => 1,
        7 | 8 => 7,
        _ => 6,
    }
}

pub struct Corpus {
    pub authors: Vec<Keys>,
    pub events: Vec<Prepared>,
}

impl Corpus {
    /// `count` events over `shape`, signed on every core.
    pub fn generate(count: usize, shape: Shape) -> Result<Corpus> {
        let authors: Vec<Keys> = (0..shape.authors.max(1))
            .map(|_| Keys::generate())
            .collect();
        let threads = thread::available_parallelism().map_or(1, |n| n.get());
        let per = count.div_ceil(threads).max(1);
        let seed = rand::random::<u64>();
        let parts: Vec<Result<Vec<Prepared>>> = thread::scope(|s| {
            let handles: Vec<_> = (0..threads)
                .map(|t| {
                    let (authors, shape) = (&authors, &shape);
                    s.spawn(move || {
                        let range = (t * per).min(count)..((t + 1) * per).min(count);
                        range
                            .map(|i| make_event(i as u64, count as u64, seed, authors, shape))
                            .collect()
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().expect("generator thread panicked"))
                .collect()
        });
        let mut events = Vec::with_capacity(count);
        for p in parts {
            events.extend(p?);
        }
        Ok(Corpus { authors, events })
    }
}

fn make_event(i: u64, count: u64, seed: u64, authors: &[Keys], shape: &Shape) -> Result<Prepared> {
    let mut rng = SplitMix(seed ^ i.wrapping_mul(0x9e37_79b9_7f4a_7c15));
    let keys = &authors[rng.below(authors.len() as u64) as usize];
    let kind = kind_of(i);
    let span = shape.span_secs.max(1);
    let age = if shape.backfill {
        rng.below(span)
    } else {
        // Rising with i, with a minute of jitter as clocks and clients differ.
        (span - span * i / count.max(1)).saturating_sub(rng.below(60))
    };
    let at = shape.now - 1 - age.min(span - 1);
    let mut tags = vec![Tag::parse([
        TOPIC_TAG.to_string(),
        topic(rng.below(shape.topics.max(1) as u64) as usize),
    ])?];
    let content = match kind {
        1 => format!(
            "bench note {i}: a short post of ordinary length, with a few words in it, {} {:016x}",
            rare_word(rng.below(RARE_WORDS)),
            rng.next()
        ),
        7 => "+".to_string(),
        _ => String::new(),
    };
    if kind != 1 {
        let target = format!(
            "{:016x}{:016x}{:016x}{:016x}",
            rng.next(),
            rng.next(),
            rng.next(),
            rng.next()
        );
        tags.push(Tag::parse(["e".to_string(), target])?);
    }
    let event = EventBuilder::new(Kind::from(kind), content)
        .tags(tags)
        .custom_created_at(Timestamp::from_secs(at))
        .finalize(keys)?;
    Ok(Prepared::new(&event))
}

/// One event with a given tag, made at run time (for fan-out).
pub fn tagged_event(keys: &Keys, tag: &str, n: usize) -> Result<Prepared> {
    let event = EventBuilder::new(Kind::TextNote, format!("fan-out probe {n}"))
        .tags([Tag::parse([TOPIC_TAG, tag])?])
        .finalize(keys)?;
    Ok(Prepared::new(&event))
}

/// A small, fast, seedable generator: the choices only need to be spread, not secret.
pub struct SplitMix(pub u64);

impl SplitMix {
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}
