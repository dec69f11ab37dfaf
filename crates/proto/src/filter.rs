//! NIP-01 filters, parsed strictly: every malformed field is an error that names it.
//!
//! Unlike `nostr::Filter`, an empty list matches nothing (a client that asks for no ids gets no
//! events), and tag values are kept sorted so matching a live event is a binary search.

use nostr::prelude::Event;
use serde_json::{Map, Value};

/// Why a filter was refused: which field, and what is wrong with it.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("filter {field}: {problem}")]
pub struct FilterError {
    /// The field.
    pub field: String,
    /// What is wrong with it.
    pub problem: String,
}

fn err(field: &str, problem: impl Into<String>) -> FilterError {
    FilterError {
        field: field.to_string(),
        problem: problem.into(),
    }
}

/// A NIP-01 filter, checked and normalized.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    /// Sorted event ids.
    pub ids: Option<Vec<[u8; 32]>>,
    /// Sorted author public keys.
    pub authors: Option<Vec<[u8; 32]>>,
    /// Sorted kinds.
    pub kinds: Option<Vec<u16>>,
    /// Tag filters by letter, each with sorted values; every letter must match.
    pub tags: Vec<(u8, Vec<String>)>,
    /// Events at or after this Unix time.
    pub since: Option<u64>,
    /// Events at or before this Unix time.
    pub until: Option<u64>,
    /// At most this many events, newest first.
    pub limit: Option<usize>,
    /// NIP-50 full-text search: the query as sent. Only a relay that offers search answers
    /// such a filter; a store never sees one.
    pub search: Option<String>,
}

/// The longest NIP-50 search query taken.
pub const MAX_SEARCH_BYTES: usize = 256;

/// The words of a NIP-50 query, lowercased: what every match must contain. NIP-50's
/// `key:value` extensions are left out (none is supported).
pub fn search_terms(query: &str) -> Vec<String> {
    query
        .split_whitespace()
        .filter(|w| !w.contains(':'))
        .map(str::to_lowercase)
        .collect()
}

/// Whether `haystack` (already lowercased) holds every term.
pub fn holds_terms(haystack: &str, terms: &[String]) -> bool {
    terms.iter().all(|t| haystack.contains(t.as_str()))
}

fn parse_hex32(field: &str, v: &Value) -> Result<[u8; 32], FilterError> {
    let s = v
        .as_str()
        .ok_or_else(|| err(field, "every entry must be a string"))?;
    if s.len() != 64
        || !s
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    {
        return Err(err(
            field,
            format!("{s:?} is not 64 lowercase hex characters"),
        ));
    }
    let mut out = [0u8; 32];
    hex::decode_to_slice(s, &mut out).map_err(|e| err(field, e.to_string()))?;
    Ok(out)
}

fn array<'a>(field: &str, v: &'a Value) -> Result<&'a Vec<Value>, FilterError> {
    v.as_array().ok_or_else(|| err(field, "must be an array"))
}

fn timestamp(field: &str, v: &Value) -> Result<u64, FilterError> {
    v.as_u64()
        .ok_or_else(|| err(field, "must be a non-negative integer"))
}

impl Filter {
    /// A filter for exactly these event ids (sorted here, as matching requires).
    pub fn for_ids(ids: impl IntoIterator<Item = [u8; 32]>) -> Filter {
        let mut ids: Vec<[u8; 32]> = ids.into_iter().collect();
        ids.sort_unstable();
        ids.dedup();
        Filter {
            ids: Some(ids),
            ..Filter::default()
        }
    }

    /// Reads a filter from its JSON, refusing what NIP-01 does not allow.
    pub fn parse(value: &Value) -> Result<Filter, FilterError> {
        let map: &Map<String, Value> = value
            .as_object()
            .ok_or_else(|| err("", "a filter must be a JSON object"))?;
        let mut f = Filter::default();
        for (key, v) in map {
            match key.as_str() {
                "ids" | "authors" => {
                    let mut list = array(key, v)?
                        .iter()
                        .map(|x| parse_hex32(key, x))
                        .collect::<Result<Vec<_>, _>>()?;
                    list.sort_unstable();
                    list.dedup();
                    if key == "ids" {
                        f.ids = Some(list);
                    } else {
                        f.authors = Some(list);
                    }
                }
                "kinds" => {
                    let mut list = array(key, v)?
                        .iter()
                        .map(|x| {
                            x.as_u64()
                                .and_then(|k| u16::try_from(k).ok())
                                .ok_or_else(|| err(key, format!("{x} is not a kind (0–65535)")))
                        })
                        .collect::<Result<Vec<_>, _>>()?;
                    list.sort_unstable();
                    list.dedup();
                    f.kinds = Some(list);
                }
                "since" => f.since = Some(timestamp(key, v)?),
                "until" => f.until = Some(timestamp(key, v)?),
                "limit" => {
                    f.limit = Some(
                        v.as_u64()
                            .ok_or_else(|| err(key, "must be a non-negative integer"))?
                            as usize,
                    )
                }
                "search" => {
                    let q = v.as_str().ok_or_else(|| err(key, "must be a string"))?;
                    if q.len() > MAX_SEARCH_BYTES {
                        return Err(err(
                            key,
                            format!("{} bytes, over the {MAX_SEARCH_BYTES}-byte cap", q.len()),
                        ));
                    }
                    f.search = Some(q.to_owned());
                }
                _ => {
                    let letter = match key.as_bytes() {
                        [b'#', l] if l.is_ascii_alphabetic() => *l,
                        _ => return Err(err(key, "unknown filter field")),
                    };
                    let mut values = array(key, v)?
                        .iter()
                        .map(|x| {
                            x.as_str()
                                .map(str::to_owned)
                                .ok_or_else(|| err(key, "every entry must be a string"))
                        })
                        .collect::<Result<Vec<_>, _>>()?;
                    values.sort_unstable();
                    values.dedup();
                    f.tags.push((letter, values));
                }
            }
        }
        f.tags.sort_unstable_by_key(|(l, _)| *l);
        Ok(f)
    }

