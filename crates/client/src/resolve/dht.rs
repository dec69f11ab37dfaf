//! Resolving a release when no relay answers: the author's transport key (from the attestation
//! seen before), the project's name record, and the release event itself from the author's
//! feed index, checked like any event from a relay.

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use seedstr_dht::record::DEFAULT_FEED_SALT;
use seedstr_dht::{DhtError, DhtNode, DhtOptions};
use seedstr_proto::Verified;
use seedstr_swarm::Swarm;

use crate::feed::{read_feed, FeedResolveError, ResolveOptions};
use crate::keys::transport::{cached_transport_key, TransportKeyError};
use crate::resolve::names::{get_name_record, NameError};
use crate::resolve::target::Target;
use crate::resolve::{choose, is_candidate, Resolution, ResolveError};

/// Why a release could not be found through the DHT.
#[derive(Debug, thiserror::Error)]
pub enum DhtResolveError {
    /// The DHT could not be joined.
    #[error("joining the Mainline DHT: {0}")]
    Join(DhtError),
    /// The author's transport key is unknown.
    #[error(transparent)]
    Key(#[from] TransportKeyError),
    /// The name record is unusable.
    #[error(transparent)]
    Name(#[from] NameError),
    /// The DHT holds no name record.
    #[error("the DHT holds no name record for {target}")]
    NoName {
        /// What was asked for.
        target: String,
    },
    /// The author's feed could not be read.
    #[error("reading the author's feed: {0}")]
    Feed(#[from] FeedResolveError),
    /// The name record names an event the feed lacks.
    #[error("the name record of {name} names version {version} (event {event}), which the author's feed index does not hold")]
    NotInFeed {
        /// The package name.
        name: String,
        /// The version the name record names.
        version: String,
        /// The event the record names.
        event: String,
    },
    /// No release in the feed could be chosen.
    #[error(transparent)]
    Choose(#[from] ResolveError),
}

/// A release resolved on the DHT, and where its peers may be.
pub struct DhtResolution {
    /// The release chosen from the feed.
    pub resolution: Resolution,
    /// Peers announced for the release's torrent.
    pub peers: Vec<SocketAddr>,
}

/// Resolves `target` on the DHT joined with `dht_opts`, fetching the feed index through
/// `swarm`. The relays already failed (the caller says how), so the author's transport key
/// comes from the attestation verified earlier without asking them again.
pub async fn resolve_on_dht(
    home: &Path,
    swarm: &Swarm,
    dht_opts: &DhtOptions,
    target: &Target,
    feed_opts: &ResolveOptions,
) -> Result<DhtResolution, DhtResolveError> {
    let key = cached_transport_key(home, &target.author)?;
    let dht = DhtNode::join(dht_opts)
        .await
        .map_err(DhtResolveError::Join)?;
    let name = target.coordinate.to_string();
    let (record, version, _) = get_name_record(&dht, &key.transport_key, &name)
        .await?
        .ok_or_else(|| DhtResolveError::NoName {
            target: target.to_string(),
        })?;
    let feed = read_feed(
        home,
        swarm,
        &dht,
        &target.author,
        &key,
        DEFAULT_FEED_SALT,
        feed_opts,
    )
    .await?;
    if !feed
        .events
        .iter()
        .any(|e| e.id.as_bytes()[..] == record.e[..])
    {
        return Err(DhtResolveError::NotInFeed {
            name,
            version: version.to_string(),
            event: hex::encode(&record.e),
        });
    }
    let candidates: Vec<Verified> = feed
        .events
        .iter()
        .filter(|e| is_candidate(target, e))
        .cloned()
        .collect();
    let resolution = choose(target, &candidates, &[])?;
    let peers = dht
        .first_peers(&resolution.release.infohash, Duration::from_secs(3))
        .await;
    Ok(DhtResolution { resolution, peers })
}
