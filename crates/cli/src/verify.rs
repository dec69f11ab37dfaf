//! `seedstr verify DIR`: re-check every installed file against the lockfile (after rolling
//! back a transaction a killed install left).

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;
use seedstr_client::install::{verify_root, Lockfile};

use crate::net_args::{human_bytes, print_json};

#[derive(Args)]
pub struct VerifyArgs {
    /// An install folder (holding seedstr.lock).
    dir: PathBuf,
    #[arg(long)]
    json: bool,
}

pub fn run(args: VerifyArgs) -> Result<()> {
    if !args.dir.is_dir() {
        anyhow::bail!("{} is not a folder", args.dir.display());
    }
    if !Lockfile::path(&args.dir).exists() {
        anyhow::bail!(
            "{} has no seedstr.lock: nothing was installed there",
            args.dir.display()
        );
    }
    let report = verify_root(&args.dir)?;
    if args.json {
        print_json(&report);
    } else {
        for d in &report.drift {
            println!("{}: {} ({})", d.path, d.problem, d.release);
        }
        println!(
            "{} installs, {} files checked, {} intact, {} changed",
            report.installs,
            report.files_checked,
            human_bytes(report.bytes_checked),
            report.drift.len()
        );
    }
    if !report.drift.is_empty() {
        // The report above names every changed file.
        return Err(crate::outcome::Reported.into());
    }
    Ok(())
}
