//! Helpers for the publish/install tests: people with their own SEEDSTR_HOME, the real binary,
//! seeders in their own processes, and payloads.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc::{channel, Receiver};
use std::time::{Duration, Instant};

use nostr::prelude::*;
use serde_json::Value;

pub const PASSPHRASE: &str = "test passphrase";

/// What most spine tests start from: a relay on loopback, an author, a player and a scratch
/// folder. Bind every field: the temporary folders are deleted when dropped.
pub struct Scene {
    pub relay_dir: tempfile::TempDir,
    pub relay: super::RelayProcess,
    pub author: Person,
    /// Shared so async tests can hand it to blocking CLI runs.
    pub player: std::sync::Arc<Person>,
    pub work: tempfile::TempDir,
}

impl Scene {
    pub fn new() -> Scene {
        let relay_dir = tempfile::tempdir().unwrap();
        let relay = super::RelayProcess::start(relay_dir.path(), &[]);
        Scene {
            relay_dir,
            relay,
            author: Person::new(),
            player: std::sync::Arc::new(Person::new()),
            work: tempfile::tempdir().unwrap(),
        }
    }
}

/// Someone with a SEEDSTR_HOME and a key in it.
pub struct Person {
    pub home: tempfile::TempDir,
    pub keys: Keys,
}

impl Person {
    pub fn new() -> Person {
        let home = tempfile::tempdir().unwrap();
        let keys = Keys::generate();
        let mut child = Command::new(env!("CARGO_BIN_EXE_seedstr"))
            .args(["key", "import"])
            .env("SEEDSTR_HOME", home.path())
            .env("SEEDSTR_PASSPHRASE", PASSPHRASE)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        {
            use std::io::Write as _;
            let mut stdin = child.stdin.take().unwrap();
            writeln!(stdin, "{}", keys.secret_key().to_secret_hex()).unwrap();
        }
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        Person { home, keys }
    }

    pub fn hex(&self) -> String {
        self.keys.public_key().to_hex()
    }

