//! `seedstr mod …`: OpenMods for authors (init, release, incident) and players (install,
//! update, rollback, uninstall, list) in a game folder.

mod author;
mod collection;
mod community;
mod player;
mod seed_health;

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
    /// Review a release with a rating from 1 to 5 (30081).
    Review(Box<community::ReviewArgs>),
    /// Report how a release runs on a game version, maybe with other releases (30082).
    Compat(Box<community::CompatArgs>),
    /// Report a bug in a release (30084); the same --id updates it.
    Bug(Box<community::BugArgs>),
    /// Send a support message to a project's author (30080).
    Support(Box<community::SupportArgs>),
    /// A project's page: releases, incidents, ratings, compatibility, bugs.
    Info(Box<community::InfoArgs>),
    /// Relay policies (30086): publish yours, show those of your relays.
    #[command(subcommand)]
    Policy(community::PolicyCommand),
    /// Open a governance proposal (30100) with options and a quorum rule.
    Propose(Box<community::ProposeArgs>),
    /// Vote on a proposal (30109); a newer vote replaces yours.
    Vote(Box<community::VoteArgs>),
    /// Count a proposal's votes under its quorum rule.
    Tally(Box<community::TallyArgs>),
    /// Who seeds a release: tracker counts, DHT peers, and what each peer holds.
    SeedHealth(Box<seed_health::SeedHealthArgs>),
    /// The mirrors that asked to be named in your projects' zap splits.
    Offers(Box<author::OffersArgs>),
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
        ModCommand::Review(a) => player::reported(a.common.json, || community::review(*a)),
        ModCommand::Compat(a) => player::reported(a.common.json, || community::compat(*a)),
        ModCommand::Bug(a) => player::reported(a.common.json, || community::bug(*a)),
        ModCommand::Support(a) => player::reported(a.common.json, || community::support(*a)),
        ModCommand::Info(a) => player::reported(a.common.json, || community::info(*a)),
        ModCommand::Offers(a) => player::reported(a.json, || author::offers(*a)),
        ModCommand::Policy(c) => {
            let json = match &c {
                community::PolicyCommand::Publish(a) => a.common.json,
                community::PolicyCommand::Show(c) => c.json,
            };
            player::reported(json, || community::policy(c))
        }
        ModCommand::Propose(a) => player::reported(a.common.json, || community::propose(*a)),
        ModCommand::Vote(a) => player::reported(a.common.json, || community::vote(*a)),
        ModCommand::Tally(a) => player::reported(a.common.json, || community::tally_cmd(*a)),
        ModCommand::SeedHealth(a) => {
            let json = a.json;
            player::reported(json, || seed_health::seed_health_cmd(*a))
        }
    }
}
