//! `package.json`, as npm reads it from a package: the name, the version, and the dependency
//! maps the resolver walks. The whole document is kept for the registry view.

use std::collections::BTreeMap;

use seedstr_proto::release::Version;
use serde_json::Value;

use super::ManifestError;
use crate::archive::Archive;
use crate::name::{Ecosystem, PackageName};

/// What a `package.json` says, as far as installs need.
#[derive(Debug, Clone)]
pub struct NpmManifest {
    /// The package's name.
    pub name: PackageName,
    /// Its version.
    pub version: Version,
    /// Name to semver range, as written.
    pub dependencies: BTreeMap<String, String>,
    /// Name to range, from `optionalDependencies`.
    pub optional_dependencies: BTreeMap<String, String>,
    /// Name to range, from `peerDependencies`.
    pub peer_dependencies: BTreeMap<String, String>,
    /// The document as the package has it.
    pub document: Value,
}

fn string_map(doc: &Value, field: &'static str) -> Result<BTreeMap<String, String>, ManifestError> {
    match doc.get(field) {
        None | Some(Value::Null) => Ok(BTreeMap::new()),
        Some(Value::Object(m)) => m
            .iter()
            .map(|(k, v)| match v.as_str() {
                Some(range) => Ok((k.clone(), range.to_owned())),
                None => Err(ManifestError::Field {
                    field: format!("{field}.{k}"),
                    why: "is not a string".into(),
                }),
            })
            .collect(),
        Some(_) => Err(ManifestError::Field {
            field: field.into(),
            why: "is not an object".into(),
        }),
    }
}

impl NpmManifest {
    /// Reads a `package.json`.
    pub fn parse(json: &[u8]) -> Result<NpmManifest, ManifestError> {
        let document: Value =
            serde_json::from_slice(json).map_err(|e| ManifestError::Syntax(e.to_string()))?;
        let text = |field: &'static str| {
            document
                .get(field)
                .and_then(Value::as_str)
                .ok_or(ManifestError::Missing(field))
        };
        let name = PackageName::parse(Ecosystem::Npm, text("name")?)?;
        let version = Version::parse(text("version")?).map_err(|e| ManifestError::Field {
            field: "version".into(),
            why: e.to_string(),
        })?;
        Ok(NpmManifest {
            name,
            version,
            dependencies: string_map(&document, "dependencies")?,
            optional_dependencies: string_map(&document, "optionalDependencies")?,
            peer_dependencies: string_map(&document, "peerDependencies")?,
            document,
        })
    }

    /// The `package.json` at the top of the archive's one folder (npm packs into `package/`;
    /// some older tools used other folder names).
    pub fn from_archive(archive: &Archive) -> Result<NpmManifest, ManifestError> {
        let (entry, bytes) = archive.find("<folder>/package.json", |p| {
            let parts: Vec<&str> = p.split('/').collect();
            parts.len() == 2 && parts[1] == "package.json"
        })?;
        NpmManifest::parse(&bytes).map_err(|e| e.inside(&archive.path, &entry))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_package_json_reads_and_bad_fields_are_named() {
        let m = NpmManifest::parse(
            br#"{"name":"@acme/greet","version":"1.2.0","dependencies":{"left-pad":"^1.3.0"},"bin":{"greet":"cli.js"}}"#,
        )
        .unwrap();
        assert_eq!(m.name.as_str(), "@acme/greet");
        assert_eq!(m.version.to_string(), "1.2.0");
        assert_eq!(m.dependencies["left-pad"], "^1.3.0");
        assert_eq!(m.document["bin"]["greet"], "cli.js");
        let why = |j: &str| NpmManifest::parse(j.as_bytes()).unwrap_err().to_string();
        assert!(why(r#"{"version":"1.0.0"}"#).contains("no \"name\""));
        assert!(why(r#"{"name":"x","version":"one"}"#).contains("version"));
        assert!(why(r#"{"name":"X","version":"1.0.0"}"#).contains("capital"));
        assert!(
            why(r#"{"name":"x","version":"1.0.0","dependencies":{"a":1}}"#)
                .contains("dependencies.a")
        );
        assert!(why("{").contains("not valid"));
    }
}
