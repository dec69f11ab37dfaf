//! Curators and the community: reviews, compatibility and bug reports, support messages, a
//! project's page (`mod info`), relay policies and governance.

use anyhow::{bail, Context, Result};
use clap::{Args, Subcommand};
use nostr::prelude::{Event, EventBuilder, FinalizeEvent as _, Keys, PublicKey};
use seedstr_client::http::relay_operator;
use seedstr_client::keystore::{home, passphrase, KeyStore};
use seedstr_client::relays::{list_failures, query_all, PublishAnswer};
use seedstr_client::target::{parse_public_key, Target};
use seedstr_mods::events::curation::{
    rating_summary, BugReport, BugStatus, CompatReport, CompatStatus, Review, SupportMessage,
};
use seedstr_mods::events::governance::{tally, Proposal, Quorum, Vote};
use seedstr_mods::events::incident::Incident;
use seedstr_mods::events::relay_policy::RelayPolicy;
use seedstr_mods::events::{
    ReleaseRef, BUG_KIND, COMPAT_KIND, INCIDENT_KIND, PROPOSAL_KIND, RELAY_POLICY_KIND,
    REVIEW_KIND, SUPPORT_KIND, VOTE_KIND,
};
use seedstr_proto::event::newest_by_address;
use seedstr_proto::release::{Coordinate, Project, Release, PROJECT_KIND, RELEASE_KIND};
use serde_json::{json, Value};

use crate::net_args::{print_json, runtime, RelayArgs};

