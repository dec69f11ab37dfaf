//! Governance: a proposal (30100) with its options and a declared quorum rule, votes (30109, one
//! per voter per proposal, the newest before the close counts) and the tally clients compute.

use std::collections::BTreeMap;

use nostr::prelude::{Event, EventBuilder, Kind, PublicKey};
use seedstr_proto::release::Coordinate;
use seedstr_proto::Verified;

use super::tags::{tag, EventReadError, Tags};
use super::{PROPOSAL_KIND, VOTE_KIND};

/// When a proposal is decided: at least `min_voters` counted votes, and one option with at least
/// `threshold_percent` of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Quorum {
    /// Counted votes needed for a decision.
    pub min_voters: u32,
    /// Share of the votes the winning option needs.
    pub threshold_percent: u8,
}

/// A governance proposal (30100): options, a quorum rule, and a close.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Proposal {
    /// The namespace it concerns (a game id, or `openmods` for all).
    pub ns: String,
    /// The proposal's slug.
    pub slug: String,
    /// Its title.
    pub title: String,
    /// What is proposed (Markdown).
    pub text: String,
    /// The options to vote for.
    pub options: Vec<String>,
    /// When it is decided.
    pub quorum: Quorum,
    /// Unix seconds; votes signed later do not count.
    pub closes: u64,
    /// Who may vote; empty: anyone.
    pub electorate: Vec<PublicKey>,
}

impl Proposal {
    /// The proposal's `d`: `<ns>.proposal.<slug>`.
    pub fn d(&self) -> String {
        format!("{}.proposal.{}", self.ns, self.slug)
    }

    /// The proposal's address, which votes name.
    pub fn address(&self, author: &PublicKey) -> String {
        format!("{PROPOSAL_KIND}:{}:{}", author.to_hex(), self.d())
    }

    /// The unsigned event.
    pub fn to_builder(&self) -> EventBuilder {
        let mut tags = vec![
            tag(["d", &self.d()]),
            tag(["title", &self.title]),
            tag([
                "quorum",
                &self.quorum.min_voters.to_string(),
                &self.quorum.threshold_percent.to_string(),
            ]),
            tag(["closes", &self.closes.to_string()]),
            tag(["alt", &format!("Governance proposal: {}", self.title)]),
        ];
        tags.extend(self.options.iter().map(|o| tag(["option", o])));
        tags.extend(self.electorate.iter().map(|p| tag(["p", &p.to_hex()])));
        EventBuilder::new(Kind::from(PROPOSAL_KIND), &self.text).tags(tags)
    }

    /// Reads and checks a proposal event.
    pub fn from_event(event: &Event) -> Result<Proposal, EventReadError> {
        let t = Tags::of(event, PROPOSAL_KIND, "proposal (30100)")?;
        let d = t.one("d")?;
        let (ns, slug) = d
            .split_once(".proposal.")
            .ok_or_else(|| t.bad("d", format!("{d:?} is not <ns>.proposal.<slug>")))?;
        Coordinate::new(ns, slug).map_err(|e| t.bad("d", e.to_string()))?;
        let q: Vec<&String> = t
            .all("quorum")
            .next()
            .map(|q| q.iter().skip(1).collect())
            .unwrap_or_default();
        let quorum = match q.as_slice() {
            [min, pct] => match (min.parse(), pct.parse::<u8>()) {
                (Ok(min_voters), Ok(threshold_percent))
                    if (1..=100).contains(&threshold_percent) =>
                {
                    Quorum {
                        min_voters,
                        threshold_percent,
                    }
                }
                _ => {
                    return Err(t.bad(
                        "quorum",
                        "expected a voter count and a percentage from 1 to 100",
                    ))
                }
            },
            _ => {
                return Err(t.bad(
                    "quorum",
                    "expected [\"quorum\", <min voters>, <threshold percent>]",
                ))
            }
        };
        let closes = t.one("closes")?;
        let closes = closes
            .parse()
            .map_err(|_| t.bad("closes", format!("{closes:?} is not a unix time")))?;
        let options: Vec<String> = t.all("option").filter_map(|o| o.get(1).cloned()).collect();
        if options.len() < 2 {
            return Err(t.bad("option", "a proposal needs at least two options"));
        }
        let mut electorate = Vec::new();
        for p in t.all("p") {
            let k = p.get(1).and_then(|h| PublicKey::from_hex(h).ok());
            electorate.push(k.ok_or_else(|| t.bad("p", "not a public key"))?);
        }
        Ok(Proposal {
            ns: ns.to_owned(),
            slug: slug.to_owned(),
            title: t.one("title")?.to_owned(),
            text: event.content.clone(),
            options,
            quorum,
            closes,
            electorate,
        })
    }
}

