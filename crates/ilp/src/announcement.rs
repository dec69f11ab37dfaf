//! The ILP node announcement (kind 32001, `d` = `ilp-node-info`): how to peer with a person's
//! node. Addressable, so each person's newest one stands. Tags: `ilp` (the node's address),
//! `btp` (its BTP WebSocket endpoint), `asset` (code, scale), `settlement` (a method and its
//! details, one tag each), `price` (what the node charges), `spsp` (where STREAM connection
//! details are handed out); the content says it for people.
//! docs/kinds.md has the table; a reader refuses an announcement naming the tag at fault.

use nostr::prelude::{Event, EventBuilder, Kind, Tag};

use crate::address::Address;

/// The announcement's kind.
pub const NODE_INFO_KIND: u16 = 32001;
/// Its `d` tag.
pub const NODE_INFO_D: &str = "ilp-node-info";
/// The most settlement and price tags read.
pub const MAX_OPTIONS: usize = 16;

/// How a node takes settlement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Settlement {
    /// A unidirectional payment channel on an EVM chain.
    Evm {
        /// The chain id.
        chain_id: u64,
        /// The channel contract (0x + 40 hex).
        contract: String,
        /// The node's account there (0x + 40 hex), the channels' recipient.
        recipient: String,
    },
    /// Lightning, by zap or NWC to this lightning address.
    Lightning {
        /// The address (`name@domain`).
        address: String,
    },
}

/// What a node charges, in its asset's units.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Prices {
    /// Per event stored.
    pub per_event: Option<u64>,
    /// Per subscription, and for how many seconds it lasts.
    pub per_subscription: Option<(u64, u64)>,
    /// Taken off what it forwards, in parts per million.
    pub forward_ppm: Option<u64>,
}

/// A node announcement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeInfo {
    /// The node's ILP address.
    pub address: Address,
    /// Its BTP endpoint (`ws://` or `wss://`).
    pub btp: String,
    /// Its asset code.
    pub asset_code: String,
    /// Its asset scale.
    pub asset_scale: u8,
    /// How it settles.
    pub settlement: Vec<Settlement>,
    /// What it charges.
    pub prices: Prices,
    /// Its SPSP endpoint (`http://` or `https://`), where a STREAM connection's destination and
    /// secret are handed out: how another node opens a connection to it.
    pub spsp: Option<String>,
    /// For people.
    pub about: String,
}

/// Why an announcement was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NodeInfoError {
    /// Not a signed 32001 with `d` = `ilp-node-info`.
    #[error("not an ILP node announcement: {0}")]
    NotOne(String),
    /// A tag is missing or does not read.
    #[error("ILP node announcement: the {tag} tag: {why}")]
    Tag {
        /// Which.
        tag: &'static str,
        /// Why.
        why: String,
    },
}

fn bad(tag: &'static str, why: impl Into<String>) -> NodeInfoError {
    NodeInfoError::Tag {
        tag,
        why: why.into(),
    }
}

fn is_evm_address(s: &str) -> bool {
    s.len() == 42 && s.starts_with("0x") && s[2..].bytes().all(|b| b.is_ascii_hexdigit())
}

fn tag(parts: &[&str]) -> Tag {
    Tag::parse(parts.iter().copied()).expect("a tag with a name")
}

impl NodeInfo {
    /// The unsigned event.
    pub fn to_builder(&self) -> EventBuilder {
        let scale = self.asset_scale.to_string();
        let mut tags = vec![
            tag(&["d", NODE_INFO_D]),
            tag(&["ilp", self.address.as_str()]),
            tag(&["btp", &self.btp]),
            tag(&["asset", &self.asset_code, &scale]),
            tag(&["alt", "ILP node announcement (Nostr-ILP peer network)"]),
        ];
        for s in &self.settlement {
            tags.push(match s {
                Settlement::Evm {
                    chain_id,
                    contract,
                    recipient,
                } => tag(&[
                    "settlement",
                    "evm",
                    &chain_id.to_string(),
                    contract,
                    recipient,
                ]),
                Settlement::Lightning { address } => tag(&["settlement", "lightning", address]),
            });
        }
        if let Some(url) = &self.spsp {
            tags.push(tag(&["spsp", url]));
        }
        let p = &self.prices;
        if let Some(e) = p.per_event {
            tags.push(tag(&["price", "event", &e.to_string()]));
        }
        if let Some((amount, secs)) = p.per_subscription {
            tags.push(tag(&[
                "price",
                "subscription",
                &amount.to_string(),
                &secs.to_string(),
            ]));
        }
        if let Some(ppm) = p.forward_ppm {
            tags.push(tag(&["price", "forward-ppm", &ppm.to_string()]));
        }
        EventBuilder::new(Kind::from(NODE_INFO_KIND), &self.about).tags(tags)
    }