    /// True when no event can match (an empty list, or `since` after `until`). `limit: 0` is
    /// not void: it asks for no stored events but still matches new ones.
    pub fn is_void(&self) -> bool {
        self.ids.as_ref().is_some_and(Vec::is_empty)
            || self.authors.as_ref().is_some_and(Vec::is_empty)
            || self.kinds.as_ref().is_some_and(Vec::is_empty)
            || self.tags.iter().any(|(_, v)| v.is_empty())
            || matches!((self.since, self.until), (Some(s), Some(u)) if s > u)
    }

    /// Whether `event` matches every condition.
    pub fn matches(&self, event: &Event) -> bool {
        if let Some(ids) = &self.ids {
            if ids.binary_search(event.id.as_bytes()).is_err() {
                return false;
            }
        }
        if let Some(authors) = &self.authors {
            if authors.binary_search(event.pubkey.as_bytes()).is_err() {
                return false;
            }
        }
        if let Some(kinds) = &self.kinds {
            if kinds.binary_search(&event.kind.as_u16()).is_err() {
                return false;
            }
        }
        let at = event.created_at.as_secs();
        if self.since.is_some_and(|s| at < s) || self.until.is_some_and(|u| at > u) {
            return false;
        }
        if let Some(q) = &self.search {
            if !crate::search::matches(event, &crate::search::query_words(q)) {
                return false;
            }
        }
        self.tags.iter().all(|(letter, values)| {
            event.tags.iter().any(|t| {
                let s = t.as_slice();
                s.len() >= 2
                    && s[0].len() == 1
                    && s[0].as_bytes()[0] == *letter
                    && values.binary_search(&s[1]).is_ok()
            })
        })
    }

    /// The number of results to return for a stored query, bounded by the relay's maximum.
    /// This filter narrowed to events whose kind is also in `kinds` (sorted).
    pub fn within_kinds(&self, kinds: &[u16]) -> Filter {
        let mut f = self.clone();
        f.kinds = Some(match &self.kinds {
            None => kinds.to_vec(),
            Some(own) => own
                .iter()
                .copied()
                .filter(|k| kinds.binary_search(k).is_ok())
                .collect(),
        });
        f
    }

    /// This filter narrowed to one author.
    pub fn within_author(&self, author: &[u8; 32]) -> Filter {
        let mut f = self.clone();
        f.authors = Some(match &self.authors {
            Some(own) if own.binary_search(author).is_err() => Vec::new(),
            _ => vec![*author],
        });
        f
    }

    /// This filter narrowed to events that also carry tag `letter` with `value`.
    pub fn within_tag(&self, letter: u8, value: &str) -> Filter {
        let mut f = self.clone();
        match f.tags.iter_mut().find(|(l, _)| *l == letter) {
            Some((_, values)) => values.retain(|v| v == value),
            None => {
                f.tags.push((letter, vec![value.to_string()]));
                f.tags.sort_unstable_by_key(|(l, _)| *l);
            }
        }
        f
    }

    /// The limit to apply: the filter's, capped at `max`.
    pub fn effective_limit(&self, max: usize) -> usize {
        self.limit.map_or(max, |l| l.min(max))
    }

