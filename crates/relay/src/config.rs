//! Relay configuration: a TOML file whose every field has a default, overridable by flags.

use std::collections::BTreeSet;
use std::path::Path;

use serde::{Deserialize, Serialize};

/// The relay's whole configuration, as its TOML file holds it.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RelayConfig {
    /// Shown in the NIP-11 document.
    pub info: RelayInfo,
    /// Sizes and counts the relay accepts.
    pub limits: Limits,
    /// Which events the relay takes.
    pub policy: Policy,
    /// When clients must authenticate (NIP-42).
    pub auth: AuthConfig,
    /// Rate limits per address and per key.
    pub rate: RateLimits,
    /// Paid admission: writers pay the operator, by zap, once per period.
    pub admission: AdmissionConfig,
}

/// Paid admission (NIP-11 `fees`, `payments_url`): writes from keys that have not paid are
/// refused with `restricted:` and the price. Whoever runs the relay enforces it with a gate
/// (`seedstr_pay::admission`); the relay only advertises it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AdmissionConfig {
    /// The price, in sats; 0: writing is free.
    pub price_sats: u64,
    /// How long one payment admits its payer, in days.
    pub period_days: u64,
    /// The operator's lightning address (`name@domain`), paid by zap; their key is
    /// `info.pubkey`.
    pub lightning_address: Option<String>,
    /// Where people read how to pay; default: the lightning address's LNURL-pay document.
    pub payments_url: Option<String>,
    /// A price per event written, and its unit, when the relay's owner charges per event
    /// another way (the node: credit bought with payment channel claims). Set at run time.
    #[serde(skip)]
    pub per_event: Option<(u64, String)>,
}

impl Default for AdmissionConfig {
    fn default() -> AdmissionConfig {
        AdmissionConfig {
            price_sats: 0,
            period_days: 30,
            lightning_address: None,
            payments_url: None,
            per_event: None,
        }
    }
}

impl AdmissionConfig {
    /// Whether writers must pay.
    pub fn required(&self) -> bool {
        self.price_sats > 0 || self.per_event.is_some()
    }

    /// Whether writers pay by zap for a period.
    pub fn by_zap(&self) -> bool {
        self.price_sats > 0
    }
}

/// What the NIP-11 document says of the relay.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RelayInfo {
    /// The relay's name.
    pub name: String,
    /// What the relay is for.
    pub description: String,
    /// Operator's public key (hex), if any.
    pub pubkey: Option<String>,
    /// How to reach its operator.
    pub contact: Option<String>,
    /// The relay's own URL as clients reach it (`wss://…`), checked in NIP-42 AUTH events.
    /// When unset, the `Host` header of each connection stands in.
    pub url: Option<String>,
}

/// Sizes and counts the relay accepts.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Limits {
    /// Largest event accepted, in bytes of JSON.
    pub max_event_bytes: usize,
    /// Open subscriptions per connection.
    pub max_subscriptions: usize,
    /// Filters in one REQ or COUNT.
    pub max_filters: usize,
    /// Most stored events returned per filter.
    pub max_limit: usize,
    /// Wall-time budget of one query, in milliseconds.
    pub query_budget_ms: u64,
    /// Simultaneous connections.
    pub max_connections: usize,
    /// Simultaneous connections from one address (an IPv6 /64 counts as one); 0: no limit.
    pub max_connections_per_ip: usize,
    /// Loopback clients (this machine's own tools, or a reverse proxy in front) are not held
    /// to the per-address connection limit.
    pub exempt_loopback: bool,
    /// Open NIP-77 negentropy sessions per connection.
    pub max_negentropy_sessions: usize,
    /// Seconds between pings to a connection that has sent nothing.
    pub ping_interval_secs: u64,
    /// A connection that sends nothing (not even an answer to a ping) for this many seconds
    /// is closed.
    pub idle_timeout_secs: u64,
    /// Most events the NIP-77 negentropy sessions of one connection may cover together.
    pub max_negentropy_records: usize,
    /// Most events all open negentropy sessions of the relay may cover together (each takes
    /// about 40 bytes while its session is open).
    pub max_negentropy_records_total: usize,
    /// Outgoing messages queued per connection before a slow reader is disconnected.
    pub outbound_queue: usize,
    /// Bytes of outgoing messages queued per connection: answers to its requests wait past it,
    /// and a live match that finds no room disconnects it as a slow reader.
    pub outbound_queue_bytes: usize,
}

/// Which events the relay takes.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Policy {
    /// If non-empty, only these kinds are accepted.
    pub allow_kinds: BTreeSet<u16>,
    /// These kinds are refused.
    pub deny_kinds: BTreeSet<u16>,
    /// Refuse events whose content carries binary data (control characters, data URIs,
    /// long base64 runs): a metadata-only relay.
    pub reject_binary_content: bool,
    /// Longest run of base64 characters allowed in content when binary content is refused.
    pub max_base64_run: usize,
    /// Refuse events more than this many seconds in the future.
    pub max_future_secs: u64,
    /// Refuse events more than this many seconds in the past (0 = no limit).
    pub max_past_secs: u64,
}

