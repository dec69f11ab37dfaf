//! Projects (kind 30078) and release manifests (kind 30079): typed values, their tags, and the
//! checks a reader runs before trusting one. docs/release.md is the public description.

use std::collections::BTreeSet;
use std::fmt;

use nostr::prelude::{Event, EventBuilder, EventId, Kind, PublicKey, Tag};
pub use semver::{Version, VersionReq};

use crate::event::first_tag_value;
use crate::package::PackageTags;
use crate::path::{check_payload_path, PathError};
use crate::zap_split::{
    check_zap_splits, read_zap_splits, zap_split_tags, ZapSplit, ZapSplitError,
};

/// Project definition (30078).
pub const PROJECT_KIND: u16 = 30078;
/// Release manifest (30079).
pub const RELEASE_KIND: u16 = 30079;

/// `<ns>.<slug>`: which project, inside which namespace (a game id, `npm`, `cargo`, `generic`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Coordinate {
    /// The namespace: a game id, `npm`, `cargo`, `generic`…
    pub ns: String,
    /// The project's slug within it.
    pub slug: String,
}

/// Why a project or release was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ManifestError {
    /// A namespace outside the allowed characters.
    #[error("bad namespace {0:?}: use 1–64 of a-z, 0-9 and '-', starting with a letter or digit")]
    Namespace(String),
    #[error(
        "bad slug {0:?}: use 1–128 of a-z, 0-9, '.', '_' and '-', starting with a letter or digit (in the npm namespace, the package's npm name, @scope/name when scoped)"
    )]
    /// A slug outside the allowed characters.
    Slug(String),
    /// Not `<namespace>.<slug>`.
    #[error("{0:?} is not <namespace>.<slug>")]
    Coordinate(String),
    /// Not a semantic version.
    #[error("bad version {0:?}: not semantic versioning (e.g. 1.2.3)")]
    Version(String),
    /// Another kind of event.
    #[error("event kind {found} is not a {expected}")]
    Kind {
        /// What was expected.
        expected: &'static str,
        /// What the event says.
        found: u16,
    },
    /// The id or signature does not verify.
    #[error("the event's signature or id is invalid: {0}")]
    Signature(String),
    /// A required tag is missing.
    #[error("the release has no {0:?} tag")]
    Missing(&'static str),
    /// A tag does not read.
    #[error("malformed {tag:?} tag: {why}")]
    Tag {
        /// The tag's name.
        tag: &'static str,
        /// What is wrong with it.
        why: String,
    },
    /// Two tags disagree (`d`, `a`, `version`).
    #[error("the release names {found} but its tags say {expected}")]
    Mismatch {
        /// What was expected.
        expected: String,
        /// What the event says.
        found: String,
    },
    /// A release of another namespace than the one asked for.
    #[error("the release belongs to namespace {found:?}, not {expected:?}")]
    ForeignNamespace {
        /// What was expected.
        expected: String,
        /// What the event says.
        found: String,
    },
    /// No file.
    #[error("the release lists no files")]
    NoFiles,
    /// The listed file sizes add up to more than 2^64 - 1 bytes.
    #[error("the release's file sizes add up to more than 2^64 - 1 bytes")]
    SizeOverflow,
    /// A path listed twice, or as a file and a folder.
    #[error("the release lists {0:?} twice, or as both a file and a folder")]
    DuplicatePath(String),
    /// A path that could write outside an install folder.
    #[error(transparent)]
    Path(#[from] PathError),
    /// A mirror that is not an http(s) URL.
    #[error("mirror {0:?} is not an http:// or https:// URL")]
    Mirror(String),
    /// A publisher-named seeder that is not `host:port`, or too many of them.
    #[error("seeder {0:?}: use host:port (an IPv4 address, [IPv6] or a DNS name, port 1–65535), at most 16 per release")]
    Seeder(String),
    /// `supersedes` names a version at or above this one.
    #[error("release {version} cannot supersede {previous}: versions must rise")]
    SupersedesNewer {
        /// This release's version.
        version: Version,
        /// The version it claims to supersede.
        previous: Version,
    },
    /// A dependency on its own project.
    #[error("a release cannot depend on its own project ({0})")]
    SelfDependency(String),
    /// A dependency named twice.
    #[error("the release names dependency {0} twice")]
    DuplicateDependency(String),
    /// A game version pattern that does not read.
    #[error("bad game version {0:?}: use 1–64 of 0-9, a-z, A-Z, '.', '-', '+', with '*' as a whole last part (1.6.*)")]
    GameVersion(String),
    /// Its zap splits do not read.
    #[error(transparent)]
    ZapSplit(#[from] ZapSplitError),
    /// A zap target that is not a lightning address or LNURL.
    #[error("bad zap target {0:?}: use a lightning address (name@host), an lnurl1… string or an lnurlp:// URL")]
    ZapTarget(String),
}

fn is_name_char(c: char, extra: &str) -> bool {
    c.is_ascii_lowercase() || c.is_ascii_digit() || extra.contains(c)
}

fn valid_name(s: &str, max: usize, extra: &str) -> bool {
    !s.is_empty()
        && s.len() <= max
        && s.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
        && s.chars().all(|c| is_name_char(c, extra))
}

/// A slug: 1–128 of a-z, 0-9, `.`, `_`, `-`, starting with a letter or digit. In the `npm`
/// namespace the slug is the package name as npm spells it, so it may also hold `~` and be
/// scoped: `@<scope>/<name>`.
fn valid_slug(ns: &str, slug: &str) -> bool {
    if ns != "npm" {
        return valid_name(slug, 128, "._-");
    }
    // npm's own rule for each part: lowercase URL-safe characters, not starting with `.` or `_`.
    let npm_part = |p: &str| {
        !p.is_empty() && !p.starts_with(['.', '_']) && p.chars().all(|c| is_name_char(c, "._-~"))
    };
    let bare = match slug.strip_prefix('@') {
        Some(scoped) => match scoped.split_once('/') {
            Some((scope, bare)) if npm_part(scope) => bare,
            _ => return false,
        },
        None => slug,
    };
    slug.len() <= 214 && npm_part(bare)
}

impl Coordinate {
    /// The slug as one file-name component: a scoped npm name loses its `@` and its `/` becomes
    /// `-`, as `npm pack` names archives.
    pub fn file_stem(&self) -> String {
        self.slug.trim_start_matches('@').replace('/', "-")
    }

    /// A coordinate, each part checked.
    pub fn new(ns: &str, slug: &str) -> Result<Coordinate, ManifestError> {
        if !valid_name(ns, 64, "-") {
            return Err(ManifestError::Namespace(ns.to_owned()));
        }
        if !valid_slug(ns, slug) {
            return Err(ManifestError::Slug(slug.to_owned()));
        }
        Ok(Coordinate {
            ns: ns.to_owned(),
            slug: slug.to_owned(),
        })
    }

    /// Parses `<ns>.<slug>`; the namespace has no dots, so the first dot splits.
    pub fn parse(s: &str) -> Result<Coordinate, ManifestError> {
        let (ns, slug) = s
            .split_once('.')
            .ok_or_else(|| ManifestError::Coordinate(s.to_owned()))?;
        Coordinate::new(ns, slug)
    }

    /// The project's `d` tag and the prefix of its releases' `d` tags.
    pub fn d(&self) -> String {
        format!("{}.{}", self.ns, self.slug)
    }

    /// The NIP-01 address of the project definition.
    pub fn project_address(&self, author: &PublicKey) -> String {
        format!("{PROJECT_KIND}:{}:{}", author.to_hex(), self.d())
    }
}

impl fmt::Display for Coordinate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.ns, self.slug)
    }
}

