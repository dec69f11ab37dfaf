//! Running Node with a project's `.libreseed_modules` resolvable: two small ES modules, kept
//! in the binary and written beside the packages, hook Node's resolver (see register.mjs).

use std::path::{Path, PathBuf};
use std::process::Command;

use seedstr_client::files::durable::replace_file;

use crate::project::MODULES_DIR;

const REGISTER: &str = include_str!("register.mjs");
const HOOKS: &str = include_str!("hooks.mjs");

/// Why Node could not be run with the packages.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// No installed packages here or above.
    #[error("no {MODULES_DIR} in {} or any folder above it; run `seedstr pkg install` first", .0.display())]
    NoModules(PathBuf),
    /// The hooks could not be written.
    #[error("writing {}: {source}", path.display())]
    Write {
        /// The file or folder.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

/// The project `start` belongs to: the nearest folder, from `start` up, holding
/// `.libreseed_modules`.
pub fn find_project(start: &Path) -> Result<PathBuf, RunError> {
    let start = std::fs::canonicalize(start).unwrap_or_else(|_| start.to_owned());
    start
        .ancestors()
        .find(|d| d.join(MODULES_DIR).join("node_modules").is_dir())
        .map(Path::to_owned)
        .ok_or(RunError::NoModules(start))
}

/// `node --import <register.mjs> <script> <args…>` for `project`, with the environment the
/// hooks read. The hook files are written first.
pub fn node_command(
    node: &str,
    project: &Path,
    script: &Path,
    args: &[String],
) -> Result<Command, RunError> {
    let modules = std::fs::canonicalize(project.join(MODULES_DIR))
        .map_err(|_| RunError::NoModules(project.to_owned()))?;
    let dir = modules.join(".seedstr");
    std::fs::create_dir_all(&dir).map_err(|source| RunError::Write {
        path: dir.clone(),
        source,
    })?;
    for (name, text) in [("register.mjs", REGISTER), ("hooks.mjs", HOOKS)] {
        let path = dir.join(name);
        if std::fs::read_to_string(&path).ok().as_deref() != Some(text) {
            replace_file(&path, text.as_bytes())
                .map_err(|source| RunError::Write { path, source })?;
        }
    }
    let node_path = modules.join("node_modules");
    let node_path = match std::env::var_os("NODE_PATH") {
        Some(old) if !old.is_empty() => {
            let mut joined = node_path.into_os_string();
            joined.push(":");
            joined.push(old);
            joined
        }
        _ => node_path.into_os_string(),
    };
    let mut cmd = Command::new(node);
    cmd.arg("--import")
        .arg(
            url::Url::from_file_path(dir.join("register.mjs"))
                .map_err(|()| RunError::NoModules(project.to_owned()))?
                .as_str(),
        )
        .arg(script)
        .args(args)
        .env("LIBRESEED_MODULES", &modules)
        .env("NODE_PATH", node_path);
    Ok(cmd)
}
