//! Packages as signed releases: the tags a package's release carries (written from the
//! archive and its manifest), and a release read back as a package, with what the resolver and
//! the registry views need from it.

use std::collections::BTreeMap;

use nostr::prelude::{Event, PublicKey};
use seedstr_proto::package::PackageTags;
use seedstr_proto::release::{ManifestError as ReleaseError, Release, ReleaseFile, Version};
use serde_json::{json, Map, Value};

use crate::manifest::{CargoManifest, NpmManifest};
use crate::name::{Ecosystem, NameError, PackageName};
use crate::package::{Manifest, Package};

/// The `package.json` fields a packument lists for each version, beside name, version and dist.
const NPM_FIELDS: &[&str] = &[
    "description",
    "license",
    "dependencies",
    "optionalDependencies",
    "peerDependencies",
    "peerDependenciesMeta",
    "bundleDependencies",
    "bin",
    "engines",
    "os",
    "cpu",
    "deprecated",
];

/// The tags for `package`'s release.
pub fn package_tags(package: &Package) -> PackageTags {
    let manifest = match &package.manifest {
        Manifest::Npm(m) => npm_manifest(m),
        Manifest::Cargo(m) => cargo_manifest(m),
    };
    PackageTags {
        name: package.name().as_str().to_owned(),
        integrity: package.archive.digests.integrity(),
        manifest,
    }
}

fn npm_manifest(m: &NpmManifest) -> Map<String, Value> {
    let mut out = Map::new();
    for field in NPM_FIELDS {
        if let Some(v) = m.document.get(*field).filter(|v| !v.is_null()) {
            out.insert((*field).to_owned(), v.clone());
        }
    }
    // npm writes a lone `bin` path as a map from the unscoped name.
    if let Some(Value::String(path)) = out.get("bin") {
        let bare = m.name.as_str().rsplit('/').next().unwrap_or_default();
        out.insert("bin".into(), json!({ bare: path }));
    }
    // The packument tells npm whether a package runs scripts at install, before it unpacks it.
    let scripts = m.document.get("scripts");
    if ["preinstall", "install", "postinstall"]
        .iter()
        .any(|s| scripts.and_then(|x| x.get(*s)).is_some())
    {
        out.insert("hasInstallScript".into(), Value::Bool(true));
    }
    out
}

/// The sparse index's fields for this version, minus name, vers, cksum and yanked.
fn cargo_manifest(m: &CargoManifest) -> Map<String, Value> {
    let deps: Vec<Value> = m
        .dependencies
        .iter()
        .map(|d| {
            let mut dep = json!({
                "name": d.name,
                "req": d.req.to_string(),
                "features": d.features,
                "optional": d.optional,
                "default_features": d.default_features,
                "target": d.target,
                "kind": d.kind,
            });
            if let Some(p) = &d.package {
                dep["package"] = json!(p);
            }
            dep
        })
        .collect();
    let mut out = Map::new();
    out.insert("deps".into(), Value::Array(deps));
    // Features using `dep:` or `?/` go in `features2` (index format 2), so older cargo
    // versions skip them rather than misread them.
    let new_syntax = m
        .features
        .values()
        .flatten()
        .any(|f| f.starts_with("dep:") || f.contains("?/"));
    if new_syntax {
        out.insert("features".into(), json!({}));
        out.insert("features2".into(), json!(m.features));
        out.insert("v".into(), json!(2));
    } else {
        out.insert("features".into(), json!(m.features));
    }
    if let Some(l) = &m.links {
        out.insert("links".into(), json!(l));
    }
    if let Some(r) = &m.rust_version {
        out.insert("rust_version".into(), json!(r));
    }
    out
}

/// Why a release was refused as a package.
#[derive(Debug, thiserror::Error)]
pub enum PackageReleaseError {
    /// The release itself was refused.
    #[error(transparent)]
    Release(#[from] ReleaseError),
    /// It carries no package tags.
    #[error("release {0} carries no package tags; it was not published as a package")]
    NotAPackage(String),
    /// The package name is not valid.
    #[error(transparent)]
    Name(#[from] NameError),
    /// A manifest field it carries does not read.
    #[error("release {release}: manifest field {field} {why}")]
    Manifest {
        /// The release it is.
        release: String,
        /// The manifest field.
        field: String,
        /// What is wrong with it.
        why: String,
    },
}

/// A signed release read as a package.
#[derive(Debug, Clone)]
pub struct PackageRelease {
    /// The package name.
    pub name: PackageName,
    /// The release it is.
    pub release: Release,
    /// The package tags.
    pub tags: PackageTags,
    /// The signed event.
    pub event: Event,
}

/// One dependency as npm lists it: a name and the range written for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NpmDependency {
    /// The package name.
    pub name: String,
    /// The range written for it.
    pub range: String,
    /// From `optionalDependencies`: a failure to resolve it is not an error.
    pub optional: bool,
    /// From `peerDependencies`: the dependent expects to share the copy its own dependent has.
    pub peer: bool,
}

/// One dependency in either ecosystem, for people to read: what it names, the range, and
/// how it is used (`normal`, `optional`, `peer`, `optional peer`; cargo's `dev` and `build`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct DependencyLine {
    /// The package name.
    pub name: String,
    /// The range written for it.
    pub range: String,
    /// How it is used.
    pub kind: String,
}

