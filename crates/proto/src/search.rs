//! NIP-50 full-text search: what text of an event is searchable and how a query matches it.
//! The store's index, a live subscription's match and the node's catalogue search all follow
//! these rules, so a search gives the same answer wherever it runs.
//!
//! Searchable text: `title` and `name` tags, `summary`, an addressable event's `d`, and the
//! content (a profile's names and about text, read from its JSON). Text is cut into words: runs
//! of letters and digits, lowercased. A query matches an event
//! when every word of the query begins a word of the event's searchable text ("mod" finds
//! "mods"); NIP-50's `key:value` extensions are left out of the query.

use nostr::prelude::Event;

/// Words shorter than this (in characters) are not indexed, and not searched for.
pub const MIN_WORD_CHARS: usize = 2;
/// Words longer than this (in bytes) are not indexed: hashes, keys and blobs, not words.
pub const MAX_WORD_BYTES: usize = 24;
/// Words holding a digit are indexed up to this length (years, "mp3", "v1.2"'s parts);
/// longer ones are numbers, hashes and identifiers, which nobody types to search and which
/// would each cost the index a page of its own.
pub const MAX_DIGIT_WORD_BYTES: usize = 4;
/// The most distinct words indexed per event (the tags' first, then the content's in order).
pub const MAX_WORDS_PER_EVENT: usize = 64;
/// The most words of a query that are searched for; the rest are ignored.
pub const MAX_QUERY_WORDS: usize = 8;

/// How much a word counts, by where in the event it stands.
pub mod weight {
    /// A `title` or `name` tag, or a profile's names.
    pub const TITLE: u8 = 4;
    /// A `summary` tag, or a profile's NIP-05 identifier.
    pub const SUMMARY: u8 = 2;
    /// The content (a profile's about text).
    pub const CONTENT: u8 = 1;
}

/// Kinds whose content is not text to search: contact lists, reactions, and private
/// messages (encrypted, or sealed for their recipients only).
const UNSEARCHED_KINDS: [u16; 7] = [3, 4, 7, 13, 14, 1059, 1060];

/// The words of `text`, lowercased, in order, repeats included; too short and too long ones
/// left out.
pub fn words(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| w.chars().count() >= MIN_WORD_CHARS && w.len() <= MAX_WORD_BYTES)
        .filter(|w| w.len() <= MAX_DIGIT_WORD_BYTES || !w.chars().any(char::is_numeric))
        .map(str::to_lowercase)
        // Lowercasing can lengthen a word (some capitals take more bytes in lower case).
        .filter(|w| w.len() <= MAX_WORD_BYTES)
}

/// The words a query asks for, each once, at most [`MAX_QUERY_WORDS`]; `key:value`
/// extensions left out.
pub fn query_words(query: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for part in query.split_whitespace().filter(|p| !p.contains(':')) {
        for w in words(part) {
            if !out.contains(&w) && out.len() < MAX_QUERY_WORDS {
                out.push(w);
            }
        }
    }
    out
}

/// The searchable words of `event` with their weights (a word standing in several places
/// sums their weights, capped at 255), at most [`MAX_WORDS_PER_EVENT`]; empty for kinds whose
/// content is not searchable text and for events with no words.
pub fn indexed_words(event: &Event) -> Vec<(String, u8)> {
    let kind = event.kind.as_u16();
    if UNSEARCHED_KINDS.contains(&kind) {
        return Vec::new();
    }
    let mut out: Vec<(String, u8)> = Vec::new();
    let mut add = |text: &str, weight: u8| {
        for w in words(text) {
            if let Some((_, total)) = out.iter_mut().find(|(known, _)| *known == w) {
                *total = total.saturating_add(weight);
            } else if out.len() < MAX_WORDS_PER_EVENT {
                out.push((w, weight));
            }
        }
    };
    let addressable = (30_000..40_000).contains(&kind);
    for tag in event.tags.iter() {
        let s = tag.as_slice();
        let weight = match s.first().map(String::as_str) {
            Some("title" | "name") => weight::TITLE,
            Some("summary") => weight::SUMMARY,
            // An addressable event's identifier often names it (`ns.slug`, `npm.left-pad@1.0.0`).
            Some("d") if addressable => weight::SUMMARY,
            _ => continue,
        };
        if let Some(value) = s.get(1) {
            add(value, weight);
        }
    }
    if kind == 0 {
        // A profile's content is JSON: its names and about text are what people look for.
        if let Ok(serde_json::Value::Object(fields)) = serde_json::from_str(&event.content) {
            let field = |name: &str| fields.get(name).and_then(|v| v.as_str()).unwrap_or("");
            add(field("name"), weight::TITLE);
            add(field("display_name"), weight::TITLE);
            add(field("nip05"), weight::SUMMARY);
            add(field("about"), weight::CONTENT);
        }
    } else {
        add(&event.content, weight::CONTENT);
    }
    out
}