/// A semantic version, or why not.
pub fn parse_version(s: &str) -> Result<Version, ManifestError> {
    Version::parse(s).map_err(|_| ManifestError::Version(s.to_owned()))
}

/// A project definition (30078).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Project {
    /// Which project.
    pub coordinate: Coordinate,
    /// Its name for people.
    pub name: String,
    /// One line about it.
    pub summary: String,
    /// Markdown; the event's content.
    pub description: String,
}

impl Project {
    /// The unsigned event.
    pub fn to_builder(&self) -> EventBuilder {
        let mut tags = vec![
            tag(["d", &self.coordinate.d()]),
            tag(["name", &self.name]),
            tag(["alt", &format!("Seedstr project {}", self.coordinate)]),
        ];
        if !self.summary.is_empty() {
            tags.push(tag(["summary", &self.summary]));
        }
        EventBuilder::new(Kind::from(PROJECT_KIND), &self.description).tags(tags)
    }

    /// Reads a project event; the signature is checked.
    pub fn from_event(event: &Event) -> Result<Project, ManifestError> {
        let d = verified_d_tag(event, PROJECT_KIND, "project (30078)")?;
        Ok(Project {
            coordinate: Coordinate::parse(d)?,
            name: first_tag_value(event, "name")
                .unwrap_or_default()
                .to_owned(),
            summary: first_tag_value(event, "summary")
                .unwrap_or_default()
                .to_owned(),
            description: event.content.clone(),
        })
    }
}

/// One file of a release.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReleaseFile {
    /// Relative, `/`-separated; checked by [`check_payload_path`].
    pub path: String,
    /// SHA-256 of its bytes.
    pub sha256: [u8; 32],
    /// Its size in bytes.
    pub size: u64,
}

/// The release this one replaces: its version and the id of its event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Supersedes {
    /// The version it replaces.
    pub version: Version,
    /// The event that published that version.
    pub event_id: EventId,
}

/// A release manifest (30079).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Release {
    /// Which project.
    pub coordinate: Coordinate,
    /// This release's version.
    pub version: Version,
    /// Sorted by path, as in the torrent.
    pub files: Vec<ReleaseFile>,
    /// BitTorrent v1 info hash of the payload.
    pub infohash: [u8; 20],
    /// The torrent's `name`, shown by other clients.
    pub torrent_name: String,
    /// Trackers to announce to.
    pub trackers: Vec<String>,
    /// Web mirrors: a file is at `<mirror>/<path>`.
    pub mirrors: Vec<String>,
    /// BitTorrent peers the publisher names as its own seeders (`host:port`): installs ask
    /// them first, then the DHT's and trackers' peers.
    pub seeders: Vec<String>,
    /// The release it replaces, when there is one.
    pub supersedes: Option<Supersedes>,
    /// Markdown; the event's content.
    pub changelog: String,
    /// Other projects this one needs, may use, or cannot live with.
    pub dependencies: Vec<Dependency>,
    /// Versions of the host (a game, a runtime) the release works with; empty: any. See
    /// [`game_version_matches`].
    pub game_versions: Vec<String>,
    /// Where tips go (a lightning address or LNURL), for clients that send zaps.
    pub zap_target: Option<String>,
    /// Who shares its tips (NIP-57 Appendix G `zap` tags): mirrors and seeders the author names.
    pub zap_splits: Vec<ZapSplit>,
    /// Set when the payload is an npm or Cargo package (see [`PackageTags`]).
    pub package: Option<PackageTags>,
}