impl PackageRelease {
    /// Reads and checks `event` (signature, tags, the package tags and their fit).
    pub fn from_event(event: &Event) -> Result<PackageRelease, PackageReleaseError> {
        let release = Release::from_event(event)?;
        let tags = release
            .package
            .clone()
            .ok_or_else(|| PackageReleaseError::NotAPackage(release.d()))?;
        let ecosystem = Ecosystem::parse(&release.coordinate.ns)
            .ok_or_else(|| PackageReleaseError::NotAPackage(release.d()))?;
        let name = PackageName::parse(ecosystem, &tags.name)?;
        Ok(PackageRelease {
            name,
            release,
            tags,
            event: event.clone(),
        })
    }

    /// The release's version.
    pub fn version(&self) -> &Version {
        &self.release.version
    }

    /// Who signed it.
    pub fn signer(&self) -> PublicKey {
        self.event.pubkey
    }

    /// The archive: a package release holds exactly one file.
    pub fn archive(&self) -> &ReleaseFile {
        &self.release.files[0]
    }

    /// `<name>@<version>`, as npm and cargo users write it.
    pub fn spec(&self) -> String {
        format!("{}@{}", self.name, self.release.version)
    }

    fn manifest_error(&self, field: &str, why: &str) -> PackageReleaseError {
        PackageReleaseError::Manifest {
            release: self.spec(),
            field: field.to_owned(),
            why: why.to_owned(),
        }
    }

    /// npm's dependency maps, merged: `dependencies` and `optionalDependencies` (which wins for
    /// a name in both, as in npm), then `peerDependencies` not already listed.
    pub fn npm_dependencies(&self) -> Result<Vec<NpmDependency>, PackageReleaseError> {
        let map = |field: &str| -> Result<BTreeMap<String, String>, PackageReleaseError> {
            match self.tags.manifest.get(field) {
                None | Some(Value::Null) => Ok(BTreeMap::new()),
                Some(Value::Object(m)) => m
                    .iter()
                    .map(|(k, v)| {
                        v.as_str()
                            .map(|r| (k.clone(), r.to_owned()))
                            .ok_or_else(|| {
                                self.manifest_error(field, "maps a name to a non-string")
                            })
                    })
                    .collect(),
                Some(_) => Err(self.manifest_error(field, "is not an object")),
            }
        };
        let optional = map("optionalDependencies")?;
        let mut out: Vec<NpmDependency> = map("dependencies")?
            .into_iter()
            .filter(|(n, _)| !optional.contains_key(n))
            .map(|(name, range)| NpmDependency {
                name,
                range,
                optional: false,
                peer: false,
            })
            .collect();
        out.extend(optional.into_iter().map(|(name, range)| NpmDependency {
            name,
            range,
            optional: true,
            peer: false,
        }));
        let peers = map("peerDependencies")?;
        let meta = self.tags.manifest.get("peerDependenciesMeta");
        for (name, range) in peers {
            if out.iter().any(|d| d.name == name) {
                continue;
            }
            let optional = meta
                .and_then(|m| m.get(&name))
                .and_then(|m| m.get("optional"))
                .and_then(Value::as_bool)
                .unwrap_or(false);
            out.push(NpmDependency {
                name,
                range,
                optional,
                peer: true,
            });
        }
        out.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(out)
    }