/// Whether every query word begins one of `event`'s searchable words. An empty query
/// matches nothing: there is nothing to rank by.
pub fn matches(event: &Event, query: &[String]) -> bool {
    score(event, query).is_some()
}

/// An event's relevance to a query it matches (0 when it does not): the weights of the words
/// the query names whole, and half those it only begins.
pub fn relevance(event: &Event, query: &[String]) -> u32 {
    score(event, query).unwrap_or(0)
}

/// The relevance of `event` to `query`, or None when some query word begins none of its words;
/// the event's words are cut once for both answers.
pub fn score(event: &Event, query: &[String]) -> Option<u32> {
    if query.is_empty() {
        return None;
    }
    let have = indexed_words(event);
    let mut total = 0;
    for q in query {
        let best = have
            .iter()
            .filter(|(w, _)| w.starts_with(q.as_str()))
            .map(|(w, weight)| u32::from(*weight) * if w == q { 2 } else { 1 })
            .max()?;
        total += best;
    }
    Some(total)
}

#[cfg(test)]
mod tests {
    use super::*;
    use nostr::prelude::{EventBuilder, FinalizeEvent as _, Keys, Kind, Tag};
    use proptest::prelude::*;

    fn event(kind: u16, content: &str, tags: &[&[&str]]) -> Event {
        EventBuilder::new(Kind::from(kind), content)
            .tags(tags.iter().map(|t| Tag::parse(t.iter().copied()).unwrap()))
            .finalize(&Keys::generate())
            .unwrap()
    }

    #[test]
    fn words_are_lowercased_runs_of_letters_and_digits() {
        let w: Vec<String> =
            words("Hello, wörld! a 42 x-ray é DEADBEEFDEADBEEFDEADBEEFDEADBEEF").collect();
        assert_eq!(w, ["hello", "wörld", "42", "ray"]);
        assert_eq!(query_words("Mod mod author:abc  maps"), ["mod", "maps"]);
    }

    #[test]
    fn titles_weigh_more_than_content_and_profiles_are_read_as_json() {
        let e = event(
            30023,
            "maps of the sea",
            &[&["title", "Sea Maps"], &["summary", "charts"]],
        );
        let w = indexed_words(&e);
        assert!(w.contains(&("sea".into(), weight::TITLE + weight::CONTENT)));
        assert!(w.contains(&("charts".into(), weight::SUMMARY)));
        let p = event(
            0,
            r#"{"name":"Ann","about":"draws maps","picture":"https://x.example/a.png"}"#,
            &[],
        );
        let w = indexed_words(&p);
        assert!(w.contains(&("ann".into(), weight::TITLE)));
        assert!(
            w.iter().all(|(w, _)| w != "picture" && w != "https"),
            "{w:?}"
        );
        assert!(indexed_words(&event(7, "plus", &[])).is_empty());
        assert!(indexed_words(&event(4, "ciphertext words", &[])).is_empty());
    }

    #[test]
    fn query_words_begin_words_of_the_event() {
        let e = event(1, "Open mods for the river game", &[]);
        let q = |s: &str| query_words(s);
        assert!(matches(&e, &q("mod river")));
        assert!(matches(&e, &q("RIVER")));
        assert!(!matches(&e, &q("ods")), "only the beginnings of words");
        assert!(!matches(&e, &q("mod lake")));
        assert!(!matches(&e, &q("")));
        assert!(relevance(&e, &q("river")) > relevance(&e, &q("riv")));
    }

    proptest! {
        #![proptest_config(ProptestConfig {
            rng_seed: proptest::test_runner::RngSeed::Fixed(0x5eed),
            failure_persistence: None,
            ..ProptestConfig::default()
        })]
        /// Any text: every indexed word is within bounds, and every word of a query made from
        /// the text's own words matches it.
        #[test]
        fn any_text_is_found_by_its_own_words(text in "\\PC{0,300}") {
            let e = event(1, &text, &[]);
            let indexed = indexed_words(&e);
            prop_assert!(indexed.len() <= MAX_WORDS_PER_EVENT);
            for (w, _) in &indexed {
                prop_assert!(w.len() <= MAX_WORD_BYTES && w.chars().count() >= MIN_WORD_CHARS);
            }
            let q: Vec<String> = indexed.iter().take(3).map(|(w, _)| w.clone()).collect();
            prop_assert_eq!(matches(&e, &q), !q.is_empty());
        }
    }
}