#[derive(Args)]
pub struct Common {
    #[command(flatten)]
    relay: RelayArgs,
    #[arg(long)]
    pub json: bool,
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Signs `builder` with the stored key, then [`crate::publish::send_and_keep`].
fn sign_and_send(builder: EventBuilder, c: &Common) -> Result<(Event, Vec<PublishAnswer>)> {
    let home = home();
    let keys: Keys = KeyStore::new(&home).load(&passphrase(false)?)?;
    let event = builder.finalize(&keys)?;
    let answers = crate::publish::send_and_keep(&home, std::slice::from_ref(&event), &c.relay)?;
    Ok((event, answers))
}

fn report_sent(what: &str, event: &Event, answers: &[PublishAnswer], json: bool) {
    if json {
        print_json(&json!({ "event_id": event.id.to_hex(), "answers": answers }));
    } else {
        println!("sent {what} {}", event.id.to_hex());
    }
}

async fn query_async(c: &RelayArgs, filter: Value) -> Result<Vec<Event>> {
    let g = query_all(&c.relays(), &filter, c.timeout()).await;
    if g.answered.is_empty() {
        bail!("no relay answered: {}", list_failures(&g.failed));
    }
    Ok(g.events)
}

fn query(c: &RelayArgs, filter: Value) -> Result<Vec<Event>> {
    runtime()?.block_on(query_async(c, filter))
}

#[derive(Args)]
pub struct ReviewArgs {
    /// <npub>/<game>.<slug>@<version>
    release: ReleaseRef,
    /// 1 to 5.
    #[arg(long)]
    rating: u8,
    #[arg(long, default_value = "")]
    text: String,
    #[command(flatten)]
    pub common: Common,
}

pub fn review(a: ReviewArgs) -> Result<()> {
    if !(1..=5).contains(&a.rating) {
        bail!("--rating {} is not from 1 to 5", a.rating);
    }
    let r = Review {
        release: a.release,
        rating: a.rating,
        text: a.text,
    };
    let (e, answers) = sign_and_send(r.to_builder(), &a.common)?;
    report_sent("review", &e, &answers, a.common.json);
    Ok(())
}

#[derive(Args)]
pub struct CompatArgs {
    release: ReleaseRef,
    #[arg(long)]
    game_version: String,
    /// works, issues or broken.
    #[arg(long)]
    status: String,
    /// A release it was tested with, <npub>/<game>.<slug>@<version> (repeatable).
    #[arg(long)]
    with: Vec<ReleaseRef>,
    #[arg(long, default_value = "")]
    notes: String,
    #[command(flatten)]
    pub common: Common,
}

pub fn compat(a: CompatArgs) -> Result<()> {
    seedstr_proto::release::check_game_version(&a.game_version)?;
    let status = CompatStatus::parse(&a.status)
        .with_context(|| format!("--status {:?}: use works, issues or broken", a.status))?;
    let r = CompatReport {
        release: a.release,
        game_version: a.game_version,
        status,
        with: a.with,
        notes: a.notes,
    };
    let (e, answers) = sign_and_send(r.to_builder(), &a.common)?;
    report_sent("compatibility report", &e, &answers, a.common.json);
    Ok(())
}

#[derive(Args)]
pub struct BugArgs {
    release: ReleaseRef,
    #[arg(long)]
    title: String,
    #[arg(long, default_value = "")]
    text: String,
    /// open, confirmed, fixed or wontfix.
    #[arg(long, default_value = "open")]
    status: String,
    /// Names the report; reuse it to update the report [default: the current unix time].
    #[arg(long)]
    id: Option<String>,
    #[command(flatten)]
    pub common: Common,
}

pub fn bug(a: BugArgs) -> Result<()> {
    let status = BugStatus::parse(&a.status).with_context(|| {
        format!(
            "--status {:?}: use open, confirmed, fixed or wontfix",
            a.status
        )
    })?;
    let r = BugReport {
        release: a.release,
        id: a.id.unwrap_or_else(|| now().to_string()),
        title: a.title,
        status,
        text: a.text,
    };
    let (e, answers) = sign_and_send(r.to_builder(), &a.common)?;
    report_sent("bug report", &e, &answers, a.common.json);
    Ok(())
}

#[derive(Args)]
pub struct SupportArgs {
    /// <npub>/<game>.<slug>
    project: Target,
    #[arg(long)]
    text: String,
    #[command(flatten)]
    pub common: Common,
}

pub fn support(a: SupportArgs) -> Result<()> {
    let m = SupportMessage {
        project_author: a.project.author,
        coordinate: a.project.coordinate,
        id: now().to_string(),
        text: a.text,
    };
    let (e, answers) = sign_and_send(m.to_builder(), &a.common)?;
    report_sent("support message", &e, &answers, a.common.json);
    Ok(())
}

#[derive(Args)]
pub struct InfoArgs {
    /// <npub>/<game>.<slug>
    project: Target,
    #[command(flatten)]
    pub common: Common,
}

/// A project's page: the project, its releases, incidents, and what people say about each release.
pub fn info(a: InfoArgs) -> Result<()> {
    let author = a.project.author;
    let coordinate = a.project.coordinate;
    let project_address = coordinate.project_address(&author);
    let relay = &a.common.relay;
    let rt = runtime()?;
    // The project has no `a` tag, so it needs its own filter; both go out at once.
    let (events, project_events) = rt.block_on(async {
        tokio::join!(
            query_async(
                relay,
                json!({"kinds": [RELEASE_KIND, INCIDENT_KIND, SUPPORT_KIND], "#a": [project_address]}),
            ),
            query_async(
                relay,
                json!({"kinds": [PROJECT_KIND], "authors": [author.to_hex()], "#d": [coordinate.d()]}),
            ),
        )
    });
    let (events, project_events) = (events?, project_events?);
    let current = newest_by_address(&events);
    let project = newest_by_address(&project_events)
        .into_iter()
        .find_map(|e| {
            Project::from_event(e)
                .ok()
                .filter(|p| p.coordinate == coordinate)
        });
    let mut releases: Vec<(Release, &Event)> = current
        .iter()
        .copied()
        .filter(|e| e.pubkey == author)
        .filter_map(|e| Release::from_event(e).ok().map(|r| (r, e)))
        .filter(|(r, _)| r.coordinate == coordinate)
        .collect();
    releases.sort_by(|x, y| y.0.version.cmp(&x.0.version));
    if project.is_none() && releases.is_empty() {
        bail!(
            "no relay holds {}",
            Target {
                author,
                coordinate,
                version: None
            }
        );
    }
    let incidents: Vec<(Incident, PublicKey)> = current
        .iter()
        .filter_map(|e| Incident::from_event(e).ok().map(|i| (i, e.pubkey)))
        .filter(|(i, _)| i.coordinate == coordinate && i.project_author == author)
        .collect();
    let support = current
        .iter()
        .filter(|e| SupportMessage::from_event(e).is_ok())
        .count();
    let addresses: Vec<String> = releases
        .iter()
        .map(|(r, _)| {
            ReleaseRef {
                author,
                coordinate: r.coordinate.clone(),
                version: r.version.clone(),
            }
            .address()
        })
        .collect();
    let said = if addresses.is_empty() {
        Vec::new()
    } else {
        rt.block_on(query_async(
            relay,
            json!({"kinds": [REVIEW_KIND, COMPAT_KIND, BUG_KIND], "#a": addresses}),
        ))?
    };
    let said = newest_by_address(&said);
    let mut out_releases = Vec::new();
    for ((r, e), address) in releases.iter().zip(&addresses) {
        let names =
            |e: &Event| seedstr_proto::event::first_tag_value(e, "a") == Some(address.as_str());
        let reviews: Vec<(PublicKey, Review)> = said
            .iter()
            .filter(|e| names(e))
            .filter_map(|e| Review::from_event(e).ok().map(|r| (e.pubkey, r)))
            .collect();
        let compat: Vec<Value> = said
            .iter()
            .filter(|e| names(e))
            .filter_map(|e| CompatReport::from_event(e).ok())
            .map(|c| json!({"game_version": c.game_version, "status": c.status, "with": c.with.iter().map(|w| w.to_string()).collect::<Vec<_>>(), "notes": c.notes}))
            .collect();
        let bugs: Vec<Value> = said
            .iter()
            .filter(|e| names(e))
            .filter_map(|e| BugReport::from_event(e).ok())
            .map(|b| json!({"title": b.title, "status": b.status}))
            .collect();
        let withdrawn: Vec<&str> = incidents
            .iter()
            .filter(|(i, signer)| i.is_authoritative(signer) && i.affects(&r.version))
            .map(|(i, _)| i.summary.as_str())
            .collect();
        out_releases.push(json!({
            "version": r.version.to_string(),
            "event_id": e.id.to_hex(),
            "infohash": r.infohash_hex(),
            "files": r.files.len(),
            "bytes": r.total_size(),
            "game_versions": r.game_versions,
            "dependencies": r.dependencies.iter().map(|d| json!({"project": d.project_address(), "versions": d.range.to_string(), "kind": d.kind})).collect::<Vec<_>>(),
            "zap_target": r.zap_target,
            "changelog": r.changelog,
            "rating": rating_summary(&reviews).map(|(avg, n)| json!({"average": avg, "reviews": n})),
            "reviews": reviews.iter().map(|(who, r)| json!({"by": who.to_hex(), "rating": r.rating, "text": r.text})).collect::<Vec<_>>(),
            "compatibility": compat,
            "bugs": bugs,
            "withdrawn": withdrawn,
        }));
    }
    let page = json!({
        "project": coordinate.to_string(),
        "author": author.to_hex(),
        "name": project.as_ref().map(|p| p.name.clone()),
        "summary": project.as_ref().map(|p| p.summary.clone()),
        "description": project.as_ref().map(|p| p.description.clone()),
        "releases": out_releases,
        "incidents": incidents.iter().map(|(i, signer)| json!({
            "id": i.id, "versions": i.versions.to_string(), "severity": i.severity, "summary": i.summary,
            "withdrawn": i.withdrawn, "from_author": i.is_authoritative(signer),
        })).collect::<Vec<_>>(),
        "support_messages": support,
    });
    if a.common.json {
        print_json(&page);
        return Ok(());
    }
    println!(
        "{} — {}",
        page["name"].as_str().unwrap_or(&coordinate.slug),
        coordinate
    );
    if let Some(s) = page["summary"].as_str().filter(|s| !s.is_empty()) {
        println!("  {s}");
    }
    for i in page["incidents"].as_array().into_iter().flatten() {
        let who = if i["from_author"] == true {
            "author"
        } else {
            "not the author"
        };
        println!(
            "  INCIDENT ({who}) {} {}: {}",
            i["severity"].as_str().unwrap_or(""),
            i["versions"].as_str().unwrap_or(""),
            i["summary"].as_str().unwrap_or("")
        );
    }
    for r in page["releases"].as_array().into_iter().flatten() {
        let rating = match r["rating"].is_null() {
            true => "no reviews".to_owned(),
            false => format!(
                "{:.1}/5 from {}",
                r["rating"]["average"].as_f64().unwrap_or(0.0),
                r["rating"]["reviews"]
            ),
        };
        let withdrawn = if r["withdrawn"].as_array().is_some_and(|w| !w.is_empty()) {
            " WITHDRAWN"
        } else {
            ""
        };
        println!(
            "  {}{withdrawn}: {} files, {rating}, {} compatibility report(s), {} bug(s)",
            r["version"].as_str().unwrap_or(""),
            r["files"],
            r["compatibility"].as_array().map_or(0, Vec::len),
            r["bugs"].as_array().map_or(0, Vec::len)
        );
    }
    println!("  {support} support message(s)");
    Ok(())
}

#[derive(Subcommand)]
pub enum PolicyCommand {
    /// Sign your relay's policy (30086); sign with the key your relay's NIP-11 `pubkey` names.
    Publish(Box<PolicyPublishArgs>),
    /// Show the policies of the relays you use, marking those signed by each relay's operator.
    Show(Common),
}

#[derive(Args)]
pub struct PolicyPublishArgs {
    /// The relay the policy is about, ws:// or wss://.
    #[arg(long)]
    relay_url: String,
    #[arg(long)]
    retention: String,
    #[arg(long)]
    jurisdiction: String,
    #[arg(long)]
    moderation: String,
    /// An accepted kind (repeatable).
    #[arg(long = "kind")]
    kinds: Vec<u16>,
    #[arg(long, default_value = "")]
    text: String,
    #[command(flatten)]
    pub common: Common,
}

pub fn policy(cmd: PolicyCommand) -> Result<()> {
    match cmd {
        PolicyCommand::Publish(a) => {
            let p = RelayPolicy {
                relay: a.relay_url.trim_end_matches('/').to_owned(),
                retention: a.retention,
                jurisdiction: a.jurisdiction,
                moderation: a.moderation,
                kinds: a.kinds,
                text: a.text,
            };
            if !(p.relay.starts_with("ws://") || p.relay.starts_with("wss://")) {
                bail!("--relay-url {:?} is not a ws:// or wss:// URL", p.relay);
            }
            let (e, answers) = sign_and_send(p.to_builder(), &a.common)?;
            report_sent("relay policy", &e, &answers, a.common.json);
            Ok(())
        }
        PolicyCommand::Show(c) => {
            let relays: Vec<String> = c
                .relay
                .relays()
                .iter()
                .map(|r| r.trim_end_matches('/').to_owned())
                .collect();
            let events = query(
                &c.relay,
                json!({"kinds": [RELAY_POLICY_KIND], "#d": relays}),
            )?;
            let rt = runtime()?;
            let mut out = Vec::new();
            for relay in &relays {
                let operator = rt
                    .block_on(relay_operator(relay, c.relay.timeout()))
                    .unwrap_or_else(|e| {
                        eprintln!("warning: {relay}: no NIP-11 document ({e})");
                        None
                    });
                for e in newest_by_address(&events) {
                    let Ok(p) = RelayPolicy::from_event(e) else {
                        continue;
                    };
                    if p.relay != *relay {
                        continue;
                    }
                    let by_operator = operator.as_deref() == Some(e.pubkey.to_hex().as_str());
                    out.push(json!({"policy": p, "signer": e.pubkey.to_hex(), "by_operator": by_operator}));
                }
            }
            if c.json {
                print_json(&json!({ "policies": out }));
                return Ok(());
            }
            for p in &out {
                let mark = if p["by_operator"] == true {
                    "operator"
                } else {
                    "NOT the operator"
                };
                println!(
                    "{} ({mark}): retention {}, jurisdiction {}, moderation {}",
                    p["policy"]["relay"].as_str().unwrap_or(""),
                    p["policy"]["retention"].as_str().unwrap_or(""),
                    p["policy"]["jurisdiction"].as_str().unwrap_or(""),
                    p["policy"]["moderation"].as_str().unwrap_or("")
                );
            }
            Ok(())
        }
    }
}

#[derive(Args)]
pub struct ProposeArgs {
    /// The namespace it concerns: a game id, or `openmods` for all.
    ns: String,
    slug: String,
    #[arg(long)]
    title: String,
    #[arg(long, default_value = "")]
    text: String,
    /// An option (at least two).
    #[arg(long = "option", required = true)]
    options: Vec<String>,
    /// Votes needed for a decision.
    #[arg(long)]
    min_voters: u32,
    /// Share of the votes the winning option needs, in percent.
    #[arg(long, default_value_t = 50)]
    threshold: u8,
    /// How long voting stays open, in seconds.
    #[arg(long)]
    open_secs: u64,
    /// Who may vote, npub or hex (repeatable) [default: anyone].
    #[arg(long = "voter")]
    voters: Vec<String>,
    #[command(flatten)]
    pub common: Common,
}

pub fn propose(a: ProposeArgs) -> Result<()> {
    Coordinate::new(&a.ns, &a.slug)?;
    if a.options.len() < 2 {
        bail!("a proposal needs at least two --option");
    }
    if !(1..=100).contains(&a.threshold) {
        bail!(
            "--threshold {} is not a percentage from 1 to 100",
            a.threshold
        );
    }
    let p = Proposal {
        ns: a.ns,
        slug: a.slug,
        title: a.title,
        text: a.text,
        options: a.options,
        quorum: Quorum {
            min_voters: a.min_voters,
            threshold_percent: a.threshold,
        },
        closes: now() + a.open_secs,
        electorate: a
            .voters
            .iter()
            .map(|v| parse_public_key(v))
            .collect::<Result<_, _>>()?,
    };
    let (e, answers) = sign_and_send(p.to_builder(), &a.common)?;
    let address = p.address(&e.pubkey);
    if a.common.json {
        print_json(
            &json!({"event_id": e.id.to_hex(), "proposal": address, "closes": p.closes, "answers": answers}),
        );
    } else {
        println!("proposed {address}, open until {}", p.closes);
    }
    Ok(())
}

/// Reads `<npub>/<ns>.proposal.<slug>` or the address `30100:<hex>:<d>`.
fn proposal_address(s: &str) -> Result<(PublicKey, String)> {
    if let Some(rest) = s.strip_prefix(&format!("{PROPOSAL_KIND}:")) {
        let (a, d) = rest.split_once(':').context("not a proposal address")?;
        return Ok((parse_public_key(a)?, d.to_owned()));
    }
    let (a, d) = s
        .split_once('/')
        .with_context(|| format!("{s:?} is not <npub>/<ns>.proposal.<slug>"))?;
    Ok((parse_public_key(a)?, d.to_owned()))
}

#[derive(Args)]
pub struct VoteArgs {
    /// <npub>/<ns>.proposal.<slug>
    proposal: String,
    #[arg(long)]
    option: String,
    #[arg(long, default_value = "")]
    reason: String,
    #[command(flatten)]
    pub common: Common,
}

fn fetch_proposal(relay: &RelayArgs, author: &PublicKey, d: &str) -> Result<Proposal> {
    let events = query(
        relay,
        json!({"kinds": [PROPOSAL_KIND], "authors": [author.to_hex()], "#d": [d]}),
    )?;
    let newest = newest_by_address(events.iter().filter(|e| e.pubkey == *author))
        .pop()
        .with_context(|| format!("no relay holds the proposal {d}"))?;
    Ok(Proposal::from_event(newest)?)
}

pub fn vote(a: VoteArgs) -> Result<()> {
    let (author, d) = proposal_address(&a.proposal)?;
    let p = fetch_proposal(&a.common.relay, &author, &d)?;
    if !p.options.contains(&a.option) {
        bail!(
            "{:?} is not an option of {d}; the options are {}",
            a.option,
            p.options.join(", ")
        );
    }
    if now() > p.closes {
        bail!("{d} closed at {}; a vote now would not count", p.closes);
    }
    let v = Vote {
        proposal: p.address(&author),
        option: a.option,
        reason: a.reason,
    };
    let (e, answers) = sign_and_send(v.to_builder(), &a.common)?;
    report_sent("vote", &e, &answers, a.common.json);
    Ok(())
}

#[derive(Args)]
pub struct TallyArgs {
    proposal: String,
    #[command(flatten)]
    pub common: Common,
}

pub fn tally_cmd(a: TallyArgs) -> Result<()> {
    let (author, d) = proposal_address(&a.proposal)?;
    let p = fetch_proposal(&a.common.relay, &author, &d)?;
    let votes = query(
        &a.common.relay,
        json!({"kinds": [VOTE_KIND], "#a": [p.address(&author)]}),
    )?;
    let t = tally(&p, &author, &votes, now());
    if a.common.json {
        print_json(
            &json!({"proposal": p.address(&author), "title": p.title, "quorum": p.quorum, "closes": p.closes, "tally": t}),
        );
        return Ok(());
    }
    println!(
        "{} ({} voters; quorum {} voters, {}%)",
        p.title, t.voters, p.quorum.min_voters, p.quorum.threshold_percent
    );
    for (o, n) in &t.counts {
        println!("  {o}: {n}");
    }
    println!(
        "  outcome: {}",
        serde_json::to_value(&t.outcome)?["state"]
            .as_str()
            .unwrap_or("")
    );
    for (who, why) in &t.ignored {
        println!("  ignored vote by {who}: {why}");
    }
    Ok(())
}
