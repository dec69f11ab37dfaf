//! `seedstr-bench registry`: the unmodified `npm` installing one package tree through our npm
//! view and through verdaccio (from npm, installed by the bench when missing), in the same run.
//!
//! A publisher publishes a tree of small packages (package `i` needs `2i+1` and `2i+2`) with
//! `seedstr pkg publish`, maps them in its registry and seeds them with `seedstr seed`; the same
//! archives are published to verdaccio with `npm publish`. Each round then times, with a fresh
//! npm cache and project each time:
//! - verdaccio: `npm install` of the tree's root;
//! - the view with every archive held (its package store filled by an earlier install);
//! - the view with none held: a new `seedstr pkg serve` with an empty home, every archive
//!   fetched from the publisher's seeder and checked before npm gets a byte.
//!
//! Then a warm install on each side (npm's cache kept, no lock, no node_modules), counting the
//! packuments npm revalidated (a 304) and those it fetched again.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use clap::Args;
use nostr::prelude::{Keys, ToBech32 as _};
use serde_json::{json, Value};

use crate::children::{drain, first_line, seedstr_exe, start_relay, start_seed, Child};

#[derive(Args)]
pub struct RegistryBench {
    /// Packages in the tree.
    #[arg(long, default_value_t = 20)]
    packages: usize,
    /// Timed cold installs per side.
    #[arg(long, default_value_t = 5)]
    runs: usize,
    /// Bytes of each package's index.js.
    #[arg(long, default_value_t = 2048)]
    package_bytes: usize,
    /// Where verdaccio is installed (from npm, when missing). Default:
    /// ~/.cache/seedstr/bench/verdaccio.
    #[arg(long)]
    verdaccio_dir: Option<PathBuf>,
    /// Only our view (no verdaccio).
    #[arg(long)]
    no_verdaccio: bool,
    /// The `seedstr` binary (default: the one beside this program).
    #[arg(long)]
    seedstr: Option<PathBuf>,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
}

/// The verdaccio release the bench installs.
const VERDACCIO: &str = "verdaccio@6.8.0";
const PASSPHRASE: &str = "bench passphrase";

/// `seedstr` run as one identity.
struct Seedstr<'a> {
    exe: &'a Path,
    home: PathBuf,
}

