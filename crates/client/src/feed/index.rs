//! The feed index: one JSON Nostr event per line, newest first, in a single-file torrent named
//! [`FEED_FILE`]. The format is in docs/dht.md.

use std::collections::BTreeMap;

use nostr::prelude::*;
use seedstr_proto::event::{address, kind_class, supersedes};
use seedstr_proto::kind::KindClass;
use seedstr_proto::Verified;

/// The name of the index file, and of its torrent.
pub const FEED_FILE: &str = "seedstr-feed.jsonl";
/// Most events an index holds: the newest ones.
pub const MAX_FEED_EVENTS: usize = 500;
/// Largest index a reader accepts (and a writer makes).
pub const MAX_FEED_BYTES: u64 = 4 * 1024 * 1024;

/// An index line the reader refused.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RefusedLine {
    /// The line's number (from 1).
    pub line: usize,
    /// The event id, when the line parsed far enough to have one.
    pub event_id: Option<String>,
    /// Why the line was refused.
    pub reason: String,
}

/// The events an index holds: per replaceable or addressable address only the newest, never
/// ephemeral ones, newest first, at most [`MAX_FEED_EVENTS`] and [`MAX_FEED_BYTES`].
pub fn select(events: impl IntoIterator<Item = Event>) -> Vec<Event> {
    let mut by_address: BTreeMap<String, Event> = BTreeMap::new();
    let mut regular: BTreeMap<EventId, Event> = BTreeMap::new();
    for e in events {
        match (kind_class(&e), address(&e)) {
            (KindClass::Ephemeral, _) => {}
            (_, Some(a)) => match by_address.get(&a) {
                Some(held) if !supersedes(&e, held) => {}
                _ => {
                    by_address.insert(a, e);
                }
            },
            (_, None) => {
                regular.insert(e.id, e);
            }
        }
    }
    let mut all: Vec<Event> = by_address
        .into_values()
        .chain(regular.into_values())
        .collect();
    // Newest first; equal times in id order so the same events give the same bytes.
    all.sort_by(|a, b| b.created_at.cmp(&a.created_at).then(a.id.cmp(&b.id)));
    all.truncate(MAX_FEED_EVENTS);
    let mut size = 0u64;
    let keep = all
        .iter()
        .take_while(|e| {
            size += e.as_json().len() as u64 + 1;
            size <= MAX_FEED_BYTES
        })
        .count();
    all.truncate(keep);
    all
}

/// The index file's bytes.
pub fn encode(events: &[Event]) -> Vec<u8> {
    let mut out = Vec::new();
    for e in events {
        out.extend_from_slice(e.as_json().as_bytes());
        out.push(b'\n');
    }
    out
}

/// The events of an index that `author` signed, each checked (id, signature, author) before it
/// is returned; every other line is refused with its reason.
pub fn parse(bytes: &[u8], author: &PublicKey) -> (Vec<Verified>, Vec<RefusedLine>) {
    let mut events = Vec::new();
    let mut refused = Vec::new();
    for (n, line) in bytes.split(|b| *b == b'\n').enumerate() {
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let refuse = |event_id: Option<String>, reason: String| RefusedLine {
            line: n + 1,
            event_id,
            reason,
        };
        let event = match std::str::from_utf8(line)
            .map_err(|e| e.to_string())
            .and_then(|s| Event::from_json(s).map_err(|e| e.to_string()))
        {
            Ok(e) => e,
            Err(why) => {
                refused.push(refuse(None, format!("not a Nostr event: {why}")));
                continue;
            }
        };
        let id = Some(event.id.to_hex());
        match Verified::check(event) {
            Err(e) => refused.push(refuse(id, format!("bad id or signature: {e}"))),
            Ok(event) if event.pubkey != *author => refused.push(refuse(
                id,
                format!("signed by {}, not the feed's author", event.pubkey.to_hex()),
            )),
            Ok(event) => events.push(event),
        }
    }
    (events, refused)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(keys: &Keys, kind: u16, at: u64, d: Option<&str>, content: &str) -> Event {
        let mut b =
            EventBuilder::new(Kind::from(kind), content).custom_created_at(Timestamp::from(at));
        if let Some(d) = d {
            b = b.tag(Tag::identifier(d));
        }
        b.finalize(keys).unwrap()
    }

    #[test]
    fn only_the_newest_of_each_address_is_kept_newest_first() {
        let keys = Keys::generate();
        let old_profile = event(&keys, 0, 10, None, "old");
        let profile = event(&keys, 0, 20, None, "new");
        let r1 = event(&keys, 30079, 15, Some("generic.tool@1.0.0"), "");
        let r1_again = event(&keys, 30079, 12, Some("generic.tool@1.0.0"), "older copy");
        let r2 = event(&keys, 30079, 30, Some("generic.tool@1.1.0"), "");
        let note = event(&keys, 1, 5, None, "hello");
        let ephemeral = event(&keys, 20001, 40, None, "gone");
        let picked = select(vec![
            old_profile,
            r1_again,
            profile.clone(),
            r1.clone(),
            r2.clone(),
            note.clone(),
            ephemeral,
        ]);
        assert_eq!(picked, vec![r2, profile, r1, note]);
        let bytes = encode(&picked);
        let (back, refused) = parse(&bytes, &keys.public_key());
        assert_eq!(back, picked);
        assert!(refused.is_empty());
    }

    #[test]
    fn the_index_is_capped() {
        let keys = Keys::generate();
        let many: Vec<Event> = (0..MAX_FEED_EVENTS as u64 + 5)
            .map(|i| event(&keys, 1, i, None, "x"))
            .collect();
        let picked = select(many);
        assert_eq!(picked.len(), MAX_FEED_EVENTS);
        assert_eq!(picked[0].created_at.as_secs(), MAX_FEED_EVENTS as u64 + 4);
        let big = "y".repeat(100_000);
        let large: Vec<Event> = (0..60).map(|i| event(&keys, 1, i, None, &big)).collect();
        let picked = select(large);
        assert!(encode(&picked).len() as u64 <= MAX_FEED_BYTES);
        assert_eq!(picked.len(), 41);
    }

    #[test]
    fn foreign_forged_and_malformed_lines_are_refused_by_line() {
        let keys = Keys::generate();
        let good = event(&keys, 1, 1, None, "mine");
        let foreign = event(&Keys::generate(), 1, 2, None, "theirs");
        let forged = good.as_json().replace("mine", "MINE");
        let text = format!(
            "{}\n{}\n{forged}\nnot json\n\n",
            good.as_json(),
            foreign.as_json()
        );
        let (events, refused) = parse(text.as_bytes(), &keys.public_key());
        assert_eq!(events, vec![good.clone()]);
        let lines: Vec<usize> = refused.iter().map(|r| r.line).collect();
        assert_eq!(lines, vec![2, 3, 4], "{refused:?}");
        assert!(refused[0].reason.contains("not the feed's author"));
        assert_eq!(refused[1].event_id, Some(good.id.to_hex()));
        assert!(refused[1].reason.contains("signature"), "{refused:?}");
        assert!(refused[2].reason.starts_with("not a Nostr event"));
    }
}
