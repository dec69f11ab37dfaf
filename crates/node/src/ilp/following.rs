//! The owner's follows as subscriptions (docs/ilp.md, "Following over STREAM"): for each person
//! the owner follows (kind 3) whose node announces itself (32001), the node peers with that node
//! when it takes strangers, and subscribes to the person's events there over STREAM, paying the
//! announced price; the events come back as that node's packets, are stored here like any
//! client's (signatures checked) and so reach this node's own subscribers: paid events travel
//! on, hop by hop. A subscription whose paid time ran out is renewed.

use std::collections::{BTreeMap, HashSet};
use std::net::{IpAddr, Ipv4Addr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use nostr::prelude::{Keys, PublicKey};
use seedstr_client::relays::{query_all, RelaySet};
use seedstr_ilp::address::Address;
use seedstr_ilp::announcement::{NodeInfo, NODE_INFO_KIND};
use seedstr_ilp::connector::{OwnPackets, PeerConfig};
use seedstr_ilp::nostr_frames::{encode_message, MessageReader};
use seedstr_ilp::peer_auth::{account_name, sign_token};
use seedstr_ilp::stream::packet::Frame;
use seedstr_ilp::stream::receiver::{Decision, Incoming};
use seedstr_ilp::stream::sender::StreamSender;
use seedstr_relay::Relay;
use serde::Serialize;
use tokio::sync::mpsc;

use super::{IlpConfig, IlpNode};

/// Messages from a followed node waiting to be taken; past it its packets are refused.
const WAITING: usize = 1024;
/// The address the relay sees for events that came over Interledger.
const CARRIED: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);
/// People followed over STREAM at most.
pub const MAX_FOLLOWED: usize = 256;
/// Tries at paying for one subscription (each learning what arrives of what was sent).
const PAY_TRIES: usize = 4;

/// One followed person, as the economic view shows them.
#[derive(Debug, Clone, Default, Serialize)]
pub struct FollowStatus {
    /// Their key (hex).
    pub person: String,
    /// Their node's ILP address.
    pub node: String,
    /// Whether this node has a session with theirs (else it reaches it through its peers).
    pub peered: bool,
    /// What the subscription is doing: `subscribing`, `stored events sent`, `live`, or why not.
    pub state: String,
    /// Paid for subscriptions so far.
    pub paid: u64,
    /// Events that came and were stored (or were already here).
    pub events: u64,
}

/// Where the answers of a followed node arrive: the connection this node opened, by the token
/// of the address it gave for them.
pub(super) struct FollowEnd {
    reader: MessageReader,
    next: BTreeMap<u64, u64>,
    answers: mpsc::Sender<String>,
}

impl FollowEnd {
    /// Takes one packet of answers: cut into messages, in order per stream, and queued for the
    /// subscription; refused when out of order or when the queue has no room (nothing taken).
    pub(super) fn decide(&mut self, incoming: &Incoming<'_>) -> Decision {
        let refuse = |why: &str| Decision {
            refuse: Some(why.to_owned()),
            reply_data: Vec::new(),
        };
        let mut reader = self.reader.clone();
        let mut next = self.next.clone();
        let mut messages = Vec::new();
        for (stream, offset, bytes) in &incoming.data {
            let at = next.entry(*stream).or_default();
            if offset != at {
                return refuse("send in order");
            }
            *at += bytes.len() as u64;
            match reader.push(bytes) {
                Ok(found) => messages.extend(found),
                Err(e) => return refuse(&format!("invalid: {e}")),
            }
        }
        if self.answers.capacity() < messages.len() {
            return refuse("busy: answers waiting; send later");
        }
        for m in messages {
            let _ = self.answers.try_send(m);
        }
        self.reader = reader;
        self.next = next;
        Decision::default()
    }
}

/// Everyone followed, by key.
#[derive(Default)]
pub(super) struct Followed {
    statuses: Mutex<BTreeMap<String, Arc<Mutex<FollowStatus>>>>,
}

impl Followed {
    /// The statuses, for the economic view.
    pub(super) fn statuses(&self) -> Vec<FollowStatus> {
        self.statuses
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .values()
            .map(|s| s.lock().unwrap_or_else(|p| p.into_inner()).clone())
            .collect()
    }
}

fn set(status: &Mutex<FollowStatus>, change: impl FnOnce(&mut FollowStatus)) {
    change(&mut status.lock().unwrap_or_else(|p| p.into_inner()));
}

