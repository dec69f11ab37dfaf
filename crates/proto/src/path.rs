//! Paths inside a payload: what a release may name and an installer may write.
//!
//! A payload path is relative, `/`-separated UTF-8, and stays inside the install root whatever
//! the platform: no `..`, no `.`, no empty component, no drive or root prefix, no backslash.
//! Windows-hostile characters are refused too, because mods and packages move between systems.

use std::fmt;

/// Longest accepted component (bytes), the usual file-system limit.
pub const MAX_COMPONENT: usize = 255;
/// Longest accepted path (bytes).
pub const MAX_PATH: usize = 4096;

/// A path refused: which, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unsafe path {path:?}: {reason}")]
pub struct PathError {
    /// The path as given.
    pub path: String,
    /// What is wrong with it.
    pub reason: PathProblem,
}

/// What makes a path unsafe to write under an install folder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PathProblem {
    /// Empty.
    Empty,
    /// Starts at the root.
    Absolute,
    /// Has an empty component (`a//b`).
    EmptyComponent,
    /// Has a `.` component.
    CurrentDir,
    /// Has a `..` component.
    ParentDir,
    /// Has a backslash.
    Backslash,
    /// Names a drive or an alternate data stream (`C:`, `a:b`).
    DriveOrStream,
    /// Has a control character.
    ControlCharacter,
    /// A component is too long for file systems.
    ComponentTooLong,
    /// The whole path is too long.
    TooLong,
}

impl fmt::Display for PathProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            PathProblem::Empty => "it is empty",
            PathProblem::Absolute => "it is absolute (starts with '/')",
            PathProblem::EmptyComponent => "it has an empty component ('//' or a trailing '/')",
            PathProblem::CurrentDir => "it has a '.' component",
            PathProblem::ParentDir => "it escapes the install root with '..'",
            PathProblem::Backslash => "it contains a backslash",
            PathProblem::DriveOrStream => "it contains ':' (a drive letter or stream name)",
            PathProblem::ControlCharacter => "it contains a control character",
            PathProblem::ComponentTooLong => "a component is longer than 255 bytes",
            PathProblem::TooLong => "it is longer than 4096 bytes",
        })
    }
}

/// Checks one payload path; `Ok` means it names a file strictly inside the root.
pub fn check_payload_path(path: &str) -> Result<(), PathError> {
    let fail = |reason| {
        Err(PathError {
            path: path.to_owned(),
            reason,
        })
    };
    if path.is_empty() {
        return fail(PathProblem::Empty);
    }
    if path.len() > MAX_PATH {
        return fail(PathProblem::TooLong);
    }
    if path.starts_with('/') {
        return fail(PathProblem::Absolute);
    }
    if path.contains('\\') {
        return fail(PathProblem::Backslash);
    }
    if path.contains(':') {
        return fail(PathProblem::DriveOrStream);
    }
    if path.chars().any(char::is_control) {
        return fail(PathProblem::ControlCharacter);
    }
    for component in path.split('/') {
        match component {
            "" => return fail(PathProblem::EmptyComponent),
            "." => return fail(PathProblem::CurrentDir),
            ".." => return fail(PathProblem::ParentDir),
            c if c.len() > MAX_COMPONENT => return fail(PathProblem::ComponentTooLong),
            _ => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problem(p: &str) -> Option<PathProblem> {
        check_payload_path(p).err().map(|e| e.reason)
    }

    #[test]
    fn plain_relative_paths_pass() {
        for p in [
            "a",
            "Data/Textures/x.dds",
            "dir.with.dots/file-1_2.txt",
            "ünï/文件",
        ] {
            assert_eq!(problem(p), None, "{p}");
        }
    }

    #[test]
    fn escapes_and_odd_forms_are_refused() {
        let cases = [
            ("", PathProblem::Empty),
            ("/etc/passwd", PathProblem::Absolute),
            ("../x", PathProblem::ParentDir),
            ("a/../../x", PathProblem::ParentDir),
            ("a/..", PathProblem::ParentDir),
            ("./a", PathProblem::CurrentDir),
            ("a//b", PathProblem::EmptyComponent),
            ("a/", PathProblem::EmptyComponent),
            ("a\\..\\b", PathProblem::Backslash),
            ("C:/Windows", PathProblem::DriveOrStream),
            ("a\nb", PathProblem::ControlCharacter),
            ("a\0b", PathProblem::ControlCharacter),
        ];
        for (p, want) in cases {
            assert_eq!(problem(p), Some(want), "{p:?}");
        }
        assert_eq!(
            problem(&"x".repeat(256)),
            Some(PathProblem::ComponentTooLong)
        );
        assert_eq!(problem(&["y"; 3000].join("/")), Some(PathProblem::TooLong));
    }

    #[test]
    fn the_error_names_path_and_reason() {
        let e = check_payload_path("../evil").unwrap_err().to_string();
        assert!(e.contains("../evil") && e.contains(".."), "{e}");
    }
}
