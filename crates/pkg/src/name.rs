//! Package names as each ecosystem spells them, checked by its own rules, and the names Seedstr
//! derives from them: the project slug and the DHT name record.

use std::fmt;

use seedstr_proto::release::Coordinate;

/// Which registry's rules and formats a package follows; also its Seedstr namespace.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Ecosystem {
    /// npm.
    Npm,
    /// Cargo.
    Cargo,
}

impl Ecosystem {
    /// The namespace of its projects and releases (`npm.<slug>`, `cargo.<slug>`).
    pub fn namespace(self) -> &'static str {
        match self {
            Ecosystem::Npm => "npm",
            Ecosystem::Cargo => "cargo",
        }
    }

    /// The ecosystem a namespace names (`npm`, `cargo`).
    pub fn parse(ns: &str) -> Option<Ecosystem> {
        match ns {
            "npm" => Some(Ecosystem::Npm),
            "cargo" => Some(Ecosystem::Cargo),
            _ => None,
        }
    }
}

impl fmt::Display for Ecosystem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.namespace())
    }
}

/// A package name that its ecosystem accepts, spelled as the package spells it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PackageName {
    /// npm or Cargo.
    pub ecosystem: Ecosystem,
    name: String,
}

/// Why a package name was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum NameError {
    /// Not a valid npm name, and why.
    #[error("npm package name {0:?}: {1}")]
    Npm(String, &'static str),
    /// Not a valid crate name, and why.
    #[error("crate name {0:?}: {1}")]
    Cargo(String, &'static str),
}

/// npm's rules for new packages: at most 214 characters with the scope, lowercase, URL-safe,
/// not starting with `.` or `_`; a scope is `@<scope>/`.
fn check_npm(name: &str) -> Result<(), &'static str> {
    if name.is_empty() {
        return Err("is empty");
    }
    if name.len() > 214 {
        return Err("is longer than 214 characters");
    }
    if name.trim() != name {
        return Err("has leading or trailing spaces");
    }
    let bare = match name.strip_prefix('@') {
        Some(scoped) => {
            let (scope, bare) = scoped
                .split_once('/')
                .ok_or("has a scope without a '/' after it")?;
            check_npm_part(scope)?;
            bare
        }
        None => name,
    };
    check_npm_part(bare)?;
    if matches!(bare, "node_modules" | "favicon.ico") {
        return Err("is a name npm reserves");
    }
    Ok(())
}

fn check_npm_part(part: &str) -> Result<(), &'static str> {
    if part.is_empty() {
        return Err("has an empty part");
    }
    if part.starts_with('.') || part.starts_with('_') {
        return Err("starts with '.' or '_'");
    }
    let ok = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || "-._~".contains(c);
    if part.chars().any(|c| c.is_ascii_uppercase()) {
        return Err("has capital letters, which new npm packages may not");
    }
    if !part.chars().all(ok) {
        return Err("has characters other than a-z, 0-9, '-', '.', '_' and '~'");
    }
    Ok(())
}

/// Cargo's rules: at most 64 ASCII letters, digits, `-` and `_`, starting with a letter.
fn check_cargo(name: &str) -> Result<(), &'static str> {
    if name.is_empty() {
        return Err("is empty");
    }
    if name.len() > 64 {
        return Err("is longer than 64 characters");
    }
    if !name.starts_with(|c: char| c.is_ascii_alphabetic()) {
        return Err("does not start with a letter");
    }
    if !name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return Err("has characters other than ASCII letters, digits, '-' and '_'");
    }
    Ok(())
}

impl PackageName {
    /// A package name, checked against its ecosystem's rules.
    pub fn parse(ecosystem: Ecosystem, name: &str) -> Result<PackageName, NameError> {
        match ecosystem {
            Ecosystem::Npm => check_npm(name).map_err(|why| NameError::Npm(name.into(), why)),
            Ecosystem::Cargo => check_cargo(name).map_err(|why| NameError::Cargo(name.into(), why)),
        }?;
        Ok(PackageName {
            ecosystem,
            name: name.to_owned(),
        })
    }

