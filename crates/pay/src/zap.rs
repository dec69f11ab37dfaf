//! The paying side of a zap: find the recipient's LNURL-pay endpoint from their lightning
//! address (`lud16` in their profile), sign the zap request, fetch the invoice and check it
//! (amount, description hash over the request), pay it through the payer's wallet (NIP-47),
//! then wait for the receipt and check it (Appendix F, against the endpoint's `nostrPubkey`).

use std::time::Duration;

use nostr::prelude::{Keys, PublicKey};
use seedstr_client::http::read_capped;
use seedstr_client::relays::live::{subscribe, LiveNote};
use seedstr_client::relays::source::{lightning_addresses, newest_addressable};
use seedstr_client::relays::RelaySet;
use seedstr_proto::event::first_tag_value;
use seedstr_proto::zap_split::{read_zap_splits, shares};
use serde_json::{json, Value};
use sha2::{Digest as _, Sha256};

use crate::invoice::read_invoice;
use crate::nwc::WalletClient;
use crate::receipt::{check_receipt, Zap, ZAP_RECEIPT_KIND};
use crate::zap_request::{make_zap_request, ZapTarget};

/// The largest LNURL answer read.
const MAX_LNURL_BYTES: usize = 64 * 1024;

/// Why a zap did not go through; each names its step.
#[derive(Debug, thiserror::Error)]
pub enum ZapError {
    /// The recipient's profile names no lightning address.
    #[error("{0} has no lightning address (lud16) in their profile")]
    NoAddress(String),
    /// The address does not read.
    #[error("{0:?} is not a lightning address (name@domain)")]
    BadAddress(String),
    /// The endpoint could not be asked.
    #[error("the recipient's LNURL endpoint {url}: {why}")]
    Endpoint {
        /// Its address.
        url: String,
        /// Why.
        why: String,
    },
    /// The endpoint does not take zaps.
    #[error("the recipient's endpoint does not take zaps (no allowsNostr and nostrPubkey)")]
    NoZaps,
    /// The amount is outside what the endpoint takes.
    #[error("{amount} msat is outside what the endpoint takes ({min}..={max} msat)")]
    Amount {
        /// Asked.
        amount: u64,
        /// The least.
        min: u64,
        /// The most.
        max: u64,
    },
    /// The invoice is not the one asked for.
    #[error("the endpoint's invoice does not match the zap: {0}")]
    Invoice(String),
    /// Signing the request failed.
    #[error(transparent)]
    Request(#[from] crate::zap_request::ZapRequestError),
    /// The wallet did not pay.
    #[error("your wallet: {0}")]
    Wallet(String),
    /// The zapped event is not on the relays.
    #[error("no relay holds {0}")]
    NotFound(String),
    /// The zapped event's splits do not read, or leave nobody to pay.
    #[error("the zapped event's splits: {0}")]
    Splits(String),
    /// Paid, but no valid receipt came in time.
    #[error("paid (preimage {preimage}) but no valid receipt arrived within {waited:?}{}", .refused.as_ref().map(|r| format!("; refused: {r}")).unwrap_or_default())]
    NoReceipt {
        /// The payment's preimage: proof of payment.
        preimage: String,
        /// How long it waited.
        waited: Duration,
        /// Why a receipt that came was refused, if one did.
        refused: Option<String>,
    },
}

/// What a zap did.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ZapSent {
    /// The invoice paid.
    pub invoice: String,
    /// The payment's preimage.
    pub preimage: String,
    /// The receipt, checked.
    pub zap: Zap,
}

/// The LNURL-pay address of `name@domain` (plain http only for a loopback domain).
pub fn lnurlp_url(address: &str) -> Result<String, ZapError> {
    let bad = || ZapError::BadAddress(address.to_owned());
    let (name, domain) = address.split_once('@').ok_or_else(bad)?;
    let ok = |s: &str, extra: &str| {
        !s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || extra.contains(c))
    };
    if !ok(name, "-_.") || !ok(domain, "-.:[]") {
        return Err(bad());
    }
    let host = domain.rsplit_once(':').map_or(domain, |(h, _)| h);
    let loopback = host == "localhost"
        || host
            .parse::<std::net::Ipv4Addr>()
            .is_ok_and(|ip| ip.is_loopback());
    let scheme = if loopback { "http" } else { "https" };
    Ok(format!(
        "{scheme}://{domain}/.well-known/lnurlp/{}",
        name.to_ascii_lowercase()
    ))
}

