//! SHA-256 of a transfer's files, taken while the transfer runs, so an install needs no second
//! read of the payload after the last piece lands.
//!
//! A thread of its own follows librqbit's list of verified pieces and reads each file's verified
//! prefix back from disk (still in the page cache) as it grows. librqbit's own file streams
//! would do the reading, but a stream makes its file's pieces urgent: a file whose every piece
//! fails its check would then hold back all the others. The session runs on one thread, which
//! must stay free for peers, so the hashing never runs there.

use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use librqbit::{api::TorrentIdOrHash, Api};
use sha1w::ISha256;

use crate::error::SwarmError;
use crate::session::{Swarm, Transfer};
use crate::torrent::Torrent;

/// A file's SHA-256 and how many bytes went into it.
pub type FileDigest = ([u8; 32], u64);

/// Most bytes read at once.
const CHUNK: usize = 1 << 20;
/// How often the verified pieces are looked at while nothing new can be read.
const POLL: Duration = Duration::from_millis(5);

/// Hashing in progress. Dropping it stops the thread and waits for it.
pub struct Digests {
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<Result<Vec<FileDigest>, SwarmError>>>,
}

/// Which pieces librqbit holds verified, as a bit per piece, most significant bit first.
struct Haves {
    api: Api,
    id: TorrentIdOrHash,
}

impl Haves {
    /// `None` while librqbit cannot tell: the torrent is still checking what a resumed fetch
    /// left on disk (or is gone, which only happens once the caller stopped waiting).
    fn get(&self) -> Option<Vec<u8>> {
        let (bits, _) = self.api.api_dump_haves(self.id).ok()?;
        Some(bits.as_raw_slice().to_vec())
    }
}

fn has(bits: &[u8], piece: u64) -> bool {
    bits.get((piece / 8) as usize)
        .is_some_and(|b| b & (0x80 >> (piece % 8)) != 0)
}

impl Swarm {
    /// Starts hashing the files of `transfer` (fetching `torrent` into `dir`) as their pieces
    /// are verified. Pieces already on disk (a resumed fetch) count once librqbit's initial
    /// check accepts them.
    pub fn digest_files(&self, transfer: &Transfer, dir: &Path, torrent: &Torrent) -> Digests {
        let haves = Haves {
            api: Api::new(self.session.clone(), None),
            id: TorrentIdOrHash::Id(transfer.handle.id()),
        };
        let files: Vec<(PathBuf, u64)> = torrent
            .files
            .iter()
            .map(|f| (dir.join(&f.path), f.size))
            .collect();
        let piece_length = u64::from(torrent.piece_length);
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = stop.clone();
        let thread = std::thread::Builder::new()
            .name("seedstr-sha256".into())
            .spawn(move || hash_as_verified(&haves, &files, piece_length, &stopped))
            .expect("spawning the hashing thread");
        Digests {
            stop,
            thread: Some(thread),
        }
    }
}

fn hash_as_verified(
    haves: &Haves,
    files: &[(PathBuf, u64)],
    piece_length: u64,
    stop: &AtomicBool,
) -> Result<Vec<FileDigest>, SwarmError> {
    let mut digests = Vec::with_capacity(files.len());
    let mut buf = vec![0u8; CHUNK];
    // Offset of the current file's first byte in the torrent's byte stream.
    let mut file_start = 0u64;
    for (path, len) in files {
        let mut hasher = sha1w::Sha256::new();
        let mut done = 0u64;
        let mut file = None;
        while done < *len {
            // Bytes of this file covered by the run of verified pieces from `done` on.
            let mut piece = (file_start + done) / piece_length;
            let bits = haves.get().unwrap_or_default();
            while has(&bits, piece) && piece * piece_length < file_start + len {
                piece += 1;
            }
            let readable = (piece * piece_length).min(file_start + len) - file_start;
            if readable <= done {
                if stop.load(Ordering::Relaxed) {
                    return Err(SwarmError::HashingStopped);
                }
                // `finish` and `drop` unpark it: the last pieces are then read at once.
                std::thread::park_timeout(POLL);
                continue;
            }
            let failed = |why| SwarmError::Hashing {
                path: path.clone(),
                why,
            };
            let f = match &mut file {
                Some(f) => f,
                None => {
                    let mut f = std::fs::File::open(path).map_err(failed)?;
                    f.seek(SeekFrom::Start(done)).map_err(failed)?;
                    file.insert(f)
                }
            };
            while done < readable {
                let n = CHUNK.min((readable - done) as usize);
                f.read_exact(&mut buf[..n]).map_err(failed)?;
                hasher.update(&buf[..n]);
                done += n as u64;
            }
        }
        digests.push((hasher.finish(), done));
        file_start += len;
    }
    Ok(digests)
}

impl Digests {
    /// Waits until every file is hashed; call once the transfer has completed.
    pub async fn finish(mut self) -> Result<Vec<FileDigest>, SwarmError> {
        let thread = self.thread.take().expect("finished once");
        // The transfer is complete: no need to wait out the thread's poll.
        thread.thread().unpark();
        tokio::task::spawn_blocking(move || thread.join())
            .await
            .map_err(|_| SwarmError::HashingPanicked)?
            .map_err(|_| SwarmError::HashingPanicked)?
    }
}

impl Drop for Digests {
    fn drop(&mut self) {
        // The thread notices at once, or after the chunk it is reading; waiting for it means no read of the
        // staged files outlives the caller's decision to move on (to a mirror, or to delete).
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            thread.thread().unpark();
            let _ = thread.join();
        }
    }
}
