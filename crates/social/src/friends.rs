//! Friends: a request gift-wrapped to the person asked, an answer gift-wrapped back, and on
//! both sides a mutual follow (kind 3) and a private friends list (NIP-51 follow set, its
//! entries encrypted to oneself with NIP-44). Turning a request down and blocking are local
//! ([`crate::local`]): nothing is published, so the asker never learns of it.
//!
//! The request and the answer are rumors that only ever travel sealed (kinds 4100 and 4101,
//! which no public NIP uses): a relay sees a gift wrap to someone, nothing more.

use std::collections::BTreeSet;

use nostr::prelude::{EventBuilder, EventId, FinalizeEvent as _, Keys, Kind, PublicKey, Tag};
use seedstr_client::relays::{list_failures, publish_to_any, query_all, PublishAnswer, RelaySet};
use seedstr_client::resolve::target::npub;
use seedstr_proto::event::newest_by_address;
use serde_json::{json, Value};

use crate::encryption::Conversation;
use crate::gift_wrap::{rumor, wrap_for, Sealed};
use crate::inbox::{deliver, open_inbox, Delivery, InboxError, Opened};
use crate::local::LocalState;
use crate::people::{change_follows, PeopleError};

/// A friend request's kind (a rumor, only ever sealed).
pub const FRIEND_REQUEST_KIND: u16 = 4100;
/// A friend request's acceptance (a rumor, only ever sealed).
pub const FRIEND_ACCEPT_KIND: u16 = 4101;
/// NIP-51 follow sets: the friends list is one, `d` = [`FRIENDS_LIST_ID`].
pub const FOLLOW_SET_KIND: u16 = 30000;
/// The friends list's `d` tag.
pub const FRIENDS_LIST_ID: &str = "friends";
/// The most friends a list holds.
pub const MAX_FRIENDS: usize = 5_000;
/// The longest note a request carries.
pub const MAX_REQUEST_TEXT: usize = 2_048;

/// Why a friendship operation failed.
#[derive(Debug, thiserror::Error)]
pub enum FriendError {
    /// Asking oneself.
    #[error("you cannot befriend yourself")]
    Yourself,
    /// Already friends.
    #[error("{0} is already your friend")]
    AlreadyFriends(String),
    /// No such request.
    #[error("no pending friend request from {0}")]
    NoRequest(String),
    /// The note is over the cap.
    #[error("the request's note has {0} bytes, over the {MAX_REQUEST_TEXT}-byte cap")]
    TooLong(usize),
    /// The list is full.
    #[error("the friends list holds {MAX_FRIENDS} people already")]
    Full,
    /// No relay answered.
    #[error("no relay answered: {}", list_failures(.0))]
    NoRelay(Vec<(String, String)>),
    /// The friends list found does not open.
    #[error("your friends list {0} does not open: {1}")]
    ListUnreadable(String, String),
    /// No relay took the new friends list.
    #[error("no relay took the new friends list: {0}")]
    NotTaken(String),
    /// Delivery or reading the inbox failed.
    #[error(transparent)]
    Inbox(#[from] InboxError),
    /// Following failed.
    #[error(transparent)]
    People(#[from] PeopleError),
    /// Sealing or signing failed.
    #[error("signing: {0}")]
    Sign(String),
}

/// The owner's friends, as their private list says.
#[derive(Debug, Clone, Default)]
pub struct FriendsList {
    /// The friends, in the list's order.
    pub friends: Vec<PublicKey>,
    /// When the list was signed.
    pub created_at: Option<u64>,
}

/// A friend request as its two sides see it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FriendRequest {
    /// The request's id (hex).
    pub id: String,
    /// Who asked (npub).
    pub from: String,
    /// Who was asked (npub).
    pub to: String,
    /// When it was written.
    pub created_at: u64,
    /// The note it carries.
    pub text: String,
}

/// Where the owner stands with everyone: friends, requests both ways.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Friendships {
    /// Friends (npubs), as the private list holds them.
    pub friends: Vec<String>,
    /// Requests to the owner not yet answered (the newest per person; blocked people's and
    /// turned-down ones left out).
    pub incoming: Vec<FriendRequest>,
    /// The owner's requests not yet answered.
    pub outgoing: Vec<FriendRequest>,
    /// The owner's requests the other side accepted whose sender is not on the list yet:
    /// [`settle`] adds them.
    pub accepted: Vec<FriendRequest>,
    /// Wraps in the inbox that did not open.
    pub unreadable: usize,
}

