//! `seedstr-bench transfer`: one loopback transfer of a large payload, four ways, in one run.
//!
//! - the SHA-256 ceiling: the machine's hash speed in memory (aws-lc through librqbit's
//!   wrapper, and the `sha2` crate) and our verifier's speed over the payload file in the page
//!   cache, which is the bound on how fast an install can check what it fetched;
//! - a raw loopback copy (read, TCP, write, no protocol): the bound on any transfer here;
//! - our install end to end: resolve on a real relay, metadata, fetch from a librqbit seeder,
//!   SHA-256 of every file, atomic commit;
//! - the same payload between two libtorrent peers (TCP, uTP off), timed by libtorrent.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use clap::Args;
use nostr::prelude::Keys;
use seedstr_client::install::{install, InstallOptions, Step};
use seedstr_client::publish::{publish, PublishRequest, SeedFrom};
use seedstr_client::resolve::target::Target;
use seedstr_client::seeding::registry::{Origin, SeedEntry, SeedRegistry};
use seedstr_proto::release::{Coordinate, Version};

use crate::children::{drain, first_line, seedstr_exe, start_relay, start_seed, Child};
use seedstr_swarm::{sha256_file, Swarm, SwarmOptions};
use serde_json::{json, Value};
use sha1w::ISha256 as _;
use sha2::Digest as _;

#[derive(Args)]
pub struct TransferBench {
    /// Payload size in MiB.
    #[arg(long, default_value_t = 1024)]
    size_mib: u64,
    /// The libtorrent peer script (tests/py/lt_peer.py).
    #[arg(long)]
    lt_script: Option<PathBuf>,
    /// Skip the libtorrent pair.
    #[arg(long)]
    no_libtorrent: bool,
    /// The `seedstr` binary that runs the relay and the seeder (default: the one beside this
    /// program, as `cargo build` places them).
    #[arg(long)]
    seedstr: Option<PathBuf>,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
}

fn mbps(bytes: u64, d: Duration) -> f64 {
    bytes as f64 / 1e6 / d.as_secs_f64()
}

fn hash_in_memory(buf: &[u8]) -> (f64, f64) {
    let t = Instant::now();
    let mut h = sha1w::Sha256::new();
    h.update(buf);
    std::hint::black_box(h.finish());
    let aws = mbps(buf.len() as u64, t.elapsed());
    let t = Instant::now();
    std::hint::black_box(sha2::Sha256::digest(buf));
    let rust = mbps(buf.len() as u64, t.elapsed());
    (aws, rust)
}

/// The bound on any transfer of `file` on this machine: one thread reads it and sends it over
/// loopback TCP, another receives it and writes a copy into `dir`. No protocol, no hashing.
fn raw_loopback_copy(file: &Path, dir: &Path) -> Result<Duration> {
    use std::io::Read;
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    let addr = listener.local_addr()?;
    let copy = dir.join("raw-copy.bin");
    let receiver = std::thread::spawn(move || -> Result<u64> {
        let (mut conn, _) = listener.accept()?;
        let mut out = std::fs::File::create(&copy)?;
        let n = std::io::copy(&mut conn, &mut out)?;
        std::fs::remove_file(&copy)?;
        Ok(n)
    });
    let t = Instant::now();
    let mut conn = std::net::TcpStream::connect(addr)?;
    let mut src = std::fs::File::open(file)?;
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = src.read(&mut buf)?;
        if n == 0 {
            break;
        }
        conn.write_all(&buf[..n])?;
    }
    drop(conn);
    let received = receiver
        .join()
        .map_err(|_| anyhow::anyhow!("the receiving thread panicked"))??;
    let took = t.elapsed();
    if received != std::fs::metadata(file)?.len() {
        bail!("the raw copy received {received} bytes");
    }
    Ok(took)
}

/// Writes `size` bytes of cheap pseudo-random data (incompressible enough for a transfer).
fn write_payload(path: &Path, size: u64) -> Result<()> {
    std::fs::create_dir_all(path.parent().expect("a payload file has a parent"))?;
    let mut f = std::io::BufWriter::with_capacity(1 << 20, std::fs::File::create(path)?);
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut chunk = vec![0u8; 1 << 20];
    let mut left = size;
    while left > 0 {
        for word in chunk.chunks_exact_mut(8) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            word.copy_from_slice(&x.to_le_bytes());
        }
        let n = left.min(chunk.len() as u64) as usize;
        f.write_all(&chunk[..n])?;
        left -= n as u64;
    }
    f.into_inner()?.sync_all()?;
    Ok(())
}

