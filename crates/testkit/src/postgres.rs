//! A PostgreSQL server for tests: the one `SEEDSTR_TEST_POSTGRES` names (`scripts/test` starts
//! one), or else a throwaway server this test process starts on loopback, which dies with it.
//! Without either, the tests that need one fail saying what is missing.

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// The URL of a PostgreSQL server to make test databases on.
pub fn server_url() -> String {
    if let Ok(url) = std::env::var("SEEDSTR_TEST_POSTGRES") {
        return url;
    }
    static SERVER: OnceLock<Result<String, String>> = OnceLock::new();
    SERVER
        .get_or_init(start_throwaway)
        .clone()
        .unwrap_or_else(|why| panic!("{why}"))
}

/// A fresh database on the test server; its URL.
pub async fn fresh_database() -> String {
    let base = server_url();
    let (client, conn) = tokio_postgres::connect(&base, tokio_postgres::NoTls)
        .await
        .unwrap_or_else(|e| panic!("connecting to the test PostgreSQL server {base}: {e}"));
    tokio::spawn(conn);
    let name = format!("seedstr_test_{}", hex::encode(rand::random::<[u8; 8]>()));
    client
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .await
        .expect("create a test database");
    let (prefix, _) = base.rsplit_once('/').expect("URL ends in /dbname");
    format!("{prefix}/{name}")
}

/// The newest installed server's binaries (Debian's layout).
fn server_binaries() -> Option<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
        .filter(|bin| bin.join("initdb").is_file() && bin.join("postgres").is_file())
        .collect();
    dirs.sort_by_key(|d| {
        d.parent()
            .and_then(|v| v.file_name())
            .and_then(|v| v.to_str())
            .and_then(|v| v.parse::<u32>().ok())
    });
    dirs.pop()
}

/// A throwaway server that takes TLS connections only (`hostssl` for TCP), with a
/// self-signed certificate for `127.0.0.1` and `localhost` made here with openssl; its URL
/// (without `sslmode`) and the certificate's PEM file, for clients to trust.
pub fn tls_server() -> Result<(String, PathBuf), String> {
    static SERVER: OnceLock<Result<(String, PathBuf), String>> = OnceLock::new();
    SERVER
        .get_or_init(|| {
            let bin = server_binaries().ok_or("the TLS test needs PostgreSQL's server")?;
            let (tx, rx) = std::sync::mpsc::channel();
            std::thread::spawn(move || {
                let _ = tx.send(run_server(&bin, "tls", true));
                loop {
                    std::thread::park();
                }
            });
            let url = rx
                .recv()
                .map_err(|_| "the PostgreSQL starter thread died".to_owned())??;
            let cert = std::env::temp_dir()
                .join(format!("seedstr-test-pg-tls-{}", std::process::id()))
                .join("server.crt");
            Ok((url, cert))
        })
        .clone()
}

/// Starts a server from a thread that never ends: the server is told to die with that thread
/// (`PR_SET_PDEATHSIG`), which lives as long as the test process.
fn start_throwaway() -> Result<String, String> {
    let bin = server_binaries().ok_or(
        "these tests need PostgreSQL: install its server (Debian: apt install postgresql), or set \
         SEEDSTR_TEST_POSTGRES to a server's URL; scripts/test does both",
    )?;
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(run_server(&bin, "", false));
        loop {
            std::thread::park();
        }
    });
    rx.recv()
        .map_err(|_| "the PostgreSQL starter thread died".to_owned())?
}