/// What sending a request did.
#[derive(Debug, Clone, serde::Serialize)]
pub struct RequestSent {
    /// The request.
    pub request: FriendRequest,
    /// Each copy and where it went.
    pub deliveries: Vec<Delivery>,
}

/// What accepting or settling did.
#[derive(Debug, Clone, serde::Serialize)]
pub struct FriendsAdded {
    /// Who became a friend (npubs).
    pub added: Vec<String>,
    /// Friends now.
    pub friends: Vec<String>,
    /// The answer's copies, when one was sent.
    pub deliveries: Vec<Delivery>,
    /// The relays' answers to the new friends list.
    pub list_answers: Vec<PublishAnswer>,
}

impl FriendRequest {
    fn of(sealed: &Sealed) -> Option<FriendRequest> {
        let to = *sealed.named().first()?;
        Some(FriendRequest {
            id: sealed.id().to_hex(),
            from: npub(&sealed.author),
            to: npub(&to),
            created_at: sealed.rumor.created_at.as_secs(),
            text: sealed.rumor.content.clone(),
        })
    }
}

/// The owner's friends list on `relays`: their newest verified follow set `friends`, opened.
pub async fn friends_list(owner: &Keys, relays: &RelaySet) -> Result<FriendsList, FriendError> {
    let filter = json!({
        "kinds": [FOLLOW_SET_KIND],
        "authors": [owner.public_key().to_hex()],
        "#d": [FRIENDS_LIST_ID],
    });
    let found = query_all(&relays.urls, &filter, relays.timeout).await;
    if found.answered.is_empty() {
        return Err(FriendError::NoRelay(found.failed));
    }
    let mine = found.events.iter().filter(|e| {
        e.pubkey == owner.public_key() && e.tags.identifier().as_deref() == Some(FRIENDS_LIST_ID)
    });
    let Some(list) = newest_by_address(mine).into_iter().next() else {
        return Ok(FriendsList::default());
    };
    let unreadable = |why: String| FriendError::ListUnreadable(list.id.to_hex(), why);
    let friends = if list.content.is_empty() {
        Vec::new()
    } else {
        let text = Conversation::between(owner.secret_key(), &owner.public_key())
            .and_then(|c| c.decrypt(&list.content))
            .map_err(|e| unreadable(e.to_string()))?;
        private_entries(&text).map_err(unreadable)?
    };
    Ok(FriendsList {
        friends,
        created_at: Some(list.created_at.as_secs()),
    })
}

/// The people a friends list's decrypted content names: a JSON array of tags, `p` ones read.
pub fn private_entries(text: &str) -> Result<Vec<PublicKey>, String> {
    let tags: Vec<Value> = serde_json::from_str(text).map_err(|e| e.to_string())?;
    if tags.len() > MAX_FRIENDS {
        return Err(format!("it names more than {MAX_FRIENDS} people"));
    }
    let mut out = Vec::new();
    for t in &tags {
        if let [Value::String(name), Value::String(key), ..] =
            t.as_array().map(Vec::as_slice).unwrap_or(&[])
        {
            if name == "p" {
                let key = PublicKey::from_hex(key).map_err(|e| format!("{key:?}: {e}"))?;
                if !out.contains(&key) {
                    out.push(key);
                }
            }
        }
    }
    Ok(out)
}

