//! The relay policies (30086) of the relays one uses, each marked by whether the relay's own
//! operator (the `pubkey` of its NIP-11 document) signed it.

use seedstr_client::http::relay_operator;
use seedstr_client::relays::source::{EventSource, SourceError};
use seedstr_client::relays::RelaySet;
use seedstr_proto::event::newest_by_address;
use serde_json::json;

use crate::events::relay_policy::RelayPolicy;
use crate::events::RELAY_POLICY_KIND;

/// One policy as shown.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ShownPolicy {
    /// The policy.
    pub policy: RelayPolicy,
    /// The signer, hex.
    pub signer: String,
    /// Signed by the key the relay's NIP-11 document names: the relay speaking for itself.
    pub by_operator: bool,
}

/// The policies of `relays`, and a line for each relay whose NIP-11 document could not be
/// read (its policies are then shown as not the operator's).
#[derive(Debug, Clone, serde::Serialize)]
pub struct RelayPolicies {
    /// Every policy found.
    pub policies: Vec<ShownPolicy>,
    /// Relays whose NIP-11 document could not be read, and why.
    #[serde(skip)]
    pub unreadable: Vec<String>,
}

/// The newest policy each signer published about each of `relays`.
pub async fn relay_policies(relays: &RelaySet) -> Result<RelayPolicies, SourceError> {
    let urls: Vec<String> = relays
        .urls
        .iter()
        .map(|r| r.trim_end_matches('/').to_owned())
        .collect();
    let events = relays
        .events(json!({"kinds": [RELAY_POLICY_KIND], "#d": urls}))
        .await?;
    let current = newest_by_address(&events);
    let mut out = RelayPolicies {
        policies: Vec::new(),
        unreadable: Vec::new(),
    };
    for relay in &urls {
        let operator = match relay_operator(relay, relays.timeout).await {
            Ok(operator) => operator,
            Err(e) => {
                out.unreadable
                    .push(format!("{relay}: no NIP-11 document ({e})"));
                None
            }
        };
        for e in &current {
            let Ok(policy) = RelayPolicy::from_event(e) else {
                continue;
            };
            if policy.relay != *relay {
                continue;
            }
            let signer = e.pubkey.to_hex();
            out.policies.push(ShownPolicy {
                by_operator: operator.as_deref() == Some(signer.as_str()),
                policy,
                signer,
            });
        }
    }
    Ok(out)
}
