//! The player's commands: `mod install|update|rollback|uninstall|list --game-dir DIR`.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{bail, Result};
use clap::Args;
use seedstr_client::feed::ResolveOptions;
use seedstr_client::install::{InstallOptions, Step};
use seedstr_client::keys::store::home;
use seedstr_client::resolve::target::Target;
use seedstr_dht::DhtOptions;
use seedstr_mods::install::folder::ListedFiles;
use seedstr_mods::install::{
    apply, list_folder, plan_install, plan_remove, plan_rollback, register_for_seeding, ActionKind,
    Applied, FeedLookup, Folder, ModKey, Plan, PlanOptions, Want,
};

use crate::net_args::{human_bytes, print_json, runtime, transfer_runtime, PeerArgs, RelayArgs};

/// What every command that changes a game folder takes.
#[derive(Args)]
pub struct FolderArgs {
    /// The game folder (the one holding Data/).
    #[arg(long)]
    pub game_dir: PathBuf,
    /// The game's version (say 1.6.1170.0); recorded, and releases must support it.
    #[arg(long)]
    game_version: Option<String>,
    /// Install releases whatever game versions they name.
    #[arg(long)]
    any_game_version: bool,
    /// Apply the plan without asking.
    #[arg(long, short = 'y')]
    yes: bool,
    /// Show the plan and stop.
    #[arg(long)]
    dry_run: bool,
    /// Seconds without progress before the swarm counts as stalled and mirrors take over.
    #[arg(long, default_value_t = 60)]
    stall_timeout: u64,
    /// Do not register the installed files with `seedstr seed`.
    #[arg(long)]
    no_seed: bool,
    #[command(flatten)]
    pub relay: RelayArgs,
    #[command(flatten)]
    peer: PeerArgs,
    /// Print the plan and the result (or the error) as JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Args)]
pub struct InstallArgs {
    /// <npub or hex>/<game>.<slug>[@<version>] (repeatable).
    #[arg(required = true)]
    mods: Vec<String>,
    /// Install optional dependencies too.
    #[arg(long)]
    with_optional: bool,
    /// Allow installing an older version than the one installed.
    #[arg(long)]
    allow_downgrade: bool,
    #[command(flatten)]
    folder: FolderArgs,
}

#[derive(Args)]
pub struct UpdateArgs {
    /// Mods to update: <slug>, <game>.<slug> or <npub>/<game>.<slug> [default: every installed mod].
    mods: Vec<String>,
    #[command(flatten)]
    folder: FolderArgs,
}

#[derive(Args)]
pub struct RollbackArgs {
    /// The mod: <slug>, <game>.<slug> or <npub>/<game>.<slug>.
    name: String,
    /// The version to go back to [default: the newest older one no incident names].
    #[arg(long)]
    to: Option<String>,
    #[command(flatten)]
    folder: FolderArgs,
}

#[derive(Args)]
pub struct UninstallArgs {
    #[arg(required = true)]
    mods: Vec<String>,
    #[command(flatten)]
    folder: FolderArgs,
}

#[derive(Args)]
pub struct ListArgs {
    #[arg(long)]
    game_dir: PathBuf,
    /// List each mod's files.
    #[arg(long)]
    files: bool,
    /// Do not ask relays for incidents and updates.
    #[arg(long)]
    offline: bool,
    #[command(flatten)]
    relay: RelayArgs,
    #[arg(long)]
    json: bool,
}

/// Runs `f`; with --json an error is printed as `{"error": …}` too.
pub(super) fn reported(json: bool, f: impl FnOnce() -> Result<()>) -> Result<()> {
    crate::outcome::reported(json, f())
}

/// Opens the folder ([`seedstr_mods::install::open_folder`]) with the flags' game version.
pub(super) fn open_folder<'a>(
    root: &'a Path,
    game_id: Option<&str>,
    args: &FolderArgs,
) -> Result<Folder<'a>> {
    Ok(seedstr_mods::install::open_folder(
        root,
        game_id,
        args.game_version.as_deref(),
    )?)
}

pub(super) fn plan_options(args: &FolderArgs) -> PlanOptions {
    let relays = args.relay.relays();
    // Like `install`: with the relays down, the authors' feeds on the DHT stand in.
    let feeds = (!args.peer.no_dht).then(|| {
        std::sync::Arc::new(FeedLookup::new(
            home(),
            DhtOptions::joining(&args.peer.dht_bootstrap),
            ResolveOptions {
                relays: relays.clone(),
                relay_timeout: args.relay.timeout(),
                peers: args.peer.peers.clone(),
                stall: Duration::from_secs(args.stall_timeout.max(1)),
            },
        ))
    });
    PlanOptions {
        relays,
        relay_timeout: args.relay.timeout(),
        any_game_version: args.any_game_version,
        feeds,
        ..PlanOptions::default()
    }
}

