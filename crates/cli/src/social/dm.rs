//! `seedstr social dm send|read`: private messages to and from people's inboxes.

use anyhow::Result;
use clap::{Args, Subcommand};
use nostr::prelude::ToBech32;
use seedstr_client::keys::store::{home, passphrase, KeyStore};
use seedstr_client::resolve::target::parse_public_key;
use seedstr_social::inbox::{read_messages, send_message};
use seedstr_social::local::LocalState;

use crate::net_args::{print_json, runtime, say, RelayArgs};
use crate::outcome::reported;

#[derive(Subcommand)]
pub enum DmCommand {
    /// Send a private message to one or more people (npub or hex), each copy to their inbox
    /// relays (their kind 10050 list), or to --relay for someone without one.
    Send(SendArgs),
    /// Read the private messages addressed to you (authenticating to each relay).
    Read(ReadArgs),
}

#[derive(Args)]
pub struct SendArgs {
    /// Recipients (npub or hex), then the message as the last argument.
    #[arg(required = true, num_args = 2..)]
    to_and_text: Vec<String>,
    #[command(flatten)]
    relay: RelayArgs,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
pub struct ReadArgs {
    #[command(flatten)]
    relay: RelayArgs,
    /// Print the messages as JSON.
    #[arg(long)]
    json: bool,
}

pub fn run(cmd: DmCommand) -> Result<()> {
    match cmd {
        DmCommand::Send(a) => {
            let json = a.json;
            reported(json, send(a))
        }
        DmCommand::Read(a) => {
            let json = a.json;
            reported(json, read(a))
        }
    }
}

fn send(a: SendArgs) -> Result<()> {
    let (text, to) = a
        .to_and_text
        .split_last()
        .expect("clap asks for two or more");
    let to = to
        .iter()
        .map(|k| parse_public_key(k))
        .collect::<Result<Vec<_>, _>>()?;
    let keys = KeyStore::new(&home()).load(&passphrase(false)?)?;
    let sent = runtime()?.block_on(send_message(&keys, &to, text, &a.relay.set()))?;
    if a.json {
        print_json(&sent);
    } else {
        for d in &sent.deliveries {
            let took: Vec<&str> = d
                .answers
                .iter()
                .filter(|x| x.accepted)
                .map(|x| x.relay.as_str())
                .collect();
            say(&format!("{}: {}", d.recipient, took.join(", ")));
        }
        say(&format!("sent message {}", sent.message.id));
    }
    Ok(())
}

fn read(a: ReadArgs) -> Result<()> {
    let keys = KeyStore::new(&home()).load(&passphrase(false)?)?;
    let local = LocalState::load(&home())?;
    let inbox = runtime()?.block_on(read_messages(&keys, &a.relay.set(), &local))?;
    if a.json {
        print_json(&inbox);
        return Ok(());
    }
    for m in &inbox.messages {
        let from = m.from.to_bech32().expect("a key encodes");
        say(&format!("[{}] {from}: {}", m.created_at, m.text));
    }
    if !inbox.requests.is_empty() {
        say("requests (from people you neither follow nor befriended):");
        for m in &inbox.requests {
            let from = m.from.to_bech32().expect("a key encodes");
            say(&format!("  [{}] {from}: {}", m.created_at, m.text));
        }
    }
    for u in &inbox.unreadable {
        eprintln!("warning: gift wrap {} not read: {}", u.wrap, u.why);
    }
    if inbox.messages.is_empty() && inbox.requests.is_empty() {
        say("no private messages");
    }
    Ok(())
}
