//! Installing releases: the lockfile and atomic changes to an install root.

pub mod lockfile;
pub mod transaction;

pub use lockfile::{Installed, LockedFile, Lockfile, LockfileError};
pub use transaction::{commit, recover, Change, TransactionError, STATE_DIR};