    /// As the package spells it: `@babel/core`, `serde_json`, `Inflector`.
    pub fn as_str(&self) -> &str {
        &self.name
    }

    /// The project slug: an npm name as it is (the npm namespace takes scoped names); a crate
    /// name lowercased, since crates.io holds names that differ only in case to be one.
    pub fn slug(&self) -> String {
        match self.ecosystem {
            Ecosystem::Npm => self.name.clone(),
            Ecosystem::Cargo => self.name.to_ascii_lowercase(),
        }
    }

    /// The project this package is published as: `<npm|cargo>.<slug>`.
    pub fn coordinate(&self) -> Coordinate {
        Coordinate::new(self.ecosystem.namespace(), &self.slug())
            .expect("names checked by their ecosystem's rules are valid slugs")
    }

    /// The DHT name record: `libreseed:<name>` (`libreseed:@scope/name` when scoped).
    pub fn dht_name(&self) -> String {
        format!("libreseed:{}", self.name)
    }

    /// The file name the ecosystem gives the package's archive.
    pub fn archive_name(&self, version: &str) -> String {
        match self.ecosystem {
            // What `npm pack` writes, which is the coordinate's file stem.
            Ecosystem::Npm => format!("{}-{version}.tgz", self.coordinate().file_stem()),
            Ecosystem::Cargo => format!("{}-{version}.crate", self.name),
        }
    }
}

impl fmt::Display for PackageName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn npm(s: &str) -> Result<PackageName, NameError> {
        PackageName::parse(Ecosystem::Npm, s)
    }

    fn cargo(s: &str) -> Result<PackageName, NameError> {
        PackageName::parse(Ecosystem::Cargo, s)
    }

    #[test]
    fn npm_names_follow_npm_rules() {
        for ok in [
            "left-pad",
            "lodash.merge",
            "@babel/core",
            "a",
            "x~y",
            "@s/a.b_c",
        ] {
            npm(ok).unwrap_or_else(|e| panic!("{ok}: {e}"));
        }
        let why = |s: &str| npm(s).unwrap_err().to_string();
        assert!(why("Left-Pad").contains("capital letters"));
        assert!(why(".hidden").contains("starts with '.'"));
        assert!(why("@scope").contains("without a '/'"));
        assert!(why("@/x").contains("empty part"));
        assert!(why("a b").contains("characters other than"));
        assert!(why("node_modules").contains("reserves"));
        assert!(why(&"a".repeat(215)).contains("214"));
    }

    #[test]
    fn crate_names_follow_cargo_rules() {
        for ok in ["serde", "serde_json", "Inflector", "a-b"] {
            cargo(ok).unwrap_or_else(|e| panic!("{ok}: {e}"));
        }
        assert!(cargo("1up").unwrap_err().to_string().contains("letter"));
        assert!(cargo("a.b").unwrap_err().to_string().contains("characters"));
        assert!(cargo(&"a".repeat(65))
            .unwrap_err()
            .to_string()
            .contains("64"));
    }

    #[test]
    fn slugs_records_and_archives_are_derived_from_the_name() {
        let core = npm("@babel/core").unwrap();
        assert_eq!(core.slug(), "@babel/core");
        assert_eq!(core.dht_name(), "libreseed:@babel/core");
        assert_eq!(core.archive_name("7.24.0"), "babel-core-7.24.0.tgz");
        let pad = npm("left-pad").unwrap();
        assert_eq!(pad.slug(), "left-pad");
        let inflector = cargo("Inflector").unwrap();
        assert_eq!(inflector.slug(), "inflector");
        assert_eq!(inflector.archive_name("0.11.4"), "Inflector-0.11.4.crate");
        assert_eq!(core.coordinate().to_string(), "npm.@babel/core");
        assert_eq!(inflector.coordinate().to_string(), "cargo.inflector");
    }
}