/// A self-signed certificate and key for the loopback server, in `dir`.
fn make_certificate(dir: &Path) -> Result<(), String> {
    let out = Command::new("openssl")
        .args([
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
        ])
        .args(["-subj", "/CN=localhost"])
        .args(["-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"])
        .args(["-addext", "basicConstraints=critical,CA:FALSE"])
        .arg("-keyout")
        .arg(dir.join("server.key"))
        .arg("-out")
        .arg(dir.join("server.crt"))
        .output()
        .map_err(|e| format!("running openssl: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "openssl failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    // PostgreSQL refuses a key others may read.
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(
        dir.join("server.key"),
        std::fs::Permissions::from_mode(0o600),
    )
    .map_err(|e| format!("restricting the key: {e}"))
}

fn run_server(bin: &Path, label: &str, tls: bool) -> Result<String, String> {
    remove_stale_dirs();
    let suffix = if label.is_empty() {
        String::new()
    } else {
        format!("{label}-")
    };
    let dir = std::env::temp_dir().join(format!("seedstr-test-pg-{suffix}{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
    // PostgreSQL refuses to run as root: as root, it runs as the postgres user.
    let user = as_postgres_user(&dir)?;
    let data = dir.join("data");
    let out = Command::new(bin.join("initdb"))
        .arg("-D")
        .arg(&data)
        .args(["--auth=trust", "-U", "postgres", "-E", "UTF8"])
        .stdout(Stdio::null())
        .with_user(user)
        .output()
        .map_err(|e| format!("running initdb: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "initdb failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    if tls {
        make_certificate(&dir)?;
        // TCP connections must use TLS.
        std::fs::write(
            data.join("pg_hba.conf"),
            "local all all trust\nhostssl all all 127.0.0.1/32 trust\nhostnossl all all 127.0.0.1/32 reject\n",
        )
        .map_err(|e| format!("writing pg_hba.conf: {e}"))?;
        if let Some((uid, gid)) = user {
            for f in ["server.crt", "server.key"] {
                std::os::unix::fs::chown(dir.join(f), Some(uid), Some(gid))
                    .map_err(|e| format!("giving {f} to postgres: {e}"))?;
            }
        }
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map_err(|e| format!("finding a free port: {e}"))?
        .port();
    let mut server = Command::new(bin.join("postgres"));
    server
        .arg("-D")
        .arg(&data)
        .arg("-k")
        .arg(&dir)
        .args(["-p", &port.to_string()])
        .args([
            "-c",
            "listen_addresses=127.0.0.1",
            "-c",
            "max_connections=300",
        ])
        .args(if tls {
            vec![
                "-c".to_owned(),
                "ssl=on".to_owned(),
                "-c".to_owned(),
                format!("ssl_cert_file={}", dir.join("server.crt").display()),
                "-c".to_owned(),
                format!("ssl_key_file={}", dir.join("server.key").display()),
            ]
        } else {
            Vec::new()
        })
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .with_user(user);
    // SAFETY: prctl only sets this process's parent-death signal.
    unsafe {
        server.pre_exec(|| {
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
            Ok(())
        });
    }
    let child = server
        .spawn()
        .map_err(|e| format!("starting postgres: {e}"))?;
    // Killed with this thread's end, never waited for here.
    std::mem::forget(child);
    // Listening is not enough: the server refuses connections while it starts up.
    let deadline = Instant::now() + Duration::from_secs(30);
    let ready = || {
        Command::new(bin.join("pg_isready"))
            .args(["-h", "127.0.0.1", "-p", &port.to_string(), "-q"])
            .status()
            .is_ok_and(|s| s.success())
    };
    while !ready() {
        if Instant::now() > deadline {
            return Err("the throwaway PostgreSQL server was not ready within 30 s".into());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Ok(format!("postgres://postgres@127.0.0.1:{port}/postgres"))
}

/// The ids to run PostgreSQL's programs as: the postgres user's when this is root, after
/// giving it `dir`.
fn as_postgres_user(dir: &Path) -> Result<Option<(u32, u32)>, String> {
    // SAFETY: getuid has no preconditions.
    if unsafe { libc::getuid() } != 0 {
        return Ok(None);
    }
    // SAFETY: getpwnam reads a static entry; the name is a valid C string.
    let entry = unsafe { libc::getpwnam(c"postgres".as_ptr()) };
    if entry.is_null() {
        return Err("running as root, and there is no postgres user to run PostgreSQL as".into());
    }
    // SAFETY: checked non-null above.
    let (uid, gid) = unsafe { ((*entry).pw_uid, (*entry).pw_gid) };
    std::os::unix::fs::chown(dir, Some(uid), Some(gid))
        .map_err(|e| format!("giving {} to postgres: {e}", dir.display()))?;
    Ok(Some((uid, gid)))
}

trait WithUser {
    fn with_user(&mut self, user: Option<(u32, u32)>) -> &mut Self;
}

impl WithUser for Command {
    fn with_user(&mut self, user: Option<(u32, u32)>) -> &mut Self {
        if let Some((uid, gid)) = user {
            self.uid(uid).gid(gid);
        }
        self
    }
}

/// Folders of throwaway servers whose test process is gone.
fn remove_stale_dirs() {
    let Ok(entries) = std::fs::read_dir(std::env::temp_dir()) else {
        return;
    };
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if let Some(rest) = name.strip_prefix("seedstr-test-pg-") {
            let pid = rest.rsplit('-').next().unwrap_or(rest);
            if !Path::new("/proc").join(pid).exists() {
                let _ = std::fs::remove_dir_all(e.path());
            }
        }
    }
}