/// Looks, now and every `ilp.follow_secs`, at whom the owner follows and follows each one's
/// node it has not followed yet.
pub async fn keep_following(
    node: Arc<IlpNode>,
    owner: Keys,
    relay: Arc<Relay>,
    relays: RelaySet,
    config: IlpConfig,
) {
    let mut started: HashSet<PublicKey> = HashSet::new();
    let every = Duration::from_secs(config.follow_secs.max(1));
    loop {
        match announced_follows(&owner, &relays).await {
            Ok(found) => {
                for (person, info) in found {
                    if info.address == *node.connector.address()
                        || started.contains(&person)
                        || started.len() >= MAX_FOLLOWED
                    {
                        continue;
                    }
                    started.insert(person);
                    let status = Arc::new(Mutex::new(FollowStatus {
                        person: person.to_hex(),
                        node: info.address.to_string(),
                        state: "subscribing".into(),
                        ..FollowStatus::default()
                    }));
                    node.followed
                        .statuses
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .insert(person.to_hex(), status.clone());
                    peer_with(&node, &owner, person, &info, &config, &status);
                    tokio::spawn(follow_person(
                        node.clone(),
                        relay.clone(),
                        person,
                        info,
                        config.clone(),
                        status,
                    ));
                }
            }
            Err(e) => tracing::info!(target: "seedstr::ilp", "the owner's follows: {e}"),
        }
        tokio::time::sleep(every).await;
    }
}

/// The people the owner follows whose node announced itself, with the announcement (the newest
/// each, checked).
async fn announced_follows(
    owner: &Keys,
    relays: &RelaySet,
) -> Result<Vec<(PublicKey, NodeInfo)>, String> {
    let (follows, _) = seedstr_social::people::follow_list(relays, &owner.public_key())
        .await
        .map_err(|e| e.to_string())?;
    let people: Vec<PublicKey> = follows
        .following
        .into_iter()
        .filter(|p| *p != owner.public_key())
        .take(MAX_FOLLOWED)
        .collect();
    if people.is_empty() {
        return Ok(Vec::new());
    }
    let filter = serde_json::json!({
        "kinds": [NODE_INFO_KIND],
        "authors": people.iter().map(|p| p.to_hex()).collect::<Vec<_>>(),
        "#d": [seedstr_ilp::announcement::NODE_INFO_D],
    });
    let found = query_all(&relays.urls, &filter, relays.timeout).await;
    let newest = seedstr_proto::event::newest_by_address(
        found.events.iter().filter(|e| people.contains(&e.pubkey)),
    );
    Ok(newest
        .into_iter()
        .filter_map(|e| match NodeInfo::from_event(e.event()) {
            Ok(info) => Some((e.pubkey, info)),
            Err(err) => {
                tracing::info!(target: "seedstr::ilp", "{}'s node announcement: {err}", e.pubkey);
                None
            }
        })
        .collect())
}

/// Opens (and keeps) a session with a followed person's node, authenticated by a peering token
/// signed by the owner; a node that does not take strangers refuses, and is then reached
/// through this node's peers.
fn peer_with(
    node: &Arc<IlpNode>,
    owner: &Keys,
    person: PublicKey,
    info: &NodeInfo,
    config: &IlpConfig,
    status: &Arc<Mutex<FollowStatus>>,
) {
    let name = account_name(&person);
    node.connector.add_peer(
        PeerConfig {
            name: name.clone(),
            child: false,
            credit_limit: config.stranger_credit_limit,
            settle_threshold: config.stranger_credit_limit,
            max_packet_amount: config.stranger_max_packet,
        },
        None,
    );
    let (owner, url, status) = (owner.clone(), info.btp.clone(), status.clone());
    let token: super::TokenMaker =
        Arc::new(move || sign_token(&owner, &url, seedstr_proto::clock::unix_now()));
    let linked: super::OnLink = Arc::new(move |up| set(&status, |s| s.peered = up));
    tokio::spawn(super::keep_linked(
        node.connector.clone(),
        node.handler.clone(),
        name,
        info.btp.clone(),
        token,
        node.connector.address().to_string(),
        Some(linked),
    ));
}

/// Why one subscription attempt ended.
enum Ended {
    /// Its paid time ran out: renew now.
    Renew,
    /// Something failed: try again later.
    Failed(String),
}

/// Keeps one person's subscription going at their node.
async fn follow_person(
    node: Arc<IlpNode>,
    relay: Arc<Relay>,
    person: PublicKey,
    info: NodeInfo,
    config: IlpConfig,
    status: Arc<Mutex<FollowStatus>>,
) {
    let later = Duration::from_secs(config.follow_secs.max(1));
    loop {
        match subscribe_once(&node, &relay, person, &info, &config, &status).await {
            Ended::Renew => set(&status, |s| s.state = "renewing".into()),
            Ended::Failed(why) => {
                tracing::info!(target: "seedstr::ilp", "following {person} at {}: {why}", info.address);
                set(&status, |s| s.state = why);
                tokio::time::sleep(later).await;
            }
        }
    }
}

