//! Deterministic BitTorrent v1 torrents.
//!
//! We build torrents ourselves because librqbit's `create_torrent` is unfit (ARCHITECTURE.md):
//! it appends an extra piece hash when the size is a multiple of the piece length, and lists
//! files in directory-read order, so two machines get different info hashes. Here files are
//! sorted by path, the piece count is exactly ceil(size / piece length), and each file's SHA-256
//! is computed from the same read as the piece hashes (on a second thread, so the two hashes
//! share the cores rather than add up).

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{sync_channel, Receiver};
use std::sync::Arc;

use librqbit_bencode::{bencode_serialize_to_writer, ByteBuf, ByteBufOwned};
use librqbit_core::torrent_metainfo::{TorrentMetaV1File, TorrentMetaV1Info};
use seedstr_proto::path::check_payload_path;
use sha1w::{ISha1, ISha256};

/// The smallest piece a torrent of ours has (BitTorrent's block size).
pub const MIN_PIECE_LENGTH: u32 = 16 * 1024;
/// The largest piece a torrent of ours has.
pub const MAX_PIECE_LENGTH: u32 = 16 * 1024 * 1024;
/// Pieces aimed for: enough for swarming, few enough that the info dictionary stays small.
const TARGET_PIECES: u64 = 1500;
const READ_CHUNK: usize = 1 << 20;

/// One file of a payload, as hashed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PayloadFile {
    /// Relative to the payload root, `/`-separated.
    pub path: String,
    /// Its size in bytes.
    pub size: u64,
    /// Its SHA-256 (zeros for a file read from a v1 torrent, which does not carry it).
    pub sha256: [u8; 32],
}

/// A release lists each file as the torrent hashed it.
impl From<&PayloadFile> for seedstr_proto::release::ReleaseFile {
    fn from(f: &PayloadFile) -> Self {
        seedstr_proto::release::ReleaseFile {
            path: f.path.clone(),
            sha256: f.sha256,
            size: f.size,
        }
    }
}

/// A torrent we created (or parsed): its info dictionary and what it describes.
#[derive(Debug, Clone)]
pub struct Torrent {
    /// The torrent's name: the folder its files are under, or the one file.
    pub name: String,
    /// Bytes per piece.
    pub piece_length: u32,
    /// The files, sorted by path.
    pub files: Vec<PayloadFile>,
    /// The bencoded info dictionary; its SHA-1 is the info hash.
    pub info_bytes: Vec<u8>,
    /// The SHA-1 of the info dictionary.
    pub info_hash: [u8; 20],
}

/// Why a `.torrent` file was refused.
#[derive(Debug, thiserror::Error)]
pub enum TorrentFileError {
    /// The bytes are not a `.torrent` file.
    #[error("not a torrent file: {0}")]
    NotATorrent(String),
    /// A file name is not UTF-8.
    #[error("a file name in the torrent is not UTF-8")]
    NotUtf8,
    /// A file is declared a link.
    #[error("the torrent declares {0:?} as a link")]
    Link(String),
    /// A file is declared padding.
    #[error("the torrent declares {0:?} as padding")]
    Padding(String),
    /// A file path would write outside the payload.
    #[error("the torrent lists an {0}")]
    UnsafeFile(seedstr_proto::path::PathError),
    /// The single file's name would write outside the payload.
    #[error("the torrent is named by an {0}")]
    UnsafeName(seedstr_proto::path::PathError),
    /// The torrent lists no file.
    #[error("the torrent lists no files")]
    NoFiles,
}