/// Publishes `friends` as the owner's friends list, encrypted to themselves, dated after
/// `after` (the current list's date).
pub async fn publish_friends_list(
    owner: &Keys,
    relays: &RelaySet,
    friends: &[PublicKey],
    after: Option<u64>,
) -> Result<Vec<PublishAnswer>, FriendError> {
    if friends.len() > MAX_FRIENDS {
        return Err(FriendError::Full);
    }
    let entries: Vec<[String; 2]> = friends.iter().map(|p| ["p".into(), p.to_hex()]).collect();
    let content = Conversation::between(owner.secret_key(), &owner.public_key())
        .and_then(|c| c.encrypt(&serde_json::to_string(&entries).expect("serializes")))
        .map_err(|e| FriendError::Sign(e.to_string()))?;
    let list = EventBuilder::new(Kind::from(FOLLOW_SET_KIND), content)
        .tags([
            Tag::identifier(FRIENDS_LIST_ID),
            Tag::parse(["title", "Friends"]).expect("a valid tag"),
        ])
        .custom_created_at(crate::dated_after(after))
        .finalize(owner)
        .map_err(|e| FriendError::Sign(e.to_string()))?;
    publish_to_any(relays, &list)
        .await
        .map_err(FriendError::NotTaken)
}

/// Sends a friend request to `to` with a note, to their inbox, and a copy to the owner's.
pub async fn request_friend(
    owner: &Keys,
    to: PublicKey,
    text: &str,
    relays: &RelaySet,
) -> Result<RequestSent, FriendError> {
    if to == owner.public_key() {
        return Err(FriendError::Yourself);
    }
    if text.len() > MAX_REQUEST_TEXT {
        return Err(FriendError::TooLong(text.len()));
    }
    if friends_list(owner, relays).await?.friends.contains(&to) {
        return Err(FriendError::AlreadyFriends(npub(&to)));
    }
    let r = rumor(
        owner.public_key(),
        FRIEND_REQUEST_KIND,
        [Tag::public_key(to)],
        text,
    );
    let copies = wrap_for(owner, &r, &[to], true).map_err(|e| FriendError::Sign(e.to_string()))?;
    let deliveries = deliver(owner, copies, relays).await?;
    Ok(RequestSent {
        request: FriendRequest {
            id: r.id.expect("set").to_hex(),
            from: npub(&owner.public_key()),
            to: npub(&to),
            created_at: r.created_at.as_secs(),
            text: text.to_owned(),
        },
        deliveries,
    })
}

/// Where the owner stands, from their inbox (`relays`, read after AUTH) and their friends list.
pub async fn friendships(
    owner: &Keys,
    relays: &RelaySet,
    local: &LocalState,
) -> Result<Friendships, FriendError> {
    let opened = open_inbox(owner, relays).await?;
    let list = friends_list(owner, relays).await?;
    Ok(sort_out(owner.public_key(), &opened, &list.friends, local))
}

/// Sorts the opened inbox into requests both ways: what [`friendships`] reports.
pub fn sort_out(
    me: PublicKey,
    opened: &Opened,
    friends: &[PublicKey],
    local: &LocalState,
) -> Friendships {
    let mut accepts: BTreeSet<(PublicKey, EventId)> = BTreeSet::new();
    for s in opened
        .sealed
        .iter()
        .filter(|s| s.kind() == FRIEND_ACCEPT_KIND)
    {
        if s.author == me || !s.named().contains(&me) {
            continue;
        }
        for t in s.rumor.tags.iter() {
            if let [name, id, ..] = t.as_slice() {
                if let (true, Ok(id)) = (name == "e", EventId::from_hex(id)) {
                    accepts.insert((s.author, id));
                }
            }
        }
    }
    let mut out = Friendships {
        friends: friends.iter().map(npub).collect(),
        unreadable: opened.unreadable.len(),
        ..Friendships::default()
    };
    let mut requests: Vec<&Sealed> = opened
        .sealed
        .iter()
        .filter(|s| s.kind() == FRIEND_REQUEST_KIND)
        .collect();
    // Newest first, so the first seen per person is the one kept.
    requests.sort_by_key(|s| std::cmp::Reverse(s.rumor.created_at));
    let mut seen: BTreeSet<(PublicKey, PublicKey)> = BTreeSet::new();
    for s in requests {
        let Some(to) = s.named().first().copied() else {
            continue;
        };
        let Some(request) = FriendRequest::of(s) else {
            continue;
        };
        if !seen.insert((s.author, to)) {
            continue;
        }
        if s.author == me {
            if friends.contains(&to) || local.is_blocked(&to) {
                continue;
            }
            if accepts.contains(&(to, s.id())) {
                out.accepted.push(request);
            } else {
                out.outgoing.push(request);
            }
        } else if to == me
            && !friends.contains(&s.author)
            && !local.is_blocked(&s.author)
            && !local.rejected.contains(&s.id())
        {
            out.incoming.push(request);
        }
    }
    out
}

