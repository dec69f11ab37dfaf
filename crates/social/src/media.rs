//! Attachments: a file posted with a post is a torrent (SHA-256 of its bytes, BitTorrent info
//! hash) seeded by the author's node, with the node's HTTP address as its web seed, and
//! described in the post by a NIP-92 `imeta` tag (`url`, `m`, `x`, `size`, and NIP-94's `i`, the
//! info hash). Whoever views it fetches it from the swarm (the web seed when the swarm is slow),
//! checks its hash, and seeds it in turn, so a video or an album is served by everyone who
//! viewed it, not by one server.

use std::path::{Path, PathBuf};

use nostr::prelude::Tag;
use seedstr_client::publish::kept::stage_copy;
use seedstr_client::seeding::registry::{Origin, SeedEntry, SeedRegistry};
use seedstr_proto::path::check_payload_path;
use seedstr_proto::release::{parse_version, Coordinate, Release, ReleaseFile};

/// The largest attachment: 4 GiB.
pub const MAX_ATTACHMENT_BYTES: u64 = 4 << 30;
/// The most attachments one post carries.
pub const MAX_ATTACHMENTS: usize = 16;
/// The longest `imeta` entry read.
const MAX_IMETA_VALUE: usize = 2_048;

/// Why an attachment could not be made or read.
#[derive(Debug, thiserror::Error)]
pub enum MediaError {
    /// The file could not be read or kept.
    #[error("{0}")]
    Io(String),
    /// The file is too large.
    #[error("{path} has {size} bytes, over the {MAX_ATTACHMENT_BYTES}-byte cap for an attachment")]
    TooLarge {
        /// The file.
        path: String,
        /// Its size.
        size: u64,
    },
    /// Not a file.
    #[error("{0} is not a file: attach files one by one")]
    NotAFile(String),
    /// A tag that is not a usable `imeta`.
    #[error("imeta tag: {0}")]
    BadImeta(String),
}

/// An attachment as a post describes it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Attachment {
    /// Where its author's node serves it (`<node>/media/<infohash>/<name>`): the web seed.
    pub url: String,
    /// Its file name.
    pub name: String,
    /// Its media type.
    pub mime: String,
    /// SHA-256 of its bytes (hex).
    pub sha256: String,
    /// Its size in bytes.
    pub size: u64,
    /// The BitTorrent info hash of the one-file torrent (hex).
    pub infohash: String,
}

/// The media type a file name suggests.
pub fn mime_for(name: &str) -> &'static str {
    let ext = name.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase());
    match ext.as_deref() {
        Some("jpg" | "jpeg") => "image/jpeg",
        Some("png") => "image/png",
        Some("gif") => "image/gif",
        Some("webp") => "image/webp",
        Some("svg") => "image/svg+xml",
        Some("mp4") => "video/mp4",
        Some("webm") => "video/webm",
        Some("mp3") => "audio/mpeg",
        Some("ogg") => "audio/ogg",
        Some("pdf") => "application/pdf",
        Some("txt" | "md") => "text/plain",
        _ => "application/octet-stream",
    }
}

impl Attachment {
    /// The NIP-92 `imeta` tag describing it.
    pub fn imeta(&self) -> Tag {
        Tag::parse([
            "imeta".to_owned(),
            format!("url {}", self.url),
            format!("m {}", self.mime),
            format!("x {}", self.sha256),
            format!("size {}", self.size),
            format!("i {}", self.infohash),
        ])
        .expect("a valid tag")
    }

