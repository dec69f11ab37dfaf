//! References to releases by address, read with the protocol's tag reader.

use std::fmt;
use std::str::FromStr;

use nostr::prelude::{PublicKey, ToBech32};
use seedstr_client::resolve::target::{Target, TargetError};
use seedstr_proto::release::{parse_version, Coordinate, ManifestError, Version, RELEASE_KIND};
pub use seedstr_proto::tags::{tag, EventReadError, Tags};

/// One release, by author, project and version: `30079:<hex>:<ns>.<slug>@<version>` as an
/// address, `<npub>/<ns>.<slug>@<version>` on the command line.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ReleaseRef {
    /// The release's author.
    pub author: PublicKey,
    /// The project.
    pub coordinate: Coordinate,
    /// The version.
    pub version: Version,
}

impl ReleaseRef {
    /// The release's `d` tag.
    pub fn d(&self) -> String {
        format!("{}@{}", self.coordinate, self.version)
    }

    /// The release's address, `30079:<hex>:<ns>.<slug>@<version>`.
    pub fn address(&self) -> String {
        format!("{RELEASE_KIND}:{}:{}", self.author.to_hex(), self.d())
    }

    /// Reads a release's address.
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
