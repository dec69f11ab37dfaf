//! Private messages (NIP-17): a kind 14 message, never signed itself, sealed (kind 13, signed by
//! the sender, encrypted to one recipient) and wrapped (kind 1059, signed by a throwaway key,
//! encrypted again, dated up to two days early), one wrap per recipient and one for the sender.
//!
//! Wrapping is nostr's (`GiftWrapBuilder`). Opening goes through nostr's unwrapping with our
//! decryption (`encryption::Conversation`: the size cap, the version check), and then our checks:
//! the message's id is its hash, its author is the seal's signer, it is a kind 14 with at least
//! one recipient.

use nostr::nips::nip44::Nip44;
use nostr::nips::nip59::{GiftWrapBuilder, UnwrappedGift};
use nostr::prelude::{
    Event, EventBuilder, EventId, FinalizeEvent as _, FinalizeUnsignedEvent as _, Keys, Kind,
    PublicKey, Tag, UnsignedEvent,
};
use seedstr_proto::Verified;

use crate::encryption::{Conversation, EncryptionError};

/// NIP-17's private message kind.
pub const PRIVATE_MESSAGE_KIND: u16 = 14;
/// NIP-59's gift wrap kind.
pub const GIFT_WRAP_KIND: u16 = 1059;
/// The longest message text: 64 KiB. Its seal and wrap stay far under the decryption cap.
pub const MAX_MESSAGE_BYTES: usize = 64 * 1024;

/// Why a message could not be sent or read.
#[derive(Debug, thiserror::Error)]
pub enum PrivateMessageError {
    /// Nothing to say.
    #[error("an empty message is not sent")]
    Empty,
    /// Over the cap.
    #[error("the message has {0} bytes, over the {MAX_MESSAGE_BYTES}-byte cap")]
    TooLong(usize),
    /// Nobody to send it to.
    #[error("a private message needs at least one recipient")]
    NoRecipient,
    /// Not a gift wrap.
    #[error("event {0} is kind {1}, not a gift wrap (1059)")]
    NotAWrap(EventId, u16),
    /// The wrap or the seal does not open or verify (not for us, altered, or forged).
    #[error("gift wrap {0} does not open: {1}")]
    DoesNotOpen(EventId, String),
    /// The message inside is not a private message.
    #[error("gift wrap {wrap} holds {what}, not a private message")]
    NotAMessage {
        /// The wrap.
        wrap: EventId,
        /// What it holds instead.
        what: String,
    },
    /// Signing failed.
    #[error("sealing the message: {0}")]
    Seal(String),
}

/// A message as its recipients read it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PrivateMessage {
    /// The message's id (the hash of the unsigned kind 14).
    pub id: EventId,
    /// Who wrote it: the seal's signer, who is also the message's author.
    pub from: PublicKey,
    /// Everyone it was sent to (its `p` tags).
    pub to: Vec<PublicKey>,
    /// When the author says they wrote it (the wraps' dates are blurred; this one is not).
    pub created_at: u64,
    /// The text.
    pub text: String,
}

/// One wrapped copy, for one recipient's inbox.
#[derive(Debug, Clone)]
pub struct WrappedCopy {
    /// Whose inbox it goes to (the sender's own copy too).
    pub recipient: PublicKey,
    /// The kind 1059 event.
    pub wrap: Event,
}

/// Writes `text` from `sender` to `to`: one wrap per recipient, and one for the sender so their
/// other devices and their node keep the conversation.
pub fn wrap_message(
    sender: &Keys,
    to: &[PublicKey],
    text: &str,
) -> Result<(PrivateMessage, Vec<WrappedCopy>), PrivateMessageError> {
    if text.is_empty() {
        return Err(PrivateMessageError::Empty);
    }
    if text.len() > MAX_MESSAGE_BYTES {
        return Err(PrivateMessageError::TooLong(text.len()));
    }
    if to.is_empty() {
        return Err(PrivateMessageError::NoRecipient);
    }
    let mut recipients = to.to_vec();
    recipients.dedup();
    let mut rumor = EventBuilder::new(Kind::from(PRIVATE_MESSAGE_KIND), text)
        .tags(recipients.iter().map(|p| Tag::public_key(*p)))
        .finalize_unsigned(sender.public_key());
    rumor.ensure_id();
    let message = PrivateMessage {
        id: rumor.id.expect("ensured"),
        from: sender.public_key(),
        to: recipients.clone(),
        created_at: rumor.created_at.as_secs(),
        text: text.to_owned(),
    };
    let mut copies = Vec::new();
    let mut inboxes = recipients;
    if !inboxes.contains(&sender.public_key()) {
        inboxes.push(sender.public_key());
    }
    for recipient in inboxes {
        let wrap = GiftWrapBuilder::new(recipient, rumor.clone())
            .finalize(sender)
            .map_err(|e| PrivateMessageError::Seal(e.to_string()))?;
        copies.push(WrappedCopy { recipient, wrap });
    }
    Ok((message, copies))
}

