//! `seedstr feed …`: an identity's feed on the DHT, written and read without relays.

use std::time::Duration;

use anyhow::{bail, Result};
use clap::{Args, Subcommand};
use seedstr_client::feed::{follow_feed, post_note, publish_feed, resolve_feed, ResolveOptions};
use seedstr_client::keys::store::{home, passphrase, KeyStore};
use seedstr_client::resolve::target::parse_public_key;
use seedstr_dht::record::DEFAULT_FEED_SALT;
use seedstr_dht::DhtNode;
use seedstr_swarm::Swarm;

use crate::dht::DhtArgs;
use crate::net_args::{print_json, runtime, say, transfer_runtime, PeerArgs, RelayArgs};

#[derive(Subcommand)]
pub enum FeedCommand {
    /// Write your feed: an index torrent of your newest signed events, registered for seeding
    /// (`seedstr seed` serves it), and the DHT pointer to it.
    Publish(PublishArgs),
    /// Read an identity's feed from the DHT and the swarm, and print its verified events.
    Resolve(ResolveArgs),
    /// Follow an identity: read its feed now, keep its feed pointer and name records for
    /// `seedstr seed` to republish every hour, and seed its feed index.
    Follow(ResolveArgs),
}

#[derive(Args)]
pub struct PublishArgs {
    /// Which of your feeds (BEP-44 salt, at most 64 bytes).
    #[arg(long, default_value = DEFAULT_FEED_SALT)]
    salt: String,
    /// Also sign a short text note (kind 1) into the feed.
    #[arg(long)]
    post: Option<String>,
    /// HTTP URL serving the index file, for readers the swarm fails (repeatable; a URL ending
    /// in `/` gets the file name appended).
    #[arg(long = "web-seed")]
    web_seeds: Vec<String>,
    #[command(flatten)]
    dht: DhtArgs,
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
pub struct ResolveArgs {
    /// npub or hex public key.
    who: String,
    #[arg(long, default_value = DEFAULT_FEED_SALT)]
    salt: String,
    /// Seconds the swarm may go without delivering before web seeds are tried.
    #[arg(long, default_value_t = 30)]
    stall_timeout: u64,
    #[command(flatten)]
    relay: RelayArgs,
    #[command(flatten)]
    peer: PeerArgs,
    /// Print the whole result, events included, as one JSON object.
    #[arg(long)]
    json: bool,
}

pub fn run(cmd: FeedCommand) -> Result<()> {
    match cmd {
        FeedCommand::Publish(p) => publish(p),
        FeedCommand::Resolve(r) => resolve(r),
        FeedCommand::Follow(f) => follow(f),
    }
}

fn publish(args: PublishArgs) -> Result<()> {
    let home = home();
    let keys = KeyStore::new(&home).load(&passphrase(false)?)?;
    if let Some(text) = &args.post {
        post_note(&home, &keys, text)?;
    }
    let published = runtime()?.block_on(async {
        let dht = args.dht.join().await?;
        anyhow::Ok(publish_feed(&home, &keys, &dht, &args.salt, &args.web_seeds).await?)
    })?;
    for b in &published.broken {
        eprintln!("warning: left out a kept event that no longer verifies: {b}");
    }
    if args.json {
        print_json(&published);
    } else {
        say(&format!(
            "feed {:?}: {} events ({} bytes) in index {}; pointer seq {} stored at {} nodes",
            published.salt,
            published.events,
            published.bytes,
            published.infohash,
            published.pointer.seq,
            published.pointer.stored_at
        ));
        say("registered for seeding; `seedstr seed` serves it");
    }
    Ok(())
}

impl ResolveArgs {
    /// Runs `read` on a DHT node and a BitTorrent session joined as these flags say.
    fn with_dht_and_swarm<T>(
        &self,
        read: impl AsyncFnOnce(&DhtNode, &Swarm) -> Result<T>,
    ) -> Result<T> {
        transfer_runtime()?.block_on(async {
            let Some(dht) = self.peer.join_dht(false).await? else {
                bail!("a feed is found through the DHT; drop --no-dht");
            };
            let swarm = self.peer.start_swarm(None).await?;
            let r = read(&dht, &swarm).await;
            swarm.stop().await;
            r
        })
    }

    fn options(&self) -> ResolveOptions {
        ResolveOptions {
            relays: self.relay.relays(),
            relay_timeout: self.relay.timeout(),
            peers: self.peer.peers.clone(),
            stall: Duration::from_secs(self.stall_timeout.max(1)),
        }
    }
}

fn follow(args: ResolveArgs) -> Result<()> {
    let author = parse_public_key(&args.who)?;
    let opts = args.options();
    let home = home();
    let followed = args.with_dht_and_swarm(async |dht, swarm| {
        Ok(follow_feed(&home, swarm, dht, &author, &args.salt, &opts).await?)
    })?;
    if args.json {
        print_json(&followed);
        return Ok(());
    }
    say(&format!(
        "following feed {:?} of {}: pointer seq {}, index {} ({} events) registered for seeding",
        followed.feed.salt,
        followed.feed.author,
        followed.feed.seq,
        followed.feed.infohash,
        followed.feed.events.len()
    ));
    for name in &followed.names {
        say(&format!("  keeping the name record of {name}"));
    }
    for (name, why) in &followed.missing {
        eprintln!("warning: no name record kept for {name}: {why}");
    }
    say("`seedstr seed` republishes them every hour");
    Ok(())
}

fn resolve(args: ResolveArgs) -> Result<()> {
    let author = parse_public_key(&args.who)?;
    let opts = args.options();
    let home = home();
    let feed = args.with_dht_and_swarm(async |dht, swarm| {
        Ok(resolve_feed(&home, swarm, dht, &author, &args.salt, &opts).await?)
    })?;
    if args.json {
        print_json(&feed);
        return Ok(());
    }
    for r in &feed.refused {
        eprintln!(
            "warning: refused line {} of the index{}: {}",
            r.line,
            r.event_id
                .as_ref()
                .map(|id| format!(" (event {id})"))
                .unwrap_or_default(),
            r.reason
        );
    }
    say(&format!(
        "feed {:?} of {}: seq {}, index {} from {}, {} verified events",
        feed.salt,
        feed.author,
        feed.seq,
        feed.infohash,
        feed.fetched_from,
        feed.events.len()
    ));
    for e in &feed.events {
        let what = match seedstr_proto::event::first_tag_value(e, "d") {
            Some(d) => d.to_owned(),
            None => e.content.chars().take(80).collect(),
        };
        say(&format!(
            "{} kind {:>5} {} {}",
            e.created_at.as_secs(),
            e.kind.as_u16(),
            &e.id.to_hex()[..12],
            what
        ));
    }
    Ok(())
}
