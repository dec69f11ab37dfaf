//! Answers to a post short of a reply: reactions (NIP-25, kind 7), reposts (NIP-18, kind 6) and
//! deletion requests for one's own events (NIP-09, kind 5).

use nostr::prelude::{Event, EventBuilder, EventId, FinalizeEvent as _, Keys, Kind, Tag};
use seedstr_client::relays::{publish_to_any, query_all, PublishAnswer, RelaySet};
use serde_json::json;

use crate::posts::PostError;

/// NIP-25's reaction kind.
pub const REACTION_KIND: u16 = 7;
/// NIP-18's repost kind (of a kind 1).
pub const REPOST_KIND: u16 = 6;
/// NIP-09's deletion request kind.
pub const DELETION_KIND: u16 = 5;
/// The longest reaction: an emoji or a short word.
pub const MAX_REACTION_BYTES: usize = 64;

/// What a reaction, repost or deletion sent.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Answered {
    /// The new event's id (hex).
    pub id: String,
    /// The event it is about (hex).
    pub about: Vec<String>,
    /// Each relay's answer.
    pub answers: Vec<PublishAnswer>,
}

/// The verified event `id`, from `relays`.
async fn find(relays: &RelaySet, id: EventId) -> Result<Event, PostError> {
    let found = query_all(&relays.urls, &json!({"ids": [id.to_hex()]}), relays.timeout).await;
    if found.answered.is_empty() {
        return Err(PostError::NoRelay(found.failed));
    }
    found
        .events
        .into_iter()
        .find(|e| e.id == id)
        .map(|e| e.event().clone())
        .ok_or(PostError::NoParent(id))
}

async fn send(
    keys: &Keys,
    relays: &RelaySet,
    kind: u16,
    content: &str,
    tags: Vec<Tag>,
    about: Vec<String>,
) -> Result<Answered, PostError> {
    let event = EventBuilder::new(Kind::from(kind), content)
        .tags(tags)
        .finalize(keys)
        .map_err(|e| PostError::Sign(e.to_string()))?;
    let answers = publish_to_any(relays, &event)
        .await
        .map_err(PostError::NotTaken)?;
    Ok(Answered {
        id: event.id.to_hex(),
        about,
        answers,
    })
}

/// Reacts to event `id` with `content` (`+` a like, `-` a dislike, or an emoji), naming its
/// author and kind as NIP-25 asks.
pub async fn react(
    keys: &Keys,
    relays: &RelaySet,
    id: EventId,
    content: &str,
) -> Result<Answered, PostError> {
    if content.is_empty() {
        return Err(PostError::Empty);
    }
    if content.len() > MAX_REACTION_BYTES {
        return Err(PostError::TooLong(content.len()));
    }
    let target = find(relays, id).await?;
    let tags = vec![
        Tag::event(id),
        Tag::public_key(target.pubkey),
        Tag::parse(["k", &target.kind.as_u16().to_string()]).expect("a valid tag"),
    ];
    send(
        keys,
        relays,
        REACTION_KIND,
        content,
        tags,
        vec![id.to_hex()],
    )
    .await
}

/// Reposts post `id`: a kind 6 carrying the post itself, so readers need not find it.
pub async fn repost(keys: &Keys, relays: &RelaySet, id: EventId) -> Result<Answered, PostError> {
    let target = find(relays, id).await?;
    if target.kind.as_u16() != crate::posts::POST_KIND {
        return Err(PostError::NotAPost(id, target.kind.as_u16()));
    }
    let hint = relays.urls.first().cloned().unwrap_or_default();
    let tags = vec![
        Tag::parse(["e", &id.to_hex(), &hint]).expect("a valid tag"),
        Tag::public_key(target.pubkey),
    ];
    let content = target.as_json();
    send(keys, relays, REPOST_KIND, &content, tags, vec![id.to_hex()]).await
}

/// Asks relays to delete the owner's events `ids` (NIP-09), with an optional reason; events
/// by anyone else are refused before anything is sent.
pub async fn delete(
    keys: &Keys,
    relays: &RelaySet,
    ids: &[EventId],
    reason: &str,
) -> Result<Answered, PostError> {
    if ids.is_empty() {
        return Err(PostError::Empty);
    }
    let mut tags = Vec::new();
    let mut kinds = std::collections::BTreeSet::new();
    for id in ids {
        let target = find(relays, *id).await?;
        if target.pubkey != keys.public_key() {
            return Err(PostError::NotYours(*id));
        }
        kinds.insert(target.kind.as_u16());
        tags.push(Tag::event(*id));
    }
    for k in kinds {
        tags.push(Tag::parse(["k", &k.to_string()]).expect("a valid tag"));
    }
    let about = ids.iter().map(|i| i.to_hex()).collect();
    send(keys, relays, DELETION_KIND, reason, tags, about).await
}