/// How a release relates to a project it names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DependencyKind {
    /// Installed with the release.
    Required,
    /// Shown, installed only when asked for.
    Optional,
    /// Must not be installed alongside a matching version.
    Incompatible,
}

impl DependencyKind {
    /// The word the `dependency` tag carries.
    pub fn as_str(self) -> &'static str {
        match self {
            DependencyKind::Required => "required",
            DependencyKind::Optional => "optional",
            DependencyKind::Incompatible => "incompatible",
        }
    }

    /// Reads the `dependency` tag's word.
    pub fn parse(s: &str) -> Option<DependencyKind> {
        Some(match s {
            "required" => DependencyKind::Required,
            "optional" => DependencyKind::Optional,
            "incompatible" => DependencyKind::Incompatible,
            _ => return None,
        })
    }
}

/// One `dependency` tag: a project (by author and coordinate), the versions meant, and how.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dependency {
    /// The depended-on project's author.
    pub author: PublicKey,
    /// The depended-on project.
    pub coordinate: Coordinate,
    /// The versions that satisfy it.
    pub range: VersionReq,
    /// How the release relates to it.
    pub kind: DependencyKind,
}

impl Dependency {
    /// The project address, `30078:<hex author>:<ns>.<slug>`.
    pub fn project_address(&self) -> String {
        self.coordinate.project_address(&self.author)
    }
}

/// Reads `30078:<hex author>:<ns>.<slug>`.
pub fn parse_project_address(s: &str) -> Result<(PublicKey, Coordinate), ManifestError> {
    let mut parts = s.splitn(3, ':');
    let (kind, author, d) = (parts.next(), parts.next(), parts.next());
    let wrong = || ManifestError::Coordinate(s.to_owned());
    if kind != Some("30078") {
        return Err(wrong());
    }
    let author = author
        .and_then(|a| PublicKey::from_hex(a).ok())
        .ok_or_else(wrong)?;
    Ok((author, Coordinate::parse(d.ok_or_else(wrong)?)?))
}

/// A game-version pattern: dot-separated parts, the last of which may be `*` (any rest).
pub fn check_game_version(pattern: &str) -> Result<(), ManifestError> {
    let bad = || ManifestError::GameVersion(pattern.to_owned());
    if pattern.is_empty() || pattern.len() > 64 {
        return Err(bad());
    }
    let parts: Vec<&str> = pattern.split('.').collect();
    for (i, p) in parts.iter().enumerate() {
        let star_ok = *p == "*" && i + 1 == parts.len();
        let plain = !p.is_empty()
            && p.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '+');
        if !(star_ok || plain) {
            return Err(bad());
        }
    }
    Ok(())
}

/// Whether `version` (say `1.6.1170.0`) is one `pattern` names: equal parts, or equal parts up
/// to a final `*`.
pub fn game_version_matches(pattern: &str, version: &str) -> bool {
    let (pat, ver): (Vec<&str>, Vec<&str>) =
        (pattern.split('.').collect(), version.split('.').collect());
    for (i, p) in pat.iter().enumerate() {
        if *p == "*" {
            return true;
        }
        if ver.get(i) != Some(p) {
            return false;
        }
    }
    pat.len() == ver.len()
}

fn check_zap_target(s: &str) -> Result<(), ManifestError> {
    let address = s.split_once('@').is_some_and(|(name, host)| {
        !name.is_empty() && host.contains('.') && !host.starts_with('.')
    });
    let ok = !s.chars().any(|c| c.is_whitespace() || c.is_control())
        && (address || s.to_ascii_lowercase().starts_with("lnurl1") || s.starts_with("lnurlp://"));
    if ok {
        Ok(())
    } else {
        Err(ManifestError::ZapTarget(s.to_owned()))
    }
}

fn tag<const N: usize>(parts: [&str; N]) -> Tag {
    Tag::parse(parts).expect("a tag with a name")
}

/// Checks kind, id and signature, and returns the `d` tag every Seedstr event needs.
fn verified_d_tag<'e>(
    event: &'e Event,
    kind: u16,
    what: &'static str,
) -> Result<&'e str, ManifestError> {
    if event.kind.as_u16() != kind {
        return Err(ManifestError::Kind {
            expected: what,
            found: event.kind.as_u16(),
        });
    }
    event
        .verify()
        .map_err(|e| ManifestError::Signature(e.to_string()))?;
    first_tag_value(event, "d").ok_or(ManifestError::Missing("d"))
}

fn bad(tag: &'static str, why: impl Into<String>) -> ManifestError {
    ManifestError::Tag {
        tag,
        why: why.into(),
    }
}

