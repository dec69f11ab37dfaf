//! `GET /api/v1/seeders?release=…`: who in the swarm holds a release, asked of its trackers
//! and the DHT and then of each peer directly (as `seedstr mod seed-health` does). Asking
//! takes seconds, so answers are kept a while: release pages show the kept answer, or start
//! a check and say so, and never wait for the swarm.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Query, State};
use axum::Json;
use moka::future::Cache;
use seedstr_client::seeding::health::{seed_health, CountedHealth, HealthOptions};
use seedstr_proto::release::Release;
use serde::Serialize;

use super::release::chosen_release;
use super::{ApiError, ApiState};
use seedstr_client::reputation::Reputation;
use seedstr_client::seeding::seeder::DhtStateHandle;

/// How long one check answers for.
const KEPT_FOR: Duration = Duration::from_secs(120);
/// For each tracker exchange, the DHT lookup and each peer.
const ASK_TIMEOUT: Duration = Duration::from_secs(4);

/// What the swarm said of a release.
#[derive(Debug, Serialize)]
pub struct SeedersCheck {
    /// When it was asked (Unix seconds).
    pub checked_at: u64,
    /// Whether the DHT was asked for peers too.
    pub dht_asked: bool,
    /// The answers and their counts.
    #[serde(flatten)]
    pub counted: CountedHealth,
}

/// Recent checks by infohash; concurrent asks for one release share one check.
#[derive(Clone)]
pub struct SeedersCache {
    checks: Cache<String, Arc<SeedersCheck>>,
    dht: DhtStateHandle,
    /// Where this machine's peer reputation is kept.
    home: std::path::PathBuf,
}

impl SeedersCache {
    /// An empty cache, asking the DHT through `dht`, showing the reputation kept in `home`.
    pub fn new(dht: DhtStateHandle, home: &std::path::Path) -> SeedersCache {
        SeedersCache {
            checks: Cache::builder()
                .max_capacity(10_000)
                .time_to_live(KEPT_FOR)
                .build(),
            dht,
            home: home.to_owned(),
        }
    }

    /// A check of `release`, waiting for one when none is kept.
    pub async fn check(&self, release: &Release) -> Arc<SeedersCheck> {
        let dht = self.dht.node();
        let release = release.clone();
        let home = self.home.clone();
        self.checks
            .get_with(release.infohash_hex(), async move {
                let health = seed_health(
                    &release,
                    &HealthOptions {
                        dht: dht.as_ref(),
                        peers: Vec::new(),
                        trackers: true,
                        timeout: ASK_TIMEOUT,
                        reputation: Some(Reputation::load(&home)),
                    },
                )
                .await;
                Arc::new(SeedersCheck {
                    checked_at: seedstr_proto::clock::unix_now(),
                    dht_asked: dht.is_some(),
                    counted: health.counted(),
                })
            })
            .await
    }

    /// The kept check of `release`; with none kept, one starts in the background and this
    /// says `None`.
    pub async fn kept_or_start(&self, release: &Release) -> Option<Arc<SeedersCheck>> {
        if let Some(kept) = self.checks.get(&release.infohash_hex()).await {
            return Some(kept);
        }
        let me = self.clone();
        let release = release.clone();
        tokio::spawn(async move { me.check(&release).await });
        None
    }
}

/// The query of `/api/v1/seeders`.
#[derive(serde::Deserialize)]
pub struct SeedersParams {
    /// `<npub>/<ns>.<slug>[@<version>]`.
    pub release: String,
}

/// `GET /api/v1/seeders?release=…`: who in the swarm holds a release.
pub async fn seeders(
    State(s): State<Arc<ApiState>>,
    Query(p): Query<SeedersParams>,
) -> Result<Json<Arc<SeedersCheck>>, ApiError> {
    let chosen = chosen_release(&s, &p.release).await?;
    Ok(Json(s.seeders.check(&chosen.resolution.release).await))
}
