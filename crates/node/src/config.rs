//! `seedstr.toml`: the node's configuration. Every field has a default, so an empty file (or
//! none) runs a working node; `seedstr node --print-config` writes every default out.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use seedstr_relay::RelayConfig;
use serde::{Deserialize, Serialize};

/// The node's configuration, as `seedstr.toml` holds it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NodeConfig {
    /// Keys, the seed registry, package store and (by default) the event store live here.
    /// Empty: `$SEEDSTR_HOME`, else `~/.config/seedstr`.
    pub data: PathBuf,
    /// The HTTP port and what it takes.
    pub http: HttpConfig,
    /// The event store.
    pub store: StoreConfig,
    /// The BitTorrent side.
    pub torrent: TorrentConfig,
    /// The DHT node.
    pub dht: DhtConfig,
    /// The package registry views.
    pub packages: PackagesConfig,
    /// The relay served on the HTTP port (limits, policy, auth, rates, NIP-11 info).
    pub relay: RelayConfig,
    /// The node as its owner's home in the social network (`docs/social.md`).
    pub social: SocialConfig,
    /// The node as an Interledger peer (`docs/ilp.md`).
    pub ilp: crate::ilp::IlpConfig,
}

/// The node as its owner's home: their key unlocked at start, their relay and inbox lists
/// naming the node, their inbox kept.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SocialConfig {
    /// Unlock the owner's key (in the data folder) at start and act as their home
    /// (`seedstr node --owner` sets it).
    pub owner: bool,
    /// The node's relay address as others reach it (`wss://home.example/`); empty: the HTTP
    /// address (`ws://127.0.0.1:7447/`), reachable from this machine only.
    pub url: String,
    /// Directories (relay URLs) the owner's lists are sent to besides the node itself.
    pub directories: Vec<String>,
    /// Days back an event addressed to the owner may be dated (gift wraps are dated up to two
    /// days back on purpose).
    pub inbox_window_days: u64,
    /// Events a minute addressed to the owner from one address; 0: no limit.
    pub inbox_per_ip_per_minute: f64,
    /// Events a minute addressed to the owner from one sender (for a gift wrap, the seal's
    /// signer); 0: no limit.
    pub inbox_per_sender_per_minute: f64,
    /// Seconds between catch-ups with the nodes of the people the owner follows and
    /// befriended (at start, then every this many).
    pub sync_secs: u64,
    /// Let the owner sign in to the pages from other machines (by default only from this
    /// one). Put the node behind TLS first: the passphrase and the cookie cross the network.
    pub remote_login: bool,
    /// The name of the owner's lightning address (`<name>@<host>`, LUD-16), served when they
    /// connected a wallet (`seedstr wallet connect`).
    pub lightning_name: String,
}

impl Default for SocialConfig {
    fn default() -> SocialConfig {
        SocialConfig {
            owner: false,
            url: String::new(),
            directories: Vec::new(),
            inbox_window_days: 4,
            inbox_per_ip_per_minute: 120.0,
            inbox_per_sender_per_minute: 30.0,
            sync_secs: 600,
            remote_login: false,
            lightning_name: "me".into(),
        }
    }
}

/// The HTTP port and what it takes.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HttpConfig {
    /// One port for the relay's WebSocket, NIP-11, the API, the registry views and the web UI.
    pub listen: SocketAddr,
    /// Who may hand the node payloads to seed (`POST /api/v1/payloads`): `loopback` (commands
    /// on this machine), `anyone`, or `off`.
    pub uploads: Uploads,
    /// Largest payload accepted, in MiB.
    pub max_upload_mib: u64,
    /// Seconds a page, an API query or NIP-11 may take before the node answers 504.
    pub query_timeout_secs: u64,
    /// Seconds a download, an upload or a registry view's archive may take before its first
    /// byte (fetching from the swarm included).
    pub transfer_timeout_secs: u64,
    /// Requests handled at once, over every route; more are answered 503 at once.
    pub max_concurrent_requests: usize,
    /// Largest request body outside uploads (published events), in KiB.
    pub max_body_kib: usize,
}

/// Who may upload payloads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Uploads {
    /// Clients on this machine.
    Loopback,
    /// Anyone.
    Anyone,
    /// Nobody.
    Off,
}

/// The event store.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StoreConfig {
    /// The LMDB folder; empty: `<data>/relay`.
    pub lmdb: PathBuf,
    /// A PostgreSQL URL to use instead of LMDB (several nodes or relays on one database).
    pub database: String,
}

/// The BitTorrent side.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TorrentConfig {
    /// TCP address peers connect to.
    pub listen: SocketAddr,
    /// Upload cap in bytes per second; 0: none.
    pub upload_limit: u32,
    /// Contact the trackers releases name.
    pub trackers: bool,
    /// Seconds between looks at the seed registry for payloads to start or stop.
    pub poll_secs: u64,
}