/// When clients must authenticate (NIP-42).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuthConfig {
    /// Writes need a NIP-42 authenticated connection.
    pub required_for_writes: bool,
    /// Kinds 4 and 1059 are served only to their author or a `p`-tagged recipient who has
    /// authenticated.
    pub protect_private_messages: bool,
    /// When the NIP-42 challenge is sent: `when-needed` (before the first `auth-required:`
    /// answer) or `on-connect` (to every client as it connects).
    pub challenge: ChallengeMode,
}

/// When a connection gets its NIP-42 challenge.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum ChallengeMode {
    /// Before the first answer that needs it (`auth-required:`): what most clients expect;
    /// clients that never authenticate never see one.
    #[default]
    WhenNeeded,
    /// To every client as it connects.
    OnConnect,
}

/// Token buckets: `per_second` refills, `burst` is the bucket size; 0 disables a limit.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RateLimits {
    /// Events a second from one address (0: no limit).
    pub events_per_ip_per_second: f64,
    /// Events at once from one address.
    pub events_per_ip_burst: f64,
    /// Events a second signed by one key (0: no limit).
    pub events_per_pubkey_per_second: f64,
    /// Events at once signed by one key.
    pub events_per_pubkey_burst: f64,
    /// Subscriptions and counts a second from one address (0: no limit).
    pub reqs_per_ip_per_second: f64,
    /// Subscriptions and counts at once from one address.
    pub reqs_per_ip_burst: f64,
}

impl Default for RelayInfo {
    fn default() -> Self {
        RelayInfo {
            name: "seedstr".into(),
            description: "A Seedstr relay: signed metadata for files, packages and feeds.".into(),
            pubkey: None,
            contact: None,
            url: None,
        }
    }
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_event_bytes: 128 * 1024,
            max_subscriptions: 200,
            max_filters: 20,
            max_limit: 500,
            query_budget_ms: 2_000,
            max_connections: 10_000,
            max_connections_per_ip: 256,
            exempt_loopback: true,
            max_negentropy_sessions: 8,
            ping_interval_secs: 45,
            idle_timeout_secs: 120,
            max_negentropy_records: 1_000_000,
            max_negentropy_records_total: 5_000_000,
            outbound_queue: 4_096,
            outbound_queue_bytes: 16 << 20,
        }
    }
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            allow_kinds: BTreeSet::new(),
            deny_kinds: BTreeSet::new(),
            reject_binary_content: true,
            max_base64_run: 64 * 1024,
            max_future_secs: 900,
            max_past_secs: 0,
        }
    }
}

impl Default for AuthConfig {
    fn default() -> Self {
        AuthConfig {
            required_for_writes: false,
            protect_private_messages: true,
            challenge: ChallengeMode::WhenNeeded,
        }
    }
}

impl Default for RateLimits {
    fn default() -> Self {
        RateLimits {
            events_per_ip_per_second: 500.0,
            events_per_ip_burst: 2_000.0,
            events_per_pubkey_per_second: 100.0,
            events_per_pubkey_burst: 500.0,
            reqs_per_ip_per_second: 200.0,
            reqs_per_ip_burst: 1_000.0,
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
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not a valid configuration.
    #[error("{path}: {source}")]
    Parse {
        /// The file.
        path: String,
        /// What TOML said.
        source: toml::de::Error,
    },
}

impl RelayConfig {
    /// Reads the configuration at `path`; settings it leaves out keep their defaults.
    pub fn load(path: &Path) -> Result<RelayConfig, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.display().to_string(),
            source,
        })?;
        Self::parse(&text).map_err(|source| ConfigError::Parse {
            path: path.display().to_string(),
            source,
        })
    }

    /// Reads a configuration from TOML text; settings it leaves out keep their defaults.
    pub fn parse(text: &str) -> Result<RelayConfig, toml::de::Error> {
        toml::from_str(text)
    }

    /// The whole configuration with every default written out.
    pub fn to_toml(&self) -> String {
        toml::to_string_pretty(self).expect("the config always serializes")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_round_trip() {
        let c = RelayConfig::default();
        let again = RelayConfig::parse(&c.to_toml()).unwrap();
        assert_eq!(again.limits.max_event_bytes, 128 * 1024);
        assert!(again.policy.reject_binary_content);
    }

    #[test]
    fn partial_file_keeps_defaults_and_unknown_keys_are_named() {
        let c = RelayConfig::parse("[policy]\ndeny_kinds = [4]\n").unwrap();
        assert!(c.policy.deny_kinds.contains(&4));
        assert_eq!(c.limits.max_subscriptions, 200);
        let e = RelayConfig::parse("[limits]\nmax_events = 3\n").unwrap_err();
        assert!(e.to_string().contains("max_events"), "{e}");
    }
}
