//! Reading an identity's feed with no relay holding it: transport key, feed pointer from the
//! DHT, index torrent from the swarm (or a web seed), and each event checked against the Nostr
//! key.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use nostr::prelude::*;
use seedstr_dht::{DhtNode, FeedPointer, RecordError};
use seedstr_swarm::{create, Sources, Swarm};

use super::index::{parse, RefusedLine, FEED_FILE, MAX_FEED_BYTES};
use crate::http::{download_capped, http_client};
use crate::keys::transport::{resolve_transport_key, KeySource, ResolvedKey, TransportKeyError};
use crate::resolve::names::get_name_record;
use crate::seeding::dht_items::{ItemStore, ItemStoreError};
use crate::seeding::registry::{Origin, SeedEntry, SeedRegistry, SeedsError};
use seedstr_proto::release::Release;
use seedstr_proto::Verified;

/// Where to look for the author's attestation.
pub struct ResolveOptions {
    /// Relay URLs to ask.
    pub relays: Vec<String>,
    /// How long to wait for each relay.
    pub relay_timeout: Duration,
    /// Peers to ask for the index besides those the DHT names.
    pub peers: Vec<SocketAddr>,
    /// How long the swarm may go without delivering before web seeds are tried.
    pub stall: Duration,
}

/// An author's feed: the pointer read from the DHT and the verified events of its index.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ResolvedFeed {
    /// The author's public key (hex).
    pub author: String,
    /// The DHT record's salt.
    pub salt: String,
    /// The transport key that signs the pointer.
    #[serde(with = "hex::serde")]
    pub transport_key: [u8; 32],
    /// Where the transport key came from.
    pub key_source: KeySource,
    /// The DHT record's sequence number.
    pub seq: i64,
    /// The pointer's own timestamp (Unix seconds).
    pub updated_at: i64,
    /// The index torrent's info hash.
    pub infohash: String,
    /// Web seeds named by the pointer.
    pub web_seeds: Vec<String>,
    /// `swarm`, `cache` (fetched before) or the web seed's URL.
    pub fetched_from: String,
    /// The events in the index, each verified.
    pub events: Vec<Verified>,
    /// Index lines refused, with reasons.
    pub refused: Vec<RefusedLine>,
    /// The pointer as read from the DHT.
    #[serde(skip)]
    pub item: seedstr_dht::MutableItem,
}

