//! Reading the tags of a signature-checked event, naming the tag at fault.

use nostr::prelude::{Event, Tag};

use crate::release::ManifestError;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EventReadError {
    #[error("event kind {found} is not a {expected}")]
    Kind { expected: &'static str, found: u16 },
    #[error("the {what}'s signature or id is invalid: {why}")]
    Signature { what: &'static str, why: String },
    #[error("the {what} has no {tag:?} tag")]
    Missing {
        what: &'static str,
        tag: &'static str,
    },
    #[error("malformed {tag:?} tag in the {what}: {why}")]
    Tag {
        what: &'static str,
        tag: &'static str,
        why: String,
    },
    #[error(transparent)]
    Manifest(#[from] ManifestError),
}

pub fn tag<S: AsRef<str>>(parts: impl IntoIterator<Item = S>) -> Tag {
    let parts: Vec<String> = parts.into_iter().map(|s| s.as_ref().to_owned()).collect();
    Tag::parse(parts).expect("a tag with a name")
}

/// A signature-checked event of the expected kind, read tag by tag.
pub struct Tags<'e> {
    pub event: &'e Event,
    pub what: &'static str,
}

impl<'e> Tags<'e> {
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

    pub fn opt(&self, name: &str) -> Option<&'e str> {
        self.all(name)
            .next()
            .and_then(|t| t.get(1))
            .map(String::as_str)
    }

    pub fn one(&self, name: &'static str) -> Result<&'e str, EventReadError> {
        self.opt(name).ok_or(EventReadError::Missing {
            what: self.what,
            tag: name,
        })
    }

    pub fn all(&self, name: &str) -> impl Iterator<Item = &'e [String]> + use<'e, '_> {
        let name = name.to_owned();
        self.event
            .tags
            .iter()
            .map(|t| t.as_slice())
            .filter(move |s| s[0] == name)
    }

    pub fn bad(&self, tag: &'static str, why: impl Into<String>) -> EventReadError {
        EventReadError::Tag {
            what: self.what,
            tag,
            why: why.into(),
        }
    }
}