    /// Filter as NIP-01 JSON (for sending to other relays).
    pub fn to_json(&self) -> Value {
        let mut m = Map::new();
        let hexes = |l: &Vec<[u8; 32]>| Value::from(l.iter().map(hex::encode).collect::<Vec<_>>());
        if let Some(ids) = &self.ids {
            m.insert("ids".into(), hexes(ids));
        }
        if let Some(authors) = &self.authors {
            m.insert("authors".into(), hexes(authors));
        }
        if let Some(kinds) = &self.kinds {
            m.insert("kinds".into(), Value::from(kinds.clone()));
        }
        for (letter, values) in &self.tags {
            m.insert(format!("#{}", *letter as char), Value::from(values.clone()));
        }
        if let Some(s) = self.since {
            m.insert("since".into(), s.into());
        }
        if let Some(u) = self.until {
            m.insert("until".into(), u.into());
        }
        if let Some(q) = &self.search {
            m.insert("search".into(), q.clone().into());
        }
        if let Some(l) = self.limit {
            m.insert("limit".into(), l.into());
        }
        Value::Object(m)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use nostr::prelude::{EventBuilder, FinalizeEvent, Keys, Kind, Tag, Timestamp};
    use serde_json::json;

    fn note(keys: &Keys, kind: u16, at: u64, tags: &[[&str; 2]]) -> Event {
        EventBuilder::new(Kind::from(kind), "x")
            .tags(tags.iter().map(|t| Tag::parse(*t).unwrap()))
            .custom_created_at(Timestamp::from_secs(at))
            .finalize(keys)
            .unwrap()
    }

    #[test]
    fn every_field_matches() {
        let k = Keys::generate();
        let e = note(&k, 7, 100, &[["e", "abc"], ["t", "mods"]]);
        let pk = k.public_key().to_hex();
        let yes = [
            json!({}),
            json!({"ids": [e.id.to_hex()]}),
            json!({"authors": [pk]}),
            json!({"kinds": [1, 7]}),
            json!({"since": 100, "until": 100}),
            json!({"#e": ["zzz", "abc"], "#t": ["mods"]}),
        ];
        for f in yes {
            assert!(Filter::parse(&f).unwrap().matches(&e), "{f}");
        }
        let no = [
            json!({"ids": ["00".repeat(32)]}),
            json!({"kinds": [1]}),
            json!({"since": 101}),
            json!({"until": 99}),
            json!({"#e": ["abc"], "#t": ["other"]}),
            json!({"#p": ["abc"]}),
        ];
        for f in no {
            assert!(!Filter::parse(&f).unwrap().matches(&e), "{f}");
        }
    }

    #[test]
    fn malformed_fields_are_named() {
        let cases = [
            (json!({"ids": ["xyz"]}), "ids"),
            (json!({"authors": "abc"}), "authors"),
            (json!({"kinds": [70000]}), "kinds"),
            (json!({"since": -1}), "since"),
            (json!({"limit": "ten"}), "limit"),
            (json!({"#e": [1]}), "#e"),
            (json!({"bogus": 1}), "bogus"),
            (json!({"search": 3}), "search"),
            (
                json!({"search": "x".repeat(MAX_SEARCH_BYTES + 1)}),
                "search",
            ),
        ];
        for (f, field) in cases {
            assert_eq!(Filter::parse(&f).unwrap_err().field, field, "{f}");
        }
        assert!(Filter::parse(&json!([1])).is_err());
    }

    #[test]
    fn search_matches_every_word_of_the_query_in_any_case() {
        let keys = nostr::prelude::Keys::generate();
        use nostr::prelude::FinalizeEvent as _;
        let e = nostr::prelude::EventBuilder::new(
            nostr::prelude::Kind::Metadata,
            r#"{"name":"Ann Lee","about":"Mods and maps"}"#,
        )
        .finalize(&keys)
        .unwrap();
        let f = |q: &str| Filter::parse(&json!({"search": q})).unwrap();
        assert!(f("ann MAPS").matches(&e));
        assert!(f("lee include:spam").matches(&e), "extensions are left out");
        assert!(!f("ann bob").matches(&e));
        assert_eq!(f("ann").to_json()["search"], "ann");
    }

    #[test]
    fn empty_lists_match_nothing() {
        assert!(Filter::parse(&json!({"ids": []})).unwrap().is_void());
        assert!(Filter::parse(&json!({"since": 5, "until": 4}))
            .unwrap()
            .is_void());
        assert!(!Filter::parse(&json!({"kinds": [1]})).unwrap().is_void());
        assert!(!Filter::parse(&json!({"kinds": [1], "limit": 0}))
            .unwrap()
            .is_void());
    }

    #[test]
    fn narrowing_intersects() {
        let f = Filter::parse(&json!({"kinds": [1, 4], "#p": ["a", "b"]})).unwrap();
        assert_eq!(f.within_kinds(&[4, 1059]).kinds, Some(vec![4]));
        assert_eq!(
            Filter::default().within_kinds(&[4, 1059]).kinds,
            Some(vec![4, 1059])
        );
        assert_eq!(
            f.within_tag(b'p', "b").tags,
            vec![(b'p', vec!["b".to_string()])]
        );
        assert!(f.within_tag(b'p', "c").is_void());
        assert_eq!(f.within_tag(b'e', "x").tags.len(), 2);
        let me = [7u8; 32];
        assert_eq!(f.within_author(&me).authors, Some(vec![me]));
        let other = Filter::parse(&json!({"authors": ["ab".repeat(32)]})).unwrap();
        assert!(other.within_author(&me).is_void());
    }

    #[test]
    fn round_trips_to_json() {
        let f = json!({"authors": ["ab".repeat(32)], "kinds": [1], "#t": ["a"], "since": 1, "until": 2, "limit": 3});
        assert_eq!(Filter::parse(&f).unwrap().to_json(), f);
    }
}
