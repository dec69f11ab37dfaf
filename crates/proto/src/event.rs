//! Parsing, verification and the few tag readings the relay needs.

use nostr::prelude::Event;

use crate::kind::KindClass;
use crate::verified::Verified;

/// Why an event from outside was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum EventError {
    /// Not an event's JSON.
    #[error("malformed event JSON: {0}")]
    Malformed(String),
    /// The id is not the hash of the content.
    #[error("event id does not match its content")]
    BadId,
    /// The signature does not verify.
    #[error("signature does not verify")]
    BadSignature,
}

/// Parses an event and checks its id and BIP-340 signature.
pub fn parse_event(json: &str) -> Result<Event, EventError> {
    parse_verified(json).map(Verified::into_event)
}

/// [`parse_event`], keeping the proof of the check in the type.
pub fn parse_verified(json: &str) -> Result<Verified, EventError> {
    let event = Event::from_json(json).map_err(|e| EventError::Malformed(e.to_string()))?;
    Verified::check(event)
}

/// First value of the first tag named `name`.
pub fn first_tag_value<'a>(event: &'a Event, name: &str) -> Option<&'a str> {
    event.tags.iter().find_map(|t| {
        let s = t.as_slice();
        (s.len() >= 2 && s[0] == name).then(|| s[1].as_str())
    })
}

/// The `d` value of an addressable event; a missing tag counts as the empty string (NIP-01).
pub fn d_tag(event: &Event) -> &str {
    first_tag_value(event, "d").unwrap_or("")
}

/// NIP-40 expiration timestamp, if the event carries a well-formed one.
pub fn expiration(event: &Event) -> Option<u64> {
    first_tag_value(event, "expiration").and_then(|v| v.parse().ok())
}

/// NIP-70: a `["-"]` tag means only the author may publish the event.
pub fn is_protected(event: &Event) -> bool {
    event.tags.iter().any(|t| {
        let s = t.as_slice();
        s.len() == 1 && s[0] == "-"
    })
}

/// Whether `event` is regular, replaceable, ephemeral or addressable.
pub fn kind_class(event: &Event) -> KindClass {
    KindClass::of(event.kind.as_u16())
}

/// The address (`kind:pubkey:d`) under which a replaceable or addressable event replaces others.
pub fn address(event: &Event) -> Option<String> {
    match kind_class(event) {
        KindClass::Replaceable => Some(format!("{}:{}:", event.kind.as_u16(), event.pubkey)),
        KindClass::Addressable => Some(format!(
            "{}:{}:{}",
            event.kind.as_u16(),
            event.pubkey,
            d_tag(event)
        )),
        _ => None,
    }
}

/// NIP-01 ordering of two versions of one replaceable event: is `a` newer than `b`?
/// Same `created_at`: the lowest id wins.
pub fn supersedes(a: &Event, b: &Event) -> bool {
    supersedes_parts(
        a.created_at.as_secs(),
        a.id.as_bytes(),
        b.created_at.as_secs(),
        b.id.as_bytes(),
    )
}

/// NIP-01 ordering by parts: is the version at `a_at` with id `a_id` newer than the one at
/// `b_at` with `b_id`? Same time: the lowest id wins.
pub fn supersedes_parts(a_at: u64, a_id: &[u8; 32], b_at: u64, b_id: &[u8; 32]) -> bool {
    a_at > b_at || (a_at == b_at && a_id < b_id)
}

/// How far ahead of the reader's clock an event may be dated and still count: as far as relays
/// accept by default (NIP-22's usual 15 minutes). An event dated further ahead would, once
/// chosen, stay the newest at its address until its date (a fast-forward); readers set it
/// aside until then.
pub const MAX_FUTURE_SECS: u64 = 900;

/// Of verified events merged from several relays, the current version at each address (NIP-01
/// order, as a relay keeps them); events of other classes pass through. Order follows first
/// appearance. Events dated more than [`MAX_FUTURE_SECS`] past the clock are set aside. Taking
/// only [`Verified`] events is the rule "verify, then select": a forged newer version cannot
/// displace the real one, because it never gets here.
pub fn newest_by_address<'e>(events: impl IntoIterator<Item = &'e Verified>) -> Vec<&'e Verified> {
    newest_by_address_at(events, crate::clock::unix_now())
}

