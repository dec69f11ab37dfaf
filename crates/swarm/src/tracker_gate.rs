//! HTTP trackers, reached through a gate that caps their answers.
//!
//! librqbit reads an HTTP tracker's whole answer into memory with no limit, so a hostile
//! tracker named in a release could stream gigabytes into the process. The session is therefore
//! never given an HTTP tracker's own address: [`TrackerGate::route`] turns it into an address on
//! a small server on loopback (under a random path only this process knows), which forwards each announce (librqbit's query string as is) and
//! passes back at most [`crate::health::tracker::MAX_TRACKER_ANSWER`] bytes, or a bencoded failure naming the cap, which
//! librqbit logs and retries later like any tracker failure. UDP trackers answer in single
//! datagrams and need no gate.

use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

use axum::extract::{Path, RawQuery};
use axum::routing::get;
use axum::Router;

use crate::health::tracker::http_get;

/// How long the gate waits for a tracker's answer.
const TRACKER_TIMEOUT: Duration = Duration::from_secs(30);

/// The gate's server; it stops when dropped.
pub struct TrackerGate {
    addr: SocketAddr,
    /// A random path segment only this process knows, so other local programs (or a web page
    /// guessing the port) cannot use the gate to fetch addresses of their choosing.
    token: String,
    server: tokio::task::JoinHandle<()>,
}

impl TrackerGate {
    /// Starts the gate on a free loopback port.
    pub async fn start() -> std::io::Result<TrackerGate> {
        let listener = tokio::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await?;
        let addr = listener.local_addr()?;
        let token = hex::encode(rand::random::<[u8; 16]>());
        let app = Router::new().route(&format!("/{token}/announce/{{tracker}}"), get(forward));
        let server = tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, app).await {
                tracing::warn!("the tracker gate stopped: {e}");
            }
        });
        Ok(TrackerGate {
            addr,
            token,
            server,
        })
    }

    /// The address to give librqbit for `tracker`: through the gate for `http://` and
    /// `https://` trackers, unchanged for the others.
    pub fn route(&self, tracker: &str) -> String {
        if tracker.starts_with("http://") || tracker.starts_with("https://") {
            format!(
                "http://{}/{}/announce/{}",
                self.addr,
                self.token,
                hex::encode(tracker.as_bytes())
            )
        } else {
            tracker.to_owned()
        }
    }
}

impl Drop for TrackerGate {
    fn drop(&mut self) {
        self.server.abort();
    }
}

/// Forwards one announce to the tracker the path names and relays its answer.
async fn forward(Path(tracker): Path<String>, RawQuery(query): RawQuery) -> Vec<u8> {
    let target = hex::decode(&tracker)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .filter(|t| t.starts_with("http://") || t.starts_with("https://"));
    let Some(target) = target else {
        return failure("not a tracker address this gate forwards to");
    };
    let url = match query {
        Some(q) if target.contains('?') => format!("{target}&{q}"),
        Some(q) => format!("{target}?{q}"),
        None => target.clone(),
    };
    match http_get(&url, TRACKER_TIMEOUT).await {
        Ok(body) => body,
        Err(e) => {
            tracing::debug!("tracker {target}: {e}");
            failure(&e.to_string())
        }
    }
}

