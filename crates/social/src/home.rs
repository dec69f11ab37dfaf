//! The owner's node as their home: it says where they live (their NIP-65 relay list, 10002, and
//! NIP-17 inbox list, 10050, both naming the node) and keeps their inbox: what others send
//! them passes [`InboxGate`] (a date window, limits per address and per sender, the owner's
//! blocks) before the relay stores it.

use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use nostr::prelude::{Event, EventBuilder, FinalizeEvent as _, Keys, Kind, PublicKey, Tag};
use seedstr_client::relays::{publish_to_any, query_all, PublishAnswer, RelaySet};
use seedstr_proto::event::newest_by_address;
use seedstr_proto::Verified;
use seedstr_relay::gate::{Gate, Verdict};
use seedstr_relay::limiter::Limiter;
use serde_json::json;

use crate::gift_wrap::{open, GIFT_WRAP_KIND};
use crate::inbox::INBOX_RELAYS_KIND;
use crate::local::LocalState;

/// NIP-65's relay list.
pub const RELAY_LIST_KIND: u16 = 10002;

/// What [`announce_home`] did to one list.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ListChange {
    /// The list's kind.
    pub kind: u16,
    /// Whether it changed (false: it named the node already).
    pub changed: bool,
    /// The relays' answers to the new list.
    pub answers: Vec<PublishAnswer>,
    /// The list as it stands (the new one, or the one that named the node already).
    #[serde(skip)]
    pub event: Event,
}

/// Why the lists could not be announced.
#[derive(Debug, thiserror::Error)]
pub enum HomeError {
    /// No relay took a new list.
    #[error("no relay took the new kind {0} list: {1}")]
    NotTaken(u16, String),
    /// Signing failed.
    #[error("signing: {0}")]
    Sign(String),
}

/// Makes the owner's relay list (10002) and inbox list (10050) on `relays` name `node_url`,
/// keeping every other entry; a list that names it already is left alone.
pub async fn announce_home(
    owner: &Keys,
    node_url: &str,
    relays: &RelaySet,
) -> Result<Vec<ListChange>, HomeError> {
    let mut out = Vec::new();
    for (kind, tag_name) in [(RELAY_LIST_KIND, "r"), (INBOX_RELAYS_KIND, "relay")] {
        let filter = json!({"kinds": [kind], "authors": [owner.public_key().to_hex()]});
        let found = query_all(&relays.urls, &filter, relays.timeout).await;
        let mine = found
            .events
            .iter()
            .filter(|e| e.pubkey == owner.public_key());
        let current = newest_by_address(mine).into_iter().next();
        let mut tags: Vec<Tag> = current
            .map(|e| e.tags.iter().cloned().collect())
            .unwrap_or_default();
        let names_node = tags
            .iter()
            .any(|t| matches!(t.as_slice(), [n, u, ..] if n == tag_name && u == node_url));
        if let (true, Some(current)) = (names_node, current) {
            out.push(ListChange {
                kind,
                changed: false,
                answers: Vec::new(),
                event: current.event().clone(),
            });
            continue;
        }
        tags.insert(0, Tag::parse([tag_name, node_url]).expect("a valid tag"));
        let list = EventBuilder::new(Kind::from(kind), "")
            .tags(tags)
            .custom_created_at(crate::dated_after(current.map(|e| e.created_at.as_secs())))
            .finalize(owner)
            .map_err(|e| HomeError::Sign(e.to_string()))?;
        let answers = publish_to_any(relays, &list)
            .await
            .map_err(|why| HomeError::NotTaken(kind, why))?;
        out.push(ListChange {
            kind,
            changed: true,
            answers,
            event: list,
        });
    }
    Ok(out)
}

/// Where each of `people` lives: the first WebSocket address of their newest inbox list
/// (10050), else of their relay list (10002), as `relays` hold them (verified, newest wins).
pub async fn home_nodes(
    relays: &RelaySet,
    people: &[PublicKey],
) -> std::collections::BTreeMap<PublicKey, String> {
    let mut out = std::collections::BTreeMap::new();
    for chunk in people.chunks(500) {
        let filter = json!({
            "kinds": [RELAY_LIST_KIND, INBOX_RELAYS_KIND],
            "authors": chunk.iter().map(|p| p.to_hex()).collect::<Vec<_>>(),
        });
        let found = query_all(&relays.urls, &filter, relays.timeout).await;
        let newest = newest_by_address(found.events.iter().filter(|e| chunk.contains(&e.pubkey)));
        // Inbox lists first, so their address wins over a relay list's.
        let mut lists: Vec<&Verified> = newest.into_iter().collect();
        lists.sort_by_key(|e| e.kind.as_u16() != INBOX_RELAYS_KIND);
        for list in lists {
            let tag = if list.kind.as_u16() == INBOX_RELAYS_KIND {
                "relay"
            } else {
                "r"
            };
            let first = list.tags.iter().find_map(|t| match t.as_slice() {
                [n, u, ..] if n == tag && (u.starts_with("ws://") || u.starts_with("wss://")) => {
                    Some(u.clone())
                }
                _ => None,
            });
            if let Some(url) = first {
                out.entry(list.pubkey).or_insert(url);
            }
        }
    }
    out
}

