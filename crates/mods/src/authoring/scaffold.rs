//! `mod init`: a new mod project's folders and templates.

use std::path::{Path, PathBuf};

use seedstr_proto::release::Coordinate;

use super::{release_file_path, AuthoringError, PROJECT_FILE};
use crate::games::GameAdapter;

/// Writes the templates of a new project into `dir`, and its empty `build/Data/` folder; refuses
/// to overwrite anything. Returns what it wrote.
pub fn scaffold(
    dir: &Path,
    game: &dyn GameAdapter,
    coordinate: &Coordinate,
    name: &str,
) -> Result<Vec<PathBuf>, AuthoringError> {
    let project = dir.join(PROJECT_FILE);
    let release = release_file_path(dir, "0.1.0");
    let data = dir.join("build").join("Data");
    for p in [&project, &release] {
        if p.exists() {
            return Err(AuthoringError::Invalid {
                file: p.clone(),
                message: "already exists; mod init never overwrites a project".into(),
            });
        }
    }
    let project_text = format!(
        "---\ngame: {game}\nslug: {slug}\nname: {name}\nsummary: \"\"\n# zap: you@your-wallet.example\n---\n# {heading}\n\nDescribe your mod for players here (Markdown).\n",
        game = game.id(),
        slug = coordinate.slug,
        name = yaml_string(name),
        heading = name,
    );
    let release_text = format!(
        "# Release 0.1.0 of {coordinate}. `seedstr mod release 0.1.0` publishes it.\nversion: 0.1.0\n# The payload folder, laid out as in the game folder ({game} puts mods below Data/).\nfiles: build\nchangelog: |\n  First release.\n# Game versions this release works with; \"1.6.*\" matches every 1.6 version. Empty: any.\ngame_versions: []\n# dependencies:\n#   - project: npub1…/{ns}.other-mod\n#     versions: \">=1.0, <2\"\n#     kind: required        # or optional, incompatible\ndependencies: []\nmirrors: []\n",
        game = game.name(),
        ns = game.id(),
    );
    let write = |p: &Path, text: &str| -> Result<(), AuthoringError> {
        std::fs::create_dir_all(p.parent().expect("a file in a folder")).map_err(|source| {
            AuthoringError::Io {
                what: "creating",
                path: p.to_owned(),
                source,
            }
        })?;
        std::fs::write(p, text).map_err(|source| AuthoringError::Io {
            what: "writing",
            path: p.to_owned(),
            source,
        })
    };
    write(&project, &project_text)?;
    write(&release, &release_text)?;
    std::fs::create_dir_all(&data).map_err(|source| AuthoringError::Io {
        what: "creating",
        path: data.clone(),
        source,
    })?;
    Ok(vec![project, release, data])
}

fn yaml_string(s: &str) -> String {
    serde_json::to_string(s).expect("a string serializes")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::authoring::{read_project, read_release};

    #[test]
    fn a_scaffolded_project_reads_back_and_is_never_overwritten() {
        let dir = tempfile::tempdir().unwrap();
        let game = crate::games::game("skyrim-se").unwrap();
        let c = Coordinate::new("skyrim-se", "trees").unwrap();
        scaffold(dir.path(), game, &c, "Better \"Trees\"").unwrap();
        let p = read_project(dir.path()).unwrap();
        assert_eq!(p.coordinate, c);
        assert_eq!(p.name, "Better \"Trees\"");
        assert!(p.description.starts_with("# Better"), "{:?}", p.description);
        let r = read_release(dir.path(), "0.1.0").unwrap();
        assert_eq!(r.files, dir.path().join("build"));
        assert!(scaffold(dir.path(), game, &c, "x").is_err());
    }
}
