//! Public posts (kind 1) with NIP-10 replies, and the home timeline: the posts of the people one
//! follows, and one's own, newest first.

use nostr::prelude::{
    Event, EventBuilder, EventId, FinalizeEvent as _, Keys, Kind, PublicKey, Tag, Tags,
};
use seedstr_client::relays::{list_failures, publish_to_any, query_all, PublishAnswer, RelaySet};
use seedstr_client::resolve::target::npub;
use seedstr_proto::Verified;
use serde_json::json;

use crate::friends::friends_list;
use crate::gift_wrap::{check_rumor, rumor, wrap_for, Sealed};
use crate::inbox::{deliver, open_inbox, Delivery, InboxError};
use crate::local::LocalState;
use crate::media::Attachment;
use crate::people::{follow_list, PeopleError};

/// A text note.
pub const POST_KIND: u16 = 1;
/// The longest post text Seedstr signs: 64 KiB.
pub const MAX_POST_BYTES: usize = 64 * 1024;
/// The most posts a timeline shows at once.
pub const MAX_TIMELINE: usize = 500;
/// The most authors' nodes a timeline reads from besides the relays given.
pub const MAX_OUTBOXES: usize = 16;
/// How long a timeline waits for an author's node.
pub const OUTBOX_WAIT: std::time::Duration = std::time::Duration::from_secs(3);

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
    /// Reading the friends list failed.
    #[error("reading your friends list: {0}")]
    Friends(String),
    /// Delivering the wrapped copies or reading the inbox failed.
    #[error(transparent)]
    Inbox(#[from] InboxError),
    /// The event named is not a post.
    #[error("event {0} is kind {1}, not a post")]
    NotAPost(EventId, u16),
    /// Deleting someone else's event.
    #[error("event {0} is not yours to delete")]
    NotYours(EventId),
    /// Signing failed.
    #[error("signing: {0}")]
    Sign(String),
}

/// Who a post is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Visibility {
    /// Anyone: a signed kind 1 on the relays.
    #[default]
    Public,
    /// The author's friends: the unsigned post gift-wrapped to each friend and to the author.
    Friends,
    /// The author alone: gift-wrapped to themselves, kept on their own inbox relays (their
    /// node).
    Private,
}

impl Visibility {
    /// The word the rumor's `visibility` tag carries.
    pub fn as_str(self) -> &'static str {
        match self {
            Visibility::Public => "public",
            Visibility::Friends => "friends",
            Visibility::Private => "private",
        }
    }
}

/// A post as a timeline shows it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Post {
    /// The event id (hex); for a friends-only or private post, the id of the unsigned post.
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
    /// Who it is for.
    pub visibility: Visibility,
    /// How many people reacted to it (NIP-25), where the reader counted.
    pub reactions: usize,
    /// How many reposted it (NIP-18), where the reader counted.
    pub reposts: usize,
    /// Its attachments (NIP-92 `imeta`), each a torrent with a web seed.
    pub attachments: Vec<Attachment>,
}

/// What [`publish_post`] did.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Posted {
    /// The post.
    pub post: Post,
    /// Each relay's answer (a public post).
    pub answers: Vec<PublishAnswer>,
    /// Each wrapped copy and where it went (a friends-only or private post).
    pub deliveries: Vec<Delivery>,
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
fn marked(tags: &Tags, marker: &str) -> Option<EventId> {
    tags.iter().find_map(|t| match t.as_slice() {
        [n, id, _, m, ..] if n == "e" && m == marker => EventId::from_hex(id).ok(),
        _ => None,
    })
}

impl Post {
    /// The post `event` holds.
    pub fn of(event: &Event) -> Post {
        let root = marked(&event.tags, "root");
        Post {
            id: event.id.to_hex(),
            author: npub(&event.pubkey),
            created_at: event.created_at.as_secs(),
            text: event.content.clone(),
            reply_to: marked(&event.tags, "reply").or(root).map(|i| i.to_hex()),
            root: root.map(|i| i.to_hex()),
            visibility: Visibility::Public,
            reactions: 0,
            reposts: 0,
            attachments: Attachment::all_of(&event.tags).0,
        }
    }

    /// The post a gift wrap held, if it is one: a kind 1 whose `visibility` tag says
    /// `friends` or `private`, within the cap.
    pub fn sealed(sealed: &Sealed) -> Option<Post> {
        if sealed.kind() != POST_KIND || sealed.rumor.content.len() > MAX_POST_BYTES {
            return None;
        }
        let visibility = sealed.rumor.tags.iter().find_map(|t| match t.as_slice() {
            [n, v, ..] if n == "visibility" && v == "friends" => Some(Visibility::Friends),
            [n, v, ..] if n == "visibility" && v == "private" => Some(Visibility::Private),
            _ => None,
        })?;
        let root = marked(&sealed.rumor.tags, "root");
        Some(Post {
            id: sealed.id().to_hex(),
            author: npub(&sealed.author),
            created_at: sealed.rumor.created_at.as_secs(),
            text: sealed.rumor.content.clone(),
            reply_to: marked(&sealed.rumor.tags, "reply")
                .or(root)
                .map(|i| i.to_hex()),
            root: root.map(|i| i.to_hex()),
            visibility,
            reactions: 0,
            reposts: 0,
            attachments: Attachment::all_of(&sealed.rumor.tags).0,
        })
    }
}