/// One subscription: connection details from the node's SPSP endpoint, an address here for
/// its answers, the REQ paid for, then the answers taken until it closes.
async fn subscribe_once(
    node: &Arc<IlpNode>,
    relay: &Arc<Relay>,
    person: PublicKey,
    info: &NodeInfo,
    config: &IlpConfig,
    status: &Arc<Mutex<FollowStatus>>,
) -> Ended {
    let price = info.prices.per_subscription.map_or(0, |(p, _)| p);
    if price > config.max_subscription_price {
        return Ended::Failed(format!(
            "its subscriptions cost {price}, over ilp.max_subscription_price ({})",
            config.max_subscription_price
        ));
    }
    let Some(spsp) = &info.spsp else {
        return Ended::Failed("its announcement names no SPSP endpoint".into());
    };
    let (destination, secret) = match super::spsp::fetch(spsp).await {
        Ok(d) => d,
        Err(e) => return Ended::Failed(e),
    };
    let Some(back) = node.receiver.receiver_lock().accept_replies(secret) else {
        return Ended::Failed("this node holds as many connections as it may".into());
    };
    let token = back
        .as_str()
        .rsplit('.')
        .next()
        .unwrap_or_default()
        .to_owned();
    let (answers, mut answered) = mpsc::channel(WAITING);
    node.receiver.app_lock().replies.insert(
        token.clone(),
        FollowEnd {
            reader: MessageReader::default(),
            next: BTreeMap::new(),
            answers,
        },
    );
    let ended = take_answers(
        node,
        relay,
        person,
        destination,
        secret,
        back,
        price,
        status,
        &mut answered,
    )
    .await;
    node.receiver.app_lock().replies.remove(&token);
    node.receiver.receiver_lock().forget_replies(&token);
    ended
}

#[allow(clippy::too_many_arguments)]
async fn take_answers(
    node: &Arc<IlpNode>,
    relay: &Arc<Relay>,
    person: PublicKey,
    destination: Address,
    secret: [u8; 32],
    back: Address,
    price: u64,
    status: &Arc<Mutex<FollowStatus>>,
    answered: &mut mpsc::Receiver<String>,
) -> Ended {
    let link = OwnPackets {
        connector: node.connector.clone(),
        clock: Arc::new(super::now_ms),
    };
    let mut sender = StreamSender::new(destination, &secret);
    let stream = sender.open_stream();
    let req = serde_json::json!(["REQ", "follow", {"authors": [person.to_hex()]}]).to_string();
    let frames = vec![
        Frame::ConnectionNewAddress {
            source_account: back,
        },
        Frame::StreamMoney {
            stream_id: stream,
            shares: 1,
        },
        Frame::StreamData {
            stream_id: stream,
            offset: 0,
            data: encode_message(&req),
        },
    ];
    // What arrives is what is left after each hop's fee: learn it from a refusal and send
    // enough for the price to arrive.
    let mut amount = price;
    let mut paid = false;
    for _ in 0..PAY_TRIES {
        match sender
            .send(&link, amount, price, frames.clone(), true, super::now_ms())
            .await
        {
            Ok(sent) if sent.fulfilled => {
                paid = true;
                break;
            }
            Ok(sent) if sent.arrived > 0 && sent.arrived < price => {
                amount = (u128::from(amount) * u128::from(price)).div_ceil(u128::from(sent.arrived))
                    as u64;
            }
            Ok(sent) => {
                let mut reader = MessageReader::default();
                let said: Vec<String> = sent
                    .frames
                    .iter()
                    .flat_map(|f| match f {
                        Frame::StreamData { data, .. } => reader.push(data).unwrap_or_default(),
                        _ => Vec::new(),
                    })
                    .collect();
                return Ended::Failed(format!("the subscription was refused: {said:?}"));
            }
            Err(e) => return Ended::Failed(format!("paying for the subscription: {e}")),
        }
    }
    if !paid {
        return Ended::Failed("the subscription's price did not arrive".into());
    }
    set(status, |s| {
        s.paid += amount;
        s.state = "stored events sent".into();
    });
    while let Some(m) = answered.recv().await {
        let Ok(serde_json::Value::Array(parts)) = serde_json::from_str::<serde_json::Value>(&m)
        else {
            continue;
        };
        match parts.first().and_then(|k| k.as_str()) {
            Some("EVENT") => {
                let Some(event) = parts.get(2) else { continue };
                // Only what was asked for: the followed person's own events.
                if event.get("pubkey").and_then(|p| p.as_str()) != Some(&person.to_hex()) {
                    continue;
                }
                match relay.submit_paid(CARRIED, &event.to_string()).await {
                    Ok(_) => set(status, |s| s.events += 1),
                    Err((id, why)) => {
                        tracing::info!(target: "seedstr::ilp", "an event from {person}'s node ({id:?}) was not stored: {why}")
                    }
                }
            }
            Some("EOSE") => set(status, |s| s.state = "live".into()),
            Some("CLOSED") => {
                let why = parts.get(2).and_then(|w| w.as_str()).unwrap_or_default();
                if why.contains("ran out") {
                    return Ended::Renew;
                }
                return Ended::Failed(format!("the subscription was closed: {why}"));
            }
            _ => {}
        }
    }
    Ended::Failed("the node stopped answering".into())
}
