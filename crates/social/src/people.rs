//! Whom one follows (kind 3, NIP-02): read as the newest verified list, changed by publishing a
//! new one that keeps everything the old one held (other people, relay hints, the content).

use nostr::prelude::{Event, EventBuilder, FinalizeEvent as _, Keys, Kind, PublicKey, Tag};
use seedstr_client::relays::{list_failures, publish_to_any, query_all, PublishAnswer, RelaySet};
use seedstr_client::resolve::target::npub;
use seedstr_proto::event::newest_by_address;
use serde_json::json;

/// NIP-02's follow list.
pub const FOLLOW_LIST_KIND: u16 = 3;

/// Why the follow list could not be read or changed.
#[derive(Debug, thiserror::Error)]
pub enum PeopleError {
    /// No relay answered.
    #[error("no relay answered: {}", list_failures(.0))]
    NoRelay(Vec<(String, String)>),
    /// No relay took the new list.
    #[error("no relay took the new follow list: {0}")]
    NotTaken(String),
    /// Signing failed.
    #[error("signing the follow list: {0}")]
    Sign(String),
}

/// Someone's follow list as the relays hold it.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Follows {
    /// The people followed, in the list's order.
    pub following: Vec<PublicKey>,
    /// The list event the answer comes from (hex id), if there is one.
    pub event: Option<String>,
    /// When that list was signed.
    pub created_at: Option<u64>,
}

/// What a follow or unfollow did.
#[derive(Debug, Clone, serde::Serialize)]
pub struct FollowChange {
    /// The people followed now.
    pub following: Vec<String>,
    /// Whether the list changed (following someone already followed does not).
    pub changed: bool,
    /// The relays' answers to the new list, when one was sent.
    pub answers: Vec<PublishAnswer>,
}

/// `who`'s newest verified follow list on `relays`, with the event it came from.
pub async fn follow_list(
    relays: &RelaySet,
    who: &PublicKey,
) -> Result<(Follows, Option<Event>), PeopleError> {
    let filter = json!({"kinds": [FOLLOW_LIST_KIND], "authors": [who.to_hex()]});
    let found = query_all(&relays.urls, &filter, relays.timeout).await;
    if found.answered.is_empty() {
        return Err(PeopleError::NoRelay(found.failed));
    }
    let mine = found.events.iter().filter(|e| e.pubkey == *who);
    let Some(list) = newest_by_address(mine).into_iter().next() else {
        return Ok((Follows::default(), None));
    };
    let follows = Follows {
        following: list.tags.public_keys().collect(),
        event: Some(list.id.to_hex()),
        created_at: Some(list.created_at.as_secs()),
    };
    Ok((follows, Some(list.event().clone())))
}

/// Copies the newest profile, relay list and inbox list of `people` that any of `relays`
/// holds to all of them (they are signed by their authors: any relay may hold them), so the
/// follower's own node knows where the people it follows live, whichever directory they
/// registered with. Best effort: a relay that refuses a copy is left alone.
async fn carry_lists(relays: &RelaySet, people: &[PublicKey]) {
    let filter = json!({
        "kinds": [0, crate::home::RELAY_LIST_KIND, crate::inbox::INBOX_RELAYS_KIND],
        "authors": people.iter().map(|p| p.to_hex()).collect::<Vec<_>>(),
    });
    let found = query_all(&relays.urls, &filter, relays.timeout).await;
    let newest: Vec<Event> =
        newest_by_address(found.events.iter().filter(|e| people.contains(&e.pubkey)))
            .into_iter()
            .map(|e| e.event().clone())
            .collect();
    if !newest.is_empty() {
        seedstr_client::relays::publish_all(&relays.urls, &newest, relays.timeout).await;
    }
}

/// Follows (`follow` true) or unfollows `people`, keeping the rest of the current list; on a
/// follow, their lists are carried to every relay given ([`carry_lists`]).
pub async fn change_follows(
    keys: &Keys,
    relays: &RelaySet,
    people: &[PublicKey],
    follow: bool,
) -> Result<FollowChange, PeopleError> {
    let (current, event) = follow_list(relays, &keys.public_key()).await?;
    let mut tags: Vec<Tag> = event
        .as_ref()
        .map(|e| e.tags.iter().cloned().collect())
        .unwrap_or_default();
    let before = tags.len();
    for p in people {
        let is_p = |t: &Tag| matches!(t.as_slice(), [n, k, ..] if n == "p" && *k == p.to_hex());
        if follow {
            if !tags.iter().any(is_p) {
                tags.push(Tag::public_key(*p));
            }
        } else {
            tags.retain(|t| !is_p(t));
        }
    }
    let changed = tags.len() != before;
    let following: Vec<PublicKey> = tags
        .iter()
        .filter_map(|t| match t.as_slice() {
            [n, k, ..] if n == "p" => PublicKey::from_hex(k).ok(),
            _ => None,
        })
        .collect();
    let npubs = following.iter().map(npub).collect();
    if !changed {
        return Ok(FollowChange {
            following: npubs,
            changed,
            answers: Vec::new(),
        });
    }
    let content = event.map(|e| e.content).unwrap_or_default();
    let list = EventBuilder::new(Kind::from(FOLLOW_LIST_KIND), content)
        .tags(tags)
        .custom_created_at(crate::dated_after(current.created_at))
        .finalize(keys)
        .map_err(|e| PeopleError::Sign(e.to_string()))?;
    let answers = publish_to_any(relays, &list)
        .await
        .map_err(PeopleError::NotTaken)?;
    if follow {
        carry_lists(relays, people).await;
    }
    Ok(FollowChange {
        following: npubs,
        changed,
        answers,
    })
}
