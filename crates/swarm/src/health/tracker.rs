//! Asking a tracker about a torrent: its counts (scrape, BEP 48 over HTTP, BEP 15 over UDP) and
//! its peer list (an announce, followed at once by a `stopped` one so we do not linger there).
//!
//! Our own client because librqbit's tracker code only announces for its running torrents, and
//! it neither scrapes nor hands back the peer list.

use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::time::Duration;

use librqbit_bencode::{BencodeValue, ByteBuf};
use serde::Serialize;
use tokio::net::UdpSocket;

/// What a tracker counts for one torrent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Scrape {
    /// Peers holding the whole torrent ("complete").
    pub seeders: u64,
    /// Peers still downloading ("incomplete").
    pub leechers: u64,
    /// Completed downloads the tracker has seen ("downloaded").
    pub completed: u64,
}

/// Why a tracker could not be asked.
#[derive(Debug, thiserror::Error)]
pub enum TrackerError {
    /// Not a tracker address this client speaks.
    #[error("{0} is not an http://, https:// or udp:// tracker address")]
    Scheme(String),
    /// No scrape address can be made from it.
    #[error("the tracker address does not end in /announce, so it has no scrape address (BEP 48)")]
    NoScrapeUrl,
    /// The HTTP request failed.
    #[error("{0}")]
    Http(String),
    /// No answer in time.
    #[error("no answer within {0:?}")]
    Timeout(Duration),
    /// The tracker answered with a failure reason.
    #[error("the tracker refused: {0}")]
    Refused(String),
    /// The answer does not parse.
    #[error("the tracker's answer is not understood: {0}")]
    Garbled(String),
    /// The tracker holds nothing of this torrent.
    #[error("the tracker does not know this torrent")]
    Unknown,
    /// The answer is longer than any tracker answer needs to be.
    #[error("the tracker's answer is over {0} bytes, more than any tracker answer needs; refused")]
    TooLarge(usize),
}

/// The tracker's counts for `info_hash`.
pub async fn scrape(
    url: &str,
    info_hash: &[u8; 20],
    timeout: Duration,
) -> Result<Scrape, TrackerError> {
    match scheme(url)? {
        Scheme::Http => http_scrape(url, info_hash, timeout).await,
        Scheme::Udp(addr) => {
            let mut conn = UdpTracker::connect(&addr, timeout).await?;
            conn.scrape(info_hash).await
        }
    }
}

/// The port our announces give: discard (9), where no peer listens, so nobody dials a probe
/// that leaves right away.
const PROBE_PORT: u16 = 9;

/// The peers the tracker lists for `info_hash`. We announce as a peer that has nothing
/// (`left` = `size`) and leave again with `stopped`, so the counts are ours for a moment only.
/// Trackers may list the asker itself: entries at our port are left out.
pub async fn list_peers(
    url: &str,
    info_hash: &[u8; 20],
    size: u64,
    timeout: Duration,
) -> Result<Vec<SocketAddr>, TrackerError> {
    let peer_id = super::probe_peer_id();
    let mut peers = match scheme(url)? {
        Scheme::Http => {
            let peers = http_announce(url, info_hash, &peer_id, size, "started", timeout).await?;
            let _ = http_announce(url, info_hash, &peer_id, size, "stopped", timeout).await;
            peers
        }
        Scheme::Udp(addr) => {
            let mut conn = UdpTracker::connect(&addr, timeout).await?;
            let peers = conn
                .announce(info_hash, &peer_id, size, UDP_STARTED)
                .await?;
            let _ = conn.announce(info_hash, &peer_id, size, UDP_STOPPED).await;
            peers
        }
    };
    peers.retain(|p| p.port() != PROBE_PORT);
    Ok(peers)
}

enum Scheme {
    Http,
    /// host:port
    Udp(String),
}

fn scheme(url: &str) -> Result<Scheme, TrackerError> {
    if url.starts_with("http://") || url.starts_with("https://") {
        return Ok(Scheme::Http);
    }
    if let Some(rest) = url.strip_prefix("udp://") {
        let host = rest.split('/').next().unwrap_or_default();
        if !host.is_empty() {
            return Ok(Scheme::Udp(host.to_owned()));
        }
    }
    Err(TrackerError::Scheme(url.to_owned()))
}

/// BEP 48: the scrape address is the announce address with its last `announce` segment renamed.
pub fn scrape_url(announce: &str) -> Result<String, TrackerError> {
    let (path_end, query) = match announce.find('?') {
        Some(i) => (i, &announce[i..]),
        None => (announce.len(), ""),
    };
    let path = &announce[..path_end];
    let slash = path.rfind('/').ok_or(TrackerError::NoScrapeUrl)?;
    let last = &path[slash + 1..];
    let rest = last
        .strip_prefix("announce")
        .ok_or(TrackerError::NoScrapeUrl)?;
    Ok(format!("{}/scrape{rest}{query}", &path[..slash]))
}

