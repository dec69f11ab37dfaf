//! The journal: what makes an acknowledged write durable while LMDB commits without fsync.
//!
//! The writer commits each batch to LMDB unsynced (readers see it at once), appends the
//! batch's changes to the current journal file and fdatasyncs it, and only then answers. A
//! journal file starts with a checkpoint — the two LMDB meta pages of a commit that is
//! synced, or being synced, to the data file — and holds every change committed after it.
//! See `checkpoint.rs` for how checkpoints are taken and restored.
//!
//! File `journal-<seq>` (seq as 16 hex digits, so names sort in order):
//!
//! ```text
//! header: magic (16) | version u32 | page size u32 | txnid u64 | meta pages (2 × page size) | crc32 u32
//! record: body length u32 | crc32 of body u32 | body
//! body:   1 | event JSON        (a save that changed the store)
//!         2 | now u64           (a purge of events expired at `now`)
//! ```
//!
//! Integers are little-endian but `now`, big-endian like every key in the store. A record
//! whose bytes end early or fail their checksum ends the file: it is the batch whose fdatasync
//! a crash interrupted, never acknowledged.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use super::checkpoint::Checkpoint;

const MAGIC: &[u8; 16] = b"seedstr-journal\n";
const VERSION: u32 = 1;
const PREFIX: &str = "journal-";
/// Fixed header bytes before the meta pages.
const HEAD: usize = 16 + 4 + 4 + 8;
const RECORD_HEAD: usize = 8;
const SAVE: u8 = 1;
const PURGE: u8 = 2;
/// Largest page size a header may claim (LMDB's own maximum).
const MAX_PAGE_SIZE: usize = 1 << 16;

/// One change the journal replays.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Entry {
    /// An event the store saved (its canonical JSON).
    Save(String),
    /// Expired events purged as of this time.
    Purge(u64),
}

/// A journal file read back: its checkpoint, its entries, and where a torn tail began.
#[derive(Debug, PartialEq, Eq)]
pub struct Parsed {
    /// The commit the file starts from.
    pub checkpoint: Checkpoint,
    /// The changes after it, in order.
    pub entries: Vec<Entry>,
    /// Byte offset of a record that ended early or failed its checksum; nothing after it is read.
    pub torn_at: Option<usize>,
}

/// Why a journal file cannot be read.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum JournalError {
    /// The file does not begin with the journal's magic bytes.
    #[error("not a journal (bad magic)")]
    Magic,
    /// Written by a format this build does not know.
    #[error("journal version {0} is not one this build reads")]
    Version(u32),
    /// The header's page size is not one LMDB uses.
    #[error("page size {0} is not a power of two between 512 and 65536")]
    PageSize(u32),
    /// The header is incomplete or damaged.
    #[error("header is cut short or fails its checksum")]
    Header,
}

/// Encodes a header for `checkpoint`.
pub fn encode_header(checkpoint: &Checkpoint) -> Vec<u8> {
    let mut out = Vec::with_capacity(HEAD + checkpoint.meta.len() + 4);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&VERSION.to_le_bytes());
    out.extend_from_slice(&(checkpoint.page_size as u32).to_le_bytes());
    out.extend_from_slice(&checkpoint.txnid.to_le_bytes());
    out.extend_from_slice(&checkpoint.meta);
    let crc = crc32fast::hash(&out);
    out.extend_from_slice(&crc.to_le_bytes());
    out
}

/// Appends the encoding of `entry` to `out`.
pub fn encode_entry(out: &mut Vec<u8>, entry: &Entry) {
    match entry {
        Entry::Save(json) => encode_save(out, json),
        Entry::Purge(now) => encode_purge(out, *now),
    }
}

/// Appends a save record of the event `json` to `out`.
pub fn encode_save(out: &mut Vec<u8>, json: &str) {
    encode_record(out, SAVE, json.as_bytes());
}

/// Appends a purge record to `out`.
pub fn encode_purge(out: &mut Vec<u8>, now: u64) {
    encode_record(out, PURGE, &now.to_be_bytes());
}

fn encode_record(out: &mut Vec<u8>, tag: u8, payload: &[u8]) {
    let len = 1 + payload.len();
    let mut crc = crc32fast::Hasher::new();
    crc.update(&[tag]);
    crc.update(payload);
    out.extend_from_slice(&(len as u32).to_le_bytes());
    out.extend_from_slice(&crc.finalize().to_le_bytes());
    out.push(tag);
    out.extend_from_slice(payload);
}

