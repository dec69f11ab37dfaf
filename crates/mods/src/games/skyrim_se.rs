//! The Elder Scrolls V: Skyrim Special Edition (and Anniversary Edition).

use super::Bethesda;

pub const SKYRIM_SE: Bethesda = Bethesda {
    id: "skyrim-se",
    name: "The Elder Scrolls V: Skyrim Special Edition",
    script_extender: "skse64",
    script_extender_dir: "SKSE",
    // Loaded by the game itself; plugins.txt never lists them.
    base_plugins: &[
        "Skyrim.esm",
        "Update.esm",
        "Dawnguard.esm",
        "HearthFires.esm",
        "Dragonborn.esm",
    ],
};