    /// Reads an `imeta` tag (its entries after the name), refusing what cannot be fetched and
    /// checked: an `http(s)` URL whose last segment is a safe file name, a 64-hex `x`, a
    /// 40-hex `i`, a `size` within the cap.
    pub fn from_imeta(entries: &[String]) -> Result<Attachment, MediaError> {
        let bad = |why: &str| MediaError::BadImeta(why.to_owned());
        let get = |key: &str| {
            entries.iter().find_map(|e| {
                let (k, v) = e.split_once(' ')?;
                (k == key && v.len() <= MAX_IMETA_VALUE).then(|| v.trim().to_owned())
            })
        };
        let url = get("url").ok_or_else(|| bad("no url"))?;
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            return Err(bad("the url is not http(s)"));
        }
        let name = url.rsplit('/').next().unwrap_or_default().to_owned();
        if name.is_empty() || check_payload_path(&name).is_err() {
            return Err(bad("the url does not end in a file name"));
        }
        let hex_of = |key: &str, len: usize| {
            get(key).filter(|v| v.len() == len && v.bytes().all(|b| b.is_ascii_hexdigit()))
        };
        let sha256 = hex_of("x", 64).ok_or_else(|| bad("no 64-hex x (SHA-256)"))?;
        let infohash = hex_of("i", 40).ok_or_else(|| bad("no 40-hex i (info hash)"))?;
        let size: u64 = get("size")
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| bad("no size"))?;
        if size > MAX_ATTACHMENT_BYTES {
            return Err(bad("the size is over the cap"));
        }
        Ok(Attachment {
            url,
            mime: get("m").unwrap_or_else(|| mime_for(&name).to_owned()),
            name,
            sha256: sha256.to_ascii_lowercase(),
            size,
            infohash: infohash.to_ascii_lowercase(),
        })
    }

    /// The attachments a post's tags describe (unusable ones named), at most
    /// [`MAX_ATTACHMENTS`].
    pub fn all_of(tags: &nostr::prelude::Tags) -> (Vec<Attachment>, Vec<String>) {
        let mut ok = Vec::new();
        let mut bad = Vec::new();
        for t in tags.iter() {
            if let [name, entries @ ..] = t.as_slice() {
                if name == "imeta" && ok.len() < MAX_ATTACHMENTS {
                    match Attachment::from_imeta(entries) {
                        Ok(a) => ok.push(a),
                        Err(e) => bad.push(e.to_string()),
                    }
                }
            }
        }
        (ok, bad)
    }

    /// The attachment as the fetching spine takes it: a one-file release whose web mirror is
    /// the author's node.
    pub fn as_release(&self) -> Release {
        let mut infohash = [0u8; 20];
        hex::decode_to_slice(&self.infohash, &mut infohash).expect("checked when read");
        let mut sha256 = [0u8; 32];
        hex::decode_to_slice(&self.sha256, &mut sha256).expect("checked when read");
        let mirror = self.url[..self.url.len() - self.name.len() - 1].to_owned();
        Release {
            coordinate: Coordinate::parse("media.attachment").expect("a valid coordinate"),
            version: parse_version("1.0.0").expect("a valid version"),
            files: vec![ReleaseFile {
                path: self.name.clone(),
                sha256,
                size: self.size,
            }],
            infohash,
            torrent_name: self.name.clone(),
            trackers: Vec::new(),
            mirrors: vec![mirror],
            seeders: Vec::new(),
            supersedes: None,
            changelog: String::new(),
            dependencies: Vec::new(),
            game_versions: Vec::new(),
            zap_target: None,
            zap_splits: Vec::new(),
            package: None,
        }
    }
}

/// Makes `file` an attachment served from `home` (the author's node seeds what that home's
/// registry names): a copy kept under its info hash, its torrent registered for seeding, its
/// web seed at `<node_http>/media/<infohash>/<name>`.
pub fn prepare(home: &Path, file: &Path, node_http: &str) -> Result<Attachment, MediaError> {
    let io = |e: &dyn std::fmt::Display| MediaError::Io(format!("{}: {e}", file.display()));
    let meta = std::fs::metadata(file).map_err(|e| io(&e))?;
    if !meta.is_file() {
        return Err(MediaError::NotAFile(file.display().to_string()));
    }
    if meta.len() > MAX_ATTACHMENT_BYTES {
        return Err(MediaError::TooLarge {
            path: file.display().to_string(),
            size: meta.len(),
        });
    }
    let name = file
        .file_name()
        .and_then(|n| n.to_str())
        .filter(|n| check_payload_path(n).is_ok() && !n.contains(' '))
        .ok_or_else(|| {
            MediaError::Io(format!(
                "{}: the file name must be plain (letters, digits, dots, dashes, no spaces)",
                file.display()
            ))
        })?
        .to_owned();
    let staged = stage_copy(home, file).map_err(|e| io(&e))?;
    let torrent = seedstr_swarm::create(&staged.payload, &name).map_err(|e| io(&e))?;
    let infohash = torrent.info_hash_hex();
    let (sha256, size) = seedstr_swarm::sha256_file(&staged.payload).map_err(|e| io(&e))?;
    let dir: PathBuf = staged.keep(home, &infohash).map_err(|e| io(&e))?;
    SeedRegistry::new(home)
        .add(
            &SeedEntry {
                infohash: infohash.clone(),
                release: format!("media:{name}"),
                dir,
                origin: Origin::Published,
                trackers: Vec::new(),
            },
            &torrent.to_file_bytes(&[]),
        )
        .map_err(|e| io(&e))?;
    Ok(Attachment {
        url: format!(
            "{}/media/{infohash}/{name}",
            node_http.trim_end_matches('/')
        ),
        mime: mime_for(&name).to_owned(),
        name,
        sha256: hex::encode(sha256),
        size,
        infohash,
    })
}

