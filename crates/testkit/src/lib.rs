#![warn(missing_docs)]
//! Test support shared by Seedstr's test suites: third-party networks started on loopback.
//! Only tests depend on this crate; nothing here reaches the shipped binary.

pub mod anvil;
pub mod peer_dht;
pub mod postgres;

pub use peer_dht::PeerDhtTestnet;

/// `tests/py/<name>`, the third-party peer scripts at the workspace root.
pub fn py_script(name: &str) -> std::path::PathBuf {
    workspace_root().join("tests/py").join(name)
}

/// The workspace root, found at run time: cargo and nextest set `CARGO_MANIFEST_DIR` for each
/// test process (every crate sits two levels down). The compile-time value is only a fallback:
/// a build cache shared between checkouts at different paths keeps this crate compiled with
/// another checkout's path.
pub fn workspace_root() -> std::path::PathBuf {
    let crate_dir = std::env::var_os("CARGO_MANIFEST_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| env!("CARGO_MANIFEST_DIR").into());
    crate_dir.join("../..")
}