impl Seedstr<'_> {
    fn command(&self) -> Command {
        let mut c = Command::new(self.exe);
        c.env("SEEDSTR_HOME", &self.home)
            .env("SEEDSTR_PASSPHRASE", PASSPHRASE)
            .env("SEEDSTR_LOG", "warn");
        c
    }

    /// Runs `args` (with `--json`) to completion; its report.
    fn run(&self, args: &[&str]) -> Result<Value> {
        let out = self.command().args(args).arg("--json").output()?;
        if !out.status.success() {
            bail!(
                "seedstr {}: {}",
                args.join(" "),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        Ok(serde_json::from_slice(&out.stdout)?)
    }

    fn import_key(&self, keys: &Keys) -> Result<()> {
        let mut child = self
            .command()
            .args(["key", "import"])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()?;
        writeln!(
            child.stdin.take().expect("piped"),
            "{}",
            keys.secret_key().to_secret_hex()
        )?;
        if !child.wait()?.success() {
            bail!("seedstr key import failed");
        }
        Ok(())
    }
}

fn package_name(i: usize) -> String {
    format!("bench-pkg-{i:02}")
}

/// Package `i` of `n`: needs `2i+1` and `2i+2`, and its index.js is `bytes` long.
fn write_package(dir: &Path, i: usize, n: usize, bytes: usize) -> Result<()> {
    let deps: Vec<String> = [2 * i + 1, 2 * i + 2]
        .into_iter()
        .filter(|&c| c < n)
        .map(package_name)
        .collect();
    let manifest = json!({
        "name": package_name(i),
        "version": "1.0.0",
        "main": "index.js",
        "license": "MIT",
        "dependencies": deps.iter().map(|d| (d.clone(), json!("^1.0.0"))).collect::<serde_json::Map<_, _>>(),
    });
    std::fs::create_dir_all(dir)?;
    std::fs::write(dir.join("package.json"), manifest.to_string())?;
    let requires: Vec<String> = deps.iter().map(|d| format!("require('{d}')")).collect();
    let mut index = format!(
        "module.exports = {{ name: '{}', needs: [{}] }};\n",
        package_name(i),
        requires.join(", ")
    );
    // Filler that compresses about as badly as code does.
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15 ^ i as u64;
    while index.len() + 4 < bytes {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        index.push_str(&format!("// {x:016x}\n"));
    }
    std::fs::write(dir.join("index.js"), index)?;
    Ok(())
}

/// A project that needs the tree's root.
fn fresh_project(dir: &Path) -> Result<()> {
    if dir.exists() {
        std::fs::remove_dir_all(dir)?;
    }
    std::fs::create_dir_all(dir)?;
    let manifest = json!({
        "name": "bench-app", "version": "1.0.0", "private": true,
        "dependencies": {package_name(0): "^1.0.0"},
    });
    std::fs::write(dir.join("package.json"), manifest.to_string())?;
    Ok(())
}

/// What one `npm install` took, and the packuments npm revalidated or fetched.
struct Install {
    took: Duration,
    revalidated: usize,
    fetched: usize,
    /// How long each request took as npm timed it (its `--loglevel=http` lines end with
    /// `<N>ms`), packuments and archives alike.
    request_ms: Vec<f64>,
}

/// `npm install` in `project` from `registry` with npm's cache at `cache`.
fn npm_install(project: &Path, registry: &str, cache: &Path, packages: usize) -> Result<Install> {
    let started = Instant::now();
    let out = Command::new("npm")
        .args(["install", "--no-audit", "--no-fund", "--loglevel=http"])
        .arg(format!("--registry={registry}"))
        .arg("--cache")
        .arg(cache)
        .current_dir(project)
        .output()
        .context("running npm")?;
    let took = started.elapsed();
    let log = String::from_utf8_lossy(&out.stderr);
    if !out.status.success() {
        bail!("npm install from {registry}: {log}");
    }
    let installed = std::fs::read_dir(project.join("node_modules"))?
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().starts_with("bench-pkg-"))
        .count();
    if installed != packages {
        bail!("npm install from {registry} installed {installed} of {packages} packages: {log}");
    }
    // make-fetch-happen logs a 304 as the cached copy's 200, "(cache revalidated)".
    let packument = |l: &&str| l.contains("GET 200") && !l.contains("/-/");
    Ok(Install {
        took,
        revalidated: log
            .lines()
            .filter(packument)
            .filter(|l| l.ends_with("(cache revalidated)"))
            .count(),
        fetched: log
            .lines()
            .filter(packument)
            .filter(|l| !l.ends_with("(cache revalidated)"))
            .count(),
        request_ms: log
            .lines()
            .filter(|l| l.contains("http fetch GET"))
            .filter_map(|l| {
                l.split_whitespace()
                    .find_map(|w| w.strip_suffix("ms")?.parse::<f64>().ok())
            })
            .collect(),
    })
}

/// A warm install: npm's cache kept, the project's lock and node_modules gone.
fn warm_install(project: &Path, registry: &str, cache: &Path, n: usize) -> Result<Install> {
    std::fs::remove_dir_all(project.join("node_modules"))?;
    std::fs::remove_file(project.join("package-lock.json"))?;
    npm_install(project, registry, cache, n)
}

/// `seedstr pkg serve` for `viewer`, trusting `registry`, fetching from `peer`; its npm URL.
fn start_view(
    viewer: &Seedstr,
    relay: &str,
    registry: &str,
    peer: &str,
) -> Result<(Child, String)> {
    let (child, line, rest) = first_line(viewer.command().args([
        "pkg",
        "serve",
        "--http",
        "127.0.0.1:0",
        "--listen",
        "127.0.0.1:0",
        "--no-dht",
        "--relay",
        relay,
        "--registry",
        registry,
        "--peer",
        peer,
    ]))?;
    let addr = line
        .trim()
        .strip_prefix("seedstr pkg serve listening on ")
        .with_context(|| format!("unexpected pkg serve output {line:?}"))?
        .to_owned();
    drain(rest);
    Ok((child, format!("{addr}/npm/")))
}

