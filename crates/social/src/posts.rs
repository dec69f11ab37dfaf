//! Public posts (kind 1) with NIP-10 replies, and the home timeline: the posts of the people one
//! follows, and one's own, newest first.

use nostr::prelude::{
    Event, EventBuilder, EventId, FinalizeEvent as _, Keys, Kind, PublicKey, Tag,
};
use seedstr_client::relays::{list_failures, publish_to_any, query_all, PublishAnswer, RelaySet};
use seedstr_client::resolve::target::npub;
use seedstr_proto::Verified;
use serde_json::json;

use crate::people::{follow_list, PeopleError};

/// A text note.
pub const POST_KIND: u16 = 1;
/// The longest post text Seedstr signs: 64 KiB.
pub const MAX_POST_BYTES: usize = 64 * 1024;
/// The most posts a timeline shows at once.
pub const MAX_TIMELINE: usize = 500;

/// Why a post could not be made or a timeline read.
#[derive(Debug, thiserror::Error)]
pub enum PostError {
    /// Nothing to say.
    #[error("an empty post is not sent")]
    Empty,
    /// Over the cap.
    #[error("the post has {0} bytes, over the {MAX_POST_BYTES}-byte cap")]
    TooLong(usize),
    /// The post replied to is nowhere to be found.
    #[error("no relay holds post {0} to reply to")]
    NoParent(EventId),
    /// No relay answered.
    #[error("no relay answered: {}", list_failures(.0))]
    NoRelay(Vec<(String, String)>),
    /// No relay took the post.
    #[error("no relay took the post: {0}")]
    NotTaken(String),
    /// Reading the follow list failed.
    #[error(transparent)]
    People(#[from] PeopleError),
    /// Signing failed.
    #[error("signing the post: {0}")]
    Sign(String),
}

/// A post as a timeline shows it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Post {
    /// The event id (hex).
    pub id: String,
    /// Its author (npub).
    pub author: String,
    /// When it was signed.
    pub created_at: u64,
    /// The text.
    pub text: String,
    /// The post it answers (NIP-10 `reply`, or `root` when it answers the root), hex.
    pub reply_to: Option<String>,
    /// The thread's first post (NIP-10 `root`), hex.
    pub root: Option<String>,
}

/// What [`publish_post`] did.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Posted {
    /// The post.
    pub post: Post,
    /// Each relay's answer.
    pub answers: Vec<PublishAnswer>,
}

/// A thread: its first post and every reply the relays hold, each with its depth.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Thread {
    /// The posts in reading order: each reply after the post it answers, oldest first among
    /// siblings.
    pub posts: Vec<ThreadPost>,
    /// Replies whose parent no relay holds, shown under the root.
    pub orphans: usize,
}

/// A post in a thread.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ThreadPost {
    /// How deep it is: 0 for the root.
    pub depth: usize,
    /// The post.
    pub post: Post,
}

/// The home timeline.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Timeline {
    /// Newest first.
    pub posts: Vec<Post>,
    /// Whose posts were asked for (npubs): the people followed, and oneself.
    pub authors: Vec<String>,
}

/// The NIP-10 marked `e` tag with `marker`, if any.
fn marked(event: &Event, marker: &str) -> Option<EventId> {
    event.tags.iter().find_map(|t| match t.as_slice() {
        [n, id, _, m, ..] if n == "e" && m == marker => EventId::from_hex(id).ok(),
        _ => None,
    })
}

impl Post {
    /// The post `event` holds.
    pub fn of(event: &Event) -> Post {
        let root = marked(event, "root");
        Post {
            id: event.id.to_hex(),
            author: npub(&event.pubkey),
            created_at: event.created_at.as_secs(),
            text: event.content.clone(),
            reply_to: marked(event, "reply").or(root).map(|i| i.to_hex()),
            root: root.map(|i| i.to_hex()),
        }
    }
}

