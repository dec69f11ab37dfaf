//! NIP-11 relay information document, served on the relay's own port.

use serde_json::{json, Value};

use crate::config::RelayConfig;

/// NIPs this relay implements in full.
pub const SUPPORTED_NIPS: &[u16] = &[1, 9, 11, 40, 42, 45, 50, 70, 77];

/// The NIP-11 document the configuration describes.
pub fn document(c: &RelayConfig) -> Value {
    let mut doc = json!({
        "name": c.info.name,
        "description": c.info.description,
        "supported_nips": SUPPORTED_NIPS,
        "software": "seedstr",
        "version": env!("CARGO_PKG_VERSION"),
        "limitation": {
            "max_message_length": c.limits.max_event_bytes + 1024,
            "max_content_length": c.limits.max_event_bytes,
            "max_subscriptions": c.limits.max_subscriptions,
            "max_filters": c.limits.max_filters,
            "max_limit": c.limits.max_limit,
            "default_limit": c.limits.max_limit,
            "auth_required": false,
            "payment_required": c.admission.required(),
            "restricted_writes": c.auth.required_for_writes || c.admission.required() || !c.policy.allow_kinds.is_empty() || !c.policy.deny_kinds.is_empty(),
            "created_at_upper_limit": c.policy.max_future_secs,
            "created_at_lower_limit": c.policy.max_past_secs,
        },
    });
    if let Some(pk) = &c.info.pubkey {
        doc["pubkey"] = pk.clone().into();
    }
    if let Some(contact) = &c.info.contact {
        doc["contact"] = contact.clone().into();
    }
    let a = &c.admission;
    if a.by_zap() {
        doc["fees"] = json!({"admission": [{
            "amount": a.price_sats.saturating_mul(1000),
            "unit": "msats",
            "period": a.period_days.saturating_mul(86_400),
        }]});
    }
    if let Some((amount, unit)) = &a.per_event {
        doc["fees"]["publication"] = json!([{"amount": amount, "unit": unit}]);
    }
    if a.required() {
        if let Some(url) = &a.payments_url {
            doc["payments_url"] = url.clone().into();
        }
    }
    doc
}