fn parse_hex<const N: usize>(s: &str, tag_name: &'static str) -> Result<[u8; N], ManifestError> {
    let mut out = [0u8; N];
    if s.len() != 2 * N || s.bytes().any(|b| b.is_ascii_uppercase()) {
        return Err(bad(
            tag_name,
            format!("{s:?} is not {} lowercase hex digits", 2 * N),
        ));
    }
    hex::decode_to_slice(s, &mut out)
        .map_err(|_| bad(tag_name, format!("{s:?} is not hexadecimal")))?;
    Ok(out)
}

/// The most publisher-named seeders a release may carry.
pub const MAX_SEEDERS: usize = 16;

/// Whether `s` is `host:port`: an IPv4 address, a bracketed IPv6 address or a DNS name (letters,
/// digits, `-` and `.`, at most 253 bytes), and a port from 1 to 65535.
pub fn is_seeder_address(s: &str) -> bool {
    let Some((host, port)) = s.rsplit_once(':') else {
        return false;
    };
    if !port.parse::<u16>().is_ok_and(|p| p != 0) || port.starts_with(['+', '0']) {
        return false;
    }
    if let Some(v6) = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        return v6.parse::<std::net::Ipv6Addr>().is_ok();
    }
    !host.is_empty()
        && host.len() <= 253
        && host.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
}

fn is_web_url(s: &str) -> bool {
    let rest = s
        .strip_prefix("https://")
        .or_else(|| s.strip_prefix("http://"));
    matches!(rest, Some(r) if !r.is_empty() && !r.starts_with('/') && !s.chars().any(|c| c.is_whitespace() || c.is_control()))
}

impl Release {
    /// `<ns>.<slug>@<version>`: the release's `d` tag.
    pub fn d(&self) -> String {
        format!("{}@{}", self.coordinate.d(), self.version)
    }

    /// The payload's size in bytes ([`Release::validate`] refuses sums that overflow; an
    /// unvalidated release saturates rather than wraps).
    pub fn total_size(&self) -> u64 {
        self.files
            .iter()
            .fold(0u64, |sum, f| sum.saturating_add(f.size))
    }

    /// The info hash, hex.
    pub fn infohash_hex(&self) -> String {
        hex::encode(self.infohash)
    }

    /// A magnet link to the payload, with its trackers.
    pub fn magnet(&self) -> String {
        let mut m = format!(
            "magnet:?xt=urn:btih:{}&dn={}",
            self.infohash_hex(),
            crate::uri::component(self.torrent_name.as_bytes())
        );
        for t in &self.trackers {
            m.push_str("&tr=");
            m.push_str(&crate::uri::component(t.as_bytes()));
        }
        m
    }

    /// Checks what a publisher controls: paths, duplicates, mirrors, version order.
    pub fn validate(&self) -> Result<(), ManifestError> {
        if self.files.is_empty() {
            return Err(ManifestError::NoFiles);
        }
        self.files
            .iter()
            .try_fold(0u64, |sum, f| sum.checked_add(f.size))
            .ok_or(ManifestError::SizeOverflow)?;
        let mut seen = BTreeSet::new();
        for f in &self.files {
            check_payload_path(&f.path)?;
            if !seen.insert(f.path.as_str()) {
                return Err(ManifestError::DuplicatePath(f.path.clone()));
            }
        }
        // A file "a" and a file "a/b" cannot both exist on disk.
        for f in &self.files {
            let mut prefix = f.path.as_str();
            while let Some((parent, _)) = prefix.rsplit_once('/') {
                if seen.contains(parent) {
                    return Err(ManifestError::DuplicatePath(parent.to_owned()));
                }
                prefix = parent;
            }
        }
        if let Some(m) = self.mirrors.iter().find(|m| !is_web_url(m)) {
            return Err(ManifestError::Mirror(m.clone()));
        }
        if let Some(bad) = self.seeders.iter().find(|a| !is_seeder_address(a)) {
            return Err(ManifestError::Seeder(bad.clone()));
        }
        if self.seeders.len() > MAX_SEEDERS {
            return Err(ManifestError::Seeder(format!(
                "{} seeders",
                self.seeders.len()
            )));
        }
        if let Some(s) = &self.supersedes {
            if s.version >= self.version {
                return Err(ManifestError::SupersedesNewer {
                    version: self.version.clone(),
                    previous: s.version.clone(),
                });
            }
        }
        let mut named = BTreeSet::new();
        for d in &self.dependencies {
            if d.coordinate == self.coordinate {
                return Err(ManifestError::SelfDependency(d.coordinate.to_string()));
            }
            if !named.insert(d.project_address()) {
                return Err(ManifestError::DuplicateDependency(d.coordinate.to_string()));
            }
        }
        for g in &self.game_versions {
            check_game_version(g)?;
        }
        if let Some(z) = &self.zap_target {
            check_zap_target(z)?;
        }
        check_zap_splits(&self.zap_splits)?;
        if let Some(p) = &self.package {
            p.validate(&self.coordinate, &self.files)?;
        }
        Ok(())
    }

    /// Whether the release works with host version `version`: it names none, or a pattern matches.
    pub fn supports_game_version(&self, version: &str) -> bool {
        self.game_versions.is_empty()
            || self
                .game_versions
                .iter()
                .any(|p| game_version_matches(p, version))
    }

