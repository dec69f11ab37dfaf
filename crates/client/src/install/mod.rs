//! Installing releases: resolution to verified files, the lockfile, atomic changes to an
//! install root, the mirror fallback, and re-verification.

pub mod installer;
pub mod lockfile;
pub mod mirror;
pub mod transaction;
pub mod verify;

pub use installer::{
    install, register_for_seeding, register_installed, stage_release, InstallError, InstallOptions,
    InstallReport, Outcome, Staged, Step, DEFAULT_MAX_RELEASE_BYTES,
};
pub use lockfile::{Installed, LockedFile, Lockfile, LockfileError};
pub use transaction::{commit, recover, Change, TransactionError, STATE_DIR};
pub use verify::{check_file, verify_root, FileProblem, RootReport, VerifyRootError};
