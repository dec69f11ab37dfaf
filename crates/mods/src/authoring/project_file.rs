//! `metadata/project.md`: YAML front matter between `---` lines, then the description.

use std::path::Path;

use seedstr_proto::release::Coordinate;

use super::{from_yaml, AuthoringError};

/// The project file, in a project folder.
pub const PROJECT_FILE: &str = "metadata/project.md";

#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct FrontMatter {
    game: String,
    slug: String,
    name: String,
    #[serde(default)]
    summary: String,
    /// Lightning address or LNURL for tips, used by every release unless it names its own.
    #[serde(default)]
    zap: Option<String>,
}

/// What `metadata/project.md` says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProjectFile {
    /// The project.
    pub coordinate: Coordinate,
    /// Its name for people.
    pub name: String,
    /// One line about it.
    pub summary: String,
    /// Where zaps go (a lightning address or LNURL), if anywhere.
    pub zap: Option<String>,
    /// Markdown: the project's page text.
    pub description: String,
}

/// Reads the project file of the project folder `dir`.
pub fn read_project(dir: &Path) -> Result<ProjectFile, AuthoringError> {
    let file = dir.join(PROJECT_FILE);
    let text = std::fs::read_to_string(&file).map_err(|source| AuthoringError::Io {
        what: "reading",
        path: file.clone(),
        source,
    })?;
    let invalid = |message: String| AuthoringError::Invalid {
        file: file.clone(),
        message,
    };
    let rest = text
        .strip_prefix("---\n")
        .or_else(|| text.strip_prefix("---\r\n"))
        .ok_or_else(|| {
            invalid("the file must start with a '---' line, then the project's fields".into())
        })?;
    let end = rest
        .find("\n---")
        .ok_or_else(|| invalid("the front matter has no closing '---' line".into()))?;
    let front: FrontMatter = from_yaml(&file, &rest[..end + 1], 2)?;
    let description = rest[end + 4..].trim_start_matches(['\r', '\n']).to_owned();
    let coordinate =
        Coordinate::new(&front.game, &front.slug).map_err(|e| invalid(e.to_string()))?;
    crate::games::game(&front.game).map_err(|e| invalid(format!("game: {e}")))?;
    Ok(ProjectFile {
        coordinate,
        name: front.name,
        summary: front.summary,
        zap: front.zap,
        description,
    })
}
