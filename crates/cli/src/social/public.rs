//! `seedstr social follow|unfollow|post|feed`: the public side, on relays.

use anyhow::Result;
use clap::Args;
use nostr::prelude::EventId;
use seedstr_client::keys::store::{home, passphrase, KeyStore};
use seedstr_client::resolve::target::parse_public_key;
use seedstr_social::local::LocalState;
use seedstr_social::media::{prepare, Attachment, MAX_ATTACHMENTS};
use seedstr_social::people::change_follows;
use seedstr_social::posts::{publish_post, timeline, Post, Visibility};

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
    /// Who sees it: `public` (signed, on the relays), `friends` (gift-wrapped to each friend's
    /// inbox and yours), `private` (gift-wrapped to you alone).
    #[arg(long, value_enum, default_value = "public")]
    visibility: VisibilityArg,
    /// Attach a file (repeatable): seeded by your node, which must be running on this home,
    /// with its HTTP address as the web seed (NIP-92 imeta).
    #[arg(long)]
    attach: Vec<std::path::PathBuf>,
    /// The node's HTTP address as others reach it, for the attachments' web seed
    /// (`https://home.example`) [default: the running node's address on this machine].
    #[arg(long)]
    media_url: Option<String>,
    #[command(flatten)]
    relay: RelayArgs,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Clone, Copy, clap::ValueEnum)]
pub enum VisibilityArg {
    Public,
    Friends,
    Private,
}

impl From<VisibilityArg> for Visibility {
    fn from(v: VisibilityArg) -> Visibility {
        match v {
            VisibilityArg::Public => Visibility::Public,
            VisibilityArg::Friends => Visibility::Friends,
            VisibilityArg::Private => Visibility::Private,
        }
    }
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
                let local = LocalState::load(&home())?;
                let visibility = Visibility::from(a.visibility);
                let rt = runtime()?;
                let attachments = attach(&rt, &a.attach, a.media_url.as_deref())?;
                let posted = rt.block_on(publish_post(
                    &keys,
                    &a.text,
                    reply_to,
                    visibility,
                    &attachments,
                    &a.relay.set(),
                    &local,
                ))?;
                if json {
                    print_json(&posted);
                } else if visibility == Visibility::Public {
                    say(&format!("posted {}", posted.post.id));
                } else {
                    say(&format!(
                        "posted {} ({}, {} copies)",
                        posted.post.id,
                        visibility.as_str(),
                        posted.deliveries.len()
                    ));
                }
                Ok(())
            })
    })
}

/// Prepares `files` as attachments served by the node running on this home.
fn attach(
    rt: &tokio::runtime::Runtime,
    files: &[std::path::PathBuf],
    media_url: Option<&str>,
) -> Result<Vec<Attachment>> {
    if files.is_empty() {
        return Ok(Vec::new());
    }
    anyhow::ensure!(
        files.len() <= MAX_ATTACHMENTS,
        "at most {MAX_ATTACHMENTS} attachments a post"
    );
    let home = home();
    let Some(node) = rt.block_on(seedstr_node::discovery::running(&home)) else {
        anyhow::bail!(
            "attachments are served by your node: start `seedstr node` on this home first"
        );
    };
    let base = media_url.map_or_else(|| format!("http://{}", node.http), str::to_owned);
    files
        .iter()
        .map(|f| Ok(prepare(&home, f, &base)?))
        .collect()
}

