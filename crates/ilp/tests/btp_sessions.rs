//! BTP over a real WebSocket on loopback: a client authenticates with its token (a wrong one is
//! refused), asks ILDCP for its address, and a STREAM sender pays and writes through the
//! session to the server's receiver.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::TestNode;
use seedstr_ilp::btp_session::{connect_btp, serve_btp, SessionError};
use seedstr_ilp::ildcp::{request, IldcpResponse};
use seedstr_ilp::link::IlpLink;
use seedstr_ilp::stream::sender::StreamSender;

const NOW: u64 = 1_800_000_000_000;

async fn server(node: Arc<TestNode>) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("ws://{}", listener.local_addr().unwrap());
    let (sessions, mut rx) = tokio::sync::mpsc::channel(8);
    tokio::spawn(async move { while rx.recv().await.is_some() {} });
    let auth = Arc::new(|user: &str, token: &str| {
        (token == "alice-token").then(|| format!("alice{user}"))
    });
    tokio::spawn(serve_btp(
        listener,
        auth,
        node,
        sessions,
        Duration::from_secs(10),
    ));
    url
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_authenticates_learns_its_address_and_streams_money_and_data() {
    let node = Arc::new(TestNode::new("test.seedstr"));
    let url = server(node.clone()).await;
    let nothing = Arc::new(TestNode::new("test.client"));
    match connect_btp(
        &url,
        "",
        "wrong",
        "server",
        nothing.clone(),
        Duration::from_secs(10),
    )
    .await
    {
        Err(SessionError::Refused(why)) => assert!(why.contains("auth_token"), "{why}"),
        Err(e) => panic!("{e}"),
        Ok(_) => panic!("a wrong token was taken"),
    }
    let peer = connect_btp(
        &url,
        "",
        "alice-token",
        "server",
        nothing,
        Duration::from_secs(10),
    )
    .await
    .unwrap();
    let ildcp = peer.send(request(NOW)).await.unwrap();
    let me = IldcpResponse::from_fulfill(&ildcp).unwrap();
    assert_eq!(me.client_address.as_str(), "test.seedstr.alice");
    assert_eq!(me.asset_code, "SAT");

    let (destination, secret) = node.receiver.lock().unwrap().new_connection();
    let mut s = StreamSender::new(destination, &secret);
    let stream = s.open_stream();
    for _ in 0..10 {
        assert!(
            s.send_money(&peer, stream, 21, 21, NOW)
                .await
                .unwrap()
                .fulfilled
        );
    }
    s.send_data(&peer, stream, b"[\"EVENT\",{}]", NOW)
        .await
        .unwrap();
    assert_eq!(node.money(), 210);
    assert_eq!(node.data(), b"[\"EVENT\",{}]");
}