/// Signs `text` as a public post, a reply to `reply_to` when given (NIP-10 marked tags: the
/// thread's root, the post answered, and its author and the people it named), and sends it.
pub async fn publish_post(
    keys: &Keys,
    text: &str,
    reply_to: Option<EventId>,
    relays: &RelaySet,
) -> Result<Posted, PostError> {
    if text.is_empty() {
        return Err(PostError::Empty);
    }
    if text.len() > MAX_POST_BYTES {
        return Err(PostError::TooLong(text.len()));
    }
    let mut tags = Vec::new();
    if let Some(parent_id) = reply_to {
        let found = query_all(
            &relays.urls,
            &json!({"ids": [parent_id.to_hex()]}),
            relays.timeout,
        )
        .await;
        let parent = found
            .events
            .iter()
            .find(|e| e.id == parent_id)
            .ok_or(PostError::NoParent(parent_id))?;
        let root = marked(parent, "root").unwrap_or(parent_id);
        tags.push(Tag::parse(["e", &root.to_hex(), "", "root"]).expect("a valid tag"));
        if root != parent_id {
            tags.push(Tag::parse(["e", &parent_id.to_hex(), "", "reply"]).expect("a valid tag"));
        }
        let mut people: Vec<PublicKey> = vec![parent.pubkey];
        people.extend(parent.tags.public_keys());
        people.retain(|p| *p != keys.public_key());
        people.dedup();
        tags.extend(people.into_iter().map(Tag::public_key));
    }
    let event = EventBuilder::new(Kind::from(POST_KIND), text)
        .tags(tags)
        .finalize(keys)
        .map_err(|e| PostError::Sign(e.to_string()))?;
    let answers = publish_to_any(relays, &event)
        .await
        .map_err(PostError::NotTaken)?;
    Ok(Posted {
        post: Post::of(&event),
        answers,
    })
}

/// The newest `limit` posts (at most [`MAX_TIMELINE`]) of the people `keys` follows, and its
/// own, newest first.
pub async fn timeline(keys: &Keys, relays: &RelaySet, limit: usize) -> Result<Timeline, PostError> {
    let (follows, _) = follow_list(relays, &keys.public_key()).await?;
    let mut authors = follows.following;
    if !authors.contains(&keys.public_key()) {
        authors.push(keys.public_key());
    }
    let limit = limit.clamp(1, MAX_TIMELINE);
    let filter = json!({
        "kinds": [POST_KIND],
        "authors": authors.iter().map(|a| a.to_hex()).collect::<Vec<_>>(),
        "limit": limit,
    });
    let found = query_all(&relays.urls, &filter, relays.timeout).await;
    if found.answered.is_empty() {
        return Err(PostError::NoRelay(found.failed));
    }
    // Only what was asked for: a relay may send more, or other authors.
    let mut events: Vec<&Verified> = found
        .events
        .iter()
        .filter(|e| e.kind.as_u16() == POST_KIND && authors.contains(&e.pubkey))
        .collect();
    events.sort_by(|a, b| b.created_at.cmp(&a.created_at).then(a.id.cmp(&b.id)));
    events.truncate(limit);
    Ok(Timeline {
        posts: events.into_iter().map(|e| Post::of(e)).collect(),
        authors: authors.iter().map(npub).collect(),
    })
}

/// The most replies a thread view reads.
pub const MAX_THREAD: usize = 2_000;

/// The thread `id` belongs to: its root (found through `id`'s NIP-10 root tag) and the replies
/// the relays hold, verified, as a tree.
pub async fn thread(relays: &RelaySet, id: EventId) -> Result<Thread, PostError> {
    let asked = query_all(&relays.urls, &json!({"ids": [id.to_hex()]}), relays.timeout).await;
    if asked.answered.is_empty() {
        return Err(PostError::NoRelay(asked.failed));
    }
    let first = asked
        .events
        .iter()
        .find(|e| e.id == id)
        .ok_or(PostError::NoParent(id))?;
    let root_id = marked(first, "root").unwrap_or(id);
    let root = json!({"ids": [root_id.to_hex()]});
    let replies = json!({"kinds": [POST_KIND], "#e": [root_id.to_hex()], "limit": MAX_THREAD});
    let mut events: Vec<Verified> = query_all(&relays.urls, &root, relays.timeout).await.events;
    events.extend(
        query_all(&relays.urls, &replies, relays.timeout)
            .await
            .events,
    );
    events.sort_by(|a, b| a.created_at.cmp(&b.created_at).then(a.id.cmp(&b.id)));
    events.dedup_by(|a, b| a.id == b.id);
    Ok(arrange(root_id, &events))
}

