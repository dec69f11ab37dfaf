//! Zap totals as every reader counts them: only receipts that pass every check (Appendix F
//! against the recipient's zapper key, and the rest of [`check_receipt`](crate::receipt::check_receipt)), each invoice once
//! however many receipts name it; everything else is reported, never counted.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use nostr::prelude::PublicKey;
use seedstr_client::relays::source::{lightning_addresses, EventSource, SourceError};
use seedstr_proto::Verified;
use serde::Serialize;
use serde_json::json;

use crate::receipt::{check_verified_receipt, Zap, ZAP_RECEIPT_KIND};
use crate::zap::{lnurl_client, zap_endpoint};

/// The most receipts read for one total; past it, [`Totals::truncated`] says so.
pub const MAX_RECEIPTS: usize = 5_000;
/// The most recipients whose zapper keys one total looks up.
pub const MAX_RECIPIENTS: usize = 64;
/// How long a zapper key found is trusted before it is asked again.
const KNOWN_FOR: Duration = Duration::from_secs(3600);
/// How long an endpoint that gave none is left alone.
const UNKNOWN_FOR: Duration = Duration::from_secs(300);
/// The most lightning addresses remembered.
const MAX_CACHED: usize = 10_000;

/// The zapper keys of lightning addresses (their LNURL endpoints' `nostrPubkey`), asked over
/// HTTP and remembered for a while, so counting does not ask an endpoint per page.
pub struct ZapperKeys {
    client: reqwest::Client,
    cache: Mutex<HashMap<String, (Option<PublicKey>, Instant)>>,
}

impl ZapperKeys {
    /// Asks each endpoint within `timeout`.
    pub fn new(timeout: Duration) -> ZapperKeys {
        ZapperKeys {
            // A default client would follow redirects and never time out: not a fallback.
            client: lnurl_client(timeout).expect("an HTTP client with a timeout builds"),
            cache: Mutex::new(HashMap::new()),
        }
    }

