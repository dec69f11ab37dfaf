//! `seedstr search`: asks the running node's API; with no node, asks the relays and searches
//! their answers in-process with the same code.

use anyhow::{anyhow, Result};
use clap::Args;
use seedstr_client::keys::store::home;
use seedstr_client::relays::list_failures;
use seedstr_client::relays::source::SourceError;
use seedstr_mods::search::{search, SearchError, SearchParams, SearchResults};
use seedstr_node::discovery::running;

use crate::net_args::{print_json, runtime, RelayArgs};

#[derive(Args)]
pub struct SearchArgs {
    /// Words that must all appear in the name, coordinate, summary or text.
    words: Vec<String>,
    /// project, release, package or collection.
    #[arg(long = "type", default_value = "project")]
    kind: String,
    #[arg(long)]
    ns: Option<String>,
    /// Only this author's (npub or hex).
    #[arg(long)]
    author: Option<String>,
    #[arg(long, default_value_t = 20)]
    limit: usize,
    /// Relays to ask when no node is running.
    #[command(flatten)]
    relay: RelayArgs,
    #[arg(long)]
    json: bool,
}

pub fn run(a: SearchArgs) -> Result<()> {
    let params = SearchParams {
        q: a.words.join(" "),
        kind: Some(a.kind.clone()),
        ns: a.ns.clone(),
        author: a.author.clone(),
        limit: Some(a.limit),
    };
    let (found, source) = runtime()?.block_on(async {
        if let Some(node) = running(&home()).await {
            let query = url::form_urlencoded::Serializer::new(String::new())
                .extend_pairs(
                    [
                        Some(("q", params.q.clone())),
                        Some(("type", a.kind.clone())),
                        a.ns.clone().map(|v| ("ns", v)),
                        a.author.clone().map(|v| ("author", v)),
                        Some(("limit", a.limit.to_string())),
                    ]
                    .into_iter()
                    .flatten(),
                )
                .finish();
            let found: SearchResults = node
                .get(&format!("/api/v1/search?{query}"))
                .await
                .map_err(|e| anyhow!(e))?;
            return Ok::<_, anyhow::Error>((found, format!("the node at http://{}", node.http)));
        }
        let relays = a.relay.set();
        let found = search(&relays, &params).await.map_err(|e| match e {
            SearchError::Source(SourceError::NoRelay(failed)) => anyhow!(
                "no node is running and no relay answered: {}",
                list_failures(&failed)
            ),
            other => other.into(),
        })?;
        Ok((found, format!("the relays ({})", relays.urls.join(", "))))
    })?;
    if a.json {
        print_json(&found);
        return Ok(());
    }
    eprintln!("{} results from {source}", found.results.len());
    for hit in &found.results {
        println!("{}", hit.line());
    }
    Ok(())
}