/// Lays `events` out as the thread under `root_id`: depth-first, oldest sibling first.
pub fn arrange(root_id: EventId, events: &[Verified]) -> Thread {
    use std::collections::{BTreeMap, BTreeSet};
    let ids: BTreeSet<EventId> = events.iter().map(|e| e.id).collect();
    let mut children: BTreeMap<EventId, Vec<&Verified>> = BTreeMap::new();
    let mut orphans = 0;
    for e in events.iter().filter(|e| e.id != root_id) {
        let parent = marked(e, "reply").unwrap_or(root_id);
        let parent = if ids.contains(&parent) {
            parent
        } else {
            orphans += 1;
            root_id
        };
        children.entry(parent).or_default().push(e);
    }
    let mut posts = Vec::new();
    let mut stack: Vec<(usize, EventId)> = Vec::new();
    if let Some(root) = events.iter().find(|e| e.id == root_id) {
        posts.push(ThreadPost {
            depth: 0,
            post: Post::of(root),
        });
    }
    // Children pushed newest first so the oldest is taken first.
    for c in children.get(&root_id).into_iter().flatten().rev() {
        stack.push((1, c.id));
    }
    let by_id: BTreeMap<EventId, &Verified> = events.iter().map(|e| (e.id, e)).collect();
    let mut seen = BTreeSet::new();
    while let Some((depth, id)) = stack.pop() {
        // A reply cannot come back into its own ancestry, however its tags lie.
        if !seen.insert(id) {
            continue;
        }
        posts.push(ThreadPost {
            depth,
            post: Post::of(by_id[&id]),
        });
        for c in children.get(&id).into_iter().flatten().rev() {
            stack.push((depth + 1, c.id));
        }
    }
    Thread { posts, orphans }
}

#[cfg(test)]
mod tests {
    use super::*;
    use nostr::prelude::Timestamp;

    fn post(
        keys: &Keys,
        at: u64,
        text: &str,
        root: Option<EventId>,
        reply: Option<EventId>,
    ) -> Verified {
        let mut tags = Vec::new();
        if let Some(r) = root {
            tags.push(Tag::parse(["e", &r.to_hex(), "", "root"]).unwrap());
        }
        if let Some(r) = reply {
            tags.push(Tag::parse(["e", &r.to_hex(), "", "reply"]).unwrap());
        }
        let e = EventBuilder::new(Kind::from(POST_KIND), text)
            .tags(tags)
            .custom_created_at(Timestamp::from(at))
            .finalize(keys)
            .unwrap();
        Verified::check(e).unwrap()
    }

    #[test]
    fn a_thread_reads_depth_first_oldest_sibling_first_with_orphans_under_the_root() {
        let k = Keys::generate();
        let root = post(&k, 10, "root", None, None);
        let a = post(&k, 20, "a", Some(root.id), None);
        let b = post(&k, 30, "b", Some(root.id), Some(a.id));
        let c = post(&k, 25, "c", Some(root.id), None);
        let missing = EventId::from_byte_array([7; 32]);
        let d = post(&k, 40, "d", Some(root.id), Some(missing));
        let mut events = vec![d, b, c, a, root.clone()];
        events.sort_by_key(|x| x.created_at);
        let t = arrange(root.id, &events);
        let order: Vec<(usize, &str)> = t
            .posts
            .iter()
            .map(|p| (p.depth, p.post.text.as_str()))
            .collect();
        assert_eq!(order, [(0, "root"), (1, "a"), (2, "b"), (1, "c"), (1, "d")]);
        assert_eq!(t.orphans, 1);
    }
}