/// How the inbox treats what others send the owner.
#[derive(Debug, Clone)]
pub struct InboxRules {
    /// An event addressed to the owner dated further back than this, in seconds, is refused
    /// (a gift wrap's date is blurred up to two days back, so keep this above that).
    pub window_secs: u64,
    /// Nor further ahead than this.
    pub future_secs: u64,
    /// Events a minute to the owner from one address (0: no limit).
    pub per_ip_per_minute: f64,
    /// Events a minute to the owner from one sender: for a gift wrap, the seal's signer, not
    /// the throwaway key (0: no limit).
    pub per_sender_per_minute: f64,
}

impl Default for InboxRules {
    fn default() -> Self {
        InboxRules {
            window_secs: 4 * 86_400,
            future_secs: 15 * 60,
            per_ip_per_minute: 120.0,
            per_sender_per_minute: 30.0,
        }
    }
}

/// The owner's inbox, as a gate in front of their node's store. Events by the owner, and
/// events that name someone else, pass untouched; an event addressed to the owner (a `p` tag)
/// must fall in the date window and the limits, and a gift wrap must open for the owner. A
/// blocked sender's event is answered OK and dropped, so they do not learn of the block.
pub struct InboxGate {
    owner: Keys,
    rules: InboxRules,
    home: PathBuf,
    local: Mutex<(Option<SystemTime>, LocalState)>,
    per_ip: Limiter<IpAddr>,
    per_sender: Limiter<PublicKey>,
    clock: Arc<dyn Fn() -> u64 + Send + Sync>,
}

impl InboxGate {
    /// The gate for `owner`, their blocks read from `home` (and read again when the file
    /// changes), dates judged by `clock` (Unix seconds).
    pub fn new(
        owner: Keys,
        rules: InboxRules,
        home: PathBuf,
        clock: Arc<dyn Fn() -> u64 + Send + Sync>,
    ) -> InboxGate {
        fn per_minute<K: std::hash::Hash + Eq + Clone>(n: f64) -> Limiter<K> {
            Limiter::new(n / 60.0, n.max(1.0))
        }
        InboxGate {
            per_ip: per_minute(rules.per_ip_per_minute),
            per_sender: per_minute(rules.per_sender_per_minute),
            owner,
            rules,
            home,
            local: Mutex::new((None, LocalState::default())),
            clock,
        }
    }

    /// Whether `who` is blocked, from the file as it is now.
    fn blocked(&self, who: &PublicKey) -> bool {
        let path = LocalState::path(&self.home);
        let modified = std::fs::metadata(&path).and_then(|m| m.modified()).ok();
        let mut held = self.local.lock().expect("not poisoned");
        if held.0 != modified {
            match LocalState::load(&self.home) {
                Ok(state) => *held = (modified, state),
                Err(e) => tracing::warn!("keeping the last block list: {e}"),
            }
        }
        held.1.is_blocked(who)
    }
}

impl InboxGate {
    /// Whether an event fetched by content sync (not sent live) may be kept: a gift wrap must
    /// open for the owner, and nothing from a blocked sender is kept. Rates and the date window
    /// are for live delivery: a sync catches up on what was sent while the node was away.
    pub fn admits_synced(&self, event: &Event) -> bool {
        let owner = self.owner.public_key();
        if event.pubkey == owner {
            return true;
        }
        let sender = if event.kind.as_u16() == GIFT_WRAP_KIND {
            let opened = Verified::check(event.clone())
                .ok()
                .and_then(|v| open(&self.owner, &v).ok());
            match opened {
                Some(sealed) => sealed.author,
                None => return false,
            }
        } else {
            event.pubkey
        };
        !self.blocked(&sender)
    }
}

