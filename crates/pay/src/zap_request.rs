//! Zap requests (NIP-57 kind 9734): made by the payer, sent to the recipient's LNURL callback
//! (never published), and checked there as Appendix D says before an invoice is issued.

use nostr::prelude::{
    Event, EventBuilder, EventId, FinalizeEvent as _, Keys, Kind, PublicKey, Tag,
};
use serde::Serialize;

/// NIP-57's zap request kind.
pub const ZAP_REQUEST_KIND: u16 = 9734;
/// The longest zap request read (its JSON), before any parsing.
pub const MAX_ZAP_REQUEST_BYTES: usize = 16 * 1024;
/// The longest comment a request carries.
pub const MAX_COMMENT_BYTES: usize = 2_048;
/// The most relays a receipt is sent to.
pub const MAX_RECEIPT_RELAYS: usize = 16;

/// Why a zap request is refused; each names the rule it breaks.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ZapRequestError {
    /// Over the cap.
    #[error("the zap request has {0} bytes, over the {MAX_ZAP_REQUEST_BYTES}-byte cap")]
    TooLong(usize),
    /// Not an event.
    #[error("the zap request is not a Nostr event: {0}")]
    NotAnEvent(String),
    /// Appendix D 1.
    #[error("the zap request's id or signature does not verify")]
    BadSignature,
    /// Not kind 9734.
    #[error("the zap request is kind {0}, not 9734")]
    WrongKind(u16),
    /// Appendix D 2.
    #[error("the zap request has no tags")]
    NoTags,
    /// Appendix D 3.
    #[error("the zap request has {0} p tags; it must have exactly one (the recipient)")]
    Recipients(usize),
    /// Appendix D 4.
    #[error("the zap request has {0} e tags; it may have at most one")]
    Events(usize),
    /// Appendix D 5 (required here: the receipt must go somewhere).
    #[error("the zap request names no relay (ws:// or wss://) to send the receipt to")]
    NoRelays,
    /// Appendix D 6.
    #[error("the zap request's amount tag says {tag} msat but {query} msat were asked for")]
    AmountMismatch {
        /// The tag's amount.
        tag: String,
        /// The query's.
        query: u64,
    },
    /// Appendix D 7.
    #[error("the zap request's a tag {0:?} is not an event coordinate (kind:pubkey:d)")]
    BadAddress(String),
    /// Appendix D 8.
    #[error("the zap request's P tag must be at most one and name its sender")]
    BadSender,
    /// A tag names a key or id that is not one.
    #[error("the zap request's {0} tag is not 64 hex characters")]
    BadTag(&'static str),
    /// The comment is over its cap.
    #[error("the zap comment has {0} bytes, over the {MAX_COMMENT_BYTES}-byte cap")]
    CommentTooLong(usize),
}

/// What is zapped: a person, or one of their events (by id or by address).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ZapTarget {
    /// An event (NIP-57 `e`).
    pub event: Option<EventId>,
    /// An addressable event's coordinate (`a`: `kind:pubkey:d`), such as a release.
    pub address: Option<String>,
}

/// A zap request that passed Appendix D.
#[derive(Debug, Clone, Serialize)]
pub struct ZapRequest {
    /// The request itself, as signed.
    #[serde(skip)]
    pub event: Event,
    /// Its JSON exactly as received: what an invoice's description hash commits to and what a
    /// receipt's `description` carries (a re-serialization may order keys otherwise).
    #[serde(skip)]
    pub json: String,
    /// Who pays.
    pub sender: PublicKey,
    /// Who is paid (`p`).
    pub recipient: PublicKey,
    /// What is zapped.
    pub target: ZapTarget,
    /// The amount the sender says they pay, in millisatoshis (`amount`), if given.
    pub amount_msat: Option<u64>,
    /// Where the receipt goes (`relays`), WebSocket addresses only.
    pub relays: Vec<String>,
    /// The recipient's LNURL, as the sender knew it (`lnurl`), if given.
    pub lnurl: Option<String>,
    /// The comment (the content).
    pub comment: String,
}

