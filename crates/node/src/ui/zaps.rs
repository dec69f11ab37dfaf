//! How pages show zaps: the total, who shares the tips, the latest zaps with their comments,
//! and every receipt that was not counted with why (a forged one is shown, never added).

use maud::{html, Markup};
use seedstr_client::resolve::target::npub;
use seedstr_pay::totals::{TargetTotal, Totals};
use seedstr_proto::zap_split::ZapSplit;

use super::{date, short};

/// How many of the latest zaps a page lists.
const LATEST: usize = 10;

/// `⚡ 21 sats from 1 zap`, or that there are none.
pub(super) fn zap_count(t: TargetTotal) -> Markup {
    html! {
        @if t.zaps == 0 {
            span.muted { "no zaps yet" }
        } @else {
            span.zaps { "⚡ " (t.msat / 1000) " sats from " (t.zaps) " zap" (if t.zaps == 1 { "" } else { "s" }) }
        }
    }
}

/// A page's zaps section.
pub(super) fn zaps_section(t: &Totals, splits: &[ZapSplit]) -> Markup {
    let total = TargetTotal {
        msat: t.total_msat,
        zaps: t.zaps.len(),
    };
    let weights: u64 = splits.iter().filter_map(|s| s.weight).map(u64::from).sum();
    let mut latest: Vec<_> = t.zaps.iter().collect();
    latest.sort_by_key(|z| std::cmp::Reverse(z.paid_at));
    html! {
        section.zaps {
            h2 { "Zaps" }
            p { (zap_count(total)) @if t.truncated { " " span.muted { "(at least: more receipts than were read)" } } }
            @if !splits.is_empty() {
                p { "Tips are shared:" }
                ul.splits {
                    @for s in splits {
                        li {
                            code { (short(&npub(&s.pubkey))) }
                            @if let (Some(w), true) = (s.weight, weights > 0) {
                                " " (format!("{:.0}%", f64::from(w) * 100.0 / weights as f64))
                            }
                        }
                    }
                }
            }
            @if !latest.is_empty() {
                ul.latest-zaps {
                    @for z in latest.iter().take(LATEST) {
                        li {
                            (z.amount_msat / 1000) " sats from " code { (short(&z.sender)) }
                            " · " (date(z.paid_at))
                            @if !z.comment.is_empty() { ": " q { (z.comment) } }
                        }
                    }
                }
            }
            @if !t.refused.is_empty() {
                details.refused {
                    summary { (t.refused.len()) " receipt" (if t.refused.len() == 1 { "" } else { "s" }) " not counted" }
                    ul { @for r in &t.refused { li { code { (short(&r.receipt)) } ": " (r.why) } } }
                }
            }
        }
    }
}
