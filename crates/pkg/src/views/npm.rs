//! The npm registry view: a packument (`GET /<name>`) built from the accepted releases of a
//! name, with each version's `integrity` from its signed release and its tarball served by
//! this node.

use serde_json::{json, Map, Value};

use crate::release::PackageRelease;

/// The packument of `name`. `registry` is this view's base URL, ending in `/`.
pub fn packument(name: &str, releases: &[PackageRelease], registry: &str) -> Value {
    let mut sorted: Vec<&PackageRelease> = releases.iter().collect();
    sorted.sort_by(|a, b| a.version().cmp(b.version()));
    let mut versions = Map::new();
    for r in &sorted {
        let v = r.version().to_string();
        let mut doc = r.tags.manifest.clone();
        doc.insert("name".into(), json!(name));
        doc.insert("version".into(), json!(v));
        doc.insert("_id".into(), json!(format!("{name}@{v}")));
        doc.insert(
            "dist".into(),
            json!({
                "tarball": tarball_url(registry, name, &r.archive().path),
                "integrity": r.tags.integrity,
            }),
        );
        versions.insert(v, Value::Object(doc));
    }
    // `latest` is the highest stable version, or the highest of all when none is stable.
    let latest = sorted
        .iter()
        .rev()
        .find(|r| r.version().pre.is_empty())
        .or(sorted.last())
        .map(|r| r.version().to_string());
    let mut out = json!({
        "_id": name,
        "name": name,
        "versions": versions,
        "dist-tags": {},
    });
    if let Some(latest) = latest {
        out["dist-tags"]["latest"] = json!(latest);
    }
    out
}

/// `<registry><name>/-/<archive>`, npm's own layout.
pub fn tarball_url(registry: &str, name: &str, archive: &str) -> String {
    format!("{registry}{name}/-/{archive}")
}
