//! Zap splits (NIP-57 Appendix G): `["zap", <hex pubkey>, <relay>, <weight>]` tags on an event
//! name who shares a tip sent to it, so a release's author can share with the mirrors and
//! seeders who keep it alive. Each named person is zapped separately, for their share.

use nostr::prelude::{Event, PublicKey, Tag};

use crate::tags::tag;

/// The most splits an event may name: each is a separate payment.
pub const MAX_SPLITS: usize = 16;

/// One person sharing a tip.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ZapSplit {
    /// Who.
    #[serde(serialize_with = "hex_key")]
    pub pubkey: PublicKey,
    /// A relay where their profile (and so their lightning address) can be read; may be empty.
    pub relay: String,
    /// Their weight, a whole number (Appendix G's examples are; so is every client's we know
    /// of that writes them); a share is `weight / sum of weights`. `None` when the tag gives none.
    pub weight: Option<u32>,
}

fn hex_key<S: serde::Serializer>(k: &PublicKey, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&k.to_hex())
}

/// Why an event's `zap` tags do not read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ZapSplitError {
    /// A `zap` tag's key is not a public key.
    #[error("zap split: {0:?} is not a public key (64 hex)")]
    Key(String),
    /// A weight that is not a whole number.
    #[error("zap split: weight {0:?} is not a whole number from 0 to 4294967295")]
    Weight(String),
    /// More splits than [`MAX_SPLITS`].
    #[error("zap split: {0} people named, at most {MAX_SPLITS}")]
    TooMany(usize),
    /// The same person twice.
    #[error("zap split: {0} is named twice")]
    Twice(String),
    /// Every weight is zero: nobody would be paid.
    #[error("zap split: every weight is zero")]
    AllZero,
}

/// Reads `<npub or hex>:<weight>`, as a command line gives a split.
impl std::str::FromStr for ZapSplit {
    type Err = ZapSplitError;

    fn from_str(s: &str) -> Result<ZapSplit, ZapSplitError> {
        use nostr::prelude::FromBech32 as _;
        let (who, weight) = s
            .rsplit_once(':')
            .ok_or_else(|| ZapSplitError::Key(s.to_owned()))?;
        let pubkey = if who.starts_with("npub1") {
            PublicKey::from_bech32(who).ok()
        } else {
            PublicKey::from_hex(who).ok()
        }
        .ok_or_else(|| ZapSplitError::Key(who.to_owned()))?;
        let weight = weight
            .parse::<u32>()
            .map_err(|_| ZapSplitError::Weight(weight.to_owned()))?;
        Ok(ZapSplit {
            pubkey,
            relay: String::new(),
            weight: Some(weight),
        })
    }
}

/// Reads the `zap` tags of `event` (none: an empty list).
pub fn read_zap_splits(event: &Event) -> Result<Vec<ZapSplit>, ZapSplitError> {
    let mut out: Vec<ZapSplit> = Vec::new();
    for t in event.tags.iter() {
        let s = t.as_slice();
        if s[0] != "zap" {
            continue;
        }
        let key = s.get(1).map(String::as_str).unwrap_or_default();
        let pubkey = PublicKey::from_hex(key).map_err(|_| ZapSplitError::Key(key.to_owned()))?;
        let weight = match s.get(3).map(String::as_str) {
            None | Some("") => None,
            Some(w) => Some(
                w.parse::<u32>()
                    .map_err(|_| ZapSplitError::Weight(w.to_owned()))?,
            ),
        };
        out.push(ZapSplit {
            pubkey,
            relay: s.get(2).cloned().unwrap_or_default(),
            weight,
        });
    }
    check_zap_splits(&out)?;
    Ok(out)
}

/// Checks a list of splits: at most [`MAX_SPLITS`], nobody twice, not every weight zero.
pub fn check_zap_splits(splits: &[ZapSplit]) -> Result<(), ZapSplitError> {
    if splits.len() > MAX_SPLITS {
        return Err(ZapSplitError::TooMany(splits.len()));
    }
    let mut seen = std::collections::BTreeSet::new();
    for s in splits {
        if !seen.insert(s.pubkey) {
            return Err(ZapSplitError::Twice(s.pubkey.to_hex()));
        }
    }
    if !splits.is_empty() && splits.iter().all(|s| s.weight == Some(0)) {
        return Err(ZapSplitError::AllZero);
    }
    Ok(())
}

/// The `zap` tags for `splits`.
pub fn zap_split_tags(splits: &[ZapSplit]) -> Vec<Tag> {
    splits
        .iter()
        .map(|s| {
            let mut parts = vec!["zap".to_owned(), s.pubkey.to_hex(), s.relay.clone()];
            if let Some(w) = s.weight {
                parts.push(w.to_string());
            }
            tag(parts)
        })
        .collect()
}

