//! The tags a release carries when its payload is an npm or Cargo package (LibreSeed): the name
//! as the ecosystem spells it, npm's `integrity` digest and the manifest the registry views and
//! the resolver need. docs/packages.md is the public description.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use serde_json::{Map, Value};

use crate::release::{Coordinate, ManifestError, ReleaseFile};

/// Manifests bigger than this are refused: relays cap event sizes, and no real package's
/// dependency lists come near it.
pub const MAX_MANIFEST_BYTES: usize = 64 * 1024;

/// `["package", <name>]`, `["integrity", "sha512-<base64>"]`, `["manifest", <JSON object>]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackageTags {
    /// The package's name as its ecosystem spells it (`@babel/core`, `Inflector`).
    pub name: String,
    /// The archive's SHA-512 in npm's form, `sha512-<base64>`.
    pub integrity: String,
    /// The part of the package's manifest a registry lists for each version, as a JSON object
    /// (npm: the dependency maps, `bin`, `engines`…; Cargo: the sparse index's `deps`,
    /// `features`, `links`, `rust_version`).
    pub manifest: Map<String, Value>,
}

fn bad(tag: &'static str, why: impl Into<String>) -> ManifestError {
    ManifestError::Tag {
        tag,
        why: why.into(),
    }
}

/// The archive's file extension in `ns`, or `None` outside the package namespaces.
pub fn archive_extension(ns: &str) -> Option<&'static str> {
    match ns {
        "npm" => Some(".tgz"),
        "cargo" => Some(".crate"),
        _ => None,
    }
}

impl PackageTags {
    /// Reads the three tags from `(name, values)` pairs, `None` when the release has none of
    /// them.
    pub fn read(tags: &[(&str, &[String])]) -> Result<Option<PackageTags>, ManifestError> {
        let get = |name: &str| {
            tags.iter()
                .find(|(n, v)| *n == name && !v.is_empty())
                .map(|(_, v)| v[0].clone())
        };
        let (name, integrity, manifest) = (get("package"), get("integrity"), get("manifest"));
        if name.is_none() && integrity.is_none() && manifest.is_none() {
            return Ok(None);
        }
        let name = name.ok_or(ManifestError::Missing("package"))?;
        let integrity = integrity.ok_or(ManifestError::Missing("integrity"))?;
        let manifest = manifest.ok_or(ManifestError::Missing("manifest"))?;
        if manifest.len() > MAX_MANIFEST_BYTES {
            return Err(bad(
                "manifest",
                format!("{} bytes, over {MAX_MANIFEST_BYTES}", manifest.len()),
            ));
        }
        let manifest = match serde_json::from_str(&manifest) {
            Ok(Value::Object(m)) => m,
            Ok(_) => return Err(bad("manifest", "is not a JSON object")),
            Err(e) => return Err(bad("manifest", format!("is not JSON: {e}"))),
        };
        Ok(Some(PackageTags {
            name,
            integrity,
            manifest,
        }))
    }

    /// The tags as written, in order.
    pub fn tags(&self) -> [[String; 2]; 3] {
        [
            ["package".into(), self.name.clone()],
            ["integrity".into(), self.integrity.clone()],
            [
                "manifest".into(),
                Value::Object(self.manifest.clone()).to_string(),
            ],
        ]
    }

    /// The SHA-512 the `integrity` tag holds.
    pub fn sha512(&self) -> Result<[u8; 64], ManifestError> {
        let b64 = self
            .integrity
            .strip_prefix("sha512-")
            .ok_or_else(|| bad("integrity", format!("{:?} is not sha512-…", self.integrity)))?;
        let bytes = STANDARD.decode(b64).map_err(|_| {
            bad(
                "integrity",
                format!("{b64:?} is not base64 of a 64-byte digest"),
            )
        })?;
        bytes.try_into().map_err(|_| {
            bad(
                "integrity",
                format!("{b64:?} is not base64 of a 64-byte digest"),
            )
        })
    }