/// Opens a gift wrap addressed to `owner` and reads the private message inside.
pub fn open_message(owner: &Keys, wrap: &Verified) -> Result<PrivateMessage, PrivateMessageError> {
    let kind = wrap.kind.as_u16();
    if kind != GIFT_WRAP_KIND {
        return Err(PrivateMessageError::NotAWrap(wrap.id, kind));
    }
    let opener = Opener(owner.clone());
    let gift = UnwrappedGift::from_gift_wrap(&opener, wrap.event())
        .map_err(|e| PrivateMessageError::DoesNotOpen(wrap.id, e.to_string()))?;
    message_from_rumor(wrap.id, gift.sender, gift.rumor)
}

/// Reads the rumor a seal held: its id must be its hash, its author the seal's signer.
pub fn message_from_rumor(
    wrap: EventId,
    sealed_by: PublicKey,
    mut rumor: UnsignedEvent,
) -> Result<PrivateMessage, PrivateMessageError> {
    let not_a_message = |what: String| PrivateMessageError::NotAMessage { wrap, what };
    if rumor.pubkey != sealed_by {
        return Err(not_a_message(
            "a message by someone other than the seal's signer".into(),
        ));
    }
    match rumor.id {
        Some(_) if rumor.verify_id().is_err() => {
            return Err(not_a_message("a message whose id is not its hash".into()))
        }
        Some(_) => {}
        None => rumor.ensure_id(),
    }
    let kind = rumor.kind.as_u16();
    if kind != PRIVATE_MESSAGE_KIND {
        return Err(not_a_message(format!("a kind {kind} event")));
    }
    let to: Vec<PublicKey> = rumor
        .tags
        .iter()
        .filter_map(|t| match t.as_slice() {
            [name, key, ..] if name == "p" => PublicKey::from_hex(key).ok(),
            _ => None,
        })
        .collect();
    if to.is_empty() {
        return Err(not_a_message("a message with no recipient".into()));
    }
    if rumor.content.len() > MAX_MESSAGE_BYTES {
        return Err(PrivateMessageError::TooLong(rumor.content.len()));
    }
    Ok(PrivateMessage {
        id: rumor.id.expect("ensured"),
        from: rumor.pubkey,
        to,
        created_at: rumor.created_at.as_secs(),
        text: rumor.content,
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
    use crate::encryption::MAX_PAYLOAD_CHARS;
    use nostr::prelude::Timestamp;
    use proptest::prelude::*;

    fn verified(e: &Event) -> Verified {
        Verified::check(e.clone()).unwrap()
    }

    fn copy_for<'c>(copies: &'c [WrappedCopy], who: &Keys) -> &'c Event {
        &copies
            .iter()
            .find(|c| c.recipient == who.public_key())
            .unwrap()
            .wrap
    }

    #[test]
    fn each_recipient_and_the_sender_open_their_copy_and_nobody_else_can() {
        let (alice, bob, carol, eve) = (
            Keys::generate(),
            Keys::generate(),
            Keys::generate(),
            Keys::generate(),
        );
        let (sent, copies) = wrap_message(
            &alice,
            &[bob.public_key(), carol.public_key()],
            "hello both",
        )
        .unwrap();
        assert_eq!(copies.len(), 3, "bob, carol and alice's own copy");
        for (who, copy) in [
            (&bob, copy_for(&copies, &bob)),
            (&carol, copy_for(&copies, &carol)),
            (&alice, copy_for(&copies, &alice)),
        ] {
            let read = open_message(who, &verified(copy)).unwrap();
            assert_eq!(read, sent);
            // The wrap names its recipient, is signed by a throwaway key and is dated up to
            // two days early (never later than now).
            assert_eq!(
                copy.tags.public_keys().collect::<Vec<_>>(),
                [who.public_key()]
            );
            assert_ne!(copy.pubkey, alice.public_key());
            let now = Timestamp::now().as_secs();
            assert!(
                copy.created_at.as_secs() <= now
                    && copy.created_at.as_secs() + 2 * 86_400 + 60 >= now
            );
        }
        let err = open_message(&eve, &verified(copy_for(&copies, &bob))).unwrap_err();
        assert!(matches!(err, PrivateMessageError::DoesNotOpen(..)), "{err}");
    }

    #[test]
    fn a_seal_by_someone_else_than_the_messages_author_is_refused() {
        let (alice, bob, mallory) = (Keys::generate(), Keys::generate(), Keys::generate());
        // Mallory seals a message that claims alice wrote it.
        let mut rumor = EventBuilder::new(Kind::from(PRIVATE_MESSAGE_KIND), "pay mallory")
            .tag(Tag::public_key(bob.public_key()))
            .finalize_unsigned(alice.public_key());
        rumor.ensure_id();
        let wrap = GiftWrapBuilder::new(bob.public_key(), rumor)
            .finalize(&mallory)
            .unwrap();
        let err = open_message(&bob, &verified(&wrap)).unwrap_err();
        assert!(
            err.to_string().contains("does not open") || err.to_string().contains("seal's signer"),
            "{err}"
        );
    }

    #[test]
    fn messages_are_read_only_from_kind_14_with_recipients_and_a_true_id() {
        let (alice, bob) = (Keys::generate(), Keys::generate());
        let wrap_id = EventId::from_byte_array([0; 32]);
        let build = |kind: u16, tags: Vec<Tag>| {
            let mut r = EventBuilder::new(Kind::from(kind), "hi")
                .tags(tags)
                .finalize_unsigned(alice.public_key());
            r.ensure_id();
            r
        };
        let p = vec![Tag::public_key(bob.public_key())];
        assert!(message_from_rumor(wrap_id, alice.public_key(), build(14, p.clone())).is_ok());
        let err = message_from_rumor(wrap_id, alice.public_key(), build(1, p.clone())).unwrap_err();
        assert!(err.to_string().contains("a kind 1 event"), "{err}");
        let err = message_from_rumor(wrap_id, alice.public_key(), build(14, vec![])).unwrap_err();
        assert!(err.to_string().contains("no recipient"), "{err}");
        let mut lying = build(14, p.clone());
        lying.content = "changed after its id".into();
        let err = message_from_rumor(wrap_id, alice.public_key(), lying).unwrap_err();
        assert!(err.to_string().contains("not its hash"), "{err}");
        let err = message_from_rumor(wrap_id, bob.public_key(), build(14, p)).unwrap_err();
        assert!(err.to_string().contains("seal's signer"), "{err}");
    }

    #[test]
    fn an_oversized_wrap_is_refused_by_its_length_and_sending_is_capped() {
        let (bob, stranger) = (Keys::generate(), Keys::generate());
        let huge = EventBuilder::new(Kind::GiftWrap, "A".repeat(MAX_PAYLOAD_CHARS + 1))
            .tag(Tag::public_key(bob.public_key()))
            .finalize(&stranger)
            .unwrap();
        let err = open_message(&bob, &verified(&huge)).unwrap_err();
        assert!(err.to_string().contains("cap"), "{err}");
        let err = wrap_message(
            &stranger,
            &[bob.public_key()],
            &"x".repeat(MAX_MESSAGE_BYTES + 1),
        )
        .unwrap_err();
        assert!(matches!(err, PrivateMessageError::TooLong(_)));
        assert!(matches!(
            wrap_message(&stranger, &[], "hi"),
            Err(PrivateMessageError::NoRecipient)
        ));
        assert!(matches!(
            wrap_message(&stranger, &[bob.public_key()], ""),
            Err(PrivateMessageError::Empty)
        ));
        let note = EventBuilder::new(Kind::TextNote, "hi")
            .finalize(&stranger)
            .unwrap();
        assert!(matches!(
            open_message(&bob, &verified(&note)),
            Err(PrivateMessageError::NotAWrap(_, 1))
        ));
    }

    proptest! {
        #![proptest_config(ProptestConfig {
            rng_seed: proptest::test_runner::RngSeed::Fixed(0x5eed),
            failure_persistence: None,
            cases: 16,
            ..ProptestConfig::default()
        })]

        /// Whatever the text, the recipient reads exactly what was sent.
        #[test]
        fn what_is_sent_is_what_is_read(text in "\\PC{1,200}") {
            let (alice, bob) = (Keys::generate(), Keys::generate());
            let (sent, copies) = wrap_message(&alice, &[bob.public_key()], &text).unwrap();
            let read = open_message(&bob, &verified(copy_for(&copies, &bob))).unwrap();
            prop_assert_eq!(read, sent);
        }
    }
}