/// Verdaccio's program, installed into `dir` from npm when missing.
fn verdaccio_bin(dir: &Path) -> Result<PathBuf> {
    let bin = dir.join("node_modules/.bin/verdaccio");
    if bin.is_file() {
        return Ok(bin);
    }
    std::fs::create_dir_all(dir)?;
    eprintln!("installing {VERDACCIO} into {}", dir.display());
    let out = Command::new("npm")
        .args(["install", "--no-audit", "--no-fund", "--prefix"])
        .arg(dir)
        .arg(VERDACCIO)
        .output()?;
    if !out.status.success() || !bin.is_file() {
        bail!(
            "installing {VERDACCIO}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(bin)
}

/// Verdaccio on loopback, storing in `work`, with no uplink; its URL and a publish token.
fn start_verdaccio(bin: &Path, work: &Path) -> Result<(Child, String, String)> {
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    std::fs::create_dir_all(work.join("storage"))?;
    let config = work.join("config.yaml");
    std::fs::write(
        &config,
        format!(
            "storage: {storage}\nauth:\n  htpasswd:\n    file: {htpasswd}\n    max_users: 10\nuplinks: {{}}\npackages:\n  '**':\n    access: $all\n    publish: $authenticated\nlog: {{ type: stdout, format: pretty, level: error }}\n",
            storage = work.join("storage").display(),
            htpasswd = work.join("htpasswd").display(),
        ),
    )?;
    let child = Child(
        Command::new(bin)
            .arg("--config")
            .arg(&config)
            .args(["--listen", &format!("127.0.0.1:{port}")])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .context("starting verdaccio")?,
    );
    let url = format!("http://127.0.0.1:{port}/");
    // Adding a user is how verdaccio hands out a publish token (what `npm adduser` does).
    let token = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?
        .block_on(async {
            let http = reqwest::Client::new();
            let deadline = Instant::now() + Duration::from_secs(60);
            loop {
                let created = http
                    .put(format!("{url}-/user/org.couchdb.user:bench"))
                    .json(&json!({"name": "bench", "password": "bench-password"}))
                    .send()
                    .await;
                match created {
                    Ok(r) if r.status().is_success() => {
                        let body: Value = r.json().await?;
                        return body["token"]
                            .as_str()
                            .map(str::to_owned)
                            .context("verdaccio gave no token");
                    }
                    Ok(r) => bail!("verdaccio refused the bench user: {}", r.status()),
                    Err(_) if Instant::now() < deadline => {
                        // Polling for a child's port, with a deadline.
                        tokio::time::sleep(Duration::from_millis(100)).await
                    }
                    Err(e) => bail!("verdaccio did not start: {e}"),
                }
            }
        })?;
    Ok((child, url, token))
}

/// p50 and p99 of `ms` (nearest rank), or null when there are none.
fn percentiles(ms: &[f64]) -> Value {
    if ms.is_empty() {
        return Value::Null;
    }
    let mut ms = ms.to_vec();
    ms.sort_by(f64::total_cmp);
    let at = |p: f64| ms[((p * ms.len() as f64).ceil() as usize).clamp(1, ms.len()) - 1];
    json!({"p50_ms": at(0.5), "p99_ms": at(0.99), "requests": ms.len()})
}

/// Median (the lower middle of an even count) and fastest of `xs`, in milliseconds.
fn summary(xs: &[Duration]) -> Value {
    let mut ms: Vec<f64> = xs.iter().map(|d| d.as_secs_f64() * 1e3).collect();
    ms.sort_by(f64::total_cmp);
    json!({
        "median_ms": (ms[(ms.len() - 1) / 2] * 10.0).round() / 10.0,
        "fastest_ms": (ms[0] * 10.0).round() / 10.0,
        "all_ms": ms.iter().map(|m| (m * 10.0).round() / 10.0).collect::<Vec<_>>(),
    })
}

/// Runs the comparison and reports it.
pub fn run(b: &RegistryBench) -> Result<Value> {
    let exe = seedstr_exe(b.seedstr.as_deref(), "registry")?;
    let report = measure(b, &exe)?;
    if !b.json {
        print_report(&report);
    }
    Ok(report)
}

fn print_report(r: &Value) {
    println!(
        "npm install of a {}-package tree ({} B per index.js), fresh npm cache each time:",
        r["packages"], r["package_bytes"]
    );
    let line = |what: &str, side: &Value| {
        println!(
            "  {what:<34} median {:>7.1} ms, fastest {:>7.1} ms",
            side["median_ms"].as_f64().unwrap_or(0.0),
            side["fastest_ms"].as_f64().unwrap_or(0.0)
        )
    };
    if !r["verdaccio"].is_null() {
        line(
            &format!(
                "verdaccio ({})",
                r["verdaccio_version"].as_str().unwrap_or("")
            ),
            &r["verdaccio"],
        );
    }
    line("view, archives held", &r["view_archives_held"]);
    line(
        "view, archives from the swarm",
        &r["view_archives_from_swarm"],
    );
    if !r["verdaccio"].is_null() {
        println!(
            "  view / verdaccio: held {}, from the swarm {}",
            r["held_vs_verdaccio"], r["swarm_vs_verdaccio"]
        );
    }
    let warm = |what: &str, w: &Value| {
        println!(
            "  warm install, {what:<12} {:>7.1} ms: {} packuments revalidated (304), {} fetched",
            w["ms"].as_f64().unwrap_or(0.0),
            w["packuments_revalidated"],
            w["packuments_fetched"]
        )
    };
    println!(
        "  every archive at once, from the swarm  {:.1} ms",
        r["all_archives_at_once_from_swarm_ms"]
            .as_f64()
            .unwrap_or(0.0)
    );
    for (side, t) in r["npm_timed_requests"].as_object().into_iter().flatten() {
        if !t.is_null() {
            println!(
                "  {side:<34} as npm timed its requests: p50 {} ms, p99 {} ms",
                t["p50_ms"], t["p99_ms"]
            );
        }
    }
    for (side, l) in r["request_latency"].as_object().into_iter().flatten() {
        println!(
            "  {side:<34} one GET at a time: packument p50 {:.2} ms, p99 {:.2}; archive p50 {:.2}, p99 {:.2}",
            l["packument_p50_ms"].as_f64().unwrap_or(0.0),
            l["packument_p99_ms"].as_f64().unwrap_or(0.0),
            l["archive_p50_ms"].as_f64().unwrap_or(0.0),
            l["archive_p99_ms"].as_f64().unwrap_or(0.0)
        );
    }
    warm("view", &r["view_warm"]);
    if !r["verdaccio_warm"].is_null() {
        warm("verdaccio", &r["verdaccio_warm"]);
    }
}

fn measure(b: &RegistryBench, exe: &Path) -> Result<Value> {
    if b.packages == 0 || b.runs == 0 {
        bail!("--packages and --runs must be at least 1");
    }
    let work = tempfile::tempdir()?;
    let w = work.path();
    let (_relay, relay) = start_relay(exe, &w.join("relay"))?;
    let keys = Keys::generate();
    let npub = keys.public_key().to_bech32()?;
    let publisher = Seedstr {
        exe,
        home: w.join("publisher"),
    };
    publisher.import_key(&keys)?;
    let started = Instant::now();
    for i in 0..b.packages {
        let dir = w.join("src").join(package_name(i));
        write_package(&dir, i, b.packages, b.package_bytes)?;
        publisher.run(&[
            "pkg",
            "publish",
            &dir.to_string_lossy(),
            "--ns",
            "npm",
            "--relay",
            &relay,
            "--no-dht",
        ])?;
        publisher.run(&[
            "pkg",
            "registry",
            "add",
            &package_name(i),
            &npub,
            "--ns",
            "npm",
            "--relay",
            &relay,
            "--no-dht",
        ])?;
    }
    eprintln!(
        "published and mapped {} packages in {:.1}s",
        b.packages,
        started.elapsed().as_secs_f64()
    );
    let (_seeder, seeder) = start_seed(publisher.command(), b.packages)?;
    let seeder = seeder.to_string();

    let verdaccio = if b.no_verdaccio {
        None
    } else {
        let dir = match &b.verdaccio_dir {
            Some(d) => d.clone(),
            None => std::env::var_os("HOME")
                .map(PathBuf::from)
                .context("no HOME for the verdaccio cache; pass --verdaccio-dir")?
                .join(".cache/seedstr/bench/verdaccio"),
        };
        let (child, url, token) = start_verdaccio(&verdaccio_bin(&dir)?, &w.join("verdaccio"))?;
        // The very archives the publisher signed.
        let npmrc = w.join("verdaccio.npmrc");
        let host = url.trim_start_matches("http:");
        std::fs::write(&npmrc, format!("{host}:_authToken={token}\n"))?;
        for i in 0..b.packages {
            let name = package_name(i);
            let archive = publisher
                .home
                .join("packages/published")
                .join(format!("{name}-1.0.0"))
                .join(format!("{name}-1.0.0.tgz"));
            let out = Command::new("npm")
                .args(["publish", "--registry", &url, "--userconfig"])
                .arg(&npmrc)
                .arg(&archive)
                .output()?;
            if !out.status.success() {
                bail!(
                    "npm publish {} to verdaccio: {}",
                    archive.display(),
                    String::from_utf8_lossy(&out.stderr)
                );
            }
        }
        Some((child, url))
    };

    // The view whose store is filled by a first install.
    let held_viewer = Seedstr {
        exe,
        home: w.join("viewer-held"),
    };
    let (_held_view, held_url) = start_view(&held_viewer, &relay, &npub, &seeder)?;
    let first = npm_install_fresh(w, "first", &held_url, b.packages)?;
    eprintln!(
        "first install through the view: {:.0} ms",
        first.took.as_secs_f64() * 1e3
    );

    let (mut from_verdaccio, mut held, mut from_swarm) = (Vec::new(), Vec::new(), Vec::new());
    // npm's own timing of each request, per side.
    let mut npm_timed: [Vec<f64>; 3] = Default::default();
    // Each round starts with another side, so no side always runs first (or last).
    for run in 0..b.runs {
        for side in (0..3).map(|k| (k + run) % 3) {
            match side {
                0 => {
                    if let Some((_, url)) = &verdaccio {
                        let name = format!("v{run}");
                        let i = npm_install_fresh(w, &name, url, b.packages)?;
                        npm_timed[0].extend(&i.request_ms);
                        from_verdaccio.push(i.took);
                    }
                }
                1 => {
                    let name = format!("h{run}");
                    let i = npm_install_fresh(w, &name, &held_url, b.packages)?;
                    npm_timed[1].extend(&i.request_ms);
                    held.push(i.took);
                }
                _ => {
                    let viewer = Seedstr {
                        exe,
                        home: w.join(format!("viewer-{run}")),
                    };
                    let (_view, url) = start_view(&viewer, &relay, &npub, &seeder)?;
                    let name = format!("s{run}");
                    let i = npm_install_fresh(w, &name, &url, b.packages)?;
                    npm_timed[2].extend(&i.request_ms);
                    from_swarm.push(i.took);
                }
            }
        }
    }
    let warm = |name: &str, url: &str| -> Result<Value> {
        let project = w.join("projects").join(name);
        let cache = w.join("caches").join(name);
        let i = warm_install(&project, url, &cache, b.packages)?;
        Ok(json!({
            "ms": (i.took.as_secs_f64() * 1e4).round() / 10.0,
            "packuments_revalidated": i.revalidated,
            "packuments_fetched": i.fetched,
        }))
    };
    // The servers alone, without npm: one request at a time, every package's packument
    // and archive, several times over.
    let mut servers = vec![("view_archives_held", held_url.clone())];
    if let Some((_, url)) = &verdaccio {
        servers.push(("verdaccio", url.clone()));
    }
    let mut request_latency = serde_json::Map::new();
    for (side, url) in &servers {
        request_latency.insert((*side).into(), request_latencies(url, b.packages)?);
    }
    // Every archive at once from a view holding none: what the swarm's setup costs.
    let empty_viewer = Seedstr {
        exe,
        home: w.join("viewer-parallel"),
    };
    let (_empty_view, empty_url) = start_view(&empty_viewer, &relay, &npub, &seeder)?;
    let parallel = all_archives_at_once(&empty_url, b.packages)?;
    let mut report = json!({
        "all_archives_at_once_from_swarm_ms": (parallel.as_secs_f64() * 1e4).round() / 10.0,
        "request_latency": request_latency,
        "packages": b.packages,
        "package_bytes": b.package_bytes,
        "npm_timed_requests": {
            "verdaccio": percentiles(&npm_timed[0]),
            "view_archives_held": percentiles(&npm_timed[1]),
            "view_archives_from_swarm": percentiles(&npm_timed[2]),
        },
        "view_archives_held": summary(&held),
        "view_archives_from_swarm": summary(&from_swarm),
        "view_warm": warm("h0", &held_url)?,
    });
    if let Some((_, url)) = &verdaccio {
        let v = summary(&from_verdaccio);
        let ratio = |side: &Value| {
            (side["median_ms"].as_f64().unwrap_or(0.0) / v["median_ms"].as_f64().unwrap_or(1.0)
                * 100.0)
                .round()
                / 100.0
        };
        report["held_vs_verdaccio"] = json!(ratio(&report["view_archives_held"]));
        report["swarm_vs_verdaccio"] = json!(ratio(&report["view_archives_from_swarm"]));
        report["verdaccio"] = v;
        report["verdaccio_warm"] = warm("v0", url)?;
        report["verdaccio_version"] = json!(VERDACCIO);
    }
    Ok(report)
}

/// Packument and archive latencies of the server at `registry` (sequential GETs, p50 and p99
/// in ms), every package ten times.
fn request_latencies(registry: &str, packages: usize) -> Result<Value> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(async {
        let http = reqwest::Client::new();
        let (mut packuments, mut archives) = (
            crate::stats::Latencies::default(),
            crate::stats::Latencies::default(),
        );
        for _ in 0..10 {
            for i in 0..packages {
                let name = package_name(i);
                for (url, into) in [
                    (format!("{registry}{name}"), &mut packuments),
                    (
                        format!("{registry}{name}/-/{name}-1.0.0.tgz"),
                        &mut archives,
                    ),
                ] {
                    let started = Instant::now();
                    let answer = http.get(&url).send().await?;
                    let status = answer.status();
                    answer.bytes().await?;
                    if !status.is_success() {
                        bail!("GET {url}: {status}");
                    }
                    into.push(started.elapsed());
                }
            }
        }
        let (p, a) = (packuments.summary(), archives.summary());
        Ok(json!({
            "packument_p50_ms": crate::stats::ms(p.p50),
            "packument_p99_ms": crate::stats::ms(p.p99),
            "archive_p50_ms": crate::stats::ms(a.p50),
            "archive_p99_ms": crate::stats::ms(a.p99),
        }))
    })
}

/// How long GETs of every package's archive, all at once, take from the view at `registry`.
fn all_archives_at_once(registry: &str, packages: usize) -> Result<Duration> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(async {
        let http = reqwest::Client::new();
        let started = Instant::now();
        let gets = (0..packages).map(|i| {
            let name = package_name(i);
            let url = format!("{registry}{name}/-/{name}-1.0.0.tgz");
            let http = http.clone();
            async move {
                let answer = http.get(&url).send().await?;
                let status = answer.status();
                answer.bytes().await?;
                if !status.is_success() {
                    bail!("GET {url}: {status}");
                }
                Ok(())
            }
        });
        for done in futures_util::future::join_all(gets).await {
            done?;
        }
        Ok(started.elapsed())
    })
}

/// A cold install: a new project and an empty npm cache, both named `name`.
fn npm_install_fresh(w: &Path, name: &str, registry: &str, packages: usize) -> Result<Install> {
    let project = w.join("projects").join(name);
    fresh_project(&project)?;
    npm_install(&project, registry, &w.join("caches").join(name), packages)
}