    /// The zapper key of `address` (`name@domain`), `None` when its endpoint takes no zaps or
    /// does not answer.
    pub async fn of_address(&self, address: &str) -> Option<PublicKey> {
        let address = address.to_ascii_lowercase();
        let now = Instant::now();
        if let Some((key, until)) = self.lock().get(&address) {
            if *until > now {
                return *key;
            }
        }
        let key = zap_endpoint(&self.client, &address)
            .await
            .ok()
            .map(|e| e.zapper);
        let mut cache = self.lock();
        if cache.len() >= MAX_CACHED {
            cache.retain(|_, (_, until)| *until > now);
            if cache.len() >= MAX_CACHED {
                cache.clear();
            }
        }
        let keep = if key.is_some() {
            KNOWN_FOR
        } else {
            UNKNOWN_FOR
        };
        cache.insert(address, (key, now + keep));
        key
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, (Option<PublicKey>, Instant)>> {
        self.cache.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Something zapped, as its page knows it.
#[derive(Debug, Clone)]
pub struct Zapped {
    /// Its coordinate (`kind:pubkey:d`).
    pub address: String,
    /// The lightning address its author named on it for tips (a release's `zap-target`), if any.
    pub zap_target: Option<String>,
}

impl From<(String, Option<String>)> for Zapped {
    /// From a page's `(address, zap_target)` (`mods::page::ProjectPage::zappable`).
    fn from((address, zap_target): (String, Option<String>)) -> Zapped {
        Zapped {
            address,
            zap_target,
        }
    }
}

/// The zaps on `things` (releases, projects, collections) that `source` holds, counted as
/// [`tally`] does; each recipient's zapper keys are those of their profile's lightning address
/// and, for an author, of the `zap-target`s they named.
pub async fn zaps_on(
    source: &impl EventSource,
    things: &[Zapped],
    keys: &ZapperKeys,
) -> Result<Totals, SourceError> {
    if things.is_empty() {
        return Ok(Totals::default());
    }
    let addresses: Vec<&str> = things.iter().map(|t| t.address.as_str()).collect();
    let filter = json!({"kinds": [ZAP_RECEIPT_KIND], "#a": addresses, "limit": MAX_RECEIPTS});
    let receipts = source.events(filter).await?;
    let mut named: HashMap<PublicKey, Vec<String>> = HashMap::new();
    for t in things {
        let author = t
            .address
            .split(':')
            .nth(1)
            .and_then(|k| PublicKey::from_hex(k).ok());
        if let (Some(author), Some(z)) = (author, &t.zap_target) {
            named.entry(author).or_default().push(z.clone());
        }
    }
    counted(source, receipts, named, keys).await
}

/// Every zap to `person` that `source` holds, whatever was zapped.
pub async fn zaps_to(
    source: &impl EventSource,
    person: &PublicKey,
    keys: &ZapperKeys,
) -> Result<Totals, SourceError> {
    let filter =
        json!({"kinds": [ZAP_RECEIPT_KIND], "#p": [person.to_hex()], "limit": MAX_RECEIPTS});
    let receipts = source.events(filter).await?;
    counted(source, receipts, HashMap::new(), keys).await
}

async fn counted(
    source: &impl EventSource,
    receipts: Vec<Verified>,
    mut named: HashMap<PublicKey, Vec<String>>,
    keys: &ZapperKeys,
) -> Result<Totals, SourceError> {
    let truncated = receipts.len() >= MAX_RECEIPTS;
    let mut recipients: BTreeSet<PublicKey> = BTreeSet::new();
    for r in &receipts {
        if recipients.len() == MAX_RECIPIENTS {
            break;
        }
        recipients.extend(r.tags.public_keys().next());
    }
    for (who, address) in lightning_addresses(source, &recipients).await? {
        named.entry(who).or_default().push(address);
    }
    let mut zappers: HashMap<PublicKey, Vec<PublicKey>> = HashMap::new();
    for who in &recipients {
        for address in named.get(who).into_iter().flatten() {
            if let Some(k) = keys.of_address(address).await {
                zappers.entry(*who).or_default().push(k);
            }
        }
    }
    let mut totals = tally(&receipts, |who| {
        zappers.get(who).cloned().unwrap_or_default()
    });
    totals.truncated = truncated;
    Ok(totals)
}

/// What a set of receipts adds up to.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Totals {
    /// Every zap counted, each invoice once.
    pub zaps: Vec<Zap>,
    /// The sum, in msat.
    pub total_msat: u64,
    /// Per recipient (hex), in msat.
    pub by_recipient: BTreeMap<String, u64>,
    /// Per zapped event (hex id) or address (coordinate).
    pub by_target: BTreeMap<String, TargetTotal>,
    /// Receipts not counted, and why.
    pub refused: Vec<Refused>,
    /// Whether more receipts than [`MAX_RECEIPTS`] were there, so the totals are a floor.
    pub truncated: bool,
}

/// The zaps on one event or address.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct TargetTotal {
    /// Their sum, in msat.
    pub msat: u64,
    /// How many.
    pub zaps: usize,
}

/// A receipt not counted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Refused {
    /// The receipt's id (hex).
    pub receipt: String,
    /// Why it does not count.
    pub why: String,
}

impl Totals {
    /// The zaps on `target` (an event id or a coordinate).
    pub fn on(&self, target: &str) -> TargetTotal {
        self.by_target.get(target).copied().unwrap_or_default()
    }
}

