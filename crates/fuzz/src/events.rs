//! Targets for the signed events Seedstr reads: releases and projects, incidents, collections,
//! curation and governance, registries and package releases. The input is an event's unsigned
//! part as JSON (`kind`, `created_at`, `tags`, `content`; any `id`, `pubkey` and `sig` are
//! ignored); the target signs it with a fixed key so the fuzzer reaches the tag readers behind
//! the signature check, as a hostile author's well-signed events do.

use std::sync::OnceLock;

use nostr::prelude::*;
use seedstr_mods::events::collection::Collection;
use seedstr_mods::events::curation::{BugReport, CompatReport, Review, SupportMessage};
use seedstr_mods::events::governance::{Proposal, Vote};
use seedstr_mods::events::relay_policy::RelayPolicy;
use seedstr_pkg::registry::RegistryList;
use seedstr_pkg::PackageRelease;
use seedstr_proto::incident::Incident;
use seedstr_proto::release::{Project, Release};

/// The key every fuzzed event is signed with (secret key 0x01…01), so a corpus of events
/// whose `a` tags name this author stays valid.
pub fn fuzz_keys() -> &'static Keys {
    static KEYS: OnceLock<Keys> = OnceLock::new();
    KEYS.get_or_init(|| Keys::new(SecretKey::from_slice(&[1; 32]).expect("a valid secret key")))
}

#[derive(serde::Deserialize)]
struct Unsigned {
    #[serde(default)]
    kind: u16,
    #[serde(default)]
    created_at: u64,
    #[serde(default)]
    tags: Vec<Vec<String>>,
    #[serde(default)]
    content: String,
}

/// The event `data` describes, signed by [`fuzz_keys`]; `None` when `data` is not such JSON.
pub fn signed_event(data: &[u8]) -> Option<Event> {
    let u: Unsigned = serde_json::from_slice(data).ok()?;
    let tags = u
        .tags
        .into_iter()
        .map(Tag::parse)
        .collect::<Result<Vec<_>, _>>()
        .ok()?;
    EventBuilder::new(Kind::from(u.kind), u.content)
        .tags(tags)
        .custom_created_at(Timestamp::from(u.created_at))
        .finalize(fuzz_keys())
        .ok()
}

/// A signed event with a few tags, for filters to match against.
pub(crate) fn sample_event() -> &'static Event {
    static EVENT: OnceLock<Event> = OnceLock::new();
    EVENT.get_or_init(|| {
        EventBuilder::new(Kind::from(30079), "changelog")
            .tags([
                Tag::parse(["d", "generic.tool@1.0.0"]).expect("a tag"),
                Tag::parse(["t", "fuzz"]).expect("a tag"),
                Tag::parse(["e", &"ab".repeat(32)]).expect("a tag"),
            ])
            .custom_created_at(Timestamp::from(1_700_000_000))
            .finalize(fuzz_keys())
            .expect("signing")
    })
}

fn sign(builder: EventBuilder) -> Event {
    builder
        .finalize(fuzz_keys())
        .expect("signing an event a reader accepted")
}

/// Release (30079) and project (30078) manifests; what reads must write back the same.
pub fn release_event(data: &[u8]) {
    let Some(e) = signed_event(data) else { return };
    if let Ok(r) = Release::from_event(&e) {
        let again = Release::from_event(&sign(r.to_builder(&e.pubkey)))
            .expect("a release's own event reads back");
        assert_eq!(again, r);
        let _ = r.magnet();
        let _ = r.total_size();
    }
    if let Ok(p) = Project::from_event(&e) {
        let again =
            Project::from_event(&sign(p.to_builder())).expect("a project's own event reads back");
        assert_eq!(again, p);
    }
}

/// Incidents (30085).
pub fn incident_event(data: &[u8]) {
    let Some(e) = signed_event(data) else { return };
    if let Ok(i) = Incident::from_event(&e) {
        let again = Incident::from_event(&sign(i.to_builder()))
            .expect("an incident's own event reads back");
        assert_eq!(again, i);
    }
}

/// Collections (30083).
pub fn collection_event(data: &[u8]) {
    let Some(e) = signed_event(data) else { return };
    if let Ok(c) = Collection::from_event(&e) {
        Collection::from_event(&sign(c.to_builder())).expect("a collection's own event reads back");
    }
}

/// Reviews, compatibility and bug reports, support messages, proposals, votes and relay
/// policies.
pub fn curation_events(data: &[u8]) {
    let Some(e) = signed_event(data) else { return };
    let _ = Review::from_event(&e);
    let _ = CompatReport::from_event(&e);
    let _ = BugReport::from_event(&e);
    let _ = SupportMessage::from_event(&e);
    let _ = Proposal::from_event(&e);
    let _ = Vote::from_event(&e);
    let _ = RelayPolicy::from_event(&e);
    if let Ok(offer) = seedstr_mods::events::seeder_offer::SeederOffer::from_event(&e) {
        let again =
            seedstr_mods::events::seeder_offer::SeederOffer::from_event(&sign(offer.to_builder()))
                .expect("a seeder offer's own event reads back");
        assert_eq!(again, offer);
    }
}

