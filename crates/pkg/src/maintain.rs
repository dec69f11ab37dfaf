//! Maintaining your publisher registry: who may publish which name, and which keys are
//! revoked. Each edit reads your newest list, changes it, signs and sends it, trusts it, and
//! puts it in your DHT feed so readers find it with no relay.

use std::path::Path;

use nostr::prelude::{FinalizeEvent as _, Keys, PublicKey, Timestamp};
use seedstr_client::feed::{update_feed, FeedUpdate};
use seedstr_client::publish::outbox::{send_and_keep, SendError};
use seedstr_client::publish::own_events::OwnEvents;
use seedstr_client::relays::{query_all, RelaySet};
use seedstr_client::resolve::target::npub;
use seedstr_dht::DhtOptions;
use seedstr_proto::Verified;
use serde_json::json;

use crate::registry::{
    with_publisher, with_revoked, RegistryError, RegistryList, REGISTRY_D, REGISTRY_KIND,
};
use crate::trust::{self, TrustError};
use crate::PackageName;

/// A change to your registry.
#[derive(Debug, Clone)]
pub enum RegistryEdit {
    /// `publisher` may publish `name`.
    Allow {
        /// The package name.
        name: PackageName,
        /// The publisher's key.
        publisher: PublicKey,
    },
    /// `publisher` may no longer publish `name`.
    Disallow {
        /// The package name.
        name: PackageName,
        /// The publisher's key.
        publisher: PublicKey,
    },
    /// Readers who trust your registry refuse everything `key` signed from `since` on.
    Revoke {
        /// The key to revoke.
        key: PublicKey,
        /// From when the key is distrusted.
        since: Timestamp,
        /// Why, shown to everyone refused because of it.
        reason: String,
    },
}

