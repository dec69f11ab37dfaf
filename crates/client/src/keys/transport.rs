//! Resolving an identity to the transport key its DHT records are signed with.
//!
//! The key comes from the identity's attestation (kind 10744) on relays. Every verified
//! attestation is kept in `$SEEDSTR_HOME/dht/attestations/<hex pubkey>.json`. The DHT is the
//! fallback when relays are down, so a reader that met an identity once can still resolve it
//! when no relay answers. The cached event is verified again on every use.

use std::path::{Path, PathBuf};
use std::time::Duration;

use nostr::prelude::*;
use seedstr_dht::transport::{verify_attestation, AttestationError, ATTESTATION_KIND};
use seedstr_proto::Verified;

use crate::files::durable::replace_file;
use crate::relays::{list_failures, query_all};

/// Where the transport key came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum KeySource {
    /// A relay returned a verifying attestation.
    Relays,
    /// No relay answered; an attestation verified earlier was used.
    Cache,
}

impl KeySource {
    /// The source's name, as serialized.
    pub fn as_str(self) -> &'static str {
        match self {
            KeySource::Relays => "relays",
            KeySource::Cache => "cache",
        }
    }
}

/// An author's transport key and where it came from.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ResolvedKey {
    /// The author's transport key.
    #[serde(with = "hex::serde")]
    pub transport_key: [u8; 32],
    /// The attestation event's id.
    pub attestation_id: String,
    /// Where it came from.
    pub source: KeySource,
}

/// Why an author's transport key is unknown.
#[derive(Debug, thiserror::Error)]
pub enum TransportKeyError {
    /// No relay holds an attestation.
    #[error("{author} has published no transport-key attestation (kind {ATTESTATION_KIND}) on the relays asked; they must run `seedstr dht attest` first")]
    NotAttested {
        /// The author's public key (hex).
        author: String,
    },
    /// Every attestation found was refused.
    #[error("every transport-key attestation for {author} was refused: {}", list(.refused))]
    Forged {
        /// The author's public key (hex).
        author: String,
        /// Each attestation refused, with the reason.
        refused: Vec<AttestationError>,
    },
    /// No relay answered and none was cached.
    #[error("no relay answered ({}) and no attestation for {author} was seen before", list_failures(.failed))]
    Unreachable {
        /// The author's public key (hex).
        author: String,
        /// Each relay asked, with its error.
        failed: Vec<(String, String)>,
    },
    /// Read without asking the relays (the caller already says why they could not be used).
    /// No relay was asked and none was cached.
    #[error("no attestation for {author} was seen before")]
    NeverMet {
        /// The author's public key (hex).
        author: String,
    },
    /// The cached attestation is unusable.
    #[error("the cached attestation {path} is unreadable or no longer verifies: {why}")]
    BadCache {
        /// The file concerned.
        path: PathBuf,
        /// Why, in words.
        why: String,
    },
    /// The cache could not be written.
    #[error("writing {path}: {source}")]
    Io {
        /// The file concerned.
        path: PathBuf,
        /// Where it came from.
        source: std::io::Error,
    },
}

fn list(refused: &[AttestationError]) -> String {
    refused
        .iter()
        .map(|e| e.to_string())
        .collect::<Vec<_>>()
        .join("; ")
}

fn cache_path(home: &Path, author: &PublicKey) -> PathBuf {
    home.join("dht")
        .join("attestations")
        .join(format!("{}.json", author.to_hex()))
}

/// The newest valid attestation of `author` on `relays`, or the cached one when no relay
/// answers.
pub async fn resolve_transport_key(
    home: &Path,
    author: &PublicKey,
    relays: &[String],
    timeout: Duration,
) -> Result<ResolvedKey, TransportKeyError> {
    let filter = serde_json::json!({"kinds": [ATTESTATION_KIND], "authors": [author.to_hex()]});
    let gathered = query_all(relays, &filter, timeout).await;
    if gathered.answered.is_empty() {
        return cached_transport_key(home, author).map_err(|e| match e {
            TransportKeyError::NeverMet { author } => TransportKeyError::Unreachable {
                author,
                failed: gathered.failed,
            },
            other => other,
        });
    }
    let mut events = gathered.events;
    events.sort_by_key(|e| std::cmp::Reverse(e.created_at));
    let mut refused = Vec::new();
    for event in &events {
        match verify_attestation(event, author) {
            Ok(key) => {
                remember(home, author, event)?;
                return Ok(ResolvedKey {
                    transport_key: key,
                    attestation_id: event.id.to_hex(),
                    source: KeySource::Relays,
                });
            }
            Err(e) => refused.push(e),
        }
    }
    let author_name = crate::resolve::target::npub(author);
    if refused.is_empty() {
        Err(TransportKeyError::NotAttested {
            author: author_name,
        })
    } else {
        Err(TransportKeyError::Forged {
            author: author_name,
            refused,
        })
    }
}

