//! Fallout 4.

use super::Bethesda;

pub const FALLOUT_4: Bethesda = Bethesda {
    id: "fallout-4",
    name: "Fallout 4",
    script_extender: "f4se",
    script_extender_dir: "F4SE",
    base_plugins: &[
        "Fallout4.esm",
        "DLCRobot.esm",
        "DLCworkshop01.esm",
        "DLCCoast.esm",
        "DLCworkshop02.esm",
        "DLCworkshop03.esm",
        "DLCNukaWorld.esm",
    ],
};
