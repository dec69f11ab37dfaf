//! The node as its owner's home (`social.owner`): their inbox kept by a gate in front of the
//! store, and their relay and inbox lists made to name the node once it listens.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use nostr::prelude::Keys;
use seedstr_client::relays::live::{subscribe, LiveNote};
use seedstr_client::relays::{publish_all, RelaySet};
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
/// and on the directories; then keeps the directories current: every profile, follow list,
/// relay list, inbox list and transport-key attestation of the owner the node holds or takes
/// later is sent on to them (registration is nothing more). Logged, since the node serves
/// either way.
pub async fn announce(owner: Keys, url: String, own_relay: String, directories: Vec<String>) {
    let mut urls = vec![own_relay.clone()];
    urls.extend(directories.iter().cloned());
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
    if directories.is_empty() {
        return;
    }
    let filter = serde_json::json!({
        "authors": [owner.public_key().to_hex()],
        "kinds": [0, 3, 10002, 10050, 10744],
    });
    let mut live = subscribe(&[own_relay], vec![filter]);
    while let Some(note) = live.recv().await {
        if let LiveNote::Event { event, .. } = note {
            let answers = publish_all(
                &directories,
                std::slice::from_ref(event.event()),
                relays.timeout,
            )
            .await;
            for a in answers.iter().filter(|a| !a.accepted) {
                tracing::warn!(
                    target: "seedstr::social",
                    "directory {} refused kind {} {}: {}",
                    a.relay,
                    event.kind.as_u16(),
                    a.event_id,
                    a.message
                );
            }
        }
    }
}
