//! How a command's failure reaches the user: each cause named once, and only once printed.

use crate::net_args::print_json;

/// The command failed and has already said so (a JSON error line, or a report whose verdict
/// is the failure): `main` exits 1 without printing more.
#[derive(Debug)]
pub struct Reported;

impl std::fmt::Display for Reported {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the failure was reported")
    }
}

impl std::error::Error for Reported {}

/// `e`, then each underlying cause its text does not already name, joined by ": ". Our error
/// types name their causes in their own text, so printing the whole chain as well would say
/// each cause again.
pub fn error_text(e: &anyhow::Error) -> String {
    let mut text = e.to_string();
    for cause in e.chain().skip(1) {
        let cause = cause.to_string();
        if !text.contains(&cause) {
            text.push_str(": ");
            text.push_str(&cause);
        }
    }
    text
}

/// Prints `e` as one line of JSON, `{"error": …}`, for a command run with `--json`.
pub fn json_error(e: anyhow::Error) -> anyhow::Error {
    print_json(&serde_json::json!({ "error": error_text(&e) }));
    Reported.into()
}

/// `result`, with its error printed as JSON when `json` (once: an error already reported
/// passes through).
pub fn reported<T>(json: bool, result: anyhow::Result<T>) -> anyhow::Result<T> {
    match result {
        Err(e) if json && !e.is::<Reported>() => Err(json_error(e)),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("the DHT fallback failed: {source}")]
    struct Outer {
        source: std::io::Error,
    }

    #[test]
    fn a_cause_the_text_already_names_is_not_said_again() {
        let inner = std::io::Error::other("no attestation was seen");
        let e = anyhow::Error::from(Outer { source: inner });
        assert_eq!(
            error_text(&e),
            "the DHT fallback failed: no attestation was seen"
        );
        let e = anyhow::Error::from(std::io::Error::other("disk full")).context("writing x");
        assert_eq!(error_text(&e), "writing x: disk full");
    }

    #[test]
    fn an_error_already_reported_is_not_reported_again() {
        let e = reported::<()>(true, Err(Reported.into())).unwrap_err();
        assert!(e.is::<Reported>());
    }
}
