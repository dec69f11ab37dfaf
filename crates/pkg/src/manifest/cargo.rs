//! `Cargo.toml` as `cargo package` writes it into a `.crate` (normalized: no workspace
//! inheritance, no path-only dependencies): the crate, its features and every dependency the
//! sparse index lists.

use std::collections::BTreeMap;

use seedstr_proto::release::{Version, VersionReq};
use toml::{Table, Value};

use super::ManifestError;
use crate::archive::Archive;
use crate::name::{Ecosystem, PackageName};

/// Which table a Cargo dependency is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum DependencyKind {
    /// `[dependencies]`.
    Normal,
    /// `[dev-dependencies]`.
    Dev,
    /// `[build-dependencies]`.
    Build,
}

/// One dependency of a crate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CargoDependency {
    /// The name the dependent uses (the table key).
    pub name: String,
    /// The crate's own name when renamed (`package = "…"`).
    pub package: Option<String>,
    /// The version requirement.
    pub req: VersionReq,
    /// Normal, dev or build.
    pub kind: DependencyKind,
    /// Only with a feature.
    pub optional: bool,
    /// Whether the crate's default features are on.
    pub default_features: bool,
    /// Features asked of it.
    pub features: Vec<String>,
    /// `cfg(…)` or a target triple, for `[target.….dependencies]`.
    pub target: Option<String>,
}

/// What a crate's `Cargo.toml` says, as far as registries need.
#[derive(Debug, Clone)]
pub struct CargoManifest {
    /// The crate's name.
    pub name: PackageName,
    /// Its version.
    pub version: Version,
    /// Its dependencies.
    pub dependencies: Vec<CargoDependency>,
    /// Features asked of it.
    pub features: BTreeMap<String, Vec<String>>,
    /// The native library it links, if any.
    pub links: Option<String>,
    /// The oldest Rust it builds with, if it says.
    pub rust_version: Option<String>,
    /// What it says of itself.
    pub description: Option<String>,
}

fn field(name: impl Into<String>, why: impl Into<String>) -> ManifestError {
    ManifestError::Field {
        field: name.into(),
        why: why.into(),
    }
}

fn read_dependencies(
    table: &Table,
    target: Option<&str>,
    out: &mut Vec<CargoDependency>,
) -> Result<(), ManifestError> {
    for (section, kind) in [
        ("dependencies", DependencyKind::Normal),
        ("dev-dependencies", DependencyKind::Dev),
        ("build-dependencies", DependencyKind::Build),
    ] {
        let Some(deps) = table.get(section) else {
            continue;
        };
        let where_ = match target {
            Some(t) => format!("target.{t}.{section}"),
            None => section.to_owned(),
        };
        let deps = deps
            .as_table()
            .ok_or_else(|| field(&where_, "is not a table"))?;
        for (name, spec) in deps {
            let at = format!("{where_}.{name}");
            let dep = match spec {
                Value::String(req) => {
                    Some(dependency(name, req, kind, target, &Table::new(), &at)?)
                }
                Value::Table(t) => match t.get("version").and_then(Value::as_str) {
                    Some(req) => Some(dependency(name, req, kind, target, t, &at)?),
                    // `cargo package` drops path-only dev-dependencies; any other
                    // dependency without a version cannot be resolved from a registry.
                    None if kind == DependencyKind::Dev => None,
                    None => return Err(field(at, "has no version, so no registry can resolve it")),
                },
                _ => return Err(field(at, "is neither a version nor a table")),
            };
            out.extend(dep);
        }
    }
    Ok(())
}

fn dependency(
    name: &str,
    req: &str,
    kind: DependencyKind,
    target: Option<&str>,
    t: &Table,
    at: &str,
) -> Result<CargoDependency, ManifestError> {
    let flag = |key: &str, default: bool| match t.get(key) {
        None => Ok(default),
        Some(Value::Boolean(b)) => Ok(*b),
        Some(_) => Err(field(format!("{at}.{key}"), "is not true or false")),
    };
    let features = match t.get("features") {
        None => Vec::new(),
        Some(Value::Array(a)) => a
            .iter()
            .map(|f| {
                f.as_str().map(str::to_owned).ok_or_else(|| {
                    field(
                        format!("{at}.features"),
                        "holds something other than strings",
                    )
                })
            })
            .collect::<Result<_, _>>()?,
        Some(_) => return Err(field(format!("{at}.features"), "is not a list")),
    };
    Ok(CargoDependency {
        name: name.to_owned(),
        package: t.get("package").and_then(Value::as_str).map(str::to_owned),
        req: VersionReq::parse(req).map_err(|e| field(format!("{at}.version"), e.to_string()))?,
        kind,
        optional: flag("optional", false)?,
        default_features: flag("default-features", flag("default_features", true)?)?,
        features,
        target: target.map(str::to_owned),
    })
}

