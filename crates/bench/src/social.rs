//! `seedstr-bench social`: the social network's figures on loopback. Two owners' nodes run
//! in-process (temporary data folders, no DHT, no rate limits):
//!
//! - the home timeline page (`/me`, signed in) of an owner who follows `--follows` people
//!   whose `--posts` posts are in the store, fetched over one keep-alive connection;
//! - a private message from one node's owner to the other's, from the call that sends it to
//!   the moment the recipient's open subscription (authenticated) sees it;
//! - one friends-only post to `--friends` friends: every copy sealed, wrapped and taken by
//!   their inbox (the other node).

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use clap::Args;
use nostr::prelude::{Event, EventBuilder, FinalizeEvent as _, Keys, Kind, Tag, Timestamp};
use seedstr_client::relays::conn::RelayConn;
use seedstr_client::relays::RelaySet;
use seedstr_node::NodeConfig;
use seedstr_social::local::LocalState;
use seedstr_social::posts::{publish_post, Visibility};
use serde_json::{json, Value};

use super::stats::Latencies;
use super::web::post_events;

#[derive(Args)]
pub struct SocialBench {
    /// People the timeline's owner follows.
    #[arg(long, default_value_t = 1000)]
    follows: usize,
    /// Posts in the store, spread over the people followed.
    #[arg(long, default_value_t = 100_000)]
    posts: usize,
    /// Friends a friends-only post goes to.
    #[arg(long, default_value_t = 150)]
    friends: usize,
    /// Timed requests of the timeline page, and private messages sent.
    #[arg(long, default_value_t = 100)]
    requests: usize,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
}

const PASSPHRASE: &str = "bench passphrase";

/// A node for `owner` in `data`, running until `stop` fires; its HTTP address.
pub async fn start_node(
    owner: &Keys,
    wallet: Option<String>,
    data: &std::path::Path,
    stop: tokio::sync::oneshot::Receiver<()>,
) -> Result<(SocketAddr, tokio::task::JoinHandle<()>)> {
    // The pages' sign-in checks the passphrase against the stored key.
    seedstr_client::keys::store::KeyStore::new(data).save(owner, PASSPHRASE, true)?;
    let mut config = NodeConfig {
        data: data.to_owned(),
        ..NodeConfig::default()
    };
    config.http.listen = "127.0.0.1:0".parse()?;
    config.torrent.listen = "127.0.0.1:0".parse()?;
    config.dht.enabled = false;
    config.social.owner = true;
    let rate = &mut config.relay.rate;
    rate.events_per_ip_per_second = 0.0;
    rate.events_per_pubkey_per_second = 0.0;
    rate.reqs_per_ip_per_second = 0.0;
    config.social.inbox_per_ip_per_minute = 0.0;
    config.social.inbox_per_sender_per_minute = 0.0;
    let (addr_tx, addr_rx) = tokio::sync::oneshot::channel();
    let (data, owner) = (data.to_owned(), owner.clone());
    let wallet = wallet.clone();
    let handle = tokio::spawn(async move {
        let run = seedstr_node::run(
            &data,
            config,
            Some(seedstr_node::Owner {
                keys: owner,
                wallet,
            }),
            move |a| {
                let _ = addr_tx.send(a.http);
            },
            async move {
                let _ = stop.await;
            },
        );
        if let Err(e) = run.await {
            eprintln!("node: {e}");
        }
    });
    let http = addr_rx.await.context("the node did not start")?;
    Ok((http, handle))
}

/// A signed session cookie for `base`'s owner pages.
async fn sign_in(client: &reqwest::Client, base: &str) -> Result<String> {
    let answer = client
        .post(format!("{base}/me/signin"))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(format!("passphrase={}", PASSPHRASE.replace(' ', "+")))
        .send()
        .await?;
    let cookie = answer
        .headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .context("no session cookie")?;
    Ok(cookie.to_owned())
}

pub async fn run(b: &SocialBench) -> Result<Value> {
    if b.follows == 0 || b.requests == 0 {
        bail!("--follows and --requests must be at least 1");
    }
    let say = |line: String| {
        if b.json {
            eprintln!("{line}");
        } else {
            println!("{line}");
        }
    };
    let (alice, bob) = (Keys::generate(), Keys::generate());
    let (a_data, b_data) = (tempfile::tempdir()?, tempfile::tempdir()?);
    let (a_stop, a_stopped) = tokio::sync::oneshot::channel();
    let (b_stop, b_stopped) = tokio::sync::oneshot::channel();
    let (a_http, a_node) = start_node(&alice, None, a_data.path(), a_stopped).await?;
    let (b_http, b_node) = start_node(&bob, None, b_data.path(), b_stopped).await?;
    let (a_base, b_base) = (format!("http://{a_http}"), format!("http://{b_http}"));
    let (a_relay, b_relay) = (format!("ws://{a_http}/"), format!("ws://{b_http}/"));
    let report = measure(
        b,
        &say,
        &alice,
        &bob,
        (&a_base, &a_relay),
        (&b_base, &b_relay),
    )
    .await;
    let _ = a_stop.send(());
    let _ = b_stop.send(());
    let _ = a_node.await;
    let _ = b_node.await;
    report
}

