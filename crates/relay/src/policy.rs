//! Which events the relay admits. Each refusal is a NIP-01 prefixed reason for the OK message.

use seedstr_proto::event::{expiration, is_protected};
use seedstr_proto::kind::CLIENT_AUTH;
use seedstr_proto::Event;

use crate::config::Policy;
use crate::refusal::{Prefix, Refusal};

/// Checks that need only the raw JSON, before any parsing or signature work.
pub fn check_size(json: &str, max: usize) -> Result<(), Refusal> {
    if json.len() > max {
        return Err(Refusal::new(
            Prefix::Invalid,
            format!(
                "event is {} bytes, over this relay's limit of {max}",
                json.len()
            ),
        ));
    }
    Ok(())
}

/// Checks on a verified event. `authed` is the connection's NIP-42 pubkey, if any.
pub fn admit(
    policy: &Policy,
    event: &Event,
    now: u64,
    authed: Option<&[u8; 32]>,
) -> Result<(), Refusal> {
    let kind = event.kind.as_u16();
    if kind == CLIENT_AUTH {
        return Err(Refusal::new(
            Prefix::Invalid,
            "kind 22242 is for AUTH messages, not EVENT",
        ));
    }
    if policy.deny_kinds.contains(&kind)
        || (!policy.allow_kinds.is_empty() && !policy.allow_kinds.contains(&kind))
    {
        return Err(Refusal::new(
            Prefix::Blocked,
            format!("kind {kind} is not accepted by this relay"),
        ));
    }
    let at = event.created_at.as_secs();
    if at > now.saturating_add(policy.max_future_secs) {
        return Err(Refusal::new(
            Prefix::Invalid,
            format!(
                "created_at is {} s in the future (at most {} allowed)",
                at - now,
                policy.max_future_secs
            ),
        ));
    }
    if policy.max_past_secs > 0 && at < now.saturating_sub(policy.max_past_secs) {
        return Err(Refusal::new(
            Prefix::Invalid,
            format!(
                "created_at is older than this relay's window of {} s",
                policy.max_past_secs
            ),
        ));
    }
    if let Some(exp) = expiration(event) {
        if exp <= now {
            return Err(Refusal::new(Prefix::Invalid, "event has expired (NIP-40)"));
        }
    }
    if policy.reject_binary_content {
        if let Some(why) = binary_content(&event.content, policy.max_base64_run) {
            return Err(Refusal::new(
                Prefix::Blocked,
                format!("binary content is not accepted here ({why})"),
            ));
        }
    }
    if is_protected(event) && authed != Some(event.pubkey.as_bytes()) {
        return Err(Refusal::new(
            Prefix::AuthRequired,
            "this event is protected (NIP-70): authenticate as its author to publish it",
        ));
    }
    Ok(())
}

/// Control characters in a row past which content is taken for a binary payload: text with an
/// escaped control character or two (NIP-01 lets content hold any of them, escaped) stays text.
const MAX_CONTROL_RUN: usize = 8;
/// Content of at least this many characters whose control characters are more than a quarter
/// of it is a binary payload too, however they are spread.
const CONTROL_SHARE_MIN_CHARS: usize = 64;

/// Why `content` looks like a binary payload rather than metadata, if it does: a run of
/// control characters (beyond tab, newline and carriage return) or of U+FFFD (what invalid
/// UTF-8 decodes to), control characters making up more than a quarter of a longer text, a
/// base64 data URI, or a base64 run longer than `max_base64_run`.
fn binary_content(content: &str, max_base64_run: usize) -> Option<String> {
    let is_binary_char =
        |c: char| (c.is_control() && !matches!(c, '\n' | '\r' | '\t')) || c == '\u{fffd}';
    let (mut run, mut count, mut total) = (0usize, 0usize, 0usize);
    for c in content.chars() {
        total += 1;
        if is_binary_char(c) {
            run += 1;
            count += 1;
            if run > MAX_CONTROL_RUN {
                return Some(format!(
                    "{run} control characters in a row (U+{:04X}…)",
                    c as u32
                ));
            }
        } else {
            run = 0;
        }
    }
    if total >= CONTROL_SHARE_MIN_CHARS && count * 4 > total {
        return Some(format!("{count} control characters in {total}"));
    }
    if content.contains("data:") && content.contains(";base64,") {
        return Some("a base64 data URI".into());
    }
    let mut run = 0usize;
    for b in content.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'=' | b'-' | b'_') {
            run += 1;
            if run > max_base64_run {
                return Some(format!(
                    "a base64 run longer than {max_base64_run} characters"
                ));
            }
        } else {
            run = 0;
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binary_content_is_recognised() {
        assert!(binary_content("a mod for Skyrim\n\tversion 1.0", 100).is_none());
        assert!(binary_content(&"\u{0}".repeat(9), 100)
            .unwrap()
            .contains("U+0000"));
        let spread: String = "ab\u{1}".repeat(30);
        assert!(binary_content(&spread, 100)
            .unwrap()
            .contains("30 control characters in 90"));
        assert!(binary_content(&"\u{fffd}".repeat(12), 100).is_some());
        assert!(binary_content("see data:image/png;base64,iVBOR", 100).is_some());
        assert!(binary_content(&"QUJD".repeat(30), 100).is_some());
        assert!(binary_content(&"QUJD ".repeat(30), 100).is_none());
    }

    #[test]
    fn every_nip01_escape_is_text() {
        // NIP-01's escapes (\n \" \\ \r \t \b \f), and any control character escaped as
        // \u00XX, in otherwise ordinary text.
        for escaped in [
            "\n", "\"", "\\", "\r", "\t", "\u{8}", "\u{c}", "\u{0}", "\u{1}", "\u{1f}", "\u{7f}",
        ] {
            let text = format!("before{escaped}after, and once more: {escaped}.");
            assert_eq!(binary_content(&text, 100), None, "{text:?}");
        }
        let all: String = (0u8..0x20)
            .map(char::from)
            .collect::<Vec<_>>()
            .chunks(4)
            .map(|c| {
                let mut s: String = c.iter().collect();
                s.push_str(" words between ");
                s
            })
            .collect();
        assert_eq!(binary_content(&all, 100), None, "{all:?}");
    }
}