    /// The unsigned event; `author` fills the project reference.
    pub fn to_builder(&self, author: &PublicKey) -> EventBuilder {
        let mut tags = vec![
            tag(["d", &self.d()]),
            tag(["a", &self.coordinate.project_address(author)]),
            tag(["version", &self.version.to_string()]),
            tag(["i", &self.infohash_hex()]),
            tag(["magnet", &self.magnet()]),
            tag(["distribution", &format!("torrent:{}", self.magnet())]),
            tag(["size", &self.total_size().to_string()]),
        ];
        if !self.torrent_name.is_empty() {
            tags.push(tag(["title", &self.torrent_name]));
        }
        for f in &self.files {
            tags.push(tag([
                "file",
                &f.path,
                &hex::encode(f.sha256),
                &f.size.to_string(),
            ]));
        }
        let hashes: BTreeSet<String> = self.files.iter().map(|f| hex::encode(f.sha256)).collect();
        tags.extend(hashes.iter().map(|h| tag(["x", h])));
        tags.extend(self.trackers.iter().map(|t| tag(["tracker", t])));
        tags.extend(self.mirrors.iter().map(|m| tag(["distribution", m])));
        tags.extend(self.seeders.iter().map(|a| tag(["seeder", a])));
        if let Some(s) = &self.supersedes {
            tags.push(tag([
                "supersedes",
                &s.version.to_string(),
                &s.event_id.to_hex(),
            ]));
        }
        for d in &self.dependencies {
            tags.push(tag([
                "dependency",
                &d.project_address(),
                &d.range.to_string(),
                d.kind.as_str(),
            ]));
        }
        tags.extend(self.game_versions.iter().map(|g| tag(["game-version", g])));
        if let Some(z) = &self.zap_target {
            tags.push(tag(["zap-target", z]));
        }
        tags.extend(zap_split_tags(&self.zap_splits));
        if let Some(p) = &self.package {
            tags.extend(p.tags().iter().map(|[n, v]| tag([n.as_str(), v.as_str()])));
        }
        tags.push(tag([
            "alt",
            &format!("Seedstr release {} {}", self.coordinate, self.version),
        ]));
        EventBuilder::new(Kind::from(RELEASE_KIND), &self.changelog).tags(tags)
    }

    /// Reads and checks a release event: signature, kind, that `d`, `a` and `version` agree with
    /// each other and with the author, and [`Release::validate`].
    pub fn from_event(event: &Event) -> Result<Release, ManifestError> {
        let (coordinate, version) = release_identity(event)?;
        let infohash = parse_hex::<20>(
            first_tag_value(event, "i").ok_or(ManifestError::Missing("i"))?,
            "i",
        )?;
        let mut release = Release {
            coordinate,
            version,
            files: Vec::new(),
            infohash,
            torrent_name: first_tag_value(event, "title")
                .unwrap_or_default()
                .to_owned(),
            trackers: Vec::new(),
            mirrors: Vec::new(),
            seeders: Vec::new(),
            supersedes: None,
            changelog: event.content.clone(),
            dependencies: Vec::new(),
            game_versions: Vec::new(),
            zap_target: None,
            zap_splits: read_zap_splits(event)?,
            package: None,
        };
        for t in event.tags.iter() {
            let s = t.as_slice();
            match s[0].as_str() {
                "file" => release.files.push(file_tag(s)?),
                "tracker" if s.len() >= 2 => release.trackers.push(s[1].clone()),
                "distribution" if s.len() >= 2 && !s[1].starts_with("torrent:") => {
                    release.mirrors.push(s[1].clone())
                }
                "seeder" if s.len() >= 2 => {
                    // Counted before it is kept: a release carrying thousands is refused
                    // without holding them all.
                    if release.seeders.len() == MAX_SEEDERS {
                        return Err(ManifestError::Seeder(format!(
                            "more than {MAX_SEEDERS} seeders"
                        )));
                    }
                    release.seeders.push(s[1].clone())
                }
                "supersedes" => release.supersedes = Some(supersedes_tag(s)?),
                "dependency" => release.dependencies.push(dependency_tag(s)?),
                "game-version" if s.len() >= 2 => release.game_versions.push(s[1].clone()),
                "zap-target" if s.len() >= 2 => release.zap_target = Some(s[1].clone()),
                _ => {}
            }
        }
        release.files.sort_by(|a, b| a.path.cmp(&b.path));
        let pairs: Vec<(&str, &[String])> = event
            .tags
            .iter()
            .map(|t| t.as_slice())
            .filter_map(|s| s.split_first().map(|(n, v)| (n.as_str(), v)))
            .collect();
        release.package = PackageTags::read(&pairs)?;
        release.validate()?;
        Ok(release)
    }

    /// Refuses a release from another namespace or project than the one asked for.
    pub fn expect_coordinate(&self, wanted: &Coordinate) -> Result<(), ManifestError> {
        if self.coordinate.ns != wanted.ns {
            return Err(ManifestError::ForeignNamespace {
                expected: wanted.ns.clone(),
                found: self.coordinate.ns.clone(),
            });
        }
        if self.coordinate != *wanted {
            return Err(ManifestError::Mismatch {
                expected: wanted.to_string(),
                found: self.coordinate.to_string(),
            });
        }
        Ok(())
    }
}