pub fn feed(a: FeedArgs) -> Result<()> {
    let json = a.json;
    reported(json, {
        let keys = KeyStore::new(&home()).load(&passphrase(false)?);
        let local = LocalState::load(&home());
        keys.map_err(anyhow::Error::from)
            .and_then(|keys| Ok((keys, local?)))
            .and_then(|(keys, local)| {
                Ok(runtime()?.block_on(timeline(&keys, &a.relay.set(), a.limit, None, &local))?)
            })
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
    let only = match p.visibility {
        Visibility::Public => "",
        Visibility::Friends => " [friends]",
        Visibility::Private => " [private]",
    };
    format!("[{}] {}{only}{reply}: {}", p.created_at, p.author, p.text)
}

#[derive(clap::Subcommand)]
pub enum ProfileCommand {
    /// Change fields of your profile (kind 0); an empty value removes a field; every field
    /// not named (other clients' too) is kept.
    Set(ProfileSetArgs),
    /// Someone's profile (yours when no one is named).
    Show(ProfileShowArgs),
}

#[derive(Args)]
pub struct ProfileSetArgs {
    /// Your name.
    #[arg(long)]
    name: Option<String>,
    /// The name shown.
    #[arg(long)]
    display_name: Option<String>,
    /// About you.
    #[arg(long)]
    about: Option<String>,
    /// A picture's URL.
    #[arg(long)]
    picture: Option<String>,
    /// A banner's URL.
    #[arg(long)]
    banner: Option<String>,
    /// Your website.
    #[arg(long)]
    website: Option<String>,
    /// Your lightning address (name@domain, LUD-16), where zaps are paid.
    #[arg(long)]
    lud16: Option<String>,
    /// Your NIP-05 identifier (name@domain).
    #[arg(long)]
    nip05: Option<String>,
    #[command(flatten)]
    relay: RelayArgs,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
pub struct ProfileShowArgs {
    /// Whose (npub or hex) [default: yours].
    who: Option<String>,
    #[command(flatten)]
    relay: RelayArgs,
    /// Print the profile as JSON.
    #[arg(long)]
    json: bool,
}

pub fn profile(cmd: ProfileCommand) -> Result<()> {
    use seedstr_social::profile::{profile as read_profile, set_profile};
    match cmd {
        ProfileCommand::Set(a) => reported(a.json, {
            let changes: Vec<(String, String)> = [
                ("name", &a.name),
                ("display_name", &a.display_name),
                ("about", &a.about),
                ("picture", &a.picture),
                ("banner", &a.banner),
                ("website", &a.website),
                ("lud16", &a.lud16),
                ("nip05", &a.nip05),
            ]
            .into_iter()
            .filter_map(|(k, v)| v.clone().map(|v| (k.to_owned(), v)))
            .collect();
            (|| {
                anyhow::ensure!(!changes.is_empty(), "name at least one field to set");
                let keys = KeyStore::new(&home()).load(&passphrase(false)?)?;
                let set = runtime()?.block_on(set_profile(&keys, &a.relay.set(), &changes))?;
                if a.json {
                    print_json(&set);
                } else {
                    say(&format!("profile {} updated", set.profile.npub));
                }
                Ok(())
            })()
        }),
        ProfileCommand::Show(a) => reported(a.json, {
            (|| {
                let who = match &a.who {
                    Some(w) => parse_public_key(w)?,
                    None => KeyStore::new(&home())
                        .load(&passphrase(false)?)?
                        .public_key(),
                };
                let p = runtime()?.block_on(read_profile(&a.relay.set(), &who))?;
                if a.json {
                    print_json(&p);
                } else if p.fields.is_empty() {
                    say(&format!("{}: no profile", p.npub));
                } else {
                    say(&p.npub);
                    if let Some(c) = &p.nip05 {
                        match &c.why {
                            None => say(&format!("  {} (verified)", c.identifier)),
                            Some(why) => say(&format!("  {} NOT verified: {why}", c.identifier)),
                        }
                    }
                    for (k, v) in &p.fields {
                        let v = v
                            .as_str()
                            .map(str::to_owned)
                            .unwrap_or_else(|| v.to_string());
                        say(&format!("  {k}: {v}"));
                    }
                }
                Ok(())
            })()
        }),
    }
}

#[derive(Args)]
pub struct ThreadArgs {
    /// Any post of the thread (hex id).
    id: String,
    #[command(flatten)]
    relay: RelayArgs,
    /// Print the thread as JSON.
    #[arg(long)]
    json: bool,
}

pub fn thread(a: ThreadArgs) -> Result<()> {
    reported(a.json, {
        (|| {
            let id = EventId::from_hex(&a.id)
                .map_err(|e| anyhow::anyhow!("{:?} is not an event id: {e}", a.id))?;
            let t = runtime()?.block_on(seedstr_social::posts::thread(&a.relay.set(), id))?;
            if a.json {
                print_json(&t);
            } else {
                for p in &t.posts {
                    say(&format!("{}{}", "  ".repeat(p.depth), render(&p.post)));
                }
            }
            Ok(())
        })()
    })
}