async fn get_json(client: &reqwest::Client, url: &str) -> Result<Value, ZapError> {
    let fail = |why: String| ZapError::Endpoint {
        url: url.to_owned(),
        why,
    };
    let response = client
        .get(url)
        .send()
        .await
        .map_err(|e| fail(e.to_string()))?;
    if !response.status().is_success() {
        return Err(fail(format!("HTTP {}", response.status())));
    }
    let body = read_capped(response, MAX_LNURL_BYTES)
        .await
        .map_err(|e| fail(e.to_string()))?;
    let v: Value = serde_json::from_slice(&body).map_err(|e| fail(format!("not JSON: {e}")))?;
    if v["status"] == "ERROR" {
        return Err(fail(v["reason"].as_str().unwrap_or("refused").to_owned()));
    }
    Ok(v)
}

/// One share of a zap on an event.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ShareSent {
    /// Who (hex).
    pub recipient: String,
    /// Their share, in msat.
    pub amount_msat: u64,
    /// The zap, when it went through.
    pub sent: Option<ZapSent>,
    /// Why it did not, when it did not.
    pub error: Option<String>,
}

/// What a zap on an addressable event (a release, a collection) did, share by share.
#[derive(Debug, Clone, serde::Serialize)]
pub struct EventZapped {
    /// The event's coordinate.
    pub address: String,
    /// Its author (hex).
    pub author: String,
    /// Whether the event names splits (NIP-57 Appendix G); without them the author gets it all.
    pub split: bool,
    /// Each share, in the order the event names them.
    pub shares: Vec<ShareSent>,
}

impl EventZapped {
    /// The shares that did not go through.
    pub fn failed(&self) -> impl Iterator<Item = &ShareSent> {
        self.shares.iter().filter(|s| s.sent.is_none())
    }
}

/// Zaps the addressable event `address` (`kind:pubkey:d`, such as a release or a collection)
/// `amount_msat`: shared as its `zap` tags say (each share a zap of its own to that person,
/// naming the event), or all to its author when it names none. An author's share goes to the
/// event's `zap-target` when it names a lightning address, else to their profile's. Shares are
/// paid one after another; one that fails does not stop the others, and is reported.
pub async fn zap_address(
    payer: &Keys,
    wallet: &WalletClient,
    address: &str,
    amount_msat: u64,
    comment: &str,
    relays: &RelaySet,
) -> Result<EventZapped, ZapError> {
    if !crate::zap_request::is_coordinate(address) {
        return Err(ZapError::NotFound(format!(
            "{address:?} (not a kind:pubkey:d coordinate)"
        )));
    }
    let mut parts = address.splitn(3, ':');
    let (kind, author, d) = (
        parts.next().unwrap_or_default(),
        parts.next().unwrap_or_default(),
        parts.next().unwrap_or_default(),
    );
    let kind: u16 = kind
        .parse()
        .map_err(|_| ZapError::NotFound(address.into()))?;
    let author = PublicKey::from_hex(author).map_err(|_| ZapError::NotFound(address.into()))?;
    let event = newest_addressable(relays, kind, &author, d)
        .await
        .map_err(|e| ZapError::Endpoint {
            url: relays.urls.join(" "),
            why: e.to_string(),
        })?
        .ok_or_else(|| ZapError::NotFound(address.to_owned()))?;
    let splits = read_zap_splits(event.event()).map_err(|e| ZapError::Splits(e.to_string()))?;
    let plan = if splits.is_empty() {
        vec![(author, amount_msat)]
    } else {
        shares(&splits, amount_msat)
    };
    if plan.is_empty() {
        return Err(ZapError::Splits(format!(
            "{amount_msat} msat shared by their weights leaves nobody a whole sat"
        )));
    }
    let author_address = first_tag_value(event.event(), "zap-target")
        .filter(|t| t.contains('@'))
        .map(str::to_owned);
    let target = ZapTarget {
        event: None,
        address: Some(address.to_owned()),
    };
    let mut out = EventZapped {
        address: address.to_owned(),
        author: author.to_hex(),
        split: !splits.is_empty(),
        shares: Vec::new(),
    };
    for (recipient, msat) in plan {
        let lightning = (recipient == author)
            .then(|| author_address.clone())
            .flatten();
        let result = zap_at(
            payer, wallet, recipient, lightning, &target, msat, comment, relays,
        )
        .await;
        let (sent, error) = match result {
            Ok(z) => (Some(z), None),
            Err(e) => (None, Some(e.to_string())),
        };
        out.shares.push(ShareSent {
            recipient: recipient.to_hex(),
            amount_msat: msat,
            sent,
            error,
        });
    }
    Ok(out)
}