/// Whether `a` is an event coordinate: `<kind>:<64 hex>:<d>`.
pub fn is_coordinate(a: &str) -> bool {
    let mut parts = a.splitn(3, ':');
    let (Some(kind), Some(key), Some(_)) = (parts.next(), parts.next(), parts.next()) else {
        return false;
    };
    kind.parse::<u16>().is_ok() && key.len() == 64 && PublicKey::from_hex(key).is_ok()
}

/// Signs a zap request from `sender` to `recipient` for `amount_msat` (sent as both the `amount`
/// tag and the callback's query), its receipt to go to `relays`.
pub fn make_zap_request(
    sender: &Keys,
    recipient: PublicKey,
    target: &ZapTarget,
    amount_msat: u64,
    relays: &[String],
    lnurl: Option<&str>,
    comment: &str,
) -> Result<Event, ZapRequestError> {
    if comment.len() > MAX_COMMENT_BYTES {
        return Err(ZapRequestError::CommentTooLong(comment.len()));
    }
    let relays: Vec<&String> = relays
        .iter()
        .filter(|r| r.starts_with("ws://") || r.starts_with("wss://"))
        .take(MAX_RECEIPT_RELAYS)
        .collect();
    if relays.is_empty() {
        return Err(ZapRequestError::NoRelays);
    }
    let mut relays_tag = vec!["relays".to_owned()];
    relays_tag.extend(relays.into_iter().cloned());
    let mut tags = vec![
        Tag::parse(relays_tag).expect("a valid tag"),
        Tag::parse(["amount", &amount_msat.to_string()]).expect("a valid tag"),
        Tag::public_key(recipient),
    ];
    if let Some(l) = lnurl {
        tags.push(Tag::parse(["lnurl", l]).expect("a valid tag"));
    }
    if let Some(e) = target.event {
        tags.push(Tag::event(e));
    }
    if let Some(a) = &target.address {
        if !is_coordinate(a) {
            return Err(ZapRequestError::BadAddress(a.clone()));
        }
        tags.push(Tag::parse(["a", a]).expect("a valid tag"));
    }
    EventBuilder::new(Kind::from(ZAP_REQUEST_KIND), comment)
        .tags(tags)
        .finalize(sender)
        .map_err(|e| ZapRequestError::NotAnEvent(e.to_string()))
}

/// Checks the zap request `json` that came with a callback asking for `amount_query_msat`, as
/// NIP-57 Appendix D says (with the relays required and the caps above).
pub fn check_zap_request(
    json: &str,
    amount_query_msat: u64,
) -> Result<ZapRequest, ZapRequestError> {
    check_zap_request_json(json, Some(amount_query_msat))
}

/// [`check_zap_request`] with the amount optional (a request read back from a receipt or
/// from disk, whose amount was checked when it came); the JSON is kept exactly as given.
pub fn check_zap_request_json(
    json: &str,
    amount_query_msat: Option<u64>,
) -> Result<ZapRequest, ZapRequestError> {
    if json.len() > MAX_ZAP_REQUEST_BYTES {
        return Err(ZapRequestError::TooLong(json.len()));
    }
    let event = Event::from_json(json).map_err(|e| ZapRequestError::NotAnEvent(e.to_string()))?;
    let mut checked = check_zap_request_event(event, amount_query_msat)?;
    checked.json = json.to_owned();
    Ok(checked)
}