fn print_plan(plan: &Plan, root: &Path) {
    println!("plan for {} ({}):", root.display(), plan.game);
    for a in &plan.actions {
        let what = match a.action {
            ActionKind::Install => {
                format!("install   {} {}", a.project, a.to.as_deref().unwrap_or(""))
            }
            ActionKind::Upgrade => format!(
                "upgrade   {} {} -> {}",
                a.project,
                a.from.as_deref().unwrap_or("?"),
                a.to.as_deref().unwrap_or("")
            ),
            ActionKind::Downgrade => format!(
                "downgrade {} {} -> {}",
                a.project,
                a.from.as_deref().unwrap_or("?"),
                a.to.as_deref().unwrap_or("")
            ),
            ActionKind::Repair => {
                format!("repair    {} {}", a.project, a.to.as_deref().unwrap_or(""))
            }
            ActionKind::Remove => format!(
                "remove    {} {}",
                a.project,
                a.from.as_deref().unwrap_or("")
            ),
        };
        match &a.required_by {
            Some(by) => println!("  {what} (required by {by})"),
            None => println!("  {what}"),
        }
    }
    for s in &plan.optional {
        println!(
            "  optional: {} {} (suggested by {}; --with-optional installs it)",
            s.project, s.versions, s.by
        );
    }
    for w in &plan.warnings {
        println!("  warning: {w}");
    }
    if !plan.load_order.is_empty() {
        println!("  load order: {}", plan.load_order.join(", "));
    }
}

/// `--json` output of a plan and, once carried out, what was applied.
#[derive(serde::Serialize)]
struct PlanOutcome<'a> {
    plan: &'a Plan,
    applied: Option<&'a Applied>,
}

/// Shows the plan, asks (unless --yes), applies it, registers the torrents for seeding.
pub(super) fn carry_out(folder: &Folder<'_>, plan: Plan, args: &FolderArgs) -> Result<()> {
    if plan.changes_nothing() {
        if args.json {
            print_json(&PlanOutcome {
                plan: &plan,
                applied: None,
            });
        } else {
            println!("nothing to do");
        }
        return Ok(());
    }
    if !args.json {
        print_plan(&plan, folder.root);
    }
    if args.dry_run {
        if args.json {
            print_json(&PlanOutcome {
                plan: &plan,
                applied: None,
            });
        }
        return Ok(());
    }
    if !args.yes {
        if !std::io::stdin().is_terminal() {
            bail!("not applying the plan without confirmation: pass --yes (or --dry-run to only see it)");
        }
        print!("apply? [y/N] ");
        std::io::stdout().flush()?;
        let mut answer = String::new();
        std::io::stdin().read_line(&mut answer)?;
        if !matches!(answer.trim(), "y" | "Y" | "yes") {
            bail!("not applied");
        }
    }
    let opts = InstallOptions {
        relays: args.relay.relays(),
        relay_timeout: args.relay.timeout(),
        allow_downgrade: true,
        peers: args.peer.peers.clone(),
        stall_timeout: Duration::from_secs(args.stall_timeout.max(1)),
        home: home(),
        dht: args.peer.dht_options(),
        dht_node: None,
        max_release_bytes: args.peer.max_release_bytes,
    };
    let quiet = args.json;
    let on_step = move |release: &str, step: Step| {
        if quiet {
            return;
        }
        match step {
            Step::Metadata { peers } => eprintln!("{release}: downloading ({peers} peers)"),
            Step::MirrorFallback { reason } => {
                eprintln!("{release}: swarm: {reason}; trying mirrors")
            }
            Step::Verifying => eprintln!("{release}: verifying SHA-256"),
            _ => {}
        }
    };
    let rt = transfer_runtime()?;
    let applied = rt.block_on(async {
        let swarm = args.peer.start_swarm(None).await?;
        let r = apply(&swarm, folder.root, folder.game, &plan, &opts, &on_step).await;
        swarm.stop().await;
        anyhow::Ok(r?)
    })?;
    if !args.no_seed {
        register_for_seeding(&home(), folder.root, &applied)?;
    }
    if args.json {
        print_json(&PlanOutcome {
            plan: &plan,
            applied: Some(&applied),
        });
    } else {
        println!(
            "done: {} change(s), swarm {}, mirrors {}; {} written",
            plan.actions.len(),
            human_bytes(applied.swarm_bytes),
            human_bytes(applied.mirror_bytes),
            folder.game.load_order_file()
        );
    }
    Ok(())
}