async fn measure(
    b: &SocialBench,
    say: &impl Fn(String),
    alice: &Keys,
    bob: &Keys,
    (a_base, a_relay): (&str, &str),
    (_b_base, b_relay): (&str, &str),
) -> Result<Value> {
    // The corpus: people followed, their posts, alice's follow list.
    let t = Instant::now();
    let people: Vec<Keys> = (0..b.follows).map(|_| Keys::generate()).collect();
    let now = Timestamp::now().as_secs();
    let mut events: Vec<Event> = (0..b.posts)
        .map(|i| {
            EventBuilder::new(Kind::TextNote, format!("post {i} about maps and mods"))
                .custom_created_at(Timestamp::from(now - (b.posts - i) as u64))
                .finalize(&people[i % people.len()])
                .expect("signing")
        })
        .collect();
    events.push(
        EventBuilder::new(Kind::ContactList, "")
            .tags(people.iter().map(|p| Tag::public_key(p.public_key())))
            .finalize(alice)?,
    );
    say(format!(
        "signed {} posts by {} people in {:.1} s",
        b.posts,
        b.follows,
        t.elapsed().as_secs_f64()
    ));
    let t = Instant::now();
    post_events(a_base, &events).await?;
    let took = t.elapsed();
    say(format!(
        "stored them over HTTP in {:.1} s ({:.0} events/s)",
        took.as_secs_f64(),
        events.len() as f64 / took.as_secs_f64()
    ));

    // The timeline page, signed in.
    // Redirects are not followed: the sign-in's answer carries the cookie.
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    let cookie = sign_in(&client, a_base).await?;
    let mut page = Latencies::default();
    let mut shown = 0;
    for i in 0..b.requests + 3 {
        let t = Instant::now();
        let answer = client
            .get(format!("{a_base}/me"))
            .header("Cookie", &cookie)
            .send()
            .await?;
        let status = answer.status();
        let body = answer.text().await?;
        let took = t.elapsed();
        if !status.is_success() {
            bail!("/me: {status} {body}");
        }
        shown = body.matches("<article").count();
        if i >= 3 {
            page.push(took);
        }
    }
    let page = page.summary();
    say(format!("timeline page  {page}  ({shown} posts shown)"));

    // A private message, send to visible: bob listens on his node, authenticated.
    let both = RelaySet {
        urls: vec![a_relay.to_owned(), b_relay.to_owned()],
        timeout: Duration::from_secs(10),
    };
    let mut listener = RelayConn::connect(b_relay).await?;
    listener.authenticate(bob, b_relay).await?;
    listener
        .send(&json!(["REQ", "inbox", {"kinds": [1059], "#p": [bob.public_key().to_hex()], "limit": 0}]))
        .await?;
    loop {
        let m = listener.recv().await?;
        if m.first().and_then(Value::as_str) == Some("EOSE") {
            break;
        }
    }
    let mut dm = Latencies::default();
    for i in 0..b.requests {
        let t = Instant::now();
        let sent = seedstr_social::inbox::send_message(
            alice,
            &[bob.public_key()],
            &format!("message {i}"),
            &both,
        )
        .await?;
        let wrap = sent
            .deliveries
            .iter()
            .find(|d| d.recipient == seedstr_client::resolve::target::npub(&bob.public_key()))
            .map(|d| d.wrap.clone())
            .context("no copy for bob")?;
        loop {
            let m = listener.recv().await?;
            if m.first().and_then(Value::as_str) == Some("EVENT")
                && m.get(2).and_then(|e| e.get("id")).and_then(Value::as_str) == Some(&wrap)
            {
                break;
            }
        }
        dm.push(t.elapsed());
    }
    let dm = dm.summary();
    say(format!("message send to visible  {dm}"));

    // One friends-only post to many friends, whose inboxes are bob's node.
    let friends: Vec<Keys> = (0..b.friends).map(|_| Keys::generate()).collect();
    let lists: Vec<Event> = friends
        .iter()
        .map(|f| {
            EventBuilder::new(Kind::from(10050), "")
                .tag(Tag::parse(["relay", b_relay]).expect("a valid tag"))
                .finalize(f)
                .expect("signing")
        })
        .collect();
    post_events(a_base, &lists).await?;
    let own = RelaySet {
        urls: vec![a_relay.to_owned()],
        timeout: Duration::from_secs(30),
    };
    let keys: Vec<_> = friends.iter().map(|f| f.public_key()).collect();
    seedstr_social::friends::publish_friends_list(alice, &own, &keys, None).await?;
    let mut fanout = Latencies::default();
    let mut copies = 0;
    for i in 0..5 {
        let t = Instant::now();
        let posted = publish_post(
            alice,
            &format!("for my {} friends ({i})", b.friends),
            None,
            Visibility::Friends,
            &[],
            &own,
            &LocalState::default(),
        )
        .await?;
        fanout.push(t.elapsed());
        copies = posted.deliveries.len();
    }
    let fanout = fanout.summary();
    say(format!(
        "friends-only post to {} friends ({copies} copies)  {fanout}",
        b.friends
    ));
    Ok(json!({
        "follows": b.follows,
        "posts": b.posts,
        "timeline_page": page.to_json(),
        "posts_shown": shown,
        "message_send_to_visible": dm.to_json(),
        "friends": b.friends,
        "friends_only_post": fanout.to_json(),
        "copies": copies,
    }))
}
