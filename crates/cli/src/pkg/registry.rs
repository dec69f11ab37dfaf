//! `seedstr pkg registry …` and `seedstr pkg revoke`: your publisher registry (who may publish
//! which name), the registries you trust, and revoking keys.

use std::path::Path;

use anyhow::{anyhow, bail, Result};
use clap::{Args, Subcommand};
use nostr::prelude::{Keys, PublicKey, Timestamp};
use seedstr_client::keys::store::{home, passphrase, KeyStore};
use seedstr_client::resolve::target::{npub, parse_public_key};
use seedstr_pkg::catalog::Sources;
use seedstr_pkg::maintain::{edit_registry, show_registries, RegistryEdit, RegistryEdited};
use seedstr_pkg::trust;
use seedstr_pkg::{Ecosystem, PackageName};
use serde_json::json;

use crate::dht::{DhtArgs, DhtWriteArgs};
use crate::net_args::{print_json, runtime, RelayArgs};
use crate::publish::warn_feed_update;

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
    let change = if allow {
        RegistryEdit::Allow {
            name: name.clone(),
            publisher,
        }
    } else {
        RegistryEdit::Disallow {
            name: name.clone(),
            publisher,
        }
    };
    let edited = apply_edit(home, &keys, &a.relay, &a.dht, &change)?;
    let verb = if allow {
        "may now publish"
    } else {
        "may no longer publish"
    };
    if a.json {
        print_json(
            &json!({"event": edited.event, "name": name.as_str(), "publisher": npub(&publisher), "allowed": allow, "dht": edited.dht}),
        );
    } else {
        println!(
            "{} {verb} {name} (registry event {})",
            npub(&publisher),
            edited.event
        );
    }
    Ok(())
}

/// Runs [`edit_registry`] and warns about what the DHT step could not do.
fn apply_edit(
    home: &Path,
    keys: &Keys,
    relay: &RelayArgs,
    dht: &DhtWriteArgs,
    change: &RegistryEdit,
) -> Result<RegistryEdited> {
    let options = dht.enabled().map(DhtArgs::options);
    let edited = runtime()?.block_on(edit_registry(
        home,
        keys,
        &relay.set(),
        options.as_ref(),
        change,
    ))?;
    warn_feed_update(&edited.dht, "sent to the relays");
    Ok(edited)
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
    let change = RegistryEdit::Revoke {
        key,
        since,
        reason: a.reason.clone(),
    };
    let edited = apply_edit(&home, &keys, &a.relay, &a.dht, &change)?;
    if a.json {
        print_json(
            &json!({"event": edited.event, "revoked": npub(&key), "since": since.as_secs(), "reason": a.reason, "dht": edited.dht}),
        );
    } else if key == keys.public_key() {
        println!(
            "revoked your own key {} (event {}): readers now refuse every package it signed",
            npub(&key),
            edited.event
        );
    } else {
        println!("revoked {} in your registry (event {}): readers who trust it refuse every package that key signed", npub(&key), edited.event);
    }
    Ok(())
}

fn show(home: &Path, a: ShowArgs) -> Result<()> {
    let sources = Sources {
        relays: a.relay.relays(),
        relay_timeout: a.relay.timeout(),
        trusted: trusted(home, &a.registries)?,
        home: home.to_owned(),
        cache: None,
    };
    let (registries, problems) = runtime()?.block_on(show_registries(&sources))?;
    for p in &problems {
        eprintln!("warning: {p}");
    }
    if a.json {
        print_json(&json!({ "registries": registries }));
        return Ok(());
    }
    for r in &registries {
        if !r.found {
            println!("registry {}: nothing found on the relays", r.registry);
            continue;
        }
        println!("registry {}", r.registry);
        for (c, keys) in r.publishers.iter().flatten() {
            for key in keys {
                println!("  {c}  {key}");
            }
        }
        for v in r.revoked.iter().flatten() {
            println!("  revoked {} since {}: {}", v.key, v.since, v.reason);
        }
    }
    Ok(())
}