pub fn install(args: InstallArgs) -> Result<()> {
    reported(args.folder.json, || {
        let targets: Vec<Target> = args
            .mods
            .iter()
            .map(|m| m.parse::<Target>())
            .collect::<Result<_, _>>()?;
        let folder = open_folder(
            &args.folder.game_dir,
            Some(&targets[0].coordinate.ns),
            &args.folder,
        )?;
        let wants: Vec<Want> = targets
            .into_iter()
            .map(|t| Want {
                key: ModKey {
                    author: t.author,
                    coordinate: t.coordinate,
                },
                version: t.version,
                pinned: None,
            })
            .collect();
        let opts = PlanOptions {
            with_optional: args.with_optional,
            allow_downgrade: args.allow_downgrade,
            ..plan_options(&args.folder)
        };
        let plan = runtime()?.block_on(plan_install(&folder, &wants, &opts))?;
        carry_out(&folder, plan, &args.folder)
    })
}

pub fn update(args: UpdateArgs) -> Result<()> {
    reported(args.folder.json, || {
        let folder = open_folder(&args.folder.game_dir, None, &args.folder)?;
        let keys: Vec<ModKey> = if args.mods.is_empty() {
            folder.installed().into_keys().collect()
        } else {
            args.mods
                .iter()
                .map(|m| folder.find(m))
                .collect::<Result<_, _>>()?
        };
        let wants: Vec<Want> = keys
            .into_iter()
            .map(|key| Want {
                key,
                version: None,
                pinned: None,
            })
            .collect();
        let opts = PlanOptions {
            update: true,
            ..plan_options(&args.folder)
        };
        let plan = runtime()?.block_on(plan_install(&folder, &wants, &opts))?;
        carry_out(&folder, plan, &args.folder)
    })
}

pub fn rollback(args: RollbackArgs) -> Result<()> {
    reported(args.folder.json, || {
        let folder = open_folder(&args.folder.game_dir, None, &args.folder)?;
        let key = folder.find(&args.name)?;
        let to = args
            .to
            .as_deref()
            .map(seedstr_proto::release::parse_version)
            .transpose()?;
        let plan = runtime()?.block_on(plan_rollback(
            &folder,
            &key,
            to,
            &plan_options(&args.folder),
        ))?;
        carry_out(&folder, plan, &args.folder)
    })
}

pub fn uninstall(args: UninstallArgs) -> Result<()> {
    reported(args.folder.json, || {
        let folder = open_folder(&args.folder.game_dir, None, &args.folder)?;
        let keys: Vec<ModKey> = args
            .mods
            .iter()
            .map(|m| folder.find(m))
            .collect::<Result<_, _>>()?;
        let plan = plan_remove(&folder, &keys)?;
        carry_out(&folder, plan, &args.folder)
    })
}

pub fn list(args: ListArgs) -> Result<()> {
    reported(args.json, || {
        let root = &args.game_dir;
        let relays = (!args.offline).then(|| args.relay.set());
        let listing = runtime()?.block_on(list_folder(root, relays.as_ref(), args.files))?;
        if args.json {
            print_json(&listing);
            return Ok(());
        }
        if listing.mods.is_empty() {
            println!("no mods installed in {}", root.display());
            return Ok(());
        }
        println!("{} ({})", root.display(), listing.game);
        for m in &listing.mods {
            let mark = if m.requested { "" } else { " (dependency)" };
            println!("  {} {}{mark}", m.project, m.version);
            if let ListedFiles::Paths(files) = &m.files {
                for f in files {
                    println!("      {f}");
                }
            }
            if let Some(alert) = &m.alert {
                println!(
                    "    ALERT {} incident: {} — run `seedstr mod rollback {}`",
                    alert.severity.as_str(),
                    alert.summary,
                    m.id
                );
            }
            for w in &m.warnings {
                println!("    warning (not from the author): {w}");
            }
            if let Some(u) = &m.update {
                println!("    update available: {u}");
            }
        }
        println!("  load order: {}", listing.load_order.join(", "));
        if listing.alerts > 0 {
            bail!(
                "{} installed mod(s) have security incidents",
                listing.alerts
            );
        }
        Ok(())
    })
}
