//! What others did that concerns the owner: replies and mentions (kind 1 naming them), reactions
//! (7) and reposts (6) of their posts; and statuses (NIP-38), the short "what I'm doing" line
//! the seed calls an activity update.

use nostr::prelude::{EventBuilder, FinalizeEvent as _, Keys, Kind, PublicKey, Tag};
use seedstr_client::relays::{publish_to_any, query_all, PublishAnswer, RelaySet};
use seedstr_client::resolve::target::npub;
use seedstr_proto::event::newest_by_address;
use serde_json::json;

use crate::local::LocalState;
use crate::posts::{PostError, POST_KIND};
use crate::reactions::{REACTION_KIND, REPOST_KIND};

/// NIP-38's user status kind.
pub const STATUS_KIND: u16 = 30315;
/// The status a person shows generally (`d` = `general`).
pub const GENERAL_STATUS: &str = "general";
/// The longest status.
pub const MAX_STATUS_BYTES: usize = 1024;
/// The most notifications read at once.
pub const MAX_NOTIFICATIONS: usize = 500;

/// What happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum NotificationKind {
    /// A post answering one of the owner's (NIP-10 `e` tags) and naming them.
    Reply,
    /// A post naming the owner.
    Mention,
    /// A reaction to one of the owner's events.
    Reaction,
    /// A repost of one of the owner's posts.
    Repost,
}

/// One notification.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Notification {
    /// What happened.
    pub kind: NotificationKind,
    /// Who did it (npub).
    pub from: String,
    /// When.
    pub created_at: u64,
    /// The event (hex).
    pub event: String,
    /// The text: the post, or the reaction's emoji; empty for a repost.
    pub text: String,
}

/// The newest `limit` events naming the owner (at most [`MAX_NOTIFICATIONS`]), newest first:
/// their own and blocked people's left out.
pub async fn notifications(
    keys: &Keys,
    relays: &RelaySet,
    limit: usize,
    local: &LocalState,
) -> Result<Vec<Notification>, PostError> {
    let me = keys.public_key();
    let limit = limit.clamp(1, MAX_NOTIFICATIONS);
    let filter = json!({
        "kinds": [POST_KIND, REPOST_KIND, REACTION_KIND],
        "#p": [me.to_hex()],
        "limit": limit,
    });
    let found = query_all(&relays.urls, &filter, relays.timeout).await;
    if found.answered.is_empty() {
        return Err(PostError::NoRelay(found.failed));
    }
    let mut out: Vec<Notification> = found
        .events
        .iter()
        .filter(|e| e.pubkey != me && !local.is_blocked(&e.pubkey))
        .filter(|e| e.tags.public_keys().any(|p| p == me))
        .filter_map(|e| {
            let kind = match e.kind.as_u16() {
                POST_KIND
                    if e.tags
                        .iter()
                        .any(|t| t.as_slice().first().map(String::as_str) == Some("e")) =>
                {
                    NotificationKind::Reply
                }
                POST_KIND => NotificationKind::Mention,
                REACTION_KIND => NotificationKind::Reaction,
                REPOST_KIND => NotificationKind::Repost,
                _ => return None,
            };
            Some(Notification {
                kind,
                from: npub(&e.pubkey),
                created_at: e.created_at.as_secs(),
                event: e.id.to_hex(),
                text: if kind == NotificationKind::Repost {
                    String::new()
                } else {
                    e.content.clone()
                },
            })
        })
        .collect();
    out.sort_by(|a, b| b.created_at.cmp(&a.created_at).then(a.event.cmp(&b.event)));
    out.truncate(limit);
    Ok(out)
}

/// Someone's status.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Status {
    /// Whose (npub).
    pub who: String,
    /// The text; empty when they cleared it or never set one.
    pub text: String,
    /// When it was set.
    pub created_at: Option<u64>,
}

/// Sets the owner's general status (an empty text clears it).
pub async fn set_status(
    keys: &Keys,
    relays: &RelaySet,
    text: &str,
) -> Result<Vec<PublishAnswer>, PostError> {
    if text.len() > MAX_STATUS_BYTES {
        return Err(PostError::TooLong(text.len()));
    }
    let current = status(relays, &keys.public_key()).await?;
    let event = EventBuilder::new(Kind::from(STATUS_KIND), text)
        .tag(Tag::identifier(GENERAL_STATUS))
        .custom_created_at(crate::dated_after(current.created_at))
        .finalize(keys)
        .map_err(|e| PostError::Sign(e.to_string()))?;
    publish_to_any(relays, &event)
        .await
        .map_err(PostError::NotTaken)
}

/// `who`'s general status, the newest verified one.
pub async fn status(relays: &RelaySet, who: &PublicKey) -> Result<Status, PostError> {
    let filter = json!({
        "kinds": [STATUS_KIND],
        "authors": [who.to_hex()],
        "#d": [GENERAL_STATUS],
    });
    let found = query_all(&relays.urls, &filter, relays.timeout).await;
    if found.answered.is_empty() {
        return Err(PostError::NoRelay(found.failed));
    }
    let theirs = found
        .events
        .iter()
        .filter(|e| e.pubkey == *who && e.tags.identifier().as_deref() == Some(GENERAL_STATUS));
    let newest = newest_by_address(theirs).into_iter().next();
    Ok(Status {
        who: npub(who),
        text: newest
            .map(|e| e.content.chars().take(MAX_STATUS_BYTES).collect())
            .unwrap_or_default(),
        created_at: newest.map(|e| e.created_at.as_secs()),
    })
}
