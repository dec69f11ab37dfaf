//! Name records: per project or package name, the newest release under the publisher's
//! transport key, so the name resolves with no relay answering.

use std::path::Path;

use nostr::prelude::*;
use seedstr_dht::transport::derive;
use seedstr_dht::{
    name_salt, DhtError, DhtNode, MutableItem, NameRecord, RecordError, Stored, Write,
};
use seedstr_proto::clock::unix_now;
use seedstr_proto::release::{parse_version, Version};

use crate::seeding::dht_items::{ItemStore, ItemStoreError};

/// Why a name record could not be put or read.
#[derive(Debug, thiserror::Error)]
pub enum NameError {
    /// The DHT put failed.
    #[error("putting the name record of {name}: {source}")]
    Dht {
        /// The name concerned.
        name: String,
        /// The underlying error.
        source: DhtError,
    },
    /// The record does not parse.
    #[error("the name record found for {name} is unreadable: {source}")]
    Malformed {
        /// The name concerned.
        name: String,
        /// The underlying error.
        source: RecordError,
    },
    /// The record names another package.
    #[error("the name record found under {asked}'s salt names {found}")]
    WrongName {
        /// The name asked for.
        asked: String,
        /// The name the record holds.
        found: String,
    },
    /// The record's version is not semantic versioning.
    #[error(
        "the name record of {name} holds version {version:?}, which is not semantic versioning"
    )]
    BadVersion {
        /// The name concerned.
        name: String,
        /// The version text the record holds.
        version: String,
    },
    /// The record could not be kept.
    #[error(transparent)]
    Items(#[from] ItemStoreError),
}

/// What a publish did to the name record.
#[derive(Debug, Clone, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum NamePut {
    /// The record was put.
    Stored(Stored),
    /// The record already names a newer version and was left as it is.
    KeptNewer {
        /// The newer version the record names.
        version: String,
    },
}

/// The name record of `name` under `transport_key`, checked to be about that name.
pub async fn get_name_record(
    dht: &DhtNode,
    transport_key: &[u8; 32],
    name: &str,
) -> Result<Option<(NameRecord, Version, MutableItem)>, NameError> {
    let Some(item) = dht.most_recent(transport_key, &name_salt(name)).await else {
        return Ok(None);
    };
    let (record, version) = read_record(&item, name)?;
    Ok(Some((record, version, item)))
}

/// The record in `item`, checked to be about `name`.
fn read_record(item: &MutableItem, name: &str) -> Result<(NameRecord, Version), NameError> {
    let record = NameRecord::decode(item.value()).map_err(|source| NameError::Malformed {
        name: name.to_owned(),
        source,
    })?;
    if record.n != name {
        return Err(NameError::WrongName {
            asked: name.to_owned(),
            found: record.n,
        });
    }
    let version = parse_version(&record.v).map_err(|_| NameError::BadVersion {
        name: name.to_owned(),
        version: record.v.clone(),
    })?;
    Ok((record, version))
}

/// Points `name` at a release unless the record already names a newer version; the signed
/// item is kept for republishing.
pub async fn put_name_record(
    home: &Path,
    keys: &Keys,
    dht: &DhtNode,
    name: &str,
    version: &Version,
    event_id: &EventId,
    infohash: &[u8; 20],
) -> Result<NamePut, NameError> {
    let key = derive(keys.secret_key());
    let public = key.verifying_key().to_bytes();
    // An unreadable record is ours to overwrite: only this key can have written it. Its seq
    // still bounds ours.
    let stored = dht.most_recent(&public, &name_salt(name)).await;
    if let Some(Ok((_, held))) = stored.as_ref().map(|item| read_record(item, name)) {
        if held > *version {
            return Ok(NamePut::KeptNewer {
                version: held.to_string(),
            });
        }
    }
    let record = NameRecord {
        n: name.to_owned(),
        v: version.to_string(),
        e: event_id.as_bytes().to_vec(),
        ih: infohash.to_vec(),
        ts: unix_now() as i64,
    };
    let dht_err = |source| NameError::Dht {
        name: name.to_owned(),
        source,
    };
    let value = record.encode().map_err(|e| dht_err(DhtError::from(e)))?;
    let stored = dht
        .put(
            &key,
            &name_salt(name),
            &value,
            Write::NextAfter(stored.map(|i| i.seq())),
        )
        .await
        .map_err(dht_err)?;
    ItemStore::new(home).keep(
        &stored.item,
        &format!("name:{name}"),
        &keys.public_key().to_hex(),
        true,
    )?;
    Ok(NamePut::Stored(stored))
}