/// The transport key from the attestation verified earlier, for when the relays did not
/// answer; the caller names how they failed, once.
pub fn cached_transport_key(
    home: &Path,
    author: &PublicKey,
) -> Result<ResolvedKey, TransportKeyError> {
    from_cache(home, author)?.ok_or_else(|| TransportKeyError::NeverMet {
        author: crate::resolve::target::npub(author),
    })
}

fn remember(home: &Path, author: &PublicKey, event: &Event) -> Result<(), TransportKeyError> {
    let path = cache_path(home, author);
    let io = |source| TransportKeyError::Io {
        path: path.clone(),
        source,
    };
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(io)?;
    }
    replace_file(&path, event.as_json().as_bytes()).map_err(io)
}

fn from_cache(home: &Path, author: &PublicKey) -> Result<Option<ResolvedKey>, TransportKeyError> {
    let path = cache_path(home, author);
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => {
            return Err(TransportKeyError::BadCache {
                path,
                why: e.to_string(),
            })
        }
    };
    let bad = |why: String| TransportKeyError::BadCache {
        path: path.clone(),
        why,
    };
    let event = Event::from_json(&text).map_err(|e| bad(e.to_string()))?;
    let key = verify_attestation(&event, author).map_err(|e| bad(e.to_string()))?;
    Ok(Some(ResolvedKey {
        transport_key: key,
        attestation_id: event.id.to_hex(),
        source: KeySource::Cache,
    }))
}

/// Keeps, for each author among `events`, the newest attestation that verifies and is newer
/// than the one kept before; other events are ignored. Lookups that ask relays about many
/// authors call this with what they got, so the DHT can stand in for those relays later.
pub fn remember_attestations(home: &Path, events: &[Verified]) -> Result<(), TransportKeyError> {
    // Verify (the attestation's own checks), then select: the current one per author.
    let valid = events.iter().filter(|e| {
        e.kind.as_u16() == ATTESTATION_KIND && verify_attestation(e, &e.pubkey).is_ok()
    });
    for event in seedstr_proto::event::newest_by_address(valid) {
        let author = event.pubkey;
        let kept = std::fs::read_to_string(cache_path(home, &author))
            .ok()
            .and_then(|t| Event::from_json(t).ok());
        // Every package lookup passes the same attestations by: one already kept is not
        // written (and synced) again.
        if kept.is_none_or(|k| k.id != event.id && k.created_at <= event.created_at) {
            remember(home, &author, event)?;
        }
    }
    Ok(())
}

/// What [`attest`] did.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Attested {
    /// The event's id (hex).
    pub event_id: String,
    /// The transport key it names, hex.
    pub transport_key: String,
    /// What each relay answered.
    pub answers: Vec<crate::relays::PublishAnswer>,
}