/// `seedstr seed` in its own process, as on a real network (and as the libtorrent pair runs),
/// serving the published payload from `dir`; returns once it seeds it, with its address.
fn start_seeder(
    exe: &Path,
    home: &Path,
    published: &seedstr_client::publish::PublishReport,
    dir: &Path,
) -> Result<(Child, std::net::SocketAddr)> {
    SeedRegistry::new(home).add(
        &SeedEntry {
            infohash: published.infohash.clone(),
            release: published.release.clone(),
            dir: dir.to_owned(),
            origin: Origin::Published,
            trackers: vec![],
        },
        &published.torrent_file,
    )?;
    let mut cmd = Command::new(exe);
    cmd.env("SEEDSTR_HOME", home).env("SEEDSTR_LOG", "warn");
    let (seeder, addr) = start_seed(cmd, 1)?;
    Ok((seeder, addr))
}

/// Publishes the payload in `dir` to `relay` as `generic.bench@1.0.0`, hashed where it lies.
async fn publish_payload(
    keys: &Keys,
    dir: &Path,
    relay: &str,
) -> Result<seedstr_client::publish::PublishReport> {
    Ok(publish(
        keys,
        &PublishRequest {
            path: dir.to_owned(),
            coordinate: Coordinate::new("generic", "bench")?,
            version: Version::new(1, 0, 0),
            relays: vec![relay.to_owned()],
            mirrors: vec![],
            seeders: Vec::new(),
            trackers: vec![],
            changelog: String::new(),
            dependencies: vec![],
            game_versions: vec![],
            zap_target: None,
            zap_splits: Vec::new(),
            package: None,
            name: None,
            summary: None,
            description: None,
            relay_timeout: Duration::from_secs(10),
            // Measured as published: the payload hashed where it lies.
            seed_from: SeedFrom::InPlace,
        },
    )
    .await?)
}

