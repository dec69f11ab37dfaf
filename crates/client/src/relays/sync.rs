//! NIP-77 negentropy as the initiating side: which events each of two sets lacks.

use negentropy::{Id, Negentropy, NegentropyStorageVector};
use serde_json::{json, Value};

use crate::relays::conn::{ConnError, RelayConn};

/// Why a negentropy sync failed.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    /// The connection failed.
    #[error("{0}")]
    Conn(#[from] ConnError),
    /// The reconciliation failed.
    #[error("negentropy: {0}")]
    Negentropy(String),
    /// The relay refused to sync.
    #[error("the relay refused to sync: {0}")]
    Refused(String),
}

/// Outcome of reconciliation: ids only we have, ids only the relay has.
#[derive(Debug, Default)]
pub struct Difference {
    /// Ids we have and the relay lacks.
    pub have: Vec<[u8; 32]>,
    /// Ids the relay has and we lack.
    pub need: Vec<[u8; 32]>,
}

fn neg_err(e: negentropy::Error) -> SyncError {
    SyncError::Negentropy(e.to_string())
}

/// Runs NEG-OPEN/NEG-MSG rounds with `conn` over `filter`, our side being `local` items.
pub async fn reconcile(
    conn: &mut RelayConn,
    filter: &Value,
    local: &[(u64, [u8; 32])],
) -> Result<Difference, SyncError> {
    let mut storage = NegentropyStorageVector::with_capacity(local.len());
    for (at, id) in local {
        storage
            .insert(*at, Id::from_byte_array(*id))
            .map_err(neg_err)?;
    }
    storage.seal().map_err(neg_err)?;
    let mut neg = Negentropy::owned(storage, 500_000).map_err(neg_err)?;
    let sub = "seedstr-sync";
    let first = neg.initiate().map_err(neg_err)?;
    conn.send(&json!(["NEG-OPEN", sub, filter, hex::encode(first)]))
        .await?;
    let mut diff = Difference::default();
    loop {
        let m = conn.recv().await?;
        if m.get(1).and_then(Value::as_str) != Some(sub) {
            continue;
        }
        match m.first().and_then(Value::as_str) {
            Some("NEG-MSG") => {
                let msg = m.get(2).and_then(Value::as_str).unwrap_or("");
                let bytes = hex::decode(msg).map_err(|e| SyncError::Negentropy(e.to_string()))?;
                let (mut have, mut need) = (Vec::new(), Vec::new());
                let next = neg
                    .reconcile_with_ids(&bytes, &mut have, &mut need)
                    .map_err(neg_err)?;
                diff.have.extend(have.iter().map(|i| *i.as_bytes()));
                diff.need.extend(need.iter().map(|i| *i.as_bytes()));
                match next {
                    Some(reply) => {
                        conn.send(&json!(["NEG-MSG", sub, hex::encode(reply)]))
                            .await?
                    }
                    None => {
                        conn.send(&json!(["NEG-CLOSE", sub])).await?;
                        return Ok(diff);
                    }
                }
            }
            Some("NEG-ERR") => {
                let why = m.get(2).and_then(Value::as_str).unwrap_or("").to_string();
                return Err(SyncError::Refused(why));
            }
            _ => {}
        }
    }
}