/// One vote; its `d` is the proposal's address, so a voter's newer vote replaces the older.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Vote {
    /// The proposal's address.
    pub proposal: String,
    /// The option that won.
    pub option: String,
    /// Why, in the voter's words.
    pub reason: String,
}

impl Vote {
    /// The unsigned event.
    pub fn to_builder(&self) -> EventBuilder {
        EventBuilder::new(Kind::from(VOTE_KIND), &self.reason).tags([
            tag(["d", &self.proposal]),
            tag(["a", &self.proposal]),
            tag(["option", &self.option]),
            tag(["alt", &format!("Vote: {}", self.option)]),
        ])
    }

    /// Reads and checks a vote event.
    pub fn from_event(event: &Event) -> Result<Vote, EventReadError> {
        let t = Tags::of(event, VOTE_KIND, "vote (30109)")?;
        Ok(Vote {
            proposal: t.one("a")?.to_owned(),
            option: t.one("option")?.to_owned(),
            reason: event.content.clone(),
        })
    }
}

/// Where a vote stands.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum Outcome {
    /// Still open: the counts so far.
    Open,
    /// Closed without enough voters.
    NoQuorum,
    /// Closed, with a winner.
    Passed {
        /// The option that won.
        option: String,
    },
    /// Quorum met, but no option reached the threshold.
    Rejected,
}

/// A proposal's counted votes.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Tally {
    /// Per option, in the proposal's order.
    pub counts: Vec<(String, u32)>,
    /// Voters counted.
    pub voters: u32,
    /// Votes not counted and why (late, not in the electorate, unknown option, bad event).
    pub ignored: Vec<(String, String)>,
    /// Where the vote stands.
    pub outcome: Outcome,
}