/// [`check_zap_request`] on a parsed event; `amount_query_msat` when a callback asked for one.
pub fn check_zap_request_event(
    event: Event,
    amount_query_msat: Option<u64>,
) -> Result<ZapRequest, ZapRequestError> {
    if event.verify().is_err() {
        return Err(ZapRequestError::BadSignature);
    }
    if event.kind.as_u16() != ZAP_REQUEST_KIND {
        return Err(ZapRequestError::WrongKind(event.kind.as_u16()));
    }
    if event.tags.is_empty() {
        return Err(ZapRequestError::NoTags);
    }
    let named = |name: &str| -> Vec<&[String]> {
        event
            .tags
            .iter()
            .map(|t| t.as_slice())
            .filter(|t| t.first().map(String::as_str) == Some(name))
            .collect()
    };
    let value = |t: &&[String]| t.get(1).cloned().unwrap_or_default();
    let p = named("p");
    if p.len() != 1 {
        return Err(ZapRequestError::Recipients(p.len()));
    }
    let recipient = PublicKey::from_hex(&value(&p[0])).map_err(|_| ZapRequestError::BadTag("p"))?;
    let e = named("e");
    if e.len() > 1 {
        return Err(ZapRequestError::Events(e.len()));
    }
    let event_id = match e.first() {
        Some(t) => Some(EventId::from_hex(&value(t)).map_err(|_| ZapRequestError::BadTag("e"))?),
        None => None,
    };
    let relays: Vec<String> = named("relays")
        .iter()
        .flat_map(|t| t.iter().skip(1))
        .filter(|r| r.starts_with("ws://") || r.starts_with("wss://"))
        .take(MAX_RECEIPT_RELAYS)
        .cloned()
        .collect();
    if relays.is_empty() {
        return Err(ZapRequestError::NoRelays);
    }
    let amount_msat = match named("amount").first() {
        Some(t) => {
            let tag = value(t);
            let parsed = tag.parse::<u64>().ok();
            match (parsed, amount_query_msat) {
                (Some(a), Some(q)) if a != q => {
                    return Err(ZapRequestError::AmountMismatch { tag, query: q })
                }
                (None, Some(q)) => return Err(ZapRequestError::AmountMismatch { tag, query: q }),
                (None, None) => return Err(ZapRequestError::BadTag("amount")),
                (Some(a), _) => Some(a),
            }
        }
        None => None,
    };
    let a = named("a");
    let address = match a.as_slice() {
        [] => None,
        [one] if is_coordinate(&value(one)) => Some(value(one)),
        [one] => return Err(ZapRequestError::BadAddress(value(one))),
        _ => return Err(ZapRequestError::BadAddress("more than one a tag".into())),
    };
    let senders = named("P");
    match senders.as_slice() {
        [] => {}
        [one] if value(one) == event.pubkey.to_hex() => {}
        _ => return Err(ZapRequestError::BadSender),
    }
    if event.content.len() > MAX_COMMENT_BYTES {
        return Err(ZapRequestError::CommentTooLong(event.content.len()));
    }
    Ok(ZapRequest {
        sender: event.pubkey,
        recipient,
        target: ZapTarget {
            event: event_id,
            address,
        },
        amount_msat,
        relays,
        lnurl: named("lnurl").first().map(value),
        comment: event.content.clone(),
        json: event.as_json(),
        event,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn relays() -> Vec<String> {
        vec!["ws://127.0.0.1:7447/".into()]
    }

    fn signed(keys: &Keys, tags: Vec<Vec<&str>>) -> String {
        EventBuilder::new(Kind::from(ZAP_REQUEST_KIND), "")
            .tags(tags.into_iter().map(|t| Tag::parse(t).unwrap()))
            .finalize(keys)
            .unwrap()
            .as_json()
    }

    #[test]
    fn a_request_we_make_passes_and_each_rule_broken_is_named() {
        let (alice, bob) = (Keys::generate(), Keys::generate());
        let address = format!("30079:{}:generic.tool@1.0.0", bob.public_key().to_hex());
        let target = ZapTarget {
            event: Some(EventId::from_byte_array([5; 32])),
            address: Some(address.clone()),
        };
        let e = make_zap_request(
            &alice,
            bob.public_key(),
            &target,
            21_000,
            &relays(),
            None,
            "gg",
        )
        .unwrap();
        let ok = check_zap_request(&e.as_json(), 21_000).unwrap();
        assert_eq!(ok.recipient, bob.public_key());
        assert_eq!(ok.target, target);
        assert_eq!(ok.amount_msat, Some(21_000));
        assert_eq!(ok.comment, "gg");
        assert_eq!(
            check_zap_request(&e.as_json(), 1_000).unwrap_err(),
            ZapRequestError::AmountMismatch {
                tag: "21000".into(),
                query: 1_000
            }
        );
        let p = bob.public_key().to_hex();
        let other = Keys::generate().public_key().to_hex();
        let id = "ab".repeat(32);
        let r = "ws://127.0.0.1:1/";
        let cases: Vec<(Vec<Vec<&str>>, &str)> = vec![
            (vec![], "no tags"),
            (vec![vec!["relays", r]], "0 p tags"),
            (
                vec![vec!["relays", r], vec!["p", &p], vec!["p", &other]],
                "2 p tags",
            ),
            (
                vec![
                    vec!["relays", r],
                    vec!["p", &p],
                    vec!["e", &id],
                    vec!["e", &id],
                ],
                "2 e tags",
            ),
            (vec![vec!["p", &p]], "no relay"),
            (
                vec![vec!["relays", r], vec!["p", &p], vec!["a", "not-one"]],
                "not an event coordinate",
            ),
            (
                vec![vec!["relays", r], vec!["p", &p], vec!["P", &other]],
                "P tag",
            ),
            (vec![vec!["relays", r], vec!["p", "zz"]], "p tag is not"),
        ];
        for (tags, why) in cases {
            let err = check_zap_request(&signed(&alice, tags), 1_000).unwrap_err();
            assert!(err.to_string().contains(why), "{why}: {err}");
        }
        // A P tag naming the sender is fine.
        let own = alice.public_key().to_hex();
        assert!(check_zap_request(
            &signed(
                &alice,
                vec![vec!["relays", r], vec!["p", &p], vec!["P", &own]]
            ),
            1
        )
        .is_ok());
        // A forged signature, another kind, oversized input.
        let mut forged: serde_json::Value = serde_json::from_str(&e.as_json()).unwrap();
        forged["content"] = "changed".into();
        assert_eq!(
            check_zap_request(&forged.to_string(), 21_000).unwrap_err(),
            ZapRequestError::BadSignature
        );
        let note = EventBuilder::new(Kind::TextNote, "x")
            .tag(Tag::public_key(bob.public_key()))
            .finalize(&alice)
            .unwrap();
        assert_eq!(
            check_zap_request(&note.as_json(), 1).unwrap_err(),
            ZapRequestError::WrongKind(1)
        );
        assert!(matches!(
            check_zap_request(&"x".repeat(MAX_ZAP_REQUEST_BYTES + 1), 1),
            Err(ZapRequestError::TooLong(_))
        ));
    }

    proptest! {
        #![proptest_config(ProptestConfig {
            rng_seed: proptest::test_runner::RngSeed::Fixed(0x5eed),
            failure_persistence: None,
            cases: 64,
            ..ProptestConfig::default()
        })]

        /// Whatever the amount and comment, what we make passes with that amount; any text is
        /// read or refused, never a panic.
        #[test]
        fn requests_round_trip_and_junk_is_refused(msat in 1u64.., comment in "\\PC{0,100}", junk in "\\PC{0,300}") {
            let (a, b) = (Keys::generate(), Keys::generate());
            let e = make_zap_request(&a, b.public_key(), &ZapTarget::default(), msat, &relays(), None, &comment).unwrap();
            let ok = check_zap_request(&e.as_json(), msat).unwrap();
            prop_assert_eq!(ok.amount_msat, Some(msat));
            prop_assert_eq!(ok.comment, comment);
            let _ = check_zap_request(&junk, msat);
        }
    }
}