/// Why a feed could not be read.
#[derive(Debug, thiserror::Error)]
pub enum FeedResolveError {
    /// The author's transport key is unknown.
    #[error(transparent)]
    Key(#[from] TransportKeyError),
    /// The DHT holds no pointer.
    #[error("the DHT holds no feed pointer for {author} under salt {salt:?}; has the author run `seedstr feed publish`?")]
    NoPointer {
        /// The author's public key (hex).
        author: String,
        /// The DHT record's salt.
        salt: String,
    },
    /// The pointer does not parse.
    #[error("the feed pointer of {author} is unreadable: {source}")]
    BadPointer {
        /// The author's public key (hex).
        author: String,
        /// The underlying error.
        source: RecordError,
    },
    /// Neither the swarm nor a web seed delivered the index.
    #[error("the feed index {infohash} could not be fetched: swarm: {swarm}{}", list_web(.web_seeds))]
    NotFetched {
        /// The index torrent's info hash.
        infohash: String,
        /// Why the swarm did not deliver.
        swarm: String,
        /// Web seeds named by the pointer.
        web_seeds: Vec<(String, String)>,
    },
    /// A local file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file concerned.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
}

fn list_web(attempts: &[(String, String)]) -> String {
    attempts
        .iter()
        .map(|(url, why)| format!("; web seed {url}: {why}"))
        .collect()
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> FeedResolveError + '_ {
    move |source| FeedResolveError::Io {
        path: path.to_owned(),
        source,
    }
}

/// Where fetched indexes are kept: `$SEEDSTR_HOME/feeds/fetched/<infohash>/`.
pub fn fetched_dir(home: &Path, infohash: &str) -> PathBuf {
    home.join("feeds").join("fetched").join(infohash)
}

/// The verified events of `author`'s feed `salt`.
pub async fn resolve_feed(
    home: &Path,
    swarm: &Swarm,
    dht: &DhtNode,
    author: &PublicKey,
    salt: &str,
    opts: &ResolveOptions,
) -> Result<ResolvedFeed, FeedResolveError> {
    let key = resolve_transport_key(home, author, &opts.relays, opts.relay_timeout).await?;
    read_feed(home, swarm, dht, author, &key, salt, opts).await
}

/// The verified events of the feed `salt` of `author`, whose transport key is already known.
pub async fn read_feed(
    home: &Path,
    swarm: &Swarm,
    dht: &DhtNode,
    author: &PublicKey,
    key: &ResolvedKey,
    salt: &str,
    opts: &ResolveOptions,
) -> Result<ResolvedFeed, FeedResolveError> {
    let author_name = crate::resolve::target::npub(author);
    let item = dht
        .most_recent(&key.transport_key, salt.as_bytes())
        .await
        .ok_or_else(|| FeedResolveError::NoPointer {
            author: author_name.clone(),
            salt: salt.to_owned(),
        })?;
    let pointer =
        FeedPointer::decode(item.value()).map_err(|source| FeedResolveError::BadPointer {
            author: author_name.clone(),
            source,
        })?;
    let infohash = hex::encode(&pointer.ih);
    let (file, fetched_from) = fetch_index(home, swarm, dht, &pointer, opts).await?;
    let bytes = std::fs::read(&file).map_err(io(&file))?;
    let (events, refused) = parse(&bytes, author);
    Ok(ResolvedFeed {
        author: author_name,
        salt: salt.to_owned(),
        transport_key: key.transport_key,
        key_source: key.source,
        seq: item.seq(),
        updated_at: pointer.ts,
        infohash,
        web_seeds: pointer.ws.clone(),
        fetched_from,
        events,
        refused,
        item,
    })
}

/// Whether `file` is the index whose torrent has `ih` (our torrents are deterministic, so the
/// file alone proves it).
fn is_index(file: &Path, ih: &[u8]) -> bool {
    file.is_file() && create(file, FEED_FILE).is_ok_and(|t| t.info_hash[..] == *ih)
}

async fn fetch_index(
    home: &Path,
    swarm: &Swarm,
    dht: &DhtNode,
    pointer: &FeedPointer,
    opts: &ResolveOptions,
) -> Result<(PathBuf, String), FeedResolveError> {
    let infohash = hex::encode(&pointer.ih);
    let dest = fetched_dir(home, &infohash);
    let file = dest.join(FEED_FILE);
    if is_index(&file, &pointer.ih) {
        return Ok((file, "cache".into()));
    }
    let parent = dest.parent().expect("fetched_dir has a parent");
    std::fs::create_dir_all(parent).map_err(io(parent))?;
    let staging = tempfile::Builder::new()
        .prefix(".staging-")
        .tempdir_in(parent)
        .map_err(io(parent))?;

    let swarm_error = from_swarm(swarm, dht, pointer, staging.path(), opts)
        .await
        .err();
    let mut web_seeds = Vec::new();
    let mut source = "swarm".to_owned();
    if swarm_error.is_some() {
        for url in &pointer.ws {
            let url = if url.ends_with('/') {
                format!("{url}{FEED_FILE}")
            } else {
                url.clone()
            };
            match from_web_seed(&url, staging.path(), &pointer.ih, opts.stall).await {
                Ok(()) => {
                    source = url;
                    break;
                }
                Err(why) => web_seeds.push((url, why)),
            }
        }
        if web_seeds.len() == pointer.ws.len() {
            return Err(FeedResolveError::NotFetched {
                infohash,
                swarm: swarm_error.unwrap_or_default(),
                web_seeds,
            });
        }
    }
    let staged = staging.keep();
    if dest.exists() {
        std::fs::remove_dir_all(&dest).map_err(io(&dest))?;
    }
    std::fs::rename(&staged, &dest).map_err(io(&dest))?;
    Ok((file, source))
}

async fn from_swarm(
    swarm: &Swarm,
    dht: &DhtNode,
    pointer: &FeedPointer,
    dir: &Path,
    opts: &ResolveOptions,
) -> Result<(), String> {
    let ih: [u8; 20] = pointer
        .ih
        .as_slice()
        .try_into()
        .expect("decode checks 20 bytes");
    // Peers announced on the DHT: the first answers, not the complete lookup.
    let mut peers = opts.peers.clone();
    peers.extend(dht.first_peers(&ih, Duration::from_secs(3)).await);
    let sources = Sources {
        peers,
        trackers: vec![],
    };
    let magnet = format!("magnet:?xt=urn:btih:{}", hex::encode(ih));
    let meta = tokio::time::timeout(opts.stall, swarm.metadata(&magnet, &sources))
        .await
        .map_err(|_| {
            format!(
                "no peer sent the index's metadata in {}s",
                opts.stall.as_secs()
            )
        })?
        .map_err(|e| format!("{e:#}"))?;
    let t = &meta.torrent;
    if t.files.len() != 1 || t.files[0].path != FEED_FILE || t.total_size() > MAX_FEED_BYTES {
        return Err(format!(
            "the torrent is not a feed index (one file {FEED_FILE} of at most {MAX_FEED_BYTES} bytes)"
        ));
    }
    let transfer = swarm
        .fetch(&meta.torrent_file, dir, &sources)
        .await
        .map_err(|e| format!("{e:#}"))?;
    let done = transfer.wait_or_stall(opts.stall, |_| {}).await;
    let _ = swarm.remove(&transfer).await;
    done.map_err(|e| e.to_string())
}

async fn from_web_seed(url: &str, dir: &Path, ih: &[u8], timeout: Duration) -> Result<(), String> {
    let file = dir.join(FEED_FILE);
    download_capped(&http_client(timeout), url, &file, MAX_FEED_BYTES, &|_| {})
        .await
        .map_err(|e| e.to_string())?;
    if !is_index(&file, ih) {
        let _ = std::fs::remove_file(&file);
        return Err(format!(
            "wrong bytes: they are not the index whose info hash is {}",
            hex::encode(ih)
        ));
    }
    Ok(())
}

/// What following an identity keeps.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Followed {
    /// The feed as resolved.
    pub feed: ResolvedFeed,
    /// Names whose records were kept for republishing.
    pub names: Vec<String>,
    /// Names of releases in the feed with no readable record on the DHT, and why.
    pub missing: Vec<(String, String)>,
}

