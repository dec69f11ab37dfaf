//! `seedstr run`: Node with the project's LibreSeed packages resolvable by `require` and
//! `import`.

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Args;
use seedstr_pkg::nodejs::{find_project, node_command};

#[derive(Args)]
pub struct RunArgs {
    /// The script to run.
    script: PathBuf,
    /// Arguments for the script.
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    args: Vec<String>,
    /// The project folder [default: the nearest folder holding .libreseed_modules].
    #[arg(long)]
    project: Option<PathBuf>,
    /// The Node executable.
    #[arg(long, env = "SEEDSTR_NODE", default_value = "node")]
    node: String,
}

/// Runs the script and returns its exit status as ours.
pub fn run(args: RunArgs) -> Result<std::process::ExitCode> {
    let project = match &args.project {
        Some(p) => p.clone(),
        None => find_project(&std::env::current_dir()?)?,
    };
    let status = node_command(&args.node, &project, &args.script, &args.args)?
        .status()
        .with_context(|| format!("starting {}", args.node))?;
    Ok(std::process::ExitCode::from(
        status.code().map_or(1, |c| c.clamp(0, 255) as u8),
    ))
}