/// Why a payload could not become a torrent.
#[derive(Debug, thiserror::Error)]
pub enum CreateError {
    /// The path does not exist.
    #[error("{0} does not exist")]
    NotFound(PathBuf),
    /// A symbolic link: payloads hold regular files only.
    #[error("{0} is a symbolic link; payloads hold regular files only")]
    Link(PathBuf),
    /// A device, socket or pipe.
    #[error("{0} is neither a regular file nor a folder")]
    Special(PathBuf),
    /// A file name that is not UTF-8.
    #[error("{0}: file names must be UTF-8")]
    NotUtf8(PathBuf),
    /// A path that could write outside an install folder.
    #[error("{0}: {1}")]
    UnsafePath(PathBuf, seedstr_proto::path::PathError),
    /// No bytes to publish.
    #[error("nothing to publish: {0} holds no bytes")]
    Empty(PathBuf),
    /// A file could not be read.
    #[error("reading {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The info dictionary could not be encoded.
    #[error("encoding the torrent: {0}")]
    Encode(String),
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> CreateError + '_ {
    move |source| CreateError::Io {
        path: path.to_owned(),
        source,
    }
}

/// The piece length for a payload of `total` bytes: a power of two near total/1500, within
/// 16 KiB..16 MiB.
pub fn piece_length_for(total: u64) -> u32 {
    let want = (total / TARGET_PIECES).max(1).next_power_of_two();
    want.clamp(MIN_PIECE_LENGTH as u64, MAX_PIECE_LENGTH as u64) as u32
}

/// Lists the payload's files, sorted by path: `root` itself when it is a file, else every file
/// below it. Links and special files are refused rather than followed or skipped.
pub fn list_payload(root: &Path) -> Result<Vec<(String, PathBuf)>, CreateError> {
    let meta = std::fs::symlink_metadata(root).map_err(|_| CreateError::NotFound(root.into()))?;
    if meta.file_type().is_symlink() {
        return Err(CreateError::Link(root.into()));
    }
    if meta.is_file() {
        let name = root
            .file_name()
            .and_then(|n| n.to_str())
            .ok_or_else(|| CreateError::NotUtf8(root.into()))?;
        return Ok(vec![(name.to_owned(), root.to_owned())]);
    }
    if !meta.is_dir() {
        return Err(CreateError::Special(root.into()));
    }
    let mut out = Vec::new();
    for entry in walkdir::WalkDir::new(root).follow_links(false) {
        let entry = entry.map_err(|e| CreateError::Io {
            path: e.path().unwrap_or(root).to_owned(),
            source: e.into(),
        })?;
        let ft = entry.file_type();
        if ft.is_dir() {
            continue;
        }
        if ft.is_symlink() {
            return Err(CreateError::Link(entry.path().into()));
        }
        if !ft.is_file() {
            return Err(CreateError::Special(entry.path().into()));
        }
        let rel = entry
            .path()
            .strip_prefix(root)
            .expect("walkdir stays below its root");
        let mut parts = Vec::new();
        for c in rel.components() {
            let s = c
                .as_os_str()
                .to_str()
                .ok_or_else(|| CreateError::NotUtf8(entry.path().into()))?;
            parts.push(s);
        }
        let rel = parts.join("/");
        check_payload_path(&rel).map_err(|e| CreateError::UnsafePath(entry.path().into(), e))?;
        out.push((rel, entry.path().to_owned()));
    }
    // Byte order of the '/'-joined path would put "a-b" before "a/b"; compare per component so
    // the order is the tree's order on every platform.
    out.sort_by(|a, b| a.0.split('/').cmp(b.0.split('/')));
    Ok(out)
}

enum Chunk {
    Data(Arc<Vec<u8>>),
    FileEnd,
}

/// SHA-1 of every `piece_length` bytes across file boundaries (v1 pieces span files).
fn hash_pieces(rx: Receiver<Chunk>, piece_length: u32) -> Vec<u8> {
    let piece_length = piece_length as usize;
    let mut pieces = Vec::new();
    let mut hasher = sha1w::Sha1::new();
    let mut filled = 0usize;
    for chunk in rx {
        let Chunk::Data(data) = chunk else { continue };
        let mut rest = &data[..];
        while !rest.is_empty() {
            let take = rest.len().min(piece_length - filled);
            hasher.update(&rest[..take]);
            filled += take;
            rest = &rest[take..];
            if filled == piece_length {
                let done = std::mem::replace(&mut hasher, sha1w::Sha1::new());
                pieces.extend_from_slice(&done.finish());
                filled = 0;
            }
        }
    }
    // The last piece is short; a payload that ends on a piece boundary has no extra hash.
    if filled > 0 {
        pieces.extend_from_slice(&hasher.finish());
    }
    pieces
}