    /// Every dependency this release declares, by package name (a renamed cargo dependency
    /// under the crate it really names), sorted by name.
    pub fn dependencies(&self) -> Result<Vec<DependencyLine>, PackageReleaseError> {
        let mut out = match self.name.ecosystem {
            Ecosystem::Npm => self
                .npm_dependencies()?
                .into_iter()
                .map(|d| DependencyLine {
                    kind: match (d.optional, d.peer) {
                        (false, false) => "normal",
                        (true, false) => "optional",
                        (false, true) => "peer",
                        (true, true) => "optional peer",
                    }
                    .to_owned(),
                    name: d.name,
                    range: d.range,
                })
                .collect(),
            Ecosystem::Cargo => {
                let deps = match self.tags.manifest.get("deps") {
                    None | Some(Value::Null) => &Vec::new(),
                    Some(Value::Array(deps)) => deps,
                    Some(_) => return Err(self.manifest_error("deps", "is not an array")),
                };
                let mut out = Vec::new();
                for d in deps {
                    let field = |f: &str| d.get(f).and_then(Value::as_str);
                    let name = field("package").or(field("name")).ok_or_else(|| {
                        self.manifest_error("deps", "lists a dependency with no name")
                    })?;
                    let mut kind = field("kind").unwrap_or("normal").to_owned();
                    if d.get("optional").and_then(Value::as_bool) == Some(true) {
                        kind = format!("optional {kind}");
                    }
                    out.push(DependencyLine {
                        name: name.to_owned(),
                        range: field("req").unwrap_or("*").to_owned(),
                        kind,
                    });
                }
                out
            }
        };
        out.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(out)
    }