    /// `seedstr <args>` as this person, to run with more settings.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_seedstr"));
        cmd.args(args)
            .env("SEEDSTR_HOME", self.home.path())
            .env("SEEDSTR_PASSPHRASE", PASSPHRASE)
            .env("SEEDSTR_LOG", log_filter());
        cmd
    }

    /// Runs `seedstr <args>` as this person.
    pub fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().unwrap()
    }

    /// `seedstr publish … --json`; the report.
    pub fn publish(
        &self,
        dir: &Path,
        slug: &str,
        version: &str,
        relay: &str,
        extra: &[&str],
    ) -> Value {
        let mut args = vec![
            "publish",
            dir.to_str().unwrap(),
            "--ns",
            "generic",
            "--slug",
            slug,
            "--version",
            version,
            "--relay",
            relay,
            "--json",
        ];
        args.extend(no_dht_unless_asked(extra));
        let out = self.run(&args);
        assert!(
            out.status.success(),
            "publish failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap()
    }

    /// `seedstr install … --json` over loopback (no DHT unless `extra` names a bootstrap):
    /// Ok(report) or Err(error text).
    pub fn install(
        &self,
        target: &str,
        root: &Path,
        relay: &str,
        peers: &[String],
        extra: &[&str],
    ) -> Result<Value, String> {
        let mut args: Vec<String> = [
            "install",
            target,
            "--into",
            root.to_str().unwrap(),
            "--relay",
            relay,
            "--listen",
            "127.0.0.1:0",
            "--json",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        for p in peers {
            args.push("--peer".into());
            args.push(p.clone());
        }
        if !extra.contains(&"--stall-timeout") {
            args.extend(["--stall-timeout".into(), "5".into()]);
        }
        args.extend(no_dht_unless_asked(extra).iter().map(|s| s.to_string()));
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = self.run(&args);
        // The test harness shows this only when the test fails.
        eprintln!("{}", String::from_utf8_lossy(&out.stderr));
        let v: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|_| {
            panic!(
                "install printed no JSON: {}\n{}",
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

    /// This person's record of the peers they fetched from (`peers/reputation.json`).
    pub fn peer_reputation(&self) -> Value {
        let path = self.home.path().join("peers/reputation.json");
        serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap()
    }

    /// Starts `seedstr seed` for this person.
    pub fn seed(&self, extra: &[&str]) -> Seeder {
        Seeder::start(self.home.path(), extra)
    }
}

/// The log filter of the binaries tests run: `SEEDSTR_TEST_LOG` (say `librqbit_dht=trace`) when
/// chasing a failure, warnings otherwise.
pub fn log_filter() -> String {
    std::env::var("SEEDSTR_TEST_LOG").unwrap_or_else(|_| "warn".into())
}

/// `extra`, plus `--no-dht` unless it names a DHT bootstrap: tests never reach the public DHT.
fn no_dht_unless_asked<'a>(extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = extra.to_vec();
    if !extra.contains(&"--dht-bootstrap") && !extra.contains(&"--dht-listen") {
        args.push("--no-dht");
    }
    args
}

/// A `seedstr seed` (or `seedstr mirror`) process and the lines it prints.
pub struct Seeder {
    child: Child,
    pub addr: String,
    lines: Receiver<Value>,
    seen: std::sync::Mutex<Vec<Value>>,
}

impl Seeder {
    pub fn start(home: &Path, extra: &[&str]) -> Seeder {
        Seeder::spawn(home, "seed", extra)
    }

    /// `seedstr mirror <args>` in `home`.
    pub fn mirror(home: &Path, args: &[&str]) -> Seeder {
        Seeder::spawn(home, "mirror", args)
    }

    fn spawn(home: &Path, command: &str, extra: &[&str]) -> Seeder {
        let mut child = Command::new(env!("CARGO_BIN_EXE_seedstr"))
            .args([
                command,
                "--listen",
                "127.0.0.1:0",
                "--json",
                "--poll-secs",
                "1",
            ])
            .args(no_dht_unless_asked(extra))
            .env("SEEDSTR_HOME", home)
            .env("SEEDSTR_PASSPHRASE", PASSPHRASE)
            .env("SEEDSTR_LOG", log_filter())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let (tx, lines) = channel();
        let stdout = child.stdout.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Ok(v) = serde_json::from_str::<Value>(&line) {
                    if tx.send(v).is_err() {
                        break;
                    }
                }
            }
        });
        let first = lines
            .recv_timeout(Duration::from_secs(30))
            .unwrap_or_else(|_| panic!("{command} prints its address"));
        let addr = first["listening"]
            .as_str()
            .expect("a listening line")
            .to_owned();
        Seeder {
            child,
            addr,
            lines,
            seen: Default::default(),
        }
    }

    /// Waits for a `{"seeding": infohash}` line.
    /// The process's peak resident memory so far (`VmHWM`, in kB), while it runs.
    pub fn peak_memory_kb(&self) -> Option<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).ok()?;
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
    }

    /// Whether the process is still running.
    pub fn running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    pub fn wait_seeding(&self, infohash: &str) {
        self.wait_for(&format!("seeding {infohash}"), |v| v["seeding"] == infohash);
    }

    /// Waits up to a minute for a line `matches` accepts, among those printed so far or later.
    pub fn wait_for(&self, what: &str, matches: impl Fn(&Value) -> bool) -> Value {
        let mut seen = self.seen.lock().unwrap();
        if let Some(v) = seen.iter().find(|v| matches(v)) {
            return v.clone();
        }
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            if let Ok(v) = self.lines.recv_timeout(Duration::from_millis(200)) {
                seen.push(v.clone());
                if matches(&v) {
                    return v;
                }
            }
        }
        panic!("the seeder never reported {what}; it printed {seen:?}");
    }

    /// Every line read so far.
    pub fn printed(&self) -> Vec<Value> {
        let mut seen = self.seen.lock().unwrap();
        while let Ok(v) = self.lines.try_recv() {
            seen.push(v);
        }
        seen.clone()
    }

    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Seeder {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A deterministic pseudo-random payload of `size` bytes.
pub fn bytes(size: usize, seed: u32) -> Vec<u8> {
    let mut x = seed.wrapping_mul(2_654_435_761).max(1);
    (0..size)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x as u8
        })
        .collect()
}

pub fn write(root: &Path, rel: &str, content: &[u8]) {
    let p = root.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, content).unwrap();
}

/// Every regular file below `root` except Seedstr's own state, with its bytes.
pub fn tree(root: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    fn walk(dir: &Path, root: &Path, out: &mut Vec<(PathBuf, Vec<u8>)>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for e in entries.flatten() {
            let p = e.path();
            let rel = p.strip_prefix(root).unwrap().to_path_buf();
            if rel.starts_with(".seedstr") || rel == Path::new("seedstr.lock") {
                continue;
            }
            if p.is_dir() {
                walk(&p, root, out);
            } else {
                out.push((rel, std::fs::read(&p).unwrap()));
            }
        }
    }
    walk(root, root, &mut out);
    out.sort();
    out
}

/// `tests/py/tracker.py`: an HTTP tracker on loopback, stopped on drop.
pub struct Tracker {
    child: Child,
    pub announce: String,
}