/// Reads a journal file's bytes. Never panics on any input (fuzzed).
pub fn parse(bytes: &[u8]) -> Result<Parsed, JournalError> {
    let Some(head) = bytes.get(..HEAD) else {
        return Err(JournalError::Header);
    };
    if &head[..16] != MAGIC {
        return Err(JournalError::Magic);
    }
    let version = u32::from_le_bytes(bytes[16..20].try_into().expect("4 bytes"));
    if version != VERSION {
        return Err(JournalError::Version(version));
    }
    let page_size = u32::from_le_bytes(bytes[20..24].try_into().expect("4 bytes"));
    if !page_size.is_power_of_two() || !(512..=MAX_PAGE_SIZE as u32).contains(&page_size) {
        return Err(JournalError::PageSize(page_size));
    }
    let txnid = u64::from_le_bytes(bytes[24..32].try_into().expect("8 bytes"));
    let meta_end = HEAD + 2 * page_size as usize;
    let header_end = meta_end + 4;
    if bytes.len() < header_end {
        return Err(JournalError::Header);
    }
    let crc = u32::from_le_bytes(bytes[meta_end..header_end].try_into().expect("4 bytes"));
    if crc32fast::hash(&bytes[..meta_end]) != crc {
        return Err(JournalError::Header);
    }
    let checkpoint = Checkpoint {
        txnid,
        page_size: page_size as usize,
        meta: bytes[HEAD..meta_end].to_vec(),
    };
    let mut entries = Vec::new();
    let mut at = header_end;
    let mut torn_at = None;
    while at < bytes.len() {
        match read_record(&bytes[at..]) {
            Some((entry, used)) => {
                entries.push(entry);
                at += used;
            }
            None => {
                torn_at = Some(at);
                break;
            }
        }
    }
    Ok(Parsed {
        checkpoint,
        entries,
        torn_at,
    })
}

/// One record at the start of `bytes` and the bytes it used, or `None` if it is torn.
fn read_record(bytes: &[u8]) -> Option<(Entry, usize)> {
    let head = bytes.get(..RECORD_HEAD)?;
    let len = u32::from_le_bytes(head[..4].try_into().expect("4 bytes")) as usize;
    let crc = u32::from_le_bytes(head[4..].try_into().expect("4 bytes"));
    let body = bytes.get(RECORD_HEAD..RECORD_HEAD.checked_add(len)?)?;
    if crc32fast::hash(body) != crc {
        return None;
    }
    let entry = match body.split_first()? {
        (&SAVE, json) => Entry::Save(String::from_utf8(json.to_vec()).ok()?),
        (&PURGE, now) => Entry::Purge(u64::from_be_bytes(now.try_into().ok()?)),
        _ => return None,
    };
    Some((entry, RECORD_HEAD + len))
}

/// The journal file being appended to.
pub struct Journal {
    file: File,
    path: PathBuf,
    /// Bytes appended after the header (the checkpoint cadence reads it).
    pub appended: u64,
}

impl Journal {
    /// Creates journal `seq` in `dir` starting at `checkpoint`; the file and its directory
    /// entry are synced before it returns, so records appended later cannot outlive their file.
    pub fn create(dir: &Path, seq: u64, checkpoint: &Checkpoint) -> std::io::Result<Journal> {
        let path = dir.join(format!("{PREFIX}{seq:016x}"));
        let mut file = OpenOptions::new()
            .create_new(true)
            .append(true)
            .open(&path)?;
        file.write_all(&encode_header(checkpoint))?;
        file.sync_all()?;
        sync_dir(dir)?;
        Ok(Journal {
            file,
            path,
            appended: 0,
        })
    }

    /// Appends encoded records (`encode_save`, `encode_purge`) and fdatasyncs them: once this
    /// returns they survive a crash.
    pub fn append(&mut self, records: &[u8]) -> std::io::Result<()> {
        if records.is_empty() {
            return Ok(());
        }
        self.file.write_all(records)?;
        self.file.sync_data()?;
        self.appended += records.len() as u64;
        Ok(())
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// The journal files in `dir`, oldest first, with their sequence numbers.
pub fn list(dir: &Path) -> std::io::Result<Vec<(u64, PathBuf)>> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name();
        let Some(seq) = name
            .to_str()
            .and_then(|n| n.strip_prefix(PREFIX))
            .and_then(|hex| u64::from_str_radix(hex, 16).ok())
        else {
            continue;
        };
        out.push((seq, entry.path()));
    }
    out.sort();
    Ok(out)
}

/// Removes journal files and syncs the directory, so a crash after this cannot bring them back.
pub fn remove(dir: &Path, paths: &[PathBuf]) -> std::io::Result<()> {
    for path in paths {
        std::fs::remove_file(path)?;
    }
    sync_dir(dir)
}

