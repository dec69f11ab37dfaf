//! The author's side: a mod project is a folder with `metadata/project.md` (YAML front matter,
//! then the Markdown description) and one `release/<version>.yaml` per release. `mod init`
//! scaffolds it; `mod release` reads it.

mod project_file;
mod release_file;
mod scaffold;

pub use project_file::{read_project, ProjectFile, PROJECT_FILE};
pub use release_file::{read_release, release_file_path, ReleaseFile};
pub use scaffold::scaffold;

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum AuthoringError {
    #[error("{file}:{line}:{column}: {message}")]
    Yaml {
        file: PathBuf,
        line: usize,
        column: usize,
        message: String,
    },
    #[error("{file}: {message}")]
    Invalid { file: PathBuf, message: String },
    #[error("{what} {path}: {source}")]
    Io {
        what: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
}

/// Reads `text` as YAML into `T`, with errors that name the file, the line and the field.
/// `first_line` is the line `text` starts on in the file (front matter starts after `---`).
fn from_yaml<T: serde::de::DeserializeOwned>(
    file: &std::path::Path,
    text: &str,
    first_line: usize,
) -> Result<T, AuthoringError> {
    yaml_serde::from_str(text).map_err(|e| {
        let (line, column) = e
            .location()
            .map_or((first_line, 1), |l| (l.line() + first_line - 1, l.column()));
        // The message carries the field path ("dependencies[0].kind: …"); the position is ours.
        let message = e.to_string();
        let message = message
            .rsplit_once(" at line ")
            .map_or(message.as_str(), |(m, _)| m)
            .to_owned();
        AuthoringError::Yaml {
            file: file.to_owned(),
            line,
            column,
            message,
        }
    })
}
