//! OpenMods: games and their rules, authoring files, curation and governance events, a
//! project's page, game-folder installs and the mirror bot.
#![warn(missing_docs)]
pub mod authoring;
pub mod collections;
pub mod events;
pub mod games;
pub mod governance;
pub mod install;
pub mod mirror;
pub mod page;
pub mod relay_policies;
pub mod search;
