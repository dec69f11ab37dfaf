//! Curators and the community: reviews, compatibility and bug reports, support messages, a
//! project's page (`mod info`), relay policies and governance.

use anyhow::{bail, Context, Result};
use clap::{Args, Subcommand};
use nostr::prelude::{EventBuilder, Keys};
use seedstr_client::keys::store::{home, passphrase, KeyStore};
use seedstr_client::publish::outbox::{self, Sent};
use seedstr_client::resolve::target::{parse_public_key, Target};
use seedstr_mods::events::curation::{
    BugReport, BugStatus, CompatReport, CompatStatus, Review, SupportMessage,
};
use seedstr_mods::events::governance::{Proposal, Quorum};
use seedstr_mods::events::relay_policy::RelayPolicy;
use seedstr_mods::events::ReleaseRef;
use seedstr_mods::governance::{fetch_proposal, parse_proposal_address, tally_proposal, vote_on};
use seedstr_mods::page::{project_page, PageError};
use seedstr_mods::relay_policies::relay_policies;
use seedstr_pay::totals::{zaps_on, TargetTotal, Zapped, ZapperKeys};
use seedstr_proto::clock::unix_now;
use seedstr_proto::release::Coordinate;
use serde_json::json;

use crate::net_args::{print_json, runtime, RelayArgs};

#[derive(Args)]
pub struct Common {
    #[command(flatten)]
    relay: RelayArgs,
    #[arg(long)]
    pub json: bool,
}

/// Signs `builder` with the stored key, sends it and keeps it ([`outbox::sign_and_send`]).
fn sign_and_send(builder: EventBuilder, c: &Common) -> Result<Sent> {
    let home = home();
    let keys: Keys = KeyStore::new(&home).load(&passphrase(false)?)?;
    Ok(runtime()?.block_on(outbox::sign_and_send(&home, &keys, builder, &c.relay.set()))?)
}

fn report_sent(what: &str, sent: &Sent, json: bool) {
    if json {
        print_json(sent);
    } else {
        println!("sent {what} {}", sent.event_id);
    }
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
    let sent = sign_and_send(r.to_builder(), &a.common)?;
    report_sent("review", &sent, a.common.json);
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
    let sent = sign_and_send(r.to_builder(), &a.common)?;
    report_sent("compatibility report", &sent, a.common.json);
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
        id: a.id.unwrap_or_else(|| unix_now().to_string()),
        title: a.title,
        status,
        text: a.text,
    };
    let sent = sign_and_send(r.to_builder(), &a.common)?;
    report_sent("bug report", &sent, a.common.json);
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
        id: unix_now().to_string(),
        text: a.text,
    };
    let sent = sign_and_send(m.to_builder(), &a.common)?;
    report_sent("support message", &sent, a.common.json);
    Ok(())
}

#[derive(Args)]
pub struct InfoArgs {
    /// <npub>/<game>.<slug>
    project: Target,
    #[command(flatten)]
    pub common: Common,
}