    /// Reads and checks an announcement: its signature, kind and `d`, and every tag.
    pub fn from_event(event: &Event) -> Result<NodeInfo, NodeInfoError> {
        if event.kind.as_u16() != NODE_INFO_KIND {
            return Err(NodeInfoError::NotOne(format!(
                "kind {}",
                event.kind.as_u16()
            )));
        }
        if event.verify().is_err() {
            return Err(NodeInfoError::NotOne(
                "its id or signature does not verify".into(),
            ));
        }
        let first = |name: &str| {
            event.tags.iter().find_map(|t| {
                let s = t.as_slice();
                (s[0] == name).then(|| s[1..].to_vec())
            })
        };
        if first("d").and_then(|v| v.first().cloned()).as_deref() != Some(NODE_INFO_D) {
            return Err(NodeInfoError::NotOne(format!(
                "its d tag is not {NODE_INFO_D}"
            )));
        }
        let one = |name: &'static str| {
            first(name)
                .and_then(|v| v.first().cloned())
                .ok_or_else(|| bad(name, "missing"))
        };
        let address = Address::new(&one("ilp")?).map_err(|e| bad("ilp", e.to_string()))?;
        let btp = one("btp")?;
        if !(btp.starts_with("ws://") || btp.starts_with("wss://")) || btp.len() > 512 {
            return Err(bad("btp", "not a ws:// or wss:// URL"));
        }
        let asset = first("asset").ok_or_else(|| bad("asset", "missing"))?;
        let (asset_code, asset_scale) = match asset.as_slice() {
            [code, scale] if !code.is_empty() && code.len() <= 16 => (
                code.clone(),
                scale
                    .parse::<u8>()
                    .map_err(|_| bad("asset", format!("scale {scale:?} is not 0 to 255")))?,
            ),
            _ => {
                return Err(bad(
                    "asset",
                    "expected a code (1-16 characters) and a scale",
                ))
            }
        };
        let spsp = match first("spsp").and_then(|v| v.first().cloned()) {
            Some(url)
                if (url.starts_with("http://") || url.starts_with("https://"))
                    && url.len() <= 512 =>
            {
                Some(url)
            }
            Some(_) => return Err(bad("spsp", "not an http:// or https:// URL")),
            None => None,
        };
        let mut settlement = Vec::new();
        let mut prices = Prices::default();
        let mut options = 0;
        for t in event.tags.iter() {
            let s = t.as_slice();
            if s[0] != "settlement" && s[0] != "price" {
                continue;
            }
            options += 1;
            if options > MAX_OPTIONS {
                return Err(bad(
                    "settlement",
                    format!("more than {MAX_OPTIONS} settlement and price tags"),
                ));
            }
            let num = |i: usize, tag: &'static str| {
                s.get(i)
                    .and_then(|v| v.parse::<u64>().ok())
                    .ok_or_else(|| bad(tag, format!("{:?} is not a whole number", s.get(i))))
            };
            match (s[0].as_str(), s.get(1).map(String::as_str)) {
                ("settlement", Some("evm")) => {
                    let chain_id = num(2, "settlement")?;
                    let (contract, recipient) =
                        match (s.get(3), s.get(4)) {
                            (Some(c), Some(r)) if is_evm_address(c) && is_evm_address(r) => {
                                (c.to_lowercase(), r.to_lowercase())
                            }
                            _ => return Err(bad(
                                "settlement",
                                "evm needs a chain id, a contract and a recipient (0x + 40 hex)",
                            )),
                        };
                    settlement.push(Settlement::Evm {
                        chain_id,
                        contract,
                        recipient,
                    });
                }
                ("settlement", Some("lightning")) => match s.get(2) {
                    Some(a) if a.contains('@') && a.len() <= 320 => {
                        settlement.push(Settlement::Lightning { address: a.clone() })
                    }
                    _ => return Err(bad("settlement", "lightning needs a lightning address")),
                },
                ("price", Some("event")) => prices.per_event = Some(num(2, "price")?),
                ("price", Some("subscription")) => {
                    prices.per_subscription = Some((num(2, "price")?, num(3, "price")?))
                }
                ("price", Some("forward-ppm")) => prices.forward_ppm = Some(num(2, "price")?),
                // Methods and prices this version does not know are left for newer readers.
                _ => {}
            }
        }
        Ok(NodeInfo {
            address,
            btp,
            asset_code,
            asset_scale,
            settlement,
            prices,
            spsp,
            about: event.content.clone(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use nostr::prelude::{FinalizeEvent as _, Keys};
    use proptest::prelude::*;

    fn sample() -> NodeInfo {
        NodeInfo {
            address: Address::new("g.seedstr.ann").unwrap(),
            btp: "wss://ann.example/btp".into(),
            asset_code: "SAT".into(),
            asset_scale: 0,
            settlement: vec![
                Settlement::Evm {
                    chain_id: 31337,
                    contract: format!("0x{}", "ab".repeat(20)),
                    recipient: format!("0x{}", "cd".repeat(20)),
                },
                Settlement::Lightning {
                    address: "ann@pay.example".into(),
                },
            ],
            prices: Prices {
                per_event: Some(1),
                per_subscription: Some((100, 86_400)),
                forward_ppm: Some(1000),
            },
            spsp: Some("https://ann.example/.well-known/pay".into()),
            about: "Ann's node".into(),
        }
    }

    #[test]
    fn an_announcement_round_trips_and_bad_tags_are_named() {
        let keys = Keys::generate();
        let info = sample();
        let e = info.to_builder().finalize(&keys).unwrap();
        assert_eq!(NodeInfo::from_event(&e).unwrap(), info);
        let with = |edit: &dyn Fn(&mut Vec<Tag>)| {
            let mut tags: Vec<Tag> = e.tags.iter().cloned().collect();
            edit(&mut tags);
            let e = EventBuilder::new(Kind::from(NODE_INFO_KIND), "")
                .tags(tags)
                .finalize(&keys)
                .unwrap();
            NodeInfo::from_event(&e).unwrap_err().to_string()
        };
        let set = |name: &'static str, value: Vec<&'static str>| {
            move |tags: &mut Vec<Tag>| {
                tags.retain(|t| t.as_slice()[0] != name);
                let mut parts = vec![name];
                parts.extend(value.iter().copied());
                tags.push(tag(&parts));
            }
        };
        assert!(with(&set("ilp", vec!["nowhere"])).contains("the ilp tag"));
        assert!(with(&set("btp", vec!["http://x"])).contains("the btp tag"));
        assert!(with(&set("asset", vec!["SAT", "300"])).contains("the asset tag"));
        assert!(with(&set("settlement", vec!["evm", "1", "0x12", "0x34"]))
            .contains("the settlement tag"));
        assert!(with(&set("price", vec!["event", "-1"])).contains("the price tag"));
        assert!(with(&set("spsp", vec!["ftp://x"])).contains("the spsp tag"));
        assert!(with(&set("d", vec!["other"])).contains("not an ILP node announcement"));
    }

    proptest! {
        #![proptest_config(ProptestConfig {
            rng_seed: proptest::test_runner::RngSeed::Fixed(0x5eed),
            failure_persistence: None,
            cases: 64,
            ..ProptestConfig::default()
        })]

        #[test]
        fn announcements_round_trip(
            segment in "[a-z0-9]{1,12}",
            scale in any::<u8>(),
            per_event in proptest::option::of(any::<u64>()),
            ppm in proptest::option::of(0u64..1_000_000),
            chain_id in any::<u64>(),
        ) {
            let mut info = sample();
            info.address = Address::new(&format!("g.{segment}")).unwrap();
            info.asset_scale = scale;
            info.prices.per_event = per_event;
            info.prices.forward_ppm = ppm;
            if let Settlement::Evm { chain_id: c, .. } = &mut info.settlement[0] {
                *c = chain_id;
            }
            let e = info.to_builder().finalize(&Keys::generate()).unwrap();
            prop_assert_eq!(NodeInfo::from_event(&e).unwrap(), info);
        }
    }
}
