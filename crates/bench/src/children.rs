//! The benchmarks' child processes: the `seedstr` binary and third-party programs run as on a
//! real network, each killed when its handle drops.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{bail, Context, Result};

/// A child that prints one JSON line first, killed on drop.
pub struct Child(pub std::process::Child);

impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub type Lines = std::io::Lines<BufReader<std::process::ChildStdout>>;

/// Starts `cmd` and reads its first line; the rest of its output is the caller's.
pub fn first_line(cmd: &mut Command) -> Result<(Child, String, Lines)> {
    let mut child = Child(
        cmd.stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .with_context(|| format!("starting {cmd:?}"))?,
    );
    let mut out = BufReader::new(child.0.stdout.take().expect("piped"));
    let mut line = String::new();
    out.read_line(&mut line)?;
    Ok((child, line, out.lines()))
}

/// Keeps reading a child's output so it never writes into a closed pipe.
pub fn drain(lines: Lines) {
    std::thread::spawn(move || lines.for_each(drop));
}

/// The `seedstr` binary: the one given, or the one beside this program.
pub fn seedstr_exe(given: Option<&Path>, bench: &str) -> Result<PathBuf> {
    let path = match given {
        Some(p) => p.to_owned(),
        None => std::env::current_exe()?
            .with_file_name(format!("seedstr{}", std::env::consts::EXE_SUFFIX)),
    };
    if !path.is_file() {
        bail!(
            "the {bench} benchmark runs the relay and its peers with {}, which does not exist: build it (`cargo build -p seedstr`) or pass --seedstr PATH",
            path.display()
        );
    }
    Ok(path)
}

/// Our relay as a child process, and its URL.
pub fn start_relay(exe: &Path, data: &Path) -> Result<(Child, String)> {
    let (relay, line, rest) = first_line(
        Command::new(exe)
            .args([
                "relay",
                "--listen",
                "127.0.0.1:0",
                "--no-rate-limits",
                "--data",
            ])
            .arg(data)
            .env("SEEDSTR_LOG", "warn"),
    )?;
    let url = line
        .trim()
        .strip_prefix("seedstr relay listening on ")
        .with_context(|| format!("unexpected relay output {line:?}"))?
        .to_owned();
    drain(rest);
    Ok((relay, url))
}

/// `seedstr seed` for the identity whose `SEEDSTR_HOME` `cmd` sets (`cmd` is the `seedstr`
/// binary with its environment), listening on loopback without the DHT; returns once it serves
/// `payloads` payloads, with its address.
pub fn start_seed(mut cmd: Command, payloads: usize) -> Result<(Child, std::net::SocketAddr)> {
    let (seeder, hello, mut lines) = first_line(cmd.args([
        "seed",
        "--listen",
        "127.0.0.1:0",
        "--no-dht",
        "--json",
        "--poll-secs",
        "1",
    ]))?;
    let hello: serde_json::Value = serde_json::from_str(&hello)?;
    let addr = hello["listening"]
        .as_str()
        .with_context(|| format!("seedstr seed said {hello}"))?
        .parse()?;
    // Its initial check of each payload.
    let mut seeding = 0;
    while seeding < payloads {
        let line = lines.next().context("seedstr seed exited")??;
        if line.contains("\"seeding\"") {
            seeding += 1;
        }
    }
    drain(lines);
    Ok((seeder, addr))
}
