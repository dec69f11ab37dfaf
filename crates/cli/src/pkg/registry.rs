//! `seedstr pkg registry …` and `seedstr pkg revoke`: your publisher registry (who may publish
//! which name), the registries you trust, and revoking keys.

use std::path::Path;

use anyhow::{anyhow, bail, Result};
use clap::{Args, Subcommand};
use nostr::prelude::FinalizeEvent as _;
use nostr::prelude::{Event, Keys, PublicKey, Timestamp};
use seedstr_client::keystore::{home, passphrase, KeyStore};
use seedstr_client::own_events::OwnEvents;
use seedstr_client::relays::query_all;
use seedstr_client::target::{npub, parse_public_key};
use seedstr_pkg::catalog::{load_registry, Sources};
use seedstr_pkg::registry::{
    with_publisher, with_revoked, RegistryList, REGISTRY_D, REGISTRY_KIND,
};
use seedstr_pkg::trust;
use seedstr_pkg::{Ecosystem, PackageName};
use serde_json::json;

use crate::dht::{DhtArgs, DhtWriteArgs};
use crate::net_args::{print_json, runtime, RelayArgs};
use crate::publish::{announce_feed, send_and_keep};

#[derive(Subcommand)]
pub enum RegistryCommand {
    /// Allow a key to publish a package name, in your registry (which you then trust).
    Add(EditArgs),
    /// Take a key's right to publish a name out of your registry.
    Remove(EditArgs),
    /// Trust another maintainer's registry.
    Trust(KeyArg),
    /// Stop trusting a registry.
    Untrust(KeyArg),
    /// Show the trusted registries and what they say.
    Show(ShowArgs),
}

