//! Asking one peer what it holds of a torrent: the BitTorrent handshake (BEP 3), then its
//! bitfield, `have` messages and extended handshake (BEP 10, for the client's name), without
//! requesting a byte.
//!
//! Our own few lines of peer wire: librqbit talks to peers only inside its torrent sessions, and
//! its message parser rejects BEP 6's have-all and have-none, which peers may send.

use std::net::SocketAddr;
use std::time::Duration;

use librqbit_bencode::{BencodeValue, ByteBuf};
use serde::Serialize;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// What a peer holds, counted in pieces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "holds", rename_all = "snake_case")]
pub enum Holding {
    /// Every piece: a seeder.
    Everything,
    /// Some pieces: a peer still downloading.
    Part {
        /// Pieces it holds.
        pieces: u64,
        /// Pieces in the torrent.
        of: u64,
    },
    /// No piece yet.
    Nothing,
}

/// What a peer said of itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PeerReport {
    /// What it holds of the torrent.
    #[serde(flatten)]
    pub holding: Holding,
    /// The client's own name from its extended handshake (`v`), when it sent one.
    pub client: Option<String>,
}

/// Why a peer could not be asked what it holds.
#[derive(Debug, thiserror::Error)]
pub enum ProbeError {
    /// No connection.
    #[error("cannot connect: {0}")]
    Connect(std::io::Error),
    /// No answer in time.
    #[error("no answer within {0:?}")]
    Timeout(Duration),
    /// The peer hung up.
    #[error("closed the connection: {0}")]
    Closed(std::io::Error),
    /// The handshake is not BitTorrent's.
    #[error("does not speak BitTorrent")]
    NotBitTorrent,
    /// The handshake names another info hash.
    #[error("answered for another torrent")]
    OtherTorrent,
    /// A message larger than any a peer sends before a request: refused before reading it.
    #[error("sent a {len}-byte message, more than a peer sends before any request")]
    Oversized {
        /// Its announced length.
        len: u32,
    },
}

const PROTOCOL: &[u8; 19] = b"BitTorrent protocol";
const MSG_HAVE: u8 = 4;
const MSG_BITFIELD: u8 = 5;
const MSG_HAVE_ALL: u8 = 14;
const MSG_HAVE_NONE: u8 = 15;
const MSG_EXTENDED: u8 = 20;
/// After the bitfield, how long to wait for the extended handshake that names the client.
const NAME_GRACE: Duration = Duration::from_millis(300);

/// Connects to `addr` and reports what it holds of `info_hash`, a torrent of `pieces` pieces.
/// A peer that sends no bitfield before `timeout` holds nothing (BEP 3 lets it skip the message),
/// less any `have` it sent.
pub async fn probe_peer(
    addr: SocketAddr,
    info_hash: &[u8; 20],
    pieces: u64,
    timeout: Duration,
) -> Result<PeerReport, ProbeError> {
    let deadline = tokio::time::Instant::now() + timeout;
    let within = |fut| tokio::time::timeout_at(deadline, fut);
    let mut stream = within(TcpStream::connect(addr))
        .await
        .map_err(|_| ProbeError::Timeout(timeout))?
        .map_err(ProbeError::Connect)?;
    stream
        .write_all(&handshake(info_hash))
        .await
        .map_err(ProbeError::Closed)?;
    let mut theirs = [0u8; 68];
    tokio::time::timeout_at(deadline, stream.read_exact(&mut theirs))
        .await
        .map_err(|_| ProbeError::Timeout(timeout))?
        .map_err(ProbeError::Closed)?;
    if theirs[0] != 19 || &theirs[1..20] != PROTOCOL {
        return Err(ProbeError::NotBitTorrent);
    }
    if &theirs[28..48] != info_hash {
        return Err(ProbeError::OtherTorrent);
    }

    let mut seen = Seen::new(pieces);
    let mut until = deadline;
    loop {
        let frame = match tokio::time::timeout_at(until, read_frame(&mut stream)).await {
            Err(_) => break,
            Ok(Err(e)) if seen.told => {
                // Some peers hang up on a peer that wants nothing; what they said stands.
                tracing::debug!("{addr} closed after its bitfield: {e}");
                break;
            }
            Ok(Err(e)) => return Err(e),
            Ok(Ok(frame)) => frame,
        };
        seen.read(&frame);
        if seen.told && seen.client.is_some() {
            break;
        }
        if seen.told {
            until = until.min(tokio::time::Instant::now() + NAME_GRACE);
        }
    }
    Ok(seen.report())
}

fn handshake(info_hash: &[u8; 20]) -> [u8; 68] {
    let mut h = [0u8; 68];
    h[0] = 19;
    h[1..20].copy_from_slice(PROTOCOL);
    // Reserved bits: the extension protocol (BEP 10), so peers send their client name.
    h[25] = 0x10;
    h[28..48].copy_from_slice(info_hash);
    h[48..68].copy_from_slice(&super::probe_peer_id());
    h
}

