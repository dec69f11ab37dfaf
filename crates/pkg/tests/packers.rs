//! Packages made by the real `npm pack` and `cargo package`, read back: the names, versions,
//! dependencies and digests Seedstr would publish for them.

use std::path::Path;
use std::process::Command;

use seedstr_pkg::manifest::DependencyKind;
use seedstr_pkg::{Ecosystem, Manifest, Package};

fn write(root: &Path, rel: &str, text: &str) {
    let p = root.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, text).unwrap();
}

#[test]
fn an_npm_folder_is_packed_by_npm_and_read_with_npms_integrity() {
    let work = tempfile::tempdir().unwrap();
    let dir = work.path().join("greet");
    write(
        &dir,
        "package.json",
        r#"{"name":"@acme/greet","version":"1.2.0","main":"index.js","dependencies":{"left-pad":"^1.3.0"}}"#,
    );
    write(&dir, "index.js", "module.exports = (n) => `hello ${n}`;\n");

    let pkg = Package::open(Ecosystem::Npm, &dir, &work.path().join("scratch")).unwrap();
    assert_eq!(pkg.name().as_str(), "@acme/greet");
    assert_eq!(pkg.version().to_string(), "1.2.0");
    let Manifest::Npm(m) = &pkg.manifest else {
        panic!("an npm manifest")
    };
    assert_eq!(m.dependencies["left-pad"], "^1.3.0");
    assert_eq!(
        pkg.archive.path.file_name().unwrap(),
        pkg.name().archive_name("1.2.0").as_str()
    );

    // npm's own account of the same folder: the same archive, the same integrity.
    let again = work.path().join("again");
    std::fs::create_dir_all(&again).unwrap();
    let out = Command::new("npm")
        .args(["pack", "--json", "--pack-destination"])
        .arg(&again)
        .current_dir(&dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let listed: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(listed[0]["integrity"], pkg.archive.digests.integrity());

    // The archive itself opens to the same package; an archive of the wrong kind is named.
    let from_file = Package::open(Ecosystem::Npm, &pkg.archive.path, work.path()).unwrap();
    assert_eq!(from_file.archive.digests, pkg.archive.digests);
    let err = Package::open(Ecosystem::Cargo, &pkg.archive.path, work.path())
        .err()
        .unwrap()
        .to_string();
    assert!(err.contains("a folder or a .crate file"), "{err}");
}

#[test]
fn a_crate_folder_is_packed_by_cargo_and_read_with_its_dependencies() {
    let work = tempfile::tempdir().unwrap();
    let dir = work.path().join("greet");
    write(
        &dir,
        "Cargo.toml",
        "[package]\nname = \"greet_lib\"\nversion = \"0.2.0\"\nedition = \"2021\"\ndescription = \"greets\"\nlicense = \"MIT\"\n\n[dependencies]\nitoa = { version = \"1\", optional = true }\n\n[features]\nfast = [\"dep:itoa\"]\n",
    );
    write(
        &dir,
        "src/lib.rs",
        "pub fn greet() -> &'static str { \"hello\" }\n",
    );

    let pkg = Package::open(Ecosystem::Cargo, &dir, &work.path().join("scratch")).unwrap();
    assert_eq!(pkg.name().as_str(), "greet_lib");
    assert_eq!(pkg.version().to_string(), "0.2.0");
    let Manifest::Cargo(m) = &pkg.manifest else {
        panic!("a cargo manifest")
    };
    let itoa = &m.dependencies[0];
    assert_eq!(
        (itoa.name.as_str(), itoa.kind, itoa.optional),
        ("itoa", DependencyKind::Normal, true)
    );
    assert_eq!(m.features["fast"], vec!["dep:itoa"]);
    assert_eq!(
        pkg.archive.path.file_name().unwrap(),
        pkg.name().archive_name("0.2.0").as_str()
    );
    // The index's cksum is the .crate's SHA-256, as sha256sum computes it.
    let out = Command::new("sha256sum")
        .arg(&pkg.archive.path)
        .output()
        .unwrap();
    let sum = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        sum.split_whitespace().next().unwrap(),
        pkg.archive.digests.cksum()
    );

    // cargo refuses a dependency no registry can resolve, and the error carries its words.
    let bad = work.path().join("bad");
    write(
        &bad,
        "Cargo.toml",
        "[package]\nname = \"bad\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[dependencies]\ngreet_lib = { path = \"../greet\" }\n",
    );
    write(&bad, "src/lib.rs", "");
    let err = Package::open(Ecosystem::Cargo, &bad, &work.path().join("scratch-bad"))
        .err()
        .unwrap()
        .to_string();
    assert!(
        err.contains("cargo package") && err.contains("greet_lib"),
        "{err}"
    );
}