fn with_query(url: &str, query: &str) -> String {
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}{query}")
}

/// The most a tracker's HTTP answer may hold. A compact announce answer is 6 bytes a peer (a
/// few KB for the usual 50–200 peers), a scrape a few dozen bytes a torrent; past this the
/// tracker is refused rather than read on.
pub const MAX_TRACKER_ANSWER: usize = 256 * 1024;

/// GETs `url` and reads its body, at most [`MAX_TRACKER_ANSWER`] bytes, within `timeout`.
pub(crate) async fn http_get(url: &str, timeout: Duration) -> Result<Vec<u8>, TrackerError> {
    let client = reqwest::Client::builder()
        .timeout(timeout)
        .build()
        .map_err(|e| TrackerError::Http(e.to_string()))?;
    let failed = |e: reqwest::Error| {
        if e.is_timeout() {
            TrackerError::Timeout(timeout)
        } else {
            TrackerError::Http(e.to_string())
        }
    };
    let mut response = client.get(url).send().await.map_err(failed)?;
    let status = response.status();
    if !status.is_success() {
        return Err(TrackerError::Http(format!("HTTP {status}")));
    }
    let too_large = TrackerError::TooLarge(MAX_TRACKER_ANSWER);
    if response
        .content_length()
        .is_some_and(|n| n > MAX_TRACKER_ANSWER as u64)
    {
        return Err(too_large);
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(failed)? {
        if body.len() + chunk.len() > MAX_TRACKER_ANSWER {
            return Err(too_large);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

type Dict<'a> = std::collections::HashMap<ByteBuf<'a>, BencodeValue<ByteBuf<'a>>>;

fn bencoded_dict(body: &[u8]) -> Result<Dict<'_>, TrackerError> {
    // librqbit's reader panics on some oversized numbers in debug builds: check first.
    crate::bencode_check::check(body).map_err(TrackerError::Garbled)?;
    match librqbit_bencode::from_bytes::<BencodeValue<ByteBuf>>(body) {
        Ok(BencodeValue::Dict(d)) => {
            if let Some(BencodeValue::Bytes(why)) = d.get(&ByteBuf(b"failure reason")) {
                return Err(TrackerError::Refused(
                    String::from_utf8_lossy(why.as_ref()).into_owned(),
                ));
            }
            Ok(d)
        }
        Ok(_) => Err(TrackerError::Garbled("not a dictionary".into())),
        Err(e) => Err(TrackerError::Garbled(e.to_string())),
    }
}

fn integer(d: &Dict, key: &[u8]) -> u64 {
    match d.get(&ByteBuf(key)) {
        Some(BencodeValue::Integer(i)) => (*i).max(0) as u64,
        _ => 0,
    }
}

async fn http_scrape(
    url: &str,
    info_hash: &[u8; 20],
    timeout: Duration,
) -> Result<Scrape, TrackerError> {
    let scrape = scrape_url(url)?;
    let body = http_get(
        &with_query(
            &scrape,
            &format!("info_hash={}", seedstr_proto::uri::component(info_hash)),
        ),
        timeout,
    )
    .await?;
    parse_http_scrape(&body, info_hash)
}

/// Reads an HTTP tracker's scrape answer (BEP 48) for `info_hash`.
pub fn parse_http_scrape(body: &[u8], info_hash: &[u8; 20]) -> Result<Scrape, TrackerError> {
    let d = bencoded_dict(body)?;
    let Some(BencodeValue::Dict(files)) = d.get(&ByteBuf(b"files")) else {
        return Err(TrackerError::Garbled("no files dictionary".into()));
    };
    let Some(BencodeValue::Dict(entry)) = files.get(&ByteBuf(info_hash)) else {
        return Err(TrackerError::Unknown);
    };
    Ok(Scrape {
        seeders: integer(entry, b"complete"),
        leechers: integer(entry, b"incomplete"),
        completed: integer(entry, b"downloaded"),
    })
}

async fn http_announce(
    url: &str,
    info_hash: &[u8; 20],
    peer_id: &[u8; 20],
    size: u64,
    event: &str,
    timeout: Duration,
) -> Result<Vec<SocketAddr>, TrackerError> {
    let query = format!(
        "info_hash={}&peer_id={}&port={PROBE_PORT}&uploaded=0&downloaded=0&left={size}&compact=1&numwant=200&event={event}",
        seedstr_proto::uri::component(info_hash),
        seedstr_proto::uri::component(peer_id),
    );
    let body = http_get(&with_query(url, &query), timeout).await?;
    parse_http_peers(&body)
}

/// Reads the peers of an HTTP tracker's announce answer: compact (BEP 23), as a list of
/// dictionaries, and `peers6` (BEP 7).
pub fn parse_http_peers(body: &[u8]) -> Result<Vec<SocketAddr>, TrackerError> {
    let d = bencoded_dict(body)?;
    let mut peers = Vec::new();
    match d.get(&ByteBuf(b"peers")) {
        Some(BencodeValue::Bytes(compact)) => peers.extend(compact_v4(compact.as_ref())),
        Some(BencodeValue::List(list)) => {
            for p in list {
                let BencodeValue::Dict(p) = p else { continue };
                let ip = match p.get(&ByteBuf(b"ip")) {
                    Some(BencodeValue::Bytes(ip)) => String::from_utf8_lossy(ip.as_ref()).parse(),
                    _ => continue,
                };
                if let Ok(ip) = ip {
                    peers.push(SocketAddr::new(ip, integer(p, b"port") as u16));
                }
            }
        }
        _ => {}
    }
    if let Some(BencodeValue::Bytes(v6)) = d.get(&ByteBuf(b"peers6")) {
        for c in v6.as_ref().chunks_exact(18) {
            let ip: [u8; 16] = c[..16].try_into().expect("16 bytes");
            let port = u16::from_be_bytes([c[16], c[17]]);
            peers.push(SocketAddr::new(ip.into(), port));
        }
    }
    Ok(peers)
}

fn compact_v4(bytes: &[u8]) -> impl Iterator<Item = SocketAddr> + '_ {
    bytes.chunks_exact(6).map(|c| {
        SocketAddr::V4(SocketAddrV4::new(
            Ipv4Addr::new(c[0], c[1], c[2], c[3]),
            u16::from_be_bytes([c[4], c[5]]),
        ))
    })
}

const UDP_PROTOCOL_ID: u64 = 0x417_2710_1980;
const UDP_CONNECT: u32 = 0;
const UDP_ANNOUNCE: u32 = 1;
const UDP_SCRAPE: u32 = 2;
const UDP_ERROR: u32 = 3;
const UDP_STARTED: u32 = 2;
const UDP_STOPPED: u32 = 3;

/// A BEP 15 exchange: a connection id first, then requests under it.
struct UdpTracker {
    socket: UdpSocket,
    connection_id: u64,
    timeout: Duration,
}

impl UdpTracker {
    async fn connect(addr: &str, timeout: Duration) -> Result<UdpTracker, TrackerError> {
        let target = tokio::net::lookup_host(addr)
            .await
            .map_err(|e| TrackerError::Http(format!("{addr}: {e}")))?
            .next()
            .ok_or_else(|| TrackerError::Http(format!("{addr}: no address")))?;
        let local: SocketAddr = if target.is_ipv4() {
            (Ipv4Addr::UNSPECIFIED, 0).into()
        } else {
            (std::net::Ipv6Addr::UNSPECIFIED, 0).into()
        };
        let socket = UdpSocket::bind(local)
            .await
            .map_err(|e| TrackerError::Http(e.to_string()))?;
        socket
            .connect(target)
            .await
            .map_err(|e| TrackerError::Http(e.to_string()))?;
        let mut conn = UdpTracker {
            socket,
            connection_id: UDP_PROTOCOL_ID,
            timeout,
        };
        let answer = conn.exchange(UDP_CONNECT, &[]).await?;
        let id: [u8; 8] = answer
            .get(..8)
            .and_then(|b| b.try_into().ok())
            .ok_or_else(|| TrackerError::Garbled("short connect answer".into()))?;
        conn.connection_id = u64::from_be_bytes(id);
        Ok(conn)
    }

    /// Sends `action` with `body` and returns the answer after its action and transaction id.
    /// UDP loses packets: the request goes out twice before giving up.
    async fn exchange(&mut self, action: u32, body: &[u8]) -> Result<Vec<u8>, TrackerError> {
        let transaction: u32 = rand::random();
        let mut request = Vec::with_capacity(16 + body.len());
        request.extend_from_slice(&self.connection_id.to_be_bytes());
        request.extend_from_slice(&action.to_be_bytes());
        request.extend_from_slice(&transaction.to_be_bytes());
        request.extend_from_slice(body);
        let wait = self.timeout / 2;
        for _ in 0..2 {
            self.socket
                .send(&request)
                .await
                .map_err(|e| TrackerError::Http(e.to_string()))?;
            let mut buf = vec![0u8; 4096];
            let Ok(got) = tokio::time::timeout(wait, self.socket.recv(&mut buf)).await else {
                continue;
            };
            let n = got.map_err(|e| TrackerError::Http(e.to_string()))?;
            if n < 8 || buf[4..8] != transaction.to_be_bytes() {
                continue;
            }
            let answered = u32::from_be_bytes(buf[..4].try_into().expect("4 bytes"));
            if answered == UDP_ERROR {
                return Err(TrackerError::Refused(
                    String::from_utf8_lossy(&buf[8..n]).into_owned(),
                ));
            }
            if answered != action {
                return Err(TrackerError::Garbled(format!(
                    "answered action {answered} to action {action}"
                )));
            }
            buf.truncate(n);
            return Ok(buf.split_off(8));
        }
        Err(TrackerError::Timeout(self.timeout))
    }

    async fn scrape(&mut self, info_hash: &[u8; 20]) -> Result<Scrape, TrackerError> {
        let a = self.exchange(UDP_SCRAPE, info_hash).await?;
        if a.len() < 12 {
            return Err(TrackerError::Garbled("short scrape answer".into()));
        }
        let n = |i: usize| u32::from_be_bytes(a[i..i + 4].try_into().expect("4 bytes")) as u64;
        Ok(Scrape {
            seeders: n(0),
            completed: n(4),
            leechers: n(8),
        })
    }

    async fn announce(
        &mut self,
        info_hash: &[u8; 20],
        peer_id: &[u8; 20],
        size: u64,
        event: u32,
    ) -> Result<Vec<SocketAddr>, TrackerError> {
        let mut body = Vec::with_capacity(82);
        body.extend_from_slice(info_hash);
        body.extend_from_slice(peer_id);
        body.extend_from_slice(&0u64.to_be_bytes()); // downloaded
        body.extend_from_slice(&size.to_be_bytes()); // left
        body.extend_from_slice(&0u64.to_be_bytes()); // uploaded
        body.extend_from_slice(&event.to_be_bytes());
        body.extend_from_slice(&0u32.to_be_bytes()); // our address: the one we send from
        body.extend_from_slice(&rand::random::<u32>().to_be_bytes()); // key
        body.extend_from_slice(&200i32.to_be_bytes()); // peers wanted
        body.extend_from_slice(&PROBE_PORT.to_be_bytes());
        let a = self.exchange(UDP_ANNOUNCE, &body).await?;
        if a.len() < 12 {
            return Err(TrackerError::Garbled("short announce answer".into()));
        }
        Ok(compact_v4(&a[12..]).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scrape_addresses_follow_bep_48() {
        let ok = |a: &str| scrape_url(a).unwrap();
        assert_eq!(ok("http://t.example/announce"), "http://t.example/scrape");
        assert_eq!(
            ok("http://t.example/x/announce.php?key=1"),
            "http://t.example/x/scrape.php?key=1"
        );
        assert!(scrape_url("http://t.example/a").is_err());
        assert!(scrape_url("http://t.example/announce/x").is_err());
    }

    #[test]
    fn info_hashes_are_percent_encoded_byte_by_byte() {
        assert_eq!(
            seedstr_proto::uri::component(&[0x00, b'a', 0xff, b'~', b' ']),
            "%00a%FF~%20"
        );
    }

    #[test]
    fn tracker_answers_are_read_or_named() {
        let ih = [7u8; 20];
        let mut body = b"d5:filesd20:".to_vec();
        body.extend_from_slice(&ih);
        body.extend_from_slice(b"d8:completei2e10:downloadedi5e10:incompletei1eeee");
        assert_eq!(
            parse_http_scrape(&body, &ih).unwrap(),
            Scrape {
                seeders: 2,
                leechers: 1,
                completed: 5
            }
        );
        assert!(matches!(
            parse_http_scrape(b"d5:filesdee", &ih),
            Err(TrackerError::Unknown)
        ));
        let refused = parse_http_scrape(b"d14:failure reason8:not heree", &ih).unwrap_err();
        assert_eq!(refused.to_string(), "the tracker refused: not here");

        let mut peers = b"d5:peers12:".to_vec();
        peers.extend_from_slice(&[127, 0, 0, 1, 0x1a, 0xe1, 10, 0, 0, 2, 0, 80]);
        peers.push(b'e');
        assert_eq!(
            parse_http_peers(&peers).unwrap(),
            vec![
                "127.0.0.1:6881".parse::<SocketAddr>().unwrap(),
                "10.0.0.2:80".parse().unwrap()
            ]
        );
        let listed = b"d5:peersld2:ip9:127.0.0.14:porti7eeee";
        assert_eq!(
            parse_http_peers(listed).unwrap(),
            vec!["127.0.0.1:7".parse::<SocketAddr>().unwrap()]
        );
        assert!(matches!(
            scheme("wss://t.example"),
            Err(TrackerError::Scheme(_))
        ));
    }
}
