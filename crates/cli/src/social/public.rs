//! `seedstr social follow|unfollow|post|feed`: the public side, on relays.

use anyhow::Result;
use clap::Args;
use nostr::prelude::EventId;
use seedstr_client::keys::store::{home, passphrase, KeyStore};
use seedstr_client::resolve::target::parse_public_key;
use seedstr_social::people::change_follows;
use seedstr_social::posts::{publish_post, timeline, Post};

use crate::net_args::{print_json, runtime, say, RelayArgs};
use crate::outcome::reported;

#[derive(Args)]
pub struct FollowArgs {
    /// The people (npub or hex).
    #[arg(required = true)]
    people: Vec<String>,
    #[command(flatten)]
    relay: RelayArgs,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
pub struct PostArgs {
    /// The text.
    text: String,
    /// Answer this post (hex id): NIP-10 tags name its thread and people.
    #[arg(long)]
    reply_to: Option<String>,
    #[command(flatten)]
    relay: RelayArgs,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
pub struct FeedArgs {
    /// How many posts, newest first (at most 500).
    #[arg(long, default_value_t = 50)]
    limit: usize,
    #[command(flatten)]
    relay: RelayArgs,
    /// Print the timeline as JSON.
    #[arg(long)]
    json: bool,
}

pub fn follow(a: FollowArgs, follow: bool) -> Result<()> {
    let json = a.json;
    reported(json, {
        let people = a
            .people
            .iter()
            .map(|p| parse_public_key(p))
            .collect::<Result<Vec<_>, _>>();
        people.map_err(anyhow::Error::from).and_then(|people| {
            let keys = KeyStore::new(&home()).load(&passphrase(false)?)?;
            let change =
                runtime()?.block_on(change_follows(&keys, &a.relay.set(), &people, follow))?;
            if json {
                print_json(&change);
            } else {
                let verb = if follow {
                    "following"
                } else {
                    "no longer following"
                };
                say(&format!(
                    "{verb}; {} people followed now",
                    change.following.len()
                ));
            }
            Ok(())
        })
    })
}

pub fn post(a: PostArgs) -> Result<()> {
    let json = a.json;
    reported(json, {
        let reply_to = a.reply_to.as_deref().map(EventId::from_hex).transpose();
        reply_to
            .map_err(|e| anyhow::anyhow!("--reply-to: not an event id: {e}"))
            .and_then(|reply_to| {
                let keys = KeyStore::new(&home()).load(&passphrase(false)?)?;
                let posted =
                    runtime()?.block_on(publish_post(&keys, &a.text, reply_to, &a.relay.set()))?;
                if json {
                    print_json(&posted);
                } else {
                    say(&format!("posted {}", posted.post.id));
                }
                Ok(())
            })
    })
}

pub fn feed(a: FeedArgs) -> Result<()> {
    let json = a.json;
    reported(json, {
        let keys = KeyStore::new(&home()).load(&passphrase(false)?)?;
        runtime()?
            .block_on(timeline(&keys, &a.relay.set(), a.limit))
            .map_err(anyhow::Error::from)
            .map(|t| {
                if json {
                    print_json(&t);
                } else if t.posts.is_empty() {
                    say("no posts yet: follow someone with `seedstr social follow <npub>`");
                } else {
                    for p in &t.posts {
                        say(&render(p));
                    }
                }
            })
    })
}

fn render(p: &Post) -> String {
    let reply = p
        .reply_to
        .as_deref()
        .map(|r| format!(" (reply to {})", &r[..12.min(r.len())]))
        .unwrap_or_default();
    format!("[{}] {}{reply}: {}", p.created_at, p.author, p.text)
}
