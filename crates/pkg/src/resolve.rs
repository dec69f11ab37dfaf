//! npm dependency resolution over the releases a reader accepted: every range gets the highest
//! version that satisfies it (a locked version first, while it still does), and each package
//! is placed as npm places it: at the top of `node_modules` when that slot is free, otherwise
//! inside the dependent's own `node_modules`, so Node's lookup finds the right copy.

use std::collections::{BTreeMap, VecDeque};

use nodejs_semver::{Range, Version as NpmVersion};

use crate::release::PackageRelease;

/// Nesting deeper than this means the versions chase each other (a@1 needs b@2, which needs
/// a@2, which needs b@1…).
const MAX_DEPTH: usize = 64;

/// The releases a reader may install, by package name.
#[derive(Debug, Default)]
pub struct Catalog {
    /// Accepted releases of each name looked up (an empty list: none accepted).
    pub accepted: BTreeMap<String, Vec<PackageRelease>>,
    /// Releases found but refused, with why, for error messages.
    pub refused: BTreeMap<String, Vec<(String, String)>>,
}

/// A package placed in the tree.
#[derive(Debug, Clone)]
pub struct Placed {
    /// `node_modules/a`, `node_modules/a/node_modules/@s/b`.
    pub path: String,
    /// The release placed there.
    pub release: PackageRelease,
    /// The placed package whose `node_modules` holds this one's siblings: `None` at the top.
    pub parent: Option<String>,
}

/// The resolved tree: paths to packages, top level first.
#[derive(Debug, Clone, Default)]
pub struct Tree {
    /// Install path to the package placed there.
    pub placed: BTreeMap<String, Placed>,
    /// Optional dependencies that no accepted release satisfied, skipped: (dependent, name,
    /// range).
    pub skipped: Vec<(String, String, String)>,
}

/// Why a tree could not be resolved.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ResolveError {
    /// A range that is not npm's.
    #[error("{name}@{range} (needed by {needed_by}) is not an npm version range: {why}")]
    Range {
        /// The package name.
        name: String,
        /// The range written for it.
        range: String,
        /// What needs it.
        needed_by: String,
        /// Why it does not read.
        why: RangeError,
    },
    /// No accepted release satisfies a range.
    #[error("no accepted release of {name} satisfies {range} (needed by {needed_by}){}", describe(.available, .refused))]
    Unsatisfied {
        /// The package name.
        name: String,
        /// The range written for it.
        range: String,
        /// What needs it.
        needed_by: String,
        /// The versions found.
        available: Vec<String>,
        /// Releases refused, and why.
        refused: Vec<(String, String)>,
    },
    /// Versions chasing each other too deep.
    #[error("the versions of {0} chase each other more than {MAX_DEPTH} levels deep")]
    TooDeep(String),
}

fn describe(available: &[String], refused: &[(String, String)]) -> String {
    let mut out = String::new();
    if available.is_empty() {
        out.push_str("; none is accepted");
    } else {
        out.push_str(&format!("; accepted: {}", available.join(", ")));
    }
    for (spec, why) in refused {
        out.push_str(&format!("; refused {spec}: {why}"));
    }
    out
}

/// Why a dependency's range was not read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RangeError {
    /// Not a registry range (git, file, URL, alias).
    #[error("only registry ranges resolve here (not git, file, URL or alias specs)")]
    NotRegistry,
    /// The range does not read.
    #[error("{0}")]
    Unreadable(String),
}

/// A range as npm reads it; dist-tag `latest` means the highest release.
pub fn parse_range(range: &str) -> Result<Range, RangeError> {
    let range = range.trim();
    let range = if range == "latest" { "*" } else { range };
    if range.contains(':') || range.contains('/') {
        return Err(RangeError::NotRegistry);
    }
    Range::parse(range).map_err(|e| RangeError::Unreadable(e.to_string()))
}

fn npm_version(r: &PackageRelease) -> Option<NpmVersion> {
    NpmVersion::parse(r.version().to_string()).ok()
}

/// Which names a resolution still needs looked up before it can finish.
#[derive(Debug)]
pub enum Step {
    /// The tree is complete.
    Done(Tree),
    /// These names must be looked up first.
    Lookup(Vec<String>),
}

/// What a dependent asks for.
struct Want {
    name: String,
    range: String,
    optional: bool,
    /// The placed package asking, or `None` for the project itself.
    from: Option<String>,
}

