//! `seedstr status`: what the running node is doing, from its API; with no node, what this
//! data folder holds (registered payloads, kept DHT records) and that nothing serves them.

use anyhow::Result;
use clap::Args;
use seedstr_client::keys::store::home;
use seedstr_client::seeding::dht_items::ItemStore;
use seedstr_node::api::status::registered;
use seedstr_node::discovery::running;
use serde_json::{json, Value};

use crate::net_args::{print_json, runtime};

#[derive(Args)]
pub struct StatusArgs {
    #[arg(long)]
    json: bool,
}

pub fn run(a: StatusArgs) -> Result<()> {
    let home = home();
    let node = runtime()?.block_on(async {
        match running(&home).await {
            Some(node) => node
                .get("/api/v1/status")
                .await
                .map(|s| Some((node.http, s))),
            None => Ok(None),
        }
    });
    let (running_at, status) = match node.map_err(anyhow::Error::msg)? {
        Some((addr, status)) => (Some(addr), status),
        None => (None, offline(&home)),
    };
    if a.json {
        let mut out = status.clone();
        out["node"] = json!(running_at.map(|a| format!("http://{a}")));
        print_json(&out);
        return Ok(());
    }
    match running_at {
        Some(addr) => {
            let st = &status;
            println!("node at http://{addr}, up {} s", st["uptime_secs"]);
            println!(
                "  relay    {} connections, {} subscriptions, {} events stored since start",
                st["relay"]["connections"],
                st["relay"]["subscriptions"],
                st["relay"]["events_saved"]
            );
            println!(
                "  seeding  {} torrents, {} peers, {} bytes uploaded, peers connect to {}",
                st["seeding"]["torrents"],
                st["seeding"]["peers"],
                st["seeding"]["uploaded_bytes"],
                st["seeding"]["listen"].as_str().unwrap_or_default()
            );
            println!(
                "  dht      {}, {} announces, {} records kept",
                st["dht"]["state"].as_str().unwrap_or_default(),
                st["dht"]["announces"],
                st["dht"]["records_kept"]
            );
        }
        None => println!(
            "no node is running on {}; start one with `seedstr node`",
            home.display()
        ),
    }
    for p in status["seeding"]["registered"]
        .as_array()
        .into_iter()
        .flatten()
    {
        println!(
            "  {}  {}  {}",
            p["infohash"].as_str().unwrap_or_default(),
            p["origin"].as_str().unwrap_or_default(),
            p["release"].as_str().unwrap_or_default()
        );
    }
    Ok(())
}

/// What the data folder says without a node: what is registered and kept, nothing live.
fn offline(home: &std::path::Path) -> Value {
    let (registered, broken) = registered(home);
    json!({
        "seeding": {"registered": registered, "broken_entries": broken},
        "dht": {"records_kept": ItemStore::new(home).count()},
    })
}
