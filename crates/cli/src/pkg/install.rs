//! `seedstr pkg install`: resolve, fetch, check and lay out npm packages in a project.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Result;
use clap::Args;
use seedstr_client::install::InstallOptions;
use seedstr_client::keystore::home;
use seedstr_dht::DhtOptions;
use seedstr_pkg::catalog::Sources;
use seedstr_pkg::install::{install, parse_spec, InstallRequest};
use seedstr_pkg::project::MODULES_DIR;

use super::registry::trusted;
use crate::net_args::{print_json, swarm_runtime, PeerArgs, RelayArgs};

#[derive(Args)]
pub struct InstallArgs {
    /// Packages to add, `<name>[@<range>]`; none: what package.json and the lockfile ask for.
    specs: Vec<String>,
    /// The project folder.
    #[arg(long, default_value = ".")]
    project: PathBuf,
    /// Also trust this publisher registry (npub or hex, repeatable).
    #[arg(long = "registry")]
    registries: Vec<String>,
    /// Seconds without progress before the swarm counts as stalled and mirrors take over.
    #[arg(long, default_value_t = 60)]
    stall_timeout: u64,
    #[command(flatten)]
    relay: RelayArgs,
    #[command(flatten)]
    peer: PeerArgs,
    /// Print the report (or the error) as JSON.
    #[arg(long)]
    json: bool,
}

pub fn run(args: InstallArgs) -> Result<()> {
    let result = install_now(&args);
    if let (Err(e), true) = (&result, args.json) {
        print_json(&serde_json::json!({ "error": format!("{e:#}") }));
        std::process::exit(1);
    }
    result
}

fn install_now(args: &InstallArgs) -> Result<()> {
    let home = home();
    let add = args
        .specs
        .iter()
        .map(|s| parse_spec(s))
        .collect::<Result<Vec<_>, _>>()?;
    std::fs::create_dir_all(&args.project)?;
    let req = InstallRequest {
        project: args.project.clone(),
        add,
        sources: Sources {
            relays: args.relay.relays(),
            relay_timeout: args.relay.timeout(),
            trusted: trusted(&home, &args.registries)?,
        },
        fetch: InstallOptions {
            relays: args.relay.relays(),
            relay_timeout: args.relay.timeout(),
            allow_downgrade: true,
            peers: args.peer.peers.clone(),
            stall_timeout: Duration::from_secs(args.stall_timeout.max(1)),
            home: home.clone(),
            dht: (!args.peer.no_dht).then(|| DhtOptions::joining(&args.peer.dht_bootstrap)),
        },
        home,
    };
    let rt = swarm_runtime()?;
    let report = rt.block_on(async {
        let swarm = args.peer.start_swarm(None).await?;
        let r = install(&swarm, &req).await;
        swarm.stop().await;
        anyhow::Ok(r?)
    })?;
    if args.json {
        print_json(&report);
        return Ok(());
    }
    for p in &report.registry_problems {
        eprintln!("warning: {p}");
    }
    for (spec, why) in &report.refused {
        eprintln!("warning: refused {spec}: {why}");
    }
    for p in &report.packages {
        if let Some(why) = &p.replaced_bad_copy {
            eprintln!(
                "warning: the stored copy of {}@{} was refused ({why}) and fetched again",
                p.name, p.version
            );
        }
    }
    for (dependent, name, range) in &report.skipped {
        eprintln!(
            "note: optional {name}@{range} (for {dependent}) has no accepted release; left out"
        );
    }
    for p in &report.packages {
        let how = if p.fetched {
            "fetched"
        } else {
            "from the store"
        };
        println!(
            "{}@{}  signed by {}  ({how})  {}",
            p.name, p.version, p.signer, p.path
        );
    }
    println!(
        "{} packages, {} files in {}; locked in {}",
        report.packages.len(),
        report.files,
        args.project.join(MODULES_DIR).display(),
        args.project.join(seedstr_pkg::project::LOCKFILE).display()
    );
    Ok(())
}
