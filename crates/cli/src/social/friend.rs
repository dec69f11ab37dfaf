//! `seedstr social friend …`: friend requests, answers, and the local block list.

use anyhow::Result;
use clap::{Args, Subcommand};
use nostr::prelude::{Keys, PublicKey};
use seedstr_client::keys::store::{home, passphrase, KeyStore};
use seedstr_client::resolve::target::{npub, parse_public_key};
use seedstr_social::friends::{
    accept_friend, friendships, reject_friend, request_friend, settle, FriendRequest,
};
use seedstr_social::local::LocalState;

use crate::net_args::{print_json, runtime, say, RelayArgs};
use crate::outcome::reported;

#[derive(Subcommand)]
pub enum FriendCommand {
    /// Ask someone (npub or hex) to be your friend: a request gift-wrapped to their inbox.
    Request(RequestArgs),
    /// Accept someone's pending request: you follow each other and they join your private
    /// friends list.
    Accept(PersonArgs),
    /// Turn someone's pending request down (kept on this machine; they are told nothing).
    Reject(PersonArgs),
    /// Your friends and the requests both ways; requests the other side accepted are
    /// completed (followed, added to your friends list).
    List(ListArgs),
    /// Block someone: their messages, requests and posts are hidden here and refused by your
    /// node (kept on this machine, never published).
    Block(LocalArgs),
    /// Unblock someone.
    Unblock(LocalArgs),
}

#[derive(Args)]
pub struct RequestArgs {
    /// Whom (npub or hex).
    who: String,
    /// A note to go with the request.
    #[arg(long, default_value = "")]
    note: String,
    #[command(flatten)]
    relay: RelayArgs,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
pub struct PersonArgs {
    /// Who asked (npub or hex).
    who: String,
    #[command(flatten)]
    relay: RelayArgs,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
pub struct ListArgs {
    #[command(flatten)]
    relay: RelayArgs,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
pub struct LocalArgs {
    /// Who (npub or hex).
    who: String,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
}

pub fn run(cmd: FriendCommand) -> Result<()> {
    match cmd {
        FriendCommand::Request(a) => reported(a.json, request(&a)),
        FriendCommand::Accept(a) => reported(a.json, accept(&a)),
        FriendCommand::Reject(a) => reported(a.json, reject(&a)),
        FriendCommand::List(a) => reported(a.json, list(&a)),
        FriendCommand::Block(a) => reported(a.json, block(&a, true)),
        FriendCommand::Unblock(a) => reported(a.json, block(&a, false)),
    }
}

fn owner() -> Result<Keys> {
    Ok(KeyStore::new(&home()).load(&passphrase(false)?)?)
}

fn request(a: &RequestArgs) -> Result<()> {
    let to = parse_public_key(&a.who)?;
    let keys = owner()?;
    let sent = runtime()?.block_on(request_friend(&keys, to, &a.note, &a.relay.set()))?;
    if a.json {
        print_json(&sent);
    } else {
        say(&format!("friend request sent to {}", sent.request.to));
    }
    Ok(())
}

fn accept(a: &PersonArgs) -> Result<()> {
    let from = parse_public_key(&a.who)?;
    let keys = owner()?;
    let local = LocalState::load(&home())?;
    let done = runtime()?.block_on(accept_friend(&keys, from, &a.relay.set(), &local))?;
    if a.json {
        print_json(&done);
    } else {
        say(&format!(
            "{} is your friend; {} friends now",
            npub(&from),
            done.friends.len()
        ));
    }
    Ok(())
}

fn reject(a: &PersonArgs) -> Result<()> {
    let from = parse_public_key(&a.who)?;
    let keys = owner()?;
    let mut local = LocalState::load(&home())?;
    let n = runtime()?.block_on(reject_friend(&keys, from, &a.relay.set(), &mut local))?;
    local.save(&home())?;
    if a.json {
        print_json(&serde_json::json!({"rejected": n, "from": npub(&from)}));
    } else {
        say(&format!("turned down {n} request(s) from {}", npub(&from)));
    }
    Ok(())
}

fn list(a: &ListArgs) -> Result<()> {
    let keys = owner()?;
    let local = LocalState::load(&home())?;
    let relays = a.relay.set();
    let rt = runtime()?;
    let mut state = rt.block_on(friendships(&keys, &relays, &local))?;
    let settled = rt.block_on(settle(&keys, &relays, &state))?;
    state.friends = settled.friends.clone();
    let accepted = std::mem::take(&mut state.accepted);
    if a.json {
        print_json(&serde_json::json!({
            "friends": state.friends,
            "incoming": state.incoming,
            "outgoing": state.outgoing,
            "newly_accepted": accepted,
            "unreadable": state.unreadable,
        }));
        return Ok(());
    }
    for r in &accepted {
        say(&format!("{} accepted your request", r.to));
    }
    say(&format!("{} friends", state.friends.len()));
    for f in &state.friends {
        say(&format!("  {f}"));
    }
    let show = |title: &str, rs: &[FriendRequest], who: fn(&FriendRequest) -> &str| {
        if !rs.is_empty() {
            say(title);
            for r in rs {
                let note = if r.text.is_empty() {
                    String::new()
                } else {
                    format!(": {}", r.text)
                };
                say(&format!("  {}{note}", who(r)));
            }
        }
    };
    show("requests to you:", &state.incoming, |r| &r.from);
    show("your requests waiting:", &state.outgoing, |r| &r.to);
    Ok(())
}

fn block(a: &LocalArgs, block: bool) -> Result<()> {
    let who: PublicKey = parse_public_key(&a.who)?;
    let mut local = LocalState::load(&home())?;
    let changed = if block {
        local.block(who)?
    } else {
        local.blocked.remove(&who)
    };
    local.save(&home())?;
    if a.json {
        print_json(&serde_json::json!({
            "who": npub(&who),
            "blocked": block,
            "changed": changed,
        }));
    } else {
        let verb = if block { "blocked" } else { "unblocked" };
        say(&format!("{} {verb}", npub(&who)));
    }
    Ok(())
}
