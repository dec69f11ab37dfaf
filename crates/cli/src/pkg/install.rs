//! `seedstr pkg install`: resolve, fetch, check and lay out npm packages in a project.

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;
use seedstr_client::keys::store::home;
use seedstr_pkg::install::{install, parse_spec, InstallRequest};
use seedstr_pkg::project::MODULES_DIR;

use super::LookupArgs;
use crate::net_args::{print_json, transfer_runtime};

#[derive(Args)]
pub struct InstallArgs {
    /// Packages to add, `<name>[@<range>]`; none: what package.json and the lockfile ask for.
    specs: Vec<String>,
    /// The project folder.
    #[arg(long, default_value = ".")]
    project: PathBuf,
    #[command(flatten)]
    lookup: LookupArgs,
    /// Print the report (or the error) as JSON.
    #[arg(long)]
    json: bool,
}

pub fn run(args: InstallArgs) -> Result<()> {
    crate::outcome::reported(args.json, install_now(&args))
}

fn install_now(args: &InstallArgs) -> Result<()> {
    let home = home();
    let add = args
        .specs
        .iter()
        .map(|s| parse_spec(s))
        .collect::<Result<Vec<_>, _>>()?;
    std::fs::create_dir_all(&args.project)?;
    let (sources, fetch) = args.lookup.sources_and_fetch(&home)?;
    let req = InstallRequest {
        project: args.project.clone(),
        add,
        sources,
        fetch,
        home,
    };
    let rt = transfer_runtime()?;
    let report = rt.block_on(async {
        let swarm = args.lookup.peer.start_swarm(None).await?;
        let r = install(&swarm, &req).await;
        swarm.stop().await;
        anyhow::Ok(r?)
    })?;
    if args.json {
        print_json(&report);
        return Ok(());
    }
    if report.resolved_via == "dht" {
        eprintln!("note: no relay answered; resolved from the registries' and publishers' feeds on the DHT");
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
