//! Sending private messages to people's inboxes and reading one's own (NIP-17 over relays).
//!
//! A message goes to each recipient's inbox relays, the ones their kind 10050 list names (their
//! node, in O-Red); for someone without such a list, to the relays the sender was given. Reading
//! authenticates (NIP-42) to each relay, since relays serve gift wraps only to their recipient,
//! and opens every wrap addressed to the reader.

use std::collections::{BTreeMap, BTreeSet};

use nostr::prelude::{Keys, PublicKey};
use seedstr_client::relays::{
    describe_answers, list_failures, publish_all, query_all, query_all_as, PublishAnswer, RelaySet,
};
use seedstr_client::resolve::target::npub;
use seedstr_proto::event::newest_by_address;
use serde_json::json;

use crate::friends::friends_list;
use crate::gift_wrap::{open, Sealed, WrappedCopy, GIFT_WRAP_KIND};
use crate::local::LocalState;
use crate::people::follow_list;
use crate::private_message::{
    message_of, wrap_message, PrivateMessage, PrivateMessageError, PRIVATE_MESSAGE_KIND,
};

/// NIP-17's list of the relays where someone takes private messages.
pub const INBOX_RELAYS_KIND: u16 = 10050;
/// The most of someone's inbox relays a message is sent to: the list is theirs, and a list
/// naming thousands must not make us open thousands of connections.
pub const MAX_INBOX_RELAYS: usize = 8;

/// Why sending or reading failed.
#[derive(Debug, thiserror::Error)]
pub enum InboxError {
    /// The message itself was refused before anything was sent.
    #[error(transparent)]
    Message(#[from] PrivateMessageError),
    /// No relay answered.
    #[error("no relay answered: {}", list_failures(.0))]
    NoRelay(Vec<(String, String)>),
    /// Whom the owner knows (follows, friends) could not be read.
    #[error("reading whom you know: {0}")]
    Known(String),
    /// No inbox took a copy for these recipients.
    #[error("no relay took the copy for {}: {}", .recipients.join(", "), .why)]
    Undelivered {
        /// The recipients (npub).
        recipients: Vec<String>,
        /// What the relays said.
        why: String,
    },
}

/// Where one copy went.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Delivery {
    /// Whose copy (npub); the sender's own copy is among them.
    pub recipient: String,
    /// The gift wrap's id (hex).
    pub wrap: String,
    /// Whether the relays came from the recipient's inbox list (10050) or were the sender's.
    pub to_inbox_list: bool,
    /// Each relay's answer.
    pub answers: Vec<PublishAnswer>,
    /// Whether the copy waits on the sender's relays for the recipient's node to fetch it (no
    /// relay of their inbox list took it: their node is down, say).
    pub held_for_pickup: bool,
}

/// What [`send_message`] did.
#[derive(Debug, Clone, serde::Serialize)]
pub struct SentMessage {
    /// The message, as its recipients will read it.
    pub message: PrivateMessage,
    /// Each copy and where it went.
    pub deliveries: Vec<Delivery>,
}

/// A gift wrap addressed to the reader that did not give a message.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Unreadable {
    /// The wrap's id (hex).
    pub wrap: String,
    /// Why.
    pub why: String,
}

/// What [`read_messages`] found.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Inbox {
    /// The messages from people the reader knows (follows, friends, themselves), oldest first,
    /// each once.
    pub messages: Vec<PrivateMessage>,
    /// The messages from strangers, oldest first: the requests folder.
    pub requests: Vec<PrivateMessage>,
    /// How many messages came from blocked people (not shown).
    pub blocked: usize,
    /// Wraps that did not open or did not hold a message.
    pub unreadable: Vec<Unreadable>,
    /// Relays that answered.
    pub relays_answered: Vec<String>,
    /// Relays that could not be asked, and why.
    pub relays_failed: Vec<(String, String)>,
}

