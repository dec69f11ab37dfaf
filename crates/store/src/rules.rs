//! Write rules shared by both backends.

use seedstr_proto::event::first_tag_value;
use seedstr_proto::{Event, KindClass};

/// What a NIP-09 deletion request asks to delete. Only the deleter's own events count:
/// `a` coordinates naming another author are dropped here.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct DeletionTargets {
    /// Ids of the deleter's events to delete.
    pub ids: Vec<[u8; 32]>,
    /// `(kind, d)` of the deleter's replaceable or addressable events.
    pub addresses: Vec<(u16, String)>,
}

/// What `deletion` (kind 5) asks to delete of its own author's events.
pub fn deletion_targets(deletion: &Event) -> DeletionTargets {
    let mut out = DeletionTargets::default();
    let author = deletion.pubkey.to_hex();
    for tag in deletion.tags.iter() {
        match tag.as_slice() {
            [name, value, ..] if name == "e" => {
                let mut id = [0u8; 32];
                if hex::decode_to_slice(value, &mut id).is_ok() {
                    out.ids.push(id);
                }
            }
            [name, value, ..] if name == "a" => {
                let mut parts = value.splitn(3, ':');
                let (Some(kind), Some(pubkey), d) = (parts.next(), parts.next(), parts.next())
                else {
                    continue;
                };
                let Ok(kind) = kind.parse::<u16>() else {
                    continue;
                };
                if pubkey != author
                    || !matches!(
                        KindClass::of(kind),
                        KindClass::Replaceable | KindClass::Addressable
                    )
                {
                    continue;
                }
                out.addresses.push((kind, d.unwrap_or("").to_string()));
            }
            _ => {}
        }
    }
    out
}

/// `d` of an event for its address: empty for replaceable kinds.
pub fn address_d(event: &Event) -> Option<&str> {
    match seedstr_proto::event::kind_class(event) {
        KindClass::Replaceable => Some(""),
        KindClass::Addressable => Some(first_tag_value(event, "d").unwrap_or("")),
        _ => None,
    }
}

/// Single-letter tags that NIP-01 makes filterable: `(letter, value)`.
pub fn indexed_tags(event: &Event) -> impl Iterator<Item = (u8, &str)> {
    event.tags.iter().filter_map(|t| match t.as_slice() {
        [name, value, ..] if name.len() == 1 && name.as_bytes()[0].is_ascii_alphabetic() => {
            Some((name.as_bytes()[0], value.as_str()))
        }
        _ => None,
    })
}
