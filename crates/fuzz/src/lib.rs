//! Fuzz targets: one function per parser of bytes that come from outside (relays, clients,
//! peers, the DHT, web servers, archives, command lines), each taking arbitrary bytes and
//! calling the parser the way Seedstr does. A target fails only by panicking, overflowing or
//! running out of memory; refusing the input is success.
//!
//! Two runners share these functions: `fuzz/` at the repository's root wraps each in a
//! libFuzzer target for `cargo fuzz` (coverage-guided, on the stable toolchain), and this
//! crate's `tests/corpus.rs` replays the committed corpus through every target in CI.

#![warn(missing_docs)]

mod events;
mod files;
mod text;
mod wire;

/// A fuzz target: arbitrary bytes in, a panic on a bug.
pub type Target = fn(&[u8]);

/// Every target by name; the name is also its corpus folder, `fuzz/corpus/<name>/`.
pub const TARGETS: &[(&str, Target)] = &[
    ("client_message", wire::client_message),
    ("relay_answer", wire::relay_answer),
    ("filter", wire::filter),
    ("event", wire::event),
    ("ilp_packet", wire::ilp_packet),
    ("stream_packet", wire::stream_packet),
    ("release_event", events::release_event),
    ("incident_event", events::incident_event),
    ("collection_event", events::collection_event),
    ("curation_events", events::curation_events),
    ("registry_events", events::registry_events),
    ("nip44_payload", events::nip44_payload),
    ("private_message", events::private_message),
    ("sealed_rumor", events::sealed_rumor),
    ("directory_index", events::directory_index),
    ("imeta_tag", events::imeta_tag),
    ("zap_events", events::zap_events),
    ("nwc_messages", events::nwc_messages),
    ("ilp_announcement", events::ilp_announcement),
    ("channel_claim", wire::channel_claim),
    ("profile_content", events::profile_content),
    ("nip05_document", events::nip05_document),
    ("package_manifest", files::package_manifest),
    ("torrent_file", files::torrent_file),
    ("tracker_and_peer_answers", files::tracker_and_peer_answers),
    ("dht_record", files::dht_record),
    ("dht_routing_table", files::dht_routing_table),
    ("peer_reputation", files::peer_reputation),
    ("feed_index", files::feed_index),
    ("npm_archive", files::npm_archive),
    ("store_journal", files::store_journal),
    ("payload_path", text::payload_path),
    ("text_fields", text::text_fields),
    ("nip11", text::nip11),
    ("http_query", text::http_query),
    ("search_text", text::search_text),
];

/// The target called `name`.
pub fn target(name: &str) -> Option<Target> {
    TARGETS.iter().find(|(n, _)| *n == name).map(|(_, t)| *t)
}

pub use events::{fuzz_conversation, fuzz_keys, signed_event};
