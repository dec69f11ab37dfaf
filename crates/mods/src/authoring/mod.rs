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

/// Why an author's project files were refused.
#[derive(Debug, thiserror::Error)]
pub enum AuthoringError {
    /// YAML that does not read, with where.
    #[error("{file}:{line}:{column}: {message}")]
    Yaml {
        /// The file.
        file: PathBuf,
        /// The line.
        line: usize,
        /// The column.
        column: usize,
        /// What is wrong.
        message: String,
    },
    /// A file whose content breaks a rule.
    #[error("{file}: {message}")]
    Invalid {
        /// The file.
        file: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// A file could not be read or written.
    #[error("{what} {path}: {source}")]
    Io {
        /// What was being done.
        what: &'static str,
        /// The file or folder.
        path: PathBuf,
        /// Why.
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