/// Registry lists (30087) and package releases.
pub fn registry_events(data: &[u8]) {
    let Some(e) = signed_event(data) else { return };
    if let Ok(list) = RegistryList::from_event(&e) {
        RegistryList::from_event(&sign(list.to_builder()))
            .expect("a registry list's own event reads back");
    }
    let _ = PackageRelease::from_event(&e);
}

/// The NIP-44 conversation the `nip44_payload` target decrypts under: [`fuzz_keys`] with itself.
pub fn fuzz_conversation() -> seedstr_social::encryption::Conversation {
    let keys = fuzz_keys();
    seedstr_social::encryption::Conversation::between(keys.secret_key(), &keys.public_key())
        .expect("a key has a conversation with itself")
}

/// A NIP-44 payload from an event's content (a private message, a seal, a gift wrap); what
/// opens must encrypt and open again to the same text.
pub fn nip44_payload(data: &[u8]) {
    let Ok(payload) = std::str::from_utf8(data) else {
        return;
    };
    let conversation = fuzz_conversation();
    if let Ok(text) = conversation.decrypt(payload) {
        let again = conversation.encrypt(&text).expect("what opened encrypts");
        assert_eq!(conversation.decrypt(&again).expect("opens"), text);
    }
}

/// A private message (NIP-17) as its recipient meets it: the bytes as the content of a gift wrap
/// addressed to [`fuzz_keys`] (what decryption makes of outside bytes), and as the JSON of the
/// unsigned message a seal holds (what the reader accepts as a message).
pub fn private_message(data: &[u8]) {
    use nostr::prelude::{EventBuilder, EventId, FinalizeEvent as _, Kind, Tag, UnsignedEvent};
    use seedstr_social::private_message::{message_from_rumor, open_message};
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let keys = fuzz_keys();
    let wrap = EventBuilder::new(Kind::GiftWrap, text)
        .tag(Tag::public_key(keys.public_key()))
        .finalize(keys)
        .expect("signing");
    let wrap = seedstr_proto::Verified::check(wrap).expect("just signed");
    let _ = open_message(keys, &wrap);
    if let Ok(rumor) = UnsignedEvent::from_json(text) {
        let author = rumor.pubkey;
        if let Ok(m) = message_from_rumor(EventId::from_byte_array([0; 32]), author, rumor) {
            assert_eq!(m.from, author);
            assert!(!m.to.is_empty());
        }
    }
}

/// What a gift wrap to the owner may hold, from anyone: the bytes as the JSON of a sealed rumor
/// read by every reader of the inbox (message, friends-only post, friend request and answer),
/// and as the decrypted content of a friends list.
pub fn sealed_rumor(data: &[u8]) {
    use nostr::prelude::{EventId, UnsignedEvent};
    use seedstr_social::friends::{private_entries, sort_out};
    use seedstr_social::gift_wrap::check_rumor;
    use seedstr_social::inbox::Opened;
    use seedstr_social::local::LocalState;
    use seedstr_social::posts::{Post, Visibility};
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(entries) = private_entries(text) {
        assert!(entries.len() <= seedstr_social::friends::MAX_FRIENDS);
    }
    let Ok(rumor) = UnsignedEvent::from_json(text) else {
        return;
    };
    let author = rumor.pubkey;
    let Ok(sealed) = check_rumor(EventId::from_byte_array([0; 32]), author, rumor) else {
        return;
    };
    let _ = seedstr_social::private_message::message_of(&sealed);
    if let Some(post) = Post::sealed(&sealed) {
        assert_ne!(post.visibility, Visibility::Public);
        assert!(post.text.len() <= seedstr_social::posts::MAX_POST_BYTES);
    }
    let opened = Opened {
        sealed: vec![sealed],
        ..Opened::default()
    };
    let me = fuzz_keys().public_key();
    let state = sort_out(me, &opened, &[], &LocalState::default());
    assert!(state.incoming.len() + state.outgoing.len() + state.accepted.len() <= 1);
}

/// What a directory takes from anyone: the bytes as a profile's content and as an inbox
/// list's tag, indexed; then as a NIP-50 query over the index. A profile is found by its own
/// name whatever else it holds.
pub fn directory_index(data: &[u8]) {
    use nostr::prelude::{EventBuilder, FinalizeEvent as _, Kind, Tag};
    use seedstr_social::directory::index::DirectoryIndex;
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let keys = fuzz_keys();
    let index = DirectoryIndex::new();
    let profile = EventBuilder::new(Kind::Metadata, text)
        .finalize(keys)
        .expect("signing");
    index.absorb(&seedstr_proto::Verified::check(profile).expect("just signed"));
    if let Ok(tag) = Tag::parse(["relay", text]) {
        let list = EventBuilder::new(Kind::from(10050), "")
            .tag(tag)
            .finalize(keys)
            .expect("signing");
        index.absorb(&seedstr_proto::Verified::check(list).expect("just signed"));
        assert!(index.node_urls().len() <= 1);
    }
    let found = index.search_profiles(text, 10);
    assert!(found.len() <= 1);
}