/// Why an edit was not made.
#[derive(Debug, thiserror::Error)]
pub enum EditError {
    /// The mapping to remove is not in the registry.
    #[error("your registry does not map {name} to {publisher}")]
    NotMapped {
        /// The package name.
        name: String,
        /// The publisher's npub.
        publisher: String,
    },
    /// The newest list does not read.
    #[error("your newest registry cannot be read: {0}")]
    Unreadable(#[from] RegistryError),
    /// Signing failed.
    #[error("signing the registry: {0}")]
    Sign(String),
    /// No relay took the list.
    #[error(transparent)]
    Send(#[from] SendError),
    /// The trust file could not be read or written.
    #[error(transparent)]
    Trust(#[from] TrustError),
}

/// What an edit did.
#[derive(Debug, Clone, serde::Serialize)]
pub struct RegistryEdited {
    /// The new registry event's id.
    pub event: String,
    /// What rewriting the DHT feed did; `None` when it was not asked for.
    pub dht: Option<FeedUpdate>,
}

/// Applies `edit` to your newest registry, signs it with `keys`, sends it to `relays`, keeps
/// it, trusts your own registry and, unless `dht` is `None`, rewrites your DHT feed.
pub async fn edit_registry(
    home: &Path,
    keys: &Keys,
    relays: &RelaySet,
    dht: Option<&DhtOptions>,
    edit: &RegistryEdit,
) -> Result<RegistryEdited, EditError> {
    let (list, previous) = own_list(home, keys, relays).await?;
    let list = apply(list, edit)?;
    // Dated after the list it replaces even within the same second: on a tie NIP-01 keeps the
    // lower id, which could be the old list.
    let now = Timestamp::now();
    let at = match previous {
        Some(p) if p >= now => Timestamp::from(p.as_secs() + 1),
        _ => now,
    };
    let event = list
        .to_builder()
        .custom_created_at(at)
        .finalize(keys)
        .map_err(|e| EditError::Sign(e.to_string()))?;
    send_and_keep(home, std::slice::from_ref(&event), relays).await?;
    // Your own registry is one you trust.
    let mut trusted = trust::load(home)?;
    if !trusted.contains(&keys.public_key()) {
        trusted.push(keys.public_key());
        trust::save(home, &trusted)?;
    }
    let dht = match dht {
        Some(options) => Some(update_feed(home, keys, relays, options).await),
        None => None,
    };
    Ok(RegistryEdited {
        event: event.id.to_hex(),
        dht,
    })
}

fn apply(list: RegistryList, edit: &RegistryEdit) -> Result<RegistryList, EditError> {
    Ok(match edit {
        RegistryEdit::Allow { name, publisher } => {
            with_publisher(list, name.coordinate(), *publisher)
        }
        RegistryEdit::Disallow { name, publisher } => {
            let mut list = list;
            let removed = list
                .publishers
                .get_mut(&name.coordinate())
                .is_some_and(|set| set.remove(publisher));
            if !removed {
                return Err(EditError::NotMapped {
                    name: name.to_string(),
                    publisher: npub(publisher),
                });
            }
            list.publishers.retain(|_, set| !set.is_empty());
            list
        }
        RegistryEdit::Revoke { key, since, reason } => with_revoked(list, *key, *since, reason),
    })
}

/// Your newest registry (your own copy, or a relay's when it is newer) and when it was
/// signed. Relay answers are checked before one is chosen; when no relay answers, your own
/// copy stands.
async fn own_list(
    home: &Path,
    keys: &Keys,
    relays: &RelaySet,
) -> Result<(RegistryList, Option<Timestamp>), EditError> {
    let me = keys.public_key();
    // Your own copy is checked like any other before it takes part in the choice.
    let mut found: Vec<Verified> =
        Verified::keep_valid(OwnEvents::new(home).newest(&me, REGISTRY_KIND));
    let filter = json!({"kinds": [REGISTRY_KIND], "authors": [me.to_hex()], "#d": [REGISTRY_D]});
    let gathered = query_all(&relays.urls, &filter, relays.timeout).await;
    // query_all kept only copies that verify.
    found.extend(gathered.events.into_iter().filter(|e| e.pubkey == me));
    // NIP-01's winner: the newest, and on a tie the lowest id.
    match seedstr_proto::event::newest_by_address(&found).first() {
        Some(e) => Ok((RegistryList::from_event(e)?, Some(e.created_at))),
        None => Ok((RegistryList::default(), None)),
    }
}

/// What one trusted registry says, as shown to a developer.
#[derive(Debug, Clone, serde::Serialize)]
pub struct RegistryView {
    /// The maintainer's npub.
    pub registry: String,
    /// Whether any relay held its list.
    pub found: bool,
    /// Package coordinate to the npubs allowed to publish it; `None` when not found.
    pub publishers: Option<std::collections::BTreeMap<String, Vec<String>>>,
    /// Keys it revoked; `None` when not found.
    pub revoked: Option<Vec<RevokedView>>,
}

/// A revocation in a registry.
#[derive(Debug, Clone, serde::Serialize)]
pub struct RevokedView {
    /// The revoked key's npub.
    pub key: String,
    /// From when the key is distrusted.
    pub since: u64,
    /// Why, shown to everyone refused because of it.
    pub reason: String,
}

/// The trusted registries in `sources` and what each says, with the problems met reading
/// them.
pub async fn show_registries(
    sources: &crate::catalog::Sources,
) -> Result<(Vec<RegistryView>, Vec<String>), crate::catalog::CatalogError> {
    let (registry, problems, _) = crate::catalog::load_registry(sources, None).await?;
    let views = sources
        .trusted
        .iter()
        .map(|k| {
            let list = registry.lists.get(k);
            RegistryView {
                registry: npub(k),
                found: list.is_some(),
                publishers: list.map(|l| {
                    l.publishers
                        .iter()
                        .map(|(c, keys)| (c.to_string(), keys.iter().map(npub).collect()))
                        .collect()
                }),
                revoked: list.map(|l| {
                    l.revoked
                        .iter()
                        .map(|(k, (since, why))| RevokedView {
                            key: npub(k),
                            since: *since,
                            reason: why.clone(),
                        })
                        .collect()
                }),
            }
        })
        .collect();
    Ok((views, problems))
}
