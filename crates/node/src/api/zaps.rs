//! Zap totals for the node's API and pages: the receipts in this node's store, each checked
//! against its recipient's zapper key and counted once ([`seedstr_pay::totals`]).

use nostr::prelude::PublicKey;
use seedstr_mods::page::ProjectPage;
use seedstr_pay::totals::{zaps_on, zaps_to, Totals, Zapped};

use super::{ApiError, ApiState};

/// The zaps on a project: on the project itself and on each of its versions.
pub async fn project_zaps(s: &ApiState, page: &ProjectPage) -> Result<Totals, ApiError> {
    let things: Vec<Zapped> = page.zappable().into_iter().map(Zapped::from).collect();
    Ok(zaps_on(s, &things, &s.zappers).await?)
}

/// The zaps on one addressable event (a release, a collection).
pub async fn address_zaps(
    s: &ApiState,
    address: &str,
    zap_target: Option<String>,
) -> Result<Totals, ApiError> {
    let things = [Zapped {
        address: address.to_owned(),
        zap_target,
    }];
    Ok(zaps_on(s, &things, &s.zappers).await?)
}

/// Every zap to `person`.
pub async fn person_zaps(s: &ApiState, person: &PublicKey) -> Result<Totals, ApiError> {
    Ok(zaps_to(s, person, &s.zappers).await?)
}
