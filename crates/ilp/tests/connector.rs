//! Three connectors in a line, A — B — C, with a STREAM receiver at C and a sender at A's child
//! alice: money crosses two hops, each taking its fee and shortening the expiry, and every
//! balance moves by what was fulfilled; the refusals (no route, too little time, over the
//! credit limit, too large, a next hop's forged fulfillment) carry their RFC 27 codes and move
//! nothing.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use seedstr_ilp::address::Address;
use seedstr_ilp::connector::{Connector, ConnectorConfig, LocalHandler, OwnPackets, PeerConfig};
use seedstr_ilp::ildcp::{request, IldcpResponse};
use seedstr_ilp::link::IlpLink;
use seedstr_ilp::packet::{ErrorCode, Fulfill, Prepare, Reject};
use seedstr_ilp::stream::receiver::{Delivered, ReceiverLimits, StreamReceiver};
use seedstr_ilp::stream::sender::{SendError, StreamSender};

const NOW: u64 = 1_800_000_000_000;

/// A link into a connector, as the peer `from`.
struct Into {
    target: Arc<Connector<Into>>,
    from: String,
}

impl IlpLink for Into {
    // Boxed: connectors linked to connectors make the future's type recursive.
    fn send(
        &self,
        prepare: Prepare,
    ) -> impl std::future::Future<Output = Result<Fulfill, Reject>> + Send {
        let (target, from) = (self.target.clone(), self.from.clone());
        let boxed: std::pin::Pin<Box<dyn std::future::Future<Output = _> + Send>> =
            Box::pin(async move { target.handle(&from, prepare, NOW).await });
        boxed
    }
}

/// C's receiver, noting each Prepare's expiry.
struct Receiving {
    receiver: Mutex<StreamReceiver>,
    delivered: Mutex<Vec<Delivered>>,
    expiries: Mutex<Vec<u64>>,
}

impl LocalHandler for Receiving {
    fn handle(&self, _from: &str, prepare: &Prepare) -> Result<Fulfill, Reject> {
        self.expiries.lock().unwrap().push(prepare.expires_at);
        let h = self.receiver.lock().unwrap().handle(prepare);
        self.delivered.lock().unwrap().extend(h.delivered);
        h.reply
    }
}

fn config(address: &str) -> ConnectorConfig {
    ConnectorConfig {
        address: Address::new(address).unwrap(),
        asset_code: "SAT".into(),
        asset_scale: 0,
        fee_ppm: 10_000,
        expiry_decrement: Duration::from_secs(1),
        min_expiry_window: Duration::from_secs(1),
    }
}

fn peer(name: &str, child: bool, credit_limit: u64) -> PeerConfig {
    PeerConfig {
        name: name.into(),
        child,
        credit_limit,
        settle_threshold: 500,
        max_packet_amount: 10_000,
    }
}

struct Line {
    a: Arc<Connector<Into>>,
    b: Arc<Connector<Into>>,
    c: Arc<Connector<Into>>,
    receiving: Arc<Receiving>,
}

fn line(alice_credit: u64) -> Line {
    let receiving = Arc::new(Receiving {
        receiver: Mutex::new(StreamReceiver::new(
            Address::new("test.c.receiver").unwrap(),
            [4; 32],
            "SAT",
            0,
            ReceiverLimits::default(),
        )),
        delivered: Mutex::new(Vec::new()),
        expiries: Mutex::new(Vec::new()),
    });
    let a = Arc::new(Connector::new(config("test.a"), None));
    let b = Arc::new(Connector::new(config("test.b"), None));
    let c = Arc::new(Connector::new(
        config("test.c"),
        Some(receiving.clone() as Arc<dyn LocalHandler>),
    ));
    a.add_peer(peer("alice", true, alice_credit), None);
    a.add_peer(
        peer("b", false, 1_000_000),
        Some(Arc::new(Into {
            target: b.clone(),
            from: "a".into(),
        })),
    );
    b.add_peer(
        peer("a", false, 1_000_000),
        Some(Arc::new(Into {
            target: a.clone(),
            from: "b".into(),
        })),
    );
    b.add_peer(
        peer("c", false, 1_000_000),
        Some(Arc::new(Into {
            target: c.clone(),
            from: "b".into(),
        })),
    );
    c.add_peer(
        peer("b", false, 1_000_000),
        Some(Arc::new(Into {
            target: b.clone(),
            from: "c".into(),
        })),
    );
    a.add_route("test.c", "b");
    b.add_route("test.c", "c");
    b.add_route("test.a", "a");
    c.add_route("test.a", "b");
    Line { a, b, c, receiving }
}

