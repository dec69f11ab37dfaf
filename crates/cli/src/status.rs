//! `seedstr status`: what the running node is doing, from its API; with no node, what this
//! data folder holds (registered payloads, kept DHT records) and that nothing serves them.

use anyhow::Result;
use clap::Args;
use seedstr_client::keys::store::home;
use seedstr_client::seeding::dht_items::ItemStore;
use seedstr_node::api::status::{registered, NodeStatus, RegisteredPayload};
use seedstr_node::discovery::running;
use serde::Serialize;

use crate::net_args::{print_json, runtime};

#[derive(Args)]
pub struct StatusArgs {
    #[arg(long)]
    json: bool,
}

/// `status --json`: the node's status with its address, or what the data folder holds.
#[derive(Serialize)]
#[serde(untagged)]
enum StatusReport {
    Running {
        /// `http://<addr>`.
        node: String,
        #[serde(flatten)]
        status: Box<NodeStatus>,
    },
    Offline {
        /// Always null: no node answers.
        node: Option<String>,
        seeding: OfflineSeeding,
        dht: OfflineDht,
    },
}

#[derive(Serialize)]
struct OfflineSeeding {
    registered: Vec<RegisteredPayload>,
    broken_entries: Vec<String>,
}

#[derive(Serialize)]
struct OfflineDht {
    records_kept: usize,
}

pub fn run(a: StatusArgs) -> Result<()> {
    let home = home();
    let node = runtime()?.block_on(async {
        match running(&home).await {
            Some(node) => node
                .get::<NodeStatus>("/api/v1/status")
                .await
                .map(|s| Some((node.http, s))),
            None => Ok(None),
        }
    });
    let report = match node.map_err(anyhow::Error::msg)? {
        Some((addr, status)) => StatusReport::Running {
            node: format!("http://{addr}"),
            status: Box::new(status),
        },
        None => offline(&home),
    };
    if a.json {
        print_json(&report);
        return Ok(());
    }
    let registered = match &report {
        StatusReport::Running { node, status } => {
            print_running(node, status);
            &status.seeding.registered
        }
        StatusReport::Offline { seeding, .. } => {
            println!(
                "no node is running on {}; start one with `seedstr node`",
                home.display()
            );
            &seeding.registered
        }
    };
    for p in registered {
        println!("  {}  {}  {}", p.infohash, p.origin.as_str(), p.release);
    }
    Ok(())
}

fn print_running(node: &str, st: &NodeStatus) {
    println!("node at {node}, up {} s", st.uptime_secs);
    println!(
        "  relay    {} connections, {} subscriptions, {} events stored since start",
        st.relay.connections, st.relay.subscriptions, st.relay.events_saved
    );
    println!(
        "  seeding  {} torrents, {} peers, {} bytes uploaded, peers connect to {}",
        st.seeding.torrents, st.seeding.peers, st.seeding.uploaded_bytes, st.seeding.listen
    );
    println!(
        "  dht      {}, {} announces, {} records kept",
        st.dht.state.as_str(),
        st.dht.announces,
        st.dht.records_kept
    );
}

/// What the data folder says without a node: what is registered and kept, nothing live.
fn offline(home: &std::path::Path) -> StatusReport {
    let (registered, broken_entries) = registered(home);
    StatusReport::Offline {
        node: None,
        seeding: OfflineSeeding {
            registered,
            broken_entries,
        },
        dht: OfflineDht {
            records_kept: ItemStore::new(home).count(),
        },
    }
}