/// Accepts the pending request from `from`: answers it (gift-wrapped to them and to the owner),
/// follows them and adds them to the friends list.
pub async fn accept_friend(
    owner: &Keys,
    from: PublicKey,
    relays: &RelaySet,
    local: &LocalState,
) -> Result<FriendsAdded, FriendError> {
    let state = friendships(owner, relays, local).await?;
    let who = npub(&from);
    if state.friends.contains(&who) {
        return Err(FriendError::AlreadyFriends(who));
    }
    let request = state
        .incoming
        .iter()
        .find(|r| r.from == who)
        .ok_or_else(|| FriendError::NoRequest(who.clone()))?;
    let request_id = EventId::from_hex(&request.id).expect("an id we wrote");
    let r = rumor(
        owner.public_key(),
        FRIEND_ACCEPT_KIND,
        [Tag::public_key(from), Tag::event(request_id)],
        "",
    );
    let copies =
        wrap_for(owner, &r, &[from], true).map_err(|e| FriendError::Sign(e.to_string()))?;
    let deliveries = deliver(owner, copies, relays).await?;
    let mut added = add_friends(owner, relays, &[from]).await?;
    added.deliveries = deliveries;
    Ok(added)
}

/// Turns down the pending requests from `from`: recorded in `local` only (the caller saves
/// it); the asker is told nothing. Returns how many requests that was.
pub async fn reject_friend(
    owner: &Keys,
    from: PublicKey,
    relays: &RelaySet,
    local: &mut LocalState,
) -> Result<usize, FriendError> {
    let state = friendships(owner, relays, local).await?;
    let who = npub(&from);
    let ids: Vec<EventId> = state
        .incoming
        .iter()
        .filter(|r| r.from == who)
        .filter_map(|r| EventId::from_hex(&r.id).ok())
        .collect();
    if ids.is_empty() {
        return Err(FriendError::NoRequest(who));
    }
    for id in &ids {
        local
            .reject(*id)
            .map_err(|e| FriendError::Sign(e.to_string()))?;
    }
    Ok(ids.len())
}

/// Completes the owner's requests the other side accepted: follows them and adds them to the
/// friends list.
pub async fn settle(
    owner: &Keys,
    relays: &RelaySet,
    state: &Friendships,
) -> Result<FriendsAdded, FriendError> {
    let people: Vec<PublicKey> = state
        .accepted
        .iter()
        .filter_map(|r| seedstr_client::resolve::target::parse_public_key(&r.to).ok())
        .collect();
    if people.is_empty() {
        return Ok(FriendsAdded {
            added: Vec::new(),
            friends: state.friends.clone(),
            deliveries: Vec::new(),
            list_answers: Vec::new(),
        });
    }
    add_friends(owner, relays, &people).await
}

