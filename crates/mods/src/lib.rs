pub mod authoring;
pub mod collections;
pub mod events;
pub mod games;
pub mod governance;
pub mod install;
pub mod mirror;
pub mod page;