impl Tracker {
    pub fn start() -> Tracker {
        let script = seedstr_testkit::py_script("tracker.py");
        let mut child = Command::new("/usr/bin/python3")
            .arg(script)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let ready: Value = serde_json::from_str(&line).expect("the tracker prints its address");
        let announce = ready["announce"].as_str().unwrap().to_owned();
        Tracker { child, announce }
    }
}

impl Drop for Tracker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// opentracker (Debian's package) on loopback, answering HTTP and UDP on one port, stopped on
/// drop. Debian builds it with a whitelist: it tracks only the info hashes given.
pub struct Opentracker {
    child: Child,
    _dir: tempfile::TempDir,
    pub port: u16,
}

impl Opentracker {
    /// A free port for a tracker started later, once the info hashes are known.
    pub fn free_port() -> u16 {
        std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port()
    }

    pub fn http(port: u16) -> String {
        format!("http://127.0.0.1:{port}/announce")
    }

    pub fn udp(port: u16) -> String {
        format!("udp://127.0.0.1:{port}")
    }

    pub fn start(port: u16, info_hashes: &[&str]) -> Opentracker {
        let dir = tempfile::tempdir().unwrap();
        // It drops to `nobody` and chroots into its folder when it can.
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        std::fs::write(dir.path().join("whitelist"), info_hashes.join("\n") + "\n").unwrap();
        let port_s = port.to_string();
        let child = Command::new("opentracker")
            .args(["-i", "127.0.0.1", "-p", &port_s, "-P", &port_s, "-d"])
            .arg(dir.path())
            // Relative: it is read after the chroot (or the chdir, without root).
            .args(["-w", "whitelist"])
            .stdout(Stdio::null())
            .spawn()
            .expect("opentracker runs (Debian package opentracker; scripts/test installs it)");
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "opentracker never listened");
            std::thread::sleep(Duration::from_millis(50));
        }
        Opentracker {
            child,
            _dir: dir,
            port,
        }
    }
}

impl Drop for Opentracker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Python's http.server on a loopback port over `dir`; the URL it serves.
pub struct WebMirror {
    child: Child,
    /// Where it serves.
    pub url: String,
    log: tempfile::NamedTempFile,
}

impl WebMirror {
    /// Starts one over `dir`.
    pub fn start(dir: &Path) -> WebMirror {
        // Each request's path goes to a log, so a test can tell that nothing was asked.
        let script = "import functools, http.server, sys\n\
            class H(http.server.SimpleHTTPRequestHandler):\n\
            \x20   def log_message(self, fmt, *args):\n\
            \x20       with open(sys.argv[2], 'a') as f: f.write(self.path + '\\n')\n\
            h = functools.partial(H, directory=sys.argv[1])\n\
            s = http.server.ThreadingHTTPServer(('127.0.0.1', 0), h)\n\
            print(s.server_address[1], flush=True)\n\
            s.serve_forever()\n";
        let log = tempfile::NamedTempFile::new().unwrap();
        let mut child = Command::new("python3")
            .args(["-c", script, dir.to_str().unwrap()])
            .arg(log.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut port = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut port)
            .unwrap();
        WebMirror {
            child,
            url: format!("http://127.0.0.1:{}", port.trim()),
            log,
        }
    }

    /// The paths asked for so far.
    pub fn requests(&self) -> Vec<String> {
        std::fs::read_to_string(self.log.path())
            .unwrap()
            .lines()
            .map(str::to_owned)
            .collect()
    }
}

impl Drop for WebMirror {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The release (`generic.<slug>@<version>`) a publisher would sign for the payload at `dir`,
/// after `mutate` (mirrors, trackers, or a deliberate spoiling).
pub fn release_for(
    dir: &Path,
    slug: &str,
    version: &str,
    mutate: impl FnOnce(&mut seedstr_proto::release::Release),
) -> (seedstr_proto::release::Release, seedstr_swarm::Torrent) {
    use seedstr_proto::release::{Coordinate, Release, ReleaseFile, Version};
    let torrent = seedstr_swarm::create(dir, &format!("{slug}-{version}")).unwrap();
    let mut release = Release {
        coordinate: Coordinate::new("generic", slug).unwrap(),
        version: Version::parse(version).unwrap(),
        files: torrent.files.iter().map(ReleaseFile::from).collect(),
        infohash: torrent.info_hash,
        torrent_name: torrent.name.clone(),
        trackers: vec![],
        mirrors: vec![],
        seeders: Vec::new(),
        supersedes: None,
        changelog: String::new(),
        dependencies: vec![],
        game_versions: vec![],
        zap_target: None,
        zap_splits: Vec::new(),
        package: None,
    };
    mutate(&mut release);
    (release, torrent)
}
