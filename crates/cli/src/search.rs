//! `seedstr search`: asks the running node's API; with no node, asks the relays and searches
//! their answers in-process with the same code.

use anyhow::{anyhow, Result};
use clap::Args;
use seedstr_client::keys::store::home;
use seedstr_client::relays::{list_failures, query_all};
use seedstr_node::api::search::{filter_for, select, SearchParams};
use seedstr_node::discovery::running;
use serde_json::Value;

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
            let found = node
                .get(&format!("/api/v1/search?{query}"))
                .await
                .map_err(|e| anyhow!(e))?;
            return Ok::<_, anyhow::Error>((found, format!("the node at http://{}", node.http)));
        }
        let filter = filter_for(&params).map_err(|e| anyhow!(e.message().to_owned()))?;
        let gathered = query_all(&a.relay.relays(), &filter, a.relay.timeout()).await;
        if gathered.answered.is_empty() {
            return Err(anyhow!(
                "no node is running and no relay answered: {}",
                list_failures(&gathered.failed)
            ));
        }
        let mut events = gathered.events;
        events.sort_by_key(|e| std::cmp::Reverse(e.created_at));
        events.dedup_by(|x, y| x.id == y.id);
        let found = select(&params, &events).map_err(|e| anyhow!(e.message().to_owned()))?;
        Ok((
            found,
            format!("the relays ({})", gathered.answered.join(", ")),
        ))
    })?;
    if a.json {
        print_json(&found);
        return Ok(());
    }
    let results = found["results"].as_array().cloned().unwrap_or_default();
    eprintln!("{} results from {source}", results.len());
    for r in &results {
        println!("{}", line(r));
    }
    Ok(())
}

fn line(r: &Value) -> String {
    let s = |k: &str| r[k].as_str().unwrap_or_default().to_owned();
    match s("type").as_str() {
        "project" => format!(
            "{}/{}  {}  {}",
            s("author"),
            s("coordinate"),
            s("name"),
            s("summary")
        ),
        "collection" => format!("{}/{}  {}", s("author"), s("d"), s("name")),
        _ => format!(
            "{}/{}@{}  {}",
            s("author"),
            s("coordinate"),
            s("version"),
            r["package"].as_str().unwrap_or_default()
        ),
    }
}
