//! `release/<version>.yaml`: what one release is made of.

use std::path::{Path, PathBuf};

use seedstr_client::resolve::target::{parse_public_key, Target};
use seedstr_proto::release::{
    check_game_version, parse_version, Dependency, DependencyKind, Version, VersionReq,
};
use seedstr_proto::zap_split::{check_zap_splits, ZapSplit};
use serde::Deserialize;

use super::{from_yaml, AuthoringError};

// Fields arrive as text and are checked afterwards: serde's custom errors carry no position,
// and every error here must name its line.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    version: String,
    /// The payload folder, relative to the project folder.
    #[serde(default = "default_files")]
    files: PathBuf,
    #[serde(default)]
    changelog: String,
    #[serde(default)]
    game_versions: Vec<String>,
    #[serde(default)]
    dependencies: Vec<RawDependency>,
    #[serde(default)]
    mirrors: Vec<String>,
    #[serde(default)]
    trackers: Vec<String>,
    #[serde(default)]
    zap: Option<String>,
    #[serde(default)]
    splits: Vec<RawSplit>,
}

/// One `splits` entry: who shares the release's tips, and their weight.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSplit {
    /// npub or hex.
    to: String,
    weight: u32,
    #[serde(default)]
    relay: String,
}

fn default_files() -> PathBuf {
    PathBuf::from("build")
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDependency {
    /// `<npub or hex>/<game>.<slug>`.
    project: String,
    #[serde(default)]
    versions: Option<String>,
    #[serde(default = "required")]
    kind: DependencyKind,
}

fn required() -> DependencyKind {
    DependencyKind::Required
}

/// What `release/<version>.yaml` says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReleaseFile {
    /// The version.
    pub version: Version,
    /// Absolute, or relative to the working folder: the project folder joined with `files`.
    pub files: PathBuf,
    /// What changed (Markdown).
    pub changelog: String,
    /// Game versions it supports.
    pub game_versions: Vec<String>,
    /// The projects it depends on.
    pub dependencies: Vec<Dependency>,
    /// Web mirrors of its files.
    pub mirrors: Vec<String>,
    /// Trackers to announce to.
    pub trackers: Vec<String>,
    /// Where zaps go (a lightning address or LNURL), if anywhere.
    pub zap: Option<String>,
    /// Who shares its tips (NIP-57 Appendix G), with the author named among them or not.
    pub zap_splits: Vec<ZapSplit>,
}

/// The release file of `version` in the project folder `dir`.
pub fn release_file_path(dir: &Path, version: &str) -> PathBuf {
    dir.join("release").join(format!("{version}.yaml"))
}

/// Reads `release/<version>.yaml` of the project in `dir`.
pub fn read_release(dir: &Path, version: &str) -> Result<ReleaseFile, AuthoringError> {
    let file = release_file_path(dir, version);
    let text = std::fs::read_to_string(&file).map_err(|source| AuthoringError::Io {
        what: "reading",
        path: file.clone(),
        source,
    })?;
    let raw: Raw = from_yaml(&file, &text, 1)?;
    let fault = |path: &[Field], message: String| AuthoringError::Yaml {
        line: locate(&text, path),
        column: 1,
        file: file.clone(),
        message: format!("{}: {message}", field_name(path)),
    };
    let parsed =
        parse_version(&raw.version).map_err(|e| fault(&[Field::Key("version")], e.to_string()))?;
    if raw.version != version {
        return Err(fault(
            &[Field::Key("version")],
            format!("the file says {} but is named for {version}", raw.version),
        ));
    }
    for (i, g) in raw.game_versions.iter().enumerate() {
        check_game_version(g).map_err(|e| {
            fault(
                &[Field::Key("game_versions"), Field::Item(i)],
                e.to_string(),
            )
        })?;
    }
    let mut dependencies = Vec::new();
    for (i, d) in raw.dependencies.into_iter().enumerate() {
        let at = |key| [Field::Key("dependencies"), Field::Item(i), Field::Key(key)];
        let target: Target =
            d.project
                .parse()
                .map_err(|e: seedstr_client::resolve::target::TargetError| {
                    fault(&at("project"), e.to_string())
                })?;
        if target.version.is_some() {
            return Err(fault(
                &at("project"),
                format!(
                    "{:?} names a version; give the range in `versions`",
                    d.project
                ),
            ));
        }
        let range = match &d.versions {
            None => VersionReq::STAR,
            Some(r) => VersionReq::parse(r).map_err(|_| {
                fault(
                    &at("versions"),
                    format!("{r:?} is not a version range (e.g. \">=1.2, <2\")"),
                )
            })?,
        };
        dependencies.push(Dependency {
            author: target.author,
            coordinate: target.coordinate,
            range,
            kind: d.kind,
        });
    }
    let mut zap_splits = Vec::new();
    for (i, sp) in raw.splits.iter().enumerate() {
        let pubkey = parse_public_key(&sp.to).map_err(|e| {
            fault(
                &[Field::Key("splits"), Field::Item(i), Field::Key("to")],
                e.to_string(),
            )
        })?;
        zap_splits.push(ZapSplit {
            pubkey,
            relay: sp.relay.clone(),
            weight: Some(sp.weight),
        });
    }
    check_zap_splits(&zap_splits).map_err(|e| fault(&[Field::Key("splits")], e.to_string()))?;
    Ok(ReleaseFile {
        version: parsed,
        files: dir.join(raw.files),
        changelog: raw.changelog,
        game_versions: raw.game_versions,
        dependencies,
        mirrors: raw.mirrors,
        trackers: raw.trackers,
        zap: raw.zap,
        zap_splits,
    })
}