/// One length-prefixed message; keep-alives come back empty.
async fn read_frame(stream: &mut TcpStream) -> Result<Vec<u8>, ProbeError> {
    let len = stream.read_u32().await.map_err(ProbeError::Closed)?;
    // A bitfield of a million pieces is 125 kB; nothing larger comes before a request.
    if len > 1 << 20 {
        return Err(ProbeError::Oversized { len });
    }
    let mut frame = vec![0u8; len as usize];
    stream
        .read_exact(&mut frame)
        .await
        .map_err(ProbeError::Closed)?;
    Ok(frame)
}

/// What the peer said so far.
struct Seen {
    have: Vec<bool>,
    /// It sent a bitfield, have-all or have-none.
    told: bool,
    client: Option<String>,
}

impl Seen {
    fn new(pieces: u64) -> Seen {
        Seen {
            have: vec![false; pieces as usize],
            told: false,
            client: None,
        }
    }

    fn read(&mut self, frame: &[u8]) {
        let Some((&id, body)) = frame.split_first() else {
            return;
        };
        match id {
            MSG_BITFIELD => {
                self.told = true;
                for (i, have) in self.have.iter_mut().enumerate() {
                    *have = body.get(i / 8).is_some_and(|b| b & (0x80 >> (i % 8)) != 0);
                }
            }
            MSG_HAVE if body.len() == 4 => {
                let i = u32::from_be_bytes(body.try_into().expect("4 bytes")) as usize;
                if let Some(have) = self.have.get_mut(i) {
                    *have = true;
                }
            }
            MSG_HAVE_ALL => {
                self.told = true;
                self.have.iter_mut().for_each(|h| *h = true);
            }
            MSG_HAVE_NONE => self.told = true,
            MSG_EXTENDED if body.first() == Some(&0) => self.client = client_name(&body[1..]),
            _ => {}
        }
    }

    fn report(self) -> PeerReport {
        let of = self.have.len() as u64;
        let pieces = self.have.iter().filter(|h| **h).count() as u64;
        let holding = if pieces == of {
            Holding::Everything
        } else if pieces == 0 {
            Holding::Nothing
        } else {
            Holding::Part { pieces, of }
        };
        PeerReport {
            holding,
            client: self.client,
        }
    }
}

/// What a peer's messages (the bodies of its length-prefixed frames, in order) say it holds of a
/// torrent of `pieces` pieces, and which client it is.
pub fn report_from_frames<'f>(
    pieces: u64,
    frames: impl IntoIterator<Item = &'f [u8]>,
) -> PeerReport {
    let mut seen = Seen::new(pieces);
    for frame in frames {
        seen.read(frame);
    }
    seen.report()
}

fn client_name(dict: &[u8]) -> Option<String> {
    // librqbit's reader panics on some oversized numbers in debug builds: check first.
    crate::bencode_check::check(dict).ok()?;
    let BencodeValue::Dict(d) = librqbit_bencode::from_bytes::<BencodeValue<ByteBuf>>(dict).ok()?
    else {
        return None;
    };
    match d.get(&ByteBuf(b"v"))? {
        BencodeValue::Bytes(v) => Some(String::from_utf8_lossy(v.as_ref()).into_owned()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seen(pieces: u64, frames: &[&[u8]]) -> PeerReport {
        report_from_frames(pieces, frames.iter().copied())
    }

    #[test]
    fn bitfields_haves_and_fast_messages_are_counted_in_pieces() {
        // 10 pieces: two bytes, the last six bits spare (and ignored even when set).
        let all = seen(10, &[&[MSG_BITFIELD, 0xff, 0xff]]);
        assert_eq!(all.holding, Holding::Everything);
        let part = seen(10, &[&[MSG_BITFIELD, 0xf0, 0x00], &[MSG_HAVE, 0, 0, 0, 9]]);
        assert_eq!(part.holding, Holding::Part { pieces: 5, of: 10 });
        assert_eq!(seen(10, &[&[MSG_HAVE_ALL]]).holding, Holding::Everything);
        assert_eq!(seen(10, &[&[MSG_HAVE_NONE]]).holding, Holding::Nothing);
        assert_eq!(seen(10, &[]).holding, Holding::Nothing);
        // A have beyond the torrent is ignored rather than trusted.
        assert_eq!(
            seen(2, &[&[MSG_HAVE, 0, 0, 0, 7]]).holding,
            Holding::Nothing
        );
    }

    #[test]
    fn the_client_name_comes_from_the_extended_handshake() {
        let mut ext = vec![MSG_EXTENDED, 0];
        ext.extend_from_slice(b"d1:md11:ut_metadatai1ee1:v13:rqbit 9.1.0 ae");
        let r = seen(1, &[&ext, &[MSG_BITFIELD, 0x80]]);
        assert_eq!(r.client.as_deref(), Some("rqbit 9.1.0 a"));
        assert_eq!(r.holding, Holding::Everything);
    }
}
