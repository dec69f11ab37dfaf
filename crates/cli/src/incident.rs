//! Signing a security incident (30085) about one of your projects, mods and packages alike: the
//! affected releases found on the relays, the incident and its NIP-56 report sent, and the
//! author's DHT feed rewritten so readers without relays see it too.

use anyhow::{bail, Context, Result};
use clap::Args;
use nostr::prelude::{EventId, FinalizeEvent as _, PublicKey};
use seedstr_client::keystore::{home, passphrase, KeyStore};
use seedstr_client::relays::{list_failures, query_all};
use seedstr_proto::incident::{Incident, Severity};
use seedstr_proto::release::{Coordinate, Release, VersionReq, RELEASE_KIND};
use serde_json::json;

use crate::dht::DhtWriteArgs;
use crate::net_args::{print_json, runtime, RelayArgs};
use seedstr_client::feed::announce_feed;
use seedstr_client::outbox::send_and_keep;

/// What an incident says, and where it goes.
#[derive(Args)]
pub struct IncidentFields {
    /// Affected versions, a range: "=1.1.0", ">=1.1.0, <1.2.0".
    #[arg(long)]
    versions: String,
    /// One line: what happened.
    #[arg(long)]
    summary: String,
    /// low, medium, high or critical.
    #[arg(long, default_value = "high")]
    severity: String,
    /// What users should do (Markdown).
    #[arg(long, default_value = "")]
    instructions: String,
    /// Names the incident among the project's [default: the current unix time].
    #[arg(long)]
    id: Option<String>,
    /// Take the incident back (a false alarm); use the same --id.
    #[arg(long, requires = "id")]
    withdraw: bool,
    #[command(flatten)]
    relay: RelayArgs,
    /// Readers without relays read incidents in your DHT feed; --no-dht leaves it as it is.
    #[command(flatten)]
    dht: DhtWriteArgs,
    #[arg(long)]
    json: bool,
}

/// Signs and sends an incident about `author`'s project `coordinate` (your own key signs; an
/// incident about another author's project is shown to readers, never enforced).
pub fn sign_incident(
    author: Option<PublicKey>,
    coordinate: &Coordinate,
    f: &IncidentFields,
) -> Result<()> {
    let home = home();
    let keys = KeyStore::new(&home).load(&passphrase(false)?)?;
    let author = author.unwrap_or(keys.public_key());
    let versions = VersionReq::parse(&f.versions)
        .with_context(|| format!("--versions {:?} is not a version range", f.versions))?;
    let severity = Severity::parse(&f.severity).with_context(|| {
        format!(
            "--severity {:?}: use low, medium, high or critical",
            f.severity
        )
    })?;
    let rt = runtime()?;
    // The affected releases, so the incident and the NIP-56 report can name their events.
    let gathered = rt.block_on(query_all(
        &f.relay.relays(),
        &json!({"kinds": [RELEASE_KIND], "authors": [author.to_hex()], "#a": [coordinate.project_address(&author)]}),
        f.relay.timeout(),
    ));
    if gathered.answered.is_empty() {
        bail!("no relay answered: {}", list_failures(&gathered.failed));
    }
    let affected: Vec<(EventId, Release)> = gathered
        .events
        .iter()
        .filter_map(|e| Release::from_event(e).ok().map(|r| (e.id, r)))
        .filter(|(_, r)| r.coordinate == *coordinate && versions.matches(&r.version))
        .collect();
    if affected.is_empty() && !f.withdraw {
        eprintln!("warning: the relays hold no release of {coordinate} in {versions}; the incident is signed anyway");
    }
    let incident = Incident {
        project_author: author,
        coordinate: coordinate.clone(),
        id: f
            .id
            .clone()
            .unwrap_or_else(|| seedstr_proto::clock::unix_now().to_string()),
        versions,
        severity,
        summary: f.summary.clone(),
        instructions: f.instructions.clone(),
        affected_events: affected.iter().map(|(id, _)| *id).collect(),
        withdrawn: f.withdraw,
    };
    let event = incident.to_builder().finalize(&keys)?;
    let mut events = vec![event.clone()];
    if !f.withdraw {
        let refs: Vec<(EventId, &Release)> = affected.iter().map(|(id, r)| (*id, r)).collect();
        events.push(incident.malware_report(&refs).finalize(&keys)?);
    }
    let answers = rt.block_on(send_and_keep(&home, &events, &f.relay.set()))?;
    // The feed holds the author's kept events, the incident now among them: readers whose
    // relays are down read it there. The relays have it already, so a failure only warns.
    let feed = f.dht.enabled().map(|dht| {
        rt.block_on(async {
            let node = dht.join().await?;
            let done = announce_feed(&home, &keys, &f.relay.set(), &node).await?;
            crate::publish::warn_unattested(done.attestation_accepted);
            anyhow::Ok(done)
        })
    });
    if let Some(Err(e)) = &feed {
        eprintln!(
            "warning: the incident is on the relays, but rewriting your DHT feed failed: {e:#}"
        );
    }
    if f.json {
        print_json(&json!({
            "incident": event.id.to_hex(),
            "report": events.get(1).map(|e| e.id.to_hex()),
            "d": incident.d(),
            "affected": affected.iter().map(|(_, r)| r.version.to_string()).collect::<Vec<_>>(),
            "answers": answers,
            "feed": feed.and_then(Result::ok).map(|done| done.feed.infohash),
        }));
        return Ok(());
    }
    let verb = if f.withdraw { "withdrew" } else { "signed" };
    println!("{verb} incident {} ({})", incident.d(), event.id.to_hex());
    for (_, r) in &affected {
        println!("  affects {}@{}", r.coordinate, r.version);
    }
    for a in &answers {
        let verdict = if a.accepted { "accepted" } else { "refused" };
        println!("  {} {verdict} {}", a.relay, &a.event_id[..12]);
    }
    Ok(())
}