/// Follows `author`'s feed: its pointer and the name records of the releases in it are kept for
/// republishing, and the fetched index is registered for seeding.
pub async fn follow_feed(
    home: &Path,
    swarm: &Swarm,
    dht: &DhtNode,
    author: &PublicKey,
    salt: &str,
    opts: &ResolveOptions,
) -> Result<Followed, FollowError> {
    let feed = resolve_feed(home, swarm, dht, author, salt, opts).await?;
    let hex_author = author.to_hex();
    let store = ItemStore::new(home);
    store.keep(&feed.item, &format!("feed:{salt}"), &hex_author, false)?;
    let dir = fetched_dir(home, &feed.infohash);
    let torrent = create(&dir.join(FEED_FILE), FEED_FILE)?;
    SeedRegistry::new(home).add(
        &SeedEntry {
            infohash: feed.infohash.clone(),
            release: format!("followed feed:{salt} of {}", feed.author),
            dir,
            origin: Origin::Followed,
            trackers: vec![],
        },
        &torrent.to_file_bytes(&[]),
    )?;
    let mut names: Vec<String> = feed
        .events
        .iter()
        .filter_map(|e| Release::from_event(e).ok())
        .map(|r| r.coordinate.to_string())
        .collect();
    names.sort();
    names.dedup();
    let mut kept = Vec::new();
    let mut missing = Vec::new();
    for name in names {
        match get_name_record(dht, &feed.transport_key, &name).await {
            Ok(Some((_, _, item))) => {
                store.keep(&item, &format!("name:{name}"), &hex_author, false)?;
                kept.push(name);
            }
            Ok(None) => missing.push((name, "no record on the DHT".into())),
            Err(e) => missing.push((name, e.to_string())),
        }
    }
    Ok(Followed {
        feed,
        names: kept,
        missing,
    })
}

/// Why following an author failed.
#[derive(Debug, thiserror::Error)]
pub enum FollowError {
    /// The feed could not be read.
    #[error(transparent)]
    Resolve(#[from] FeedResolveError),
    /// A record could not be kept.
    #[error(transparent)]
    Items(#[from] ItemStoreError),
    /// The index could not be registered for seeding.
    #[error(transparent)]
    Seeds(#[from] SeedsError),
    /// The fetched index could not be hashed.
    #[error("hashing the fetched index: {0}")]
    Torrent(#[from] seedstr_swarm::CreateError),
}