/// A step in a field's path: a mapping key or a list index.
#[derive(Clone, Copy)]
enum Field {
    Key(&'static str),
    Item(usize),
}

fn field_name(path: &[Field]) -> String {
    let mut out = String::new();
    for f in path {
        match f {
            Field::Key(k) if out.is_empty() => out.push_str(k),
            Field::Key(k) => {
                out.push('.');
                out.push_str(k)
            }
            Field::Item(i) => out.push_str(&format!("[{i}]")),
        }
    }
    out
}

/// The 1-based line of `path` in block-style YAML: each key is looked for below the line of its
/// parent, each list item is counted by its `-`. Falls back to the deepest line found.
fn locate(text: &str, path: &[Field]) -> usize {
    let lines: Vec<&str> = text.lines().collect();
    let indent = |l: &str| l.len() - l.trim_start().len();
    let (mut at, mut min_indent) = (0usize, 0usize);
    let mut found = 1;
    for f in path {
        let start = at;
        let hit = match f {
            Field::Key(k) => (start..lines.len()).find(|&n| {
                let l = lines[n];
                let body = l.trim_start().trim_start_matches("- ");
                indent(l) >= min_indent && body.starts_with(&format!("{k}:"))
            }),
            Field::Item(i) => {
                // Flow style (`[a, b]`) keeps the items on the key's own line.
                if lines.get(start).is_some_and(|l| l.contains('[')) {
                    Some(start)
                } else {
                    (start + 1..lines.len())
                        .filter(|&n| lines[n].trim_start().starts_with('-'))
                        .nth(*i)
                }
            }
        };
        match hit {
            Some(n) => {
                found = n + 1;
                at = n;
                min_indent = indent(lines[n]);
            }
            None => break,
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, version: &str, text: &str) {
        let p = release_file_path(dir, version);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }

    const NPUB: &str = "npub1sn0wdenkukak0d9dfczzeacvhkrgz92ak56egt7vdgzn8pv2wfqqhrjdv9";

    #[test]
    fn a_release_file_reads_with_its_dependencies() {
        let dir = tempfile::tempdir().unwrap();
        write(
            dir.path(),
            "1.2.0",
            &format!(
                "version: 1.2.0\nchangelog: |\n  Taller trees\ngame_versions: [\"1.6.*\"]\ndependencies:\n  - project: {NPUB}/skyrim-se.skse\n    versions: \">=2.0\"\n  - project: {NPUB}/skyrim-se.old-trees\n    kind: incompatible\n"
            ),
        );
        let r = read_release(dir.path(), "1.2.0").unwrap();
        assert_eq!(r.files, dir.path().join("build"));
        assert_eq!(r.dependencies.len(), 2);
        assert_eq!(r.dependencies[0].kind, DependencyKind::Required);
        assert_eq!(r.dependencies[1].range, VersionReq::STAR);
        assert_eq!(r.changelog, "Taller trees\n");
        assert!(r.zap_splits.is_empty());
    }

    #[test]
    fn zap_splits_read_with_their_weights() {
        let dir = tempfile::tempdir().unwrap();
        write(
            dir.path(),
            "1.0.0",
            &format!("version: 1.0.0\nsplits:\n  - to: {NPUB}\n    weight: 9\n"),
        );
        let r = read_release(dir.path(), "1.0.0").unwrap();
        assert_eq!(r.zap_splits.len(), 1);
        assert_eq!(r.zap_splits[0].weight, Some(9));
        assert_eq!(r.zap_splits[0].pubkey, parse_public_key(NPUB).unwrap());
    }

    #[test]
    fn errors_name_the_line_and_the_field() {
        let dir = tempfile::tempdir().unwrap();
        for (text, line, field) in [
            (format!("version: 1.0.0\ndependencies:\n  - project: {NPUB}/skyrim-se.skse\n    kind: sometimes\n"), 4, "dependencies[0].kind: unknown variant `sometimes`"),
            ("version: 1.0.0\ngame_versions: [\"1.*.2\"]\n".to_owned(), 2, "game_versions[0]: bad game version \"1.*.2\""),
            ("version: one\n".to_owned(), 1, "version: bad version \"one\""),
            (format!("version: 1.0.0\ndependencies:\n  - project: {NPUB}/skyrim-se.skse\n  - project: nobody/skyrim-se.x\n"), 4, "dependencies[1].project: \"nobody\" is not an npub"),
            ("version: 1.0.0\nchangelgo: typo\n".to_owned(), 2, "unknown field `changelgo`"),
            ("version: 1.0.0\nsplits:\n  - to: nobody\n    weight: 1\n".to_owned(), 3, "splits[0].to: \"nobody\" is not an npub"),
            (format!("version: 1.0.0\nsplits:\n  - to: {NPUB}\n    weight: 1\n  - to: {NPUB}\n    weight: 2\n"), 2, "splits: zap split: "),
            (format!("version: 1.0.0\ndependencies:\n  - project: {NPUB}/skyrim-se.skse\n    versions: \"about 2\"\n"), 4, "dependencies[0].versions: \"about 2\" is not a version range"),
        ] {
            write(dir.path(), "1.0.0", &text);
            let e = read_release(dir.path(), "1.0.0").unwrap_err().to_string();
            assert!(e.contains(&format!("1.0.0.yaml:{line}:")), "{e}");
            assert!(e.contains(field), "{e}");
        }
        write(dir.path(), "1.0.0", "version: 1.0.1\n");
        let e = read_release(dir.path(), "1.0.0").unwrap_err().to_string();
        assert!(
            e.contains("the file says 1.0.1 but is named for 1.0.0"),
            "{e}"
        );
    }
}
