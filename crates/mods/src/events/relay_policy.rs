//! Relay policy (30086): a relay operator states what the relay keeps, for how long, under which
//! law and how it moderates. Clients show it beside the relay; it counts as the operator's when
//! its signer is the pubkey in the relay's NIP-11 document.

use nostr::prelude::{Event, EventBuilder, Kind};

use super::tags::{tag, EventReadError, Tags};
use super::RELAY_POLICY_KIND;

/// A relay's policy (30086), signed by its operator or by anyone.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RelayPolicy {
    /// The relay's URL; also the `d` tag.
    pub relay: String,
    /// How long events are kept, as the operator words it ("forever", "90 days").
    pub retention: String,
    /// Whose law the relay answers to.
    pub jurisdiction: String,
    /// What the relay removes, and how.
    pub moderation: String,
    /// Kinds the relay accepts; empty: not stated.
    pub kinds: Vec<u16>,
    /// Free text.
    pub text: String,
}

impl RelayPolicy {
    /// The unsigned event.
    pub fn to_builder(&self) -> EventBuilder {
        let mut tags = vec![
            tag(["d", &self.relay]),
            tag(["relay", &self.relay]),
            tag(["retention", &self.retention]),
            tag(["jurisdiction", &self.jurisdiction]),
            tag(["moderation", &self.moderation]),
            tag(["alt", &format!("Policy of relay {}", self.relay)]),
        ];
        tags.extend(self.kinds.iter().map(|k| tag(["k", &k.to_string()])));
        EventBuilder::new(Kind::from(RELAY_POLICY_KIND), &self.text).tags(tags)
    }

    /// Reads and checks a relay policy event.
    pub fn from_event(event: &Event) -> Result<RelayPolicy, EventReadError> {
        let t = Tags::of(event, RELAY_POLICY_KIND, "relay policy (30086)")?;
        let relay = t.one("relay")?;
        if t.one("d")? != relay {
            return Err(t.bad("d", "it must equal the relay tag"));
        }
        if !(relay.starts_with("ws://") || relay.starts_with("wss://")) {
            return Err(t.bad("relay", format!("{relay:?} is not a ws:// or wss:// URL")));
        }
        let mut kinds = Vec::new();
        for k in t.all("k") {
            let v = k.get(1).map(String::as_str).unwrap_or_default();
            kinds.push(
                v.parse()
                    .map_err(|_| t.bad("k", format!("{v:?} is not a kind")))?,
            );
        }
        Ok(RelayPolicy {
            relay: relay.to_owned(),
            retention: t.opt("retention").unwrap_or_default().to_owned(),
            jurisdiction: t.opt("jurisdiction").unwrap_or_default().to_owned(),
            moderation: t.opt("moderation").unwrap_or_default().to_owned(),
            kinds,
            text: event.content.clone(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use nostr::prelude::{FinalizeEvent as _, Keys};

    #[test]
    fn a_policy_round_trips_and_a_bad_url_is_named() {
        let keys = Keys::generate();
        let mut p = RelayPolicy {
            relay: "wss://mods.example".into(),
            retention: "forever".into(),
            jurisdiction: "EU".into(),
            moderation: "incidents honoured".into(),
            kinds: vec![30078, 30079],
            text: String::new(),
        };
        let e = p.to_builder().finalize(&keys).unwrap();
        assert_eq!(RelayPolicy::from_event(&e).unwrap(), p);
        p.relay = "https://x".into();
        let e = p.to_builder().finalize(&keys).unwrap();
        assert!(RelayPolicy::from_event(&e)
            .unwrap_err()
            .to_string()
            .contains("not a ws://"));
    }
}
