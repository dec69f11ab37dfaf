//! NIP-50 search over the store's word index, the same way in both backends: the query word
//! with the fewest postings drives; its newest postings are read (every indexed word that it
//! begins, up to [`MAX_EXPANSIONS`] of them), each candidate is checked against the whole
//! filter, and the newest [`CANDIDATES`] matches are ranked by relevance, then recency.
//! Words and relevance follow [`seedstr_proto::search`].

use std::cmp::Reverse;

use seedstr_proto::{search, Event, Filter};

use crate::StoredEvent;

/// The most postings of the driving word read by one search, with the index lookups that
/// check its other words counted in: the bound on its work.
pub const MAX_POSTINGS: usize = 20_000;
/// The newest matches ranked; older ones are not looked at once this many are found.
pub const CANDIDATES: usize = 500;
/// Postings counted per query word to find the rarest one.
pub const SAMPLE: usize = 1_000;
/// The most indexed words one query word stands for as a beginning ("mod": mod, mods, …).
pub const MAX_EXPANSIONS: usize = 64;

/// A search ready to run: its words and the filter's other conditions.
pub(crate) struct SearchPlan {
    /// The query's words; empty when it has none (then nothing matches).
    pub words: Vec<String>,
    /// The filter without `search` and `limit`.
    pub rest: Filter,
    /// Results wanted.
    pub limit: usize,
}

impl SearchPlan {
    pub fn new(filter: &Filter, limit: usize) -> SearchPlan {
        let words = search::query_words(filter.search.as_deref().unwrap_or_default());
        let mut rest = filter.clone();
        rest.search = None;
        rest.limit = None;
        SearchPlan { words, rest, limit }
    }

    /// The candidate's relevance when it matches the whole filter.
    pub fn relevance(&self, event: &Event) -> Option<u32> {
        if !self.rest.matches(event) {
            return None;
        }
        search::score(event, &self.words)
    }
}

/// The range of index words a query word begins: from the word itself to just past every
/// word it begins (no UTF-8 text holds the byte 0xff).
pub(crate) fn prefix_bounds(word: &str) -> (Vec<u8>, Vec<u8>) {
    let lo = word.as_bytes().to_vec();
    let mut hi = lo.clone();
    hi.push(0xff);
    (lo, hi)
}

/// The ranked answer: highest relevance first, then newest, then lowest id.
pub(crate) fn rank(mut found: Vec<(u32, StoredEvent)>, limit: usize) -> Vec<StoredEvent> {
    found.sort_unstable_by_key(|(score, e)| (Reverse(*score), Reverse(e.created_at), e.id));
    found.truncate(limit);
    found.into_iter().map(|(_, e)| e).collect()
}
