//! The web-mirror fallback: files fetched over http(s) from `<mirror>/<path>` into the staging
//! folder, each checked against the manifest before it may stay there.

use std::path::Path;
use std::time::Duration;

use crate::http::{download_capped, http_client, HttpError};
use seedstr_proto::release::ReleaseFile;

use super::verify::{check_file, FileProblem};

/// Why no mirror delivered a file: one reason per mirror tried.
#[derive(Debug, Clone, serde::Serialize)]
pub struct MirrorFailure {
    /// The file's path in the release.
    pub path: String,
    /// Each mirror tried, with its error.
    pub attempts: Vec<(String, String)>,
    /// Whether some mirror answered with bytes that failed the manifest's check.
    pub wrong_bytes: bool,
}

impl std::fmt::Display for MirrorFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "no mirror delivered {:?}: ", self.path)?;
        let parts: Vec<String> = self
            .attempts
            .iter()
            .map(|(url, why)| format!("{url}: {why}"))
            .collect();
        write!(f, "{}", parts.join("; "))
    }
}

/// `<mirror>/<path>` with each path component percent-encoded.
pub fn file_url(mirror: &str, path: &str) -> String {
    let mut url = mirror.trim_end_matches('/').to_owned();
    for part in path.split('/') {
        url.push('/');
        url.push_str(&seedstr_proto::uri::component(part.as_bytes()));
    }
    url
}

/// A release's HTTPS mirrors.
pub struct Mirrors {
    client: reqwest::Client,
    urls: Vec<String>,
}

impl Mirrors {
    /// Mirrors at `urls`, each request bounded by `timeout`.
    pub fn new(urls: &[String], timeout: Duration) -> Mirrors {
        Mirrors {
            client: http_client(timeout),
            urls: urls.to_vec(),
        }
    }

    /// Whether there is no mirror.
    pub fn is_empty(&self) -> bool {
        self.urls.is_empty()
    }

    /// Fetches `file` into `staging/<path>`, trying each mirror until one serves the right bytes.
    /// `on_bytes` hears of every chunk written.
    pub async fn fetch(
        &self,
        staging: &Path,
        file: &ReleaseFile,
        on_bytes: &(dyn Fn(u64) + Sync),
    ) -> Result<(), MirrorFailure> {
        let target = staging.join(&file.path);
        let part = staging.join(format!("{}.mirror-part", file.path));
        let mut failure = MirrorFailure {
            path: file.path.clone(),
            attempts: Vec::new(),
            wrong_bytes: false,
        };
        for mirror in &self.urls {
            let url = file_url(mirror, &file.path);
            // A mirror sending more than the manifest lists is cut off, not buffered.
            let outcome =
                match download_capped(&self.client, &url, &part, file.size, on_bytes).await {
                    Ok(()) => check_file(&part, &file.sha256, file.size).map_err(|p| {
                        failure.wrong_bytes |=
                            matches!(p, FileProblem::Size { .. } | FileProblem::Hash { .. });
                        format!("wrong bytes: {p}")
                    }),
                    Err(e) => {
                        failure.wrong_bytes |= matches!(e, HttpError::TooLarge { .. });
                        Err(e.to_string())
                    }
                };
            match outcome {
                Ok(()) => {
                    return std::fs::rename(&part, &target).map_err(|e| {
                        failure
                            .attempts
                            .push((url, format!("placing the file: {e}")));
                        failure.clone()
                    });
                }
                Err(why) => {
                    let _ = std::fs::remove_file(&part);
                    failure.attempts.push((url, why));
                }
            }
        }
        if failure.attempts.is_empty() {
            failure
                .attempts
                .push(("-".into(), "the release names no mirror".into()));
        }
        Err(failure)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_urls_encode_each_component() {
        assert_eq!(
            file_url("https://m.example/r/1.0/", "Data/my file#1.esp"),
            "https://m.example/r/1.0/Data/my%20file%231.esp"
        );
    }
}