/// What a lightning address's LNURL-pay endpoint says about zaps.
#[derive(Debug, Clone)]
pub struct ZapEndpoint {
    /// The key that signs its receipts (`nostrPubkey`).
    pub zapper: PublicKey,
    /// The least it takes, in msat.
    pub min_msat: u64,
    /// The most.
    pub max_msat: u64,
    /// Where invoices are asked for.
    pub callback: String,
}

/// An HTTP client for LNURL endpoints: no redirects followed (the endpoint is the one named),
/// every call bounded by `timeout`.
pub fn lnurl_client(timeout: Duration) -> Result<reqwest::Client, ZapError> {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(timeout)
        .build()
        .map_err(|e| ZapError::Endpoint {
            url: String::new(),
            why: e.to_string(),
        })
}

/// Reads the LNURL-pay document of lightning address `address`; it must take zaps.
pub async fn zap_endpoint(
    client: &reqwest::Client,
    address: &str,
) -> Result<ZapEndpoint, ZapError> {
    let url = lnurlp_url(address)?;
    let doc = get_json(client, &url).await?;
    let zapper = match (doc["allowsNostr"].as_bool(), doc["nostrPubkey"].as_str()) {
        (Some(true), Some(k)) => PublicKey::from_hex(k).map_err(|_| ZapError::NoZaps)?,
        _ => return Err(ZapError::NoZaps),
    };
    Ok(ZapEndpoint {
        zapper,
        min_msat: doc["minSendable"].as_u64().unwrap_or(1),
        max_msat: doc["maxSendable"].as_u64().unwrap_or(u64::MAX),
        callback: doc["callback"].as_str().ok_or(ZapError::NoZaps)?.to_owned(),
    })
}

/// `recipient`'s lightning address, from their newest verified profile on `relays`.
pub async fn lightning_address(
    relays: &RelaySet,
    recipient: &PublicKey,
) -> Result<String, ZapError> {
    lightning_addresses(relays, [recipient])
        .await
        .ok()
        .and_then(|mut found| found.remove(recipient))
        .ok_or_else(|| ZapError::NoAddress(recipient.to_hex()))
}

/// Zaps `recipient` (and `target`, one of their events) `amount_msat` with `comment`, paying
/// through `wallet`; the receipt is asked for on `relays`, where the request also sends it.
pub async fn zap(
    payer: &Keys,
    wallet: &WalletClient,
    recipient: PublicKey,
    target: &ZapTarget,
    amount_msat: u64,
    comment: &str,
    relays: &RelaySet,
) -> Result<ZapSent, ZapError> {
    zap_at(
        payer,
        wallet,
        recipient,
        None,
        target,
        amount_msat,
        comment,
        relays,
    )
    .await
}