/// Installs the published release from `seeder` into `root`, timing each phase.
async fn timed_install(
    keys: &Keys,
    relay: &str,
    seeder: std::net::SocketAddr,
    work: &Path,
) -> Result<(Duration, Vec<String>, u64)> {
    let fetcher = Swarm::start(SwarmOptions {
        listen: Some("127.0.0.1:0".parse().expect("an address")),
        ..Default::default()
    })
    .await?;
    let root = work.join("root");
    let target = Target {
        author: keys.public_key(),
        coordinate: Coordinate::new("generic", "bench")?,
        version: None,
    };
    let marks = std::sync::Mutex::new(Vec::<(&'static str, Duration)>::new());
    let t = Instant::now();
    let mark = |what: &'static str| {
        let mut m = marks.lock().expect("not poisoned");
        if m.last().map(|(w, _)| *w) != Some(what) {
            m.push((what, t.elapsed()));
        }
    };
    let report = install(
        &fetcher,
        &root,
        &target,
        &InstallOptions {
            relays: vec![relay.to_owned()],
            relay_timeout: Duration::from_secs(10),
            allow_downgrade: false,
            peers: vec![seeder],
            stall_timeout: Duration::from_secs(60),
            home: work.join("fetch-home"),
            dht: None,
            dht_node: None,
            max_release_bytes: seedstr_client::install::DEFAULT_MAX_RELEASE_BYTES,
        },
        &|step| match step {
            Step::Resolved { .. } => mark("resolved"),
            Step::Metadata { .. } => mark("metadata"),
            Step::Transfer { progress, .. } if progress.done_bytes > 0 => mark("first bytes"),
            Step::Verifying => mark("fetched"),
            _ => {}
        },
    )
    .await?;
    let took = t.elapsed();
    let phases = marks
        .lock()
        .expect("not poisoned")
        .iter()
        .map(|(w, d)| format!("{w} at {:.2} s", d.as_secs_f64()))
        .collect();
    fetcher.stop().await;
    std::fs::remove_dir_all(&root)?;
    Ok((took, phases, report.bytes))
}

/// The same payload between two libtorrent peers: seconds and MB/s, as libtorrent times it.
fn libtorrent_pair(
    b: &TransferBench,
    work: &Path,
    torrent: &[u8],
    save: &Path,
) -> Result<(f64, f64)> {
    let script = b.lt_script.clone().unwrap_or_else(|| {
        // At run time first: a shared build cache may hold another checkout's path.
        let crate_dir = std::env::var_os("CARGO_MANIFEST_DIR")
            .map(std::path::PathBuf::from)
            .unwrap_or_else(|| env!("CARGO_MANIFEST_DIR").into());
        crate_dir.join("../../tests/py/lt_peer.py")
    });
    let torrent_path = work.join("bench.torrent");
    std::fs::write(&torrent_path, torrent)?;
    let (_lt_seed, hello, rest) = first_line(
        Command::new("/usr/bin/python3")
            .arg(&script)
            .arg("seed")
            .arg(&torrent_path)
            .arg(save),
    )?;
    drain(rest);
    let hello: Value = serde_json::from_str(&hello)
        .with_context(|| format!("libtorrent seeder said {hello:?}"))?;
    let addr = hello["listening"]
        .as_str()
        .with_context(|| format!("libtorrent seeder: {hello}"))?;
    let out = Command::new("/usr/bin/python3")
        .arg(&script)
        .arg("fetch")
        .arg(&torrent_path)
        .arg(work.join("lt-out"))
        .arg(addr)
        .output()?;
    let done: Value = serde_json::from_slice(&out.stdout).with_context(|| {
        format!(
            "libtorrent fetcher said {:?}",
            String::from_utf8_lossy(&out.stdout)
        )
    })?;
    let secs = done["seconds"]
        .as_f64()
        .with_context(|| format!("libtorrent fetcher: {done}"))?;
    let size = std::fs::metadata(save.join("bench-1.0.0").join("payload.bin"))?.len();
    Ok((secs, size as f64 / 1e6 / secs))
}

/// Runs the four measurements and reports them.
pub async fn run(b: &TransferBench) -> Result<Value> {
    let say = |line: String| {
        if b.json {
            eprintln!("{line}");
        } else {
            println!("{line}");
        }
    };
    let exe = seedstr_exe(b.seedstr.as_deref(), "transfer")?;
    let size = b.size_mib << 20;
    let work = tempfile::tempdir()?;
    let save = work.path().join("src");
    let payload_dir = save.join("bench-1.0.0");
    let file = payload_dir.join("payload.bin");
    write_payload(&file, size)?;

    // The hash ceiling over a sample in memory: at most 256 MiB, at least 1 MiB.
    let sample = vec![0xA5u8; size.clamp(1 << 20, 256 << 20) as usize];
    let (aws_mem, rust_mem) = hash_in_memory(&sample);
    drop(sample);
    let t = Instant::now();
    sha256_file(&file)?;
    let verifier = mbps(size, t.elapsed());
    say(format!(
        "SHA-256 ceiling: {aws_mem:.0} MB/s in memory (aws-lc), {rust_mem:.0} MB/s (sha2 crate); our verifier over the cached payload: {verifier:.0} MB/s"
    ));

    let raw = raw_loopback_copy(&file, work.path())?;
    say(format!(
        "raw loopback copy (read, TCP, write; no protocol): {:.2} s, {:.0} MB/s",
        raw.as_secs_f64(),
        mbps(size, raw)
    ));

    let (_relay, relay) = start_relay(&exe, &work.path().join("relay"))?;
    let keys = Keys::generate();
    let t = Instant::now();
    let published = publish_payload(&keys, &payload_dir, &relay).await?;
    let publish_time = t.elapsed();
    say(format!(
        "publish (torrent + SHA-256 in one read, sign, send): {:.1} s, {:.0} MB/s",
        publish_time.as_secs_f64(),
        mbps(size, publish_time)
    ));

    let (seeder, seeder_addr) = start_seeder(
        &exe,
        &work.path().join("seed-home"),
        &published,
        &payload_dir,
    )?;
    let (ours, phases, installed) = timed_install(&keys, &relay, seeder_addr, work.path()).await?;
    drop(seeder);
    if installed != size {
        bail!("installed {installed} bytes, expected {size}");
    }
    say(format!(
        "seedstr install end to end: {:.2} s, {:.0} MB/s ({:.0}% of in-memory SHA-256, {:.0}% of the raw copy); {}",
        ours.as_secs_f64(),
        mbps(size, ours),
        100.0 * mbps(size, ours) / aws_mem,
        100.0 * mbps(size, ours) / mbps(size, raw),
        phases.join(", ")
    ));

    let mut lt = Value::Null;
    if !b.no_libtorrent {
        let (secs, rate) = libtorrent_pair(b, work.path(), &published.torrent_file, &save)?;
        say(format!(
            "libtorrent → libtorrent (TCP, uTP off): {secs:.2} s, {rate:.0} MB/s; seedstr install is {:.0}% of that",
            100.0 * mbps(size, ours) / rate
        ));
        lt = json!({"seconds": secs, "mb_per_s": rate});
    }
    Ok(json!({
        "size_bytes": size,
        "sha256_mb_per_s": {"aws_lc_memory": aws_mem, "sha2_memory": rust_mem, "verifier_cached_file": verifier},
        "raw_loopback_copy": {"seconds": raw.as_secs_f64(), "mb_per_s": mbps(size, raw)},
        "publish": {"seconds": publish_time.as_secs_f64(), "mb_per_s": mbps(size, publish_time)},
        "seedstr_install": {"seconds": ours.as_secs_f64(), "mb_per_s": mbps(size, ours), "phases": phases},
        "libtorrent_pair": lt,
    }))
}