impl Gate for InboxGate {
    fn check(&self, event: &Event, ip: IpAddr, _authed: Option<&[u8; 32]>) -> Verdict {
        let owner = self.owner.public_key();
        if event.pubkey == owner || !event.tags.public_keys().any(|p| p == owner) {
            return Verdict::Admit;
        }
        let now = (self.clock)();
        let at = event.created_at.as_secs();
        if at < now.saturating_sub(self.rules.window_secs) || at > now + self.rules.future_secs {
            return Verdict::Refuse(format!(
                "invalid: this inbox takes events dated within {} days of now",
                self.rules.window_secs / 86_400
            ));
        }
        if !self.per_ip.allow(&ip) {
            return Verdict::Refuse(
                "rate-limited: too many events to this inbox from your address".into(),
            );
        }
        let sender = if event.kind.as_u16() == GIFT_WRAP_KIND {
            let opened = Verified::check(event.clone())
                .map_err(|e| e.to_string())
                .and_then(|v| open(&self.owner, &v).map_err(|e| e.to_string()));
            match opened {
                Ok(sealed) => sealed.author,
                Err(_) => {
                    return Verdict::Refuse(
                        "invalid: this gift wrap does not open for its recipient".into(),
                    )
                }
            }
        } else {
            event.pubkey
        };
        if self.blocked(&sender) {
            return Verdict::Discard;
        }
        if !self.per_sender.allow(&sender) {
            return Verdict::Refuse(
                "rate-limited: too many events to this inbox from one sender".into(),
            );
        }
        Verdict::Admit
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::private_message::wrap_message;
    use nostr::prelude::Timestamp;

    fn gate(owner: &Keys, home: &std::path::Path, now: u64, rules: InboxRules) -> InboxGate {
        InboxGate::new(owner.clone(), rules, home.to_owned(), Arc::new(move || now))
    }

    fn note(from: &Keys, to: &PublicKey, at: u64) -> Event {
        EventBuilder::new(Kind::TextNote, "hi")
            .tag(Tag::public_key(*to))
            .custom_created_at(Timestamp::from(at))
            .finalize(from)
            .unwrap()
    }

    #[test]
    fn the_inbox_keeps_its_window_its_limits_and_the_owners_blocks() {
        let dir = std::env::temp_dir().join(format!("seedstr-home-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let (owner, ann, eve) = (Keys::generate(), Keys::generate(), Keys::generate());
        // The wraps are dated by nostr's builder from the machine's clock (up to two days
        // back); the gate's clock is that moment, held still.
        let now = seedstr_proto::clock::unix_now();
        let ip: IpAddr = "127.0.0.1".parse().unwrap();
        let rules = InboxRules {
            per_sender_per_minute: 3.0,
            ..InboxRules::default()
        };
        let g = gate(&owner, &dir, now, rules);
        // Not the inbox's business: the owner's own events, events to someone else.
        assert_eq!(
            g.check(&note(&owner, &ann.public_key(), 1), ip, None),
            Verdict::Admit
        );
        assert_eq!(
            g.check(&note(&ann, &eve.public_key(), 1), ip, None),
            Verdict::Admit
        );
        // Addressed to the owner: the window.
        let old = note(&ann, &owner.public_key(), now - 5 * 86_400);
        assert!(
            matches!(g.check(&old, ip, None), Verdict::Refuse(w) if w.contains("within 4 days"))
        );
        let ahead = note(&ann, &owner.public_key(), now + 3_600);
        assert!(matches!(g.check(&ahead, ip, None), Verdict::Refuse(_)));
        // A wrap that does not open for the owner.
        let junk = EventBuilder::new(Kind::GiftWrap, "junk")
            .tag(Tag::public_key(owner.public_key()))
            .custom_created_at(Timestamp::from(now))
            .finalize(&eve)
            .unwrap();
        assert!(
            matches!(g.check(&junk, ip, None), Verdict::Refuse(w) if w.contains("does not open"))
        );
        // Per sender, counted by the seal's signer across throwaway wrap keys.
        let wrap_from = |k: &Keys| {
            let (_, copies) = wrap_message(k, &[owner.public_key()], "hello").unwrap();
            copies
                .into_iter()
                .find(|c| c.recipient == owner.public_key())
                .unwrap()
                .wrap
        };
        for _ in 0..3 {
            assert_eq!(g.check(&wrap_from(&ann), ip, None), Verdict::Admit);
        }
        assert!(
            matches!(g.check(&wrap_from(&ann), ip, None), Verdict::Refuse(w) if w.contains("one sender"))
        );
        assert_eq!(g.check(&wrap_from(&eve), ip, None), Verdict::Admit);
        // Blocking eve (the file written as the CLI writes it) drops hers silently.
        let mut local = LocalState::default();
        local.block(eve.public_key()).unwrap();
        local.save(&dir).unwrap();
        assert_eq!(g.check(&wrap_from(&eve), ip, None), Verdict::Discard);
        assert_eq!(
            g.check(&note(&eve, &owner.public_key(), now), ip, None),
            Verdict::Discard
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
