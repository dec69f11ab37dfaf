//! Profiles (kind 0, NIP-01 and NIP-24 fields): read as the newest verified one, changed by
//! signing a new one that keeps every field it does not change (other clients' fields too).

use nostr::prelude::{EventBuilder, FinalizeEvent as _, Keys, Kind, PublicKey};
use seedstr_client::relays::{list_failures, publish_to_any, query_all, PublishAnswer, RelaySet};
use seedstr_client::resolve::target::npub;
use seedstr_proto::event::newest_by_address;
use serde_json::{json, Map, Value};

use crate::nip05::{check_nip05, Nip05Check};

/// The profile kind.
pub const PROFILE_KIND: u16 = 0;
/// The longest profile content Seedstr reads or signs: 64 KiB.
pub const MAX_PROFILE_BYTES: usize = 64 * 1024;
/// The fields `set_profile` changes by name; others pass through untouched.
pub const PROFILE_FIELDS: [&str; 8] = [
    "name",
    "display_name",
    "about",
    "picture",
    "banner",
    "website",
    "nip05",
    "lud16",
];

/// Why a profile could not be read or changed.
#[derive(Debug, thiserror::Error)]
pub enum ProfileError {
    /// No relay answered.
    #[error("no relay answered: {}", list_failures(.0))]
    NoRelay(Vec<(String, String)>),
    /// Not a field we set.
    #[error("{field:?} is not a profile field here (one of: {known})", field = .0, known = PROFILE_FIELDS.join(", "))]
    UnknownField(String),
    /// The profile's content is not a JSON object, or is too long.
    #[error("profile {0}: {1}")]
    Unreadable(String, String),
    /// No relay took the new profile.
    #[error("no relay took the new profile: {0}")]
    NotTaken(String),
    /// Signing failed.
    #[error("signing the profile: {0}")]
    Sign(String),
}

/// Someone's profile as the relays hold it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Profile {
    /// Whose (npub).
    pub npub: String,
    /// Every field of the newest profile (empty when there is none).
    pub fields: Map<String, Value>,
    /// The profile event (hex id), if there is one.
    pub event: Option<String>,
    /// When it was signed.
    pub created_at: Option<u64>,
    /// The check of its NIP-05 identifier, when it has one and it was checked.
    pub nip05: Option<Nip05Check>,
}

/// What `set_profile` did.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ProfileSet {
    /// The profile now.
    pub profile: Profile,
    /// Each relay's answer.
    pub answers: Vec<PublishAnswer>,
}

/// `who`'s newest verified profile on `relays`, with its NIP-05 identifier checked against its
/// domain.
pub async fn profile(relays: &RelaySet, who: &PublicKey) -> Result<Profile, ProfileError> {
    let mut p = read_profile(relays, who).await?;
    if let Some(identifier) = p.fields.get("nip05").and_then(Value::as_str) {
        p.nip05 = Some(check_nip05(identifier, who, relays.timeout).await);
    }
    Ok(p)
}

/// `who`'s newest verified profile on `relays`, unchecked.
async fn read_profile(relays: &RelaySet, who: &PublicKey) -> Result<Profile, ProfileError> {
    let filter = json!({"kinds": [PROFILE_KIND], "authors": [who.to_hex()]});
    let found = query_all(&relays.urls, &filter, relays.timeout).await;
    if found.answered.is_empty() {
        return Err(ProfileError::NoRelay(found.failed));
    }
    let npub = npub(who);
    let theirs = found.events.iter().filter(|e| e.pubkey == *who);
    let Some(event) = newest_by_address(theirs).into_iter().next() else {
        return Ok(Profile {
            npub,
            fields: Map::new(),
            event: None,
            created_at: None,
            nip05: None,
        });
    };
    Ok(Profile {
        npub,
        fields: fields_of(&event.content, &event.id.to_hex())?,
        event: Some(event.id.to_hex()),
        created_at: Some(event.created_at.as_secs()),
        nip05: None,
    })
}

