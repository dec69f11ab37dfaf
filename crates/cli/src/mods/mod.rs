//! `seedstr mod …`: OpenMods for authors (init, release, incident) and players (install,
//! update, rollback, uninstall, list) in a game folder.

mod author;
mod collection;
mod player;

use anyhow::Result;
use clap::Subcommand;

#[derive(Subcommand)]
pub enum ModCommand {
    /// Scaffold a mod project: metadata/project.md and release/0.1.0.yaml.
    Init(author::InitArgs),
    /// Build, sign and publish release/<version>.yaml of the project in --dir.
    Release(Box<author::ReleaseArgs>),
    /// Sign a security incident (30085) for versions of your mod, also sent as a NIP-56 report.
    Incident(Box<author::IncidentArgs>),
    /// Install mods (and what they require) into a game folder.
    Install(Box<player::InstallArgs>),
    /// Move installed mods to the newest versions that fit.
    Update(Box<player::UpdateArgs>),
    /// Put a mod back to an older version (by default the newest no incident names).
    Rollback(Box<player::RollbackArgs>),
    /// Remove mods from a game folder.
    Uninstall(Box<player::UninstallArgs>),
    /// Show the installed mods, their files, alerts and the load order.
    List(Box<player::ListArgs>),
    /// Collections: exact releases and a load order, signed by a curator.
    #[command(subcommand)]
    Collection(collection::CollectionCommand),
}

pub fn run(cmd: ModCommand) -> Result<()> {
    match cmd {
        ModCommand::Init(a) => author::init(a),
        ModCommand::Release(a) => author::release(*a),
        ModCommand::Incident(a) => author::incident(*a),
        ModCommand::Install(a) => player::install(*a),
        ModCommand::Update(a) => player::update(*a),
        ModCommand::Rollback(a) => player::rollback(*a),
        ModCommand::Uninstall(a) => player::uninstall(*a),
        ModCommand::List(a) => player::list(*a),
        ModCommand::Collection(c) => collection::run(c),
    }
}