#[tokio::test]
async fn money_crosses_two_hops_and_every_balance_moves_by_what_was_fulfilled() {
    let l = line(1_000_000);
    let alice = Into {
        target: l.a.clone(),
        from: "alice".into(),
    };
    // ILDCP: alice learns her address under A.
    let me =
        IldcpResponse::from_fulfill(&alice.send(request(NOW + 30_000)).await.unwrap()).unwrap();
    assert_eq!(me.client_address.as_str(), "test.a.alice");

    let (destination, secret) = l.receiving.receiver.lock().unwrap().new_connection();
    let mut s = StreamSender::new(destination, &secret);
    let stream = s.open_stream();
    // 1,000 from alice: A keeps 10 (1%), B keeps 10 (1% of 990, rounded up): 980 arrive.
    let sent = s.send_money(&alice, stream, 1000, 980, NOW).await.unwrap();
    assert!(sent.fulfilled);
    assert_eq!(sent.arrived, 980);
    let got: u64 = l
        .receiving
        .delivered
        .lock()
        .unwrap()
        .iter()
        .map(|d| match d {
            Delivered::Money { amount, .. } => *amount,
            _ => 0,
        })
        .sum();
    assert_eq!(got, 980);
    // Each hop took a second off the expiry: it arrived with 28 of its 30 seconds.
    assert_eq!(l.receiving.expiries.lock().unwrap()[0], NOW + 28_000);
    let (a, b, c) = (l.a.accounts(), l.b.accounts(), l.c.accounts());
    assert_eq!((a["alice"].balance, a["b"].balance), (1000, -990));
    assert_eq!((b["a"].balance, b["c"].balance), (990, -980));
    assert_eq!(c["b"].balance, 980);
    assert_eq!(a["alice"].received, 1000);
    assert_eq!(b["c"].paid, 980);
    // Alice owes A more than her settlement threshold (500).
    assert_eq!(l.a.due_for_settlement(), vec![("alice".to_owned(), 1000)]);
    l.a.settled("alice", 1000);
    assert_eq!(l.a.accounts()["alice"].balance, 0);
    assert_eq!(l.a.accounts()["alice"].settled, 1000);
}

#[tokio::test]
async fn a_connectors_own_packets_take_no_fee_here_and_pay_from_its_account() {
    let l = line(0);
    let own = OwnPackets {
        connector: l.a.clone(),
        clock: Arc::new(|| NOW),
    };
    let (destination, secret) = l.receiving.receiver.lock().unwrap().new_connection();
    let mut s = StreamSender::new(destination, &secret);
    let stream = s.open_stream();
    // A keeps nothing of its own packet; B keeps 10 (1%).
    let sent = s.send_money(&own, stream, 1000, 990, NOW).await.unwrap();
    assert_eq!(sent.arrived, 990);
    let a = l.a.accounts();
    assert_eq!((a["b"].balance, a["b"].paid), (-1000, 1000));
    assert_eq!(a["alice"].balance, 0);
    assert_eq!(l.c.accounts()["b"].balance, 990);
}

#[tokio::test]
async fn refusals_carry_their_codes_and_move_nothing() {
    let l = line(1500);
    let alice = Into {
        target: l.a.clone(),
        from: "alice".into(),
    };
    let (destination, secret) = l.receiving.receiver.lock().unwrap().new_connection();
    let rejected = |r: Result<seedstr_ilp::stream::sender::Sent, SendError>| match r {
        Err(SendError::Rejected(r)) => r,
        other => panic!("{other:?}"),
    };

    // No route.
    let mut nowhere = StreamSender::new(Address::new("test.z.someone").unwrap(), &secret);
    let r = rejected(nowhere.send_money(&alice, 1, 10, 0, NOW).await);
    assert_eq!(
        (r.code, r.triggered_by.unwrap().as_str()),
        (ErrorCode::F02_UNREACHABLE, "test.a")
    );

    // Too little time: 1.5 s left, A needs 2 (its decrement and its window).
    let mut hurried = StreamSender::new(destination.clone(), &secret);
    hurried.expiry_ms = 1500;
    assert_eq!(
        rejected(hurried.send_money(&alice, 1, 10, 0, NOW).await).code,
        ErrorCode::R02_INSUFFICIENT_TIMEOUT
    );

    // Too large a packet.
    let mut s = StreamSender::new(destination, &secret);
    let stream = s.open_stream();
    let r = rejected(s.send_money(&alice, stream, 20_000, 0, NOW).await);
    assert_eq!(r.code, ErrorCode::F08_AMOUNT_TOO_LARGE);
    assert_eq!(r.data[8..16], 10_000u64.to_be_bytes());

    // Over alice's credit: 1,000 goes, a second 1,000 would make 2,000 over her 1,500.
    assert!(
        s.send_money(&alice, stream, 1000, 0, NOW)
            .await
            .unwrap()
            .fulfilled
    );
    let r = rejected(s.send_money(&alice, stream, 1000, 0, NOW).await);
    assert_eq!(r.code, ErrorCode::T04_INSUFFICIENT_LIQUIDITY);
    assert_eq!(l.a.accounts()["alice"].balance, 1000);
    assert_eq!(l.a.accounts()["alice"].pending_in, 0);
}