    /// Checks the tags against the release they sit in: a package namespace, one archive
    /// named for it, a name that is the project's, a well-formed digest.
    pub fn validate(
        &self,
        coordinate: &Coordinate,
        files: &[ReleaseFile],
    ) -> Result<(), ManifestError> {
        let Some(extension) = archive_extension(&coordinate.ns) else {
            return Err(bad(
                "package",
                format!(
                    "namespace {:?} holds no packages (npm and cargo do)",
                    coordinate.ns
                ),
            ));
        };
        let named_slug = match coordinate.ns.as_str() {
            "cargo" => self.name.to_ascii_lowercase(),
            _ => self.name.clone(),
        };
        if named_slug != coordinate.slug {
            return Err(ManifestError::Mismatch {
                expected: format!("project {}", coordinate.slug),
                found: format!("package {}", self.name),
            });
        }
        match files {
            [one] if one.path.ends_with(extension) && !one.path.contains('/') => {}
            _ => {
                return Err(bad(
                    "package",
                    format!("a package release holds exactly one {extension} archive"),
                ))
            }
        }
        self.sha512()?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> PackageTags {
        // sha512 of the empty string.
        PackageTags {
            name: "@acme/greet".into(),
            integrity: "sha512-z4PhNX7vuL3xVChQ1m2AB9Yg5AULVxXcg/SpIdNs6c5H0NE8XYXysP+DGNKHfuwvY7kxvUdBeoGlODJ6+SfaPg==".into(),
            manifest: serde_json::from_str(r#"{"dependencies":{"left-pad":"^1.3.0"}}"#).unwrap(),
        }
    }

    fn file(path: &str) -> ReleaseFile {
        ReleaseFile {
            path: path.into(),
            sha256: [0; 32],
            size: 1,
        }
    }

    #[test]
    fn the_integrity_digest_decodes() {
        let d = sample().sha512().unwrap();
        assert_eq!(hex::encode(&d[..4]), "cf83e135");
        let mut broken = sample();
        broken.integrity = "sha512-abc".into();
        assert!(broken.sha512().unwrap_err().to_string().contains("64-byte"));
        broken.integrity = "sha1-abcd".into();
        assert!(broken.sha512().unwrap_err().to_string().contains("sha512-"));
    }

    #[test]
    fn tags_round_trip_and_a_partial_set_is_named() {
        let tags = sample().tags();
        let pairs: Vec<(&str, &[String])> = tags
            .iter()
            .map(|t| (t[0].as_str(), std::slice::from_ref(&t[1])))
            .collect();
        assert_eq!(PackageTags::read(&pairs).unwrap(), Some(sample()));
        assert_eq!(PackageTags::read(&[]).unwrap(), None);
        let why = PackageTags::read(&pairs[..2]).unwrap_err().to_string();
        assert!(why.contains("\"manifest\""), "{why}");
        let list = vec!["[1]".to_owned()];
        let mut broken = pairs.clone();
        broken[2] = ("manifest", &list);
        let why = PackageTags::read(&broken).unwrap_err().to_string();
        assert!(why.contains("not a JSON object"), "{why}");
    }

    #[test]
    fn a_package_must_fit_its_release() {
        let npm = Coordinate::new("npm", "@acme/greet").unwrap();
        let ok = [file("acme-greet-1.0.0.tgz")];
        sample().validate(&npm, &ok).unwrap();
        let why =
            |c: &Coordinate, f: &[ReleaseFile]| sample().validate(c, f).unwrap_err().to_string();
        assert!(why(&Coordinate::new("npm", "greet").unwrap(), &ok).contains("package @acme/greet"));
        assert!(why(&npm, &[file("a.tgz"), file("b.tgz")]).contains("exactly one .tgz"));
        assert!(why(&npm, &[file("greet.crate")]).contains("exactly one .tgz"));
        assert!(
            why(&Coordinate::new("skyrim-se", "greet").unwrap(), &ok).contains("holds no packages")
        );
        let mut cargo = sample();
        cargo.name = "Inflector".into();
        cargo
            .validate(
                &Coordinate::new("cargo", "inflector").unwrap(),
                &[file("Inflector-0.11.4.crate")],
            )
            .unwrap();
    }
}
