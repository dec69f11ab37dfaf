//! Game adapters: where a game's mods go, which files may go where, which files are plugins, and
//! how the load order is written. Adding a game is one module here and one line in [`ALL`].

mod bethesda;
mod fallout_4;
mod skyrim_se;

pub use bethesda::Bethesda;

/// What a file of a mod is to the game.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileRole {
    /// A plugin the load order lists (`Data/<name>.esp`).
    Plugin {
        /// A master file (`.esm`, `.esl`), loaded before the others.
        master: bool,
    },
    /// Anything else the game reads below its data folder.
    Data,
    /// A script-extender file beside the game's executable.
    ScriptExtender,
}

/// A path a game's rules refuse, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{game} does not allow {path:?}: {why}")]
pub struct RuleError {
    /// The game's id.
    pub game: &'static str,
    /// The path.
    pub path: String,
    /// Why the game refuses it.
    pub why: String,
}

/// What Seedstr knows of one game: where its mods' files may go, and its load order.
pub trait GameAdapter: Sync {
    /// The namespace of the game's mods, e.g. `skyrim-se`.
    fn id(&self) -> &'static str;
    /// The game's name for people.
    fn name(&self) -> &'static str;
    /// What the file at payload path `path` is, or why the game must not receive it.
    fn check_path(&self, path: &str) -> Result<FileRole, RuleError>;
    /// The load-order file, relative to the game folder.
    fn load_order_file(&self) -> &'static str;
    /// The load-order file's bytes for these plugins, in this order (masters already first).
    fn render_load_order(&self, plugins: &[String]) -> Vec<u8>;
}

/// Every game Seedstr knows.
pub const ALL: &[&dyn GameAdapter] = &[&skyrim_se::SKYRIM_SE, &fallout_4::FALLOUT_4];

/// A game Seedstr does not know.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown game {0:?}; known games: {known}", known = known_ids())]
pub struct UnknownGame(pub String);

fn known_ids() -> String {
    ALL.iter().map(|g| g.id()).collect::<Vec<_>>().join(", ")
}

/// The adapter for game id `id`.
pub fn game(id: &str) -> Result<&'static dyn GameAdapter, UnknownGame> {
    ALL.iter()
        .copied()
        .find(|g| g.id() == id)
        .ok_or_else(|| UnknownGame(id.to_owned()))
}

/// Checks every path of a release against the game's rules; every refusal is reported.
pub fn check_paths<'a>(
    game: &dyn GameAdapter,
    paths: impl IntoIterator<Item = &'a str>,
) -> Result<(), Vec<RuleError>> {
    let refused: Vec<RuleError> = paths
        .into_iter()
        .filter_map(|p| game.check_path(p).err())
        .collect();
    if refused.is_empty() {
        Ok(())
    } else {
        Err(refused)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn games_are_found_by_id_and_unknown_ones_named() {
        assert_eq!(
            game("skyrim-se").unwrap().name(),
            "The Elder Scrolls V: Skyrim Special Edition"
        );
        assert_eq!(game("fallout-4").unwrap().load_order_file(), "plugins.txt");
        let e = game("doom").err().unwrap().to_string();
        assert!(
            e.contains("doom") && e.contains("skyrim-se, fallout-4"),
            "{e}"
        );
    }
}
