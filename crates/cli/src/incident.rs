//! The flags of `mod incident` and `pkg incident`, and the rendering of what
//! [`sign_incident`] did.

use anyhow::{Context, Result};
use clap::Args;
use nostr::prelude::PublicKey;
use seedstr_client::keys::store::{home, passphrase, KeyStore};
use seedstr_client::publish::incident::{sign_incident, IncidentRequest};
use seedstr_proto::incident::Severity;
use seedstr_proto::release::{Coordinate, VersionReq};

use crate::dht::{DhtArgs, DhtWriteArgs};
use crate::net_args::{print_json, runtime, RelayArgs};
use crate::publish::warn_feed_update;

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

/// Signs and sends an incident about `author`'s project `coordinate` ([`sign_incident`]; your
/// own key signs, and an incident about another author's project is shown, never enforced).
pub fn sign_incident_cmd(
    author: Option<PublicKey>,
    coordinate: &Coordinate,
    f: &IncidentFields,
) -> Result<()> {
    let home = home();
    let keys = KeyStore::new(&home).load(&passphrase(false)?)?;
    let req = IncidentRequest {
        author: author.unwrap_or(keys.public_key()),
        coordinate: coordinate.clone(),
        versions: VersionReq::parse(&f.versions)
            .with_context(|| format!("--versions {:?} is not a version range", f.versions))?,
        severity: Severity::parse(&f.severity).with_context(|| {
            format!(
                "--severity {:?}: use low, medium, high or critical",
                f.severity
            )
        })?,
        summary: f.summary.clone(),
        instructions: f.instructions.clone(),
        id: f.id.clone(),
        withdraw: f.withdraw,
    };
    let (versions, withdraw) = (req.versions.clone(), req.withdraw);
    let dht = f.dht.enabled().map(DhtArgs::options);
    let signed = runtime()?.block_on(sign_incident(
        &home,
        &keys,
        &f.relay.set(),
        dht.as_ref(),
        req,
    ))?;
    if signed.affected.is_empty() && !withdraw {
        eprintln!("warning: the relays hold no release of {coordinate} in {versions}; the incident is signed anyway");
    }
    warn_feed_update(&signed.feed, "the incident is on the relays");
    if f.json {
        print_json(&signed);
        return Ok(());
    }
    let verb = if withdraw { "withdrew" } else { "signed" };
    println!("{verb} incident {} ({})", signed.d, signed.incident);
    for v in &signed.affected {
        println!("  affects {coordinate}@{v}");
    }
    for a in &signed.answers {
        let verdict = if a.accepted { "accepted" } else { "refused" };
        println!("  {} {verdict} {}", a.relay, &a.event_id[..12]);
    }
    Ok(())
}
