//! Flags shared by the commands that reach relays and peers.

use std::net::{SocketAddr, SocketAddrV4};
use std::time::Duration;

use clap::Args;
use seedstr_client::relays::RelaySet;
use seedstr_dht::DhtOptions;
use seedstr_swarm::{Swarm, SwarmOptions};

/// The relay a command uses when none is named: the one `seedstr relay` runs by default.
pub const DEFAULT_RELAY: &str = "ws://127.0.0.1:7447";

#[derive(Args, Clone)]
pub struct RelayArgs {
    /// Relay URL (repeatable) [default: ws://127.0.0.1:7447].
    #[arg(long = "relay")]
    pub relays: Vec<String>,
    /// Seconds to wait for each relay.
    #[arg(long, default_value_t = 10)]
    pub relay_timeout: u64,
}

impl RelayArgs {
    pub fn relays(&self) -> Vec<String> {
        if self.relays.is_empty() {
            vec![DEFAULT_RELAY.to_owned()]
        } else {
            self.relays.clone()
        }
    }

    pub fn timeout(&self) -> Duration {
        Duration::from_secs(self.relay_timeout.max(1))
    }

    /// The relays and their timeout, as the operations take them.
    pub fn set(&self) -> RelaySet {
        RelaySet {
            urls: self.relays(),
            timeout: self.timeout(),
        }
    }
}

#[derive(Args, Clone)]
pub struct PeerArgs {
    /// TCP address to accept peers on (port 0: any free port).
    #[arg(long, default_value = "0.0.0.0:0")]
    pub listen: SocketAddr,
    /// A peer to contact directly, host:port (repeatable).
    #[arg(long = "peer")]
    pub peers: Vec<SocketAddr>,
    /// Mainline DHT bootstrap node, host:port (repeatable) [default: the public routers];
    /// `none` starts alone, as the first node of a private DHT.
    #[arg(long = "dht-bootstrap")]
    pub dht_bootstrap: Vec<String>,
    /// UDP address of this process's DHT node [default: port 6881 if free, else any].
    /// The first node of a private DHT listens on a known address and joins alone.
    #[arg(long)]
    pub dht_listen: Option<SocketAddrV4>,
    /// Do not use the DHT (peers then come from --peer and the release's trackers).
    #[arg(long, conflicts_with_all = ["dht_bootstrap", "dht_listen"])]
    pub no_dht: bool,
    /// Do not contact trackers named by releases.
    #[arg(long)]
    pub no_trackers: bool,
    /// The largest release to fetch, in bytes (the sum of its signed file sizes); a release
    /// declaring more is refused before any byte is fetched.
    #[arg(long, env = "SEEDSTR_MAX_RELEASE_BYTES", default_value_t = seedstr_client::install::DEFAULT_MAX_RELEASE_BYTES)]
    pub max_release_bytes: u64,
}

impl PeerArgs {
    pub async fn start_swarm(&self, upload_limit_bps: Option<u32>) -> anyhow::Result<Swarm> {
        Ok(Swarm::start(self.swarm_options(upload_limit_bps)).await?)
    }

    pub fn swarm_options(&self, upload_limit_bps: Option<u32>) -> SwarmOptions {
        SwarmOptions {
            listen: Some(self.listen),
            trackers: !self.no_trackers,
            upload_limit_bps: upload_limit_bps.and_then(std::num::NonZeroU32::new),
        }
    }
}

impl PeerArgs {
    /// How this process's DHT node joins and listens; `None` with `--no-dht`.
    pub fn dht_options(&self) -> Option<DhtOptions> {
        (!self.no_dht).then(|| {
            let opts = DhtOptions::joining(&self.dht_bootstrap);
            match self.dht_listen {
                Some(addr) => opts.listening_on(addr),
                None => opts,
            }
        })
    }

    /// Joins the Mainline DHT as these flags say; `None` with `--no-dht`.
    pub async fn join_dht(&self, server: bool) -> anyhow::Result<Option<seedstr_dht::DhtNode>> {
        let Some(opts) = self.dht_options() else {
            return Ok(None);
        };
        let node = seedstr_dht::DhtNode::join(&DhtOptions { server, ..opts })
            .await
            .map_err(|e| anyhow::anyhow!("joining the Mainline DHT: {e}"))?;
        Ok(Some(node))
    }
}

/// A multi-threaded runtime for one command.
pub fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?)
}

pub use seedstr_swarm::transfer_runtime;

/// Prints a value as one line of JSON on stdout.
pub fn print_json(value: &impl serde::Serialize) {
    say(&serde_json::to_string(value).expect("reports serialize"));
}

/// Prints a line on stdout; a reader that went away does not stop a long-running command.
pub fn say(line: &str) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}").and_then(|()| out.flush());
}

pub use seedstr_client::display::human_bytes;
