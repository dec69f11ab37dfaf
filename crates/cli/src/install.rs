//! `seedstr install`: resolve, fetch, verify and install a release, with a progress bar.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use anyhow::Result;
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use seedstr_client::install::{
    install, register_for_seeding, InstallOptions, InstallReport, Outcome, Step,
};
use seedstr_client::keys::store::home;
use seedstr_client::resolve::target::Target;

use crate::net_args::{human_bytes, print_json, transfer_runtime, PeerArgs, RelayArgs};

#[derive(Args)]
pub struct InstallArgs {
    /// <npub or hex key>/<namespace>.<slug>[@<version>]
    target: String,
    /// The install folder (created if missing).
    #[arg(long)]
    into: PathBuf,
    /// Install an older version than the one installed.
    #[arg(long)]
    allow_downgrade: bool,
    /// Seconds without progress before the swarm counts as stalled and mirrors take over.
    #[arg(long, default_value_t = 60)]
    stall_timeout: u64,
    /// Do not register the installed files with `seedstr seed`.
    #[arg(long)]
    no_seed: bool,
    #[command(flatten)]
    relay: RelayArgs,
    #[command(flatten)]
    peer: PeerArgs,
    /// Print the report (or the error) as JSON.
    #[arg(long)]
    json: bool,
}

fn bar_style() -> ProgressStyle {
    ProgressStyle::with_template(
        "{spinner} {msg:<20} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
    )
    .expect("a valid template")
    .progress_chars("=> ")
}

pub fn run(args: InstallArgs) -> Result<()> {
    crate::outcome::reported(args.json, install_now(&args))
}

fn install_now(args: &InstallArgs) -> Result<()> {
    let target: Target = args.target.parse()?;
    let opts = InstallOptions {
        relays: args.relay.relays(),
        relay_timeout: args.relay.timeout(),
        allow_downgrade: args.allow_downgrade,
        peers: args.peer.peers.clone(),
        stall_timeout: Duration::from_secs(args.stall_timeout.max(1)),
        home: home(),
        dht: args.peer.dht_options(),
        dht_node: None,
        max_release_bytes: args.peer.max_release_bytes,
    };
    let bar = if args.json {
        ProgressBar::hidden()
    } else {
        ProgressBar::new(0).with_style(bar_style())
    };
    bar.enable_steady_tick(Duration::from_millis(200));
    let peers_seen = Mutex::new((0u32, 0u32));
    let on_step = |step: Step| match step {
        Step::Resolved {
            release,
            total_bytes,
            ..
        } => {
            bar.set_length(total_bytes);
            bar.println(format!("resolved {release}"));
            bar.set_message("finding peers");
        }
        Step::Transfer {
            progress,
            from_mirror,
        } => {
            bar.set_position(progress.done_bytes);
            if from_mirror {
                bar.set_message("from mirror");
            } else {
                *peers_seen.lock().unwrap() = (progress.live_peers, progress.seen_peers);
                bar.set_message(format!(
                    "{} peers ({} seen)",
                    progress.live_peers, progress.seen_peers
                ));
            }
        }
        Step::Metadata { .. } => bar.set_message("downloading"),
        Step::MirrorFallback { reason } => {
            bar.println(format!("swarm: {reason}; trying mirrors"));
        }
        Step::Verifying => bar.set_message("verifying SHA-256"),
    };
    let rt = transfer_runtime()?;
    let report = rt.block_on(async {
        let swarm = args.peer.start_swarm(None).await?;
        let r = install(&swarm, &args.into, &target, &opts, &on_step).await;
        swarm.stop().await;
        anyhow::Ok(r?)
    });
    bar.finish_and_clear();
    let report = report?;
    let root = std::fs::canonicalize(&args.into).unwrap_or(args.into.clone());
    if !args.no_seed {
        register_for_seeding(&home(), &root, &report)?;
    }
    if args.json {
        print_json(&report);
        return Ok(());
    }
    print_report(&report, &root);
    Ok(())
}

/// The install's report for a terminal: warnings on stderr, what was done on stdout.
fn print_report(report: &InstallReport, root: &Path) {
    for r in &report.rejected {
        eprintln!(
            "warning: refused event {} ({}): {}",
            r.event_id, r.claims, r.reason
        );
    }
    for (relay, why) in &report.relays_failed {
        eprintln!("warning: relay {relay} did not answer: {why}");
    }
    for relay in &report.stale_relays {
        eprintln!(
            "warning: relay {relay} answered without {}@{}, which other relays hold: it is stale or hides releases",
            report.coordinate, report.version
        );
    }
    if report.resolved_via == "dht" {
        eprintln!("no relay answered: resolved through the author's DHT records");
    }
    let what = format!("{}@{}", report.coordinate, report.version);
    match report.outcome {
        Outcome::AlreadyInstalled => println!("{what} is already installed and intact"),
        outcome => {
            let verb = match outcome {
                Outcome::Upgraded => format!(
                    "upgraded {} from {}",
                    report.coordinate,
                    report.previous.as_deref().unwrap_or("?")
                ),
                Outcome::Downgraded => format!(
                    "downgraded {} from {}",
                    report.coordinate,
                    report.previous.as_deref().unwrap_or("?")
                ),
                Outcome::Repaired => format!("repaired {what}"),
                _ => format!("installed {what}"),
            };
            println!(
                "{verb} into {}: {} files, {} (swarm {}, mirrors {})",
                root.display(),
                report.files,
                human_bytes(report.bytes),
                human_bytes(report.swarm_bytes),
                human_bytes(report.mirror_bytes)
            );
        }
    }
    match &report.chain.unverified_from {
        Some(v) if !report.chain.links.is_empty() => {
            println!("supersedes chain checked down to {v} (relays hold nothing older)")
        }
        _ if report.chain.links.is_empty() => {}
        _ => println!(
            "supersedes chain checked: {} earlier release(s)",
            report.chain.links.len()
        ),
    }
}
