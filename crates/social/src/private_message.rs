//! Private messages (NIP-17): a kind 14 message, never signed itself, gift-wrapped
//! ([`crate::gift_wrap`]) to each recipient and to the sender.
//!
//! Reading checks what the wrap leaves open: the message is a kind 14 with at least one
//! recipient, within the cap.

use nostr::prelude::{EventId, Keys, PublicKey, Tag};
use seedstr_proto::Verified;

use crate::gift_wrap::{check_rumor, open, rumor, wrap_for, Sealed};
pub use crate::gift_wrap::{GiftWrapError, WrappedCopy, GIFT_WRAP_KIND};

/// NIP-17's private message kind.
pub const PRIVATE_MESSAGE_KIND: u16 = 14;
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
    /// The wrap could not be made or opened.
    #[error(transparent)]
    Wrap(#[from] GiftWrapError),
    /// The wrap holds something other than a private message.
    #[error("gift wrap {wrap} holds {what}, not a private message")]
    NotAMessage {
        /// The wrap.
        wrap: EventId,
        /// What it holds instead.
        what: String,
    },
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
    let r = rumor(
        sender.public_key(),
        PRIVATE_MESSAGE_KIND,
        recipients.iter().map(|p| Tag::public_key(*p)),
        text,
    );
    let message = PrivateMessage {
        id: r.id.expect("set"),
        from: sender.public_key(),
        to: recipients.clone(),
        created_at: r.created_at.as_secs(),
        text: text.to_owned(),
    };
    let copies = wrap_for(sender, &r, &recipients, true)?;
    Ok((message, copies))
}

/// Opens a gift wrap addressed to `owner` and reads the private message inside.
pub fn open_message(owner: &Keys, wrap: &Verified) -> Result<PrivateMessage, PrivateMessageError> {
    message_of(&open(owner, wrap)?)
}

/// Reads the rumor a seal signed by `sealed_by` held as a private message.
pub fn message_from_rumor(
    wrap: EventId,
    sealed_by: PublicKey,
    rumor: nostr::prelude::UnsignedEvent,
) -> Result<PrivateMessage, PrivateMessageError> {
    message_of(&check_rumor(wrap, sealed_by, rumor)?)
}

/// The private message an opened wrap holds: a kind 14 with at least one recipient.
pub fn message_of(sealed: &Sealed) -> Result<PrivateMessage, PrivateMessageError> {
    let not_a_message = |what: String| PrivateMessageError::NotAMessage {
        wrap: sealed.wrap,
        what,
    };
    let kind = sealed.kind();
    if kind != PRIVATE_MESSAGE_KIND {
        return Err(not_a_message(format!("a kind {kind} event")));
    }
    let to = sealed.named();
    if to.is_empty() {
        return Err(not_a_message("a message with no recipient".into()));
    }
    if sealed.rumor.content.len() > MAX_MESSAGE_BYTES {
        return Err(PrivateMessageError::TooLong(sealed.rumor.content.len()));
    }
    Ok(PrivateMessage {
        id: sealed.id(),
        from: sealed.author,
        to,
        created_at: sealed.rumor.created_at.as_secs(),
        text: sealed.rumor.content.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::encryption::MAX_PAYLOAD_CHARS;
    use nostr::nips::nip59::GiftWrapBuilder;
    use nostr::prelude::{
        Event, EventBuilder, FinalizeEvent as _, FinalizeUnsignedEvent as _, Kind, Timestamp,
    };
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
        assert!(
            matches!(
                err,
                PrivateMessageError::Wrap(GiftWrapError::DoesNotOpen(..))
            ),
            "{err}"
        );
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
            Err(PrivateMessageError::Wrap(GiftWrapError::NotAWrap(_, 1)))
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
