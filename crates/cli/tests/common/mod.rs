//! Runs the real `seedstr` binary as a relay on an ephemeral loopback port.

#![allow(dead_code)]

pub mod hostile;
pub mod mods;
pub mod node;
pub mod spine;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use nostr::prelude::*;
use seedstr_client::relays::conn::RelayConn;

pub struct RelayProcess {
    pub child: Child,
    pub url: String,
    pub data: PathBuf,
}

impl RelayProcess {
    /// Starts `seedstr relay` on 127.0.0.1:0 over `data`, with extra flags.
    pub fn start(data: &Path, extra: &[&str]) -> RelayProcess {
        let mut args = vec!["--data".to_string(), data.display().to_string()];
        args.extend(extra.iter().map(|s| s.to_string()));
        Self::start_with(&args, data)
    }

    /// Starts `seedstr relay` on 127.0.0.1:0 over a PostgreSQL database.
    pub fn start_postgres(url: &str, extra: &[&str]) -> RelayProcess {
        let mut args = vec!["--database".to_string(), url.to_string()];
        args.extend(extra.iter().map(|s| s.to_string()));
        Self::start_with(&args, Path::new(""))
    }

    fn start_with(args: &[String], data: &Path) -> RelayProcess {
        let mut child = Command::new(env!("CARGO_BIN_EXE_seedstr"))
            .args(["relay", "--listen", "127.0.0.1:0"])
            .args(args)
            .env("SEEDSTR_LOG", crate::common::spine::log_filter())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start seedstr relay");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .expect("relay prints its address");
        let url = line
            .trim()
            .strip_prefix("seedstr relay listening on ")
            .unwrap_or_else(|| panic!("unexpected first line: {line:?}"))
            .to_string();
        RelayProcess {
            child,
            url,
            data: data.to_path_buf(),
        }
    }

    pub async fn connect(&self) -> RelayConn {
        RelayConn::connect(&self.url).await.expect("connect")
    }

    /// `host:port` of the relay.
    pub fn addr(&self) -> &str {
        self.url.trim_start_matches("ws://")
    }

    /// The relay process's peak resident memory so far (`VmHWM` from /proc), as printed.
    pub fn peak_memory(&self) -> String {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .unwrap_or_default();
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .map(|v| v.trim().to_owned())
            .unwrap_or_else(|| "?".into())
    }

    /// SIGTERM, as a service manager stops it; whether it exited cleanly.
    pub fn terminate(&mut self) -> bool {
        terminate(&mut self.child, "the relay")
    }

    pub fn kill9(&mut self) {
        // SIGKILL: no destructor, no flush, nothing graceful.
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }
}

impl Drop for RelayProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Sends SIGTERM to `child` and waits for it (up to 20 s); whether it exited cleanly.
pub fn terminate(child: &mut Child, what: &str) -> bool {
    let pid = child.id().to_string();
    assert!(Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap()
        .success());
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status.success();
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{what} did not stop on SIGTERM"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

pub fn event(keys: &Keys, kind: u16, tags: &[&[&str]], content: &str) -> Event {
    EventBuilder::new(Kind::from(kind), content)
        .tags(tags.iter().map(|t| Tag::parse(t.iter().copied()).unwrap()))
        .finalize(keys)
        .unwrap()
}

pub fn event_at(keys: &Keys, kind: u16, at: u64, tags: &[&[&str]], content: &str) -> Event {
    EventBuilder::new(Kind::from(kind), content)
        .tags(tags.iter().map(|t| Tag::parse(t.iter().copied()).unwrap()))
        .custom_created_at(Timestamp::from_secs(at))
        .finalize(keys)
        .unwrap()
}

/// `--dht-bootstrap <node>` for each node of a loopback testnet.
pub fn dht_bootstrap(net: &seedstr_dht::Testnet) -> Vec<&str> {
    net.bootstrap
        .iter()
        .flat_map(|n| ["--dht-bootstrap", n.as_str()])
        .collect()
}

/// The unmodified npm client run in `project`, with its own `cache` and no audit or funding
/// requests.
pub fn npm(
    project: &std::path::Path,
    cache: &std::path::Path,
    args: &[&str],
) -> std::process::Output {
    std::process::Command::new("npm")
        .args(args)
        .args(["--no-audit", "--no-fund", "--cache"])
        .arg(cache)
        .current_dir(project)
        .output()
        .expect("npm runs")
}

/// One plain HTTP/1.1 request (closing the connection): status and body.
pub fn http(
    addr: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> (u16, String) {
    http_bytes(addr, method, path, headers, body.as_bytes())
}

/// [`http`] with a body of any bytes.
pub fn http_bytes(
    addr: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> (u16, String) {
    let (status, _, body) = http_response(addr, method, path, headers, body);
    (status, body)
}

/// [`http_bytes`], with the response's headers too (names in lower case).
pub fn http_response(
    addr: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> (u16, Vec<(String, String)>, String) {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    let mut head = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    if !body.is_empty() {
        head.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    head.push_str("\r\n");
    s.write_all(head.as_bytes()).unwrap();
    // A server may answer (and close) before reading a body it refuses.
    let _ = s.write_all(body);
    let mut raw = Vec::new();
    let _ = s.read_to_end(&mut raw);
    let text = String::from_utf8_lossy(&raw).into_owned();
    let status = text.split(' ').nth(1).unwrap().parse().unwrap();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let header_lines = head
        .lines()
        .skip(1)
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    (status, header_lines, body.to_owned())
}