/// The inbox relays (10050) each of `people` names, as `relays` hold their lists: WebSocket
/// addresses only, at most [`MAX_INBOX_RELAYS`] each.
pub async fn inbox_relays(
    relays: &RelaySet,
    people: &[PublicKey],
) -> BTreeMap<PublicKey, Vec<String>> {
    let filter = json!({
        "kinds": [INBOX_RELAYS_KIND],
        "authors": people.iter().map(|p| p.to_hex()).collect::<Vec<_>>(),
    });
    let found = query_all(&relays.urls, &filter, relays.timeout).await;
    let mut out = BTreeMap::new();
    for list in newest_by_address(&found.events) {
        let urls: Vec<String> = list
            .tags
            .iter()
            .filter_map(|t| match t.as_slice() {
                [name, url, ..]
                    if name == "relay"
                        && (url.starts_with("wss://") || url.starts_with("ws://")) =>
                {
                    Some(url.clone())
                }
                _ => None,
            })
            .take(MAX_INBOX_RELAYS)
            .collect();
        if !urls.is_empty() {
            out.insert(list.pubkey, urls);
        }
    }
    out
}

/// Sends `text` from `sender` to `to`, each copy to its recipient's inbox relays.
pub async fn send_message(
    sender: &Keys,
    to: &[PublicKey],
    text: &str,
    relays: &RelaySet,
) -> Result<SentMessage, InboxError> {
    let (message, copies) = wrap_message(sender, to, text)?;
    let deliveries = deliver(sender, copies, relays).await?;
    Ok(SentMessage {
        message,
        deliveries,
    })
}

/// Sends each wrapped copy to its recipient's inbox relays (their 10050 list, else `relays`),
/// copies bound for the same relays together; a copy none of their inbox relays took is left
/// on `relays` (the sender's) for their node to fetch. Err naming the recipients no relay took
/// a copy for; the author's own copy counts only when it is the only one (a private post).
pub async fn deliver(
    author: &Keys,
    copies: Vec<WrappedCopy>,
    relays: &RelaySet,
) -> Result<Vec<Delivery>, InboxError> {
    let people: Vec<PublicKey> = copies.iter().map(|c| c.recipient).collect();
    let inboxes = inbox_relays(relays, &people).await;
    let mut batches: BTreeMap<Vec<String>, Vec<WrappedCopy>> = BTreeMap::new();
    for copy in copies {
        let targets = inboxes
            .get(&copy.recipient)
            .cloned()
            .unwrap_or_else(|| relays.urls.clone());
        batches.entry(targets).or_default().push(copy);
    }
    let mut deliveries = Vec::new();
    let mut wraps = Vec::new();
    for (targets, batch) in batches {
        let events: Vec<_> = batch.iter().map(|c| c.wrap.clone()).collect();
        let answers = publish_all(&targets, &events, relays.timeout).await;
        for copy in batch {
            let id = copy.wrap.id.to_hex();
            deliveries.push(Delivery {
                recipient: npub(&copy.recipient),
                wrap: id.clone(),
                to_inbox_list: inboxes.contains_key(&copy.recipient),
                answers: answers
                    .iter()
                    .filter(|a| a.event_id == id)
                    .cloned()
                    .collect(),
                held_for_pickup: false,
            });
            wraps.push(copy.wrap);
        }
    }
    // A copy no inbox relay took waits on the sender's own relays: the recipient's node
    // fetches it there when it comes back (content sync).
    let unplaced: Vec<usize> = deliveries
        .iter()
        .enumerate()
        .filter(|(_, d)| d.to_inbox_list && !d.answers.iter().any(|a| a.accepted))
        .map(|(i, _)| i)
        .collect();
    if !unplaced.is_empty() {
        let events: Vec<_> = unplaced.iter().map(|i| wraps[*i].clone()).collect();
        let held = publish_all(&relays.urls, &events, relays.timeout).await;
        for i in unplaced {
            let id = &deliveries[i].wrap;
            let here: Vec<PublishAnswer> =
                held.iter().filter(|a| a.event_id == *id).cloned().collect();
            deliveries[i].held_for_pickup = here.iter().any(|a| a.accepted);
            deliveries[i].answers.extend(here);
        }
    }
    let me = npub(&author.public_key());
    let only_mine = deliveries.iter().all(|d| d.recipient == me);
    let undelivered: Vec<&Delivery> = deliveries
        .iter()
        .filter(|d| (only_mine || d.recipient != me) && !d.answers.iter().any(|a| a.accepted))
        .collect();
    if !undelivered.is_empty() {
        let answers: Vec<PublishAnswer> = undelivered
            .iter()
            .flat_map(|d| d.answers.iter().cloned())
            .collect();
        return Err(InboxError::Undelivered {
            recipients: undelivered.iter().map(|d| d.recipient.clone()).collect(),
            why: describe_answers(&answers),
        });
    }
    Ok(deliveries)
}

