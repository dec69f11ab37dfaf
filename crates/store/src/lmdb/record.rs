//! The value stored in `events`: a fixed header, then the event's canonical JSON.

use std::sync::Arc;

use seedstr_proto::Event;

use super::corrupt;
use crate::{Result, StoreError, StoredEvent};

/// Header of a value in `events`: id, created_at, expiration (0 = none).
pub(super) const HEADER: usize = 32 + 8 + 8;

/// A decoded `events` value.
pub(super) struct Record<'a> {
    pub id: [u8; 32],
    pub created_at: u64,
    pub expiration: u64,
    pub json: &'a [u8],
}

pub(super) fn decode(value: &[u8]) -> Result<Record<'_>> {
    if value.len() < HEADER {
        return Err(corrupt("event record shorter than its header"));
    }
    Ok(Record {
        id: value[..32].try_into().expect("32 bytes"),
        created_at: u64::from_be_bytes(value[32..40].try_into().expect("8 bytes")),
        expiration: u64::from_be_bytes(value[40..48].try_into().expect("8 bytes")),
        json: &value[HEADER..],
    })
}

pub(super) fn parse_json(json: &[u8]) -> Result<Event> {
    Event::from_json(json).map_err(|e| StoreError::Corrupt(format!("stored event JSON: {e}")))
}

pub(super) fn to_stored(r: &Record) -> Result<StoredEvent> {
    let json = std::str::from_utf8(r.json).map_err(|_| corrupt("stored JSON is not UTF-8"))?;
    Ok(StoredEvent {
        created_at: r.created_at,
        id: r.id,
        json: Arc::from(json),
    })
}
