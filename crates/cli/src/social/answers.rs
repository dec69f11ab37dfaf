//! `seedstr social react|repost|delete|notifications|status`: answers short of a reply, what
//! concerns you, and your status line.

use anyhow::Result;
use clap::{Args, Subcommand};
use nostr::prelude::{EventId, Keys};
use seedstr_client::keys::store::{home, passphrase, KeyStore};
use seedstr_client::resolve::target::parse_public_key;
use seedstr_social::local::LocalState;
use seedstr_social::notifications::{notifications, set_status, status, NotificationKind};
use seedstr_social::reactions::{delete, react, repost, Answered};

use crate::net_args::{print_json, runtime, say, RelayArgs};
use crate::outcome::reported;

#[derive(Args)]
pub struct ReactArgs {
    /// The event (hex id).
    id: String,
    /// `+` (like), `-`, or an emoji.
    #[arg(long, default_value = "+")]
    with: String,
    #[command(flatten)]
    relay: RelayArgs,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
pub struct RepostArgs {
    /// The post (hex id).
    id: String,
    #[command(flatten)]
    relay: RelayArgs,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
pub struct DeleteArgs {
    /// Your events (hex ids).
    #[arg(required = true)]
    ids: Vec<String>,
    /// Why (shown to readers of the request).
    #[arg(long, default_value = "")]
    reason: String,
    #[command(flatten)]
    relay: RelayArgs,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
pub struct NotificationsArgs {
    /// How many, newest first (at most 500).
    #[arg(long, default_value_t = 50)]
    limit: usize,
    #[command(flatten)]
    relay: RelayArgs,
    /// Print them as JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Subcommand)]
pub enum StatusCommand {
    /// Set your status line (NIP-38); an empty text clears it.
    Set(StatusSetArgs),
    /// Someone's status (yours when no one is named).
    Show(StatusShowArgs),
}

#[derive(Args)]
pub struct StatusSetArgs {
    /// The text.
    text: String,
    #[command(flatten)]
    relay: RelayArgs,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
pub struct StatusShowArgs {
    /// Whose (npub or hex) [default: yours].
    who: Option<String>,
    #[command(flatten)]
    relay: RelayArgs,
    /// Print it as JSON.
    #[arg(long)]
    json: bool,
}

fn owner() -> Result<Keys> {
    Ok(KeyStore::new(&home()).load(&passphrase(false)?)?)
}

fn event_id(text: &str) -> Result<EventId> {
    EventId::from_hex(text).map_err(|e| anyhow::anyhow!("{text:?} is not an event id: {e}"))
}

fn show(json: bool, done: &Answered, verb: &str) {
    if json {
        print_json(done);
    } else {
        say(&format!("{verb} {}", done.about.join(", ")));
    }
}

pub fn react_to(a: ReactArgs) -> Result<()> {
    reported(a.json, {
        (|| {
            let id = event_id(&a.id)?;
            let keys = owner()?;
            let done = runtime()?.block_on(react(&keys, &a.relay.set(), id, &a.with))?;
            show(a.json, &done, &format!("reacted {} to", a.with));
            Ok(())
        })()
    })
}

pub fn repost_post(a: RepostArgs) -> Result<()> {
    reported(a.json, {
        (|| {
            let id = event_id(&a.id)?;
            let keys = owner()?;
            let done = runtime()?.block_on(repost(&keys, &a.relay.set(), id))?;
            show(a.json, &done, "reposted");
            Ok(())
        })()
    })
}

pub fn delete_events(a: DeleteArgs) -> Result<()> {
    reported(a.json, {
        (|| {
            let ids = a
                .ids
                .iter()
                .map(|i| event_id(i))
                .collect::<Result<Vec<_>>>()?;
            let keys = owner()?;
            let done = runtime()?.block_on(delete(&keys, &a.relay.set(), &ids, &a.reason))?;
            show(a.json, &done, "asked the relays to delete");
            Ok(())
        })()
    })
}

pub fn notifications_of(a: NotificationsArgs) -> Result<()> {
    reported(a.json, {
        (|| {
            let keys = owner()?;
            let local = LocalState::load(&home())?;
            let list =
                runtime()?.block_on(notifications(&keys, &a.relay.set(), a.limit, &local))?;
            if a.json {
                print_json(&list);
            } else if list.is_empty() {
                say("no notifications");
            } else {
                for n in &list {
                    let what = match n.kind {
                        NotificationKind::Reply => "replied",
                        NotificationKind::Mention => "mentioned you",
                        NotificationKind::Reaction => "reacted",
                        NotificationKind::Repost => "reposted your post",
                    };
                    say(&format!("[{}] {} {what}: {}", n.created_at, n.from, n.text));
                }
            }
            Ok(())
        })()
    })
}

pub fn status_of(cmd: StatusCommand) -> Result<()> {
    match cmd {
        StatusCommand::Set(a) => reported(a.json, {
            (|| {
                let keys = owner()?;
                let answers = runtime()?.block_on(set_status(&keys, &a.relay.set(), &a.text))?;
                if a.json {
                    print_json(&serde_json::json!({"text": a.text, "answers": answers}));
                } else {
                    say("status set");
                }
                Ok(())
            })()
        }),
        StatusCommand::Show(a) => reported(a.json, {
            (|| {
                let who = match &a.who {
                    Some(w) => parse_public_key(w)?,
                    None => owner()?.public_key(),
                };
                let s = runtime()?.block_on(status(&a.relay.set(), &who))?;
                if a.json {
                    print_json(&s);
                } else if s.text.is_empty() {
                    say(&format!("{}: no status", s.who));
                } else {
                    say(&format!("{}: {}", s.who, s.text));
                }
                Ok(())
            })()
        }),
    }
}
