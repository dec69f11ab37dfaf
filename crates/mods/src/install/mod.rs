//! Players' side: installing, updating, rolling back and removing mods in a game folder.

pub mod apply;
pub mod catalog;
pub mod error;
pub mod folder;
pub mod load_order;
pub mod plan;
pub mod state;

pub use apply::{apply, Applied};
pub use catalog::{fetch_projects, FeedLookup, ProjectInfo, SignedIncident};
pub use error::ModError;
pub use folder::{list_folder, open_folder, register_for_seeding, FolderListing};
pub use plan::{
    plan_install, plan_remove, plan_rollback, Action, ActionKind, Folder, Plan, PlanOptions, Want,
};
pub use state::{installed_mods, GameState, ModKey};