/// A next hop that answers every Prepare with a fulfillment of its own making.
struct Forger;

impl IlpLink for Forger {
    async fn send(&self, _prepare: Prepare) -> Result<Fulfill, Reject> {
        Ok(Fulfill {
            fulfillment: [7; 32],
            data: Vec::new(),
        })
    }
}

#[tokio::test]
async fn a_forged_fulfillment_from_the_next_hop_is_refused_and_pays_no_one() {
    let a: Connector<Forger> = Connector::new(config("test.a"), None);
    a.add_peer(peer("alice", true, 1_000_000), None);
    a.add_peer(peer("mallory", false, 1_000_000), Some(Arc::new(Forger)));
    a.add_route("test.m", "mallory");
    let prepare = Prepare {
        amount: 100,
        expires_at: NOW + 30_000,
        execution_condition: [1; 32],
        destination: Address::new("test.m.x").unwrap(),
        data: Vec::new(),
    };
    let r = a.handle("alice", prepare, NOW).await.unwrap_err();
    assert_eq!(r.code, ErrorCode::F05_WRONG_CONDITION);
    let accounts = a.accounts();
    assert_eq!(
        (accounts["alice"].balance, accounts["mallory"].balance),
        (0, 0)
    );
}

#[tokio::test]
async fn send_total_probes_the_rate_and_fits_packets_to_the_path() {
    let l = line(1_500);
    // A takes packets of at most 400 from alice.
    l.a.add_peer(
        PeerConfig {
            max_packet_amount: 400,
            ..peer("alice", true, 1_500)
        },
        None,
    );
    let alice = Into {
        target: l.a.clone(),
        from: "alice".into(),
    };
    let (destination, secret) = l.receiving.receiver.lock().unwrap().new_connection();
    let mut s = StreamSender::new(destination, &secret);
    let stream = s.open_stream();
    let total = s.send_total(&alice, stream, 1000, 0, NOW).await.unwrap();
    // The first quote (1,000) refused F08 by A, which said 400; the rate then 0.98.
    assert_eq!(total.rate_ppm, 980_000);
    assert_eq!(total.max_packet, 400);
    assert_eq!((total.sent, total.packets, total.refused), (1000, 3, 1));
    assert_eq!(total.arrived, 392 + 392 + 196);
    // Alice's credit (1,500) runs out: what went is reported, the rest refused T04.
    let err = s
        .send_total(&alice, stream, 1000, 0, NOW)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("of 1000 sent"), "{err}");
    assert_eq!(l.a.accounts()["alice"].balance, 1_500);
}