/// The package of `want`'s name that Node would load for its dependent: in the dependent's
/// own `node_modules`, then in each enclosing one.
fn nearest<'t>(tree: &'t Tree, want: &Want) -> Option<&'t Placed> {
    let mut at = want.from.clone();
    loop {
        let path = match &at {
            Some(p) => format!("{p}/node_modules/{}", want.name),
            None => format!("node_modules/{}", want.name),
        };
        if let Some(p) = tree.placed.get(&path) {
            return Some(p);
        }
        match at {
            Some(p) => at = tree.placed[&p].parent.clone(),
            None => return None,
        }
    }
}

/// Among `releases` satisfying `range`, the locked version when it is one, else the newest.
fn choose<'r>(
    releases: &'r [PackageRelease],
    range: &Range,
    locked: Option<&String>,
) -> Option<&'r PackageRelease> {
    let satisfying = |r: &&PackageRelease| npm_version(r).is_some_and(|v| range.satisfies(&v));
    releases
        .iter()
        .filter(satisfying)
        .find(|r| locked == Some(&r.version().to_string()))
        .or_else(|| {
            releases
                .iter()
                .filter(satisfying)
                .max_by(|a, b| a.version().cmp(b.version()))
        })
}

/// Resolves `roots` (name and range) against `catalog`, preferring `locked` (path to version)
/// where it still satisfies. Returns the names it could not look up yet, when any: the
/// caller looks them up and calls again.
pub fn resolve(
    roots: &[(String, String)],
    catalog: &Catalog,
    locked: &BTreeMap<String, String>,
) -> Result<Step, ResolveError> {
    let mut tree = Tree::default();
    let mut missing = Vec::new();
    let mut queue: VecDeque<Want> = roots
        .iter()
        .map(|(name, range)| Want {
            name: name.clone(),
            range: range.clone(),
            optional: false,
            from: None,
        })
        .collect();
    while let Some(want) = queue.pop_front() {
        let needed_by = want.from.clone().unwrap_or_else(|| "the project".into());
        let range = parse_range(&want.range).map_err(|why| ResolveError::Range {
            name: want.name.clone(),
            range: want.range.clone(),
            needed_by: needed_by.clone(),
            why,
        })?;
        let nearest = nearest(&tree, &want);
        if let Some(found) = nearest {
            if npm_version(&found.release).is_some_and(|v| range.satisfies(&v)) {
                continue;
            }
        }
        let Some(releases) = catalog.accepted.get(&want.name) else {
            if !missing.contains(&want.name) {
                missing.push(want.name.clone());
            }
            continue;
        };
        let path = match (&nearest, &want.from) {
            // Nothing of that name on the way up: the top slot is free.
            (None, _) | (_, None) => format!("node_modules/{}", want.name),
            (Some(_), Some(from)) => format!("{from}/node_modules/{}", want.name),
        };
        if path.matches("/node_modules/").count() >= MAX_DEPTH {
            return Err(ResolveError::TooDeep(want.name));
        }
        let chosen = choose(releases, &range, locked.get(&path));
        let Some(chosen) = chosen else {
            if want.optional {
                tree.skipped.push((needed_by, want.name, want.range));
                continue;
            }
            let mut available: Vec<&PackageRelease> = releases.iter().collect();
            available.sort_by(|a, b| a.version().cmp(b.version()));
            return Err(ResolveError::Unsatisfied {
                name: want.name.clone(),
                range: want.range.clone(),
                needed_by,
                available: available.iter().map(|r| r.version().to_string()).collect(),
                refused: catalog.refused.get(&want.name).cloned().unwrap_or_default(),
            });
        };
        // Roots are queued first, so the top slots go to the project's own dependencies.
        let parent = if path == format!("node_modules/{}", want.name) {
            None
        } else {
            want.from.clone()
        };
        let deps = chosen.npm_dependencies().map_err(|e| ResolveError::Range {
            name: want.name.clone(),
            range: want.range.clone(),
            needed_by: needed_by.clone(),
            why: RangeError::Unreadable(e.to_string()),
        })?;
        tree.placed.insert(
            path.clone(),
            Placed {
                path: path.clone(),
                release: chosen.clone(),
                parent,
            },
        );
        for d in deps {
            queue.push_back(Want {
                name: d.name,
                range: d.range,
                optional: d.optional,
                from: Some(path.clone()),
            });
        }
    }
    if missing.is_empty() {
        Ok(Step::Done(tree))
    } else {
        Ok(Step::Lookup(missing))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::release::test_release;
    use nostr::prelude::Keys;
    use serde_json::json;

    fn catalog(entries: &[(&str, &str, serde_json::Value)]) -> Catalog {
        let keys = Keys::generate();
        let mut c = Catalog::default();
        for (name, version, manifest) in entries {
            c.accepted
                .entry(name.to_string())
                .or_default()
                .push(test_release(&keys, name, version, manifest.clone()));
        }
        c
    }

    fn roots(r: &[(&str, &str)]) -> Vec<(String, String)> {
        r.iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect()
    }

    fn done(step: Step) -> Tree {
        match step {
            Step::Done(t) => t,
            Step::Lookup(names) => panic!("still needs {names:?}"),
        }
    }

    fn layout(t: &Tree) -> Vec<String> {
        t.placed
            .values()
            .map(|p| format!("{} {}", p.path, p.release.version()))
            .collect()
    }

    #[test]
    fn highest_satisfying_versions_hoist_and_conflicts_nest() {
        let c = catalog(&[
            (
                "app-lib",
                "1.0.0",
                json!({"dependencies": {"left-pad": "^1.1.0", "@acme/util": "2.x"}}),
            ),
            ("left-pad", "1.0.0", json!({})),
            ("left-pad", "1.3.0", json!({})),
            ("left-pad", "2.0.0", json!({})),
            (
                "@acme/util",
                "2.1.0",
                json!({"peerDependencies": {"left-pad": ">=1 <2 || ^3"}}),
            ),
            ("@acme/util", "3.0.0", json!({})),
        ]);
        let t = done(
            resolve(
                &roots(&[("app-lib", "^1"), ("left-pad", "2")]),
                &c,
                &BTreeMap::new(),
            )
            .unwrap(),
        );
        assert_eq!(
            layout(&t),
            [
                "node_modules/@acme/util 2.1.0",
                "node_modules/@acme/util/node_modules/left-pad 1.3.0",
                "node_modules/app-lib 1.0.0",
                "node_modules/app-lib/node_modules/left-pad 1.3.0",
                "node_modules/left-pad 2.0.0",
            ]
        );
    }

    #[test]
    fn locked_versions_stay_while_they_satisfy() {
        let c = catalog(&[
            ("left-pad", "1.0.0", json!({})),
            ("left-pad", "1.3.0", json!({})),
        ]);
        let locked = BTreeMap::from([("node_modules/left-pad".to_owned(), "1.0.0".to_owned())]);
        let t = done(resolve(&roots(&[("left-pad", "^1")]), &c, &locked).unwrap());
        assert_eq!(layout(&t), ["node_modules/left-pad 1.0.0"]);
        let t = done(resolve(&roots(&[("left-pad", "^1.2")]), &c, &locked).unwrap());
        assert_eq!(layout(&t), ["node_modules/left-pad 1.3.0"]);
    }

    #[test]
    fn unknown_names_are_asked_for_and_failures_say_what_was_there() {
        let c = catalog(&[(
            "a",
            "1.0.0",
            json!({"dependencies": {"b": "^1"}, "optionalDependencies": {"c": "^9"}}),
        )]);
        match resolve(&roots(&[("a", "1")]), &c, &BTreeMap::new()).unwrap() {
            Step::Lookup(names) => assert_eq!(names, ["b", "c"]),
            Step::Done(_) => panic!("b and c were never looked up"),
        }
        let mut c = c;
        c.accepted.insert("b".into(), vec![]);
        c.accepted.insert("c".into(), vec![]);
        c.refused.insert(
            "b".into(),
            vec![("b@1.0.0".into(), "npub1x is revoked".into())],
        );
        let why = resolve(&roots(&[("a", "1")]), &c, &BTreeMap::new())
            .unwrap_err()
            .to_string();
        assert_eq!(
            why,
            "no accepted release of b satisfies ^1 (needed by node_modules/a); none is accepted; refused b@1.0.0: npub1x is revoked"
        );
        c.accepted.get_mut("b").unwrap().push(test_release(
            &Keys::generate(),
            "b",
            "1.0.0",
            json!({}),
        ));
        let t = done(resolve(&roots(&[("a", "1")]), &c, &BTreeMap::new()).unwrap());
        assert_eq!(
            t.skipped,
            [("node_modules/a".to_owned(), "c".to_owned(), "^9".to_owned())]
        );
        let why = resolve(
            &roots(&[("a", "git+https://x/y.git")]),
            &c,
            &BTreeMap::new(),
        )
        .unwrap_err()
        .to_string();
        assert!(why.contains("only registry ranges"), "{why}");
    }

    #[test]
    fn cycles_end() {
        let c = catalog(&[
            ("a", "1.0.0", json!({"dependencies": {"b": "1"}})),
            ("b", "1.0.0", json!({"dependencies": {"a": "1"}})),
        ]);
        let t = done(resolve(&roots(&[("a", "1")]), &c, &BTreeMap::new()).unwrap());
        assert_eq!(layout(&t), ["node_modules/a 1.0.0", "node_modules/b 1.0.0"]);
    }
}
