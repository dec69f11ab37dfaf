//! Announcing an identity's feed: the transport-key attestation to the relays (so readers can
//! later find the feed without them), then the feed index and pointer rewritten.

use std::path::Path;

use nostr::prelude::Keys;
use seedstr_dht::record::DEFAULT_FEED_SALT;
use seedstr_dht::transport::{attestation, ATTESTATION_KIND};
use seedstr_dht::{DhtNode, DhtOptions};

use super::publish::{publish_feed, FeedPublishError, FeedPublished};
use crate::publish::own_events::{OwnEvents, OwnEventsError};
use crate::relays::{publish_all, RelaySet};

/// Why the feed could not be announced.
#[derive(Debug, thiserror::Error)]
pub enum AnnounceError {
    /// The transport-key attestation could not be signed.
    #[error(transparent)]
    Attestation(#[from] seedstr_dht::transport::SignError),
    /// The attestation could not be kept.
    #[error(transparent)]
    Keep(#[from] OwnEventsError),
    /// The feed could not be put.
    #[error(transparent)]
    Feed(#[from] FeedPublishError),
}

/// What [`announce_feed`] did.
#[derive(Debug, Clone, serde::Serialize)]
pub struct FeedAnnounced {
    /// The attestation's event id.
    pub attestation: String,
    /// False when no relay took the attestation: readers who never saw it cannot resolve the
    /// identity's DHT records.
    pub attestation_accepted: bool,
    /// The feed as put.
    pub feed: FeedPublished,
}

/// Rebuilds the identity's feed index from its own events and points the feed at it, after
/// sending the transport-key attestation (kept, or signed now) to the relays.
pub async fn announce_feed(
    home: &Path,
    keys: &Keys,
    relays: &RelaySet,
    dht: &DhtNode,
) -> Result<FeedAnnounced, AnnounceError> {
    let own = OwnEvents::new(home);
    let attest = match own.newest(&keys.public_key(), ATTESTATION_KIND) {
        Some(e) => e,
        None => {
            let e = attestation(keys)?;
            own.add(std::slice::from_ref(&e))?;
            e
        }
    };
    let answers = publish_all(&relays.urls, std::slice::from_ref(&attest), relays.timeout).await;
    let feed = publish_feed(home, keys, dht, DEFAULT_FEED_SALT, &[]).await?;
    Ok(FeedAnnounced {
        attestation: attest.id.to_hex(),
        attestation_accepted: answers.iter().any(|a| a.accepted),
        feed,
    })
}

/// What rewriting the feed after a send did. The relays already hold what was sent, so a
/// failure here is reported, never raised.
#[derive(Debug, Clone, serde::Serialize)]
#[serde(untagged)]
pub enum FeedUpdate {
    /// The feed was rewritten and its pointer put.
    Written {
        /// The new index's info hash.
        feed: String,
        /// The events.
        events: usize,
        /// The feed pointer's sequence number.
        seq: i64,
        /// See [`FeedAnnounced::attestation_accepted`].
        #[serde(skip)]
        attestation_accepted: bool,
    },
    /// The feed was not rewritten.
    Failed {
        /// Why the feed was not rewritten.
        error: String,
    },
}

/// Joins the DHT with `options` and [`announce_feed`]s, so readers without relays see what
/// was just sent.
pub async fn update_feed(
    home: &Path,
    keys: &Keys,
    relays: &RelaySet,
    options: &DhtOptions,
) -> FeedUpdate {
    let announced = match DhtNode::join(options).await {
        Ok(dht) => announce_feed(home, keys, relays, &dht)
            .await
            .map_err(|e| e.to_string()),
        Err(e) => Err(format!("joining the Mainline DHT: {e}")),
    };
    match announced {
        Ok(done) => FeedUpdate::Written {
            feed: done.feed.infohash,
            events: done.feed.events,
            seq: done.feed.pointer.seq,
            attestation_accepted: done.attestation_accepted,
        },
        Err(error) => FeedUpdate::Failed { error },
    }
}