/// A post's `imeta` tag (NIP-92) from anyone: the bytes split into entries at newlines; what
/// reads must make a release whose mirror and file put its url back together.
pub fn imeta_tag(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let entries: Vec<String> = text.split('\n').map(str::to_owned).collect();
    if let Ok(a) = seedstr_social::media::Attachment::from_imeta(&entries) {
        let r = a.as_release();
        assert_eq!(format!("{}/{}", r.mirrors[0], r.files[0].path), a.url);
        assert!(a.size <= seedstr_social::media::MAX_ATTACHMENT_BYTES);
    }
}

/// What an LNURL server and a zap reader take from anyone: the bytes as a zap request (the
/// callback's `nostr`), as a BOLT11 invoice, and as a zap receipt; what a request passes is
/// then the same request again, and a receipt that counts carries the invoice's amount.
pub fn zap_events(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(r) = seedstr_pay::zap_request::check_zap_request(text, 21_000) {
        assert_eq!(r.amount_msat.unwrap_or(21_000), 21_000);
        assert!(!r.relays.is_empty());
    }
    if let Ok(i) = seedstr_pay::invoice::read_invoice(text) {
        assert_eq!(i.payment_hash.len(), 64);
    }
    if let Ok(url) = seedstr_pay::zap::lnurlp_url(text) {
        assert!(url.contains("/.well-known/lnurlp/"));
    }
    // The LNURL callback, as a node takes it from anyone.
    let endpoint = seedstr_pay::lnurl::PayEndpoint {
        name: "me".into(),
        base: "http://127.0.0.1:7447".into(),
        owner: fuzz_keys().public_key(),
        zapper: fuzz_keys().public_key(),
    };
    if let Ok(order) = endpoint.order(Some(21_000), Some(text)) {
        assert_eq!(order.description, text);
    }
    if let Ok(e) = Event::from_json(text) {
        if let Ok(zap) = seedstr_pay::receipt::check_receipt_contents(&e) {
            assert_eq!(zap.receipt, e.id.to_hex());
        }
        // Zap splits (Appendix G) on any event: shares never exceed what is paid.
        if let Ok(splits) = seedstr_proto::zap_split::read_zap_splits(&e) {
            let shares = seedstr_proto::zap_split::shares(&splits, 1_234_567);
            assert!(shares.iter().map(|(_, m)| m).sum::<u64>() <= 1_234_567);
            assert!(shares.len() <= splits.len());
        }
    }
}

/// What NIP-47 takes from outside: the bytes as a request the development wallet decrypted,
/// as a wallet's response, as a notification, and as a connection URI.
pub fn nwc_messages(data: &[u8]) {
    use nostr::nips::nip47::{Notification, Request, Response};
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(r) = Request::from_json(text) {
        let again = Request::from_json(r.as_json()).expect("what reads writes back");
        assert_eq!(again.method, r.method);
    }
    let _ = Response::from_json(text);
    let _ = Notification::from_json(text);
    let _ = seedstr_pay::nwc::WalletClient::new(text, std::time::Duration::from_secs(1));
}

/// A profile's content (kind 0), as `social profile` reads it: a JSON object within the cap, or
/// refused; what reads writes back to the same fields.
pub fn profile_content(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(fields) = seedstr_social::profile::fields_of(text, "fuzz") {
        let again = serde_json::Value::Object(fields.clone()).to_string();
        let reread = seedstr_social::profile::fields_of(&again, "fuzz").expect("reads back");
        assert_eq!(reread, fields);
    }
}

/// A domain's NIP-05 `nostr.json` (the bytes), and an identifier (the same bytes as text), as
/// `social profile show` reads them.
pub fn nip05_document(data: &[u8]) {
    let _ = seedstr_social::nip05::key_for(data, "bob");
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok((url, name)) = seedstr_social::nip05::nip05_url(text) {
            assert!(url.ends_with(&format!("nostr.json?name={name}")));
        }
    }
}

/// An ILP node announcement (32001) as a relay hands it over: what reads writes back the same.
/// The same bytes as a BTP peering token and a NIP-98 authorization (kind 27235): read or
/// refused, never more.
pub fn ilp_announcement(data: &[u8]) {
    use seedstr_ilp::announcement::NodeInfo;
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = seedstr_ilp::peer_auth::read_token(text, "ws://127.0.0.1:7448");
        let _ = seedstr_ilp::peer_auth::read_request(text, "http://127.0.0.1:7447/x", "POST");
    }
    let Some(e) = signed_event(data) else { return };
    if let Ok(info) = NodeInfo::from_event(&e) {
        let again = NodeInfo::from_event(&sign(info.to_builder()))
            .expect("an announcement's own event reads back");
        assert_eq!(again, info);
    }
}
