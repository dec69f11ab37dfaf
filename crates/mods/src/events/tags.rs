//! Reading tags of a checked event, and references to releases by address.

use std::fmt;
use std::str::FromStr;

use nostr::prelude::{Event, PublicKey, Tag, ToBech32};
use seedstr_client::target::{Target, TargetError};
use seedstr_proto::release::{parse_version, Coordinate, ManifestError, Version, RELEASE_KIND};

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

pub(crate) fn tag<S: AsRef<str>>(parts: impl IntoIterator<Item = S>) -> Tag {
    let parts: Vec<String> = parts.into_iter().map(|s| s.as_ref().to_owned()).collect();
    Tag::parse(parts).expect("a tag with a name")
}

/// A signature-checked event of the expected kind, read tag by tag.
pub(crate) struct Tags<'e> {
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

/// One release, by author, project and version: `30079:<hex>:<ns>.<slug>@<version>` as an
/// address, `<npub>/<ns>.<slug>@<version>` on the command line.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ReleaseRef {
    pub author: PublicKey,
    pub coordinate: Coordinate,
    pub version: Version,
}

impl ReleaseRef {
    /// The release's `d` tag.
    pub fn d(&self) -> String {
        format!("{}@{}", self.coordinate, self.version)
    }

    pub fn address(&self) -> String {
        format!("{RELEASE_KIND}:{}:{}", self.author.to_hex(), self.d())
    }

    pub fn parse_address(s: &str) -> Result<ReleaseRef, ManifestError> {
        let wrong = || ManifestError::Coordinate(s.to_owned());
        let mut parts = s.splitn(3, ':');
        if parts.next() != Some("30079") {
            return Err(wrong());
        }
        let author = parts
            .next()
            .and_then(|a| PublicKey::from_hex(a).ok())
            .ok_or_else(wrong)?;
        let (coordinate, version) = parts
            .next()
            .and_then(|d| d.rsplit_once('@'))
            .ok_or_else(wrong)?;
        Ok(ReleaseRef {
            author,
            coordinate: Coordinate::parse(coordinate)?,
            version: parse_version(version)?,
        })
    }

    /// Reads the `a` tag of a curation event as a release address.
    pub(crate) fn from_tags(t: &Tags<'_>) -> Result<ReleaseRef, EventReadError> {
        let a = t.one("a")?;
        ReleaseRef::parse_address(a).map_err(|_| {
            t.bad(
                "a",
                format!("{a:?} is not a release address 30079:<hex author>:<ns>.<slug>@<version>"),
            )
        })
    }
}

impl fmt::Display for ReleaseRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let author = self.author.to_bech32().map_err(|_| fmt::Error)?;
        write!(f, "{author}/{}@{}", self.coordinate, self.version)
    }
}

impl FromStr for ReleaseRef {
    type Err = TargetError;

    /// `<npub or hex>/<ns>.<slug>@<version>` (a [`Target`] with its version), or the address
    /// form.
    fn from_str(s: &str) -> Result<ReleaseRef, TargetError> {
        if s.starts_with("30079:") {
            return Ok(ReleaseRef::parse_address(s)?);
        }
        let t: Target = s.parse()?;
        Ok(ReleaseRef {
            author: t.author,
            coordinate: t.coordinate,
            version: t.version.ok_or_else(|| TargetError::Shape(s.to_owned()))?,
        })
    }
}