/// How `total_msat` is shared, as Appendix G says: by weight; equally when no tag gives one;
/// tags without a weight left out when others give one. Shares are whole sats (most LNURL
/// endpoints take nothing finer), rounded down, the sats left over going to the largest share;
/// a person whose share rounds to nothing is left out. Sums to `total_msat` rounded down to
/// whole sats.
pub fn shares(splits: &[ZapSplit], total_msat: u64) -> Vec<(PublicKey, u64)> {
    let weighted = splits.iter().any(|s| s.weight.is_some());
    let counted: Vec<(PublicKey, u128)> = splits
        .iter()
        .filter_map(|s| match (weighted, s.weight) {
            (false, _) => Some((s.pubkey, 1)),
            (true, Some(w)) if w > 0 => Some((s.pubkey, u128::from(w))),
            _ => None,
        })
        .collect();
    let sum: u128 = counted.iter().map(|(_, w)| w).sum();
    if sum == 0 {
        return Vec::new();
    }
    let total_sats = total_msat / 1000;
    let mut out: Vec<(PublicKey, u64)> = counted
        .iter()
        .map(|(k, w)| (*k, (u128::from(total_sats) * w / sum) as u64))
        .collect();
    let given: u64 = out.iter().map(|(_, s)| s).sum();
    let largest = counted
        .iter()
        .enumerate()
        .max_by(|a, b| a.1 .1.cmp(&b.1 .1).then(b.0.cmp(&a.0)))
        .map(|(i, _)| i)
        .unwrap_or(0);
    out[largest].1 += total_sats.saturating_sub(given);
    out.into_iter()
        .filter(|(_, sats)| *sats > 0)
        .map(|(k, sats)| (k, sats * 1000))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use nostr::prelude::{EventBuilder, FinalizeEvent as _, Keys, Kind};
    use proptest::prelude::*;

    fn split(k: &Keys, w: Option<u32>) -> ZapSplit {
        ZapSplit {
            pubkey: k.public_key(),
            relay: String::new(),
            weight: w,
        }
    }

    #[test]
    fn tags_round_trip_and_bad_ones_are_named() {
        let (a, b) = (Keys::generate(), Keys::generate());
        let splits = vec![split(&a, Some(90)), split(&b, Some(10))];
        let e = EventBuilder::new(Kind::from(1u16), "")
            .tags(zap_split_tags(&splits))
            .finalize(&a)
            .unwrap();
        assert_eq!(read_zap_splits(&e).unwrap(), splits);
        let bad = |tags: Vec<Tag>| {
            let e = EventBuilder::new(Kind::from(1u16), "")
                .tags(tags)
                .finalize(&a)
                .unwrap();
            read_zap_splits(&e).unwrap_err().to_string()
        };
        assert!(bad(vec![tag(["zap", "nope"])]).contains("not a public key"));
        let hex = a.public_key().to_hex();
        assert!(bad(vec![tag(["zap", &hex, "", "2.5"])]).contains("whole number"));
        assert!(bad(vec![
            tag(["zap", &hex, "", "1"]),
            tag(["zap", &hex, "", "2"])
        ])
        .contains("named twice"));
        assert!(bad(vec![tag(["zap", &hex, "", "0"])]).contains("every weight is zero"));
    }

    #[test]
    fn a_split_reads_from_a_command_line() {
        use nostr::prelude::ToBech32 as _;
        let a = Keys::generate();
        let npub = a.public_key().to_bech32().unwrap();
        let s: ZapSplit = format!("{npub}:7").parse().unwrap();
        assert_eq!(s, split(&a, Some(7)));
        let s: ZapSplit = format!("{}:0", a.public_key().to_hex()).parse().unwrap();
        assert_eq!(s.weight, Some(0));
        for bad in ["", "nobody:1", &npub, &format!("{npub}:x")] {
            assert!(bad.parse::<ZapSplit>().is_err(), "{bad}");
        }
    }

    #[test]
    fn shares_follow_appendix_g() {
        let (a, b, c) = (Keys::generate(), Keys::generate(), Keys::generate());
        // By weight.
        let s = shares(&[split(&a, Some(80)), split(&b, Some(20))], 1_000_000);
        assert_eq!(
            s,
            vec![(a.public_key(), 800_000), (b.public_key(), 200_000)]
        );
        // Equally when nobody has a weight; the sat left over goes to the first largest.
        let s = shares(&[split(&a, None), split(&b, None), split(&c, None)], 10_000);
        assert_eq!(
            s,
            vec![
                (a.public_key(), 4_000),
                (b.public_key(), 3_000),
                (c.public_key(), 3_000)
            ]
        );
        // Tags without a weight are left out when others have one; zero weights get nothing.
        let s = shares(
            &[split(&a, Some(1)), split(&b, None), split(&c, Some(0))],
            5_000,
        );
        assert_eq!(s, vec![(a.public_key(), 5_000)]);
    }

    proptest! {
        #![proptest_config(ProptestConfig {
            rng_seed: proptest::test_runner::RngSeed::Fixed(0x5eed),
            failure_persistence: None,
            ..ProptestConfig::default()
        })]

        #[test]
        fn shares_add_up_to_the_whole_sats(
            weights in proptest::collection::vec(proptest::option::of(0u32..1000), 1..8),
            total in 0u64..10_000_000_000,
        ) {
            let keys: Vec<Keys> = weights.iter().map(|_| Keys::generate()).collect();
            let splits: Vec<ZapSplit> = keys
                .iter()
                .zip(&weights)
                .map(|(k, w)| split(k, *w))
                .collect();
            let s = shares(&splits, total);
            let sum: u64 = s.iter().map(|(_, m)| m).sum();
            let payable = splits.iter().all(|x| x.weight.is_none())
                || splits.iter().any(|x| x.weight.is_some_and(|w| w > 0));
            if payable {
                prop_assert_eq!(sum, total / 1000 * 1000);
            } else {
                prop_assert_eq!(sum, 0);
            }
            prop_assert!(s.iter().all(|(_, m)| *m > 0 && m % 1000 == 0));
        }
    }
}
