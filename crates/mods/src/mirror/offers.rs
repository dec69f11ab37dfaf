//! An author's side of seeder offers: the mirrors that asked to be named in their projects'
//! zap splits, each offer verified, each mirror's newest per project, with whether a share
//! could reach the mirror (its profile names a lightning address).

use nostr::prelude::PublicKey;
use seedstr_client::relays::source::{lightning_addresses, EventSource, SourceError};
use seedstr_client::resolve::target::npub;
use seedstr_proto::event::newest_by_address;
use serde_json::json;

use crate::events::seeder_offer::SeederOffer;
use crate::events::SEEDER_OFFER_KIND;

/// The most offers read.
pub const MAX_OFFERS: usize = 1_000;

/// One mirror's offer to be named in a project's splits.
#[derive(Debug, Clone, serde::Serialize)]
pub struct OfferEntry {
    /// The mirror (npub).
    pub mirror: String,
    /// The mirror's key (hex), as a split names it.
    pub mirror_hex: String,
    /// The project, `<ns>.<slug>`.
    pub project: String,
    /// The versions it says it seeds.
    pub versions: Vec<String>,
    /// Its word to the author.
    pub text: String,
    /// When it asked (Unix seconds).
    pub at: u64,
    /// The lightning address its profile names, where its share would go; none: a share to it
    /// could not be paid.
    pub lightning_address: Option<String>,
}

/// The offers `source` holds naming `author`'s projects, newest first.
pub async fn offers_to(
    source: &impl EventSource,
    author: &PublicKey,
) -> Result<Vec<OfferEntry>, SourceError> {
    let found = source
        .events(json!({"kinds": [SEEDER_OFFER_KIND], "#p": [author.to_hex()], "limit": MAX_OFFERS}))
        .await?;
    let mut offers: Vec<(PublicKey, SeederOffer, u64)> = newest_by_address(found.iter())
        .into_iter()
        .filter_map(|e| {
            let o = SeederOffer::from_event(e).ok()?;
            (o.project_author == *author).then_some((e.pubkey, o, e.created_at.as_secs()))
        })
        .collect();
    offers.sort_by_key(|o| std::cmp::Reverse(o.2));
    let addresses = lightning_addresses(source, offers.iter().map(|(m, _, _)| m)).await?;
    Ok(offers
        .into_iter()
        .map(|(mirror, o, at)| OfferEntry {
            mirror: npub(&mirror),
            mirror_hex: mirror.to_hex(),
            project: o.coordinate.to_string(),
            versions: o.versions.iter().map(ToString::to_string).collect(),
            text: o.text,
            at,
            lightning_address: addresses.get(&mirror).cloned(),
        })
        .collect())
}