/// The attachments of post `id`: a public one on `relays`, or a friends-only or private one in
/// `keys`' inbox there.
pub async fn attachments_of(
    keys: &nostr::prelude::Keys,
    relays: &seedstr_client::relays::RelaySet,
    id: nostr::prelude::EventId,
) -> Result<Vec<Attachment>, MediaError> {
    let filter = serde_json::json!({"ids": [id.to_hex()]});
    let found = seedstr_client::relays::query_all(&relays.urls, &filter, relays.timeout).await;
    if let Some(e) = found.events.iter().find(|e| e.id == id) {
        return Ok(Attachment::all_of(&e.tags).0);
    }
    let opened = crate::inbox::open_inbox(keys, relays)
        .await
        .map_err(|e| MediaError::Io(e.to_string()))?;
    opened
        .sealed
        .iter()
        .find(|s| s.id() == id)
        .map(|s| Attachment::all_of(&s.rumor.tags).0)
        .ok_or_else(|| MediaError::Io(format!("no relay holds post {id}")))
}

/// Fetches `attachment` (the swarm first, then its web seed), checks its size and SHA-256,
/// keeps it under `<home>/media/<infohash>/` and registers it for seeding, so this viewer
/// serves it too. Returns the file.
pub async fn fetch(
    home: &Path,
    swarm: &seedstr_swarm::Swarm,
    attachment: &Attachment,
    opts: &seedstr_client::install::InstallOptions,
) -> Result<PathBuf, MediaError> {
    use seedstr_client::seeding::payload_store::PayloadStore;
    let store = PayloadStore::new(home, home.join("media"), Origin::Mirrored);
    let dir = store
        .fetch(swarm, &attachment.as_release(), opts)
        .await
        .map_err(|e| MediaError::Io(format!("{}: {e}", attachment.url)))?;
    Ok(dir.join(&attachment.name))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn sample() -> Attachment {
        Attachment {
            url: "http://127.0.0.1:7447/media/".to_owned() + &"ab".repeat(20) + "/cat.png",
            name: "cat.png".into(),
            mime: "image/png".into(),
            sha256: "cd".repeat(32),
            size: 1234,
            infohash: "ab".repeat(20),
        }
    }

    #[test]
    fn an_attachment_reads_back_from_its_imeta_and_bad_ones_are_named() {
        let a = sample();
        let tag = a.imeta();
        let entries = &tag.as_slice()[1..];
        assert_eq!(Attachment::from_imeta(entries).unwrap(), a);
        let release = a.as_release();
        assert_eq!(
            release.mirrors,
            [format!("http://127.0.0.1:7447/media/{}", "ab".repeat(20))]
        );
        assert_eq!(release.files[0].path, "cat.png");
        let without = |key: &str| -> Vec<String> {
            entries
                .iter()
                .filter(|e| !e.starts_with(key))
                .cloned()
                .collect()
        };
        for (key, why) in [
            ("url", "no url"),
            ("x ", "SHA-256"),
            ("i ", "info hash"),
            ("size", "size"),
        ] {
            let err = Attachment::from_imeta(&without(key))
                .unwrap_err()
                .to_string();
            assert!(err.contains(why), "{key}: {err}");
        }
        let mut traversal = without("url");
        traversal.push("url http://x.example/media/..".into());
        assert!(Attachment::from_imeta(&traversal).is_err());
        let mut ftp = without("url");
        ftp.push("url ftp://x.example/a.png".into());
        assert!(Attachment::from_imeta(&ftp).is_err());
    }

    proptest! {
        #![proptest_config(ProptestConfig {
            rng_seed: proptest::test_runner::RngSeed::Fixed(0x5eed),
            failure_persistence: None,
            cases: 128,
            ..ProptestConfig::default()
        })]

        /// Any entries read or are refused, never a panic; what reads makes a release whose
        /// mirror and file put the url back together.
        #[test]
        fn any_imeta_reads_or_is_refused(entries in proptest::collection::vec("\\PC{0,80}", 0..8)) {
            if let Ok(a) = Attachment::from_imeta(&entries) {
                let r = a.as_release();
                prop_assert_eq!(format!("{}/{}", r.mirrors[0], r.files[0].path), a.url);
            }
        }
    }
}