/// A release event's coordinate and version: its signature and kind checked, and its `d`,
/// `version` and `a` tags agreeing with each other and with its author.
fn release_identity(event: &Event) -> Result<(Coordinate, Version), ManifestError> {
    let d = verified_d_tag(event, RELEASE_KIND, "release (30079)")?;
    let (coord, version) = d
        .rsplit_once('@')
        .ok_or_else(|| bad("d", format!("{d:?} is not <ns>.<slug>@<version>")))?;
    let coordinate = Coordinate::parse(coord)?;
    let version = parse_version(version)?;
    let version_tag = first_tag_value(event, "version").ok_or(ManifestError::Missing("version"))?;
    if version_tag != version.to_string() {
        return Err(ManifestError::Mismatch {
            expected: format!("version {version}"),
            found: format!("version {version_tag}"),
        });
    }
    let project = first_tag_value(event, "a").ok_or(ManifestError::Missing("a"))?;
    let want = coordinate.project_address(&event.pubkey);
    if project != want {
        return Err(ManifestError::Mismatch {
            expected: want,
            found: project.to_owned(),
        });
    }
    Ok((coordinate, version))
}

/// `["file", path, sha256, size]`.
fn file_tag(s: &[String]) -> Result<ReleaseFile, ManifestError> {
    if s.len() < 4 {
        return Err(bad("file", "expected [\"file\", path, sha256, size]"));
    }
    let size = s[3].parse::<u64>().map_err(|_| {
        bad(
            "file",
            format!("size {:?} of {:?} is not a number", s[3], s[1]),
        )
    })?;
    Ok(ReleaseFile {
        path: s[1].clone(),
        sha256: parse_hex::<32>(&s[2], "file")?,
        size,
    })
}

/// `["supersedes", version, event id]`.
fn supersedes_tag(s: &[String]) -> Result<Supersedes, ManifestError> {
    if s.len() < 3 {
        return Err(bad(
            "supersedes",
            "expected [\"supersedes\", version, event id]",
        ));
    }
    let event_id = EventId::from_hex(&s[2])
        .map_err(|_| bad("supersedes", format!("{:?} is not an event id", s[2])))?;
    Ok(Supersedes {
        version: parse_version(&s[1])?,
        event_id,
    })
}

