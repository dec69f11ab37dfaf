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

use crate::private_message::{
    open_message, wrap_message, PrivateMessage, PrivateMessageError, GIFT_WRAP_KIND,
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
    /// No inbox took the message for these recipients.
    #[error("no relay took the message for {}: {}", .recipients.join(", "), .why)]
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
    /// The messages, oldest first, each once.
    pub messages: Vec<PrivateMessage>,
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
    let people: Vec<PublicKey> = copies.iter().map(|c| c.recipient).collect();
    let inboxes = inbox_relays(relays, &people).await;
    let mut deliveries = Vec::new();
    for copy in copies {
        let (targets, to_inbox_list) = match inboxes.get(&copy.recipient) {
            Some(urls) => (urls.clone(), true),
            None => (relays.urls.clone(), false),
        };
        let answers = publish_all(&targets, std::slice::from_ref(&copy.wrap), relays.timeout).await;
        deliveries.push(Delivery {
            recipient: npub(&copy.recipient),
            wrap: copy.wrap.id.to_hex(),
            to_inbox_list,
            answers,
        });
    }
    // Every recipient (the sender's own copy aside) must have been taken somewhere.
    let me = npub(&sender.public_key());
    let undelivered: Vec<&Delivery> = deliveries
        .iter()
        .filter(|d| d.recipient != me && !d.answers.iter().any(|a| a.accepted))
        .collect();
    if !undelivered.is_empty() {
        let answers: Vec<PublishAnswer> = undelivered
            .iter()
            .flat_map(|d| d.answers.iter().cloned())
            .collect();
        let why = describe_answers(&answers);
        return Err(InboxError::Undelivered {
            recipients: undelivered.iter().map(|d| d.recipient.clone()).collect(),
            why,
        });
    }
    Ok(SentMessage {
        message,
        deliveries,
    })
}

/// Reads the private messages addressed to `owner` on `relays`.
pub async fn read_messages(owner: &Keys, relays: &RelaySet) -> Result<Inbox, InboxError> {
    let filter = json!({
        "kinds": [GIFT_WRAP_KIND],
        "#p": [owner.public_key().to_hex()],
    });
    let found = query_all_as(owner, &relays.urls, &filter, relays.timeout).await;
    if found.answered.is_empty() {
        return Err(InboxError::NoRelay(found.failed));
    }
    let mut seen = BTreeSet::new();
    let mut messages = Vec::new();
    let mut unreadable = Vec::new();
    for wrap in &found.events {
        match open_message(owner, wrap) {
            Ok(m) => {
                if seen.insert(m.id) {
                    messages.push(m);
                }
            }
            Err(e) => unreadable.push(Unreadable {
                wrap: wrap.id.to_hex(),
                why: e.to_string(),
            }),
        }
    }
    messages.sort_by_key(|m| (m.created_at, m.id));
    Ok(Inbox {
        messages,
        unreadable,
        relays_answered: found.answered,
        relays_failed: found.failed,
    })
}
