//! `seedstr social discover`: find people through directories, and confirm with their nodes.

use anyhow::Result;
use clap::Args;
use seedstr_social::directory::discover::{discover, Query};

use crate::net_args::{print_json, runtime, say, RelayArgs};
use crate::outcome::reported;

#[derive(Args)]
pub struct DiscoverArgs {
    /// A key (npub or hex), a NIP-05 identifier (name@domain), or words of a name.
    query: String,
    /// At most this many people.
    #[arg(long, default_value_t = 10)]
    limit: usize,
    /// The directories to ask (`--relay`, repeatable).
    #[command(flatten)]
    relay: RelayArgs,
    /// Print the people as JSON.
    #[arg(long)]
    json: bool,
}

pub fn run(a: DiscoverArgs) -> Result<()> {
    reported(a.json, {
        (|| {
            let query = Query::parse(&a.query);
            let found = runtime()?.block_on(discover(&a.relay.set(), &query, a.limit))?;
            if a.json {
                print_json(&found);
                return Ok(());
            }
            if found.people.is_empty() {
                say(&format!("nobody found for {:?}", a.query));
            }
            for p in &found.people {
                let name = p
                    .profile
                    .get("name")
                    .and_then(|v| v.as_str())
                    .unwrap_or("(no name)");
                say(&format!("{} {name}", p.npub));
                if let Some(node) = &p.node {
                    let state = if node.confirmed {
                        "confirmed by the node".to_owned()
                    } else {
                        format!("not confirmed: {}", node.why.as_deref().unwrap_or(""))
                    };
                    say(&format!("  node {} ({state})", node.url));
                    if let Some(r) = node.reports.first() {
                        say(&format!("  last seen at {} by {}", r.seen_at, r.directory));
                    }
                }
            }
            for (d, why) in &found.directories_failed {
                eprintln!("warning: directory {d} did not answer: {why}");
            }
            Ok(())
        })()
    })
}
