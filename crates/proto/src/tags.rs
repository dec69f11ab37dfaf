//! Reading the tags of a signature-checked event, naming the tag at fault.

use nostr::prelude::{Event, Tag};

use crate::release::ManifestError;

/// Why an event of ours did not read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EventReadError {
    /// Another kind of event.
    #[error("event kind {found} is not a {expected}")]
    Kind {
        /// The kind expected.
        expected: &'static str,
        /// The event's kind.
        found: u16,
    },
    /// The id or signature does not verify.
    #[error("the {what}'s signature or id is invalid: {why}")]
    Signature {
        /// What the event should be.
        what: &'static str,
        /// Why it does not verify.
        why: String,
    },
    /// A required tag is missing.
    #[error("the {what} has no {tag:?} tag")]
    Missing {
        /// What the event should be.
        what: &'static str,
        /// The missing tag.
        tag: &'static str,
    },
    /// A tag does not read.
    #[error("malformed {tag:?} tag in the {what}: {why}")]
    Tag {
        /// What the event should be.
        what: &'static str,
        /// The tag.
        tag: &'static str,
        /// What is wrong with it.
        why: String,
    },
    /// Its manifest was refused.
    #[error(transparent)]
    Manifest(#[from] ManifestError),
}

/// A tag from its parts (name first).
pub fn tag<S: AsRef<str>>(parts: impl IntoIterator<Item = S>) -> Tag {
    let parts: Vec<String> = parts.into_iter().map(|s| s.as_ref().to_owned()).collect();
    Tag::parse(parts).expect("a tag with a name")
}

/// A signature-checked event of the expected kind, read tag by tag.
pub struct Tags<'e> {
    /// The event.
    pub event: &'e Event,
    /// What the event should be, for errors.
    pub what: &'static str,
}

impl<'e> Tags<'e> {
    /// Checks `event`'s kind and signature, and reads its tags.
    pub fn of(event: &'e Event, kind: u16, what: &'static str) -> Result<Tags<'e>, EventReadError> {
        if event.kind.as_u16() != kind {
            return Err(EventReadError::Kind {
                expected: what,
                found: event.kind.as_u16(),
            });
        }
        event.verify().map_err(|e| EventReadError::Signature {
            what,
            why: e.to_string(),
        })?;
        Ok(Tags { event, what })
    }

    /// The first value of tag `name`, if any.
    pub fn opt(&self, name: &str) -> Option<&'e str> {
        self.all(name)
            .next()
            .and_then(|t| t.get(1))
            .map(String::as_str)
    }

    /// The first value of tag `name`, which must be there.
    pub fn one(&self, name: &'static str) -> Result<&'e str, EventReadError> {
        self.opt(name).ok_or(EventReadError::Missing {
            what: self.what,
            tag: name,
        })
    }

    /// Every tag named `name`, whole.
    pub fn all(&self, name: &str) -> impl Iterator<Item = &'e [String]> + use<'e, '_> {
        let name = name.to_owned();
        self.event
            .tags
            .iter()
            .map(|t| t.as_slice())
            .filter(move |s| s[0] == name)
    }

    /// The error for a malformed `tag`.
    pub fn bad(&self, tag: &'static str, why: impl Into<String>) -> EventReadError {
        EventReadError::Tag {
            what: self.what,
            tag,
            why: why.into(),
        }
    }
}