/// Follows `people` and adds them to the friends list.
async fn add_friends(
    owner: &Keys,
    relays: &RelaySet,
    people: &[PublicKey],
) -> Result<FriendsAdded, FriendError> {
    let list = friends_list(owner, relays).await?;
    let mut friends = list.friends;
    let mut added = Vec::new();
    for p in people {
        if !friends.contains(p) {
            friends.push(*p);
            added.push(npub(p));
        }
    }
    change_follows(owner, relays, people, true).await?;
    let list_answers = publish_friends_list(owner, relays, &friends, list.created_at).await?;
    Ok(FriendsAdded {
        added,
        friends: friends.iter().map(npub).collect(),
        deliveries: Vec::new(),
        list_answers,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gift_wrap::check_rumor;
    use nostr::prelude::FinalizeUnsignedEvent as _;

    fn sealed(author: &Keys, kind: u16, tags: Vec<Tag>, at: u64) -> Sealed {
        let mut r = EventBuilder::new(Kind::from(kind), "")
            .tags(tags)
            .custom_created_at(nostr::prelude::Timestamp::from(at))
            .finalize_unsigned(author.public_key());
        r.ensure_id();
        check_rumor(EventId::from_byte_array([0; 32]), author.public_key(), r).unwrap()
    }

    #[test]
    fn requests_sort_into_incoming_outgoing_and_accepted() {
        let (me, ann, bob, cat, eve) = (
            Keys::generate(),
            Keys::generate(),
            Keys::generate(),
            Keys::generate(),
            Keys::generate(),
        );
        let p = |k: &Keys| vec![Tag::public_key(k.public_key())];
        let to_me = |k: &Keys, at| sealed(k, FRIEND_REQUEST_KIND, p(&me), at);
        let mine_to_bob = sealed(&me, FRIEND_REQUEST_KIND, p(&bob), 5);
        let mine_to_cat = sealed(&me, FRIEND_REQUEST_KIND, p(&cat), 6);
        let mut bob_accepts = p(&me);
        bob_accepts.push(Tag::event(mine_to_bob.id()));
        // Eve's "accept" names a request of mine she was never sent: still only cat's pending.
        let mut eve_accepts = p(&me);
        eve_accepts.push(Tag::event(mine_to_cat.id()));
        let ann_old = to_me(&ann, 1);
        let ann_new = to_me(&ann, 2);
        let rejected = to_me(&eve, 3);
        let opened = Opened {
            sealed: vec![
                ann_old,
                ann_new.clone(),
                rejected.clone(),
                mine_to_bob,
                mine_to_cat,
                sealed(&bob, FRIEND_ACCEPT_KIND, bob_accepts, 7),
                sealed(&eve, FRIEND_ACCEPT_KIND, eve_accepts, 8),
            ],
            ..Opened::default()
        };
        let mut local = LocalState::default();
        local.reject(rejected.id()).unwrap();
        let s = sort_out(me.public_key(), &opened, &[], &local);
        assert_eq!(
            s.incoming.iter().map(|r| r.id.clone()).collect::<Vec<_>>(),
            [ann_new.id().to_hex()],
            "ann's newest request only; eve's turned down"
        );
        assert_eq!(s.accepted.len(), 1);
        assert_eq!(s.accepted[0].to, npub(&bob.public_key()));
        assert_eq!(s.outgoing.len(), 1);
        assert_eq!(s.outgoing[0].to, npub(&cat.public_key()));
        // Once friends, nothing is pending; a blocked asker is not shown.
        let mut local = LocalState::default();
        local.block(ann.public_key()).unwrap();
        let s = sort_out(
            me.public_key(),
            &opened,
            &[bob.public_key(), cat.public_key()],
            &local,
        );
        assert!(s.accepted.is_empty() && s.outgoing.is_empty());
        assert_eq!(s.incoming.len(), 1, "eve's, not turned down this time");
    }

    #[test]
    fn private_entries_read_p_tags_once_and_refuse_junk() {
        let k = Keys::generate().public_key();
        let text = json!([["p", k.to_hex()], ["p", k.to_hex()], ["t", "x"], []]).to_string();
        assert_eq!(private_entries(&text).unwrap(), [k]);
        assert!(private_entries("{}").is_err());
        assert!(private_entries(r#"[["p","zz"]]"#).is_err());
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig {
            rng_seed: proptest::test_runner::RngSeed::Fixed(0x5eed),
            failure_persistence: None,
            cases: 64,
            ..proptest::prelude::ProptestConfig::default()
        })]

        /// The entries a list is written with are the entries read back, each once, in order;
        /// any other text is read or refused, never a panic.
        #[test]
        fn entries_read_back_as_written(n in 0usize..20, dup in 0usize..20, junk in "\\PC{0,300}") {
            let keys: Vec<PublicKey> = (0..n).map(|_| Keys::generate().public_key()).collect();
            let mut written: Vec<[String; 2]> = keys.iter().map(|p| ["p".into(), p.to_hex()]).collect();
            if let Some(k) = keys.get(dup) {
                written.push(["p".into(), k.to_hex()]);
            }
            let text = serde_json::to_string(&written).unwrap();
            proptest::prop_assert_eq!(private_entries(&text).unwrap(), keys);
            let _ = private_entries(&junk);
        }
    }
}
