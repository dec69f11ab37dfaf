//! The Cargo sparse-index view: `config.json`, one index file per crate (a JSON line per
//! accepted version, from its signed release), downloads addressed by the archive's SHA-256.

use serde_json::{json, Value};

use crate::release::PackageRelease;

/// `config.json`: downloads at `<dl_base>{sha256-checksum}`, so a download names its bytes.
pub fn config(dl_base: &str) -> Value {
    json!({ "dl": format!("{dl_base}{{sha256-checksum}}") })
}

/// Where the index keeps a crate's file: `1/a`, `2/ab`, `3/a/abc`, `ab/cd/abcd…`, lowercased.
pub fn index_path(name: &str) -> String {
    let n = name.to_ascii_lowercase();
    match n.len() {
        1 => format!("1/{n}"),
        2 => format!("2/{n}"),
        3 => format!("3/{}/{n}", &n[..1]),
        _ => format!("{}/{}/{n}", &n[..2], &n[2..4]),
    }
}

/// One index line.
pub fn index_line(release: &PackageRelease) -> Value {
    let mut line = release.tags.manifest.clone();
    line.insert("name".into(), json!(release.name.as_str()));
    line.insert("vers".into(), json!(release.version().to_string()));
    line.insert("cksum".into(), json!(hex::encode(release.archive().sha256)));
    line.insert("yanked".into(), json!(false));
    line.entry("features").or_insert_with(|| json!({}));
    line.entry("deps").or_insert_with(|| json!([]));
    Value::Object(line)
}

/// The index file: every accepted version, oldest first, a line each.
pub fn index_file(releases: &[PackageRelease]) -> String {
    let mut sorted: Vec<&PackageRelease> = releases.iter().collect();
    sorted.sort_by(|a, b| a.version().cmp(b.version()));
    sorted
        .iter()
        .map(|r| index_line(r).to_string() + "\n")
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_paths_follow_cargos_layout() {
        assert_eq!(index_path("a"), "1/a");
        assert_eq!(index_path("ab"), "2/ab");
        assert_eq!(index_path("abc"), "3/a/abc");
        assert_eq!(index_path("Inflector"), "in/fl/inflector");
        assert_eq!(
            config("http://h/cargo/dl/")["dl"],
            "http://h/cargo/dl/{sha256-checksum}"
        );
    }
}