/// A tracker's failure answer (BEP 3): what librqbit reports as the tracker's refusal.
fn failure(why: &str) -> Vec<u8> {
    let mut out = format!("d14:failure reason{}:", why.len()).into_bytes();
    out.extend_from_slice(why.as_bytes());
    out.push(b'e');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::health::tracker::MAX_TRACKER_ANSWER;

    #[test]
    fn a_failure_is_a_bencoded_dictionary_naming_the_reason() {
        let answer = failure("over 262144 bytes");
        assert_eq!(
            answer,
            b"d14:failure reason17:over 262144 bytes"
                .iter()
                .chain(b"e")
                .copied()
                .collect::<Vec<u8>>()
        );
        crate::bencode_check::check(&answer).unwrap();
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig {
            rng_seed: proptest::test_runner::RngSeed::Fixed(0x5eed),
            failure_persistence: None,
            ..proptest::prelude::ProptestConfig::default()
        })]

        /// Any reason makes a failure answer a tracker client reads as one.
        #[test]
        fn every_failure_answer_is_a_bencoded_failure(why in ".{0,200}") {
            let answer = failure(&why);
            crate::bencode_check::check(&answer).unwrap();
            let value: librqbit_bencode::BencodeValue<librqbit_bencode::ByteBuf> =
                librqbit_bencode::from_bytes(&answer).unwrap();
            let librqbit_bencode::BencodeValue::Dict(d) = value else { panic!("not a dict") };
            let reason = d.get(&librqbit_bencode::ByteBuf(b"failure reason")).unwrap();
            let librqbit_bencode::BencodeValue::Bytes(b) = reason else { panic!("not bytes") };
            proptest::prop_assert_eq!(b.as_ref(), why.as_bytes());
        }
    }

    #[tokio::test]
    async fn only_http_trackers_are_routed_through_the_gate() {
        let gate = TrackerGate::start().await.unwrap();
        let routed = gate.route("http://tracker.example/announce?key=1");
        assert!(routed.starts_with(&format!("http://{}/{}/announce/", gate.addr, gate.token)));
        let hex_part = routed.rsplit('/').next().unwrap();
        assert_eq!(
            hex::decode(hex_part).unwrap(),
            b"http://tracker.example/announce?key=1"
        );
        assert_eq!(
            gate.route("udp://tracker.example:6969"),
            "udp://tracker.example:6969"
        );
    }

    /// A tracker that answers an announce with an endless body: the gate stops reading at the
    /// cap and answers with a failure naming it; an honest tracker's answer passes as it is,
    /// with the announce's query string.
    #[tokio::test]
    async fn an_endless_answer_stops_at_the_cap_and_an_honest_one_passes() {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let tracker = tokio::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .await
            .unwrap();
        let tracker_addr = tracker.local_addr().unwrap();
        tokio::spawn(async move {
            while let Ok((mut tcp, _)) = tracker.accept().await {
                tokio::spawn(async move {
                    let mut head = vec![0u8; 4096];
                    let n = tcp.read(&mut head).await.unwrap_or(0);
                    let head = String::from_utf8_lossy(&head[..n]).into_owned();
                    if head.starts_with("GET /endless") {
                        let _ = tcp.write_all(b"HTTP/1.1 200 OK\r\n\r\n").await;
                        let chunk = vec![b'x'; 64 * 1024];
                        while tcp.write_all(&chunk).await.is_ok() {}
                    } else {
                        // Echo the query back inside a valid answer.
                        let line = head.lines().next().unwrap_or_default().to_owned();
                        let body = format!("d4:line{}:{line}e", line.len());
                        let reply = format!(
                            "HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n{body}",
                            body.len()
                        );
                        let _ = tcp.write_all(reply.as_bytes()).await;
                    }
                });
            }
        });
        let gate = TrackerGate::start().await.unwrap();
        let client = reqwest::Client::new();
        let ask = |tracker: String| {
            let url = format!("{}?info_hash=%01%02&port=6881", gate.route(&tracker));
            let client = client.clone();
            async move { client.get(url).send().await.unwrap().bytes().await.unwrap() }
        };
        let endless = ask(format!("http://{tracker_addr}/endless/announce")).await;
        let text = String::from_utf8_lossy(&endless).into_owned();
        assert!(text.starts_with("d14:failure reason"), "{text}");
        assert!(
            text.contains(&format!("over {MAX_TRACKER_ANSWER} bytes")),
            "{text}"
        );
        let honest = ask(format!("http://{tracker_addr}/announce?key=7")).await;
        let text = String::from_utf8_lossy(&honest).into_owned();
        assert!(
            text.contains("GET /announce?key=7&info_hash=%01%02&port=6881 HTTP/1.1"),
            "{text}"
        );
        // Without the token, the gate forwards nothing.
        let hex_url = hex::encode(format!("http://{tracker_addr}/announce"));
        let guessed = format!("http://{}/announce/{hex_url}?info_hash=%01", gate.addr);
        let status = client.get(guessed).send().await.unwrap().status();
        assert_eq!(status, reqwest::StatusCode::NOT_FOUND);
    }
}