/// Writes `text` as a post, a reply to `reply_to` when given (NIP-10 marked tags: the thread's
/// root, the post answered, and its author and the people it named), and sends it as
/// `visibility` says: signed to the relays (public), gift-wrapped to each friend not blocked in
/// `local` and to the author (friends), or to the author alone (private).
pub async fn publish_post(
    keys: &Keys,
    text: &str,
    reply_to: Option<EventId>,
    visibility: Visibility,
    attachments: &[Attachment],
    relays: &RelaySet,
    local: &LocalState,
) -> Result<Posted, PostError> {
    if text.is_empty() && attachments.is_empty() {
        return Err(PostError::Empty);
    }
    // NIP-92: each attachment's URL in the text, its description in an imeta tag.
    let mut text = text.to_owned();
    for a in attachments {
        if !text.is_empty() {
            text.push('\n');
        }
        text.push_str(&a.url);
    }
    let text = text.as_str();
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
        let root = marked(&parent.tags, "root").unwrap_or(parent_id);
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
    tags.extend(attachments.iter().map(Attachment::imeta));
    if visibility != Visibility::Public {
        return publish_sealed(keys, text, tags, visibility, relays, local).await;
    }
    let event = EventBuilder::new(Kind::from(POST_KIND), text)
        .tags(tags)
        .finalize(keys)
        .map_err(|e| PostError::Sign(e.to_string()))?;
    // NIP-65: a public post also goes where its author says they write (their node).
    let mut targets = relays.clone();
    for url in write_relays(relays, &keys.public_key()).await {
        if !targets.urls.contains(&url) {
            targets.urls.push(url);
        }
    }
    let answers = publish_to_any(&targets, &event)
        .await
        .map_err(PostError::NotTaken)?;
    Ok(Posted {
        post: Post::of(&event),
        answers,
        deliveries: Vec::new(),
    })
}

/// The relays `who`'s newest relay list (NIP-65) says they write to: `r` tags without a
/// marker or marked `write`, WebSocket only, at most 8.
pub async fn write_relays(relays: &RelaySet, who: &PublicKey) -> Vec<String> {
    let filter = json!({"kinds": [crate::home::RELAY_LIST_KIND], "authors": [who.to_hex()]});
    let found = query_all(&relays.urls, &filter, relays.timeout).await;
    let theirs = found.events.iter().filter(|e| e.pubkey == *who);
    let Some(list) = seedstr_proto::event::newest_by_address(theirs)
        .into_iter()
        .next()
    else {
        return Vec::new();
    };
    list.tags
        .iter()
        .filter_map(|t| match t.as_slice() {
            [n, u] if n == "r" => Some(u.clone()),
            [n, u, m, ..] if n == "r" && m == "write" => Some(u.clone()),
            _ => None,
        })
        .filter(|u| u.starts_with("ws://") || u.starts_with("wss://"))
        .take(8)
        .collect()
}

/// A friends-only or private post: never signed, gift-wrapped to its readers.
async fn publish_sealed(
    keys: &Keys,
    text: &str,
    mut tags: Vec<Tag>,
    visibility: Visibility,
    relays: &RelaySet,
    local: &LocalState,
) -> Result<Posted, PostError> {
    tags.push(Tag::parse(["visibility", visibility.as_str()]).expect("a valid tag"));
    let readers: Vec<PublicKey> = match visibility {
        Visibility::Friends => friends_list(keys, relays)
            .await
            .map_err(|e| PostError::Friends(e.to_string()))?
            .friends
            .into_iter()
            .filter(|f| !local.is_blocked(f))
            .collect(),
        _ => Vec::new(),
    };
    let r = rumor(keys.public_key(), POST_KIND, tags, text);
    let copies = wrap_for(keys, &r, &readers, true).map_err(|e| PostError::Sign(e.to_string()))?;
    let deliveries = deliver(keys, copies, relays).await?;
    let sealed = check_rumor(EventId::from_byte_array([0; 32]), keys.public_key(), r)
        .expect("our own rumor");
    Ok(Posted {
        post: Post::sealed(&sealed).expect("a post we just wrote"),
        answers: Vec::new(),
        deliveries,
    })
}

