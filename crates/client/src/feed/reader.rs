//! Reading several identities' feeds over the DHT, each at most once per reader: the fallback
//! for lookups that ask many authors (a package's registries and publishers) when no relay
//! answers. Transport keys come only from attestations verified earlier, since the relays that
//! would vouch for them are the ones that failed.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use futures_util::future::join_all;
use nostr::prelude::*;
use seedstr_dht::record::DEFAULT_FEED_SALT;
use seedstr_dht::{DhtError, DhtNode, DhtOptions};
use seedstr_proto::Verified;
use seedstr_swarm::Swarm;
use tokio::sync::{Mutex, OnceCell};

use super::resolve::{read_feed, FeedResolveError, ResolveOptions, ResolvedFeed};
use crate::keys::transport::cached_transport_key;

/// Reads authors' feeds through one DHT node and BitTorrent session.
pub struct FeedReader<'a> {
    home: PathBuf,
    swarm: &'a Swarm,
    dht: DhtNode,
    opts: ResolveOptions,
    feeds: Mutex<HashMap<PublicKey, Arc<OnceCell<FeedRead>>>>,
}

type FeedRead = Result<Arc<ResolvedFeed>, FeedReadError>;

/// Why an author's feed could not be read; shared by every ask for that author.
#[derive(Debug, Clone, thiserror::Error)]
#[error("reading the feed of {author}: {source}")]
pub struct FeedReadError {
    /// The author (npub).
    pub author: String,
    /// Why.
    pub source: Arc<FeedResolveError>,
}

impl<'a> FeedReader<'a> {
    /// Joins the DHT.
    pub async fn join(
        home: PathBuf,
        swarm: &'a Swarm,
        dht: &DhtOptions,
        opts: ResolveOptions,
    ) -> Result<FeedReader<'a>, DhtError> {
        Ok(FeedReader {
            home,
            swarm,
            dht: DhtNode::join(dht).await?,
            opts,
            feeds: Mutex::new(HashMap::new()),
        })
    }

    /// The DHT node the reader uses.
    pub fn dht(&self) -> &DhtNode {
        &self.dht
    }

    /// `author`'s feed (salt `feed`), read once; the error says why it could not be read.
    pub async fn feed(&self, author: &PublicKey) -> FeedRead {
        // One cell per author: concurrent asks for one author wait for the same read, while
        // different authors are read side by side.
        let cell = self.feeds.lock().await.entry(*author).or_default().clone();
        cell.get_or_init(|| async {
            let read = async {
                let key = cached_transport_key(&self.home, author)?;
                read_feed(
                    &self.home,
                    self.swarm,
                    &self.dht,
                    author,
                    &key,
                    DEFAULT_FEED_SALT,
                    &self.opts,
                )
                .await
            };
            read.await.map(Arc::new).map_err(|e| FeedReadError {
                author: crate::resolve::target::npub(author),
                source: Arc::new(e),
            })
        })
        .await
        .clone()
    }

    /// The events of `authors`' feeds that `filter` (a NIP-01 filter as JSON) matches, as a
    /// relay would have answered; and, per author whose feed could not be read, why.
    pub async fn query(
        &self,
        filter: &serde_json::Value,
        authors: &[PublicKey],
    ) -> (Vec<Verified>, Vec<(PublicKey, String)>) {
        let filter = match Filter::from_json(filter.to_string()) {
            Ok(f) => f,
            Err(e) => {
                let why = format!("filter {filter} does not parse: {e}");
                return (
                    Vec::new(),
                    authors.iter().map(|a| (*a, why.clone())).collect(),
                );
            }
        };
        let reads = join_all(
            authors
                .iter()
                .map(|a| async move { (*a, self.feed(a).await) }),
        )
        .await;
        let mut events = Vec::new();
        let mut failed = Vec::new();
        for (author, read) in reads {
            match read {
                Ok(feed) => events.extend(
                    feed.events
                        .iter()
                        .filter(|e| filter.match_event(e, MatchEventOptions::default()))
                        .cloned(),
                ),
                Err(why) => failed.push((author, why.to_string())),
            }
        }
        (events, failed)
    }

    /// Peers the DHT names for `info_hash`, waiting at most `wait` for the first.
    pub async fn peers(&self, info_hash: &[u8; 20], wait: Duration) -> Vec<SocketAddr> {
        self.dht.first_peers(info_hash, wait).await
    }
}