/// [`zap`], to `lightning` when given instead of the address in the recipient's profile.
#[allow(clippy::too_many_arguments)]
async fn zap_at(
    payer: &Keys,
    wallet: &WalletClient,
    recipient: PublicKey,
    lightning: Option<String>,
    target: &ZapTarget,
    amount_msat: u64,
    comment: &str,
    relays: &RelaySet,
) -> Result<ZapSent, ZapError> {
    let address = match lightning {
        Some(a) => a,
        None => lightning_address(relays, &recipient).await?,
    };
    let client = lnurl_client(relays.timeout)?;
    let endpoint = zap_endpoint(&client, &address).await?;
    let (zapper, min, max) = (endpoint.zapper, endpoint.min_msat, endpoint.max_msat);
    if !(min..=max).contains(&amount_msat) {
        return Err(ZapError::Amount {
            amount: amount_msat,
            min,
            max,
        });
    }
    let callback = endpoint.callback.as_str();
    let request = make_zap_request(
        payer,
        recipient,
        target,
        amount_msat,
        &relays.urls,
        None,
        comment,
    )?;
    let json_request = request.as_json();
    let asked = reqwest::Url::parse_with_params(
        callback,
        &[
            ("amount", amount_msat.to_string()),
            ("nostr", json_request.clone()),
        ],
    )
    .map_err(|e| ZapError::Endpoint {
        url: callback.to_owned(),
        why: e.to_string(),
    })?;
    let answer = get_json(&client, asked.as_str()).await?;
    let pr = answer["pr"]
        .as_str()
        .ok_or_else(|| ZapError::Invoice("no pr in the answer".into()))?;
    let invoice = read_invoice(pr).map_err(|e| ZapError::Invoice(e.to_string()))?;
    if invoice.amount_msat != Some(amount_msat) {
        return Err(ZapError::Invoice(format!(
            "amount {:?} msat",
            invoice.amount_msat
        )));
    }
    let hashed = hex::encode(Sha256::digest(json_request.as_bytes()));
    if invoice.description_hash.as_deref() != Some(hashed.as_str()) {
        return Err(ZapError::Invoice(
            "its description hash is not our request's".into(),
        ));
    }
    // Listen for the receipt (by the endpoint's zapper key, for this invoice) before paying,
    // so it cannot slip by.
    let filter = json!({
        "kinds": [ZAP_RECEIPT_KIND],
        "#p": [recipient.to_hex()],
        "authors": [zapper.to_hex()],
        "since": invoice.created_at.saturating_sub(60),
    });
    let mut live = subscribe(&relays.urls, vec![filter]);
    let paid = wallet
        .pay_invoice(pr)
        .await
        .map_err(|e| ZapError::Wallet(e.to_string()))?;
    let limit = relays.timeout.max(Duration::from_secs(5));
    let mut refused = None;
    let waiting = async {
        while let Some(note) = live.recv().await {
            let LiveNote::Event { event, .. } = note else {
                continue;
            };
            let ours = event
                .tags
                .iter()
                .any(|t| matches!(t.as_slice(), [n, b, ..] if n == "bolt11" && b == pr));
            if !ours {
                continue;
            }
            match check_receipt(event.event(), &zapper) {
                Ok(zap) => return Some(zap),
                Err(e) => refused = Some(e.to_string()),
            }
        }
        None
    };
    match tokio::time::timeout(limit, waiting).await {
        Ok(Some(zap)) => Ok(ZapSent {
            invoice: pr.to_owned(),
            preimage: paid.preimage,
            zap,
        }),
        _ => Err(ZapError::NoReceipt {
            preimage: paid.preimage,
            waited: limit,
            refused,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lightning_addresses_map_to_their_endpoint() {
        assert_eq!(
            lnurlp_url("Ann@pay.example").unwrap(),
            "https://pay.example/.well-known/lnurlp/ann"
        );
        assert_eq!(
            lnurlp_url("me@127.0.0.1:7447").unwrap(),
            "http://127.0.0.1:7447/.well-known/lnurlp/me"
        );
        for bad in ["me", "@x", "a b@x", "me@x/y"] {
            assert!(lnurlp_url(bad).is_err(), "{bad}");
        }
    }
}
