//! Checkpoints: the commits a crash rolls the data file back to before the journal replays.
//!
//! LMDB commits here without fsync (see `journal.rs` for what keeps them durable). Unsynced,
//! a system crash could leave a meta page on disk that points at pages that never got there,
//! or at pages a later commit reused. A checkpoint is a commit whose pages are all on disk and
//! stay there: right after committing it the writer copies the file's two meta pages, holds a
//! read transaction on it (LMDB reuses no page a reader can see) and starts a new journal with
//! the copy at its head; a background thread syncs the data file, and only then is the previous
//! journal deleted and its read transaction dropped. The oldest journal's checkpoint is thus
//! always whole on disk. Opening after a crash writes its meta pages back — the file then reads
//! exactly as at that commit — and replays every journal after it.
//!
//! Two facts of LMDB's file format (0.9) are relied on, and checked before any copy is
//! trusted: the meta pages are the file's first two pages, and each holds the id of the
//! transaction that wrote it at `TXNID_OFFSET`. Where the check fails (another layout, a
//! 32-bit build) the store keeps LMDB's synced commits instead.

use std::fs::{File, OpenOptions};
use std::os::unix::fs::FileExt;
use std::path::Path;

/// `MDB_meta.mm_magic`, just after the 16-byte page header.
const MAGIC_OFFSET: usize = 16;
const LMDB_MAGIC: u32 = 0xBEEF_C0DE;
/// `MDB_meta.mm_txnid` on a 64-bit build: page header, magic, version, address, map size,
/// two 48-byte database records, last page.
const TXNID_OFFSET: usize = 16 + 4 + 4 + 8 + 8 + 2 * 48 + 8;

/// The two meta pages of one commit, as LMDB wrote them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Checkpoint {
    /// The transaction id of the commit.
    pub txnid: u64,
    /// The environment's page size.
    pub page_size: usize,
    /// Both meta pages, `2 × page_size` bytes.
    pub meta: Vec<u8>,
}

impl Checkpoint {
    /// Copies the meta pages of `data` (the environment's `data.mdb`) and checks that they
    /// describe commit `txnid`, the environment's last.
    pub fn read(data: &File, page_size: usize, txnid: u64) -> Result<Checkpoint, String> {
        let mut meta = vec![0u8; 2 * page_size];
        data.read_exact_at(&mut meta, 0)
            .map_err(|e| format!("reading the meta pages: {e}"))?;
        let checkpoint = Checkpoint {
            txnid,
            page_size,
            meta,
        };
        match checkpoint.newest_txnid() {
            Some(found) if found == txnid => Ok(checkpoint),
            Some(found) => Err(format!(
                "the meta pages name transaction {found}, the environment {txnid}"
            )),
            None => Err("the meta pages do not have LMDB's layout".into()),
        }
    }

    /// The larger transaction id of the two meta pages (the one LMDB opens), if both pages
    /// carry LMDB's magic number.
    pub fn newest_txnid(&self) -> Option<u64> {
        let mut newest = None;
        for page in self.meta.chunks_exact(self.page_size) {
            let field = |at: usize, len: usize| page.get(at..at + len);
            let magic = u32::from_le_bytes(field(MAGIC_OFFSET, 4)?.try_into().ok()?);
            if magic != LMDB_MAGIC {
                return None;
            }
            let txnid = u64::from_le_bytes(field(TXNID_OFFSET, 8)?.try_into().ok()?);
            newest = newest.max(Some(txnid));
        }
        newest
    }

    /// Writes the meta pages back into the data file at `path` and syncs it: the file then
    /// opens at this checkpoint.
    pub fn restore(&self, path: &Path) -> std::io::Result<()> {
        let file = OpenOptions::new().write(true).open(path)?;
        file.write_all_at(&self.meta, 0)?;
        file.sync_all()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta_page(page_size: usize, txnid: u64) -> Vec<u8> {
        let mut page = vec![0u8; page_size];
        page[MAGIC_OFFSET..MAGIC_OFFSET + 4].copy_from_slice(&LMDB_MAGIC.to_le_bytes());
        page[TXNID_OFFSET..TXNID_OFFSET + 8].copy_from_slice(&txnid.to_le_bytes());
        page
    }

    #[test]
    fn the_newer_meta_page_names_the_commit() {
        let mut meta = meta_page(4096, 41);
        meta.extend(meta_page(4096, 42));
        let cp = Checkpoint {
            txnid: 42,
            page_size: 4096,
            meta,
        };
        assert_eq!(cp.newest_txnid(), Some(42));
        let mut other = cp.clone();
        other.meta[MAGIC_OFFSET] ^= 1;
        assert_eq!(
            other.newest_txnid(),
            None,
            "a page without the magic is not a meta page"
        );
    }

    /// The layout assumption holds for the LMDB this build links: a real environment's meta
    /// pages name its last transaction.
    #[test]
    fn reads_a_real_environments_meta_pages() {
        let dir = tempfile::tempdir().unwrap();
        // SAFETY: opened once, in this test only.
        let env = unsafe {
            heed::EnvOpenOptions::new()
                .map_size(1 << 20)
                .open(dir.path())
                .unwrap()
        };
        for _ in 0..3 {
            let mut wtxn = env.write_txn().unwrap();
            env.create_database::<heed::types::Bytes, heed::types::Bytes>(&mut wtxn, None)
                .unwrap()
                .put(&mut wtxn, b"k", b"v")
                .unwrap();
            wtxn.commit().unwrap();
        }
        let txnid = env.info().last_txn_id as u64;
        let data = File::open(dir.path().join("data.mdb")).unwrap();
        let cp = Checkpoint::read(&data, env.stat().page_size as usize, txnid).unwrap();
        assert_eq!(cp.txnid, txnid);
        assert!(Checkpoint::read(&data, env.stat().page_size as usize, txnid + 1).is_err());
    }
}