/// Every gift wrap addressed to `owner` on `relays`, opened.
#[derive(Debug, Default)]
pub struct Opened {
    /// What opened, each rumor once.
    pub sealed: Vec<Sealed>,
    /// Wraps that did not open.
    pub unreadable: Vec<Unreadable>,
    /// Relays that answered.
    pub relays_answered: Vec<String>,
    /// Relays that could not be asked, and why.
    pub relays_failed: Vec<(String, String)>,
}

/// Reads and opens the gift wraps addressed to `owner` on `relays` (authenticating to each).
pub async fn open_inbox(owner: &Keys, relays: &RelaySet) -> Result<Opened, InboxError> {
    let filter = json!({
        "kinds": [GIFT_WRAP_KIND],
        "#p": [owner.public_key().to_hex()],
    });
    let found = query_all_as(owner, &relays.urls, &filter, relays.timeout).await;
    if found.answered.is_empty() {
        return Err(InboxError::NoRelay(found.failed));
    }
    let mut seen = BTreeSet::new();
    let mut out = Opened {
        relays_answered: found.answered,
        relays_failed: found.failed,
        ..Opened::default()
    };
    for wrap in &found.events {
        match open(owner, wrap) {
            Ok(s) => {
                if seen.insert(s.id()) {
                    out.sealed.push(s);
                }
            }
            Err(e) => out.unreadable.push(Unreadable {
                wrap: wrap.id.to_hex(),
                why: e.to_string(),
            }),
        }
    }
    Ok(out)
}

/// Reads the private messages addressed to `owner` on `relays`: from the people they follow,
/// their friends and themselves in `messages`, from anyone else in `requests`, from the people
/// `local` blocks nowhere.
pub async fn read_messages(
    owner: &Keys,
    relays: &RelaySet,
    local: &LocalState,
) -> Result<Inbox, InboxError> {
    let opened = open_inbox(owner, relays).await?;
    let known = known_people(owner, relays).await?;
    let mut inbox = Inbox {
        messages: Vec::new(),
        requests: Vec::new(),
        blocked: 0,
        unreadable: opened.unreadable,
        relays_answered: opened.relays_answered,
        relays_failed: opened.relays_failed,
    };
    for sealed in opened
        .sealed
        .iter()
        .filter(|s| s.kind() == PRIVATE_MESSAGE_KIND)
    {
        match message_of(sealed) {
            Ok(m) if local.is_blocked(&m.from) => inbox.blocked += 1,
            Ok(m) if known.contains(&m.from) => inbox.messages.push(m),
            Ok(m) => inbox.requests.push(m),
            Err(e) => inbox.unreadable.push(Unreadable {
                wrap: sealed.wrap.to_hex(),
                why: e.to_string(),
            }),
        }
    }
    inbox.messages.sort_by_key(|m| (m.created_at, m.id));
    inbox.requests.sort_by_key(|m| (m.created_at, m.id));
    Ok(inbox)
}

/// The people whose messages are not a stranger's: oneself, the people followed, and friends.
async fn known_people(owner: &Keys, relays: &RelaySet) -> Result<BTreeSet<PublicKey>, InboxError> {
    let mut known: BTreeSet<PublicKey> = [owner.public_key()].into();
    let (follows, _) = follow_list(relays, &owner.public_key())
        .await
        .map_err(|e| InboxError::Known(e.to_string()))?;
    known.extend(follows.following);
    let friends = friends_list(owner, relays)
        .await
        .map_err(|e| InboxError::Known(e.to_string()))?;
    known.extend(friends.friends);
    Ok(known)
}