#[derive(Args)]
pub struct EditArgs {
    /// The package name, as its ecosystem spells it.
    name: String,
    /// The publisher's key (npub or hex).
    publisher: String,
    /// npm or cargo.
    #[arg(long, default_value = "npm")]
    ns: String,
    #[command(flatten)]
    relay: RelayArgs,
    #[command(flatten)]
    dht: DhtWriteArgs,
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
pub struct KeyArg {
    /// The registry maintainer's key (npub or hex).
    key: String,
}

#[derive(Args)]
pub struct ShowArgs {
    /// Also trust this registry for this command (npub or hex, repeatable).
    #[arg(long = "registry")]
    registries: Vec<String>,
    #[command(flatten)]
    relay: RelayArgs,
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
pub struct RevokeArgs {
    /// The key to revoke (npub or hex); with --self, your own.
    key: Option<String>,
    /// Revoke your own key: readers then refuse every package it signed, whoever maps it.
    #[arg(long = "self", conflicts_with = "key")]
    own: bool,
    /// Why (compromised, retired…), shown to everyone refused because of it.
    #[arg(long, default_value = "")]
    reason: String,
    /// When the key stopped being trustworthy (Unix seconds) [default: now].
    #[arg(long)]
    since: Option<u64>,
    #[command(flatten)]
    relay: RelayArgs,
    #[command(flatten)]
    dht: DhtWriteArgs,
    #[arg(long)]
    json: bool,
}

fn key_arg(text: &str) -> Result<PublicKey> {
    Ok(parse_public_key(text)?)
}

/// The trusted registries: the list kept in `$SEEDSTR_HOME`, plus `extra`.
pub fn trusted(home: &Path, extra: &[String]) -> Result<Vec<PublicKey>> {
    let mut keys = trust::load(home)?;
    for e in extra {
        let k = key_arg(e)?;
        if !keys.contains(&k) {
            keys.push(k);
        }
    }
    Ok(keys)
}

/// Your newest registry (your own copy, or the relays' when it is newer) and when it was
/// signed.
fn own_list(
    home: &Path,
    keys: &Keys,
    relay: &RelayArgs,
) -> Result<(RegistryList, Option<Timestamp>)> {
    let me = keys.public_key();
    let mut found: Vec<Event> = OwnEvents::new(home)
        .newest(&me, REGISTRY_KIND)
        .into_iter()
        .collect();
    let filter = json!({"kinds": [REGISTRY_KIND], "authors": [me.to_hex()], "#d": [REGISTRY_D]});
    let gathered = runtime()?.block_on(query_all(&relay.relays(), &filter, relay.timeout()));
    found.extend(gathered.events);
    match found.iter().max_by_key(|e| (e.created_at, e.id)) {
        Some(e) => Ok((RegistryList::from_event(e)?, Some(e.created_at))),
        None => Ok((RegistryList::default(), None)),
    }
}

/// Signs `list` as your registry and sends it, then puts it in your feed on the DHT (unless
/// `dht` is `None`) so readers find it with no relay. It is dated after the one it replaces
/// even within the same second: on a tie NIP-01 keeps the lower id, which could be the old
/// list. Returns the event and what the DHT step did (`null` when skipped); the relays
/// already hold the list, so a DHT failure is reported there, not raised.
fn sign_and_send(
    home: &Path,
    keys: &Keys,
    (list, previous): (&RegistryList, Option<Timestamp>),
    relay: &RelayArgs,
    dht: Option<&DhtArgs>,
) -> Result<(Event, serde_json::Value)> {
    let now = Timestamp::now();
    let at = match previous {
        Some(p) if p >= now => Timestamp::from(p.as_secs() + 1),
        _ => now,
    };
    let event = list.to_builder().custom_created_at(at).finalize(keys)?;
    send_and_keep(home, std::slice::from_ref(&event), relay)?;
    let Some(dht) = dht else {
        return Ok((event, serde_json::Value::Null));
    };
    let put = runtime()?.block_on(async {
        let node = dht.join().await?;
        announce_feed(home, keys, &relay.relays(), relay.timeout(), &node).await
    });
    let report = match put {
        Ok((_, feed)) => {
            json!({"feed": feed.infohash, "events": feed.events, "seq": feed.pointer.seq})
        }
        Err(e) => {
            eprintln!("warning: sent to the relays, but not put in your DHT feed: {e:#}; run `seedstr feed publish` to retry");
            json!({"error": format!("{e:#}")})
        }
    };
    Ok((event, report))
}

pub fn run(cmd: RegistryCommand) -> Result<()> {
    let home = home();
    match cmd {
        RegistryCommand::Add(a) => edit(&home, a, true),
        RegistryCommand::Remove(a) => edit(&home, a, false),
        RegistryCommand::Trust(k) => {
            let key = key_arg(&k.key)?;
            let mut keys = trust::load(&home)?;
            if !keys.contains(&key) {
                keys.push(key);
            }
            trust::save(&home, &keys)?;
            println!("trusting the registry of {}", npub(&key));
            Ok(())
        }
        RegistryCommand::Untrust(k) => {
            let key = key_arg(&k.key)?;
            let mut keys = trust::load(&home)?;
            let before = keys.len();
            keys.retain(|x| *x != key);
            if keys.len() == before {
                bail!("{} is not a trusted registry", npub(&key));
            }
            trust::save(&home, &keys)?;
            println!("no longer trusting the registry of {}", npub(&key));
            Ok(())
        }
        RegistryCommand::Show(a) => show(&home, a),
    }
}

fn edit(home: &Path, a: EditArgs, allow: bool) -> Result<()> {
    let ecosystem = Ecosystem::parse(&a.ns)
        .ok_or_else(|| anyhow!("--ns {:?}: packages are npm or cargo", a.ns))?;
    let name = PackageName::parse(ecosystem, &a.name)?;
    let publisher = key_arg(&a.publisher)?;
    let keys = KeyStore::new(home).load(&passphrase(false)?)?;
    let (mut list, previous) = own_list(home, &keys, &a.relay)?;
    let coordinate = name.coordinate();
    if allow {
        list = with_publisher(list, coordinate.clone(), publisher);
    } else {
        let removed = list
            .publishers
            .get_mut(&coordinate)
            .is_some_and(|set| set.remove(&publisher));
        if !removed {
            bail!("your registry does not map {name} to {}", npub(&publisher));
        }
        list.publishers.retain(|_, set| !set.is_empty());
    }
    let (event, dht) = sign_and_send(home, &keys, (&list, previous), &a.relay, a.dht.enabled())?;
    // Your own registry is one you trust.
    let mut trusted = trust::load(home)?;
    if !trusted.contains(&keys.public_key()) {
        trusted.push(keys.public_key());
        trust::save(home, &trusted)?;
    }
    let verb = if allow {
        "may now publish"
    } else {
        "may no longer publish"
    };
    if a.json {
        print_json(
            &json!({"event": event.id.to_hex(), "name": name.as_str(), "publisher": npub(&publisher), "allowed": allow, "dht": dht}),
        );
    } else {
        println!(
            "{} {verb} {name} (registry event {})",
            npub(&publisher),
            event.id
        );
    }
    Ok(())
}

pub fn revoke(a: RevokeArgs) -> Result<()> {
    let home = home();
    let keys = KeyStore::new(&home).load(&passphrase(false)?)?;
    let key = match (&a.key, a.own) {
        (_, true) => keys.public_key(),
        (Some(k), false) => key_arg(k)?,
        (None, false) => bail!("name the key to revoke, or give --self"),
    };
    let since = Timestamp::from(a.since.unwrap_or_else(|| Timestamp::now().as_secs()));
    let (list, previous) = own_list(&home, &keys, &a.relay)?;
    let list = with_revoked(list, key, since, &a.reason);
    let (event, dht) = sign_and_send(&home, &keys, (&list, previous), &a.relay, a.dht.enabled())?;
    if a.json {
        print_json(
            &json!({"event": event.id.to_hex(), "revoked": npub(&key), "since": since.as_secs(), "reason": a.reason, "dht": dht}),
        );
    } else if key == keys.public_key() {
        println!(
            "revoked your own key {} (event {}): readers now refuse every package it signed",
            npub(&key),
            event.id
        );
    } else {
        println!("revoked {} in your registry (event {}): readers who trust it refuse every package that key signed", npub(&key), event.id);
    }
    Ok(())
}

fn show(home: &Path, a: ShowArgs) -> Result<()> {
    let sources = Sources {
        relays: a.relay.relays(),
        relay_timeout: a.relay.timeout(),
        trusted: trusted(home, &a.registries)?,
        home: home.to_owned(),
    };
    let (registry, problems, _) = runtime()?.block_on(load_registry(&sources, None))?;
    for p in &problems {
        eprintln!("warning: {p}");
    }
    if a.json {
        let lists: Vec<_> = sources
            .trusted
            .iter()
            .map(|k| {
                let list = registry.lists.get(k);
                json!({
                    "registry": npub(k),
                    "found": list.is_some(),
                    "publishers": list.map(|l| l.publishers.iter().map(|(c, keys)| (c.to_string(), keys.iter().map(npub).collect::<Vec<_>>())).collect::<std::collections::BTreeMap<_, _>>()),
                    "revoked": list.map(|l| l.revoked.iter().map(|(k, (since, why))| json!({"key": npub(k), "since": since, "reason": why})).collect::<Vec<_>>()),
                })
            })
            .collect();
        print_json(&json!({ "registries": lists }));
        return Ok(());
    }
    for k in &sources.trusted {
        match registry.lists.get(k) {
            None => println!("registry {}: nothing found on the relays", npub(k)),
            Some(list) => {
                println!("registry {}", npub(k));
                for (c, keys) in &list.publishers {
                    for key in keys {
                        println!("  {c}  {}", npub(key));
                    }
                }
                for (key, (since, why)) in &list.revoked {
                    println!("  revoked {} since {since}: {why}", npub(key));
                }
            }
        }
    }
    Ok(())
}
