//! The rules Bethesda's Creation Engine games share: mods live in `Data/`, plugins (`.esp`,
//! `.esm`, `.esl`) sit directly in it and are listed in `plugins.txt` with a `*` when active,
//! native code only comes as script-extender plugins.

use super::{FileRole, GameAdapter, RuleError};

/// A Bethesda game (Skyrim SE, Fallout 4): `Data/` and `plugins.txt`.
pub struct Bethesda {
    /// The namespace of the game's mods.
    pub id: &'static str,
    /// The game's name.
    pub name: &'static str,
    /// Prefix of the script extender's own files beside the executable (`skse64`).
    pub script_extender: &'static str,
    /// The script extender's folder inside `Data/` (`SKSE`); its `Plugins/` holds DLLs.
    pub script_extender_dir: &'static str,
    /// Plugins the game loads by itself; a mod may not ship them.
    pub base_plugins: &'static [&'static str],
}

const DATA: &str = "Data";
const PLUGIN_EXTENSIONS: &[&str] = &["esp", "esm", "esl"];
/// Files that run code outside the script extender's control.
const EXECUTABLE_EXTENSIONS: &[&str] = &["exe", "bat", "cmd", "com", "ps1", "vbs", "scr", "msi"];

fn extension(path: &str) -> String {
    let name = path.rsplit('/').next().unwrap_or(path);
    name.rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default()
}

impl Bethesda {
    fn refuse(&self, path: &str, why: impl Into<String>) -> RuleError {
        RuleError {
            game: self.id,
            path: path.to_owned(),
            why: why.into(),
        }
    }
}

impl GameAdapter for Bethesda {
    fn id(&self) -> &'static str {
        self.id
    }

    fn name(&self) -> &'static str {
        self.name
    }

    fn check_path(&self, path: &str) -> Result<FileRole, RuleError> {
        let ext = extension(path);
        let parts: Vec<&str> = path.split('/').collect();
        if parts.len() == 1 {
            // Beside the executable only the script extender's loader and runtime may go.
            let lower = path.to_ascii_lowercase();
            if lower.starts_with(&format!("{}_", self.script_extender))
                && matches!(ext.as_str(), "exe" | "dll")
            {
                return Ok(FileRole::ScriptExtender);
            }
            return Err(self.refuse(
                path,
                format!(
                    "files go below {DATA}/; beside the game only {}_*.exe and {}_*.dll may go",
                    self.script_extender, self.script_extender
                ),
            ));
        }
        if parts[0] != DATA {
            let hint = if parts[0].eq_ignore_ascii_case(DATA) {
                format!(" (write the folder as {DATA:?})")
            } else {
                String::new()
            };
            return Err(self.refuse(path, format!("files go below {DATA}/{hint}")));
        }
        if EXECUTABLE_EXTENSIONS.contains(&ext.as_str()) {
            return Err(self.refuse(
                path,
                format!("a .{ext} file is a program, and mods may not ship programs in {DATA}/"),
            ));
        }
        if ext == "dll" {
            let plugins_dir = [DATA, self.script_extender_dir, "Plugins"];
            let in_plugins = parts.len() == 4
                && parts[..3]
                    .iter()
                    .zip(plugins_dir)
                    .all(|(a, b)| a.eq_ignore_ascii_case(b));
            if !in_plugins {
                return Err(self.refuse(
                    path,
                    format!(
                        "native code (.dll) only goes in {DATA}/{}/Plugins/",
                        self.script_extender_dir
                    ),
                ));
            }
            return Ok(FileRole::Data);
        }
        if PLUGIN_EXTENSIONS.contains(&ext.as_str()) {
            if parts.len() != 2 {
                return Err(self.refuse(
                    path,
                    format!("plugins (.{ext}) must sit directly in {DATA}/; the game ignores them deeper"),
                ));
            }
            if self
                .base_plugins
                .iter()
                .any(|b| b.eq_ignore_ascii_case(parts[1]))
            {
                return Err(self.refuse(path, "it replaces one of the game's own plugins"));
            }
            return Ok(FileRole::Plugin {
                master: ext != "esp",
            });
        }
        Ok(FileRole::Data)
    }

    fn load_order_file(&self) -> &'static str {
        "plugins.txt"
    }

    fn render_load_order(&self, plugins: &[String]) -> Vec<u8> {
        // The game runs on Windows, and reads CRLF line ends: every line has them.
        let mut out = format!(
            "# {} load order, written by Seedstr. A '*' marks an active plugin.\r\n",
            self.name
        );
        for p in plugins {
            out.push('*');
            out.push_str(p);
            out.push_str("\r\n");
        }
        out.into_bytes()
    }
}

#[cfg(test)]
mod tests {
    use super::super::skyrim_se::SKYRIM_SE;
    use super::*;

    #[test]
    fn data_files_plugins_and_script_extender_files_are_placed() {
        let g = &SKYRIM_SE;
        assert_eq!(
            g.check_path("Data/Trees.esp").unwrap(),
            FileRole::Plugin { master: false }
        );
        assert_eq!(
            g.check_path("Data/Lib.ESM").unwrap(),
            FileRole::Plugin { master: true }
        );
        assert_eq!(
            g.check_path("Data/Textures/tree.dds").unwrap(),
            FileRole::Data
        );
        assert_eq!(
            g.check_path("Data/SKSE/Plugins/engine.dll").unwrap(),
            FileRole::Data
        );
        assert_eq!(
            g.check_path("skse64_loader.exe").unwrap(),
            FileRole::ScriptExtender
        );
    }

    #[test]
    fn paths_outside_the_rules_are_refused_with_the_reason() {
        let g = &SKYRIM_SE;
        for (path, why) in [
            ("readme.txt", "files go below Data/"),
            ("data/x.dds", "write the folder as \"Data\""),
            ("Data/tools/setup.exe", "a .exe file is a program"),
            ("Data/hook.dll", "only goes in Data/SKSE/Plugins/"),
            ("Data/sub/Deep.esp", "directly in Data/"),
            ("Data/Skyrim.esm", "the game's own plugins"),
        ] {
            let e = g.check_path(path).unwrap_err().to_string();
            assert!(e.contains(why) && e.contains(path), "{path}: {e}");
        }
    }

    #[test]
    fn the_load_order_marks_plugins_active_in_order() {
        let text = SKYRIM_SE.render_load_order(&["A.esm".into(), "B.esp".into()]);
        let text = String::from_utf8(text).unwrap();
        assert!(text.ends_with("*A.esm\r\n*B.esp\r\n"), "{text}");
        assert_eq!(
            text.matches('\n').count(),
            text.matches("\r\n").count(),
            "every line ends in CRLF, the header too: {text:?}"
        );
    }
}