/// Why an attestation or a record could not be had.
#[derive(Debug, thiserror::Error)]
pub enum RecordOpError {
    /// The attestation could not be signed.
    #[error(transparent)]
    Sign(#[from] seedstr_dht::transport::SignError),
    /// The attestation could not be kept.
    #[error(transparent)]
    Keep(#[from] crate::publish::own_events::OwnEventsError),
    /// No relay accepted the attestation.
    #[error("no relay accepted the attestation")]
    NotAccepted(Box<Attested>),
    /// The transport key is unknown.
    #[error(transparent)]
    Key(#[from] TransportKeyError),
    /// The DHT could not be joined.
    #[error("joining the Mainline DHT: {0}")]
    Dht(#[from] seedstr_dht::DhtError),
    /// No node holds the record.
    #[error("no DHT node holds a record for transport key {key} with salt {salt:?}")]
    NoRecord {
        /// The transport key (hex).
        key: String,
        /// The record's salt.
        salt: String,
    },
}

/// Signs the attestation naming `keys`' transport key (kind 10744), keeps it, and sends it to
/// `relays`; refused unless some relay accepted it.
pub async fn attest(
    home: &Path,
    keys: &nostr::prelude::Keys,
    relays: &crate::relays::RelaySet,
) -> Result<Attested, RecordOpError> {
    let event = seedstr_dht::transport::attestation(keys)?;
    crate::publish::own_events::OwnEvents::new(home).add(std::slice::from_ref(&event))?;
    let answers =
        crate::relays::publish_all(&relays.urls, std::slice::from_ref(&event), relays.timeout)
            .await;
    let attested = Attested {
        event_id: event.id.to_hex(),
        transport_key: hex::encode(
            seedstr_dht::transport::derive(keys.secret_key())
                .verifying_key()
                .to_bytes(),
        ),
        answers,
    };
    if !attested.answers.iter().any(|a| a.accepted) {
        return Err(RecordOpError::NotAccepted(Box::new(attested)));
    }
    Ok(attested)
}

/// Whose record to read: an identity (resolved through its attestation) or a transport key.
#[derive(Debug, Clone)]
pub enum RecordOwner {
    /// A Nostr identity.
    Identity(PublicKey),
    /// A transport key.
    TransportKey([u8; 32]),
}

/// A record read from the DHT.
#[derive(Debug, Clone, serde::Serialize)]
pub struct RecordRead {
    /// Hex.
    pub transport_key: String,
    /// How an identity's transport key was found; `None` for a transport key given.
    pub resolved: Option<ResolvedKey>,
    /// The record's salt.
    pub salt: String,
    /// The record's sequence number.
    pub seq: i64,
    /// The record's value (bencoded, hex).
    pub value_hex: String,
    /// The value, when it is UTF-8.
    pub value: Option<String>,
    /// The record's Ed25519 signature (hex).
    pub signature: String,
}

/// How long a `first` read waits for any answer.
const FIRST_ANSWER_WAIT: Duration = Duration::from_secs(60);

/// Reads `owner`'s record `salt`: the newest the DHT's nodes hold, or with `first` the first
/// valid answer. An identity's transport key comes from its attestation (relays, else the one
/// kept from before).
pub async fn read_record(
    home: &Path,
    owner: &RecordOwner,
    salt: &str,
    relays: &crate::relays::RelaySet,
    dht: &seedstr_dht::DhtOptions,
    first: bool,
) -> Result<RecordRead, RecordOpError> {
    let (key, resolved) = match owner {
        RecordOwner::TransportKey(key) => (*key, None),
        RecordOwner::Identity(author) => {
            let r = resolve_transport_key(home, author, &relays.urls, relays.timeout).await?;
            (r.transport_key, Some(r))
        }
    };
    let node = seedstr_dht::DhtNode::join(dht).await?;
    let item = if first {
        tokio::time::timeout(FIRST_ANSWER_WAIT, node.first(&key, salt.as_bytes()))
            .await
            .ok()
            .flatten()
    } else {
        node.most_recent(&key, salt.as_bytes()).await
    };
    let item = item.ok_or_else(|| RecordOpError::NoRecord {
        key: hex::encode(key),
        salt: salt.to_owned(),
    })?;
    Ok(RecordRead {
        transport_key: hex::encode(key),
        resolved,
        salt: salt.to_owned(),
        seq: item.seq(),
        value_hex: hex::encode(item.value()),
        value: std::str::from_utf8(item.value()).ok().map(str::to_owned),
        signature: hex::encode(item.signature()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use seedstr_dht::transport::attestation;

    #[test]
    fn only_attestations_that_verify_are_kept() {
        let home = tempfile::tempdir().unwrap();
        let (alice, bob) = (Keys::generate(), Keys::generate());
        let good = attestation(&alice).unwrap();
        // Alice's transport key and proof, re-signed by bob: the proof is not for bob's key.
        let forged = EventBuilder::new(Kind::from(ATTESTATION_KIND), "")
            .tags(good.tags.clone())
            .finalize(&bob)
            .unwrap();
        let note = EventBuilder::new(Kind::from(1), "hi")
            .finalize(&bob)
            .unwrap();
        remember_attestations(
            home.path(),
            &Verified::keep_valid([note, forged, good.clone()]),
        )
        .unwrap();
        let kept = cached_transport_key(home.path(), &alice.public_key()).unwrap();
        assert_eq!(kept.attestation_id, good.id.to_hex());
        assert_eq!(kept.source, KeySource::Cache);
        let why = cached_transport_key(home.path(), &bob.public_key()).unwrap_err();
        assert!(why.to_string().contains("no attestation"), "{why}");

        // The same attestation seen again leaves the kept file as it is.
        // (Its time is set to a known past moment; a rewrite would move it to now.)
        let file = cache_path(home.path(), &alice.public_key());
        let past = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_000_000_000);
        std::fs::File::options()
            .write(true)
            .open(&file)
            .unwrap()
            .set_modified(past)
            .unwrap();
        remember_attestations(home.path(), &Verified::keep_valid([good.clone()])).unwrap();
        assert_eq!(std::fs::metadata(&file).unwrap().modified().unwrap(), past);
    }
}
