//! NIP-42: checking a client's AUTH event against the challenge this connection was given.

use seedstr_proto::event::first_tag_value;
use seedstr_proto::kind::CLIENT_AUTH;
use seedstr_proto::Event;

use crate::refusal::{Prefix, Refusal};

/// How far an AUTH event's created_at may be from now.
const WINDOW_SECS: u64 = 600;

/// Verifies a (signature-checked) AUTH event. `relay_hosts` are the host[:port] forms under
/// which this relay is reachable; the event's `relay` tag must name one of them.
pub fn check(
    event: &Event,
    challenge: &str,
    relay_hosts: &[String],
    now: u64,
) -> Result<(), Refusal> {
    let invalid = |text: String| Refusal::new(Prefix::Invalid, text);
    if event.kind.as_u16() != CLIENT_AUTH {
        return Err(invalid(format!("AUTH event must be kind {CLIENT_AUTH}")));
    }
    if event.created_at.as_secs().abs_diff(now) > WINDOW_SECS {
        return Err(invalid(
            "AUTH event created_at is more than 10 minutes from now".into(),
        ));
    }
    if first_tag_value(event, "challenge") != Some(challenge) {
        return Err(invalid(
            "AUTH event does not carry this connection's challenge".into(),
        ));
    }
    let relay = first_tag_value(event, "relay")
        .ok_or_else(|| invalid("AUTH event has no relay tag".into()))?;
    let host = host_of(relay);
    if !relay_hosts.iter().any(|h| h.eq_ignore_ascii_case(&host)) {
        return Err(invalid(format!(
            "AUTH event names relay {relay:?}, not this relay"
        )));
    }
    Ok(())
}

/// `host[:port]` of a relay URL, without scheme, path or trailing slash.
pub fn host_of(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    rest.split('/').next().unwrap_or("").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use nostr::prelude::*;

    fn auth(challenge: &str, relay: &str, at: u64) -> Event {
        EventBuilder::new(Kind::from(CLIENT_AUTH), "")
            .tags([
                Tag::parse(["relay", relay]).unwrap(),
                Tag::parse(["challenge", challenge]).unwrap(),
            ])
            .custom_created_at(Timestamp::from_secs(at))
            .finalize(&Keys::generate())
            .unwrap()
    }

    #[test]
    fn accepts_only_the_right_challenge_relay_and_time() {
        let hosts = vec!["127.0.0.1:7447".to_string()];
        let now = 1_700_000_000;
        assert!(check(&auth("c1", "ws://127.0.0.1:7447/", now), "c1", &hosts, now).is_ok());
        assert!(check(&auth("c2", "ws://127.0.0.1:7447", now), "c1", &hosts, now).is_err());
        assert!(check(&auth("c1", "ws://evil.example", now), "c1", &hosts, now).is_err());
        assert!(check(
            &auth("c1", "ws://127.0.0.1:7447", now - 3600),
            "c1",
            &hosts,
            now
        )
        .is_err());
    }
}