/// A profile's content as a JSON object, within the cap.
pub fn fields_of(content: &str, id: &str) -> Result<Map<String, Value>, ProfileError> {
    let unreadable = |why: String| ProfileError::Unreadable(id.to_owned(), why);
    if content.len() > MAX_PROFILE_BYTES {
        return Err(unreadable(format!(
            "{} bytes, over the {MAX_PROFILE_BYTES}-byte cap",
            content.len()
        )));
    }
    if content.trim().is_empty() {
        return Ok(Map::new());
    }
    match serde_json::from_str::<Value>(content) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(_) => Err(unreadable("not a JSON object".into())),
        Err(e) => Err(unreadable(format!("not JSON: {e}"))),
    }
}

/// Sets `changes` (field, value; an empty value removes the field) on `keys`'s profile, keeping
/// every other field, and sends it.
pub async fn set_profile(
    keys: &Keys,
    relays: &RelaySet,
    changes: &[(String, String)],
) -> Result<ProfileSet, ProfileError> {
    for (field, _) in changes {
        if !PROFILE_FIELDS.contains(&field.as_str()) {
            return Err(ProfileError::UnknownField(field.clone()));
        }
    }
    let mut current = read_profile(relays, &keys.public_key()).await?;
    for (field, value) in changes {
        if value.is_empty() {
            current.fields.remove(field);
        } else {
            current
                .fields
                .insert(field.clone(), Value::String(value.clone()));
        }
    }
    let content = Value::Object(current.fields.clone()).to_string();
    if content.len() > MAX_PROFILE_BYTES {
        return Err(ProfileError::Unreadable(
            "new".into(),
            format!(
                "{} bytes, over the {MAX_PROFILE_BYTES}-byte cap",
                content.len()
            ),
        ));
    }
    let at = crate::dated_after(current.created_at);
    let event = EventBuilder::new(Kind::from(PROFILE_KIND), content)
        .custom_created_at(at)
        .finalize(keys)
        .map_err(|e| ProfileError::Sign(e.to_string()))?;
    let answers = publish_to_any(relays, &event)
        .await
        .map_err(ProfileError::NotTaken)?;
    current.event = Some(event.id.to_hex());
    current.created_at = Some(at.as_secs());
    Ok(ProfileSet {
        profile: current,
        answers,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn profile_content_is_a_json_object_within_the_cap() {
        assert_eq!(fields_of("", "x").unwrap(), Map::new());
        let m = fields_of(r#"{"name":"ann","lud16":"ann@pay.example"}"#, "x").unwrap();
        assert_eq!(
            m["lud16"], "ann@pay.example",
            "other clients' fields are kept"
        );
        assert!(fields_of("[1,2]", "x")
            .unwrap_err()
            .to_string()
            .contains("not a JSON object"));
        assert!(fields_of("{nope", "x")
            .unwrap_err()
            .to_string()
            .contains("not JSON"));
        let big = format!("{{\"about\":\"{}\"}}", "a".repeat(MAX_PROFILE_BYTES));
        assert!(fields_of(&big, "x")
            .unwrap_err()
            .to_string()
            .contains("cap"));
    }

    proptest! {
        #![proptest_config(ProptestConfig {
            rng_seed: proptest::test_runner::RngSeed::Fixed(0x5eed),
            failure_persistence: None,
            ..ProptestConfig::default()
        })]

        /// Any text as a profile's content is read or refused, never a panic; an object written
        /// reads back as itself.
        #[test]
        fn profile_content_reads_back(name in "\\PC{0,40}", junk in "\\PC{0,80}") {
            let _ = fields_of(&junk, "x");
            let written = json!({"name": name}).to_string();
            let read = fields_of(&written, "x").unwrap();
            prop_assert_eq!(read["name"].as_str(), Some(name.as_str()));
        }
    }
}