/// Removes every journal file in `dir` (see [`remove`]); how many there were.
pub fn remove_all(dir: &Path) -> std::io::Result<usize> {
    let paths: Vec<PathBuf> = list(dir)?.into_iter().map(|(_, p)| p).collect();
    remove(dir, &paths)?;
    Ok(paths.len())
}

fn sync_dir(dir: &Path) -> std::io::Result<()> {
    File::open(dir)?.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn checkpoint(page_size: usize, txnid: u64) -> Checkpoint {
        Checkpoint {
            txnid,
            page_size,
            meta: (0..2 * page_size).map(|i| i as u8).collect(),
        }
    }

    fn entry() -> impl Strategy<Value = Entry> {
        prop_oneof![
            ".{0,40}".prop_map(Entry::Save),
            any::<u64>().prop_map(Entry::Purge),
        ]
    }

    fn file(cp: &Checkpoint, entries: &[Entry]) -> (Vec<u8>, Vec<usize>) {
        let mut bytes = encode_header(cp);
        let mut ends = Vec::new();
        for e in entries {
            encode_entry(&mut bytes, e);
            ends.push(bytes.len());
        }
        (bytes, ends)
    }

    fn config() -> ProptestConfig {
        ProptestConfig {
            rng_seed: proptest::test_runner::RngSeed::Fixed(0x5eed),
            failure_persistence: None,
            ..ProptestConfig::default()
        }
    }

    proptest! {
        #![proptest_config(config())]

        /// What was written reads back, checkpoint and entries alike.
        #[test]
        fn reads_back_what_was_written(entries in prop::collection::vec(entry(), 0..20), txnid in any::<u64>()) {
            let cp = checkpoint(512, txnid);
            let (bytes, _) = file(&cp, &entries);
            let parsed = parse(&bytes).unwrap();
            prop_assert_eq!(parsed, Parsed { checkpoint: cp, entries, torn_at: None });
        }

        /// A file cut anywhere after its header reads as the records that were whole, and says
        /// where the torn one began.
        #[test]
        fn a_cut_file_keeps_its_whole_records(entries in prop::collection::vec(entry(), 1..10), cut in any::<prop::sample::Index>()) {
            let cp = checkpoint(512, 7);
            let (bytes, ends) = file(&cp, &entries);
            let header = encode_header(&cp).len();
            let at = header + cut.index(bytes.len() - header + 1);
            let parsed = parse(&bytes[..at]).unwrap();
            let whole = ends.iter().filter(|&&end| end <= at).count();
            prop_assert_eq!(&parsed.entries[..], &entries[..whole]);
            let last_whole_end = if whole == 0 { header } else { ends[whole - 1] };
            prop_assert_eq!(parsed.torn_at, (at != last_whole_end).then_some(last_whole_end));
        }

        /// A byte changed in a record ends the file there: nothing after a damaged record is
        /// replayed, and nothing before it is lost.
        #[test]
        fn a_damaged_record_ends_the_file(entries in prop::collection::vec(entry(), 1..10), which in any::<prop::sample::Index>(), flip in 1u8..=255) {
            let cp = checkpoint(512, 7);
            let (mut bytes, ends) = file(&cp, &entries);
            let header = encode_header(&cp).len();
            let at = header + which.index(bytes.len() - header);
            bytes[at] ^= flip;
            let parsed = parse(&bytes).unwrap();
            let damaged = ends.iter().filter(|&&end| end <= at).count();
            prop_assert_eq!(&parsed.entries[..], &entries[..damaged]);
            prop_assert_eq!(parsed.torn_at, Some(if damaged == 0 { header } else { ends[damaged - 1] }));
        }

        /// A damaged header is refused, never read as a checkpoint.
        #[test]
        fn a_damaged_header_is_refused(which in 0usize..(HEAD + 1024 + 4), flip in 1u8..=255) {
            let cp = checkpoint(512, 7);
            let mut bytes = encode_header(&cp);
            bytes[which] ^= flip;
            prop_assert!(parse(&bytes).is_err());
        }
    }

    #[test]
    fn names_sort_in_sequence() {
        let dir = tempfile::tempdir().unwrap();
        let cp = checkpoint(512, 1);
        for seq in [10u64, 2, 0xabc] {
            Journal::create(dir.path(), seq, &cp).unwrap();
        }
        std::fs::write(dir.path().join("data.mdb"), b"").unwrap();
        let seqs: Vec<u64> = list(dir.path())
            .unwrap()
            .into_iter()
            .map(|(s, _)| s)
            .collect();
        assert_eq!(seqs, vec![2, 10, 0xabc]);
    }
}
