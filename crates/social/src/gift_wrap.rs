//! NIP-59 gift wraps: an unsigned event (the rumor) sealed by its author for one recipient
//! (kind 13, signed, encrypted) and wrapped again by a throwaway key (kind 1059, dated up to two
//! days early), so a relay sees neither who wrote it nor what it says. Private messages, friend
//! requests and friends-only posts all travel this way.
//!
//! Wrapping is nostr's (`GiftWrapBuilder`). Opening goes through nostr's unwrapping with our
//! decryption (`encryption::Conversation`: the size cap, the version check), then our checks of
//! what nostr leaves to the caller: the rumor's id is its hash and its author is the seal's
//! signer.

use nostr::nips::nip44::Nip44;
use nostr::nips::nip59::{GiftWrapBuilder, UnwrappedGift};
use nostr::prelude::{
    Event, EventBuilder, EventId, FinalizeEvent as _, FinalizeUnsignedEvent as _, Keys, Kind,
    PublicKey, Tag, UnsignedEvent,
};
use seedstr_proto::Verified;

use crate::encryption::{Conversation, EncryptionError};

/// NIP-59's gift wrap kind.
pub const GIFT_WRAP_KIND: u16 = 1059;

/// Why a wrap could not be made or opened.
#[derive(Debug, thiserror::Error)]
pub enum GiftWrapError {
    /// Not a gift wrap.
    #[error("event {0} is kind {1}, not a gift wrap (1059)")]
    NotAWrap(EventId, u16),
    /// The wrap or the seal does not open or verify (not for us, altered, or forged).
    #[error("gift wrap {0} does not open: {1}")]
    DoesNotOpen(EventId, String),
    /// The seal opened but what it holds is not its signer's.
    #[error("gift wrap {wrap} holds {what}")]
    Forged {
        /// The wrap.
        wrap: EventId,
        /// What is wrong with it.
        what: String,
    },
    /// Sealing failed.
    #[error("sealing: {0}")]
    Seal(String),
}

/// What a wrap held, checked: an unsigned event whose id is its hash, by the seal's signer.
#[derive(Debug, Clone)]
pub struct Sealed {
    /// The wrap it came in.
    pub wrap: EventId,
    /// Who wrote it (the seal's signer and the rumor's author).
    pub author: PublicKey,
    /// The event; its `id` is set and true.
    pub rumor: UnsignedEvent,
}

impl Sealed {
    /// The rumor's id.
    pub fn id(&self) -> EventId {
        self.rumor.id.expect("checked when opened")
    }

    /// The rumor's kind.
    pub fn kind(&self) -> u16 {
        self.rumor.kind.as_u16()
    }

    /// The people its `p` tags name.
    pub fn named(&self) -> Vec<PublicKey> {
        self.rumor
            .tags
            .iter()
            .filter_map(|t| match t.as_slice() {
                [name, key, ..] if name == "p" => PublicKey::from_hex(key).ok(),
                _ => None,
            })
            .collect()
    }
}

/// One wrapped copy, for one recipient's inbox.
#[derive(Debug, Clone)]
pub struct WrappedCopy {
    /// Whose inbox it goes to (the author's own copy too).
    pub recipient: PublicKey,
    /// The kind 1059 event.
    pub wrap: Event,
}

/// An unsigned event by `author`, its id set.
pub fn rumor(
    author: PublicKey,
    kind: u16,
    tags: impl IntoIterator<Item = Tag>,
    content: &str,
) -> UnsignedEvent {
    let mut r = EventBuilder::new(Kind::from(kind), content)
        .tags(tags)
        .finalize_unsigned(author);
    r.ensure_id();
    r
}

