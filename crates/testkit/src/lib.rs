#![warn(missing_docs)]
//! Test support shared by Seedstr's test suites: third-party networks started on loopback.
//! Only tests depend on this crate; nothing here reaches the shipped binary.

pub mod peer_dht;
pub mod postgres;

pub use peer_dht::PeerDhtTestnet;

/// `tests/py/<name>`, the third-party peer scripts at the workspace root.
pub fn py_script(name: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/py")
        .join(name)
}