/// The newest `limit` posts (at most [`MAX_TIMELINE`]) of the people `keys` follows and its
/// own, public ones from the relays and friends-only and private ones from its inbox (read
/// after AUTH: friends' posts, and its own), newest first; blocked people's left out.
pub async fn timeline(
    keys: &Keys,
    relays: &RelaySet,
    limit: usize,
    until: Option<u64>,
    local: &LocalState,
) -> Result<Timeline, PostError> {
    let me = keys.public_key();
    let (follows, _) = follow_list(relays, &me).await?;
    let mut authors: Vec<PublicKey> = follows
        .following
        .into_iter()
        .filter(|a| !local.is_blocked(a))
        .collect();
    if !authors.contains(&me) {
        authors.push(me);
    }
    let limit = limit.clamp(1, MAX_TIMELINE);
    let mut filter = json!({
        "kinds": [POST_KIND],
        "authors": authors.iter().map(|a| a.to_hex()).collect::<Vec<_>>(),
        "limit": limit,
    });
    if let Some(u) = until {
        filter["until"] = u.into();
    }
    // The outbox model (NIP-65): each author's posts are read where they write, their node,
    // as well as from the relays given.
    // Someone's node being down must not hold the page up: outboxes get a short wait.
    let mut outboxes: Vec<String> = Vec::new();
    let others: Vec<PublicKey> = authors.iter().filter(|a| **a != me).copied().collect();
    for url in crate::home::home_nodes(relays, &others).await.into_values() {
        if !relays.urls.contains(&url) && !outboxes.contains(&url) && outboxes.len() < MAX_OUTBOXES
        {
            outboxes.push(url);
        }
    }
    let (found, theirs) = tokio::join!(
        query_all(&relays.urls, &filter, relays.timeout),
        query_all(&outboxes, &filter, relays.timeout.min(OUTBOX_WAIT)),
    );
    if found.answered.is_empty() {
        return Err(PostError::NoRelay(found.failed));
    }
    let in_page = |at: u64| until.is_none_or(|u| at <= u);
    let mut seen = std::collections::BTreeSet::new();
    // Only what was asked for: a relay may send more, or other authors.
    let mut posts: Vec<Post> = found
        .events
        .iter()
        .chain(theirs.events.iter())
        .filter(|e| seen.insert(e.id))
        .filter(|e| e.kind.as_u16() == POST_KIND && authors.contains(&e.pubkey))
        .filter(|e| in_page(e.created_at.as_secs()))
        .map(|e| Post::of(e))
        .collect();
    posts.sort_by(|a, b| b.created_at.cmp(&a.created_at).then(a.id.cmp(&b.id)));
    posts.truncate(limit);
    answer_counts(relays, &mut posts, local).await;
    let friends = friends_list(keys, relays)
        .await
        .map_err(|e| PostError::Friends(e.to_string()))?
        .friends;
    let opened = open_inbox(keys, relays).await?;
    for sealed in &opened.sealed {
        let Some(post) = Post::sealed(sealed) else {
            continue;
        };
        let readable = match post.visibility {
            Visibility::Private => sealed.author == me,
            _ => sealed.author == me || friends.contains(&sealed.author),
        };
        if readable && !local.is_blocked(&sealed.author) && in_page(post.created_at) {
            posts.push(post);
        }
    }
    posts.sort_by(|a, b| b.created_at.cmp(&a.created_at).then(a.id.cmp(&b.id)));
    posts.truncate(limit);
    Ok(Timeline {
        posts,
        authors: authors.iter().map(npub).collect(),
    })
}

/// Drops the public `posts` their authors asked to delete (NIP-09; a relay that honours the
/// request already dropped them, another may not have), and counts the reactions and reposts
/// of the rest, one per person, blocked people's left out.
pub async fn answer_counts(relays: &RelaySet, posts: &mut Vec<Post>, local: &LocalState) {
    use std::collections::{BTreeMap, BTreeSet};
    let ids: Vec<&str> = posts
        .iter()
        .filter(|p| p.visibility == Visibility::Public)
        .map(|p| p.id.as_str())
        .collect();
    if ids.is_empty() {
        return;
    }
    let filter = json!({"kinds": [5, 6, 7], "#e": ids});
    let found = query_all(&relays.urls, &filter, relays.timeout).await;
    let authors: BTreeMap<String, String> = posts
        .iter()
        .map(|p| (p.id.clone(), p.author.clone()))
        .collect();
    let mut deleted = BTreeSet::new();
    let mut people: BTreeMap<(String, u16), BTreeSet<PublicKey>> = BTreeMap::new();
    for e in &found.events {
        if local.is_blocked(&e.pubkey) {
            continue;
        }
        let kind = e.kind.as_u16();
        for t in e.tags.iter() {
            let [name, id, ..] = t.as_slice() else {
                continue;
            };
            let Some(author) = authors.get(id) else {
                continue;
            };
            if name != "e" {
                continue;
            }
            if kind == 5 {
                if *author == npub(&e.pubkey) {
                    deleted.insert(id.clone());
                }
            } else {
                people
                    .entry((id.clone(), kind))
                    .or_default()
                    .insert(e.pubkey);
            }
        }
    }
    posts.retain(|p| !deleted.contains(&p.id));
    for p in posts.iter_mut() {
        let count = |k: u16| people.get(&(p.id.clone(), k)).map_or(0, BTreeSet::len);
        p.reactions = count(7);
        p.reposts = count(6);
    }
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
    let root_id = marked(&first.tags, "root").unwrap_or(id);
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
        let parent = marked(&e.tags, "reply").unwrap_or(root_id);
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