/// Seals and wraps `rumor` for each of `recipients` and, when `author_copy`, for its author too
/// (so their other devices and their node keep it). Each recipient gets one copy.
pub fn wrap_for(
    author: &Keys,
    rumor: &UnsignedEvent,
    recipients: &[PublicKey],
    author_copy: bool,
) -> Result<Vec<WrappedCopy>, GiftWrapError> {
    let mut inboxes: Vec<PublicKey> = Vec::with_capacity(recipients.len() + 1);
    for p in recipients {
        if !inboxes.contains(p) {
            inboxes.push(*p);
        }
    }
    if author_copy && !inboxes.contains(&author.public_key()) {
        inboxes.push(author.public_key());
    }
    inboxes
        .into_iter()
        .map(|recipient| {
            let wrap = GiftWrapBuilder::new(recipient, rumor.clone())
                .finalize(author)
                .map_err(|e| GiftWrapError::Seal(e.to_string()))?;
            Ok(WrappedCopy { recipient, wrap })
        })
        .collect()
}

/// Opens a gift wrap addressed to `owner`.
pub fn open(owner: &Keys, wrap: &Verified) -> Result<Sealed, GiftWrapError> {
    let kind = wrap.kind.as_u16();
    if kind != GIFT_WRAP_KIND {
        return Err(GiftWrapError::NotAWrap(wrap.id, kind));
    }
    let opener = Opener(owner.clone());
    let gift = UnwrappedGift::from_gift_wrap(&opener, wrap.event())
        .map_err(|e| GiftWrapError::DoesNotOpen(wrap.id, e.to_string()))?;
    check_rumor(wrap.id, gift.sender, gift.rumor)
}

/// Checks the rumor a seal signed by `sealed_by` held: its author must be the seal's signer and
/// its id, when it has one, its hash.
pub fn check_rumor(
    wrap: EventId,
    sealed_by: PublicKey,
    mut rumor: UnsignedEvent,
) -> Result<Sealed, GiftWrapError> {
    let forged = |what: &str| GiftWrapError::Forged {
        wrap,
        what: what.to_owned(),
    };
    if rumor.pubkey != sealed_by {
        return Err(forged("an event by someone other than the seal's signer"));
    }
    match rumor.id {
        Some(_) if rumor.verify_id().is_err() => {
            return Err(forged("an event whose id is not its hash"))
        }
        Some(_) => {}
        None => rumor.ensure_id(),
    }
    Ok(Sealed {
        wrap,
        author: sealed_by,
        rumor,
    })
}

/// The owner's key as nostr's unwrapping asks for it, decrypting through our capped reader.
#[derive(Debug)]
struct Opener(Keys);

impl Nip44 for Opener {
    type Error = EncryptionError;

    fn nip44_encrypt(&self, public_key: &PublicKey, content: &str) -> Result<String, Self::Error> {
        Conversation::between(self.0.secret_key(), public_key)?.encrypt(content)
    }

    fn nip44_decrypt(&self, public_key: &PublicKey, payload: &str) -> Result<String, Self::Error> {
        Conversation::between(self.0.secret_key(), public_key)?.decrypt(payload)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_recipient_opens_their_copy_and_the_author_copy_is_optional() {
        let (alice, bob, eve) = (Keys::generate(), Keys::generate(), Keys::generate());
        let r = rumor(
            alice.public_key(),
            4100,
            [Tag::public_key(bob.public_key())],
            "hi",
        );
        let with = wrap_for(&alice, &r, &[bob.public_key(), bob.public_key()], true).unwrap();
        assert_eq!(with.len(), 2, "bob once, and alice");
        let without = wrap_for(&alice, &r, &[bob.public_key()], false).unwrap();
        assert_eq!(without.len(), 1);
        let copy = Verified::check(without[0].wrap.clone()).unwrap();
        let sealed = open(&bob, &copy).unwrap();
        assert_eq!(sealed.author, alice.public_key());
        assert_eq!(sealed.id(), r.id.unwrap());
        assert_eq!(sealed.kind(), 4100);
        assert_eq!(sealed.named(), [bob.public_key()]);
        assert!(matches!(
            open(&eve, &copy),
            Err(GiftWrapError::DoesNotOpen(..))
        ));
        let note = EventBuilder::new(Kind::TextNote, "hi")
            .finalize(&alice)
            .unwrap();
        assert!(matches!(
            open(&bob, &Verified::check(note).unwrap()),
            Err(GiftWrapError::NotAWrap(_, 1))
        ));
    }
}
