//! `seedstr mod seed-health <release>`: who seeds a release, asked of its trackers, the DHT and
//! the peers themselves.

use std::time::Duration;

use anyhow::Result;
use clap::Args;
use seedstr_client::display::human_bytes;
use seedstr_client::keys::store::home;
use seedstr_client::reputation::{PeerRecord, Reputation};
use seedstr_client::resolve::resolve;
use seedstr_client::resolve::target::Target;
use seedstr_client::seeding::health::{seed_health, CountedHealth, HealthOptions, SeedHealth};
use seedstr_swarm::health::Holding;

use crate::net_args::{print_json, runtime, PeerArgs, RelayArgs};

#[derive(Args)]
pub struct SeedHealthArgs {
    /// <npub>/<ns>.<slug>[@<version>] (the newest version when none is given).
    release: Target,
    #[command(flatten)]
    relay: RelayArgs,
    #[command(flatten)]
    peer: PeerArgs,
    /// Seconds for each tracker exchange, the DHT lookup and each peer.
    #[arg(long, default_value_t = 10)]
    timeout: u64,
    #[arg(long)]
    pub json: bool,
}

/// `mod seed-health --json`.
#[derive(serde::Serialize)]
struct SeedHealthReport {
    /// Set when nobody seeds.
    error: Option<String>,
    release: String,
    event_id: String,
    #[serde(flatten)]
    counted: CountedHealth,
}

/// What this machine saw of a peer, in a line.
fn reputation_line(r: &PeerRecord) -> String {
    let mut line = format!(
        "seen here: {} delivered in {} transfer{}, {} good and {} bad pieces",
        human_bytes(r.delivered_bytes),
        r.transfers,
        if r.transfers == 1 { "" } else { "s" },
        r.good_pieces,
        r.bad_pieces
    );
    if let Some(ms) = r.first_piece_ms {
        line.push_str(&format!(", first piece in {ms} ms"));
    }
    let now = seedstr_proto::clock::unix_now();
    if let Some(until) = r.banned_until.filter(|_| r.banned(now)) {
        line.push_str(&format!(
            "; sent bad pieces, not asked for {} more minutes",
            (until - now).div_ceil(60)
        ));
    }
    line
}

/// Exits 1 when no peer answered as a seeder and no tracker counts one, so a cron job or a
/// monitor can alert on it.
pub fn seed_health_cmd(a: SeedHealthArgs) -> Result<()> {
    let rt = runtime()?;
    let resolution = rt.block_on(resolve(&a.release, &a.relay.relays(), a.relay.timeout()))?;
    let release = &resolution.release;
    let health = rt.block_on(async {
        let dht = a.peer.join_dht(false).await?;
        let opts = HealthOptions {
            dht: dht.as_ref(),
            peers: a.peer.peers.clone(),
            trackers: !a.peer.no_trackers,
            timeout: Duration::from_secs(a.timeout.max(1)),
            reputation: Some(Reputation::load(&home())),
        };
        anyhow::Ok(seed_health(release, &opts).await)
    })?;
    let name = release.d();
    let counted = health.counted();
    let verdict = (!counted.is_seeded()).then(|| format!("nobody is seeding {name}"));
    if a.json {
        print_json(&SeedHealthReport {
            error: verdict.clone(),
            release: name.clone(),
            event_id: resolution.event.id.to_hex(),
            counted,
        });
    } else {
        print_text(&name, &counted.health);
    }
    if let Some(verdict) = verdict {
        if a.json {
            // The JSON report above carries the verdict.
            return Err(crate::outcome::Reported.into());
        }
        anyhow::bail!("{verdict}");
    }
    Ok(())
}

fn print_text(name: &str, h: &SeedHealth) {
    println!("{name} ({}, {} pieces)", h.infohash, h.pieces);
    for t in &h.trackers {
        let counts = match (&t.counts, &t.scrape_error) {
            (Some(c), _) => format!(
                "{} seeders, {} leechers, {} completed",
                c.seeders, c.leechers, c.completed
            ),
            (None, Some(e)) => format!("no counts ({e})"),
            (None, None) => "no counts".into(),
        };
        let listed = match (&t.peers, &t.peers_error) {
            (Some(n), _) => format!("{n} peers listed"),
            (None, Some(e)) => format!("no peer list ({e})"),
            (None, None) => String::new(),
        };
        println!("  tracker {}: {counts}; {listed}", t.url);
    }
    match h.dht_peers {
        Some(n) => println!("  DHT: {n} peers announced"),
        None => println!("  DHT: not asked"),
    }
    for p in &h.peers {
        let state = match (&p.report, &p.error) {
            (Some(r), _) => {
                let holds = match r.holding {
                    Holding::Everything => "seeder".to_string(),
                    Holding::Part { pieces, of } => format!("has {pieces} of {of} pieces"),
                    Holding::Nothing => "has nothing yet".to_string(),
                };
                match &r.client {
                    Some(c) => format!("{holds} ({c})"),
                    None => holds,
                }
            }
            (None, Some(e)) => format!("unreachable: {e}"),
            (None, None) => "unknown".into(),
        };
        println!("  peer {} [{}]: {state}", p.addr, p.named_by.join(", "));
        if let Some(r) = &p.reputation {
            println!("    {}", reputation_line(r));
        }
    }
    println!(
        "{} seeders, {} downloading, {} unreachable among {} peers",
        h.seeders(),
        h.partial(),
        h.unreachable(),
        h.peers.len()
    );
}