/// The one-at-a-time form of [`newest_by_address_at`], for events that arrive as a stream (a
/// live subscription): whether `candidate` takes the place of `held`, the current event at its
/// address so far (if any), as of `now`. The same rule: NIP-01 order, dates far ahead set aside.
pub fn replaces_at(candidate: &Verified, held: Option<&Event>, now: u64) -> bool {
    candidate.created_at.as_secs() <= now.saturating_add(MAX_FUTURE_SECS)
        && held.is_none_or(|h| supersedes(candidate, h))
}

/// [`newest_by_address`] with the clock passed in.
pub fn newest_by_address_at<'e>(
    events: impl IntoIterator<Item = &'e Verified>,
    now: u64,
) -> Vec<&'e Verified> {
    let mut out: Vec<&Verified> = Vec::new();
    let mut at: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    let latest = now.saturating_add(MAX_FUTURE_SECS);
    for e in events
        .into_iter()
        .filter(|e| e.created_at.as_secs() <= latest)
    {
        match address(e) {
            None => out.push(e),
            Some(a) => match at.get(&a) {
                Some(&i) => {
                    if replaces_at(e, Some(out[i]), now) {
                        out[i] = e;
                    }
                }
                None => {
                    at.insert(a, out.len());
                    out.push(e);
                }
            },
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use nostr::prelude::*;

    #[test]
    fn newest_by_address_keeps_the_nip01_winner() {
        let keys = Keys::generate();
        let at = |secs: u64, content: &str| {
            EventBuilder::new(Kind::from(30_081), content)
                .tags([Tag::parse(["d", "x"]).unwrap()])
                .custom_created_at(Timestamp::from_secs(secs))
                .finalize(&keys)
                .unwrap()
        };
        let (old, new, tie) = (at(1, "old"), at(2, "new"), at(2, "tie"));
        let low = if new.id < tie.id { &new } else { &tie };
        let note = EventBuilder::new(Kind::from(1), "n")
            .finalize(&keys)
            .unwrap();
        let [old, new, note, tie] =
            [&old, &new, &note, &tie].map(|e| Verified::check(e.clone()).unwrap());
        let kept = newest_by_address([&old, &new, &note, &tie]);
        assert_eq!(kept.len(), 2);
        assert_eq!(kept[0].id, low.id, "a created_at tie goes to the lower id");
        assert_eq!(kept[1].id, note.id);
    }

    #[test]
    fn an_event_dated_far_ahead_is_set_aside_until_its_time() {
        let keys = Keys::generate();
        let at = |secs: u64| {
            EventBuilder::new(Kind::from(30_078), "")
                .tags([Tag::parse(["d", "p"]).unwrap()])
                .custom_created_at(Timestamp::from_secs(secs))
                .finalize(&keys)
                .unwrap()
        };
        let now = 1_800_000_000;
        let [real, near, far] = [at(now - 10), at(now + 600), at(now + 10 * 365 * 86_400)]
            .map(|e| Verified::check(e).unwrap());
        // Within the allowance, a slightly fast clock still counts; years ahead does not.
        assert_eq!(newest_by_address_at([&real, &far], now)[0].id, real.id);
        assert_eq!(newest_by_address_at([&real, &near], now)[0].id, near.id);
        assert_eq!(
            newest_by_address_at([&real, &far], now + 10 * 365 * 86_400)[0].id,
            far.id
        );
    }

    use proptest::prelude::{Strategy as _, *};

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig {
            rng_seed: proptest::test_runner::RngSeed::Fixed(0x5eed),
            failure_persistence: None,
            cases: 64,
            ..proptest::prelude::ProptestConfig::default()
        })]

        /// The current event at each address does not depend on the order relays answered in.
        #[test]
        fn selection_ignores_the_order_of_answers(
            shape in proptest::collection::vec((0usize..3, 0u64..4), 1..10)
                .prop_flat_map(|v| {
                    let n = v.len();
                    (proptest::strategy::Just(v), proptest::strategy::Just((0..n).collect::<Vec<_>>()).prop_shuffle())
                })
        ) {
            let (specs, order) = shape;
            let keys = Keys::parse("0000000000000000000000000000000000000000000000000000000000000003").unwrap();
            let events: Vec<Verified> = specs
                .iter()
                .enumerate()
                .map(|(i, (d, at))| {
                    EventBuilder::new(Kind::from(30_081), format!("{i}"))
                        .tags([Tag::parse(["d", &d.to_string()]).unwrap()])
                        .custom_created_at(Timestamp::from_secs(1_000 + at))
                        .finalize(&keys)
                        .unwrap()
                })
                .map(|e| Verified::check(e).unwrap())
                .collect();
            let winners = |evs: Vec<&Verified>| {
                let mut ids: Vec<EventId> = newest_by_address_at(evs, 2_000).iter().map(|e| e.id).collect();
                ids.sort();
                ids
            };
            let shuffled: Vec<&Verified> = order.iter().map(|&i| &events[i]).collect();
            prop_assert_eq!(winners(events.iter().collect()), winners(shuffled.clone()));
            // One event at a time (a live subscription) ends where the batch rule does.
            let mut held: std::collections::HashMap<String, &Verified> = Default::default();
            for e in shuffled {
                let a = address(e).unwrap();
                if replaces_at(e, held.get(&a).map(|h| h.event()), 2_000) {
                    held.insert(a, e);
                }
            }
            let mut streamed: Vec<EventId> = held.values().map(|e| e.id).collect();
            streamed.sort();
            prop_assert_eq!(streamed, winners(events.iter().collect()));
        }
    }

    fn signed(kind: u16, tags: Vec<Tag>) -> Event {
        let keys = Keys::generate();
        EventBuilder::new(Kind::from(kind), "hi")
            .tags(tags)
            .custom_created_at(Timestamp::from_secs(1_700_000_000))
            .finalize(&keys)
            .unwrap()
    }

    #[test]
    fn parses_and_verifies() {
        let e = signed(1, vec![]);
        assert_eq!(parse_event(&e.as_json()).unwrap(), e);
    }

    #[test]
    fn rejects_tampered_content_and_signature() {
        let e = signed(1, vec![]);
        let tampered = e.as_json().replace("\"hi\"", "\"ho\"");
        assert_eq!(parse_event(&tampered), Err(EventError::BadId));
        let sig = e.sig.to_string();
        let mut other = sig.clone().into_bytes();
        other[10] = if other[10] == b'0' { b'1' } else { b'0' };
        let bad = e
            .as_json()
            .replace(&sig, std::str::from_utf8(&other).unwrap());
        assert_eq!(parse_event(&bad), Err(EventError::BadSignature));
        assert!(matches!(
            parse_event("{\"id\":1}"),
            Err(EventError::Malformed(_))
        ));
    }

    #[test]
    fn reads_tags() {
        let e = signed(
            30_079,
            vec![
                Tag::parse(["d", "skyrim-se.foo@1.0.0"]).unwrap(),
                Tag::parse(["expiration", "1800000000"]).unwrap(),
                Tag::parse(["-"]).unwrap(),
            ],
        );
        assert_eq!(d_tag(&e), "skyrim-se.foo@1.0.0");
        assert_eq!(expiration(&e), Some(1_800_000_000));
        assert!(is_protected(&e));
        assert_eq!(
            address(&e).unwrap(),
            format!("30079:{}:skyrim-se.foo@1.0.0", e.pubkey)
        );
        let plain = signed(30_000, vec![]);
        assert_eq!(d_tag(&plain), "");
        assert!(!is_protected(&plain));
    }

    #[test]
    fn tie_goes_to_lowest_id() {
        let low = [1u8; 32];
        let high = [2u8; 32];
        assert!(supersedes_parts(10, &low, 10, &high));
        assert!(!supersedes_parts(10, &high, 10, &low));
        assert!(supersedes_parts(11, &high, 10, &low));
    }
}