/// SHA-256 of each file, in the order the files are read.
fn hash_files(rx: Receiver<Chunk>) -> Vec<[u8; 32]> {
    let mut out = Vec::new();
    let mut hasher = sha1w::Sha256::new();
    for chunk in rx {
        match chunk {
            Chunk::Data(data) => hasher.update(&data),
            Chunk::FileEnd => {
                let done = std::mem::replace(&mut hasher, sha1w::Sha256::new());
                out.push(done.finish());
            }
        }
    }
    out
}

/// SHA-256 and length of one file, read in large chunks; what verifiers compare with a manifest.
pub fn sha256_file(path: &Path) -> std::io::Result<([u8; 32], u64)> {
    use std::io::Read;
    let mut file = std::fs::File::open(path)?;
    let mut hasher = sha1w::Sha256::new();
    let mut buf = vec![0u8; READ_CHUNK];
    let mut len = 0u64;
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            return Ok((hasher.finish(), len));
        }
        hasher.update(&buf[..n]);
        len += n as u64;
    }
}

/// Creates the torrent of the payload at `root` (a file or a folder), named `name`.
pub fn create(root: &Path, name: &str) -> Result<Torrent, CreateError> {
    let listed = list_payload(root)?;
    let mut total = 0u64;
    for (_, path) in &listed {
        total += std::fs::metadata(path).map_err(io_err(path))?.len();
    }
    if total == 0 {
        return Err(CreateError::Empty(root.into()));
    }
    let piece_length = piece_length_for(total);

    let (sha1_tx, sha1_rx) = sync_channel::<Chunk>(8);
    let (sha256_tx, sha256_rx) = sync_channel::<Chunk>(8);
    let (sizes, pieces, sha256s) = std::thread::scope(|s| {
        let pieces = s.spawn(move || hash_pieces(sha1_rx, piece_length));
        let sha256s = s.spawn(move || hash_files(sha256_rx));
        let sizes = (|| {
            let mut sizes = Vec::with_capacity(listed.len());
            for (_, path) in &listed {
                let mut file = File::open(path).map_err(io_err(path))?;
                let mut size = 0u64;
                loop {
                    let mut buf = vec![0u8; READ_CHUNK];
                    let n = read_full(&mut file, &mut buf).map_err(io_err(path))?;
                    if n == 0 {
                        break;
                    }
                    buf.truncate(n);
                    size += n as u64;
                    let data = Arc::new(buf);
                    // A hashing thread only stops early by panicking, which join reports.
                    let _ = sha1_tx.send(Chunk::Data(data.clone()));
                    let _ = sha256_tx.send(Chunk::Data(data));
                }
                let _ = sha256_tx.send(Chunk::FileEnd);
                sizes.push(size);
            }
            Ok::<_, CreateError>(sizes)
        })();
        drop(sha1_tx);
        drop(sha256_tx);
        let pieces = pieces.join().expect("piece hashing panicked");
        let sha256s = sha256s.join().expect("file hashing panicked");
        (sizes, pieces, sha256s)
    });
    let sizes = sizes?;

    let files: Vec<PayloadFile> = listed
        .into_iter()
        .zip(sizes)
        .zip(sha256s)
        .map(|(((path, _), size), sha256)| PayloadFile { path, size, sha256 })
        .collect();
    let read_total: u64 = files.iter().map(|f| f.size).sum();
    if read_total == 0 {
        return Err(CreateError::Empty(root.into()));
    }
    debug_assert_eq!(
        pieces.len() as u64 / 20,
        read_total.div_ceil(piece_length as u64)
    );
    let info_bytes = encode_info(name, piece_length, &pieces, &files)?;
    Ok(Torrent {
        name: name.to_owned(),
        piece_length,
        info_hash: sha1_of(&info_bytes),
        info_bytes,
        files,
    })
}