/// The DHT node.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DhtConfig {
    /// Run it.
    pub enabled: bool,
    /// The UDP address of the node's one DHT node; others may join through it, so a first
    /// node of a private DHT starts with an empty or unreachable bootstrap list.
    pub listen: std::net::SocketAddrV4,
    /// `host:port` of nodes to join through; empty: the public Mainline routers.
    pub bootstrap: Vec<String>,
    /// Seconds between puts of the kept records (own and followed); nodes drop items after
    /// about two hours.
    pub republish_secs: u64,
}

/// The package registry views.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PackagesConfig {
    /// Publisher registries trusted by the npm and Cargo views (npub or hex), besides those in
    /// `<data>/pkg/trusted-registries`.
    pub registries: Vec<String>,
    /// Relays the views ask besides this node's own.
    pub relays: Vec<String>,
    /// Seconds to wait for a relay's answer.
    pub relay_timeout_secs: u64,
    /// Seconds the swarm may go without delivering an archive before mirrors are tried.
    pub stall_timeout_secs: u64,
    /// The largest release the node downloads (the sum of its signed file sizes); larger ones
    /// are refused before any byte is fetched.
    pub max_release_bytes: u64,
    /// The most bytes the download store (`<data>/downloads`, filled by the download API)
    /// holds; the payloads served least recently make room for new ones.
    pub download_store_max_bytes: u64,
}

impl Default for NodeConfig {
    fn default() -> NodeConfig {
        NodeConfig {
            data: PathBuf::new(),
            http: HttpConfig::default(),
            store: StoreConfig::default(),
            torrent: TorrentConfig::default(),
            dht: DhtConfig::default(),
            packages: PackagesConfig::default(),
            relay: RelayConfig::default(),
            social: SocialConfig::default(),
            ilp: crate::ilp::IlpConfig::default(),
        }
    }
}

impl Default for HttpConfig {
    fn default() -> HttpConfig {
        HttpConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 7447)),
            uploads: Uploads::Loopback,
            max_upload_mib: 4096,
            query_timeout_secs: 30,
            transfer_timeout_secs: 900,
            max_concurrent_requests: 512,
            max_body_kib: 1024,
        }
    }
}

impl Default for TorrentConfig {
    fn default() -> TorrentConfig {
        TorrentConfig {
            listen: SocketAddr::from(([0, 0, 0, 0], 6881)),
            upload_limit: 0,
            trackers: true,
            poll_secs: 2,
        }
    }
}

impl DhtConfig {
    /// How the node's DHT node joins; `None` when the DHT is off.
    pub fn options(&self) -> Option<seedstr_dht::DhtOptions> {
        self.enabled
            .then(|| seedstr_dht::DhtOptions::joining(&self.bootstrap).listening_on(self.listen))
    }
}

impl Default for DhtConfig {
    fn default() -> DhtConfig {
        DhtConfig {
            enabled: true,
            listen: std::net::SocketAddrV4::new(std::net::Ipv4Addr::UNSPECIFIED, 6881),
            bootstrap: Vec::new(),
            republish_secs: 3600,
        }
    }
}

impl Default for PackagesConfig {
    fn default() -> PackagesConfig {
        PackagesConfig {
            registries: Vec::new(),
            relays: Vec::new(),
            relay_timeout_secs: 5,
            stall_timeout_secs: 60,
            max_release_bytes: seedstr_client::install::DEFAULT_MAX_RELEASE_BYTES,
            download_store_max_bytes: 32 << 30,
        }
    }
}

/// Why a configuration file was not taken.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not a valid configuration.
    #[error("{path}: {why}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// What is wrong in it.
        why: String,
    },
}

impl NodeConfig {
    /// Reads the configuration at `path`; settings it leaves out keep their defaults.
    pub fn load(path: &Path) -> Result<NodeConfig, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        toml::from_str(&text).map_err(|e| ConfigError::Parse {
            path: path.to_owned(),
            why: e.to_string(),
        })
    }

    /// The configuration as TOML, every setting written.
    pub fn to_toml(&self) -> String {
        toml::to_string_pretty(self).expect("the config always serializes")
    }

    /// The data folder: `data`, or `home` when it is empty.
    pub fn data_dir(&self, home: &Path) -> PathBuf {
        if self.data.as_os_str().is_empty() {
            home.to_owned()
        } else {
            self.data.clone()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_printed_defaults_load_back_and_unknown_fields_are_named() {
        let printed = NodeConfig::default().to_toml();
        let back: NodeConfig = toml::from_str(&printed).unwrap();
        assert_eq!(back.to_toml(), printed);
        assert!(printed.contains("[http]") && printed.contains("[relay.limits]"));
        let why = toml::from_str::<NodeConfig>("[http]\nlisten = \"127.0.0.1:1\"\nport = 3\n")
            .unwrap_err()
            .to_string();
        assert!(why.contains("port"), "{why}");
    }
}
