//! Helpers for the OpenMods tests: mod projects, releases and player commands as a person.

use std::path::{Path, PathBuf};

use super::spine::{write, Person, Seeder};
use serde_json::Value;

/// `seedstr mod init` for `person` in a new folder below `work`; returns the project folder.
pub fn init(person: &Person, work: &Path, game: &str, slug: &str) -> PathBuf {
    let dir = work.join(format!("project-{slug}"));
    let out = person.run(&[
        "mod",
        "init",
        "--game",
        game,
        "--slug",
        slug,
        "--dir",
        dir.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    dir
}

/// Writes release/<version>.yaml with `extra` lines, and `files` as its payload.
pub fn prepare(dir: &Path, version: &str, extra: &str, files: &[(&str, Vec<u8>)]) {
    let payload = dir.join(format!("build-{version}"));
    for (p, b) in files {
        write(&payload, p, b);
    }
    write(
        dir,
        &format!("release/{version}.yaml"),
        format!("version: {version}\nfiles: build-{version}\nchangelog: |\n  Release {version}\n{extra}")
            .as_bytes(),
    );
}

/// `seedstr mod release … --json` as `person`: Ok(report) or Err(what it printed on stderr).
pub fn try_release(
    person: &Person,
    dir: &Path,
    version: &str,
    relay: &str,
) -> Result<Value, String> {
    try_release_with(person, dir, version, relay, &["--no-dht"])
}

/// [`try_release`] with `extra` flags instead of `--no-dht` (a DHT bootstrap, say).
pub fn try_release_with(
    person: &Person,
    dir: &Path,
    version: &str,
    relay: &str,
    extra: &[&str],
) -> Result<Value, String> {
    let mut args = vec![
        "mod",
        "release",
        version,
        "--dir",
        dir.to_str().unwrap(),
        "--relay",
        relay,
        "--json",
    ];
    args.extend_from_slice(extra);
    let out = person.run(&args);
    if out.status.success() {
        Ok(serde_json::from_slice(&out.stdout).unwrap())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

pub fn release(person: &Person, dir: &Path, version: &str, relay: &str) -> Value {
    try_release(person, dir, version, relay).unwrap_or_else(|e| panic!("mod release failed: {e}"))
}

/// `seedstr mod <args> --json`: Ok(output) or Err(error text).
pub fn run_mod(person: &Person, args: &[&str]) -> Result<Value, String> {
    let mut all = vec!["mod"];
    all.extend_from_slice(args);
    all.push("--json");
    let out = person.run(&all);
    eprintln!("{}", String::from_utf8_lossy(&out.stderr));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|_| {
        panic!(
            "mod {args:?} printed no JSON: {}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    if out.status.success() {
        Ok(v)
    } else {
        Err(v["error"].as_str().unwrap_or_default().to_owned())
    }
}

/// The flags every player command needs on loopback.
pub fn player_flags<'a>(
    game_dir: &'a Path,
    relay: &'a str,
    seeders: &'a [&'a Seeder],
) -> Vec<&'a str> {
    let mut f = vec![
        "--game-dir",
        game_dir.to_str().unwrap(),
        "--relay",
        relay,
        "--listen",
        "127.0.0.1:0",
        "--no-dht",
        "--stall-timeout",
        "5",
        "--yes",
    ];
    for s in seeders {
        f.push("--peer");
        f.push(&s.addr);
    }
    f
}

pub fn with<'a>(first: &[&'a str], rest: &[&'a str]) -> Vec<&'a str> {
    [first, rest].concat()
}

pub fn plugins_txt(game_dir: &Path) -> String {
    std::fs::read_to_string(game_dir.join("plugins.txt")).unwrap()
}