fn read_full(file: &mut File, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match file.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

fn sha1_of(bytes: &[u8]) -> [u8; 20] {
    let mut h = sha1w::Sha1::new();
    h.update(bytes);
    h.finish()
}

/// Always the multi-file form, even for one file, so every payload installs the same way:
/// files sit at their paths below the output folder.
fn encode_info(
    name: &str,
    piece_length: u32,
    pieces: &[u8],
    files: &[PayloadFile],
) -> Result<Vec<u8>, CreateError> {
    let info = TorrentMetaV1Info::<ByteBufOwned> {
        name: Some(name.as_bytes().into()),
        pieces: pieces.into(),
        piece_length,
        length: None,
        attr: None,
        sha1: None,
        symlink_path: None,
        md5sum: None,
        files: Some(
            files
                .iter()
                .map(|f| TorrentMetaV1File {
                    length: f.size,
                    path: f.path.split('/').map(|c| c.as_bytes().into()).collect(),
                    attr: None,
                    sha1: None,
                    symlink_path: None,
                })
                .collect(),
        ),
        private: false,
    };
    let mut out = Vec::new();
    bencode_serialize_to_writer(&info, &mut out).map_err(|e| CreateError::Encode(e.to_string()))?;
    Ok(out)
}

impl Torrent {
    /// The info hash, hex.
    pub fn info_hash_hex(&self) -> String {
        hex::encode(self.info_hash)
    }

    /// The payload's size in bytes.
    pub fn total_size(&self) -> u64 {
        self.files.iter().map(|f| f.size).sum()
    }

    /// How many pieces the payload has.
    pub fn piece_count(&self) -> u64 {
        self.total_size().div_ceil(self.piece_length as u64)
    }

    /// The same payload under another name (a new info hash; the pieces are unchanged).
    pub fn renamed(&self, name: &str) -> Result<Torrent, CreateError> {
        let info: TorrentMetaV1Info<ByteBuf<'_>> =
            librqbit_bencode::from_bytes(&self.info_bytes)
                .map_err(|e| CreateError::Encode(e.to_string()))?;
        let info_bytes = encode_info(name, self.piece_length, info.pieces.as_ref(), &self.files)?;
        Ok(Torrent {
            name: name.to_owned(),
            info_hash: sha1_of(&info_bytes),
            info_bytes,
            ..self.clone()
        })
    }

    /// A complete `.torrent` file; trackers go in `announce` and `announce-list`.
    pub fn to_file_bytes(&self, trackers: &[String]) -> Vec<u8> {
        #[derive(serde::Serialize)]
        struct File<'a> {
            #[serde(skip_serializing_if = "Option::is_none")]
            announce: Option<&'a str>,
            #[serde(rename = "announce-list", skip_serializing_if = "Vec::is_empty")]
            announce_list: Vec<Vec<&'a str>>,
            #[serde(rename = "created by")]
            created_by: &'a str,
            info: librqbit_bencode::raw_value::RawValue<&'a [u8]>,
        }
        let file = File {
            announce: trackers.first().map(String::as_str),
            announce_list: trackers.iter().map(|t| vec![t.as_str()]).collect(),
            created_by: "seedstr",
            info: librqbit_bencode::raw_value::RawValue(&self.info_bytes),
        };
        let mut out = Vec::new();
        bencode_serialize_to_writer(&file, &mut out).expect("writing to a Vec cannot fail");
        out
    }

    /// The tracker addresses a `.torrent` file names (`announce` and `announce-list`); none
    /// when it does not parse.
    pub fn announce_urls(bytes: &[u8]) -> Vec<String> {
        if crate::bencode_check::check(bytes).is_err() {
            return Vec::new();
        }
        let parsed =
            std::panic::catch_unwind(|| librqbit_core::torrent_metainfo::torrent_from_bytes(bytes));
        match parsed {
            Ok(Ok(t)) => t
                .iter_announce()
                .filter_map(|u| std::str::from_utf8(u.as_ref()).ok().map(str::to_owned))
                .collect(),
            _ => Vec::new(),
        }
    }

    /// Parses a `.torrent` file we (or anyone) wrote; per-file SHA-256 is not in v1 torrents, so
    /// those come back as zeros.
    pub fn from_file_bytes(bytes: &[u8]) -> Result<Torrent, TorrentFileError> {
        crate::bencode_check::check(bytes).map_err(TorrentFileError::NotATorrent)?;
        // librqbit reads integers into their fields' types (a u32 piece length) with unchecked
        // multiplies: past the check above, an overflow can still panic where overflow checks
        // are on (debug builds), and wraps into an error in release. Either way, not a torrent.
        let parsed =
            std::panic::catch_unwind(|| librqbit_core::torrent_metainfo::torrent_from_bytes(bytes))
                .map_err(|_| {
                    TorrentFileError::NotATorrent(
                        "a number in it is too large for its field".into(),
                    )
                })?;
        let meta = parsed.map_err(|e| TorrentFileError::NotATorrent(e.to_string()))?;
        let info = &meta.info.data;
        let name = info
            .name
            .as_ref()
            .map(|n| String::from_utf8_lossy(n.as_ref()).into_owned())
            .unwrap_or_default();
        let files = match (&info.files, info.length) {
            (Some(files), _) => files
                .iter()
                .map(|f| {
                    let mut parts = Vec::with_capacity(f.path.len());
                    for c in &f.path {
                        parts.push(
                            std::str::from_utf8(c.as_ref())
                                .map_err(|_| TorrentFileError::NotUtf8)?,
                        );
                    }
                    let path = parts.join("/");
                    // Links and padding files would write outside or beside the payload.
                    let attr = f.attr.as_ref().map(|a| a.as_ref()).unwrap_or_default();
                    if attr.contains(&b'l') || f.symlink_path.is_some() {
                        return Err(TorrentFileError::Link(path));
                    }
                    if attr.contains(&b'p') {
                        return Err(TorrentFileError::Padding(path));
                    }
                    check_payload_path(&path).map_err(TorrentFileError::UnsafeFile)?;
                    Ok(PayloadFile {
                        path,
                        size: f.length,
                        sha256: [0; 32],
                    })
                })
                .collect::<Result<Vec<_>, TorrentFileError>>()?,
            (None, Some(length)) => {
                check_payload_path(&name).map_err(TorrentFileError::UnsafeName)?;
                vec![PayloadFile {
                    path: name.clone(),
                    size: length,
                    sha256: [0; 32],
                }]
            }
            (None, None) => return Err(TorrentFileError::NoFiles),
        };
        Ok(Torrent {
            name,
            piece_length: info.piece_length,
            files,
            info_bytes: meta.info.raw_bytes.as_ref().to_vec(),
            info_hash: meta.info_hash.0,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, rel: &str, bytes: &[u8]) {
        let p = dir.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, bytes).unwrap();
    }

    fn pattern(n: usize, seed: u8) -> Vec<u8> {
        (0..n)
            .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
            .collect()
    }

    #[test]
    fn piece_lengths_are_powers_of_two_in_bounds() {
        assert_eq!(piece_length_for(1), MIN_PIECE_LENGTH);
        assert_eq!(piece_length_for(1 << 30), 1 << 20);
        assert_eq!(piece_length_for(1 << 40), MAX_PIECE_LENGTH);
        for size in [1u64, 5_000_000, 123_456_789, 9 << 30] {
            assert!(piece_length_for(size).is_power_of_two());
        }
    }

    #[test]
    fn an_exact_multiple_of_the_piece_length_has_no_extra_hash() {
        let dir = tempfile::tempdir().unwrap();
        let len = 4 * MIN_PIECE_LENGTH as usize;
        write(dir.path(), "a.bin", &pattern(len, 1));
        let t = create(dir.path(), "x").unwrap();
        assert_eq!(t.piece_length, MIN_PIECE_LENGTH);
        let file = t.to_file_bytes(&[]);
        let parsed = librqbit_core::torrent_metainfo::torrent_from_bytes(&file).unwrap();
        assert_eq!(parsed.info.data.pieces.as_ref().len(), 4 * 20);
        assert_eq!(parsed.info_hash.0, t.info_hash);
    }

    #[test]
    fn files_are_sorted_and_hashed_in_one_read() {
        let dir = tempfile::tempdir().unwrap();
        // Written out of order; a piece spans the file boundary.
        write(dir.path(), "z/last.txt", &pattern(20_000, 3));
        write(dir.path(), "a-b.txt", &pattern(10, 4));
        write(dir.path(), "a/b.txt", &pattern(30_000, 5));
        write(dir.path(), "empty", b"");
        let t = create(dir.path(), "payload").unwrap();
        let paths: Vec<_> = t.files.iter().map(|f| f.path.as_str()).collect();
        assert_eq!(paths, ["a/b.txt", "a-b.txt", "empty", "z/last.txt"]);
        for f in &t.files {
            let bytes = std::fs::read(dir.path().join(&f.path)).unwrap();
            let mut h = sha1w::Sha256::new();
            h.update(&bytes);
            assert_eq!(f.sha256, h.finish(), "{}", f.path);
            assert_eq!(f.size, bytes.len() as u64);
        }
        assert_eq!(t.piece_count(), 50_010u64.div_ceil(MIN_PIECE_LENGTH as u64));
        // The pieces match the concatenation of the sorted files.
        let mut all = Vec::new();
        for f in &t.files {
            all.extend(std::fs::read(dir.path().join(&f.path)).unwrap());
        }
        let file = t.to_file_bytes(&[]);
        let parsed = librqbit_core::torrent_metainfo::torrent_from_bytes(&file).unwrap();
        let pieces = parsed.info.data.pieces.as_ref();
        for (i, chunk) in all.chunks(MIN_PIECE_LENGTH as usize).enumerate() {
            assert_eq!(&pieces[i * 20..i * 20 + 20], &sha1_of(chunk), "piece {i}");
        }
    }

    #[test]
    fn the_same_tree_gives_the_same_info_hash() {
        let a = tempfile::tempdir().unwrap();
        let b = tempfile::tempdir().unwrap();
        for (rel, seed) in [("m/1", 1), ("k", 2), ("m/0", 3)] {
            write(a.path(), rel, &pattern(5000, seed));
        }
        for (rel, seed) in [("m/0", 3), ("k", 2), ("m/1", 1)] {
            write(b.path(), rel, &pattern(5000, seed));
        }
        assert_eq!(
            create(a.path(), "n").unwrap().info_hash,
            create(b.path(), "n").unwrap().info_hash
        );
    }

    #[test]
    fn a_single_file_is_a_one_entry_payload() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "mod.zip", &pattern(100, 9));
        let t = create(&dir.path().join("mod.zip"), "mod-1.0.0").unwrap();
        assert_eq!(t.files.len(), 1);
        assert_eq!(t.files[0].path, "mod.zip");
        let back =
            Torrent::from_file_bytes(&t.to_file_bytes(&["udp://127.0.0.1:1/announce".into()]))
                .unwrap();
        assert_eq!(back.info_hash, t.info_hash);
        assert_eq!(back.files[0].path, "mod.zip");
    }

    #[test]
    fn links_and_empty_payloads_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "real", b"x");
        std::os::unix::fs::symlink("/etc/passwd", dir.path().join("link")).unwrap();
        let e = create(dir.path(), "n").unwrap_err();
        assert!(matches!(e, CreateError::Link(_)), "{e}");
        assert!(e.to_string().contains("link"));

        let empty = tempfile::tempdir().unwrap();
        write(empty.path(), "zero", b"");
        assert!(matches!(
            create(empty.path(), "n"),
            Err(CreateError::Empty(_))
        ));
        assert!(matches!(
            create(&empty.path().join("missing"), "n"),
            Err(CreateError::NotFound(_))
        ));
    }
}