/// A project's page ([`project_page`]) from the relays.
pub fn info(a: InfoArgs) -> Result<()> {
    let (author, coordinate) = (a.project.author, a.project.coordinate);
    let relays = a.common.relay.set();
    let rt = runtime()?;
    let page = rt.block_on(project_page(&relays, &author, &coordinate));
    let page = match page {
        Err(PageError::NotFound { author, coordinate }) => {
            bail!("no relay holds {author}/{coordinate}")
        }
        other => other?,
    };
    let things: Vec<Zapped> = page.zappable().into_iter().map(Zapped::from).collect();
    let zaps = rt.block_on(zaps_on(&relays, &things, &ZapperKeys::new(relays.timeout)))?;
    if a.common.json {
        let mut v = serde_json::to_value(&page)?;
        v["zaps"] = serde_json::to_value(&zaps)?;
        print_json(&v);
        return Ok(());
    }
    println!(
        "{} — {}",
        page.name.as_deref().unwrap_or(&coordinate.slug),
        page.coordinate
    );
    if let Some(s) = page.summary.as_deref().filter(|s| !s.is_empty()) {
        println!("  {s}");
    }
    for i in &page.incidents {
        let who = if i.authoritative {
            "author"
        } else {
            "not the author"
        };
        println!(
            "  INCIDENT ({who}) {} {}: {}",
            i.severity.as_str(),
            i.versions,
            i.summary
        );
    }
    let zap_line = |t: TargetTotal| match t.zaps {
        0 => "no zaps".to_owned(),
        n => format!(
            "{} sats from {n} zap{}",
            t.msat / 1000,
            if n == 1 { "" } else { "s" }
        ),
    };
    println!(
        "  zaps: {}",
        zap_line(TargetTotal {
            msat: zaps.total_msat,
            zaps: zaps.zaps.len()
        })
    );
    for r in &zaps.refused {
        println!("  receipt {} not counted: {}", r.receipt, r.why);
    }
    for v in &page.versions {
        let rating = match &v.rating {
            None => "no reviews".to_owned(),
            Some(r) => format!("{:.1}/5 from {}", r.average, r.reviews),
        };
        let withdrawn = if v.blocked_by.is_some() {
            " WITHDRAWN"
        } else {
            ""
        };
        println!(
            "  {}{withdrawn}: {} files, {rating}, {} compatibility report(s), {} bug(s), {}",
            v.version,
            v.files,
            v.compatibility.len(),
            v.bugs.len(),
            zap_line(zaps.on(&v.address))
        );
    }
    println!("  {} support message(s)", page.support_messages);
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
            let sent = sign_and_send(p.to_builder(), &a.common)?;
            report_sent("relay policy", &sent, a.common.json);
            Ok(())
        }
        PolicyCommand::Show(c) => {
            let shown = runtime()?.block_on(relay_policies(&c.relay.set()))?;
            for line in &shown.unreadable {
                eprintln!("warning: {line}");
            }
            if c.json {
                print_json(&shown);
                return Ok(());
            }
            for p in &shown.policies {
                let mark = if p.by_operator {
                    "operator"
                } else {
                    "NOT the operator"
                };
                println!(
                    "{} ({mark}): retention {}, jurisdiction {}, moderation {}",
                    p.policy.relay, p.policy.retention, p.policy.jurisdiction, p.policy.moderation
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
    #[arg(long, required_unless_present = "closes", conflicts_with = "closes")]
    open_secs: Option<u64>,
    /// When voting closes, in Unix seconds (instead of --open-secs).
    #[arg(long)]
    closes: Option<u64>,
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
        closes: a
            .closes
            .unwrap_or_else(|| unix_now() + a.open_secs.unwrap_or_default()),
        electorate: a
            .voters
            .iter()
            .map(|v| parse_public_key(v))
            .collect::<Result<_, _>>()?,
    };
    let sent = sign_and_send(p.to_builder(), &a.common)?;
    let address = p.address(&sent.event.pubkey);
    if a.common.json {
        print_json(
            &json!({"event_id": sent.event_id, "proposal": address, "closes": p.closes, "answers": sent.answers}),
        );
    } else {
        println!("proposed {address}, open until {}", p.closes);
    }
    Ok(())
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

pub fn vote(a: VoteArgs) -> Result<()> {
    let (author, d) = parse_proposal_address(&a.proposal)?;
    let p = runtime()?.block_on(fetch_proposal(&a.common.relay.set(), &author, &d))?;
    let v = vote_on(&p, &author, &a.option, &a.reason, unix_now())?;
    let sent = sign_and_send(v.to_builder(), &a.common)?;
    report_sent("vote", &sent, a.common.json);
    Ok(())
}

#[derive(Args)]
pub struct TallyArgs {
    proposal: String,
    /// The Unix time to tally as of [default: now].
    #[arg(long)]
    at: Option<u64>,
    #[command(flatten)]
    pub common: Common,
}

pub fn tally_cmd(a: TallyArgs) -> Result<()> {
    let (author, d) = parse_proposal_address(&a.proposal)?;
    let at = a.at.unwrap_or_else(unix_now);
    let report = runtime()?.block_on(tally_proposal(&a.common.relay.set(), &author, &d, at))?;
    if a.common.json {
        print_json(&report);
        return Ok(());
    }
    let (p, t) = (&report, &report.tally);
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