impl CargoManifest {
    /// Reads a normalized `Cargo.toml`, as `cargo package` writes it.
    pub fn parse(text: &str) -> Result<CargoManifest, ManifestError> {
        let doc: Table = text
            .parse()
            .map_err(|e: toml::de::Error| ManifestError::Syntax(e.to_string()))?;
        let package = doc
            .get("package")
            .and_then(Value::as_table)
            .ok_or(ManifestError::Missing("package"))?;
        let text = |key: &'static str| {
            package.get(key).and_then(Value::as_str).ok_or_else(|| {
                field(
                    format!("package.{key}"),
                    "is missing or not a string (was the crate packed with `cargo package`?)",
                )
            })
        };
        let name = PackageName::parse(Ecosystem::Cargo, text("name")?)?;
        let version = Version::parse(text("version")?)
            .map_err(|e| field("package.version", e.to_string()))?;
        let mut dependencies = Vec::new();
        read_dependencies(&doc, None, &mut dependencies)?;
        if let Some(targets) = doc.get("target").and_then(Value::as_table) {
            for (target, table) in targets {
                let table = table
                    .as_table()
                    .ok_or_else(|| field(format!("target.{target}"), "is not a table"))?;
                read_dependencies(table, Some(target), &mut dependencies)?;
            }
        }
        let mut features = BTreeMap::new();
        if let Some(table) = doc.get("features").and_then(Value::as_table) {
            for (feature, enables) in table {
                let list = enables
                    .as_array()
                    .and_then(|a| a.iter().map(|v| v.as_str().map(str::to_owned)).collect())
                    .ok_or_else(|| {
                        field(format!("features.{feature}"), "is not a list of strings")
                    })?;
                features.insert(feature.clone(), list);
            }
        }
        Ok(CargoManifest {
            name,
            version,
            dependencies,
            features,
            links: package
                .get("links")
                .and_then(Value::as_str)
                .map(str::to_owned),
            rust_version: package
                .get("rust-version")
                .and_then(Value::as_str)
                .map(str::to_owned),
            description: package
                .get("description")
                .and_then(Value::as_str)
                .map(str::to_owned),
        })
    }

    /// `<name>-<version>/Cargo.toml` in a `.crate`.
    pub fn from_archive(archive: &Archive) -> Result<CargoManifest, ManifestError> {
        let (entry, bytes) = archive.find("<name>-<version>/Cargo.toml", |p| {
            let parts: Vec<&str> = p.split('/').collect();
            parts.len() == 2 && parts[1] == "Cargo.toml"
        })?;
        let text = String::from_utf8(bytes)
            .map_err(|_| ManifestError::Syntax("Cargo.toml is not UTF-8".into()))
            .map_err(|e| e.inside(&archive.path, &entry))?;
        let manifest = CargoManifest::parse(&text).map_err(|e| e.inside(&archive.path, &entry))?;
        let folder = format!("{}-{}", manifest.name, manifest.version);
        if !entry.starts_with(&format!("{folder}/")) {
            return Err(field(
                entry,
                format!("is not in {folder}/, where cargo unpacks this crate"),
            )
            .inside(&archive.path, "Cargo.toml"));
        }
        Ok(manifest)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NORMALIZED: &str = r#"
[package]
edition = "2021"
name = "greet"
version = "0.3.1"
links = "greet"

[dependencies.serde]
version = "1.0.100"
features = ["derive"]
optional = true
default-features = false

[dependencies]
itoa = "1"
json = { version = "1", package = "serde_json" }

[dev-dependencies.tempfile]
version = "3"

[target.'cfg(unix)'.dependencies]
libc = "0.2"

[features]
default = ["serde"]
"#;

    #[test]
    fn a_normalized_cargo_toml_reads_with_every_dependency() {
        let m = CargoManifest::parse(NORMALIZED).unwrap();
        assert_eq!(m.name.as_str(), "greet");
        assert_eq!(m.version.to_string(), "0.3.1");
        assert_eq!(m.links.as_deref(), Some("greet"));
        assert_eq!(m.features["default"], vec!["serde"]);
        let by = |n: &str| m.dependencies.iter().find(|d| d.name == n).unwrap();
        let serde = by("serde");
        assert!(serde.optional && !serde.default_features);
        assert_eq!(serde.features, vec!["derive"]);
        assert_eq!(by("json").package.as_deref(), Some("serde_json"));
        assert_eq!(by("tempfile").kind, DependencyKind::Dev);
        assert_eq!(by("libc").target.as_deref(), Some("cfg(unix)"));
        assert_eq!(m.dependencies.len(), 5);
    }

    #[test]
    fn unpacked_or_broken_manifests_are_named() {
        let why = |t: &str| CargoManifest::parse(t).unwrap_err().to_string();
        assert!(
            why("[package]\nname = \"x\"\nversion.workspace = true\n").contains("cargo package")
        );
        assert!(why("[package]\nname = \"x\"\nversion = \"1.0.0\"\n[dependencies]\ny = { path = \"../y\" }\n")
            .contains("dependencies.y has no version"));
        assert!(why(
            "[package]\nname = \"x\"\nversion = \"1.0.0\"\n[dependencies]\ny = \"not a range\"\n"
        )
        .contains("dependencies.y.version"));
        assert!(why("[package]\nname = \"1x\"\nversion = \"1.0.0\"\n").contains("letter"));
        assert!(why("name = ").contains("not valid"));
    }
}
