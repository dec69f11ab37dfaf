//! anvil, a real EVM development chain (npm `@foundry-rs/anvil-linux-amd64`, installed by the
//! test command into `tests/js`), on a free loopback port for one test, stopped when dropped.

use std::io::BufRead as _;
use std::process::{Child, Command, Stdio};

/// A running anvil.
pub struct Anvil {
    child: Child,
    /// Its JSON-RPC endpoint (`http://127.0.0.1:PORT`).
    pub url: String,
}

impl Drop for Anvil {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The anvil binary the npm package ships.
pub fn anvil_bin() -> std::path::PathBuf {
    crate::workspace_root().join("tests/js/node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil")
}

impl Anvil {
    /// Starts anvil (chain id 31337, its usual funded accounts) on a free loopback port.
    pub fn start() -> Anvil {
        let bin = anvil_bin();
        assert!(
            bin.exists(),
            "{} is missing: run `npm ci` in tests/js (scripts/test does)",
            bin.display()
        );
        let mut child = Command::new(&bin)
            .args(["--port", "0", "--host", "127.0.0.1"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("anvil starts");
        let stdout = child.stdout.take().expect("anvil's output");
        let mut url = None;
        for line in std::io::BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if let Some(addr) = line.strip_prefix("Listening on ") {
                url = Some(format!("http://{}", addr.trim()));
                break;
            }
        }
        let Some(url) = url else {
            let _ = child.kill();
            let _ = child.wait();
            panic!("anvil ended without saying where it listens");
        };
        Anvil { child, url }
    }
}
