//! What an install names: `<npub or hex>/<ns>.<slug>[@<version>]`.

use std::fmt;
use std::str::FromStr;

use nostr::prelude::{FromBech32, PublicKey, ToBech32};
use seedstr_proto::release::{parse_version, Coordinate, ManifestError, Version};

/// What to install: an author's project, and perhaps a version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// The author's public key.
    pub author: PublicKey,
    /// The project.
    pub coordinate: Coordinate,
    /// `None`: the newest release.
    pub version: Option<Version>,
}

/// Why a target does not parse.
#[derive(Debug, thiserror::Error)]
pub enum TargetError {
    /// The text is not `author/namespace.slug[@version]`.
    #[error("{0:?} is not <npub or hex key>/<namespace>.<slug>[@<version>]")]
    Shape(String),
    /// The author is not a public key.
    #[error("{0:?} is not an npub or a 64-character hex public key")]
    Author(String),
    /// The project or version is invalid.
    #[error(transparent)]
    Manifest(#[from] ManifestError),
}

/// A key as people read it: its npub.
pub fn npub(key: &PublicKey) -> String {
    key.to_bech32().unwrap_or_else(|_| key.to_hex())
}

/// Reads an npub or a 64-character hex key.
pub fn parse_public_key(s: &str) -> Result<PublicKey, TargetError> {
    let key = if s.starts_with("npub1") {
        PublicKey::from_bech32(s).ok()
    } else if s.len() == 64 {
        PublicKey::from_hex(s).ok()
    } else {
        None
    };
    key.ok_or_else(|| TargetError::Author(s.to_owned()))
}

impl FromStr for Target {
    type Err = TargetError;

    fn from_str(s: &str) -> Result<Target, TargetError> {
        let (author, rest) = s
            .split_once('/')
            .ok_or_else(|| TargetError::Shape(s.to_owned()))?;
        // The version follows the last '@', unless that '@' opens a scoped npm name
        // (`npm.@scope/name`).
        let at = rest.rfind('@').filter(|&i| !rest[..i].ends_with('.'));
        let (coordinate, version) = match at {
            Some(i) => (&rest[..i], Some(parse_version(&rest[i + 1..])?)),
            None => (rest, None),
        };
        Ok(Target {
            author: parse_public_key(author)?,
            coordinate: Coordinate::parse(coordinate)?,
            version,
        })
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let author = self
            .author
            .to_bech32()
            .unwrap_or_else(|_| self.author.to_hex());
        write!(f, "{author}/{}", self.coordinate)?;
        if let Some(v) = &self.version {
            write!(f, "@{v}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use nostr::prelude::Keys;

    #[test]
    fn npub_and_hex_forms_parse_to_the_same_target() {
        let pk = Keys::generate().public_key();
        let a: Target = format!("{}/skyrim-se.trees@1.2.0", pk.to_bech32().unwrap())
            .parse()
            .unwrap();
        let b: Target = format!("{}/skyrim-se.trees@1.2.0", pk.to_hex())
            .parse()
            .unwrap();
        assert_eq!(a, b);
        assert_eq!(a.version, Some(Version::new(1, 2, 0)));
        let newest: Target = format!("{}/generic.tool", pk.to_hex()).parse().unwrap();
        assert_eq!(newest.version, None);
        assert_eq!(newest.to_string().parse::<Target>().unwrap(), newest);
    }

    #[test]
    fn scoped_npm_names_keep_their_at_sign() {
        let keys = Keys::generate();
        let npub = keys.public_key().to_bech32().unwrap();
        let t: Target = format!("{npub}/npm.@babel/core@7.24.0").parse().unwrap();
        assert_eq!(t.coordinate.slug, "@babel/core");
        assert_eq!(t.version.unwrap().to_string(), "7.24.0");
        let t: Target = format!("{npub}/npm.@babel/core").parse().unwrap();
        assert_eq!(t.coordinate.slug, "@babel/core");
        assert!(t.version.is_none());
        assert_eq!(t.coordinate.file_stem(), "babel-core");
    }

    #[test]
    fn malformed_targets_name_the_problem() {
        let pk = Keys::generate().public_key().to_hex();
        let err = |s: &str| s.parse::<Target>().unwrap_err().to_string();
        assert!(err("generic.tool").contains("is not <npub"));
        assert!(err("npub1nothing/generic.tool").contains("not an npub"));
        assert!(err(&format!("{pk}/generictool")).contains("<namespace>.<slug>"));
        assert!(err(&format!("{pk}/Generic.tool")).contains("bad namespace"));
        assert!(err(&format!("{pk}/generic.tool@latest")).contains("bad version"));
    }
}