    /// `bin`: command name to the path inside the package.
    pub fn npm_bin(&self) -> BTreeMap<String, String> {
        self.tags
            .manifest
            .get("bin")
            .and_then(Value::as_object)
            .map(|m| {
                m.iter()
                    .filter_map(|(k, v)| v.as_str().map(|p| (k.clone(), p.to_owned())))
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// A release of `name`'s one archive `file`, carrying `tags`, for tests.
#[cfg(test)]
pub(crate) fn test_package_release(
    name: &PackageName,
    version: &Version,
    file: ReleaseFile,
    tags: PackageTags,
) -> Release {
    Release {
        coordinate: name.coordinate(),
        version: version.clone(),
        files: vec![file],
        infohash: [2; 20],
        torrent_name: String::new(),
        trackers: vec![],
        mirrors: vec![],
        seeders: Vec::new(),
        supersedes: None,
        changelog: String::new(),
        dependencies: vec![],
        game_versions: vec![],
        zap_target: None,
        zap_splits: Vec::new(),
        package: Some(tags),
    }
}

/// A signed npm package release with `manifest` as its tag, for tests.
#[cfg(test)]
pub(crate) fn test_release(
    keys: &nostr::prelude::Keys,
    name: &str,
    version: &str,
    manifest: Value,
) -> PackageRelease {
    test_release_in(keys, Ecosystem::Npm, name, version, manifest)
}

/// A signed package release of `ecosystem` with `manifest` as its tag, for tests.
#[cfg(test)]
pub(crate) fn test_release_in(
    keys: &nostr::prelude::Keys,
    ecosystem: Ecosystem,
    name: &str,
    version: &str,
    manifest: Value,
) -> PackageRelease {
    use nostr::prelude::FinalizeEvent as _;
    let name = PackageName::parse(ecosystem, name).unwrap();
    let file = ReleaseFile {
        path: name.archive_name(version),
        sha256: [1; 32],
        size: 10,
    };
    let tags = PackageTags {
        name: name.as_str().to_owned(),
        integrity: crate::archive::Digests::of(b"x").integrity(),
        manifest: manifest.as_object().cloned().unwrap_or_default(),
    };
    let event = test_package_release(&name, &Version::parse(version).unwrap(), file, tags)
        .to_builder(&keys.public_key())
        .finalize(keys)
        .unwrap();
    PackageRelease::from_event(&event).unwrap()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::archive::{Archive, Digests};
    use nostr::prelude::{FinalizeEvent as _, Keys};

    fn npm_package(json: &str) -> Package {
        let manifest = NpmManifest::parse(json.as_bytes()).unwrap();
        Package {
            archive: Archive {
                path: "x.tgz".into(),
                bytes: b"archive".to_vec(),
                digests: Digests::of(b"archive"),
            },
            manifest: Manifest::Npm(manifest),
        }
    }

    fn release_of(package: &Package, file: &str) -> Release {
        let file = ReleaseFile {
            path: file.into(),
            sha256: package.archive.digests.sha256,
            size: package.archive.digests.size,
        };
        test_package_release(
            package.name(),
            package.version(),
            file,
            package_tags(package),
        )
    }

    #[test]
    fn an_npm_package_round_trips_through_its_signed_release() {
        let p = npm_package(
            r#"{"name":"@acme/greet","version":"1.2.0","bin":"cli.js",
                "dependencies":{"left-pad":"^1.3.0","chalk":"^5"},
                "optionalDependencies":{"chalk":"^5.1"},
                "peerDependencies":{"react":">=18","left-pad":"*"},
                "peerDependenciesMeta":{"react":{"optional":true}},
                "scripts":{"postinstall":"node x.js","test":"t"},"private":false}"#,
        );
        let tags = package_tags(&p);
        assert_eq!(tags.integrity, Digests::of(b"archive").integrity());
        assert_eq!(tags.manifest["bin"], json!({"greet": "cli.js"}));
        assert_eq!(tags.manifest["hasInstallScript"], json!(true));
        assert!(!tags.manifest.contains_key("private"));
        assert!(!tags.manifest.contains_key("scripts"));

        let keys = Keys::generate();
        let event = release_of(&p, "acme-greet-1.2.0.tgz")
            .to_builder(&keys.public_key())
            .finalize(&keys)
            .unwrap();
        let read = PackageRelease::from_event(&event).unwrap();
        assert_eq!(read.spec(), "@acme/greet@1.2.0");
        assert_eq!(read.signer(), keys.public_key());
        assert_eq!(read.npm_bin()["greet"], "cli.js");
        let deps = read.npm_dependencies().unwrap();
        let names: Vec<(&str, bool, bool)> = deps
            .iter()
            .map(|d| (d.name.as_str(), d.optional, d.peer))
            .collect();
        assert_eq!(
            names,
            [
                ("chalk", true, false),
                ("left-pad", false, false),
                ("react", true, true)
            ]
        );
        assert_eq!(deps[0].range, "^5.1");
    }

    #[test]
    fn a_release_without_package_tags_is_not_a_package() {
        let p = npm_package(r#"{"name":"greet","version":"1.0.0"}"#);
        let mut r = release_of(&p, "greet-1.0.0.tgz");
        r.package = None;
        let keys = Keys::generate();
        let event = r.to_builder(&keys.public_key()).finalize(&keys).unwrap();
        let why = PackageRelease::from_event(&event).unwrap_err().to_string();
        assert!(why.contains("no package tags"), "{why}");
    }

    #[test]
    fn cargo_features_with_new_syntax_go_to_features2() {
        let m = CargoManifest::parse(
            "[package]\nname = \"Greet\"\nversion = \"0.1.0\"\nrust-version = \"1.70\"\n\
             [dependencies]\nserde = { version = \"1\", optional = true }\n\
             [features]\nderive = [\"dep:serde\"]\n",
        )
        .unwrap();
        let out = cargo_manifest(&m);
        assert_eq!(out["v"], json!(2));
        assert_eq!(out["features2"]["derive"], json!(["dep:serde"]));
        assert_eq!(out["deps"][0]["name"], "serde");
        assert_eq!(out["deps"][0]["req"], "^1");
        assert_eq!(out["deps"][0]["optional"], true);
        assert_eq!(out["rust_version"], "1.70");
    }

    #[test]
    fn dependency_lines_name_packages_in_both_ecosystems() {
        let keys = Keys::generate();
        let npm = test_release(
            &keys,
            "@acme/greet",
            "1.0.0",
            json!({"dependencies": {"pad": "^1"}, "peerDependencies": {"react": ">=18"}}),
        );
        let lines: Vec<(String, String, String)> = npm
            .dependencies()
            .unwrap()
            .into_iter()
            .map(|d| (d.name, d.range, d.kind))
            .collect();
        assert_eq!(
            lines,
            [
                ("pad".into(), "^1".into(), "normal".into()),
                ("react".into(), ">=18".into(), "peer".into())
            ]
        );

        // A renamed cargo dependency is listed under the crate it names.
        let cargo = test_release_in(
            &keys,
            Ecosystem::Cargo,
            "greet",
            "0.2.0",
            json!({"deps": [
                {"name": "padding", "package": "pad", "req": "^0.1", "kind": "normal", "optional": false},
                {"name": "cc", "req": "^1", "kind": "build", "optional": true}
            ]}),
        );
        let lines: Vec<(String, String)> = cargo
            .dependencies()
            .unwrap()
            .into_iter()
            .map(|d| (d.name, d.kind))
            .collect();
        assert_eq!(
            lines,
            [
                ("cc".into(), "optional build".into()),
                ("pad".into(), "normal".into())
            ]
        );

        let broken = test_release_in(&keys, Ecosystem::Cargo, "x", "1.0.0", json!({"deps": {}}));
        let why = broken.dependencies().unwrap_err().to_string();
        assert!(why.contains("deps"), "{why}");
    }
}