#[tokio::test]
async fn routes_spread_by_ccp_and_loops_are_cut() {
    let l = line(1_000_000);
    // Forget the static routes: A and B learn them from C and B.
    let a = Arc::new(Connector::new(config("test.a"), None));
    a.add_peer(peer("alice", true, 1_000_000), None);
    let b = Arc::new(Connector::new(config("test.b"), None));
    b.add_peer(
        peer("a", false, 1_000_000),
        Some(Arc::new(Into {
            target: a.clone(),
            from: "b".into(),
        })),
    );
    b.add_peer(
        peer("c", false, 1_000_000),
        Some(Arc::new(Into {
            target: l.c.clone(),
            from: "b".into(),
        })),
    );
    let c = l.c.clone();
    c.add_peer(
        peer("b", false, 1_000_000),
        Some(Arc::new(Into {
            target: b.clone(),
            from: "c".into(),
        })),
    );
    a.add_peer(
        peer("b", false, 1_000_000),
        Some(Arc::new(Into {
            target: b.clone(),
            from: "a".into(),
        })),
    );
    assert!(a
        .next_hop(&Address::new("test.c.receiver").unwrap())
        .is_none());

    // C tells B; B tells A (and C, who already knows itself); A tells B back, which B ignores
    // (the path passes B already).
    assert_eq!(c.broadcast_routes(NOW + 60_000).await, vec!["b".to_owned()]);
    assert_eq!(b.routes()["test.c"], "c");
    let mut told = b.broadcast_routes(NOW + 60_000).await;
    told.sort();
    assert_eq!(told, vec!["a".to_owned(), "c".to_owned()]);
    assert_eq!(a.routes()["test.c"], "b");
    let update = a.route_update();
    let to_c = update
        .new_routes
        .iter()
        .find(|r| r.prefix.as_str() == "test.c")
        .unwrap();
    assert_eq!(to_c.path, vec!["test.a", "test.b", "test.c"]);
    a.broadcast_routes(NOW + 60_000).await;
    assert_eq!(
        b.routes()["test.c"],
        "c",
        "a route back through B itself was ignored"
    );
    assert!(
        !c.routes().contains_key("test.c"),
        "C's own address is never routed away"
    );

    // Alice pays C through the routes learned.
    let alice = Into {
        target: a.clone(),
        from: "alice".into(),
    };
    let (destination, secret) = l.receiving.receiver.lock().unwrap().new_connection();
    let mut s = StreamSender::new(destination, &secret);
    let stream = s.open_stream();
    assert!(
        s.send_money(&alice, stream, 1000, 980, NOW)
            .await
            .unwrap()
            .fulfilled
    );

    // A child announcing routes is refused.
    let bogus = b.route_update().to_prepare(NOW + 60_000);
    let r = a.handle("alice", bogus, NOW).await.unwrap_err();
    assert_eq!(r.code, ErrorCode::F00_BAD_REQUEST);
}

/// Answers settlement messages by echoing who sent what where.
struct Echo;

impl seedstr_ilp::settle::SettlementHandler for Echo {
    fn handle<'a>(
        &'a self,
        from: &'a str,
        destination: &'a str,
        data: &'a [u8],
    ) -> seedstr_ilp::settle::Handling<'a> {
        Box::pin(async move {
            if data == b"refuse" {
                return Err("refused as asked".to_owned());
            }
            Ok(format!("{from} {destination} {}", String::from_utf8_lossy(data)).into_bytes())
        })
    }
}

#[tokio::test]
async fn settlement_messages_reach_the_handler_between_peers_and_move_no_money() {
    use seedstr_ilp::settle::{message, CLAIM_DESTINATION, INFO_DESTINATION};
    let l = line(0);
    // No handler yet: refused by name.
    let r =
        l.a.send_to_peer("b", message(INFO_DESTINATION, Vec::new(), NOW + 30_000))
            .await
            .unwrap_err();
    assert_eq!(r.code, ErrorCode::F02_UNREACHABLE);
    assert!(l.b.set_settlement(Arc::new(Echo)));
    let f =
        l.a.send_to_peer(
            "b",
            message(CLAIM_DESTINATION, b"a claim".to_vec(), NOW + 30_000),
        )
        .await
        .unwrap();
    assert_eq!(f.data, b"a peer.settle.claim a claim");
    let r =
        l.a.send_to_peer(
            "b",
            message(CLAIM_DESTINATION, b"refuse".to_vec(), NOW + 30_000),
        )
        .await
        .unwrap_err();
    assert_eq!(
        (r.code, r.message.as_str()),
        (ErrorCode::F00_BAD_REQUEST, "refused as asked")
    );
    // Not a peer: refused; and no account moved.
    let r =
        l.b.handle(
            "stranger",
            message(INFO_DESTINATION, Vec::new(), NOW + 30_000),
            NOW,
        )
        .await
        .unwrap_err();
    assert_eq!(r.code, ErrorCode::F00_BAD_REQUEST);
    assert_eq!(l.b.accounts()["a"].balance, 0);
    // Settled both ways: what a peer settled lowers what it owes; what we settled, what we owe.
    l.b.settled("a", 5);
    l.a.settled_out("b", 5);
    assert_eq!(
        (l.b.accounts()["a"].balance, l.b.accounts()["a"].settled),
        (-5, 5)
    );
    assert_eq!(
        (l.a.accounts()["b"].balance, l.a.accounts()["b"].settled_out),
        (5, 5)
    );
}