/// `["dependency", 30078:<author>:<ns>.<slug>, range, required|optional|incompatible]`.
fn dependency_tag(s: &[String]) -> Result<Dependency, ManifestError> {
    if s.len() < 4 {
        return Err(bad(
            "dependency",
            "expected [\"dependency\", 30078:<author>:<ns>.<slug>, range, required|optional|incompatible]",
        ));
    }
    let (author, coordinate) = parse_project_address(&s[1]).map_err(|_| {
        bad(
            "dependency",
            format!(
                "{:?} is not a project address 30078:<hex author>:<ns>.<slug>",
                s[1]
            ),
        )
    })?;
    let range = VersionReq::parse(&s[2])
        .map_err(|_| bad("dependency", format!("{:?} is not a version range", s[2])))?;
    let kind = DependencyKind::parse(&s[3]).ok_or_else(|| {
        bad(
            "dependency",
            format!("{:?} is not required, optional or incompatible", s[3]),
        )
    })?;
    Ok(Dependency {
        author,
        coordinate,
        range,
        kind,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use nostr::prelude::FinalizeEvent as _;
    use nostr::prelude::{Keys, Timestamp};

    fn sample() -> Release {
        Release {
            coordinate: Coordinate::new("skyrim-se", "better-trees").unwrap(),
            version: parse_version("1.2.0").unwrap(),
            files: vec![
                ReleaseFile {
                    path: "Data/trees.esp".into(),
                    sha256: [1; 32],
                    size: 10,
                },
                ReleaseFile {
                    path: "README.md".into(),
                    sha256: [2; 32],
                    size: 0,
                },
            ],
            infohash: [7; 20],
            torrent_name: "better-trees-1.2.0".into(),
            trackers: vec!["udp://127.0.0.1:6969/announce".into()],
            mirrors: vec!["https://mirror.example/bt/1.2.0".into()],
            seeders: Vec::new(),
            supersedes: Some(Supersedes {
                version: parse_version("1.1.0").unwrap(),
                event_id: EventId::from_byte_array([0; 32]),
            }),
            changelog: "Taller trees.".into(),
            dependencies: vec![Dependency {
                author: Keys::generate().public_key(),
                coordinate: Coordinate::new("skyrim-se", "skse").unwrap(),
                range: VersionReq::parse(">=2.0, <3").unwrap(),
                kind: DependencyKind::Required,
            }],
            game_versions: vec!["1.6.*".into(), "1.5.97".into()],
            zap_target: Some("author@example.org".into()),
            zap_splits: Vec::new(),
            package: None,
        }
    }

    fn sign(r: &Release, keys: &Keys) -> Event {
        r.to_builder(&keys.public_key()).finalize(keys).unwrap()
    }

    fn with_tags(keys: &Keys, tags: Vec<Tag>) -> Event {
        EventBuilder::new(Kind::from(RELEASE_KIND), "")
            .tags(tags)
            .finalize(keys)
            .unwrap()
    }

    #[test]
    fn a_release_round_trips_through_its_event() {
        let keys = Keys::generate();
        let r = sample();
        let back = Release::from_event(&sign(&r, &keys)).unwrap();
        assert_eq!(back, r);
        assert!(r.magnet().starts_with("magnet:?xt=urn:btih:0707"));
        assert!(r
            .magnet()
            .contains("&tr=udp%3A%2F%2F127.0.0.1%3A6969%2Fannounce"));
    }

    #[test]
    fn a_tampered_event_fails_its_signature() {
        let keys = Keys::generate();
        let mut e = sign(&sample(), &keys);
        e.content = "evil".into();
        assert!(matches!(
            Release::from_event(&e),
            Err(ManifestError::Signature(_))
        ));
    }

    #[test]
    fn a_project_reference_to_another_author_is_refused() {
        let keys = Keys::generate();
        let other = Keys::generate();
        let r = sample();
        let mut b = r.to_builder(&other.public_key());
        b = b.custom_created_at(Timestamp::from_secs(1));
        let e = b.finalize(&keys).unwrap();
        assert!(matches!(
            Release::from_event(&e),
            Err(ManifestError::Mismatch { .. })
        ));
    }

    #[test]
    fn escaping_paths_are_refused() {
        let keys = Keys::generate();
        for p in ["../../etc/cron.d/x", "/abs", "a/./b", "C:/x"] {
            let mut r = sample();
            r.files[0].path = p.into();
            let e = Release::from_event(&sign(&r, &keys)).unwrap_err();
            assert!(matches!(e, ManifestError::Path(_)), "{p}: {e}");
        }
    }

    #[test]
    fn duplicate_and_nested_paths_are_refused() {
        let mut r = sample();
        r.files[1].path = "Data/trees.esp".into();
        assert!(matches!(r.validate(), Err(ManifestError::DuplicatePath(_))));
        let mut r = sample();
        r.files[1].path = "Data/trees.esp/inner".into();
        assert!(matches!(r.validate(), Err(ManifestError::DuplicatePath(_))));
    }

    #[test]
    fn a_d_version_that_disagrees_with_the_version_tag_is_refused() {
        let keys = Keys::generate();
        let coordinate = Coordinate::new("generic", "x").unwrap();
        let e = with_tags(
            &keys,
            vec![
                tag(["d", "generic.x@1.0.0"]),
                tag(["a", &coordinate.project_address(&keys.public_key())]),
                tag(["version", "2.0.0"]),
                tag(["i", &"00".repeat(20)]),
                tag(["file", "a", &"00".repeat(32), "1"]),
            ],
        );
        assert!(matches!(
            Release::from_event(&e),
            Err(ManifestError::Mismatch { .. })
        ));
    }

    #[test]
    fn malformed_tags_name_the_tag() {
        let keys = Keys::generate();
        let coordinate = Coordinate::new("generic", "x").unwrap();
        let base = |file: Tag| {
            with_tags(
                &keys,
                vec![
                    tag(["d", "generic.x@1.0.0"]),
                    tag(["a", &coordinate.project_address(&keys.public_key())]),
                    tag(["version", "1.0.0"]),
                    tag(["i", &"00".repeat(20)]),
                    file,
                ],
            )
        };
        let e = Release::from_event(&base(tag(["file", "a", "zz", "1"]))).unwrap_err();
        assert!(e.to_string().contains("\"file\""), "{e}");
        let e = Release::from_event(&base(tag(["file", "a", &"00".repeat(32), "-1"]))).unwrap_err();
        assert!(e.to_string().contains("size"), "{e}");
    }

    #[test]
    fn sizes_that_add_up_past_u64_are_refused() {
        let mut r = sample();
        assert!(r.files.len() >= 2);
        r.files.iter_mut().for_each(|f| f.size = u64::MAX / 2 + 1);
        assert!(matches!(r.validate(), Err(ManifestError::SizeOverflow)));
        assert_eq!(r.total_size(), u64::MAX);
    }

    #[test]
    fn supersedes_must_point_down() {
        let mut r = sample();
        r.supersedes.as_mut().unwrap().version = parse_version("1.2.0").unwrap();
        assert!(matches!(
            r.validate(),
            Err(ManifestError::SupersedesNewer { .. })
        ));
    }

    #[test]
    fn mirrors_must_be_web_urls() {
        let mut r = sample();
        r.mirrors = vec!["file:///etc".into()];
        assert!(matches!(r.validate(), Err(ManifestError::Mirror(_))));
    }

    #[test]
    fn publisher_seeders_are_host_and_port_round_trip_and_are_capped() {
        for good in [
            "203.0.113.5:6881",
            "seed.example.org:51413",
            "[2001:db8::1]:6881",
            "localhost:1",
        ] {
            assert!(is_seeder_address(good), "{good}");
        }
        for bad in [
            "http://seed.example:6881",
            "seed.example",
            "seed.example:0",
            "seed.example:65536",
            "seed.example:+80",
            ":6881",
            "a b:6881",
            "-bad.example:6881",
            "[not-v6]:6881",
            "2001:db8::1:6881",
        ] {
            assert!(!is_seeder_address(bad), "{bad}");
        }
        let keys = Keys::generate();
        let mut r = sample();
        r.seeders = vec!["203.0.113.5:6881".into(), "seed.example.org:51413".into()];
        let e = r.to_builder(&keys.public_key()).finalize(&keys).unwrap();
        assert_eq!(Release::from_event(&e).unwrap().seeders, r.seeders);
        r.seeders = vec!["seed.example".into()];
        assert!(matches!(r.validate(), Err(ManifestError::Seeder(_))));
        r.seeders = (0..=MAX_SEEDERS)
            .map(|i| format!("10.0.0.{i}:6881"))
            .collect();
        assert!(matches!(r.validate(), Err(ManifestError::Seeder(_))));
        // Read from an event, the count is refused before the extra tags are kept.
        let crowded = r.to_builder(&keys.public_key()).finalize(&keys).unwrap();
        let why = Release::from_event(&crowded).unwrap_err().to_string();
        assert!(why.contains("more than 16 seeders"), "{why}");
    }

    proptest::proptest! {
        #![proptest_config(proptest::test_runner::Config {
            rng_seed: proptest::test_runner::RngSeed::Fixed(0x5eed),
            failure_persistence: None,
            ..Default::default()
        })]

        #[test]
        fn any_ipv4_and_port_is_a_seeder_and_nothing_with_a_space_or_scheme_is(
            ip in proptest::prelude::any::<[u8; 4]>(),
            port in 1u16..,
            noise in "[ -~]{0,40}",
        ) {
            let addr = format!("{}:{port}", std::net::Ipv4Addr::from(ip));
            proptest::prop_assert!(is_seeder_address(&addr));
            let spaced = format!("{noise} {addr}");
            proptest::prop_assert!(!is_seeder_address(&spaced));
            let schemed = format!("tcp://{addr}");
            proptest::prop_assert!(!is_seeder_address(&schemed));
        }
    }

    #[test]
    fn dependencies_name_their_fault() {
        let keys = Keys::generate();
        let mut r = sample();
        r.dependencies[0].coordinate = r.coordinate.clone();
        assert!(matches!(
            r.validate(),
            Err(ManifestError::SelfDependency(_))
        ));
        let mut r = sample();
        r.dependencies.push(r.dependencies[0].clone());
        assert!(matches!(
            r.validate(),
            Err(ManifestError::DuplicateDependency(_))
        ));
        let e = sign(&sample(), &keys);
        let mut tags: Vec<Tag> = e
            .tags
            .iter()
            .filter(|t| t.as_slice()[0] != "dependency")
            .cloned()
            .collect();
        tags.push(tag([
            "dependency",
            &format!("30078:{}:skyrim-se.skse", keys.public_key().to_hex()),
            "1.0",
            "sometimes",
        ]));
        let e = Release::from_event(&with_tags(&keys, tags)).unwrap_err();
        assert!(
            e.to_string().contains("\"sometimes\" is not required"),
            "{e}"
        );
    }

    #[test]
    fn game_versions_match_whole_parts() {
        assert!(game_version_matches("1.6.*", "1.6.1170.0"));
        assert!(game_version_matches("1.5.97", "1.5.97"));
        assert!(!game_version_matches("1.5.97", "1.5.97.1"));
        assert!(!game_version_matches("1.6.*", "1.61.0"));
        assert!(check_game_version("1.*.3").is_err());
        assert!(check_game_version("").is_err());
        let r = sample();
        assert!(r.supports_game_version("1.6.640.0"));
        assert!(!r.supports_game_version("1.4.2"));
    }

    #[test]
    fn zap_targets_are_checked() {
        let mut r = sample();
        r.zap_target = Some("not a target".into());
        assert!(matches!(r.validate(), Err(ManifestError::ZapTarget(_))));
        r.zap_target = Some("lnurlp://pay.example/x".into());
        r.validate().unwrap();
    }

    #[test]
    fn coordinates_parse_and_refuse_bad_names() {
        let c = Coordinate::parse("skyrim-se.better.trees").unwrap();
        assert_eq!(
            (c.ns.as_str(), c.slug.as_str()),
            ("skyrim-se", "better.trees")
        );
        assert!(Coordinate::parse("noslug").is_err());
        assert!(Coordinate::parse("Caps.x").is_err());
        assert!(Coordinate::parse("ns.-x").is_err());
        assert!(Coordinate::parse("ns.a/b").is_err());
        // npm's namespace takes npm names, scoped ones too; nowhere else.
        let scoped = Coordinate::parse("npm.@babel/core").unwrap();
        assert_eq!(scoped.slug, "@babel/core");
        assert_eq!(scoped.file_stem(), "babel-core");
        assert!(Coordinate::parse("npm.x~y").is_ok());
        assert!(Coordinate::parse("npm.-dash").is_ok());
        assert!(Coordinate::parse("npm._under").is_err());
        assert!(Coordinate::parse("generic.@babel/core").is_err());
        assert!(Coordinate::parse("npm.@babel").is_err());
        assert!(Coordinate::parse("npm.@/core").is_err());
        assert!(Coordinate::parse("npm.@babel/core/x").is_err());
        assert!(Coordinate::parse("npm.Babel").is_err());
    }

    #[test]
    fn foreign_namespaces_are_named() {
        let r = sample();
        let e = r
            .expect_coordinate(&Coordinate::new("fallout-4", "better-trees").unwrap())
            .unwrap_err();
        assert!(matches!(e, ManifestError::ForeignNamespace { .. }));
        assert!(e.to_string().contains("skyrim-se"));
    }
}