/// Counts `votes` for the proposal `author` signed, as of unix time `now`.
pub fn tally(proposal: &Proposal, author: &PublicKey, votes: &[Verified], now: u64) -> Tally {
    let address = proposal.address(author);
    let mut newest: BTreeMap<PublicKey, (&Event, Vote)> = BTreeMap::new();
    let mut ignored = Vec::new();
    for e in votes.iter().map(Verified::event) {
        let voter = e.pubkey.to_hex();
        let vote = match Vote::from_event(e) {
            Ok(v) if v.proposal == address => v,
            Ok(_) => continue,
            Err(err) => {
                ignored.push((voter, err.to_string()));
                continue;
            }
        };
        let at = e.created_at.as_secs();
        if at > proposal.closes {
            ignored.push((
                voter,
                format!("signed at {at}, after the close at {}", proposal.closes),
            ));
            continue;
        }
        if !proposal.electorate.is_empty() && !proposal.electorate.contains(&e.pubkey) {
            ignored.push((voter, "not in the proposal's electorate".into()));
            continue;
        }
        if !proposal.options.contains(&vote.option) {
            ignored.push((voter, format!("{:?} is not an option", vote.option)));
            continue;
        }
        match newest.get(&e.pubkey) {
            Some((held, _)) if !seedstr_proto::event::supersedes(e, held) => {}
            _ => {
                newest.insert(e.pubkey, (e, vote));
            }
        }
    }
    let mut counts: Vec<(String, u32)> = proposal.options.iter().map(|o| (o.clone(), 0)).collect();
    for (_, v) in newest.values() {
        if let Some(c) = counts.iter_mut().find(|(o, _)| *o == v.option) {
            c.1 += 1;
        }
    }
    let voters = newest.len() as u32;
    let outcome = if now <= proposal.closes {
        Outcome::Open
    } else if voters < proposal.quorum.min_voters || voters == 0 {
        Outcome::NoQuorum
    } else {
        let top = counts.iter().map(|(_, n)| *n).max().unwrap_or(0);
        let leaders: Vec<&String> = counts
            .iter()
            .filter(|(_, n)| *n == top)
            .map(|(o, _)| o)
            .collect();
        let share = u64::from(top) * 100;
        if leaders.len() == 1
            && share >= u64::from(proposal.quorum.threshold_percent) * u64::from(voters)
        {
            Outcome::Passed {
                option: leaders[0].clone(),
            }
        } else {
            Outcome::Rejected
        }
    };
    Tally {
        counts,
        voters,
        ignored,
        outcome,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use nostr::prelude::{FinalizeEvent as _, Keys, Timestamp};

    fn proposal(electorate: Vec<PublicKey>) -> Proposal {
        Proposal {
            ns: "skyrim-se".into(),
            slug: "esl-only".into(),
            title: "Require ESL flags".into(),
            text: String::new(),
            options: vec!["yes".into(), "no".into()],
            quorum: Quorum {
                min_voters: 3,
                threshold_percent: 60,
            },
            closes: 1_000,
            electorate,
        }
    }

    fn vote(keys: &Keys, p: &Proposal, author: &Keys, option: &str, at: u64) -> Verified {
        let e = Vote {
            proposal: p.address(&author.public_key()),
            option: option.into(),
            reason: String::new(),
        }
        .to_builder()
        .custom_created_at(Timestamp::from_secs(at))
        .finalize(keys)
        .unwrap();
        Verified::check(e).unwrap()
    }

    #[test]
    fn the_newest_vote_counts_and_the_quorum_rule_decides() {
        let author = Keys::generate();
        let p = proposal(vec![]);
        let e = p.to_builder().finalize(&author).unwrap();
        assert_eq!(Proposal::from_event(&e).unwrap(), p);
        let v: Vec<Keys> = (0..4).map(|_| Keys::generate()).collect();
        let mut votes = vec![
            vote(&v[0], &p, &author, "no", 10),
            vote(&v[0], &p, &author, "yes", 20), // changed their mind
            vote(&v[1], &p, &author, "yes", 30),
        ];
        let t = tally(&p, &author.public_key(), &votes, 2_000);
        assert_eq!(t.outcome, Outcome::NoQuorum);
        assert_eq!(t.counts, vec![("yes".into(), 2), ("no".into(), 0)]);
        votes.push(vote(&v[2], &p, &author, "no", 40));
        votes.push(vote(&v[3], &p, &author, "yes", 2_000)); // too late
        let t = tally(&p, &author.public_key(), &votes, 2_000);
        assert_eq!(t.voters, 3);
        assert_eq!(
            t.outcome,
            Outcome::Passed {
                option: "yes".into()
            }
        );
        assert_eq!(t.ignored.len(), 1);
        assert_eq!(
            tally(&p, &author.public_key(), &votes, 500).outcome,
            Outcome::Open
        );
    }

    #[test]
    fn outside_the_electorate_and_below_threshold() {
        let author = Keys::generate();
        let v: Vec<Keys> = (0..4).map(|_| Keys::generate()).collect();
        let p = proposal(v[..3].iter().map(|k| k.public_key()).collect());
        let votes = vec![
            vote(&v[0], &p, &author, "yes", 1),
            vote(&v[1], &p, &author, "no", 1),
            vote(&v[2], &p, &author, "maybe", 1),
            vote(&v[3], &p, &author, "yes", 1),
        ];
        let t = tally(&p, &author.public_key(), &votes, 2_000);
        assert_eq!(t.voters, 2);
        assert_eq!(t.ignored.len(), 2);
        assert_eq!(t.outcome, Outcome::NoQuorum);
        let mut p2 = p.clone();
        p2.quorum.min_voters = 2;
        let t = tally(&p2, &author.public_key(), &votes, 2_000);
        assert_eq!(t.outcome, Outcome::Rejected, "1 of 2 is below 60%");
    }
}
