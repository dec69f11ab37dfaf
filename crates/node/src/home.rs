//! The node as its owner's home (`social.owner`): their inbox kept by a gate in front of the
//! store, and their relay and inbox lists made to name the node once it listens.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use nostr::prelude::Keys;
use seedstr_client::relays::RelaySet;
use seedstr_social::home::{announce_home, InboxGate, InboxRules};

use crate::config::SocialConfig;

/// The owner's inbox gate, their blocks read from `data` (where `seedstr social friend block`
/// writes them when the node's data folder is their home).
pub fn inbox_gate(owner: &Keys, config: &SocialConfig, data: &Path) -> InboxGate {
    InboxGate::new(
        owner.clone(),
        InboxRules {
            window_secs: config.inbox_window_days.max(3) * 86_400,
            per_ip_per_minute: config.inbox_per_ip_per_minute,
            per_sender_per_minute: config.inbox_per_sender_per_minute,
            ..InboxRules::default()
        },
        data.to_owned(),
        Arc::new(seedstr_proto::clock::unix_now),
    )
}

/// Makes the owner's relay list (10002) and inbox list (10050) name `url`, on the node itself
/// and on the directories; logged, since the node serves either way.
pub async fn announce(owner: Keys, url: String, own_relay: String, directories: Vec<String>) {
    let mut urls = vec![own_relay];
    urls.extend(directories);
    let relays = RelaySet {
        urls,
        timeout: Duration::from_secs(10),
    };
    match announce_home(&owner, &url, &relays).await {
        Ok(changes) => {
            for c in changes {
                tracing::info!(
                    target: "seedstr::social",
                    kind = c.kind,
                    changed = c.changed,
                    "the owner's list names {url}"
                );
            }
        }
        Err(e) => tracing::warn!(target: "seedstr::social", "announcing the owner's home: {e}"),
    }
}