/// Adds up `receipts`, each checked against the zapper keys its recipient's LNURL endpoints
/// announced (`zapper_of`: the endpoint of their profile's lightning address, and of any
/// `zap-target` they named on what was zapped; a recipient without one counts nothing).
pub fn tally(receipts: &[Verified], zapper_of: impl Fn(&PublicKey) -> Vec<PublicKey>) -> Totals {
    let mut out = Totals::default();
    let mut invoices = BTreeSet::new();
    let mut seen = BTreeSet::new();
    for r in receipts {
        if !seen.insert(r.id) {
            continue;
        }
        let recipient = r.tags.public_keys().next();
        let zappers = recipient.as_ref().map(&zapper_of).unwrap_or_default();
        // The signer must be one of them; checking against the first otherwise names it.
        let Some(zapper) = zappers.iter().find(|k| **k == r.pubkey).or(zappers.first()) else {
            out.refused.push(Refused {
                receipt: r.id.to_hex(),
                why: "no zapper key is known for its recipient".into(),
            });
            continue;
        };
        // Sources verified every event they return: its signature is not checked again.
        match check_verified_receipt(r, zapper) {
            Ok(zap) => {
                let invoice = r.tags.iter().find_map(|t| match t.as_slice() {
                    [n, b, ..] if n == "bolt11" => Some(b.clone()),
                    _ => None,
                });
                if !invoices.insert(invoice.unwrap_or_default()) {
                    out.refused.push(Refused {
                        receipt: r.id.to_hex(),
                        why: "another receipt already counted this invoice".into(),
                    });
                    continue;
                }
                out.total_msat += zap.amount_msat;
                *out.by_recipient.entry(zap.recipient.clone()).or_default() += zap.amount_msat;
                for target in zap
                    .target
                    .event
                    .map(|e| e.to_hex())
                    .into_iter()
                    .chain(zap.target.address.clone())
                {
                    let t = out.by_target.entry(target).or_default();
                    t.msat += zap.amount_msat;
                    t.zaps += 1;
                }
                out.zaps.push(zap);
            }
            Err(e) => out.refused.push(Refused {
                receipt: r.id.to_hex(),
                why: e.to_string(),
            }),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_receipts::signed_receipt;
    use crate::zap_request::ZapTarget;
    use nostr::prelude::{EventId, FinalizeEvent as _, Keys};

    fn receipt(
        zapper: &Keys,
        to: &Keys,
        target: &ZapTarget,
        msat: u64,
        preimage: u8,
        at: u64,
    ) -> Verified {
        let payer = Keys::generate();
        let e = signed_receipt(zapper, &payer, to.public_key(), target, msat, preimage, at);
        Verified::check(e).unwrap()
    }

    #[test]
    fn only_receipts_that_check_count_and_each_invoice_once() {
        let (bob, bobs_zapper, mallory) = (Keys::generate(), Keys::generate(), Keys::generate());
        let release = ZapTarget {
            event: None,
            address: Some(format!(
                "30079:{}:generic.tool@1.0.0",
                bob.public_key().to_hex()
            )),
        };
        let post = ZapTarget {
            event: Some(EventId::from_byte_array([4; 32])),
            address: None,
        };
        let a = receipt(&bobs_zapper, &bob, &release, 21_000, 1, 10);
        let b = receipt(&bobs_zapper, &bob, &post, 5_000, 2, 11);
        // Signed by someone other than bob's zapper: counted nowhere.
        let forged = receipt(&mallory, &bob, &release, 1_000_000, 3, 12);
        // The same invoice's receipt again, re-signed by bob's zapper at another time.
        let tags: Vec<_> = a.tags.iter().cloned().collect();
        let again = nostr::prelude::EventBuilder::new(a.kind, "")
            .tags(tags)
            .custom_created_at(nostr::prelude::Timestamp::from(99))
            .finalize(&bobs_zapper)
            .unwrap();
        let again = Verified::check(again).unwrap();
        let zapper = bobs_zapper.public_key();
        let bob_key = bob.public_key();
        let t = tally(&[a.clone(), b, forged.clone(), again, a], |who| {
            (*who == bob_key)
                .then_some(vec![Keys::generate().public_key(), zapper])
                .unwrap_or_default()
        });
        assert_eq!(t.zaps.len(), 2);
        assert_eq!(t.total_msat, 26_000);
        assert_eq!(t.by_recipient[&bob.public_key().to_hex()], 26_000);
        assert_eq!(
            t.on(release.address.as_ref().unwrap()),
            TargetTotal {
                msat: 21_000,
                zaps: 1
            }
        );
        assert_eq!(
            t.on(&EventId::from_byte_array([4; 32]).to_hex()).msat,
            5_000
        );
        let why: Vec<&str> = t.refused.iter().map(|r| r.why.as_str()).collect();
        assert!(
            why.iter()
                .any(|w| w.contains("not by the recipient's zapper") || w.contains("signed by")),
            "{why:?}"
        );
        assert!(why.iter().any(|w| w.contains("already counted")), "{why:?}");
        // Nobody's zapper known: nothing counts.
        assert_eq!(tally(&[forged], |_| Vec::new()).total_msat, 0);
    }
}
